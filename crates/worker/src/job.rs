//! A job as the worker keeps it: what was asked, where it stands, and how it got there.
//!
//! States run `Queued → Running → Proving → Succeeded | Failed | Cancelled`; a job that fails
//! transiently (or whose worker died under it) goes back to `Queued` until it has been started
//! [`crate::config::WorkerConfig::max_attempts`] times. Every transition is recorded with its
//! time, and the record is persisted ([`crate::store`]) before anything is acknowledged.
//!
//! The lifecycle lives here, as typed transitions on [`JobRecord`] — [`JobRecord::start`],
//! [`JobRecord::charge`], [`JobRecord::take_for_proving`], [`JobRecord::succeed`],
//! [`JobRecord::fail`], [`JobRecord::retry_or_fail`], [`JobRecord::resume`],
//! [`JobRecord::request_cancel`], [`JobRecord::abandon`] — each the whole rule for its step,
//! tested below without a store or a runtime. A job that has ended never changes (salvage's
//! restores aside, which it applies to unfinished jobs only); a client's cancel wins over every
//! outcome but a job that cannot go on ([`JobRecord::abandon`], and so spent attempts). The
//! steps the pipeline takes only from `Running` ([`JobRecord::charge`],
//! [`JobRecord::join_batch`], [`JobRecord::take_for_proving`]) change nothing from any other
//! state. The pipeline, the store and salvage only orchestrate: they persist what these return.
//!
//! **The attempt rule.** An attempt is counted (`attempts`) and marked (`charged`) when it
//! starts: at inference for a job run alone, when a prover takes it for a job run in a batch
//! (a batch that crashes the process must not blame its innocent members; its jobs are
//! `batched` before it runs and resume `alone`). A start with `max_attempts` spent fails the
//! job instead: a job that crashes the worker exhausts its own attempts.

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

/// What a client's cancel did ([`JobRecord::request_cancel`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// It was queued: cancelled now (its queue place is free).
    Cancelled,
    /// It is running or proving: its result will be dropped when it comes.
    Requested,
    /// Nothing changed: it had ended, or a cancel was asked already.
    Unchanged,
}

/// The detail of a cancel's transition.
pub const CANCELLED_BY_CLIENT: &str = "cancelled by the client";

impl JobRecord {
    /// Records the entry into `state` with the time and `detail`: the one place a state
    /// changes, reached only through the typed transitions below.
    fn enter(&mut self, state: JobState, detail: impl Into<String>) {
        self.state = state;
        self.history.push(Transition {
            state,
            at_unix_ms: now_ms(),
            detail: detail.into(),
        });
    }

    /// Ends the job cancelled when a client asked; whether it did.
    fn cancel_if_requested(&mut self) -> bool {
        if self.cancel_requested {
            self.enter(JobState::Cancelled, CANCELLED_BY_CLIENT);
        }
        self.cancel_requested
    }

    /// A new job enters the queue (its first history entry).
    pub fn accept(mut self) -> Self {
        self.enter(JobState::Queued, "");
        self
    }

    /// → Running: the executor takes a queued job. Cancelled instead when a client asked, failed
    /// when `max_attempts` starts are spent already (the worker died under it that often).
    /// The new state; an ended job stays as it is.
    pub fn start(&mut self, max_attempts: u32) -> JobState {
        if !self.state.is_terminal()
            && !self.cancel_if_requested()
            && !self.fail_if_spent(max_attempts)
        {
            self.enter(JobState::Running, "");
        }
        self.state
    }

    /// Counts a job's attempt when it runs alone, before its model runs (so that a crash in the
    /// executor counts), unless counted already; fails it when its attempts are spent. Whether
    /// it is still running.
    pub fn charge(&mut self, max_attempts: u32) -> bool {
        if self.state == JobState::Running && !self.charged && !self.fail_if_spent(max_attempts) {
            self.attempts += 1;
            self.charged = true;
        }
        self.state == JobState::Running
    }

