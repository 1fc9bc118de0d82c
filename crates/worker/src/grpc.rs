//! The gRPC service: each call validates its message, calls the worker, and maps the result.
//! No job, queue or proving logic lives here; every status code comes from the one table in
//! [`crate::error`].

use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};
use zkw_verifier::ClientRequest;

use crate::job::{JobRecord, JobState};
use crate::proto as pb;
use crate::worker::{JobEvent, Submit, Worker};

/// The Worker service over a worker.
pub struct Service {
    worker: Arc<Worker>,
}

impl Service {
    /// Serves `worker`.
    pub fn new(worker: Arc<Worker>) -> Self {
        Service { worker }
    }
}

/// A state as the wire has it.
pub fn state_to_pb(s: JobState) -> pb::JobState {
    match s {
        JobState::Queued => pb::JobState::Queued,
        JobState::Running => pb::JobState::Running,
        JobState::Proving => pb::JobState::Proving,
        JobState::Succeeded => pb::JobState::Succeeded,
        JobState::Failed => pb::JobState::Failed,
        JobState::Cancelled => pb::JobState::Cancelled,
    }
}

/// A job as the wire has it.
pub fn job_to_pb(j: &JobRecord) -> pb::Job {
    pb::Job {
        job_id: j.job_id.clone(),
        model_id: j.model_id.clone(),
        state: state_to_pb(j.state) as i32,
        history: j
            .history
            .iter()
            .map(|t| pb::Transition {
                state: state_to_pb(t.state) as i32,
                at_unix_ms: t.at_unix_ms,
                detail: t.detail.clone(),
            })
            .collect(),
        error: j.error.clone().unwrap_or_default(),
        attempts: j.attempts,
        worker_id: j.worker_id.clone(),
        client_nonce: j.client_nonce.clone(),
        input_digest: j.input_digest.clone(),
    }
}

fn event_to_pb(e: &JobEvent) -> pb::JobEvent {
    pb::JobEvent {
        job_id: e.job_id.clone(),
        state: state_to_pb(e.state) as i32,
        at_unix_ms: e.at_unix_ms,
        progress: e.state.progress(),
        detail: e.detail.clone(),
    }
}

/// Runs blocking store work off the async threads (each call is a redb transaction with an
/// fsync, or a model reload).
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, crate::error::WorkerError> + Send + 'static,
) -> Result<T, Status> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Status::internal(format!("worker task failed: {e}")))?
        .map_err(Status::from)
}

type EventStream = Pin<Box<dyn Stream<Item = Result<pb::JobEvent, Status>> + Send>>;

#[tonic::async_trait]
impl pb::worker_server::Worker for Service {
    async fn submit_job(
        &self,
        req: Request<pb::SubmitJobRequest>,
    ) -> Result<Response<pb::SubmitJobResponse>, Status> {
        let r = req.into_inner();
        if r.model_id.is_empty() {
            return Err(Status::invalid_argument("model_id is empty"));
        }
        let submit = Submit {
            model_id: r.model_id,
            input: r.input,
            client_nonce: r.client_nonce,
            input_salt: r.input_salt,
            unsalted: r.unsalted,
            idempotency_key: (!r.idempotency_key.is_empty()).then_some(r.idempotency_key),
            request: if r.client_request.is_empty() {
                None
            } else {
                Some(
                    ClientRequest::from_json(r.client_request.as_bytes())
                        .map_err(|e| Status::invalid_argument(e.to_string()))?,
                )
            },
        };
        let w = self.worker.clone();
        let s = blocking(move || w.submit(submit)).await?;
        Ok(Response::new(pb::SubmitJobResponse {
            input_salt: hex::decode(&s.job.input_salt).unwrap_or_default(),
            input_digest: s.job.input_digest.clone(),
            worker_id: s.job.worker_id.clone(),
            job_id: s.job.job_id,
            existing: s.existing,
        }))
    }

    async fn get_job(&self, req: Request<pb::GetJobRequest>) -> Result<Response<pb::Job>, Status> {
        let id = req.get_ref().job_id.clone();
        let w = self.worker.clone();
        let job = blocking(move || w.job(&id)).await?;
        Ok(Response::new(job_to_pb(&job)))
    }

