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
    Synthesis(SynthesisError),
    /// The owner's commitment to committed weights could not be made.
    #[error("weight commitment: {0}")]
    Commitment(String),
    /// A keys directory is not this owner's to register.
    #[error("{}: {reason}", dir.display())]
    NotOwner {
        /// The keys directory.
        dir: PathBuf,
        /// Whose it is, or why it is no one's.
        reason: String,
    },
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
    SelfCheck(VerificationError),
    /// Reading or writing a file failed.
    // The OS error is part of the message and deliberately not a `source`: a report that walks
    // the chain (anyhow's `{:#}`) would print it twice.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
}

// By hand rather than `#[from]`, which would also make the inner error the `source`: the
// messages above already print it, and a chain-walking report would print it twice.
impl From<SynthesisError> for ProverError {
    fn from(e: SynthesisError) -> Self {
        ProverError::Synthesis(e)
    }
}

impl From<VerificationError> for ProverError {
    fn from(e: VerificationError) -> Self {
        ProverError::SelfCheck(e)
    }
}

impl ProverError {
    pub(crate) fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        ProverError::Io {
            path: path.into(),
            error,
        }
    }
}

impl From<zkw_verifier::published::PublishedKeysError> for ProverError {
    fn from(e: zkw_verifier::published::PublishedKeysError) -> Self {
        use zkw_verifier::published::PublishedKeysError as E;
        match e {
            E::Io { path, error } => ProverError::Io { path, error },
            E::Bad { path, reason } => ProverError::BadKeyFile { path, reason },
        }
    }
}
