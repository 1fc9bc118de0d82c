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
