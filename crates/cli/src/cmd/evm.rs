//! `zkw model export-evm` and `zkw receipt calldata`: settle on an EVM chain — the model's
//! Solidity verifier and settlement contract, and the ABI-encoded `settle(...)` call of a
//! receipt.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use zkw_evm::{EvmModel, settle_calldata, solidity};
use zkw_settlement::Registry;
use zkw_verifier::Receipt;
use zkw_verifier::file::read_capped;
use zkw_verifier::receipt::MAX_RECEIPT_BYTES;

/// `zkw model export-evm`.
#[derive(Args)]
pub struct ExportArgs {
    /// The model's id.
    pub model_id: String,
    /// The registry holding its owner-signed registration.
    #[arg(long)]
    pub registry: PathBuf,
    /// Where to write the Solidity source.
    #[arg(short, long)]
    pub output: PathBuf,
}

/// Writes the model's Solidity verifier and settlement contract.
pub fn export(a: ExportArgs) -> Result<()> {
    let model = Registry::new(&a.registry).model(&a.model_id)?;
    let source = solidity(&EvmModel::from_registered(&model)?)?;
    super::write_output(&a.output, &source)?;
    let r = &model.registration;
    let (w, o) = r.reward.split();
    outln!(
        "wrote {} ({} lines): contract {} for model {}",
        a.output.display(),
        source.lines().count(),
        zkw_evm::CONTRACT_NAME,
        r.record.model_id
    );
    outln!(
        "  settle(jobId, workerId, clientNonce, inputDigest, outputs[], proof[8]) pays worker {w}, owner {o} per job, once"
    );
    outln!("  compile with solc 0.8.28 (npm `solc`), deploy without constructor arguments");
    Ok(())
}

/// `zkw receipt` subcommands that work on a receipt file.
#[derive(Subcommand)]
pub enum ReceiptSub {
    /// Print the ABI-encoded `settle(...)` call of a receipt for its model's contract
    /// (`zkw model export-evm`), as 0x-prefixed hex.
    Calldata(CalldataArgs),
    /// Verify a receipt against the model named and write it in another tool's files
    /// (`--format snarkjs`: proof.json, public.json, verification_key.json).
    Export(crate::cmd::export::ExportReceiptArgs),
}

/// `zkw receipt calldata`.
#[derive(Args)]
pub struct CalldataArgs {
    /// The receipt.
    pub receipt: PathBuf,
    /// The registry holding the model's registration (for the output's width).
    #[arg(long)]
    pub registry: PathBuf,
}

/// Prints a receipt's calldata.
pub fn calldata(a: CalldataArgs) -> Result<()> {
    let bytes = read_capped(&a.receipt, MAX_RECEIPT_BYTES, "receipt")
        .with_context(|| format!("reading {}", a.receipt.display()))?;
    let receipt = Receipt::from_json(&bytes)?;
    let model = Registry::new(&a.registry).model(&receipt.model_id)?;
    let data = settle_calldata(&receipt, &model.record().output)?;
    outln!("0x{}", hex::encode(data));
    Ok(())
}
