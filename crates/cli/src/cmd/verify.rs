//! `zkw verify`: exit 0 when verified, 1 when rejected (reason on stderr), 2 when the check
//! could not be run (missing keys, unreadable files, nothing to check the receipt against).
//!
//! Strict by default: a receipt is checked against the client's input (or its digest) and the
//! job id. Skipping either is a choice made out loud with `--unchecked`, and every line the
//! command then prints says what was not checked.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use zkw_model::TensorInfo;
use zkw_model::input::{quantize_input, read_client_input};
use zkw_prover::KeyDir;
use zkw_verifier::digest::input_digest;
use zkw_verifier::field::fr_from_hex;
use zkw_verifier::{
    Check, Expected, InputSalt, Receipt, Signer, Unchecked, VerificationError, Verified,
    verify as verify_receipt,
};

use crate::out::dur;

/// A check the caller skips on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Skip {
    /// Accept a proof about any input of the model.
    Input,
    /// Accept a receipt for any job.
    Job,
}

/// `zkw verify`.
#[derive(Args)]
pub struct VerifyArgs {
    /// The receipt.
    pub receipt: PathBuf,
    /// The registry (`zkw model register`): the receipt's model's owner-signed registration
    /// gives the verifying key and the commitment.
    #[arg(long, required_unless_present = "keys", conflicts_with = "keys")]
    pub registry: Option<PathBuf>,
    /// With --registry: the model the receipt must be for (else the receipt's own model id
    /// is looked up, and printed).
    #[arg(long, requires = "registry")]
    pub model: Option<String>,
    /// Instead of --registry: the model's keys directory (its record and verifying key, as
    /// setup wrote them, unsigned).
    #[arg(long)]
    pub keys: Option<PathBuf>,
    /// The client's own input file (with its "salt"): the receipt must be about this input.
    #[arg(long, value_name = "FILE", conflicts_with = "input_digest")]
    pub input: Option<PathBuf>,
    /// The input's salt (62 hex digits), when the input file does not carry it.
    #[arg(long, value_name = "HEX", requires = "input")]
    pub input_salt: Option<String>,
    /// Instead of --input: the input digest the receipt must carry (hex field element).
    #[arg(long, value_name = "HEX")]
    pub input_digest: Option<String>,
    /// The job id the receipt must be for.
    #[arg(long)]
    pub job_id: Option<String>,
    /// The worker the receipt must come from.
    #[arg(long)]
    pub worker_id: Option<String>,
    /// The client nonce the receipt must carry.
    #[arg(long)]
    pub nonce: Option<String>,
    /// Skip checks on purpose: `input` accepts a proof about any input of the model, `job` a
    /// receipt for any job. Every line printed then says what was not checked.
    #[arg(long, value_delimiter = ',', value_name = "input,job")]
    pub unchecked: Vec<Skip>,
}

