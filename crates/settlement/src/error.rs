//! Why settlement could not run at all (a receipt's own rejection is an
//! [`crate::Outcome`], not an error).

use std::path::PathBuf;

use zkw_verifier::VerificationError;

/// A failure of the registry or the ledger themselves.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettlementError {
    /// A file could not be read or written.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        error: std::io::Error,
    },
    /// A registry entry is missing, malformed or not signed by its owner.
    #[error("registry {}: {reason}", path.display())]
    Registry {
        /// The entry's file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A registration or licence was refused when added to the registry.
    #[error("{0}")]
    Refused(VerificationError),
    /// The ledger database failed.
    #[error("ledger {}: {reason}", path.display())]
    Ledger {
        /// The database file.
        path: PathBuf,
        /// What redb said.
        reason: String,
    },
}

impl SettlementError {
    pub(crate) fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        SettlementError::Io {
            path: path.into(),
            error,
        }
    }
}
