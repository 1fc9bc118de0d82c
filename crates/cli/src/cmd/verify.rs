//! `zkw verify`: exit 0 when verified, 1 when rejected (reason on stderr), 2 when the check
//! could not be run (missing keys, unreadable files, nothing to check the receipt against).
//!
//! Strict by default: a receipt is checked against the model the client names (`--model`, or
//! the keys directory it gives), the client's input (or its digest) and the job id; nothing
//! that selects the record or the key is taken from the receipt. Skipping any of them is a
//! choice made out loud with `--unchecked`, and every line the command then prints says what
//! was not checked.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use zkw_model::TensorInfo;
use zkw_model::input::{quantize_input_exact, read_client_input};
use zkw_verifier::PublishedKeys;
use zkw_verifier::digest::input_digest;
use zkw_verifier::field::fr_from_hex;
use zkw_verifier::{
    Check, Expected, InputSalt, Receipt, Signer, Unchecked, Venue, VerificationError, Verified,
    verify as verify_receipt,
};

use crate::out::dur;

/// A check the caller skips on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Skip {
    /// Look the registration up by the receipt's own model id: a receipt of any registered
    /// model with the same input format passes.
    Model,
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
    /// With --registry: the model the receipt must be for, the one the client submitted to
    /// (required: the receipt's own model id proves nothing about what was asked for; skip
    /// on purpose with --unchecked model).
    #[arg(long, requires = "registry")]
    pub model: Option<String>,
    /// With --registry: a pin file (created if missing) remembering the newest history entry
    /// seen of each model; a registry older than it, or rewritten since, is refused (exit 2),
    /// and the pin moves to the newest entry. Format: `zkw_settlement::pins` (README).
    #[arg(long, value_name = "FILE", requires = "registry")]
    pub pins: Option<PathBuf>,
    /// With --registry: a settlement ledger whose memory of the registry to trust — the owner
    /// it pinned, the newest registration it saw, the record first seen under each key; a
    /// registration it would refuse is refused here (exit 2).
    #[arg(long, value_name = "DIR", requires = "registry")]
    pub ledger: Option<PathBuf>,
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
    /// The venue the receipt's client request must name (`ledger:<id>` or
    /// `evm:<chain id>:0x<address>`): where the client agreed to pay for the job.
    #[arg(long)]
    pub venue: Option<Venue>,
    /// Skip checks on purpose: `model` looks the registration up by the receipt's own model
    /// id, `input` accepts a proof about any input of the model, `job` a receipt for any job.
    /// Every line printed then says what was not checked.
    #[arg(long, value_delimiter = ',', value_name = "model,input,job")]
    pub unchecked: Vec<Skip>,
}

