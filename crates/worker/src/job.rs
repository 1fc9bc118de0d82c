//! A job as the worker keeps it: what was asked, where it stands, and how it got there.
//!
//! States run `Queued → Running → Proving → Succeeded | Failed | Cancelled`; a job that fails
//! transiently (or whose worker died under it) goes back to `Queued` until it has been started
//! [`crate::config::WorkerConfig::max_attempts`] times. Every transition is recorded with its
//! time, and the record is persisted ([`crate::store`]) before anything is acknowledged.

use serde::{Deserialize, Serialize};
use zkw_verifier::{ClientRequest, InputSalt, Job};

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum JobState {
    /// Accepted, waiting for the executor.
    Queued,
    /// The executor is running the model.
    Running,
    /// The trace is being proved.
    Proving,
    /// Proved; the receipt is stored.
    Succeeded,
    /// Failed for good.
    Failed,
    /// Cancelled by a client.
    Cancelled,
}

impl JobState {
    /// Every state, in order.
    pub const ALL: [JobState; 6] = [
        JobState::Queued,
        JobState::Running,
        JobState::Proving,
        JobState::Succeeded,
        JobState::Failed,
        JobState::Cancelled,
    ];

    /// Whether the job has ended.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobState::Succeeded | JobState::Failed | JobState::Cancelled
        )
    }

    /// A rough fraction of the work done, for progress displays.
    pub fn progress(self) -> f64 {
        match self {
            JobState::Queued => 0.0,
            JobState::Running => 0.1,
            JobState::Proving => 0.3,
            _ => 1.0,
        }
    }

    /// Lower-case name, for logs and metrics labels.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Proving => "proving",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }
}

impl std::fmt::Display for JobState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of a job's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// The state entered.
    pub state: JobState,
    /// When, in milliseconds since the Unix epoch.
    pub at_unix_ms: i64,
    /// Why, or what happened (empty for the ordinary path).
    pub detail: String,
}

/// A job as persisted (its input is stored apart: see [`crate::store`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRecord {
    /// The job's id (random, 128 bits, hex).
    pub job_id: String,
    /// The model.
    pub model_id: String,
    /// Submission order (recovery resumes jobs in it).
    pub seq: u64,
    /// The input salt, hex (31 bytes).
    pub input_salt: String,
    /// The input digest the receipt will carry (hex field element).
    pub input_digest: String,
    /// The client's nonce.
    pub client_nonce: String,
    /// The worker that accepted the job (its public key).
    pub worker_id: String,
    /// The client's signed request, if it signed one (the only jobs a venue pays).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<ClientRequest>,
    /// The client's idempotency key, if it gave one.
    pub idempotency_key: Option<String>,
    /// Where the job stands.
    pub state: JobState,
    /// Every state entered, in order.
    pub history: Vec<Transition>,
    /// Times the job was started.
    pub attempts: u32,
    /// Why the job failed, or why its last attempt did.
    pub error: Option<String>,
    /// A client asked to cancel while the job was running or proving.
    pub cancel_requested: bool,
    /// The current attempt is charged (in `attempts`) already: when the job entered inference
    /// alone, or a prover took it. Cleared when the job goes back to the queue.
    #[serde(default)]
    pub charged: bool,
    /// The job entered inference as one of a batch (not charged then: a batch that crashes the
    /// process must not blame its innocent members).
    #[serde(default)]
    pub batched: bool,
    /// The job was in a batch whose run ended with the process: it runs alone from now on, so
    /// that a job that crashes the worker exhausts its own attempts.
    #[serde(default)]
    pub alone: bool,
}

impl JobRecord {
    /// Moves the job to `state`, recording the time and `detail`.
    pub fn transition(&mut self, state: JobState, detail: impl Into<String>) {
        self.state = state;
        self.history.push(Transition {
            state,
            at_unix_ms: now_ms(),
            detail: detail.into(),
        });
    }

    /// The job as the proof binds it.
    pub fn job(&self) -> Job {
        Job {
            job_id: self.job_id.clone(),
            worker_id: self.worker_id.clone(),
            client_nonce: self.client_nonce.clone(),
            request: self.request.clone(),
        }
    }

    /// The input salt.
    pub fn salt(&self) -> InputSalt {
        // Written by the worker from a checked salt; a corrupt record is a failed job.
        InputSalt::from_hex(&self.input_salt).unwrap_or(InputSalt::UNSALTED)
    }

    /// When the job entered its current state.
    pub fn since_ms(&self) -> i64 {
        self.history.last().map_or(0, |t| t.at_unix_ms)
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A fresh job id: 16 random bytes, hex.
pub fn new_job_id() -> Result<String, getrandom::Error> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b)?;
    Ok(hex::encode(b))
}

/// Whether `id` could be a job id this worker handed out ([`new_job_id`]: 32 lower-case hex
/// digits); anything else is refused without being echoed.
pub fn check_job_id(id: &str) -> Result<(), &'static str> {
    if id.len() == 32 && zkw_verifier::record::is_lower_hex(id) {
        Ok(())
    } else {
        Err("a job id is 32 lower-case hex digits")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_job_ids_are_the_only_ones_accepted() {
        let id = new_job_id().unwrap();
        assert_eq!(check_job_id(&id), Ok(()));
        for bad in [
            "",
            "abc",
            &id.to_uppercase(),
            &format!("{id}0"),
            &id[1..],
            &id.replace(&id[..1], "g"),
        ] {
            assert_eq!(
                check_job_id(bad),
                Err("a job id is 32 lower-case hex digits"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn terminal_states_and_progress() {
        let terminal: Vec<_> = JobState::ALL.iter().filter(|s| s.is_terminal()).collect();
        assert_eq!(
            terminal,
            [
                &JobState::Succeeded,
                &JobState::Failed,
                &JobState::Cancelled
            ]
        );
        assert!(
            JobState::ALL
                .windows(2)
                .take(3)
                .all(|w| w[0].progress() < w[1].progress())
        );
        assert_eq!(JobState::Proving.to_string(), "proving");
        let a = new_job_id().unwrap();
        assert_eq!(a.len(), 32);
        assert_ne!(a, new_job_id().unwrap());
    }
}
