//! `zkw demo`: import → setup → prove → verify on the bundled digits classifier, in-process.
//!
//! The model (64 → 32 → ReLU → 10, trained on scikit-learn's 8×8 digits by
//! `examples/train_digits.py`) and a test image ship inside the binary, so the demo needs no
//! file and no network. It writes its artifacts to a work directory so the user can go on with
//! the real commands it prints at the end.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use zkw_model::input::{quantize_input, read_client_input, read_input_file};
use zkw_model::onnx::{QuantizeOptions, import_float_graph, quantization_error, quantize};
use zkw_model::{WeightMode, save_model};
use zkw_prover::LocalProver;
use zkw_verifier::Job;
use zkw_verifier::digest::input_digest;
use zkw_verifier::{Expected, InputSalt, verify};

use crate::out::{count, dur, size};

const ONNX: &[u8] = include_bytes!("../../../../examples/digits/digits.onnx");
const INPUT: &[u8] = include_bytes!("../../../../examples/digits/input.json");
const CALIBRATION: &[u8] = include_bytes!("../../../../examples/digits/calibration.json");

/// `zkw demo`.
#[derive(Args)]
pub struct DemoArgs {
    /// Where to write the demo's model, keys and receipts.
    #[arg(long, default_value = "zkw-demo")]
    pub dir: PathBuf,
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf> {
    let p = dir.join(name);
    std::fs::write(&p, bytes).with_context(|| format!("writing {}", p.display()))?;
    Ok(p)
}

fn step(n: usize, what: &str) {
    println!("[{n}/4] {what}");
}

/// Runs the tour.
pub fn demo(a: DemoArgs) -> Result<()> {
    std::fs::create_dir_all(&a.dir).with_context(|| format!("creating {}", a.dir.display()))?;
    let onnx = write(&a.dir, "digits.onnx", ONNX)?;
    // The client's input with a fresh salt: its digest in the receipts reveals nothing.
    let mut doc: serde_json::Value = serde_json::from_slice(INPUT)?;
    doc["salt"] = crate::cmd::prove::fresh_salt()?.to_hex().into();
    let input = write(
        &a.dir,
        "input.json",
        serde_json::to_string(&doc)?.as_bytes(),
    )?;
    let calibration = write(&a.dir, "calibration.json", CALIBRATION)?;
    println!("zkworker demo: a 64→32→ReLU→10 digits classifier (examples/train_digits.py)");
    println!("work dir: {}\n", a.dir.display());
    for mode in [WeightMode::Fixed, WeightMode::Private] {
        run_mode(&a.dir, &onnx, &input, &calibration, mode)?;
        println!();
    }
    let d = a.dir.display();
    println!("What to try next (the same steps, one command each):");
    println!(
        "  zkw model import {d}/digits.onnx -o {d}/m.zkm --calibration {d}/calibration.json --weights private"
    );
    println!("  zkw model inspect {d}/m.zkm");
    println!("  zkw model run {d}/m.zkm --input {d}/input.json");
    println!("  zkw model setup {d}/m.zkm -o {d}/keys");
    println!(
        "  zkw prove {d}/m.zkm --keys {d}/keys --input {d}/input.json -o {d}/receipt.json --job-id job-1"
    );
    println!("  zkw verify {d}/receipt.json --keys {d}/keys --input {d}/input.json --job-id job-1");
    println!("Then bring your own ONNX MLP (Gemm/MatMul, Add, Relu, Flatten, Reshape).");
    Ok(())
}

fn run_mode(
    dir: &Path,
    onnx: &Path,
    input: &Path,
    calibration: &Path,
    mode: WeightMode,
) -> Result<()> {
    let what = match mode {
        WeightMode::Fixed => "fixed weights (weights are circuit constants)",
        WeightMode::Private => "private weights (proof of knowledge of the committed weights)",
    };
    println!("== {what}");

    let t = Instant::now();
    let graph = import_float_graph(onnx)?;
    let calib = read_input_file(calibration)?;
    let options = QuantizeOptions {
        weight_mode: mode,
        ..Default::default()
    };
    let model = quantize(&graph, &options, Some(&calib))?;
    let model_path = dir.join(format!("digits-{mode}.zkm"));
    let id = save_model(&model, &model_path)?;
    step(
        1,
        &format!(
            "import    → {} in {}",
            model_path.display(),
            dur(t.elapsed())
        ),
    );
    let client = read_client_input(input)?;
    let salt = client
        .salt
        .map(InputSalt::from_bytes)
        .unwrap_or(InputSalt::UNSALTED);
    let x = client.values;
    let err = quantization_error(onnx, &graph, &model, &x)?;
    println!(
        "          model id {}…, {} parameters, int8; error vs ONNX float output {:.2}% of its range",
        &id.to_hex()[..16],
        count(model.parameter_count()),
        100.0 * err.relative()
    );

    let t = Instant::now();
    let keys = dir.join(format!("keys-{mode}"));
    let report = zkw_prover::setup(&model, &id, &keys, &|_| {})?;
    step(
        2,
        &format!("setup     → {} in {}", keys.display(), dur(t.elapsed())),
    );
    println!(
        "          {} constraints, proving key {}, verifying key {}",
        count(report.record.constraints),
        size(report.pk_bytes),
        size(report.vk_bytes)
    );

    let t = Instant::now();
    let prover = LocalProver::load(model.clone(), &id, &keys)?;
    let q = quantize_input(&model.input, &x)?;
    let job = Job {
        job_id: format!("demo-{mode}-1"),
        worker_id: "demo-worker".into(),
        client_nonce: crate::cmd::prove::fresh_job_id()?,
    };
    let proved = prover.prove(&q, &salt, &job)?;
    let receipt_path = dir.join(format!("receipt-{mode}.json"));
    std::fs::write(&receipt_path, proved.receipt.to_json())?;
    let values = &proved.receipt.output.values;
    let digit = values
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)
        .unwrap_or(0);
    step(
        3,
        &format!(
            "prove     → {} in {}",
            receipt_path.display(),
            dur(t.elapsed())
        ),
    );
    println!("          the image is classified as a {digit}; 128-byte Groth16 proof");