/// Outcome of a check that could run.
pub enum Outcome {
    /// Verified.
    Verified(Box<Verified>),
    /// Rejected, with the reason (and a hint when one helps).
    Rejected(VerificationError, Option<&'static str>),
}

/// Refuses a verification that would check neither the input nor the job unless the caller
/// said so, and a contradictory request.
fn require_strict(a: &VerifyArgs) -> Result<()> {
    let skip_model = a.unchecked.contains(&Skip::Model);
    let skip_input = a.unchecked.contains(&Skip::Input);
    let skip_job = a.unchecked.contains(&Skip::Job);
    let has_input = a.input.is_some() || a.input_digest.is_some();
    if skip_model && a.model.is_some() {
        bail!("--unchecked model contradicts --model: give one or the other");
    }
    if skip_model && a.keys.is_some() {
        bail!(
            "--unchecked model applies to --registry: with --keys the model is the keys \
             directory's"
        );
    }
    if skip_input && has_input {
        bail!("--unchecked input contradicts --input/--input-digest: give one or the other");
    }
    if skip_job && a.job_id.is_some() {
        bail!("--unchecked job contradicts --job-id: give one or the other");
    }
    let mut missing = Vec::new();
    let mut skips = Vec::new();
    if a.registry.is_some() && a.model.is_none() && !skip_model {
        missing.push("--model ID");
        skips.push("model");
    }
    if !has_input && !skip_input {
        missing.push("--input FILE (or --input-digest HEX)");
        skips.push("input");
    }
    if a.job_id.is_none() && !skip_job {
        missing.push("--job-id ID");
        skips.push("job");
    }
    if !missing.is_empty() {
        bail!(
            "missing {}: without them a receipt of another model, about another input or for \
             another job would verify. Pass them, or skip on purpose with --unchecked {}",
            missing.join(" and "),
            skips.join(",")
        );
    }
    Ok(())
}

/// Loads everything and checks the receipt.
pub fn check(a: &VerifyArgs) -> Result<Outcome> {
    require_strict(a)?;
    // A receipt over its cap is refused unread: rejected (exit 1), as a malformed one is.
    let cap = zkw_verifier::receipt::MAX_RECEIPT_BYTES;
    let bytes = match zkw_verifier::file::read_capped(&a.receipt, cap, "receipt") {
        Ok(b) => b,
        Err(e) => match zkw_verifier::file::too_large(&e) {
            Some(t) => return Ok(Outcome::Rejected(VerificationError::TooLarge(*t), None)),
            None => {
                return Err(e).with_context(|| format!("reading {}", a.receipt.display()));
            }
        },
    };
    let receipt = match Receipt::from_json(&bytes) {
        Ok(r) => r,
        Err(e) => return Ok(Outcome::Rejected(e, None)),
    };
    // The record and key come from what the client named, never from the receipt, except
    // when told `--unchecked model` (and then every line says so).
    let (record, key) = match (&a.registry, &a.keys) {
        (Some(dir), _) => {
            let id = match &a.model {
                Some(id) => id.as_str(),
                None => receipt.model_id.as_str(),
            };
            let registry = zkw_settlement::Registry::new(dir);
            // One read of the history: the registration used is the one the pins judged.
            let history = registry.history(id)?;
            let model = registry.head(id, &history)?;
            if let Some(path) = &a.pins {
                let mut pins = zkw_settlement::pins::Pins::load(path)?;
                pins.check(id, &history)
                    .map_err(|reason| anyhow::anyhow!("registry {}: {reason}", dir.display()))?;
                pins.save(path)?;
            }
            if let Some(ledger) = &a.ledger {
                if !ledger.join(zkw_settlement::ledger::LEDGER_FILE).exists() {
                    bail!("{}: no ledger here", ledger.display());
                }
                let ledger = zkw_settlement::Ledger::open(ledger)?;
                if let Some(reason) = ledger.judge(&model.registration)? {
                    bail!("registry {}: {reason}", dir.display());
                }
            }
            (model.registration.record, model.key)
        }
        (None, Some(dir)) => {
            let keys = PublishedKeys::new(dir);
            let record = keys.read_record()?;
            let key = keys.read_vk(&record)?;
            // Committed weights: the commitment must open over the setup's key, with its
            // range proof (a registry checks this at registration; a keys directory is checked
            // here, once).
            keys.check_commitment(&record, None)?;
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
            Check::Equals(client_digest(&record, &input.values, &salt)?)
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
        model: match &a.model {
            Some(id) => Check::Equals(id.as_str()),
            None if a.unchecked.contains(&Skip::Model) => Check::Skip,
            // --keys: the client named the model by the keys directory it gave.
            None => Check::Equals(record.model_id.as_str()),
        },
        input_digest,
        job_id: check_str(&a.job_id),
        worker_id: check_str(&a.worker_id),
        client_nonce: check_str(&a.nonce),
        venue: match a.venue {
            Some(v) => Check::Equals(v),
            None => Check::Skip,
        },
    };
    Ok(match verify_receipt(&receipt, &key, &expected) {
        Ok(v) => Outcome::Verified(Box::new(v)),
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

/// The digest of a client's input under the model's input format, as the worker computes
/// it: quantized, then salted.
pub fn client_digest(
    record: &zkw_verifier::ModelRecord,
    values: &[f64],
    salt: &InputSalt,
) -> Result<zkw_verifier::Fr> {
    let info = TensorInfo {
        shape: record.input.shape.clone(),
        frac_bits: record.input.frac_bits,
        bits: record.input.bits.bits(),
    };
    // Exactly as a worker takes it: a value that would saturate is refused, so a receipt
    // proved on a clipped input never matches the input a client holds.
    let q = quantize_input_exact(&info, values)?;
    Ok(input_digest(&q, record.input.bits, salt)?)
}

/// ` [NOT CHECKED: model, input, job id]` when the caller skipped the model, the input or the
/// job, else nothing.
pub fn not_checked_tag(v: &Verified) -> String {
    let skipped: Vec<String> = v
        .unchecked
        .iter()
        .filter(|u| matches!(u, Unchecked::Model | Unchecked::Input | Unchecked::JobId))
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
            outln!(
                "verified in {}{tag}: job {} by worker {} on model {}",
                dur(t.elapsed()),
                v.job_id,
                v.worker_id,
                v.model_id
            );
            outln!("  output {:?}{tag}", v.output);
            match &v.signer {
                Signer::Worker(id) => outln!("  signed by worker {id}{tag}"),
                Signer::Unsigned => outln!("  unsigned (made outside a worker daemon){tag}"),
            }
            match &v.request {
                Some(rq) => outln!(
                    "  requested by client {} for venue {}{}, fee {}{tag}",
                    rq.client(),
                    rq.venue(),
                    if v.unchecked.contains(&Unchecked::Venue) {
                        " (venue not checked: --venue)"
                    } else {
                        ""
                    },
                    rq.fee()
                ),
                None => outln!("  no client request: the receipt settles nowhere{tag}"),
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

#[cfg(test)]
mod client_input_tests {
    use super::*;

    /// The golden record: an input of 2 values, 8 bits at scale 2^-4, so [-8, 7.9375].
    fn record() -> zkw_verifier::ModelRecord {
        let json = include_bytes!("../../../../tests/golden/record.json");
        zkw_verifier::ModelRecord::from_json(json).unwrap()
    }

    #[test]
    fn a_client_input_that_would_saturate_is_refused_as_a_worker_refuses_it() {
        let salt = InputSalt::from_bytes([7; 31]);
        assert!(client_digest(&record(), &[-8.0, 7.9375], &salt).is_ok());
        let err = client_digest(&record(), &[0.0, 8.0], &salt).unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            "input value #1 = 8 is outside the model's input range [-8, 7.9375] (it would \
             saturate); scale or clip the input"
        );
    }
}
