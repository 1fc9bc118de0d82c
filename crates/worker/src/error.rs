//! The worker's errors, and the one table that turns each into a gRPC status.

use std::path::PathBuf;

use tonic::{Code, Status};

/// Why a worker call or the worker itself failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkerError {
    /// The request is malformed: wrong input length, non-finite or out-of-range values, a bad
    /// salt or key.
    #[error("{0}")]
    BadRequest(String),
    /// No model with this id is served here.
    #[error("unknown model {0}: this worker serves no such model (see ListModels)")]
    UnknownModel(String),
    /// An idempotency key already names a job submitted with another request.
    #[error(
        "idempotency key `{0}` was used for another request (another model, input, nonce or salt)"
    )]
    IdempotencyConflict(String),
    /// No job with this id.
    #[error("unknown job {0}")]
    UnknownJob(String),
    /// The queue holds as many waiting jobs as it may.
    #[error("the queue is full ({max} jobs waiting): retry later")]
    QueueFull {
        /// The queue's bound.
        max: usize,
    },
    /// The job has no receipt (yet, or ever).
    #[error("job {job_id} has no receipt: it is {state}")]
    NoReceipt {
        /// The job.
        job_id: String,
        /// Its state.
        state: crate::job::JobState,
    },
    /// The worker is shutting down.
    #[error("the worker is shutting down")]
    ShuttingDown,
    /// The job store failed.
    #[error("job store: {0}")]
    Store(String),
    /// A stored record is damaged (its checksum, seal or format): the message names it.
    #[error("job store: {0}")]
    Damaged(String),
    /// The worker's configuration cannot be used.
    #[error("{0}")]
    Config(String),
    /// Reading or writing a file failed.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong (part of the message, not a `source`: printed once).
        error: std::io::Error,
    },
    /// Something the worker does not expect (a bug, or a broken machine).
    #[error("internal error: {0}")]
    Internal(String),
}

impl WorkerError {
    pub(crate) fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        WorkerError::Io {
            path: path.into(),
            error,
        }
    }
}

/// Every status-code decision of the service, in one place.
impl From<WorkerError> for Status {
    fn from(e: WorkerError) -> Status {
        let code = match &e {
            WorkerError::BadRequest(_) | WorkerError::UnknownModel(_) => Code::InvalidArgument,
            WorkerError::UnknownJob(_) => Code::NotFound,
            WorkerError::IdempotencyConflict(_) => Code::AlreadyExists,
            WorkerError::QueueFull { .. } => Code::ResourceExhausted,
            WorkerError::NoReceipt { .. } => Code::FailedPrecondition,
            WorkerError::ShuttingDown => Code::Unavailable,
            WorkerError::Damaged(_) => Code::DataLoss,
            WorkerError::Store(_)
            | WorkerError::Config(_)
            | WorkerError::Io { .. }
            | WorkerError::Internal(_) => Code::Internal,
        };
        Status::new(code, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_has_its_status() {
        let cases = [
            (WorkerError::BadRequest("x".into()), Code::InvalidArgument),
            (WorkerError::UnknownModel("m".into()), Code::InvalidArgument),
            (WorkerError::UnknownJob("j".into()), Code::NotFound),
            (
                WorkerError::IdempotencyConflict("k".into()),
                Code::AlreadyExists,
            ),
            (WorkerError::QueueFull { max: 3 }, Code::ResourceExhausted),
            (
                WorkerError::NoReceipt {
                    job_id: "j".into(),
                    state: crate::job::JobState::Proving,
                },
                Code::FailedPrecondition,
            ),
            (WorkerError::ShuttingDown, Code::Unavailable),
            (WorkerError::Store("s".into()), Code::Internal),
            (WorkerError::Damaged("d".into()), Code::DataLoss),
        ];
        for (e, code) in cases {
            let msg = e.to_string();
            let s = Status::from(e);
            assert_eq!(s.code(), code, "{msg}");
            assert_eq!(s.message(), msg);
        }
        assert_eq!(
            Status::from(WorkerError::QueueFull { max: 3 }).message(),
            "the queue is full (3 jobs waiting): retry later"
        );
    }
}