    /// Marks a job about to run in a batch: not charged then; if the batch ends with the
    /// process, the job resumes alone ([`JobRecord::resume`]).
    pub fn join_batch(&mut self) {
        if self.state == JobState::Running {
            self.batched = true;
        }
    }

    /// Running → Proving: a prover takes it, and a batched job's attempt starts here.
    /// Cancelled instead when a client asked. Whether it is proving.
    pub fn take_for_proving(&mut self) -> bool {
        if self.state != JobState::Running || self.cancel_if_requested() {
            return false;
        }
        if !self.charged {
            self.attempts += 1;
            self.charged = true;
        }
        self.enter(JobState::Proving, "");
        true
    }

    /// → Succeeded (a proved job), its receipt stored with it; cancelled instead when a client
    /// asked meanwhile.
    /// Whether it succeeded; an ended job stays as it is (never twice).
    pub fn succeed(&mut self) -> bool {
        if self.state.is_terminal() || self.cancel_if_requested() {
            return false;
        }
        self.error = None;
        self.enter(JobState::Succeeded, "");
        true
    }

    /// Ends the job for good with `reason` (cancelled instead when a client asked).
    pub fn fail(&mut self, reason: &str) {
        if self.state.is_terminal() {
            return;
        }
        self.error = Some(reason.to_string());
        if !self.cancel_if_requested() {
            self.enter(JobState::Failed, reason);
        }
    }

    /// Fails the job whatever a client asked: it cannot go on (its record or input was
    /// damaged, it was accepted under another worker key).
    pub fn abandon(&mut self, reason: &str) {
        if self.state.is_terminal() {
            return;
        }
        self.error = Some(reason.to_string());
        self.enter(JobState::Failed, reason);
    }

    /// After a transient failure: back to the queue, or failed when `max_attempts` are used
    /// (cancelled when a client asked). The failed attempt counts: charged when it started,
    /// or now. The new state.
    pub fn retry_or_fail(&mut self, reason: &str, max_attempts: u32) -> JobState {
        if self.state.is_terminal() {
            return self.state;
        }
        if !self.charged {
            self.attempts += 1;
        }
        self.charged = false;
        self.batched = false;
        self.error = Some(reason.to_string());
        if self.cancel_if_requested() {
        } else if self.attempts >= max_attempts {
            let why = format!("gave up after {} attempts: {reason}", self.attempts);
            self.enter(JobState::Failed, why);
        } else {
            self.enter(JobState::Queued, format!("retrying after: {reason}"));
        }
        self.state
    }

    /// Fails a job that has used its `max_attempts` (each start charged, the worker stopped or
    /// crashed under it), keeping the reason; whether it did.
    fn fail_if_spent(&mut self, max_attempts: u32) -> bool {
        if self.attempts < max_attempts {
            return false;
        }
        let reason = format!(
            "started {} times without finishing (the worker stopped or crashed under it)",
            self.attempts
        );
        self.abandon(&reason);
        true
    }

    /// After a restart, a job that was running or proving goes back to the queue; one whose
    /// batch's run ended with the process runs alone from now on.
    pub fn resume(&mut self) {
        let was = self.state;
        if !matches!(was, JobState::Running | JobState::Proving) {
            return;
        }
        let alone = was == JobState::Running && self.batched;
        self.alone |= alone;
        self.batched = false;
        self.charged = false;
        self.enter(
            JobState::Queued,
            if alone {
                format!("resumed after a restart (was {was}, in a batch: it runs alone now)")
            } else {
                format!("resumed after a restart (was {was})")
            },
        );
    }

    /// A client's cancel: a queued job ends now; a running or proving one is marked, and its
    /// result is dropped when it comes.
    pub fn request_cancel(&mut self) -> CancelOutcome {
        match self.state {
            JobState::Queued => {
                self.enter(JobState::Cancelled, CANCELLED_BY_CLIENT);
                CancelOutcome::Cancelled
            }
            JobState::Running | JobState::Proving if !self.cancel_requested => {
                self.cancel_requested = true;
                CancelOutcome::Requested
            }
            _ => CancelOutcome::Unchanged,
        }
    }

