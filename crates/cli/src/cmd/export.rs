//! `zkw receipt export --format snarkjs`: a receipt, verified against the model the caller
//! names, as snarkjs's `proof.json`, `public.json` and `verification_key.json`, so that
//! `snarkjs groth16 verify` — or any tool reading those files — checks it without our code.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use zkw_verifier::PublishedKeys;
use zkw_verifier::file::read_capped;
use zkw_verifier::receipt::MAX_RECEIPT_BYTES;
use zkw_verifier::{Expected, Receipt};

/// Formats a receipt exports to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// snarkjs's Groth16 files (`snarkjs groth16 verify verification_key.json public.json
    /// proof.json`).
    Snarkjs,
}

/// `zkw receipt export`.
#[derive(Args)]
pub struct ExportReceiptArgs {
    /// The receipt.
    pub receipt: PathBuf,
    /// The format to write.
    #[arg(long, value_enum, default_value = "snarkjs")]
    pub format: Format,
    /// The registry holding the model's registration (its verifying key and commitment).
    #[arg(
        long,
        required_unless_present = "keys",
        conflicts_with = "keys",
        requires = "model"
    )]
    pub registry: Option<PathBuf>,
    /// With --registry: the model the receipt must be for.
    #[arg(long)]
    pub model: Option<String>,
    /// Instead of --registry: the model's keys directory.
    #[arg(long)]
    pub keys: Option<PathBuf>,
    /// The directory to write the three files into (created if missing).
    #[arg(short, long)]
    pub output: PathBuf,
}

/// Verifies the receipt against the named model and writes its files.
pub fn export(a: ExportReceiptArgs) -> Result<()> {
    let bytes = read_capped(&a.receipt, MAX_RECEIPT_BYTES, "receipt")
        .with_context(|| format!("reading {}", a.receipt.display()))?;
    let receipt = Receipt::from_json(&bytes)?;
    let (record, key) = match (&a.registry, &a.model, &a.keys) {
        (Some(dir), Some(id), _) => {
            let model = zkw_settlement::Registry::new(dir).model(id)?;
            (model.registration.record, model.key)
        }
        (None, _, Some(dir)) => {
            let keys = PublishedKeys::new(dir);
            let record = keys.read_record()?;
            let key = keys.read_vk(&record)?;
            // Committed weights: the commitment must open over the setup's key, with its
            // range proof (a registry checks this at registration; a keys directory is checked
            // here, once).
            keys.check_commitment(&record, None)?;
            (record, key)
        }
        _ => bail!("give --registry DIR --model ID, or --keys DIR"),
    };
    // The proof is checked for the model named; the input and the job are the receipt's own
    // (the files carry them as public inputs, for whoever checks them against what it asked).
    let files = zkw_verifier::snarkjs::export(&receipt, &key, &Expected::model_only(&record))
        .map_err(|e| anyhow::anyhow!("the receipt does not verify, nothing written: {e}"))?;
    std::fs::create_dir_all(&a.output)
        .with_context(|| format!("creating {}", a.output.display()))?;
    for (name, value) in [
        ("proof.json", &files.proof),
        ("public.json", &files.public),
        ("verification_key.json", &files.verification_key),
    ] {
        let path = a.output.join(name);
        super::write_output(&path, serde_json::to_string_pretty(value)?)?;
    }
    match a.format {
        Format::Snarkjs => outln!(
            "verified job {} on model {}; wrote proof.json, public.json, verification_key.json \
             to {}\n  check: snarkjs groth16 verify {d}/verification_key.json {d}/public.json \
             {d}/proof.json",
            files.verified.job_id,
            files.verified.model_id,
            a.output.display(),
            d = a.output.display()
        ),
    }
    Ok(())
}
