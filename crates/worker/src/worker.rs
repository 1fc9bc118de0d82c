//! The worker's operations, independent of gRPC: submit, look up, cancel, watch, fetch a
//! receipt, list and reload models. [`crate::grpc`] is a thin translation of these.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::broadcast;
use zkw_model::input::quantize_input_exact;
use zkw_model::{Executor, TensorInfo};
use zkw_verifier::digest::input_digest;
use zkw_verifier::field::fr_to_hex;
use zkw_verifier::receipt::MAX_ID_BYTES;
use zkw_verifier::{ClientRequest, InputSalt, WorkerKey};

use crate::config::WorkerConfig;
use crate::error::WorkerError;
use crate::job::{CancelOutcome, JobRecord, JobState, new_job_id, now_ms};
use crate::metrics;
use crate::models::{LoadReport, ModelStore, ServedModel};
use crate::queue::JobQueue;
use crate::store::{JobStore, Submitted as StoreSubmitted};

/// The longest idempotency key, in bytes.
pub const MAX_IDEMPOTENCY_KEY: usize = 128;

/// A state change, as watchers see it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobEvent {
    /// The job.
    pub job_id: String,
    /// The state it entered.
    pub state: JobState,
    /// When.
    pub at_unix_ms: i64,
    /// Why, or what happened.
    pub detail: String,
}

impl JobEvent {
    /// The event of a job's current state.
    pub fn of(job: &JobRecord) -> Self {
        let last = job.history.last();
        JobEvent {
            job_id: job.job_id.clone(),
            state: job.state,
            at_unix_ms: last.map_or_else(now_ms, |t| t.at_unix_ms),
            detail: last.map(|t| t.detail.clone()).unwrap_or_default(),
        }
    }
}

/// A job submission.
#[derive(Debug, Clone, Default)]
pub struct Submit {
    /// The model.
    pub model_id: String,
    /// The input values as the ONNX graph takes them.
    pub input: Vec<f64>,
    /// The client's nonce.
    pub client_nonce: String,
    /// The client's salt (31 bytes), or empty for one drawn by the worker.
    pub input_salt: Vec<u8>,
    /// Digest the input without a salt (only with an empty `input_salt`).
    pub unsalted: bool,
    /// A key that makes repeated submits return the same job.
    pub idempotency_key: Option<String>,
    /// The client's signed request for this job (its signature checked when parsed): it must
    /// name this model, nonce and input digest, so the client gives the salt it signed.
    pub request: Option<ClientRequest>,
}

/// What a submit returns.
#[derive(Debug, Clone)]
pub struct Submitted {
    /// The job (as stored).
    pub job: JobRecord,
    /// True when the idempotency key named an existing job.
    pub existing: bool,
}

/// Everything the service and the pipeline share.
pub struct Worker {
    pub(crate) config: WorkerConfig,
    pub(crate) store: JobStore,
    pub(crate) queue: Arc<JobQueue>,
    pub(crate) models: ModelStore,
    pub(crate) executor: Arc<dyn Executor>,
    pub(crate) key: WorkerKey,
    pub(crate) events: broadcast::Sender<JobEvent>,
    pub(crate) stopping: AtomicBool,
    /// Set when the worker stops; watch streams end on it.
    pub(crate) stop: tokio::sync::watch::Sender<bool>,
    /// Why the worker had to stop, if it did not choose to.
    pub(crate) fatal: std::sync::Mutex<Option<String>>,
    /// The largest message accepted now: it follows the served models' inputs
    /// ([`crate::admission::message_cap`]), set at every (re)load.
    pub(crate) message_cap: Arc<std::sync::atomic::AtomicUsize>,
}

fn printable(what: &str, s: &str, max: usize) -> Result<(), WorkerError> {
    zkw_verifier::record::check_printable(what, s, max).map_err(WorkerError::BadRequest)
}

fn check_job_id(id: &str) -> Result<(), WorkerError> {
    crate::job::check_job_id(id).map_err(|e| WorkerError::BadRequest(e.into()))
}

/// A model id is 64 lower-case hex digits (blake3 of the model file).
fn check_model_id(id: &str) -> Result<(), WorkerError> {
    if zkw_verifier::record::is_digest_hex(id) {
        Ok(())
    } else {
        Err(WorkerError::BadRequest(
            "a model id is 64 lower-case hex digits (see ListModels)".into(),
        ))
    }
}