    type WatchJobStream = EventStream;

    async fn watch_job(
        &self,
        req: Request<pb::WatchJobRequest>,
    ) -> Result<Response<Self::WatchJobStream>, Status> {
        let id = req.get_ref().job_id.clone();
        let w = self.worker.clone();
        let lookup = id.clone();
        let (job, mut events) = blocking(move || w.watch(&lookup)).await?;
        let (tx, rx) = mpsc::channel(16);
        let worker = self.worker.clone();
        let mut stop = worker.stop_signal();
        tokio::spawn(async move {
            let mut last = JobEvent::of(&job);
            if tx.send(Ok(event_to_pb(&last))).await.is_err() || last.state.is_terminal() {
                return;
            }
            loop {
                let received = tokio::select! {
                    r = events.recv() => Some(r),
                    // The client left: nothing more to send.
                    _ = tx.closed() => return,
                    // The worker stops: end the stream so the server can drain.
                    _ = stop.wait_for(|s| *s) => None,
                };
                let Some(received) = received else {
                    let _ = tx
                        .send(Err(Status::unavailable(
                            "the worker is stopping; the job resumes when it restarts",
                        )))
                        .await;
                    return;
                };
                let event = match received {
                    Ok(e) if e.job_id == id => e,
                    Ok(_) => continue,
                    // Fell behind: the store has the truth.
                    Err(RecvError::Lagged(_)) => {
                        let w = worker.clone();
                        let lookup = id.clone();
                        match blocking(move || w.job(&lookup)).await {
                            Ok(j) => JobEvent::of(&j),
                            Err(e) => {
                                let _ = tx.send(Err(e)).await;
                                return;
                            }
                        }
                    }
                    Err(RecvError::Closed) => {
                        let _ = tx
                            .send(Err(Status::unavailable("the worker stopped")))
                            .await;
                        return;
                    }
                };
                // Older than what was sent (buffered before a store read): skip.
                if event == last || event.at_unix_ms < last.at_unix_ms {
                    continue;
                }
                last = event;
                if tx.send(Ok(event_to_pb(&last))).await.is_err() || last.state.is_terminal() {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn cancel_job(
        &self,
        req: Request<pb::CancelJobRequest>,
    ) -> Result<Response<pb::Job>, Status> {
        let id = req.get_ref().job_id.clone();
        let w = self.worker.clone();
        let job = blocking(move || w.cancel(&id)).await?;
        Ok(Response::new(job_to_pb(&job)))
    }

    async fn get_receipt(
        &self,
        req: Request<pb::GetReceiptRequest>,
    ) -> Result<Response<pb::GetReceiptResponse>, Status> {
        let id = req.get_ref().job_id.clone();
        let w = self.worker.clone();
        let receipt_json = blocking(move || w.receipt(&id)).await?;
        Ok(Response::new(pb::GetReceiptResponse { receipt_json }))
    }

    async fn list_models(
        &self,
        _req: Request<pb::ListModelsRequest>,
    ) -> Result<Response<pb::ListModelsResponse>, Status> {
        Ok(Response::new(list(&self.worker)))
    }

    async fn reload_models(
        &self,
        _req: Request<pb::ReloadModelsRequest>,
    ) -> Result<Response<pb::ListModelsResponse>, Status> {
        let w = self.worker.clone();
        blocking(move || w.reload()).await?;
        Ok(Response::new(list(&self.worker)))
    }
}

fn list(worker: &Worker) -> pb::ListModelsResponse {
    pb::ListModelsResponse {
        models: worker
            .models()
            .iter()
            .map(|m| {
                let r = m.prover.record();
                pb::ModelInfo {
                    model_id: r.model_id.clone(),
                    name: r.name.clone(),
                    weight_mode: r.weight_mode.clone(),
                    input_shape: r.input.shape.iter().map(|&d| d as u64).collect(),
                    output_shape: r.output.shape.iter().map(|&d| d as u64).collect(),
                    vk_id: r.vk_id.clone(),
                    record_json: r.to_json(),
                }
            })
            .collect(),
        worker_id: worker.worker_id(),
        backend: worker.backend(),
    }
}
