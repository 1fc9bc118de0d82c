//! `benches/models/mlp_784_56_10` (784 → 56 → ReLU → 10, 44,530 parameters) imports, proves
//! and verifies in both weight modes, and its quantized output stays close to onnxruntime's.

use std::path::Path;

use zkworker::model::input::{quantize_input, read_input_file};
use zkworker::model::onnx::{QuantizeOptions, import_float_graph, quantize};
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
