//! The pipeline: queued jobs through the executor, then the prover, overlapped.
//!
//! One task takes jobs from the queue and runs the model (on the blocking pool: the executor is
//! synchronous); `proofs` tasks prove the traces it hands over through a channel of `proofs`
//! places — so the inference of the next job overlaps the proof of the current one, and at
//! most `2 · proofs` traces wait in memory. Proving runs on tokio's blocking pool (arkworks
//! spreads each proof over rayon's), never on the async runtime's threads.
//!
//! Every state change is persisted before the next step. A job whose attempt fails
//! transiently (a panic, an I/O or self-check failure) goes back in the queue until it has been
//! started `max_attempts` times; one whose input the model refuses fails at once. After a
//! crash, the jobs left queued, running or proving resume from the queue
//! ([`recover`]); a job started `max_attempts` times without finishing — say, one that kills
//! the worker — fails instead of looping.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinHandle;
use tracing::{Instrument, info, info_span, warn};
use zkw_model::Trace;
use zkw_prover::ProverError;

use crate::error::WorkerError;
use crate::job::{JobRecord, JobState};
use crate::metrics;
use crate::models::ServedModel;
use crate::store::Finish;
use crate::worker::Worker;

/// A job whose trace awaits its proof.
struct ToProve {
    job: JobRecord,
    model: Arc<ServedModel>,
    trace: Trace,
}

/// The pipeline's tasks.
pub struct Pipeline {
    tasks: Vec<JoinHandle<()>>,
}

impl Pipeline {
    /// Starts the pipeline over the worker's queue.
    pub fn start(worker: Arc<Worker>) -> Pipeline {
        let proofs = worker.config.proofs.max(1);
        let (tx, rx) = mpsc::channel::<ToProve>(proofs);
        let rx = Arc::new(Mutex::new(rx));
        let mut tasks = vec![tokio::spawn(infer_loop(worker.clone(), tx))];
        for _ in 0..proofs {
            tasks.push(tokio::spawn(prove_loop(worker.clone(), rx.clone())));
        }
        Pipeline { tasks }
    }