/// Checks a float input against the model's input format and quantizes it, refusing a value
/// that would saturate; the errors name the first offending value.
fn quantize(info: &TensorInfo, x: &[f64]) -> Result<Vec<i64>, WorkerError> {
    quantize_input_exact(info, x).map_err(|e| WorkerError::BadRequest(e.to_string()))
}

impl Worker {
    /// The worker's id (its public key).
    pub fn worker_id(&self) -> String {
        self.key.worker_id()
    }

    /// What runs the models.
    pub fn backend(&self) -> String {
        self.executor.name()
    }

    /// The settings.
    pub fn config(&self) -> &WorkerConfig {
        &self.config
    }

    /// Whether the worker is stopping (draining, or after a fatal error).
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }

    /// Begins stopping: no new jobs, no new work, watch streams end.
    pub(crate) fn begin_stop(&self) {
        self.stopping.store(true, Ordering::Relaxed);
        self.queue.close();
        // `send_replace`, not `send`: `send` keeps the old value when nobody is subscribed yet,
        // so a fatal error before the first `failed()` call was lost and the process stayed
        // up, answering SERVING, unable to work (a zombie no supervisor restarts).
        self.stop.send_replace(true);
    }

    /// Stops the worker because it cannot go on (its store failed, a pipeline task died):
    /// better a restart, which recovers every job, than a worker that accepts jobs it cannot
    /// run.
    pub(crate) fn fail_fatally(&self, why: String) {
        tracing::error!("the worker must stop: {why}");
        self.fatal
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert(why);
        self.begin_stop();
    }

    /// Why the worker had to stop, if it did.
    pub fn failure(&self) -> Option<String> {
        self.fatal.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Changes to `true` when the worker stops.
    pub fn stop_signal(&self) -> tokio::sync::watch::Receiver<bool> {
        self.stop.subscribe()
    }

    pub(crate) fn emit(&self, job: &JobRecord) {
        let previous = job.history.iter().rev().nth(1).map(|t| t.state);
        metrics::job_moved(previous, job.state);
        // No watcher is not an error.
        let _ = self.events.send(JobEvent::of(job));
    }

    /// Accepts a job: validated, stored, then queued. Refused with RESOURCE_EXHAUSTED when the
    /// queue is full (never stored then). A repeated submit with the same idempotency key and
    /// the same request returns the first job; with another request it is refused.
    pub fn submit(&self, s: Submit) -> Result<Submitted, WorkerError> {
        if self.is_stopping() {
            return Err(WorkerError::ShuttingDown);
        }
        check_model_id(&s.model_id)?;
        printable("the client nonce", &s.client_nonce, MAX_ID_BYTES)?;
        if let Some(key) = &s.idempotency_key {
            printable("the idempotency key", key, MAX_IDEMPOTENCY_KEY)?;
        }
        let model = self
            .models
            .get(&s.model_id)
            .ok_or_else(|| WorkerError::UnknownModel(s.model_id.clone()))?;
        let record = model.prover.record();
        let info = &model.prover.model().input_info();
        let input = quantize(info, &s.input)?;
        let given: Option<[u8; 31]> = match (s.input_salt.len(), s.unsalted) {
            (0, _) => None,
            (31, false) => {
                let salt: [u8; 31] = s
                    .input_salt
                    .as_slice()
                    .try_into()
                    .map_err(|_| WorkerError::Internal("salt length".into()))?;
                if salt == [0; 31] {
                    return Err(WorkerError::BadRequest(
                        "an all-zero input salt is no salt: send a random one, or unsalted".into(),
                    ));
                }
                Some(salt)
            }
            (_, true) => {
                return Err(WorkerError::BadRequest(
                    "unsalted contradicts the input salt given: send one or the other".into(),
                ));
            }
            (n, false) => {
                return Err(WorkerError::BadRequest(format!(
                    "the input salt has {n} bytes, expected 31"
                )));
            }
        };
        // What makes two submits "the same request" for an idempotency key.
        let fingerprint = {
            let mut h = blake3::Hasher::new_derive_key("zkworker 2026-11 submit fingerprint v1");
            h.update(s.model_id.as_bytes());
            h.update(&[0]);
            h.update(s.client_nonce.as_bytes());
            h.update(&[0]);
            match (&given, s.unsalted) {
                (Some(salt), _) => h.update(b"salt").update(salt),
                (None, true) => h.update(b"unsalted"),
                (None, false) => h.update(b"drawn"),
            };
            match &s.request {
                Some(rq) => h.update(b"request").update(&rq.digest()),
                None => h.update(b"no request"),
            };
            for v in &input {
                h.update(&v.to_le_bytes());
            }
            h.finalize().to_hex().to_string()
        };
        if let Some(key) = &s.idempotency_key
            && let Some(job) = self.store.by_idempotency_key(key, &fingerprint)?
        {
            return Ok(Submitted {
                job,
                existing: true,
            });
        }
        let salt = match (given, s.unsalted) {
            (Some(salt), _) => InputSalt::from_bytes(salt),
            (None, true) => InputSalt::UNSALTED,
            (None, false) => {
                let mut b = [0u8; 31];
                getrandom::fill(&mut b)
                    .map_err(|e| WorkerError::Internal(format!("no OS randomness: {e}")))?;
                InputSalt::from_bytes(b)
            }
        };
        let digest = input_digest(&input, record.input.bits, &salt)
            .map_err(|e| WorkerError::BadRequest(format!("input {e}")))?;
        if let Some(rq) = &s.request {
            check_request(
                rq,
                &s.model_id,
                &s.client_nonce,
                &digest,
                given.is_none() && !s.unsalted,
            )?;
            // With a registry the worker knows the model's terms: a request no venue would pay
            // is refused before anything is proved for it.
            if let Some(why) = self.models.unpayable(&s.model_id, rq) {
                return Err(WorkerError::BadRequest(format!(
                    "the client request {why}: no venue would pay the job"
                )));
            }
        }
        let reservation = self.queue.try_reserve().ok_or(WorkerError::QueueFull {
            max: self.queue.max(),
        })?;
        let job = JobRecord {
            job_id: new_job_id()
                .map_err(|e| WorkerError::Internal(format!("no OS randomness: {e}")))?,
            model_id: s.model_id,
            seq: 0,
            input_salt: salt.to_hex(),
            input_digest: fr_to_hex(&digest),
            client_nonce: s.client_nonce,
            worker_id: self.worker_id(),
            request: s.request,
            idempotency_key: s.idempotency_key,
            state: JobState::Queued,
            history: Vec::new(),
            attempts: 0,
            error: None,
            cancel_requested: false,
            charged: false,
            batched: false,
            alone: false,
        };
        match self.store.submit(job.accept(), &input, &fingerprint)? {
            StoreSubmitted::New(job) => {
                reservation.push(job.job_id.clone());
                metrics::queue_depth(self.queue.len());
                self.emit(&job);
                tracing::info!(job_id = %job.job_id, model = %job.model_id, queued = self.queue.len(), "job accepted");
                Ok(Submitted {
                    job,
                    existing: false,
                })
            }
            StoreSubmitted::Existing(job) => Ok(Submitted {
                job,
                existing: true,
            }),
        }
    }

    /// A job.
    pub fn job(&self, job_id: &str) -> Result<JobRecord, WorkerError> {
        check_job_id(job_id)?;
        self.store
            .get(job_id)?
            .ok_or_else(|| WorkerError::UnknownJob(job_id.to_string()))
    }

    /// Cancels a job: at once when queued; when running or proving, its result is dropped
    /// when it comes. A job that has ended is returned as it is.
    pub fn cancel(&self, job_id: &str) -> Result<JobRecord, WorkerError> {
        check_job_id(job_id)?;
        let mut cancelled = false;
        let job = self.store.update(job_id, |j| match j.request_cancel() {
            CancelOutcome::Cancelled => {
                cancelled = true;
                true
            }
            CancelOutcome::Requested => true,
            CancelOutcome::Unchanged => false,
        })?;
        if cancelled {
            // Its place in the queue is free again.
            self.queue.remove(job_id);
            metrics::queue_depth(self.queue.len());
            self.emit(&job);
        }
        Ok(job)
    }

    /// A job's receipt (JSON).
    pub fn receipt(&self, job_id: &str) -> Result<String, WorkerError> {
        check_job_id(job_id)?;
        match self.store.receipt(job_id)? {
            Some(r) => Ok(r),
            None => {
                let job = self.job(job_id)?;
                match (job.state, job.error) {
                    // Salvaged from a damaged store without it (`zkw worker store salvage`).
                    (JobState::Succeeded, Some(why)) => Err(WorkerError::Damaged(format!(
                        "job {job_id} has no receipt: {why}"
                    ))),
                    (state, _) => Err(WorkerError::NoReceipt {
                        job_id: job_id.to_string(),
                        state,
                    }),
                }
            }
        }
    }

    /// A job's current state and a subscription to its later changes (subscribed first, so
    /// no change is missed between the two).
    pub fn watch(
        &self,
        job_id: &str,
    ) -> Result<(JobRecord, broadcast::Receiver<JobEvent>), WorkerError> {
        let rx = self.events.subscribe();
        Ok((self.job(job_id)?, rx))
    }

    /// The served models.
    pub fn models(&self) -> Vec<Arc<ServedModel>> {
        self.models.list()
    }

    /// Loads models added to the models directory.
    pub fn reload(&self) -> Result<LoadReport, WorkerError> {
        let mut report = self.models.reload()?;
        let worker_id = self.worker_id();
        let now = (crate::job::now_ms() / 1000).max(0) as u64;
        for m in self.models.list() {
            if report.added.iter().any(|id| id == m.id()) {
                metrics::key_load(m.id(), m.load_time);
                tracing::info!(model = %m.id(), dir = %m.dir.display(), load_ms = m.load_time.as_millis() as u64, "model loaded");
                if let Some(why) = self.models.unlicensed(m.id(), &worker_id, now) {
                    tracing::warn!(model = %m.id(), "its receipts will verify but not settle: {why}");
                    report.unlicensed.push((m.id().to_string(), why));
                }
            }
        }
        for (dir, why) in &report.failed {
            tracing::warn!(dir = %dir.display(), "model not loaded: {why}");
        }
        let largest = self
            .models
            .list()
            .iter()
            .map(|m| m.prover.record().input.shape.iter().product::<usize>())
            .max()
            .unwrap_or(0);
        let cap = crate::admission::message_cap(largest);
        self.message_cap
            .store(cap, std::sync::atomic::Ordering::Relaxed);
        Ok(report)
    }
}

