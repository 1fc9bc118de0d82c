//! The pipeline: queued jobs through the executor, then the prover, overlapped.
//!
//! One task takes jobs from the queue and runs the model (on the blocking pool: the executor is
//! synchronous); `proofs` tasks prove the traces it hands over through a channel of `proofs`
//! places. The executor task takes jobs only when the channel has room for a trace, so the
//! inference of the next jobs overlaps the proof of the current one; it takes whatever else
//! waits at that moment too, up to `batch` jobs, and runs the jobs of one model as one batch
//! (one GPU submission for all of them), so at most `batch + 2 · proofs` traces are in memory. Proving runs on tokio's blocking pool (arkworks spreads each proof
//! over rayon's), never on the async runtime's threads — and so does every store transaction.
//!
//! Every state change is persisted before the next step.
//!
//! **The attempt rule** (the fleet's workers follow it too, with JetStream's delivery count as
//! the durable counter): an attempt is charged — persisted, before the work starts — when a
//! job enters inference *alone*, or, for a job that entered it as one of a batch, when a
//! prover takes it; once per attempt. A job in a batch is marked (`batched`) before the batch
//! runs, not charged: if the run ends with the process, the jobs it held resume *alone*, each
//! charged at its own inference, so a job that crashes the worker exhausts its own attempts
//! and fails with the reason kept, and its innocent neighbours are not blamed. A transient
//! failure (an I/O error, a panic) sends the job back to the queue until it has used
//! `max_attempts`; an error that would repeat (the model refuses the input, a broken key, a
//! receipt that does not verify) fails it at once. After a crash, the jobs left queued,
//! running or proving resume from the queue ([`recover`]); one that was running alone or
//! being proved each time the worker died fails after `max_attempts` instead of looping. A store error is fatal: the worker stops (and a
//! supervisor restarts it, which runs the recovery) rather than run on with jobs it can no
//! longer record.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinHandle;
use tracing::{Instrument, error, info, info_span, warn};
use zkw_model::Trace;
use zkw_prover::ProverError;
use zkw_verifier::field::fr_from_hex;
use zkw_verifier::{Expected, verify};

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
        let mut tasks = vec![tokio::spawn(supervised(
            worker.clone(),
            infer_loop(worker.clone(), tx),
        ))];
        for _ in 0..proofs {
            tasks.push(tokio::spawn(supervised(
                worker.clone(),
                prove_loop(worker.clone(), rx.clone()),
            )));
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

/// Runs a pipeline task; one that ends (or panics) while the worker is not stopping leaves
/// no one to run the jobs: that is fatal.
async fn supervised(worker: Arc<Worker>, task: impl Future<Output = ()> + Send + 'static) {
    let handle = tokio::spawn(task);
    let outcome = handle.await;
    if !worker.is_stopping() {
        let why = match outcome {
            Ok(()) => "a pipeline task stopped".to_string(),
            Err(e) => format!("a pipeline task failed: {e}"),
        };
        worker.fail_fatally(why);
    }
}

/// Runs store work on the blocking pool; a store error is fatal to the worker.
async fn blocking<T: Send + 'static>(
    worker: &Arc<Worker>,
    f: impl FnOnce(&Worker) -> Result<T, WorkerError> + Send + 'static,
) -> Option<T> {
    let w = worker.clone();
    let result = tokio::task::spawn_blocking(move || f(&w)).await;
    match result {
        Ok(Ok(v)) => Some(v),
        Ok(Err(e)) => {
            // A store error names the store itself ("job store: …"): said once.
            worker.fail_fatally(e.to_string());
            None
        }
        Err(e) => {
            worker.fail_fatally(format!("a store task failed: {e}"));
            None
        }
    }
}

