//! The benchmark models import, prove and verify in every weight mode, and their quantized
//! outputs stay close to the float reference: `mlp_784_56_10` (784 → 56 → ReLU → 10, 44,530
//! parameters, against onnxruntime's output) and `lenet5` (a LeNet-5-size CNN, 61,706
//! parameters, written by `cargo run --example lenet5`, against tract's float run: there is no
//! onnxruntime output for it).

use std::path::Path;

use zkw_model::input::{quantize_input, read_input_file};
use zkw_model::{WeightMode, model_id};
use zkw_onnx::{FloatGraph, QuantizeOptions, import_float_graph, quantize, run_float_reference};
use zkw_prover::{LocalProver, setup};
use zkw_verifier::Job;
use zkw_verifier::digest::input_digest;
use zkw_verifier::{Expected, InputSalt, verify};

/// onnxruntime's output, from the case's `expected.json`.
fn onnxruntime(dir: &Path, _: &FloatGraph, _: &[f64]) -> Vec<f64> {
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
    v["output_data"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// tract's float run of the ONNX file.
fn tract(dir: &Path, graph: &FloatGraph, x: &[f64]) -> Vec<f64> {
    run_float_reference(&dir.join("network.onnx"), &graph.inputs, graph.has_batch, x).unwrap()
}

/// Imports, sets up, proves and strictly verifies `benches/models/<name>` in `mode`; checks
/// the parameter and constraint counts and the output against `reference` (within 5% of its
/// range).
fn prove_and_verify(
    name: &str,
    mode: WeightMode,
    (parameters, constraints): (usize, Option<usize>),
    reference: fn(&Path, &FloatGraph, &[f64]) -> Vec<f64>,
) {
    let dir = zkworker::bench_models_dir().join(name);
    let graph = import_float_graph(&dir.join("network.onnx")).unwrap();
    let x = read_input_file(&dir.join("input.json")).unwrap();
    let options = QuantizeOptions {
        weight_mode: mode,
        ..Default::default()
    };
    let model = quantize(&graph, &options, Some(&x)).unwrap();
    assert_eq!(model.parameter_count(), parameters);
    let id = model_id(&model);
    let keys = tempfile::tempdir().unwrap();
    let report = setup(&model, &id, keys.path(), &|_| {}).unwrap();
    if let Some(c) = constraints {
        assert_eq!(report.record.constraints, c, "{name} {mode}");
    }
    let prover = LocalProver::load(model.clone(), &id, keys.path()).unwrap();
    let q = quantize_input(&model.input_info(), &x).unwrap();
    let job = Job {
        job_id: "bench-1".into(),
        worker_id: "w".into(),
        client_nonce: "n".into(),
        request: None,
    };
    let salt = InputSalt::from_bytes([0x42; 31]);
    let proved = prover.prove(&q, &salt, &job).unwrap();
    let digest = input_digest(&q, report.record.input.bits, &salt).unwrap();
    let expected = Expected::new(&report.record, digest, &job.job_id)
        .worker(&job.worker_id)
        .nonce(&job.client_nonce);
    let verified = verify(&proved.receipt, prover.verifier_key(), &expected).unwrap();

    // Accuracy against the float reference, relative to the output's range.
    let reference = reference(&dir, &graph, &x);
    let range = reference.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let err = verified
        .output
        .iter()
        .zip(&reference)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(
        err / range < 0.05,
        "{name} {mode}: error {err} on range {range}"
    );
    eprintln!(
        "{name} {mode}: {} constraints, output error {:.2}% of range",
        report.record.constraints,
        100.0 * err / range
    );
}

#[test]
fn mlp_784_56_10_fixed_weights() {
    prove_and_verify(
        "mlp_784_56_10",
        WeightMode::Fixed,
        (44_530, None),
        onnxruntime,
    );
}

#[test]
fn mlp_784_56_10_private_weights() {
    prove_and_verify(
        "mlp_784_56_10",
        WeightMode::Private,
        (44_530, None),
        onnxruntime,
    );
}

#[test]
fn mlp_784_56_10_committed_weights() {
    prove_and_verify(
        "mlp_784_56_10",
        WeightMode::Committed,
        (44_530, Some(55_520)),
        onnxruntime,
    );
}

#[test]
fn lenet5_fixed_weights() {
    prove_and_verify("lenet5", WeightMode::Fixed, (61_706, Some(251_652)), tract);
}

#[test]
fn lenet5_private_weights() {
    prove_and_verify(
        "lenet5",
        WeightMode::Private,
        (61_706, Some(1_257_193)),
        tract,
    );
}

#[test]
fn lenet5_committed_weights() {
    prove_and_verify(
        "lenet5",
        WeightMode::Committed,
        (61_706, Some(658_308)),
        tract,
    );
}
