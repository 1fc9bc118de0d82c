//! `zkw verify`: exit 0 when verified, 1 when rejected (reason on stderr), 2 when the check
//! could not be run (missing keys, unreadable files).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use zkw_model::TensorInfo;
use zkw_model::input::{quantize_input, read_input_file};
use zkw_prover::KeyDir;
use zkw_verifier::digest::input_digest;
use zkw_verifier::{Expected, Receipt, VerificationError, verify as verify_receipt};

use crate::out::dur;

/// `zkw verify`.
#[derive(Args)]
pub struct VerifyArgs {
    /// The receipt.
    pub receipt: PathBuf,
    /// The model's keys directory (its registry record and verifying key).
    #[arg(long)]
    pub keys: PathBuf,
    /// The client's own input: check that the receipt is about it.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// The job id the receipt must be for.
    #[arg(long)]
    pub job_id: Option<String>,
    /// The worker the receipt must come from.
    #[arg(long)]
    pub worker_id: Option<String>,
    /// The client nonce the receipt must carry.
    #[arg(long)]
    pub nonce: Option<String>,
}

/// Outcome of a check that could run.
pub enum Outcome {
    /// Verified.
    Verified(zkw_verifier::Verified),
    /// Rejected, with the reason.
    Rejected(VerificationError),
}

/// Loads everything and checks the receipt.
pub fn check(a: &VerifyArgs) -> Result<Outcome> {
    let bytes =
        std::fs::read(&a.receipt).with_context(|| format!("reading {}", a.receipt.display()))?;
    let receipt = match Receipt::from_json(&bytes) {
        Ok(r) => r,
        Err(e) => return Ok(Outcome::Rejected(e)),
    };
    let keys = KeyDir::new(&a.keys);
    let record = keys.read_record()?;
    let key = keys.read_vk(&record)?;
    let digest = match &a.input {
        Some(path) => {
            let info = TensorInfo {
                shape: record.input.shape.clone(),
                frac_bits: record.input.frac_bits,
                bits: record.input.bits,
            };
            let q = quantize_input(&info, &read_input_file(path)?)?;
            Some(input_digest(&q, record.input.bits))
        }
        None => None,
    };
    let expected = Expected {
        record: &record,
        job_id: a.job_id.as_deref(),
        worker_id: a.worker_id.as_deref(),
        client_nonce: a.nonce.as_deref(),
        input_digest: digest,
    };
    Ok(match verify_receipt(&receipt, &key, &expected) {
        Ok(v) => Outcome::Verified(v),
        Err(e) => Outcome::Rejected(e),
    })
}

/// Runs the command and maps the outcome to the exit code.
pub fn verify(a: VerifyArgs) -> ExitCode {
    let t = Instant::now();
    match check(&a) {
        Ok(Outcome::Verified(v)) => {
            println!(
                "verified in {}: job {} by worker {} on model {}",
                dur(t.elapsed()),
                v.job_id,
                v.worker_id,
                v.model_id
            );
            println!("  output {:?}", v.output);
            ExitCode::SUCCESS
        }
        Ok(Outcome::Rejected(e)) => {
            eprintln!("rejected: {e}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
