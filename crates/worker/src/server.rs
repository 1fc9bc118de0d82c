//! Starting and stopping a worker: identity, store, models, recovery, pipeline, and the gRPC
//! server (Worker, health and reflection services), optionally behind a token and TLS.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Identity, Server, ServerTlsConfig};
use tonic_health::server::HealthReporter;
use tracing::{info, warn};

use crate::admission::Admission;
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

pub use zkw_client::MAX_MESSAGE_BYTES;

/// How long a stopping worker waits for open streams and calls before closing them.
pub const DRAIN_GRACE: Duration = Duration::from_secs(10);

/// A started worker.
pub struct RunningWorker {
    /// Where it listens.
    pub addr: SocketAddr,
    worker: Arc<Worker>,
    health: HealthReporter,
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

    /// Waits until the worker must stop on its own (its store failed, a pipeline task died);
    /// the reason. Never returns for a healthy worker.
    pub async fn failed(&self) -> String {
        let mut stop = self.worker.stop_signal();
        if let Some(why) = self.worker.failure() {
            return why;
        }
        loop {
            let _ = stop.wait_for(|s| *s).await;
            if let Some(why) = self.worker.failure() {
                return why;
            }
            // Stopping on request, not failing: wait forever.
            std::future::pending::<()>().await;
        }
    }

    /// Stops: reports NOT_SERVING, refuses new jobs, ends watch streams, stops the server
    /// (waiting up to [`DRAIN_GRACE`] for open calls), lets the proofs under way finish and be
    /// stored; jobs still queued stay stored and resume on the next start.
    pub async fn shutdown(mut self) -> Result<(), WorkerError> {
        self.health
            .set_not_serving::<proto::worker_server::WorkerServer<Service>>()
            .await;
        self.worker.begin_stop();
        if let Some(stop) = self.stop_server.take() {
            let _ = stop.send(());
        }
        self.pipeline.join().await;
        let mut server = self.server;
        match tokio::time::timeout(DRAIN_GRACE, &mut server).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => return Err(WorkerError::Internal(format!("gRPC server: {e}"))),
            Ok(Err(e)) => return Err(WorkerError::Internal(format!("gRPC server task: {e}"))),
            Err(_) => {
                warn!("calls still open after {DRAIN_GRACE:?}: closing them");
                server.abort();
            }
        }
        match self.worker.failure() {
            Some(why) => Err(WorkerError::Internal(format!(
                "the worker had to stop: {why}"
            ))),
            None => Ok(()),
        }
    }
}

/// The job store's file in the data directory.
pub const STORE_FILE: &str = "jobs.redb";

/// Refuses a start that would silently begin an empty job store where jobs were kept: the data
/// directory holds a worker identity (`identity_new` is false) but its store is missing, or a
/// store file is empty (0 bytes). An empty data directory starts fresh; `--new-store`
/// (`new_store`) accepts the loss and starts an empty store.
fn check_store_file(path: &Path, identity_new: bool, new_store: bool) -> Result<(), WorkerError> {
    let lost = |what: &str| {
        WorkerError::Config(format!(
            "{}: {what}, although this data directory holds a worker identity — the jobs it \
             kept are gone; restore the file from a backup, or start an empty store with \
             --new-store",
            path.display()
        ))
    };
    match std::fs::metadata(path) {
        Ok(m) if m.len() == 0 => {
            if !new_store {
                return Err(lost("the job store is empty (0 bytes)"));
            }
            // An empty file is no store: removed, so that redb makes a new one.
            std::fs::remove_file(path).map_err(|e| WorkerError::io(path, e))?;
            warn!(path = %path.display(), "an empty job store was replaced (--new-store)");
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if !identity_new && !new_store {
                return Err(lost("there is no job store"));
            }
            if !identity_new {
                warn!(path = %path.display(), "a missing job store was started empty (--new-store)");
            }
        }
        Err(e) => return Err(WorkerError::io(path, e)),
    }
    Ok(())
}