/// Puts every job a previous run left unfinished back in the queue, in submission order. A job
/// accepted under another worker identity (the key file was replaced) cannot be signed for
/// the id its proof binds, and fails. A job whose stored record or input is damaged is
/// quarantined by the store (kept aside, failed with the reason): one bad record never keeps
/// the worker from starting.
pub fn recover(worker: &Worker) -> Result<usize, WorkerError> {
    let recovered = worker.store.recover()?;
    for (job_id, why) in &recovered.quarantined {
        error!(%job_id, "job quarantined: {why}");
        metrics::quarantined();
    }
    let jobs = recovered.jobs;
    let me = worker.worker_id();
    let mut resumed = 0;
    for job in jobs {
        if job.worker_id != me {
            let reason = format!(
                "accepted by worker {} and this worker is {me} (its key changed): it cannot \
                 sign this job's receipt",
                job.worker_id
            );
            warn!(job_id = %job.job_id, "{reason}");
            worker.store.update(&job.job_id, |j| {
                j.abandon(&reason);
                true
            })?;
            continue;
        }
        let job = if job.state == JobState::Queued {
            job
        } else {
            worker.store.update(&job.job_id, |j| {
                j.resume();
                true
            })?
        };
        info!(job_id = %job.job_id, attempts = job.attempts, "resuming job");
        worker.queue.push_recovered(job.job_id);
        resumed += 1;
    }
    metrics::queue_depth(worker.queue.len());
    Ok(resumed)
}

/// Whether a proving error may go away on another attempt: only I/O. The others would repeat
/// (the model refuses the input, a key file is broken, the trace does not satisfy the circuit).
fn transient(e: &ProverError) -> bool {
    matches!(e, ProverError::Io { .. })
}

/// Applies a change to a job that has not ended, persists it and tells the watchers;
/// `Ok(None)` when the job had ended (nothing changes then).
fn change(
    worker: &Worker,
    job_id: &str,
    f: impl FnOnce(&mut JobRecord),
) -> Result<Option<JobRecord>, WorkerError> {
    let mut changed = false;
    let updated = worker.store.update(job_id, |j| {
        if j.state.is_terminal() {
            return false;
        }
        f(j);
        changed = true;
        true
    });
    let job = match updated {
        Err(WorkerError::Damaged(why)) => {
            // Its record was damaged since the worker started: kept aside, the job failed
            // with the reason; the worker goes on with the others.
            error!(%job_id, "job quarantined: {why}");
            metrics::quarantined();
            let job = worker.store.quarantine(job_id, &why)?;
            worker.emit(&job);
            return Ok(None);
        }
        other => other?,
    };
    if changed {
        worker.emit(&job);
        Ok(Some(job))
    } else {
        Ok(None)
    }
}

/// Ends a job for good (cancelled instead, if a client asked).
fn fail(worker: &Worker, job_id: &str, reason: String) -> Result<(), WorkerError> {
    warn!(%job_id, "job failed: {reason}");
    change(worker, job_id, |j| j.fail(&reason))?;
    Ok(())
}

/// Requeues a job after a transient failure, or fails it when it has used its attempts. The
/// failed attempt is counted: charged when it started (the attempt rule), or now.
fn retry_or_fail(worker: &Worker, job_id: &str, reason: String) -> Result<(), WorkerError> {
    let max = worker.config.max_attempts;
    let job = change(worker, job_id, |j| {
        j.retry_or_fail(&reason, max);
    })?;
    if let Some(job) = job {
        warn!(%job_id, attempts = job.attempts, state = %job.state, "attempt failed: {reason}");
        if job.state == JobState::Queued {
            worker.queue.push_retry(job.job_id);
        }
    }
    Ok(())
}