    let t = Instant::now();
    // Strict, as a client checks it: its own input and salt, its job, the worker it chose.
    let record = prover.record();
    let digest = input_digest(&q, record.input.bits, &salt)?;
    let expected = Expected::new(record, digest, &job.job_id)
        .worker(&job.worker_id)
        .nonce(&job.client_nonce);
    let verified = verify(&proved.receipt, prover.verifier_key(), &expected)?;
    step(
        4,
        &format!(
            "verify    → OK in {} (the client's input and salt, job {}, worker {})",
            dur(t.elapsed()),
            verified.job_id,
            verified.worker_id
        ),
    );
    let mut forged = proved.receipt.clone();
    let other = (digit + 1) % forged.output.quantized.len();
    forged.output.quantized[other] += 10;
    forged.output.values[other] =
        forged.output.quantized[other] as f64 * (-(forged.output.frac_bits as f64)).exp2();
    match verify(&forged, prover.verifier_key(), &expected) {
        Err(e) => println!("          a receipt with a forged output is rejected: {e}"),
        Ok(_) => anyhow::bail!("a forged receipt verified: this is a bug, please report it"),
    }
    // The same receipt, checked by a client with another input: the proof is not about it.
    let mut other_input = q.clone();
    other_input[0] = if other_input[0] == 0 { 1 } else { 0 };
    let other = Expected::new(
        record,
        input_digest(&other_input, record.input.bits, &salt)?,
        &job.job_id,
    );
    match verify(&proved.receipt, prover.verifier_key(), &other) {
        Err(e) => println!("          checked against another input, it is rejected: {e}"),
        Ok(_) => anyhow::bail!("a receipt verified for another input: this is a bug"),
    }
    Ok(())
}
