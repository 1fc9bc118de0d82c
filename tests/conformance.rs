//! External conformance: every EZKL example model either imports, runs within tolerance of
//! onnxruntime's float output, proves and verifies — or is refused with a clean, named error.
//! Cases whose ops are all ones we support must import.

use std::path::Path;

use zkworker::model::ModelError;
use zkworker::model::input::{parse_input_json, quantize_input};
use zkworker::model::onnx::{QuantizeOptions, import_float_graph, quantize};
use zkworker::model::{model_id, run};
use zkworker::prover::{LocalProver, setup};
use zkworker::verifier::Job;
use zkworker::verifier::digest::input_digest;
use zkworker::verifier::{Expected, InputSalt, verify};

const SUPPORTED: &[&str] = &[
    "Gemm",
    "MatMul",
    "Conv",
    "BatchNormalization",
    "Add",
    "Relu",
    "Flatten",
    "Reshape",
    "Identity",
    "Constant",
];

/// Cases made only of supported ops that are still refused, and why.
const KNOWN_REFUSED: &[(&str, &str)] = &[
    ("arange", "no graph input"),
    (
        "blackman_window",
        "Add of a constant not after a dense layer",
    ),
];

fn expected(dir: &Path) -> Option<Vec<f64>> {
    let text = std::fs::read(dir.join("expected.json")).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&text).ok()?;
    Some(
        v["output_data"][0]
            .as_array()?
            .iter()
            .map(|x| x.as_f64().unwrap_or(f64::NAN))
            .collect(),
    )
}

fn check_case(name: &str, dir: &Path) -> Result<String, ModelError> {
    let graph = import_float_graph(&dir.join("network.onnx"))?;
    let text = std::fs::read_to_string(dir.join("input.json")).unwrap();
    let inputs = parse_input_json(&text, &dir.join("input.json"))?;
    let x = &inputs[0];
    let model = quantize(&graph, &QuantizeOptions::default(), Some(x))?;
    let q = quantize_input(&model.input_info(), x)?;
    let out = model.output_info()?;
    let trace = run(&model, &q)?;
    let got: Vec<f64> = trace
        .output()
        .iter()
        .map(|&v| zkworker::model::input::dequantize(v, out.frac_bits))
        .collect();
    let want = expected(dir).expect("a reference output");
    assert_eq!(got.len(), want.len(), "{name}: output length");
    let range = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let step = (-(out.frac_bits as f64)).exp2();
    let err = got
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(
        err <= 0.05 * range + 2.0 * step,
        "{name}: max error {err} on output range {range} (step {step})\n got {got:?}\nwant {want:?}"
    );

    let id = model_id(&model);
    let keys = tempfile::tempdir().unwrap();
    let report = setup(&model, &id, keys.path(), &|_| {}).unwrap();
    let prover = LocalProver::load(model, &id, keys.path()).unwrap();
    let job = Job {
        job_id: name.into(),
        worker_id: "conformance".into(),
        client_nonce: String::new(),
    };
    let salt = InputSalt::from_bytes([0x17; 31]);
    let proved = prover.prove(&q, &salt, &job).unwrap();
    let digest = input_digest(&q, report.record.input.bits, &salt).unwrap();
    verify(
        &proved.receipt,
        prover.verifier_key(),
        &Expected::new(&report.record, digest, &job.job_id),
    )
    .unwrap();
    Ok(format!(
        "{name}: proved, {} constraints, error {:.2}% of range",
        report.record.constraints,
        100.0 * err / range.max(f64::MIN_POSITIVE)
    ))
}

#[test]
fn ezkl_examples_import_prove_or_are_refused_by_name() {
    let root = zkworker::conformance_dir();
    let manifest = std::fs::read_to_string(root.join("MANIFEST.tsv")).unwrap();
    let (mut proved, mut refused) = (0, Vec::new());
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (name, ops, reference) = (cols[0], cols[2], cols[5]);
        if reference != "ok" {
            continue;
        }
        let only_supported = ops.split(',').all(|op| SUPPORTED.contains(&op));
        match check_case(name, &root.join(name)) {
            Ok(summary) => {
                eprintln!("{summary}");
                proved += 1;
            }
            Err(e) => {
                let known = KNOWN_REFUSED.iter().any(|(n, _)| *n == name);
                assert!(
                    !only_supported || known,
                    "{name} ({ops}) uses only supported ops but was refused: {e}"
                );
                assert!(
                    matches!(
                        e,
                        ModelError::UnsupportedOp { .. }
                            | ModelError::Invalid(_)
                            | ModelError::Onnx(_)
                    ),
                    "{name}: unexpected error kind {e:?}"
                );
                eprintln!("{name}: refused: {e}");
                refused.push(name.to_string());
            }
        }
    }
    eprintln!(
        "ezkl conformance: {proved} proved, {} refused with a named error",
        refused.len()
    );
    assert!(proved >= 18, "only {proved} cases proved");
    for (name, why) in KNOWN_REFUSED {
        assert!(
            refused.iter().any(|r| r == name),
            "{name} is listed as refused ({why}) but now imports: update KNOWN_REFUSED"
        );
    }
}
