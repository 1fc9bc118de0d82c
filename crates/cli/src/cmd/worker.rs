//! `zkw worker`: runs the worker daemon until SIGTERM or Ctrl-C (which drain it); SIGHUP loads
//! models added to the models directory.
//!
//! Exit codes, for supervisors (`deploy/zkw-worker.service` restarts on failure):
//!
//! | code | meaning |
//! |---|---|
//! | 0 | stopped on request (SIGTERM, Ctrl-C), drained |
//! | 2 | could not start (configuration, store, keys, address), or failed while draining |
//! | 3 | stopped on a fatal error while running (its store failed, a pipeline task died): restart it, accepted jobs resume |
//! | 130 | a second stop signal while draining: stopped at once, accepted jobs resume |

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use zkw_worker::{Backend, TlsFiles, WorkerConfig};

/// The address `zkw worker` listens on and the client commands call by default.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7700";

/// The log filter when `RUST_LOG` is not set.
pub const DEFAULT_LOG_FILTER: &str = "warn,zkw_worker=info,zkw=info";

/// `zkw worker`: run the daemon, or work on its store.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct WorkerCmd {
    /// Work on a worker's job store instead of running it.
    #[command(subcommand)]
    pub command: Option<WorkerSub>,
    #[command(flatten)]
    pub run: Option<WorkerArgs>,
}

/// `zkw worker …`.
#[derive(clap::Subcommand)]
pub enum WorkerSub {
    /// Check a job store, or salvage what can be read from a damaged one.
    #[command(subcommand)]
    Store(crate::cmd::store::StoreCmd),
}

/// `zkw worker` (the daemon).
#[derive(Args)]
pub struct WorkerArgs {
    /// Where to listen for gRPC.
    #[arg(long, default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// The data directory: the job store and the worker's key (made on first start).
    #[arg(long)]
    pub data: PathBuf,
    /// The models directory: key directories as `zkw model setup` writes them.
    #[arg(long)]
    pub models: PathBuf,
    /// A settlement registry (`zkw model register`): serve only models whose keys are the ones
    /// their owner registered there (same record, same key-file digests), and warn of those
    /// this worker holds no valid licence for.
    #[arg(long)]
    pub registry: Option<PathBuf>,
    /// Require `authorization: Bearer <token>` on every call (health excepted).
    #[arg(long, env = "ZKW_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Serve TLS with this certificate (PEM); needs --tls-key.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Which executor runs the models: auto (a GPU if there is one), gpu, or cpu.
    #[arg(long, default_value = "auto")]
    pub backend: Backend,
    /// The most jobs that may wait; beyond, submits are refused (RESOURCE_EXHAUSTED).
    #[arg(long, default_value_t = 64)]
    pub max_queue: usize,
    /// The most queued jobs run together: those of one model as one batch on the executor.
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// Proofs made at the same time.
    #[arg(long, default_value_t = 1)]
    pub proofs: usize,
    /// Serve Prometheus metrics at this address (GET /metrics).
    #[arg(long)]
    pub metrics: Option<SocketAddr>,
    /// Require `authorization: Bearer <token>` on metrics scrapes (default: --token's, if
    /// set; with neither, the metrics are open).
    #[arg(
        long,
        env = "ZKW_METRICS_TOKEN",
        hide_env_values = true,
        requires = "metrics"
    )]
    pub metrics_token: Option<String>,
    /// MiB of requests being received and decoded at once, over all connections; beyond,
    /// requests are refused (RESOURCE_EXHAUSTED) before they are read.
    #[arg(long, default_value_t = 64)]
    pub max_receiving: usize,
    /// Ended jobs kept with their receipts; older ones are dropped.
    #[arg(long, default_value_t = 100_000)]
    pub retain_finished: usize,
    /// Start an empty job store where the data directory's store is missing or empty (0
    /// bytes) although it holds a worker identity: without it such a start is refused, since
    /// the jobs the store kept are gone.
    #[arg(long)]
    pub new_store: bool,
    /// Connections open at once; beyond, new ones are closed at once.
    #[arg(long, default_value_t = 1024)]
    pub max_connections: usize,
    /// Connections open at once from one peer address.
    #[arg(long, default_value_t = 256)]
    pub max_connections_per_peer: usize,
    /// Seconds a new connection may stay silent before it is closed.
    #[arg(long, default_value_t = 10)]
    pub first_byte_timeout: u64,
    /// Seconds a connection may have no call open before it is closed (0: never).
    #[arg(long, default_value_t = 300)]
    pub idle_timeout: u64,
}