    /// Waits for the pipeline to stop (after the queue is closed): the proofs under way
    /// finish and are stored; jobs still queued stay stored and resume on the next start.
    pub async fn join(self) {
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Puts every job a previous run left unfinished back in the queue, in submission order.
pub fn recover(worker: &Worker) -> Result<usize, WorkerError> {
    let jobs = worker.store.unfinished()?;
    let n = jobs.len();
    for job in jobs {
        let job = if job.state == JobState::Queued {
            job
        } else {
            let was = job.state;
            worker.store.update(&job.job_id, |j| {
                j.transition(
                    JobState::Queued,
                    format!("resumed after a restart (was {was})"),
                );
                true
            })?
        };
        info!(job_id = %job.job_id, attempts = job.attempts, "resuming job");
        worker.queue.push_recovered(job.job_id);
    }
    metrics::queue_depth(worker.queue.len());
    Ok(n)
}

/// Whether a proving error may go away on another attempt.
fn transient(e: &ProverError) -> bool {
    !matches!(e, ProverError::Model(_) | ProverError::Circuit(_))
}

/// Applies a change to a job that has not ended, persists it and tells the watchers;
/// `None` when the job had ended (nothing changes then) or could not be stored.
fn change(worker: &Worker, job_id: &str, f: impl FnOnce(&mut JobRecord)) -> Option<JobRecord> {
    let mut changed = false;
    let result = worker.store.update(job_id, |j| {
        if j.state.is_terminal() {
            return false;
        }
        f(j);
        changed = true;
        true
    });
    match result {
        Ok(job) if changed => {
            worker.emit(&job);
            Some(job)
        }
        Ok(_) => None,
        Err(e) => {
            warn!(%job_id, "could not record a state change: {e}");
            None
        }
    }
}

/// Ends a job for good.
fn fail(worker: &Worker, job_id: &str, reason: String) {
    warn!(%job_id, "job failed: {reason}");
    change(worker, job_id, |j| {
        j.error = Some(reason.clone());
        j.transition(JobState::Failed, reason);
    });
}

/// Requeues a job after a transient failure, or fails it when it has used its attempts.
fn retry_or_fail(worker: &Worker, job_id: &str, reason: String) {
    let max = worker.config.max_attempts;
    let job = change(worker, job_id, |j| {
        j.error = Some(reason.clone());
        if j.cancel_requested {
            j.transition(JobState::Cancelled, "cancelled by the client");
        } else if j.attempts >= max {
            j.transition(
                JobState::Failed,
                format!("gave up after {} attempts: {reason}", j.attempts),
            );
        } else {
            j.transition(JobState::Queued, format!("retrying after: {reason}"));
        }
    });
    if let Some(job) = job {
        warn!(%job_id, attempts = job.attempts, state = %job.state, "attempt failed: {reason}");
        if job.state == JobState::Queued {
            worker.queue.push_retry(job.job_id);
        }
    }
}

/// Marks a job running (one more attempt), or skips it: ended, cancelled, or out of
/// attempts (it was started that many times and never finished: the worker died under it).
fn start(worker: &Worker, job_id: &str) -> Result<(JobRecord, bool), WorkerError> {
    let max = worker.config.max_attempts;
    let mut changed = false;
    let job = worker.store.update(job_id, |j| {
        if j.state.is_terminal() {
            return false;
        }
        changed = true;
        if j.cancel_requested {
            j.transition(JobState::Cancelled, "cancelled by the client");
        } else if j.attempts >= max {
            let reason = format!(
                "started {} times without finishing (the worker stopped or crashed under it)",
                j.attempts
            );
            j.error = Some(reason.clone());
            j.transition(JobState::Failed, reason);
        } else {
            j.attempts += 1;
            j.transition(JobState::Running, "");
        }
        true
    })?;
    Ok((job, changed))
}

async fn infer_loop(worker: Arc<Worker>, tx: mpsc::Sender<ToProve>) {
    while let Some(job_id) = worker.queue.pop().await {
        metrics::queue_depth(worker.queue.len());
        let span = info_span!("job", %job_id);
        let next = infer(&worker, &job_id).instrument(span.clone()).await;
        if let Some(item) = next
            && tx.send(item).await.is_err()
        {
            break;
        }
    }
}

/// Runs one job's model; the trace to prove, or `None` when the job went elsewhere.
async fn infer(worker: &Arc<Worker>, job_id: &str) -> Option<ToProve> {
    let job = match start(worker, job_id) {
        Ok((job, true)) => job,
        // Ended while it waited (cancelled): nothing to do.
        Ok((_, false)) => return None,
        Err(e) => {
            warn!("cannot start the job: {e}");
            return None;
        }
    };
    worker.emit(&job);
    if job.state != JobState::Running {
        return None;
    }
    let Some(model) = worker.models.get(&job.model_id) else {
        fail(
            worker,
            job_id,
            format!("model {} is no longer served", job.model_id),
        );
        return None;
    };
    let t = Instant::now();
    let (executor, m, input) = (worker.executor.clone(), model.clone(), job.input.clone());
    let ran = tokio::task::spawn_blocking(move || executor.run(m.prover.model(), &input)).await;
    metrics::inference(t.elapsed());
    let trace = match ran {
        Ok(Ok(trace)) => trace,
        Ok(Err(e)) => {
            fail(worker, job_id, format!("the model refused the input: {e}"));
            return None;
        }
        Err(e) => {
            retry_or_fail(worker, job_id, format!("the executor panicked: {e}"));
            return None;
        }
    };
    info!(ms = t.elapsed().as_millis() as u64, executor = %worker.executor.name(), "inference done");
    let job = change(worker, job_id, |j| {
        if j.cancel_requested {
            j.transition(JobState::Cancelled, "cancelled by the client");
        } else {
            j.transition(JobState::Proving, "");
        }
    })?;
    (job.state == JobState::Proving).then_some(ToProve { job, model, trace })
}

async fn prove_loop(worker: Arc<Worker>, rx: Arc<Mutex<mpsc::Receiver<ToProve>>>) {
    loop {
        let next = rx.lock().await.recv().await;
        let Some(item) = next else { break };
        let span = info_span!("job", job_id = %item.job.job_id);
        prove(&worker, item).instrument(span).await;
    }
}

async fn prove(worker: &Arc<Worker>, item: ToProve) {
    let ToProve { job, model, trace } = item;
    let job_id = job.job_id.clone();
    let t = Instant::now();
    let (salt, binding) = (job.salt(), job.job());
    let proved =
        tokio::task::spawn_blocking(move || model.prover.prove_trace(trace, &salt, &binding)).await;
    metrics::prove(t.elapsed());
    let mut receipt = match proved {
        Ok(Ok(p)) => p.receipt,
        Ok(Err(e)) if transient(&e) => {
            retry_or_fail(worker, &job_id, e.to_string());
            return;
        }
        Ok(Err(e)) => {
            fail(worker, &job_id, e.to_string());
            return;
        }
        Err(e) => {
            retry_or_fail(worker, &job_id, format!("the prover panicked: {e}"));
            return;
        }
    };
    if receipt.input_digest != job.input_digest {
        // The prover digested another input than the one accepted: never hand that out.
        fail(
            worker,
            &job_id,
            "internal error: the proof's input digest is not the job's".into(),
        );
        return;
    }
    worker.key.sign(&mut receipt);
    match worker.store.finish(&job_id, &receipt.to_json()) {
        Ok(Finish::Succeeded(job)) => {
            info!(ms = t.elapsed().as_millis() as u64, "proved");
            worker.emit(&job);
        }
        Ok(Finish::Cancelled(job)) => worker.emit(&job),
        Ok(Finish::AlreadyEnded(job)) => {
            warn!(state = %job.state, "the job had already ended; this proof is dropped");
        }
        Err(e) => retry_or_fail(worker, &job_id, format!("storing the receipt: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex as StdMutex;
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
    use std::time::Duration;

    use tokio::sync::broadcast;
    use zkw_model::{Dense, Model, ModelError, Op, Reference, Requantize, TensorInfo, WeightMode};
    use zkw_prover::{LocalProver, Proved, Prover};
    use zkw_verifier::{InputSalt, Job, ModelRecord, VerifierKey, WorkerKey};

    use super::*;
    use crate::config::WorkerConfig;
    use crate::models::ModelStore;
    use crate::queue::JobQueue;
    use crate::store::JobStore;
    use crate::worker::Submit;

    /// A prover that fails its first `failures` calls with `error`, and can be held at a gate.
    struct Flaky {
        inner: LocalProver,
        failures: AtomicU32,
        error: fn() -> ProverError,
        gate: Option<StdMutex<std::sync::mpsc::Receiver<()>>>,
    }

    impl Prover for Flaky {
        fn model(&self) -> &Model {
            self.inner.model()
        }
        fn record(&self) -> &ModelRecord {
            self.inner.record()
        }
        fn verifier_key(&self) -> &VerifierKey {
            self.inner.verifier_key()
        }
        fn prove_trace(
            &self,
            trace: Trace,
            salt: &InputSalt,
            job: &Job,
        ) -> Result<Proved, ProverError> {
            if let Some(gate) = &self.gate {
                let _ = gate.lock().unwrap().recv();
            }
            if self
                .failures
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |f| f.checked_sub(1))
                .is_ok()
            {
                return Err((self.error)());
            }
            self.inner.prove_trace(trace, salt, job)
        }
    }

    fn model() -> Model {
        Model {
            name: "tiny".into(),
            weight_mode: WeightMode::Fixed,
            input: TensorInfo {
                shape: vec![2],
                frac_bits: 0,
                bits: 8,
            },
            ops: vec![
                Op::Dense(Dense {
                    name: "fc".into(),
                    in_features: 2,
                    out_features: 1,
                    weights: vec![3, -2],
                    weight_bits: 8,
                    weight_frac_bits: 0,
                    bias: vec![5],
                    bias_bits: 12,
                }),
                Op::Requantize(Requantize { shift: 2, bits: 8 }),
            ],
            salt: None,
        }
    }

    fn io_error() -> ProverError {
        ProverError::Io {
            path: "/disk".into(),
            error: std::io::Error::other("the disk hiccuped"),
        }
    }

    fn model_error() -> ProverError {
        ProverError::Model(ModelError::Invalid("the model refuses this".into()))
    }

    struct Setup {
        _dir: tempfile::TempDir,
        worker: Arc<Worker>,
        model_id: String,
    }

    fn setup(
        failures: u32,
        error: fn() -> ProverError,
        gate: Option<std::sync::mpsc::Receiver<()>>,
    ) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let m = model();
        let id = zkw_model::model_id(&m);
        let keys = dir.path().join("keys");
        zkw_prover::setup(&m, &id, &keys, &|_| {}).unwrap();
        let inner = LocalProver::load(m, &id, &keys).unwrap();
        let models = ModelStore::new(&keys);
        models
            .insert(ServedModel {
                prover: Arc::new(Flaky {
                    inner,
                    failures: AtomicU32::new(failures),
                    error,
                    gate: gate.map(StdMutex::new),
                }),
                dir: keys,
                load_time: Duration::ZERO,
            })
            .unwrap();
        let worker = Arc::new(Worker {
            config: WorkerConfig::new(dir.path().join("data"), dir.path()),
            store: JobStore::open(&dir.path().join("jobs.redb")).unwrap(),
            queue: JobQueue::new(8),
            models,
            executor: Arc::new(Reference),
            key: WorkerKey::from_seed(&[1; 32]),
            events: broadcast::channel(64).0,
            stopping: AtomicBool::new(false),
        });
        Setup {
            _dir: dir,
            worker,
            model_id: id.to_hex(),
        }
    }

    fn submit(s: &Setup) -> String {
        s.worker
            .submit(Submit {
                model_id: s.model_id.clone(),
                input: vec![7.0, -3.0],
                client_nonce: "n".into(),
                input_salt: vec![2; 31],
                ..Submit::default()
            })
            .unwrap()
            .job
            .job_id
    }

    async fn ended(w: &Worker, job_id: &str) -> JobRecord {
        for _ in 0..2000 {
            let j = w.job(job_id).unwrap();
            if j.state.is_terminal() {
                return j;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("job {job_id} never ended");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_transient_failure_is_retried_and_the_job_succeeds_once() {
        let s = setup(1, io_error, None);
        let p = Pipeline::start(s.worker.clone());
        let id = submit(&s);
        let j = ended(&s.worker, &id).await;
        assert_eq!(j.state, JobState::Succeeded, "{j:?}");
        assert_eq!(j.attempts, 2);
        assert!(
            j.history
                .iter()
                .any(|t| t.detail.contains("retrying after")
                    && t.detail.contains("the disk hiccuped"))
        );
        assert_eq!(
            j.history
                .iter()
                .filter(|t| t.state == JobState::Succeeded)
                .count(),
            1
        );
        assert!(s.worker.receipt(&id).unwrap().contains("\"signature\""));
        s.worker.queue.close();
        p.join().await;
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn retries_are_bounded_and_the_reason_kept() {
        let s = setup(u32::MAX, io_error, None);
        let p = Pipeline::start(s.worker.clone());
        let id = submit(&s);
        let j = ended(&s.worker, &id).await;
        assert_eq!(j.state, JobState::Failed);
        assert_eq!(j.attempts, 3);
        let last = &j.history.last().unwrap().detail;
        assert!(last.starts_with("gave up after 3 attempts"), "{last}");
        assert!(j.error.unwrap().contains("the disk hiccuped"));
        assert!(matches!(
            s.worker.receipt(&id),
            Err(WorkerError::NoReceipt { .. })
        ));
        s.worker.queue.close();
        p.join().await;
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_permanent_failure_is_not_retried() {
        let s = setup(1, model_error, None);
        let p = Pipeline::start(s.worker.clone());
        let id = submit(&s);
        let j = ended(&s.worker, &id).await;
        assert_eq!(j.state, JobState::Failed);
        assert_eq!(j.attempts, 1);
        assert!(j.error.unwrap().contains("the model refuses this"));
        s.worker.queue.close();
        p.join().await;
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn cancelled_while_proving_drops_the_receipt() {
        let (release, gate) = std::sync::mpsc::channel();
        let s = setup(0, io_error, Some(gate));
        let p = Pipeline::start(s.worker.clone());
        let id = submit(&s);
        for _ in 0..2000 {
            if s.worker.job(&id).unwrap().state == JobState::Proving {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let j = s.worker.cancel(&id).unwrap();
        assert!(j.cancel_requested && j.state == JobState::Proving);
        // Another job, cancelled wherever it is (queued, or already taken by the executor).
        let second = submit(&s);
        s.worker.cancel(&second).unwrap();
        release.send(()).unwrap();
        let _ = release.send(());
        let j = ended(&s.worker, &id).await;
        assert_eq!(ended(&s.worker, &second).await.state, JobState::Cancelled);
        assert_eq!(j.state, JobState::Cancelled);
        assert!(matches!(
            s.worker.receipt(&id),
            Err(WorkerError::NoReceipt { .. })
        ));
        // Cancelling an ended job changes nothing.
        assert_eq!(s.worker.cancel(&id).unwrap().state, JobState::Cancelled);
        drop(release);
        s.worker.queue.close();
        p.join().await;
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn recovery_resumes_in_order_and_fails_a_job_that_keeps_killing_the_worker() {
        let s = setup(0, io_error, None);
        // With no pipeline running, a queued job is cancelled at once.
        let queued = submit(&s);
        let j = s.worker.cancel(&queued).unwrap();
        assert_eq!(j.state, JobState::Cancelled);
        assert_eq!(j.history.last().unwrap().detail, "cancelled by the client");
        let ids: Vec<String> = (0..3).map(|_| submit(&s)).collect();
        // As a crash would leave them: one running, one proving (out of attempts), one queued.
        while !s.worker.queue.is_empty() {
            s.worker.queue.pop().await;
        }
        s.worker
            .store
            .update(&ids[0], |j| {
                j.attempts = 1;
                j.transition(JobState::Running, "");
                true
            })
            .unwrap();
        s.worker
            .store
            .update(&ids[1], |j| {
                j.attempts = 3;
                j.transition(JobState::Proving, "");
                true
            })
            .unwrap();
        assert_eq!(
            recover(&s.worker).unwrap(),
            3,
            "the cancelled job is not resumed"
        );
        let resumed: Vec<JobRecord> = ids.iter().map(|i| s.worker.job(i).unwrap()).collect();
        assert!(resumed.iter().all(|j| j.state == JobState::Queued));
        assert!(
            resumed[0]
                .history
                .last()
                .unwrap()
                .detail
                .contains("resumed after a restart (was running)")
        );
        let p = Pipeline::start(s.worker.clone());
        let a = ended(&s.worker, &ids[0]).await;
        let b = ended(&s.worker, &ids[1]).await;
        let c = ended(&s.worker, &ids[2]).await;
        assert_eq!((a.state, a.attempts), (JobState::Succeeded, 2));
        assert_eq!(b.state, JobState::Failed);
        assert!(
            b.error
                .unwrap()
                .contains("started 3 times without finishing")
        );
        assert_eq!((c.state, c.attempts), (JobState::Succeeded, 1));
        assert!(a.seq < b.seq && b.seq < c.seq);
        s.worker.queue.close();
        p.join().await;
    }
}
