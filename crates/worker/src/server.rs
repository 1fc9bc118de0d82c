//! Starting and stopping a worker: identity, store, models, recovery, pipeline, and the gRPC
//! server (Worker, health and reflection services), optionally behind a token and TLS.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use tokio::net::TcpListener;
use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::{Identity, Server, ServerTlsConfig};
use tracing::{info, warn};

use crate::auth::RequireToken;
use crate::backend;
use crate::config::WorkerConfig;
use crate::error::WorkerError;
use crate::grpc::Service;
use crate::identity;
use crate::metrics;
use crate::models::{LoadReport, ModelStore};
use crate::pipeline::{Pipeline, recover};
use crate::proto;
use crate::queue::JobQueue;
use crate::store::JobStore;
use crate::worker::Worker;

/// The largest message the worker decodes (32 MiB: inputs of up to about 4 M values). A
/// larger one is refused by gRPC itself with OUT_OF_RANGE before the worker reads it.
pub const MAX_MESSAGE_BYTES: usize = 32 << 20;

/// A started worker.
pub struct RunningWorker {
    /// Where it listens.
    pub addr: SocketAddr,
    worker: Arc<Worker>,
    stop_server: Option<oneshot::Sender<()>>,
    server: JoinHandle<Result<(), tonic::transport::Error>>,
    pipeline: Pipeline,
}

impl RunningWorker {
    /// The worker's id (its public key).
    pub fn worker_id(&self) -> String {
        self.worker.worker_id()
    }

    /// The worker's operations, without gRPC (for embedding and tests).
    pub fn worker(&self) -> &Arc<Worker> {
        &self.worker
    }

    /// Loads models added to the models directory.
    pub async fn reload(&self) -> Result<LoadReport, WorkerError> {
        let w = self.worker.clone();
        tokio::task::spawn_blocking(move || w.reload())
            .await
            .map_err(|e| WorkerError::Internal(e.to_string()))?
    }

    /// Stops: refuses new jobs, stops the server, lets the proofs under way finish and be
    /// stored; jobs still queued stay stored and resume on the next start.
    pub async fn shutdown(mut self) -> Result<(), WorkerError> {
        self.worker.stopping.store(true, Ordering::Relaxed);
        if let Some(stop) = self.stop_server.take() {
            let _ = stop.send(());
        }
        self.worker.queue.close();
        self.pipeline.join().await;
        match self.server.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(WorkerError::Internal(format!("gRPC server: {e}"))),
            Err(e) => Err(WorkerError::Internal(format!("gRPC server task: {e}"))),
        }
    }
}

/// Starts a worker: everything is loaded and listening when this returns.
pub async fn start(config: WorkerConfig) -> Result<RunningWorker, WorkerError> {
    let t = Instant::now();
    // First, so that every metric recorded while starting is exported.
    if let Some(m) = config.metrics {
        metrics::install(m)?;
        info!(addr = %m, "metrics at /metrics");
    }
    std::fs::create_dir_all(&config.data).map_err(|e| WorkerError::io(&config.data, e))?;
    let (key, created) = identity::load_or_create(&config.data)?;
    if created {
        info!(worker_id = %key.worker_id(), "made a new worker identity");
    }
    let (executor, notice) = backend::select(config.backend)?;
    if let Some(n) = notice {
        warn!("{n}");
    }
    metrics::backend(&executor.name());
    let store = JobStore::open(&config.data.join("jobs.redb"))?;
    metrics::jobs_at_start(&store.counts()?);
    let (events, _) = broadcast::channel(1024);
    let worker = Arc::new(Worker {
        store,
        queue: JobQueue::new(config.max_queue),
        models: ModelStore::new(&config.models),
        executor,
        key,
        events,
        stopping: AtomicBool::new(false),
        config: config.clone(),
    });
    {
        let w = worker.clone();
        let report = tokio::task::spawn_blocking(move || w.reload())
            .await
            .map_err(|e| WorkerError::Internal(e.to_string()))??;
        if report.added.is_empty() {
            warn!(dir = %config.models.display(), "no model loaded: add key directories and reload");
        }
    }
    let resumed = recover(&worker)?;
    let pipeline = Pipeline::start(worker.clone());

    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<proto::worker_server::WorkerServer<Service>>()
        .await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| WorkerError::Internal(format!("reflection: {e}")))?;
    let reflection_alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()
        .map_err(|e| WorkerError::Internal(format!("reflection: {e}")))?;
    let service = tonic::service::interceptor::InterceptedService::new(
        proto::worker_server::WorkerServer::new(Service::new(worker.clone()))
            .max_decoding_message_size(MAX_MESSAGE_BYTES),
        RequireToken::new(config.token.as_deref()),
    );

    let mut builder = Server::builder();
    if let Some(tls) = &config.tls {
        let cert = std::fs::read(&tls.cert).map_err(|e| WorkerError::io(&tls.cert, e))?;
        let key = std::fs::read(&tls.key).map_err(|e| WorkerError::io(&tls.key, e))?;
        builder = builder
            .tls_config(ServerTlsConfig::new().identity(Identity::from_pem(cert, key)))
            .map_err(|e| WorkerError::Config(format!("TLS: {e}")))?;
    }
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| WorkerError::Config(format!("cannot listen on {}: {e}", config.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| WorkerError::Config(format!("cannot listen on {}: {e}", config.listen)))?;
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let router = builder
        .add_service(health_service)
        .add_service(reflection)
        .add_service(reflection_alpha)
        .add_service(service);
    let server = tokio::spawn(router.serve_with_incoming_shutdown(
        TcpListenerStream::new(listener),
        async {
            let _ = stop_rx.await;
        },
    ));
    info!(
        %addr,
        worker_id = %worker.worker_id(),
        models = worker.models().len(),
        resumed,
        backend = %worker.backend(),
        tls = config.tls.is_some(),
        token = config.token.is_some(),
        start_ms = t.elapsed().as_millis() as u64,
        "worker listening"
    );
    Ok(RunningWorker {
        addr,
        worker,
        stop_server: Some(stop_tx),
        server,
        pipeline,
    })
}