/// Marks a job running and returns it with its input; `None` when it went elsewhere: ended,
/// cancelled, or out of attempts (it was being proved that many times when the worker died).
fn start(worker: &Worker, job_id: &str) -> Result<Option<(JobRecord, Vec<i64>)>, WorkerError> {
    let max = worker.config.max_attempts;
    let job = change(worker, job_id, |j| {
        j.start(max);
    })?;
    let Some(job) = job.filter(|j| j.state == JobState::Running) else {
        return Ok(None);
    };
    match worker.store.input(job_id) {
        Ok(Some(input)) => Ok(Some((job, input))),
        Err(WorkerError::Damaged(why)) => {
            // Damaged since the worker started: kept aside, and the job fails with the reason.
            error!(%job_id, "job quarantined: {why}");
            metrics::quarantined();
            let job = worker.store.quarantine(job_id, &why)?;
            worker.emit(&job);
            Ok(None)
        }
        Err(e) => Err(e),
        Ok(None) => {
            fail(
                worker,
                job_id,
                "the job's input is missing from the store".into(),
            )?;
            Ok(None)
        }
    }
}

async fn infer_loop(worker: Arc<Worker>, tx: mpsc::Sender<ToProve>) {
    loop {
        // Room for a trace first: jobs are taken only when a prover will take the first next.
        let Ok(permit) = tx.reserve().await else {
            break;
        };
        let Some(first) = worker.queue.pop().await else {
            break;
        };
        // Whatever else waits right now rides along, up to the batch size: the jobs of one
        // model run as one batch on the executor.
        let mut ids = vec![first];
        while ids.len() < worker.config.batch.max(1) {
            match worker.queue.try_pop() {
                Some(id) => ids.push(id),
                None => break,
            }
        }
        metrics::queue_depth(worker.queue.len());
        let Ok(items) = infer(&worker, ids).await else {
            break;
        };
        let mut items = items.into_iter();
        if let Some(item) = items.next() {
            permit.send(item);
        }
        for item in items {
            if tx.send(item).await.is_err() {
                return;
            }
        }
    }
}

/// A job marked running, with its input.
type Started = (JobRecord, Vec<i64>);

/// Starts the jobs `ids` and runs their models, the jobs of one model as one batch; the traces
/// to prove, in order (jobs that went elsewhere or failed are left out). `Err` when the worker
/// must stop.
async fn infer(worker: &Arc<Worker>, ids: Vec<String>) -> Result<Vec<ToProve>, ()> {
    // Per model, in order of first appearance: its jobs and their inputs.
    let mut groups: Vec<(Arc<ServedModel>, Vec<Started>)> = Vec::new();
    for job_id in ids {
        let span = info_span!("job", %job_id);
        let id = job_id.clone();
        let Some(started) = blocking(worker, move |w| start(w, &id))
            .instrument(span.clone())
            .await
        else {
            return Err(());
        };
        let Some((job, input)) = started else {
            continue;
        };
        let Some(model) = worker.models.get(&job.model_id) else {
            let reason = format!("model {} is no longer served", job.model_id);
            blocking(worker, move |w| fail(w, &job_id, reason))
                .instrument(span)
                .await
                .ok_or(())?;
            continue;
        };
        match groups.iter_mut().find(|(m, _)| Arc::ptr_eq(m, &model)) {
            Some((_, jobs)) => jobs.push((job, input)),
            None => groups.push((model, vec![(job, input)])),
        }
    }
    let mut out = Vec::new();
    for (model, jobs) in groups {
        // A job whose earlier batch ended with the process runs alone.
        let (mut one_by_one, mut jobs): (Vec<Started>, Vec<Started>) =
            jobs.into_iter().partition(|(j, _)| j.alone);
        if jobs.len() > 1 {
            // Marked before the batch runs: if it ends with the process, its jobs resume
            // alone instead of being charged for whichever of them crashed it.
            let ids: Vec<String> = jobs.iter().map(|(j, _)| j.job_id.clone()).collect();
            let marked = blocking(worker, move |w| {
                ids.iter()
                    .map(|id| change(w, id, JobRecord::join_batch))
                    .collect::<Result<Vec<_>, _>>()
            })
            .await
            .ok_or(())?;
            // A job that ended meanwhile (a cancel) leaves the batch.
            jobs = jobs
                .into_iter()
                .zip(marked)
                .filter_map(|((_, x), j)| j.map(|j| (j, x)))
                .collect();
        }
        if jobs.len() > 1 {
            let t = Instant::now();
            crate::fault::abort_in_inference(jobs.iter().map(|(_, x)| x.as_slice()));
            let inputs: Vec<Vec<i64>> = jobs.iter().map(|(_, x)| x.clone()).collect();
            let (executor, m) = (worker.executor.clone(), model.clone());
            let ran =
                tokio::task::spawn_blocking(move || executor.run_batch(m.prover.model(), &inputs))
                    .await;
            metrics::inference(t.elapsed());
            if let Ok(Ok(traces)) = ran
                && traces.len() == jobs.len()
            {
                info!(
                    jobs = jobs.len(),
                    ms = t.elapsed().as_millis() as u64,
                    executor = %worker.executor.name(),
                    "batch inference done"
                );
                out.extend(jobs.drain(..).zip(traces).map(|((job, _), trace)| ToProve {
                    job,
                    model: model.clone(),
                    trace,
                }));
            } else {
                // The batch failed as a whole: run its jobs one by one, so that each job's
                // failure is its own.
                warn!(
                    jobs = jobs.len(),
                    "the batch failed; running its jobs one by one"
                );
            }
        }
        // The jobs that run alone, whether or not a batch ran beside them (a batch that
        // succeeded left `jobs` empty).
        one_by_one.append(&mut jobs);
        for (job, input) in one_by_one {
            let span = info_span!("job", job_id = %job.job_id);
            if let Some(item) = infer_one(worker, job, input, model.clone())
                .instrument(span)
                .await?
            {
                out.push(item);
            }
        }
    }
    Ok(out)
}

