//! The job a receipt is for: who asked (the client's nonce and signed request) and who
//! answered (the worker, and the job id it minted). Its [`Job::binding`] is the statement's
//! last public input, so a proof made for one job verifies for no other.

use serde::{Deserialize, Serialize};

use crate::Fr;
use crate::request::ClientRequest;
use crate::statement::job_binding;

/// Every ownership job id starts with this; workers never mint one.
pub const OWNERSHIP_JOB_PREFIX: &str = "zkworker-ownership/";

/// The job an owner proves to show it holds a model's proving key: id
/// `zkworker-ownership/<model id>`, the owner as the worker, no nonce.
pub fn ownership_job(model_id: &str, owner: &str) -> Job {
    Job {
        job_id: format!("{OWNERSHIP_JOB_PREFIX}{model_id}"),
        worker_id: owner.to_string(),
        client_nonce: String::new(),
        request: None,
    }
}

/// Whether a job id is an ownership job's (never a client's job).
pub fn is_ownership_job(job_id: &str) -> bool {
    job_id.starts_with(OWNERSHIP_JOB_PREFIX)
}

/// Who asked for a proof, and who makes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Job {
    /// The job's id.
    pub job_id: String,
    /// The worker's id (a worker daemon's ed25519 public key, hex).
    pub worker_id: String,
    /// The client's nonce.
    pub client_nonce: String,
    /// The client's signed request, if it signed one: the only job a venue pays.
    pub request: Option<ClientRequest>,
}

impl Job {
    /// The job binding public input: SHA-256 of the fields and the request's digest,
    /// length-prefixed ([`job_binding`]).
    pub fn binding(&self) -> Fr {
        job_binding(
            &self.job_id,
            &self.worker_id,
            &self.client_nonce,
            self.request.as_ref().map(|r| r.digest()).as_ref(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_binding_is_the_statements() {
        let j = Job {
            job_id: "j".into(),
            worker_id: "w".into(),
            client_nonce: "n".into(),
            request: None,
        };
        assert_eq!(j.binding(), job_binding("j", "w", "n", None));
    }
}