/// Outcome of a check that could run.
pub enum Outcome {
    /// Verified.
    Verified(Verified),
    /// Rejected, with the reason (and a hint when one helps).
    Rejected(VerificationError, Option<&'static str>),
}

/// Refuses a verification that would check neither the input nor the job unless the caller
/// said so, and a contradictory request.
fn require_strict(a: &VerifyArgs) -> Result<()> {
    let skip_input = a.unchecked.contains(&Skip::Input);
    let skip_job = a.unchecked.contains(&Skip::Job);
    let has_input = a.input.is_some() || a.input_digest.is_some();
    if skip_input && has_input {
        bail!("--unchecked input contradicts --input/--input-digest: give one or the other");
    }
    if skip_job && a.job_id.is_some() {
        bail!("--unchecked job contradicts --job-id: give one or the other");
    }
    let mut missing = Vec::new();
    if !has_input && !skip_input {
        missing.push("--input FILE (or --input-digest HEX)");
    }
    if a.job_id.is_none() && !skip_job {
        missing.push("--job-id ID");
    }
    if !missing.is_empty() {
        bail!(
            "missing {}: without them a receipt about another input or another job would \
             verify. Pass them, or skip on purpose with --unchecked {}",
            missing.join(" and "),
            match (has_input || skip_input, a.job_id.is_some() || skip_job) {
                (false, false) => "input,job",
                (false, true) => "input",
                _ => "job",
            }
        );
    }
    Ok(())
}

/// Loads everything and checks the receipt.
pub fn check(a: &VerifyArgs) -> Result<Outcome> {
    require_strict(a)?;
    let bytes =
        std::fs::read(&a.receipt).with_context(|| format!("reading {}", a.receipt.display()))?;
    let receipt = match Receipt::from_json(&bytes) {
        Ok(r) => r,
        Err(e) => return Ok(Outcome::Rejected(e, None)),
    };
    let (record, key) = match (&a.registry, &a.keys) {
        (Some(dir), _) => {
            let id = a.model.as_deref().unwrap_or(&receipt.model_id);
            let model = zkw_settlement::Registry::new(dir).model(id)?;
            (model.registration.record, model.key)
        }
        (None, Some(dir)) => {
            let keys = KeyDir::new(dir);
            let record = keys.read_record()?;
            let key = keys.read_vk(&record)?;
            (record, key)
        }
        (None, None) => bail!("give --registry DIR or --keys DIR"),
    };
    let mut unsalted = false;
    let input_digest = match (&a.input, &a.input_digest) {
        (Some(path), _) => {
            let input = read_client_input(path)?;
            let salt = match (&a.input_salt, input.salt) {
                (Some(hex), _) => InputSalt::from_hex(hex).map_err(anyhow::Error::msg)?,
                (None, Some(bytes)) => InputSalt::from_bytes(bytes),
                (None, None) => InputSalt::UNSALTED,
            };
            unsalted = salt.is_unsalted();
            let info = TensorInfo {
                shape: record.input.shape.clone(),
                frac_bits: record.input.frac_bits,
                bits: record.input.bits.bits(),
            };
            let q = quantize_input(&info, &input.values)?;
            Check::Equals(input_digest(&q, record.input.bits, &salt)?)
        }
        (None, Some(hex)) => Check::Equals(
            fr_from_hex(hex)
                .map_err(|e| anyhow::anyhow!("--input-digest is not a field element: {e}"))?,
        ),
        (None, None) => Check::Skip,
    };
    fn check_str(s: &Option<String>) -> Check<&str> {
        match s {
            Some(v) => Check::Equals(v.as_str()),
            None => Check::Skip,
        }
    }
    let expected = Expected {
        record: &record,
        input_digest,
        job_id: check_str(&a.job_id),
        worker_id: check_str(&a.worker_id),
        client_nonce: check_str(&a.nonce),
    };
    Ok(match verify_receipt(&receipt, &key, &expected) {
        Ok(v) => Outcome::Verified(v),
        Err(e @ VerificationError::InputMismatch { .. }) if unsalted => Outcome::Rejected(
            e,
            Some(
                "the input was digested without a salt; if the job was submitted with one, \
                 put it in the input file (\"salt\") or pass --input-salt",
            ),
        ),
        Err(e) => Outcome::Rejected(e, None),
    })
}

/// ` [NOT CHECKED: input, job id]` when the caller skipped the input or the job, else nothing.
pub fn not_checked_tag(v: &Verified) -> String {
    let skipped: Vec<String> = v
        .unchecked
        .iter()
        .filter(|u| matches!(u, Unchecked::Input | Unchecked::JobId))
        .map(|u| u.to_string())
        .collect();
    if skipped.is_empty() {
        String::new()
    } else {
        format!(" [NOT CHECKED: {}]", skipped.join(", "))
    }
}

/// Runs the command and maps the outcome to the exit code.
pub fn verify(a: VerifyArgs) -> ExitCode {
    let t = Instant::now();
    match check(&a) {
        Ok(Outcome::Verified(v)) => {
            let tag = not_checked_tag(&v);
            println!(
                "verified in {}{tag}: job {} by worker {} on model {}",
                dur(t.elapsed()),
                v.job_id,
                v.worker_id,
                v.model_id
            );
            println!("  output {:?}{tag}", v.output);
            match &v.signer {
                Signer::Worker(id) => println!("  signed by worker {id}{tag}"),
                Signer::Unsigned => println!("  unsigned (made outside a worker daemon){tag}"),
            }
            ExitCode::SUCCESS
        }
        Ok(Outcome::Rejected(e, hint)) => {
            eprintln!("rejected: {e}");
            if let Some(h) = hint {
                eprintln!("hint: {h}");
            }
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
