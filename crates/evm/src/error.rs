//! Why rendering a contract, encoding a settlement or compiling Solidity failed.
//!
//! One enum for the crate, as the other zkw crates do: a caller (the CLI, a settlement
//! service) matches on what went wrong — a receipt that has no on-chain encoding, a model
//! whose constants no contract can hold, a compiler that is missing or refused the source —
//! instead of parsing a message.

use std::path::PathBuf;

use zkw_verifier::VerificationError;
use zkw_verifier::width::OutOfRange;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvmError {
    /// The receipt is malformed, or its proof does not decode to valid curve points.
    #[error(transparent)]
    Receipt(#[from] VerificationError),
    /// An output value lies outside the model's output width: the statement has no encoding
    /// for it, so neither has the settlement call.
    #[error("the receipt's output has no statement encoding: {0}")]
    Output(#[from] OutOfRange),
    /// The receipt or request cannot be paid on any contract (no client request, or one for
    /// an off-chain ledger).
    #[error("not payable on chain: {0}")]
    NotPayable(String),
    /// The model's parameters cannot make a working contract.
    #[error("bad model parameters: {0}")]
    Model(String),
    /// The Solidity compiler could not be run.
    #[error("cannot run the Solidity compiler {path}: {reason}")]
    SolcUnavailable {
        /// The compiler tried.
        path: PathBuf,
        /// Why it did not run.
        reason: String,
    },
    /// The Solidity compiler ran and refused the source, or gave no bytecode.
    #[error("the Solidity compiler failed: {0}")]
    Compile(String),
}