/// Starts a worker: everything is loaded and listening when this returns.
pub async fn start(config: WorkerConfig) -> Result<RunningWorker, WorkerError> {
    let t = Instant::now();
    // First, so that every metric recorded while starting is exported.
    if let Some(m) = config.metrics {
        if config.metrics_token.is_none() && config.token.is_some() && config.tls.is_some() {
            // The metrics are plain HTTP: the API token would cross the network in clear.
            return Err(WorkerError::Config(
                "with TLS, the metrics (plain HTTP) need their own --metrics-token: the \
                 worker's --token would travel in clear"
                    .into(),
            ));
        }
        let token = config
            .metrics_token
            .clone()
            .or_else(|| config.token.clone());
        if token.as_deref() == Some("") {
            return Err(WorkerError::Config("--metrics-token is empty".into()));
        }
        let bound = metrics::serve(m, token.clone()).await?;
        info!(addr = %bound, token = token.is_some(), "metrics at /metrics");
    }
    std::fs::create_dir_all(&config.data).map_err(|e| WorkerError::io(&config.data, e))?;
    #[cfg(unix)]
    {
        // The job store and the worker's key: the operator's alone.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config.data, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| WorkerError::io(&config.data, e))?;
    }
    if config.token.as_deref() == Some("") {
        return Err(WorkerError::Config("--token is empty".into()));
    }
    let (key, created) = identity::load_or_create(&config.data)?;
    if created {
        info!(worker_id = %key.worker_id(), "made a new worker identity");
    }
    let selected = backend::select(config.backend)?;
    if selected.fell_back {
        warn!("{}", selected.notice);
    } else {
        info!("{}", selected.notice);
    }
    let executor = selected.executor;
    metrics::backend(&executor.name());
    let store_path = config.data.join(STORE_FILE);
    check_store_file(&store_path, created, config.new_store)?;
    let store = JobStore::open(&store_path, config.retain_finished)?;
    let (events, _) = broadcast::channel(1024);
    let worker = Arc::new(Worker {
        store,
        queue: JobQueue::new(config.max_queue),
        models: ModelStore::new(&config.models).with_registry(config.registry.clone()),
        executor,
        key,
        events,
        stopping: AtomicBool::new(false),
        stop: tokio::sync::watch::channel(false).0,
        fatal: std::sync::Mutex::new(None),
        message_cap: Default::default(),
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
    metrics::jobs_at_start(&worker.store.counts()?);
    let pipeline = Pipeline::start(worker.clone());
    let w = worker.clone();
    crate::fault::inject_fatal(move |why| w.fail_fatally(why))?;

    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<proto::worker_server::WorkerServer<Service>>()
        .await;
    // Reflection reveals the service's shape, not its data; behind the token all the same.
    let token = RequireToken::new(config.token.as_deref());
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| WorkerError::Internal(format!("reflection: {e}")))?;
    let reflection = InterceptedService::new(reflection, token.clone());
    let reflection_alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()
        .map_err(|e| WorkerError::Internal(format!("reflection: {e}")))?;
    let reflection_alpha = InterceptedService::new(reflection_alpha, token.clone());
    let service = InterceptedService::new(
        proto::worker_server::WorkerServer::new(Service::new(worker.clone()))
            .max_decoding_message_size(MAX_MESSAGE_BYTES),
        token,
    );

    // Memory is decided before a request is read: its length against the models' largest
    // input, and against one budget for every request in flight (`admission`).
    let admission = Admission::new(worker.message_cap.clone(), config.max_receiving);
    // Idle or silent connections do not hold the worker's file descriptors for ever.
    let mut builder = Server::builder()
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .http2_keepalive_timeout(Some(Duration::from_secs(10)))
        .max_concurrent_streams(Some(256))
        .concurrency_limit_per_connection(64);
    if let Some(tls) = &config.tls {
        let cert = std::fs::read(&tls.cert).map_err(|e| WorkerError::io(&tls.cert, e))?;
        let key = std::fs::read(&tls.key).map_err(|e| WorkerError::io(&tls.key, e))?;
        builder = builder
            .tls_config(
                ServerTlsConfig::new()
                    .identity(Identity::from_pem(cert, key))
                    .timeout(Duration::from_secs(10)),
            )
            .map_err(|e| WorkerError::Config(format!("TLS: {e}")))?;
    }
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| WorkerError::Config(format!("cannot listen on {}: {e}", config.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| WorkerError::Config(format!("cannot listen on {}: {e}", config.listen)))?;
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    // Our own accept loop (`listener`): connection caps, a first-byte deadline, backoff on
    // accept errors; and TCP_NODELAY — without it each response waits ~40 ms on Nagle's
    // algorithm (measured: 90 ms per job).
    let incoming = crate::listener::incoming(listener, config.limits);
    let router = builder
        .layer(admission.layer())
        .add_service(health_service)
        .add_service(reflection)
        .add_service(reflection_alpha)
        .add_service(service);
    let server = tokio::spawn(router.serve_with_incoming_shutdown(incoming, async {
        let _ = stop_rx.await;
    }));
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
        health,
        stop_server: Some(stop_tx),
        server,
        pipeline,
    })
}