/// Whether a client's signed request is the one for this submission: its model, nonce and
/// input digest (which needs the salt the client signed with, never one the worker draws).
/// The signature was checked when the request was parsed.
fn check_request(
    rq: &ClientRequest,
    model_id: &str,
    client_nonce: &str,
    digest: &zkw_verifier::Fr,
    salt_drawn: bool,
) -> Result<(), WorkerError> {
    let bad = |reason: String| WorkerError::BadRequest(format!("the client request {reason}"));
    if rq.model_id() != model_id {
        return Err(bad(format!(
            "is for model {}, the job for model {model_id}",
            rq.model_id()
        )));
    }
    if rq.client_nonce() != client_nonce {
        return Err(bad(format!(
            "has nonce {:?}, the job {client_nonce:?}",
            rq.client_nonce()
        )));
    }
    if salt_drawn {
        return Err(bad(
            "signs an input digest, which needs the client's own salt: send the salt it was \
             made with (or unsalted)"
                .into(),
        ));
    }
    if rq.input_digest() != *digest {
        return Err(bad(format!(
            "signs input digest {}, the input sent has digest {}",
            fr_to_hex(&rq.input_digest()),
            fr_to_hex(digest)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> TensorInfo {
        TensorInfo {
            shape: vec![3],
            frac_bits: 4,
            bits: 8,
        }
    }

    #[test]
    fn inputs_are_checked_value_by_value() {
        assert_eq!(
            quantize(&info(), &[0.5, -1.0, 7.9375]).unwrap(),
            [8, -16, 127]
        );
        let err = |x: &[f64]| quantize(&info(), x).unwrap_err().to_string();
        assert_eq!(
            err(&[1.0]),
            "the input has 1 values, the model expects 3 (shape [3])"
        );
        assert_eq!(
            err(&[0.0, f64::NAN, 0.0]),
            "input value #1 is not a finite number (NaN)"
        );
        assert!(err(&[0.0, 0.0, 8.0]).starts_with("input value #2 = 8 is outside"));
        assert!(err(&[-8.1, 0.0, 0.0]).contains("[-8, 7.9375]"));
        assert!(quantize(&info(), &[-8.0, 0.0, 7.96]).is_ok());
    }

    #[test]
    fn strings_must_be_printable_and_short() {
        assert!(printable("n", "abc-123", 10).is_ok());
        let e = printable("the client nonce", "a\nb", 10)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "the client nonce has a byte outside printable ASCII at offset 1"
        );
        let e = printable("k", "abcdef", 3).unwrap_err().to_string();
        assert_eq!(e, "k has 6 bytes, at most 3 are allowed");
    }
}