impl WorkerArgs {
    fn config(self) -> WorkerConfig {
        WorkerConfig {
            listen: self.listen,
            registry: self.registry,
            token: self.token,
            tls: self
                .tls_cert
                .zip(self.tls_key)
                .map(|(cert, key)| TlsFiles { cert, key }),
            backend: self.backend,
            max_queue: self.max_queue,
            batch: self.batch,
            proofs: self.proofs,
            metrics: self.metrics,
            metrics_token: self.metrics_token,
            max_receiving: self.max_receiving.saturating_mul(1 << 20),
            retain_finished: self.retain_finished,
            new_store: self.new_store,
            limits: zkw_worker::listener::Limits {
                max_connections: self.max_connections,
                max_per_peer: self.max_connections_per_peer,
                first_byte: Duration::from_secs(self.first_byte_timeout),
                idle: Duration::from_secs(self.idle_timeout),
            },
            ..WorkerConfig::new(self.data, self.models)
        }
    }
}

/// Structured logs on stderr: the worker's at `info`, everything else at `warn`, unless
/// `RUST_LOG` says otherwise. (arkworks opens a tracing span per gadget call: enabling its
/// `info` spans makes a proof many times slower.)
pub fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER));
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

/// Exit code: stopped on a fatal error while running.
pub const EXIT_FATAL: u8 = 3;

/// How long a worker that must stop on a fatal error waits for its proofs under way and its
/// open calls before it exits anyway: a supervisor sees the failure within this bound.
pub const FATAL_GRACE: Duration = Duration::from_secs(20);

/// How `serve` ended.
enum Ended {
    /// Stopped on request, drained.
    Stopped,
    /// Stopped on a fatal error while running.
    Fatal,
}

/// Runs the daemon; the exit code says how it ended (see the module docs).
pub fn worker(a: WorkerArgs) -> ExitCode {
    init_logs();
    let result = tokio::runtime::Runtime::new()
        .context("starting the async runtime")
        .and_then(|rt| rt.block_on(serve(a.config())));
    match result {
        Ok(Ended::Stopped) => ExitCode::SUCCESS,
        Ok(Ended::Fatal) => ExitCode::from(EXIT_FATAL),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn serve(config: WorkerConfig) -> Result<Ended> {
    // Handlers first: a SIGHUP or SIGTERM while the keys load must not kill the process.
    let (mut stop, mut reload) = install_signals()?;
    // Every connection holds a descriptor: the connection cap decides, not the soft limit.
    if let Some(n) = zkw_worker::listener::raise_open_file_limit() {
        tracing::info!(open_files = n, "open-file limit");
    }
    let tls = config.tls.is_some();
    let running = zkw_worker::start(config).await?;
    // One line on stdout for people and scripts (with port 0, the port chosen).
    outln!(
        "zkw worker listening on {}://{} (worker id {})",
        if tls { "https" } else { "http" },
        running.addr,
        running.worker_id()
    );
    loop {
        tokio::select! {
            _ = stop.recv() => break,
            _ = reload.recv() => {
                let w = running.worker().clone();
                // In the background: a SIGTERM during a long reload is not kept waiting.
                tokio::task::spawn_blocking(move || match w.reload() {
                    Ok(r) => tracing::info!(added = r.added.len(), failed = r.failed.len(), "reloaded models"),
                    Err(e) => tracing::warn!("reload failed: {e}"),
                });
            }
            why = running.failed() => {
                // NOT_SERVING first (shutdown's first step), then a bounded drain: a
                // supervisor must see the process end, not a worker that cannot work.
                eprintln!("error: the worker stopped: {why} (restart it: accepted jobs resume)");
                if tokio::time::timeout(FATAL_GRACE, running.shutdown()).await.is_err() {
                    eprintln!("error: still draining after {FATAL_GRACE:?}: exiting now");
                }
                return Ok(Ended::Fatal);
            }
        }
    }
    tracing::info!("draining: no new jobs; proofs under way finish, queued jobs resume on restart");
    tokio::select! {
        r = running.shutdown() => r?,
        _ = stop.recv() => {
            eprintln!("second stop signal: exiting now (accepted jobs resume on restart)");
            std::process::exit(130);
        }
    }
    tracing::info!("stopped");
    Ok(Ended::Stopped)
}

/// SIGTERM or Ctrl-C: stop.
struct Stop {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

/// SIGHUP: reload the models.
struct Reload {
    #[cfg(unix)]
    hup: tokio::signal::unix::Signal,
}

fn install_signals() -> Result<(Stop, Reload)> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        Ok((
            Stop {
                term: signal(SignalKind::terminate()).context("installing the SIGTERM handler")?,
            },
            Reload {
                hup: signal(SignalKind::hangup()).context("installing the SIGHUP handler")?,
            },
        ))
    }
    #[cfg(not(unix))]
    Ok((Stop {}, Reload {}))
}

impl Stop {
    async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

impl Reload {
    async fn recv(&mut self) {
        #[cfg(unix)]
        self.hup.recv().await;
        #[cfg(not(unix))]
        std::future::pending::<()>().await;
    }
}
