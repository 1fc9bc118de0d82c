//! What an operator configures (`zkw worker` flags).

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::backend::Backend;

/// A TLS certificate and its key, PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain.
    pub cert: PathBuf,
    /// The private key.
    pub key: PathBuf,
}

/// The worker's settings.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Where to listen for gRPC (port 0: any free port).
    pub listen: SocketAddr,
    /// The data directory: the job store and the worker's key.
    pub data: PathBuf,
    /// The models directory: key directories as `zkw model setup` writes them.
    pub models: PathBuf,
    /// A settlement registry: serve only models whose key directories match their owner's
    /// registration there.
    pub registry: Option<PathBuf>,
    /// Calls must carry `authorization: Bearer <token>` (the health service excepted).
    pub token: Option<String>,
    /// Serve TLS with this certificate and key.
    pub tls: Option<TlsFiles>,
    /// Which executor runs the models.
    pub backend: Backend,
    /// The most jobs that may wait in the queue; beyond, submits get RESOURCE_EXHAUSTED.
    pub max_queue: usize,
    /// The most queued jobs the executor takes at once: those of one model run as one batch
    /// (one GPU dispatch per op for all of them).
    pub batch: usize,
    /// Proofs made at the same time (each uses every core; more overlap only helps when jobs
    /// are small).
    pub proofs: usize,
    /// Times a job may be started before a transient failure (or a worker crash under it) is
    /// final.
    pub max_attempts: u32,
    /// Serve Prometheus metrics at this address.
    pub metrics: Option<SocketAddr>,
    /// Scrapes of the metrics must carry `authorization: Bearer <token>`; `None` uses
    /// [`WorkerConfig::token`] (and with neither, the metrics are open).
    pub metrics_token: Option<String>,
    /// Bytes of requests being received and decoded at once, over all connections; beyond,
    /// requests are shed with RESOURCE_EXHAUSTED before they are read (see
    /// [`crate::admission`]).
    pub max_receiving: usize,
    /// Ended jobs kept (with their receipts); older ones are dropped.
    pub retain_finished: usize,
    /// Start an empty job store where the data directory's is missing or empty although the
    /// directory holds a worker identity (a store lost or truncated): without it, such a start
    /// is refused, so that jobs are never dropped without a word.
    pub new_store: bool,
    /// What a connection may take before it is served (caps, the first-byte deadline).
    pub limits: crate::listener::Limits,
}

impl WorkerConfig {
    /// The defaults for a worker with these directories, on a free loopback port.
    pub fn new(data: impl Into<PathBuf>, models: impl Into<PathBuf>) -> Self {
        WorkerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data: data.into(),
            models: models.into(),
            registry: None,
            token: None,
            tls: None,
            backend: Backend::Auto,
            max_queue: 64,
            batch: 8,
            proofs: 1,
            max_attempts: 3,
            metrics: None,
            metrics_token: None,
            max_receiving: 64 << 20,
            retain_finished: 100_000,
            new_store: false,
            limits: crate::listener::Limits::default(),
        }
    }
}
