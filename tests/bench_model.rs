//! The benchmark models import, prove and verify in both weight modes, and their quantized
//! outputs stay close to the float reference: `mlp_784_56_10` (784 → 56 → ReLU → 10, 44,530
//! parameters, against onnxruntime) and `lenet5` (a LeNet-5-size CNN, 61,706 parameters).

use std::path::Path;

use zkworker::model::input::{quantize_input, read_input_file};
use zkworker::model::onnx::{QuantizeOptions, import_float_graph, quantize, run_float_reference};
use zkworker::model::{WeightMode, model_id};
use zkworker::prover::{LocalProver, setup};
use zkworker::verifier::Job;
use zkworker::verifier::digest::input_digest;
use zkworker::verifier::{Expected, InputSalt, verify};

fn expected_output(dir: &Path) -> Vec<f64> {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
    v["output_data"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn prove_and_verify(mode: WeightMode) {
    let dir = zkworker::bench_models_dir().join("mlp_784_56_10");
    let graph = import_float_graph(&dir.join("network.onnx")).unwrap();
    let x = read_input_file(&dir.join("input.json")).unwrap();
    let options = QuantizeOptions {
        weight_mode: mode,
        ..Default::default()
    };
    let model = quantize(&graph, &options, Some(&x)).unwrap();
    assert_eq!(model.parameter_count(), 44_530);
    let id = model_id(&model);
    let keys = tempfile::tempdir().unwrap();
    let report = setup(&model, &id, keys.path(), &|_| {}).unwrap();
    let prover = LocalProver::load(model.clone(), &id, keys.path()).unwrap();
    let q = quantize_input(&model.input_info(), &x).unwrap();
    let job = Job {
        job_id: "bench-1".into(),
        worker_id: "w".into(),
        client_nonce: "n".into(),
    };
    let salt = InputSalt::from_bytes([0x42; 31]);
    let proved = prover.prove(&q, &salt, &job).unwrap();
    let digest = input_digest(&q, report.record.input.bits, &salt).unwrap();
    let expected = Expected::new(&report.record, digest, &job.job_id)
        .worker(&job.worker_id)
        .nonce(&job.client_nonce);
    let verified = verify(&proved.receipt, prover.verifier_key(), &expected).unwrap();

    // Accuracy against onnxruntime's float output, relative to the output's range.
    let reference = expected_output(&dir);
    let range = reference.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let err = verified
        .output
        .iter()
        .zip(&reference)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(err / range < 0.05, "{mode}: error {err} on range {range}");
    eprintln!(
        "{mode}: {} constraints, output error {:.2}% of range",
        report.record.constraints,
        100.0 * err / range
    );
}

#[test]
fn mlp_784_56_10_fixed_weights() {
    prove_and_verify(WeightMode::Fixed);
}

#[test]
fn mlp_784_56_10_private_weights() {
    prove_and_verify(WeightMode::Private);
}

/// `benches/models/lenet5` (two conv + pool blocks, three dense layers, 28×28 input; written
/// by `cargo run --example lenet5`) imports, proves and verifies; its output stays within 5% of
/// the ONNX float reference's range (tract: there is no onnxruntime output for this file).
fn lenet5(mode: WeightMode) {
    let dir = zkworker::bench_models_dir().join("lenet5");
    let onnx = dir.join("network.onnx");
    let graph = import_float_graph(&onnx).unwrap();
    let x = read_input_file(&dir.join("input.json")).unwrap();
    let options = QuantizeOptions {
        weight_mode: mode,
        ..Default::default()
    };
    let model = quantize(&graph, &options, Some(&x)).unwrap();
    assert_eq!(model.parameter_count(), 61_706);
    let id = model_id(&model);
    let keys = tempfile::tempdir().unwrap();
    let report = setup(&model, &id, keys.path(), &|_| {}).unwrap();
    let prover = LocalProver::load(model.clone(), &id, keys.path()).unwrap();
    let q = quantize_input(&model.input_info(), &x).unwrap();
    let job = Job {
        job_id: "lenet-1".into(),
        worker_id: "w".into(),
        client_nonce: "n".into(),
    };
    let salt = InputSalt::from_bytes([0x17; 31]);
    let proved = prover.prove(&q, &salt, &job).unwrap();
    let digest = input_digest(&q, report.record.input.bits, &salt).unwrap();
    let expected = Expected::new(&report.record, digest, &job.job_id)
        .worker(&job.worker_id)
        .nonce(&job.client_nonce);
    let verified = verify(&proved.receipt, prover.verifier_key(), &expected).unwrap();
    let reference = run_float_reference(&onnx, &graph.inputs, graph.has_batch, &x).unwrap();
    let range = reference.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let err = verified
        .output
        .iter()
        .zip(&reference)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(err / range < 0.05, "{mode}: error {err} on range {range}");
    let expected_constraints = match mode {
        WeightMode::Fixed => 251_661,
        WeightMode::Private => 1_257_202,
    };
    assert_eq!(report.record.constraints, expected_constraints, "{mode}");
}

#[test]
fn lenet5_fixed_weights() {
    lenet5(WeightMode::Fixed);
}

#[test]
fn lenet5_private_weights() {
    lenet5(WeightMode::Private);
}
