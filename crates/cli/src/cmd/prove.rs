//! `zkw prove`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use zkw_model::input::{quantize_input, read_input_file};
use zkw_model::load_model;
use zkw_prover::{Job, Prover};

use crate::out::{dur, spinner};

/// `zkw prove`.
#[derive(Args)]
pub struct ProveArgs {
    /// The .zkm model file.
    pub model: PathBuf,
    /// The keys directory made by `zkw model setup`.
    #[arg(long)]
    pub keys: PathBuf,
    /// The input (EZKL format).
    #[arg(long)]
    pub input: PathBuf,
    /// Where to write the receipt.
    #[arg(short, long)]
    pub output: PathBuf,
    /// The job's id (default: a fresh random id).
    #[arg(long)]
    pub job_id: Option<String>,
    /// The worker's id.
    #[arg(long, default_value = "local")]
    pub worker_id: String,
    /// The client's nonce.
    #[arg(long, default_value = "")]
    pub nonce: String,
}

/// A random job id.
pub fn fresh_job_id() -> String {
    let mut b = [0u8; 16];
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    b[..16].copy_from_slice(
        &blake3::hash(format!("{t:?}{}", std::process::id()).as_bytes()).as_bytes()[..16],
    );
    hex::encode(b)
}

/// Proves one input and writes the receipt.
pub fn prove(a: ProveArgs) -> Result<()> {
    let (model, id) = load_model(&a.model)?;
    let x = read_input_file(&a.input)?;
    let q = quantize_input(&model.input, &x)?;
    crate::cmd::model::warn_saturation(&model.input, &x);
    let pb = spinner("prove");
    pb.set_message("loading keys");
    let prover = Prover::load(model, &id, &a.keys)?;
    pb.set_message("proving");
    let job = Job {
        job_id: a.job_id.unwrap_or_else(fresh_job_id),
        worker_id: a.worker_id,
        client_nonce: a.nonce,
    };
    let proved = prover.prove(&q, &job)?;
    pb.finish_and_clear();
    std::fs::write(&a.output, proved.receipt.to_json())
        .with_context(|| format!("writing {}", a.output.display()))?;
    let total: std::time::Duration = proved.timings.iter().map(|(_, d)| *d).sum();
    println!(
        "proved job {} in {} → {}",
        job.job_id,
        dur(total),
        a.output.display()
    );
    for (phase, d) in &proved.timings {
        println!("  {phase:<12} {}", dur(*d));
    }
    println!("  output       {:?}", proved.receipt.output.values);
    Ok(())
}