/// Runs one started job's model; the trace to prove, `Ok(None)` when the job failed, `Err`
/// when the worker must stop.
async fn infer_one(
    worker: &Arc<Worker>,
    job: JobRecord,
    input: Vec<i64>,
    model: Arc<ServedModel>,
) -> Result<Option<ToProve>, ()> {
    // Alone: this is an attempt, charged before the model runs (persisted: a crash in the
    // executor counts); out of attempts, it fails instead.
    let id = job.job_id.clone();
    let max = worker.config.max_attempts;
    let charged = blocking(worker, move |w| {
        change(w, &id, |j| {
            j.charge(max);
        })
    })
    .await
    .ok_or(())?;
    let Some(job) = charged.filter(|j| j.state == JobState::Running) else {
        return Ok(None);
    };
    let t = Instant::now();
    crate::fault::abort_in_inference(std::iter::once(input.as_slice()));
    let (executor, m) = (worker.executor.clone(), model.clone());
    let ran = tokio::task::spawn_blocking(move || executor.run(m.prover.model(), &input)).await;
    metrics::inference(t.elapsed());
    let id = job.job_id.clone();
    let trace = match ran {
        Ok(Ok(trace)) => trace,
        Ok(Err(e)) => {
            let reason = format!("the model refused the input: {e}");
            return blocking(worker, move |w| fail(w, &id, reason))
                .await
                .map(|_| None)
                .ok_or(());
        }
        Err(e) => {
            let reason = format!("the executor panicked: {e}");
            return blocking(worker, move |w| retry_or_fail(w, &id, reason))
                .await
                .map(|_| None)
                .ok_or(());
        }
    };
    info!(ms = t.elapsed().as_millis() as u64, executor = %worker.executor.name(), "inference done");
    Ok(Some(ToProve { job, model, trace }))
}

async fn prove_loop(worker: Arc<Worker>, rx: Arc<Mutex<mpsc::Receiver<ToProve>>>) {
    loop {
        let next = rx.lock().await.recv().await;
        let Some(item) = next else { break };
        let span = info_span!("job", job_id = %item.job.job_id);
        if prove(&worker, item).instrument(span).await.is_err() {
            break;
        }
    }
}