    /// Salvage found this job's receipt: it had succeeded (receipt and state are stored in
    /// one transaction).
    pub fn restore_succeeded(&mut self) {
        if !self.state.is_terminal() {
            self.enter(
                JobState::Succeeded,
                "restored by salvage: its receipt was found",
            );
        }
    }

    /// Salvage restored this job from the file's bytes: the same state, entered again with
    /// why (it runs again, and may have ended before).
    pub fn restore_carved(&mut self) {
        let state = self.state;
        self.enter(
            state,
            "restored by salvage from the file's bytes: it runs again (it may have ended before)",
        );
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

    /// A fresh queued job.
    fn queued() -> JobRecord {
        crate::store::tests::job(&"a".repeat(32), None)
    }

    fn states(j: &JobRecord) -> Vec<JobState> {
        j.history.iter().map(|t| t.state).collect()
    }

    #[test]
    fn the_happy_path_alone_is_charged_at_inference_once() {
        let mut j = queued();
        assert_eq!(j.start(3), JobState::Running);
        assert!(j.charge(3));
        assert!(j.charge(3), "charged once per attempt");
        assert_eq!((j.attempts, j.charged), (1, true));
        assert!(j.take_for_proving());
        assert_eq!(j.attempts, 1, "not charged again by the prover");
        assert!(j.succeed());
        assert_eq!(
            states(&j),
            [
                JobState::Queued,
                JobState::Running,
                JobState::Proving,
                JobState::Succeeded
            ]
        );
        // Never twice, and nothing moves an ended job.
        assert!(!j.succeed());
        j.fail("late");
        j.abandon("late");
        assert_eq!(j.retry_or_fail("late", 3), JobState::Succeeded);
        assert_eq!(j.start(3), JobState::Succeeded);
        assert_eq!(j.request_cancel(), CancelOutcome::Unchanged);
        assert_eq!(j.history.len(), 4);
        assert_eq!(j.error, None);
    }

    #[test]
    fn a_batched_job_is_charged_by_its_prover_and_resumes_alone() {
        let mut j = queued();
        j.start(3);
        j.join_batch();
        assert_eq!((j.attempts, j.charged, j.batched), (0, false, true));
        // The batch's run ends with the process: it resumes alone, not charged.
        j.resume();
        assert_eq!(j.state, JobState::Queued);
        assert!(j.alone && !j.batched && !j.charged);
        assert!(
            j.history
                .last()
                .unwrap()
                .detail
                .contains("it runs alone now")
        );
        // Batched again and taken by a prover: the attempt starts there.
        j.start(3);
        j.join_batch();
        assert!(j.take_for_proving());
        assert_eq!((j.attempts, j.charged), (1, true));
        // A proving job resumes, not alone (its inference was done).
        let mut p = queued();
        p.start(3);
        p.charge(3);
        p.take_for_proving();
        p.resume();
        assert_eq!(p.state, JobState::Queued);
        assert!(!p.alone && !p.charged);
        assert_eq!(
            p.history.last().unwrap().detail,
            "resumed after a restart (was proving)"
        );
        // A queued job has nothing to resume.
        let mut q = queued();
        q.resume();
        assert_eq!(q.history.len(), 1);
    }

    #[test]
    fn spent_attempts_fail_the_job_at_its_next_start() {
        let mut j = queued();
        for _ in 0..3 {
            assert_eq!(j.start(3), JobState::Running);
            assert!(j.charge(3));
            j.resume(); // the worker died under it
        }
        assert_eq!(j.attempts, 3);
        assert_eq!(j.start(3), JobState::Failed);
        assert_eq!(
            j.error.as_deref(),
            Some("started 3 times without finishing (the worker stopped or crashed under it)")
        );
        // Spent while running (a charge at the limit) fails too, even with a cancel asked:
        // a job that cannot go on ends failed.
        let mut k = queued();
        k.start(3);
        k.attempts = 3;
        k.cancel_requested = true;
        assert!(!k.charge(3));
        assert_eq!(k.state, JobState::Failed);
    }

    #[test]
    fn transient_failures_requeue_until_the_attempts_are_used() {
        let mut j = queued();
        j.start(2);
        j.charge(2);
        assert_eq!(j.retry_or_fail("disk", 2), JobState::Queued);
        assert_eq!((j.attempts, j.charged), (1, false));
        assert_eq!(j.history.last().unwrap().detail, "retrying after: disk");
        // Not charged when it failed (a batched job before its prover): counted now.
        j.start(2);
        j.join_batch();
        assert_eq!(j.retry_or_fail("disk", 2), JobState::Failed);
        assert_eq!(j.attempts, 2);
        assert!(!j.batched);
        assert_eq!(
            j.history.last().unwrap().detail,
            "gave up after 2 attempts: disk"
        );
        assert_eq!(j.error.as_deref(), Some("disk"));
    }

    #[test]
    fn a_clients_cancel_wins_over_every_outcome_but_abandonment() {
        // Queued: at once.
        let mut j = queued();
        assert_eq!(j.request_cancel(), CancelOutcome::Cancelled);
        assert_eq!(j.state, JobState::Cancelled);
        assert_eq!(j.history.last().unwrap().detail, CANCELLED_BY_CLIENT);
        // Running or proving: marked once; then the next step cancels instead.
        let outcome = |step: &dyn Fn(&mut JobRecord)| {
            let mut j = queued();
            j.start(3);
            j.charge(3);
            assert_eq!(j.request_cancel(), CancelOutcome::Requested);
            assert_eq!(j.request_cancel(), CancelOutcome::Unchanged);
            step(&mut j);
            j
        };
        for j in [
            outcome(&|j| assert!(!j.take_for_proving())),
            outcome(&|j| assert!(!j.succeed())),
            outcome(&|j| j.fail("boom")),
            outcome(&|j| assert_eq!(j.retry_or_fail("disk", 3), JobState::Cancelled)),
            outcome(&|j| {
                j.resume();
                assert_eq!(j.start(3), JobState::Cancelled)
            }),
        ] {
            assert_eq!(j.state, JobState::Cancelled, "{:?}", states(&j));
        }
        // A job that cannot go on fails whatever was asked.
        let j = outcome(&|j| j.abandon("its input was lost"));
        assert_eq!(j.state, JobState::Failed);
        assert_eq!(j.error.as_deref(), Some("its input was lost"));
    }

    #[test]
    fn salvage_restores_with_its_reason() {
        let mut j = queued();
        j.start(3);
        j.restore_carved();
        assert_eq!(j.state, JobState::Running);
        assert!(
            j.history
                .last()
                .unwrap()
                .detail
                .starts_with("restored by salvage from the file's bytes")
        );
        j.restore_succeeded();
        assert_eq!(j.state, JobState::Succeeded);
        assert_eq!(
            j.history.last().unwrap().detail,
            "restored by salvage: its receipt was found"
        );
    }

    #[test]
    fn steps_taken_only_from_running_change_nothing_elsewhere() {
        let queued = queued();
        let mut proving = queued.clone();
        proving.start(3);
        proving.take_for_proving();
        for j in [queued, proving] {
            let mut k = j.clone();
            k.join_batch();
            assert!(!k.charge(3));
            assert!(!k.take_for_proving());
            assert_eq!(k, j, "{:?} changed", j.state);
        }
    }

    #[test]
    fn at_a_start_a_cancel_wins_over_spent_attempts() {
        let mut j = queued();
        j.attempts = 3;
        j.cancel_requested = true;
        assert_eq!(j.start(3), JobState::Cancelled);
        assert_eq!(j.error, None);
        // A failure of a cancelled job keeps its reason.
        let mut k = queued();
        k.start(3);
        k.request_cancel();
        k.fail("boom");
        assert_eq!(
            (k.state, k.error.as_deref()),
            (JobState::Cancelled, Some("boom"))
        );
    }
}
