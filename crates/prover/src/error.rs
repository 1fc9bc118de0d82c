//! Errors of setup and proving.

use std::path::PathBuf;

use ark_relations::gr1cs::SynthesisError;
use zkw_circuits::CircuitError;
use zkw_model::ModelError;
use zkw_verifier::VerificationError;

/// Why setup or proving failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProverError {
    /// The model is invalid, or the input does not fit it.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The circuit could not be built.
    #[error(transparent)]
    Circuit(#[from] CircuitError),
    /// arkworks failed.
    #[error("groth16: {0}")]
    Synthesis(#[from] SynthesisError),
    /// A key file is missing, corrupt, truncated or was altered.
    #[error("bad key file {path}: {reason}")]
    BadKeyFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The keys were made for another model.
    #[error("the keys in {dir} were made for model {keys_model}, not for model {model}")]
    WrongModel {
        /// The keys directory.
        dir: PathBuf,
        /// Model id in the keys' record.
        keys_model: String,
        /// Model id of the model given.
        model: String,
    },
    /// The trace does not satisfy the circuit (a wrong executor result).
    #[error("the trace does not satisfy the circuit (first failing constraint: #{0})")]
    Unsatisfied(usize),
    /// The freshly made proof did not verify (never expected; reported instead of a bad receipt).
    #[error("self-check failed: {0}")]
    SelfCheck(#[from] VerificationError),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl ProverError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ProverError::Io {
            path: path.into(),
            source,
        }
    }
}