/// Proves one job, signs and stores its receipt. `Err` when the worker must stop.
async fn prove(worker: &Arc<Worker>, item: ToProve) -> Result<(), ()> {
    let ToProve { model, trace, .. } = item;
    let job_id = item.job.job_id.clone();
    // Taken by a prover: now it is proving, and this is an attempt.
    let id = job_id.clone();
    let taken = blocking(worker, move |w| {
        change(w, &id, |j| {
            // A job that entered inference in a batch: its attempt starts here.
            j.take_for_proving();
        })
    })
    .await
    .ok_or(())?;
    let Some(job) = taken.filter(|j| j.state == JobState::Proving) else {
        return Ok(());
    };
    let t = Instant::now();
    let (salt, binding, m) = (job.salt(), job.job(), model.clone());
    let proved =
        tokio::task::spawn_blocking(move || m.prover.prove_trace(trace, &salt, &binding)).await;
    metrics::prove(t.elapsed());
    tracing::debug!(ms = t.elapsed().as_millis() as u64, "prove_trace returned");
    let id = job_id.clone();
    let mut receipt = match proved {
        Ok(Ok(p)) => p.receipt,
        Ok(Err(e)) if transient(&e) => {
            let reason = e.to_string();
            return blocking(worker, move |w| retry_or_fail(w, &id, reason))
                .await
                .ok_or(());
        }
        Ok(Err(e)) => {
            let reason = e.to_string();
            return blocking(worker, move |w| fail(w, &id, reason))
                .await
                .ok_or(());
        }
        Err(e) => {
            let reason = format!("the prover panicked: {e}");
            return blocking(worker, move |w| retry_or_fail(w, &id, reason))
                .await
                .ok_or(());
        }
    };
    // The worker signs what it answers for: check that the prover's receipt is this job's
    // claim — its digest, job, worker and nonce — and that its proof verifies.
    // A pairing check: off the runtime's threads, like the proof.
    let (own, m, r) = (worker.worker_id(), model.clone(), receipt.clone());
    let checked = tokio::task::spawn_blocking(move || {
        let digest =
            fr_from_hex(&job.input_digest).map_err(|e| format!("the job's input digest: {e}"))?;
        let expected = Expected::new(m.prover.record(), digest, &job.job_id)
            .worker(&own)
            .nonce(&job.client_nonce);
        verify(&r, m.prover.verifier_key(), &expected)
            .map(|_| ())
            .map_err(|e| format!("the prover's receipt does not verify for this job: {e}"))
    })
    .await
    .unwrap_or_else(|e| Err(format!("the receipt check panicked: {e}")));
    if let Err(reason) = checked {
        error!("{reason}");
        return blocking(worker, move |w| fail(w, &id, reason))
            .await
            .ok_or(());
    }
    tracing::debug!(ms = t.elapsed().as_millis() as u64, "receipt checked");
    worker.key.sign(&mut receipt);
    let json = receipt.to_json();
    let finished = blocking(worker, move |w| w.store.finish(&id, &json))
        .await
        .ok_or(())?;
    match finished {
        Finish::Succeeded(job) => {
            info!(ms = t.elapsed().as_millis() as u64, "proved");
            worker.emit(&job);
        }
        Finish::Cancelled(job) => worker.emit(&job),
        Finish::AlreadyEnded(job) => {
            warn!(state = %job.state, "the job had already ended; this proof is dropped");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex as StdMutex;
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
    use std::time::Duration;

    use tokio::sync::broadcast;
    use zkw_model::ops::{Dense, Requantize};
    use zkw_model::{Executor, Model, ModelError, Op, Reference, TensorInfo, WeightMode};
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
        Model::chain(
            "tiny",
            WeightMode::Fixed,
            TensorInfo {
                shape: vec![2],
                frac_bits: 0,
                bits: 8,
            },
            vec![
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
            None,
        )
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
        setup_on(Arc::new(Reference), failures, error, gate)
    }

    fn setup_on(
        executor: Arc<dyn Executor>,
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
            store: JobStore::open(&dir.path().join("jobs.redb"), 100).unwrap(),
            queue: JobQueue::new(8),
            models,
            executor,
            key: WorkerKey::from_seed(&[1; 32]),
            events: broadcast::channel(64).0,
            stopping: AtomicBool::new(false),
            stop: tokio::sync::watch::channel(false).0,
            fatal: std::sync::Mutex::new(None),
            message_cap: Default::default(),
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

    /// The reference, recording the size of every call (a batch, or 1 for a single run), and
    /// failing every batch when told to.
    struct Recording {
        calls: StdMutex<Vec<usize>>,
        fail_batches: bool,
    }

    impl Executor for Recording {
        fn name(&self) -> String {
            "recording".into()
        }

        fn run(&self, model: &Model, input: &[i64]) -> Result<Trace, ModelError> {
            self.calls.lock().unwrap().push(1);
            Reference.run(model, input)
        }

        fn run_batch(&self, model: &Model, inputs: &[Vec<i64>]) -> Result<Vec<Trace>, ModelError> {
            self.calls.lock().unwrap().push(inputs.len());
            if self.fail_batches {
                return Err(ModelError::Executor {
                    executor: "recording".into(),
                    reason: "batches fail here".into(),
                });
            }
            inputs.iter().map(|x| Reference.run(model, x)).collect()
        }
    }

    async fn run_queued(fail_batches: bool, jobs: usize) -> Vec<usize> {
        let executor = Arc::new(Recording {
            calls: StdMutex::new(Vec::new()),
            fail_batches,
        });
        let s = setup_on(executor.clone(), 0, io_error, None);
        // Queued before the pipeline starts: the executor finds them all waiting.
        let ids: Vec<String> = (0..jobs).map(|_| submit(&s)).collect();
        let p = Pipeline::start(s.worker.clone());
        for id in &ids {
            let j = ended(&s.worker, id).await;
            assert_eq!(j.state, JobState::Succeeded, "{j:?}");
        }
        s.worker.queue.close();
        p.join().await;
        executor.calls.lock().unwrap().clone()
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn jobs_of_one_model_waiting_together_run_as_one_batch() {
        assert_eq!(run_queued(false, 5).await, vec![5]);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn a_failed_batch_runs_its_jobs_one_by_one() {
        assert_eq!(run_queued(true, 3).await, vec![3, 1, 1, 1]);
    }

    /// The attempt rule: jobs a batch held when the process ended resume alone, uncharged for
    /// the crash; each is charged once, at its own inference; a job that ran alone each time
    /// the worker died fails when its attempts are spent, with the reason kept. The other
    /// jobs waiting with them still run as a batch — and the lone jobs run too (a batch that
    /// succeeded once left them running for ever).
    #[tokio::test(flavor = "multi_thread")]
    async fn a_crashed_batch_resumes_alone_and_charges_each_job_its_own_attempts() {
        let executor = Arc::new(Recording {
            calls: StdMutex::new(Vec::new()),
            fail_batches: false,
        });
        let s = setup_on(executor.clone(), 0, io_error, None);
        let ids: Vec<String> = (0..6).map(|_| submit(&s)).collect();
        while !s.worker.queue.is_empty() {
            s.worker.queue.pop().await;
        }
        // As a crash in batch inference leaves them: running, marked, not charged.
        for id in &ids[..2] {
            s.worker
                .store
                .update(id, |j| {
                    j.start(u32::MAX);
                    j.join_batch();
                    true
                })
                .unwrap();
        }
        // A job that was running alone, charged, for the third time (a poison job).
        s.worker
            .store
            .update(&ids[2], |j| {
                j.start(u32::MAX);
                j.attempts = 3;
                j.charged = true;
                true
            })
            .unwrap();
        assert_eq!(recover(&s.worker).unwrap(), 6);
        for id in &ids[..2] {
            let j = s.worker.job(id).unwrap();
            assert!(
                j.alone && !j.batched && !j.charged && j.attempts == 0,
                "{j:?}"
            );
            assert!(
                j.history
                    .last()
                    .unwrap()
                    .detail
                    .contains("in a batch: it runs alone now")
            );
        }
        let p = Pipeline::start(s.worker.clone());
        for id in &ids[..2] {
            let j = ended(&s.worker, id).await;
            assert_eq!((j.state, j.attempts), (JobState::Succeeded, 1), "{j:?}");
        }
        let poison = ended(&s.worker, &ids[2]).await;
        assert_eq!(poison.state, JobState::Failed);
        assert!(
            poison
                .error
                .unwrap()
                .contains("started 3 times without finishing")
        );
        for id in &ids[3..] {
            let j = ended(&s.worker, id).await;
            assert_eq!((j.state, j.attempts), (JobState::Succeeded, 1));
        }
        s.worker.queue.close();
        p.join().await;
        // The two resumed jobs ran alone (never in a batch again); the other three as one.
        let mut calls = executor.calls.lock().unwrap().clone();
        calls.sort();
        assert_eq!(calls, [1, 1, 3]);
    }

    /// A job run alone is charged when it enters inference, before the model runs: a crash in
    /// the executor counts (before, only proving was charged, and a job that killed the worker
    /// during inference was retried for ever).
    #[tokio::test(flavor = "multi_thread")]
    async fn a_job_run_alone_is_charged_before_its_model_runs() {
        let s = setup(0, io_error, None);
        let id = submit(&s);
        let p = Pipeline::start(s.worker.clone());
        let j = ended(&s.worker, &id).await;
        assert_eq!(
            (j.state, j.attempts, j.charged),
            (JobState::Succeeded, 1, true)
        );
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
        let ids: Vec<String> = (0..4).map(|_| submit(&s)).collect();
        // As a crash would leave them: one running, one proving (out of attempts), one queued.
        while !s.worker.queue.is_empty() {
            s.worker.queue.pop().await;
        }
        s.worker
            .store
            .update(&ids[0], |j| {
                j.start(u32::MAX);
                j.attempts = 1;
                true
            })
            .unwrap();
        s.worker
            .store
            .update(&ids[1], |j| {
                j.start(u32::MAX);
                j.take_for_proving();
                j.attempts = 3;
                j.charged = false;
                true
            })
            .unwrap();
        // One accepted under another identity (the key file was replaced since).
        s.worker
            .store
            .update(&ids[3], |j| {
                j.worker_id = "ab".repeat(32);
                true
            })
            .unwrap();
        assert_eq!(
            recover(&s.worker).unwrap(),
            3,
            "neither the cancelled job nor the other worker's is resumed"
        );
        let other = s.worker.job(&ids[3]).unwrap();
        assert_eq!(other.state, JobState::Failed);
        assert!(other.error.unwrap().contains("its key changed"));
        let resumed: Vec<JobRecord> = ids[..3].iter().map(|i| s.worker.job(i).unwrap()).collect();
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

    #[tokio::test(flavor = "multi_thread")]
    async fn a_fatal_error_stops_the_worker_instead_of_running_on() {
        let s = setup(0, io_error, None);
        let p = Pipeline::start(s.worker.clone());
        let id = submit(&s);
        assert_eq!(ended(&s.worker, &id).await.state, JobState::Succeeded);
        let mut stop = s.worker.stop_signal();
        s.worker.fail_fatally("job store: the disk is gone".into());
        assert!(*stop.wait_for(|s| *s).await.unwrap());
        assert!(s.worker.is_stopping());
        assert_eq!(
            s.worker.failure().as_deref(),
            Some("job store: the disk is gone")
        );
        assert!(matches!(
            s.worker.submit(Submit {
                model_id: s.model_id.clone(),
                input: vec![1.0, 2.0],
                ..Submit::default()
            }),
            Err(WorkerError::ShuttingDown)
        ));
        // The pipeline ends (its queue is closed) without being told anything else.
        tokio::time::timeout(Duration::from_secs(10), p.join())
            .await
            .unwrap();
    }
}
