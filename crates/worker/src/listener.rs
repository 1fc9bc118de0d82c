//! Connection hygiene in front of the gRPC server: what a connection may cost before it is
//! known to speak.
//!
//! tonic's own accept loop takes every TCP connection for ever and, when the process runs out
//! of file descriptors, retries `accept` at once, spinning a core with nothing logged. A
//! reliability probe made the worker unreachable with 1,012 silent connections at systemd's
//! default limit of 1,024 files. Here the worker accepts itself, and:
//!
//! - caps the connections open at once ([`Limits::max_connections`]) and per peer address
//!   ([`Limits::max_per_peer`]): beyond either, a new connection is closed at once;
//! - hands a connection to the server only once its first byte arrived, within
//!   [`Limits::first_byte`] (HTTP/2 clients speak first: the connection preface; a TLS client
//!   its hello) — a connection that stays silent is closed, holding nothing meanwhile but its
//!   descriptor and a timer;
//! - backs off after an `accept` error (1 ms doubling to 1 s) and logs it at most once every
//!   10 s, instead of spinning;
//! - counts what it refuses (`zkw_connections_refused_total{reason}`) and the connections
//!   open (`zkw_connections_open`).
//!
//! - closes a connection that has had no call open for [`Limits::idle`] (5 minutes): a client
//!   that answers keep-alive pings but never calls again does not hold a descriptor for ever.
//!
//! [`raise_open_file_limit`] lifts the process's soft limit on open files to its hard limit at
//! start, so the cap, not the operating system, decides. Once a connection speaks, HTTP/2
//! keep-alive pings (30 s, answered within 10 s) close one whose peer is gone.

use std::collections::HashMap;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::{Connected, TcpConnectInfo};
use tracing::warn;

use crate::metrics;

/// What a connection may take.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections open at once.
    pub max_connections: usize,
    /// Connections open at once from one peer address.
    pub max_per_peer: usize,
    /// How long a new connection may stay silent before it is closed.
    pub first_byte: Duration,
    /// How long a connection may have no call open before it is closed (zero: never).
    pub idle: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 1024,
            max_per_peer: 256,
            first_byte: Duration::from_secs(10),
            idle: Duration::from_secs(300),
        }
    }
}

/// The connections open, in all and per peer.
#[derive(Default)]
struct Open {
    total: usize,
    per_peer: HashMap<IpAddr, usize>,
}

/// A connection's place among the open ones, given back when it closes.
struct Slot {
    open: Arc<Mutex<Open>>,
    peer: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.total -= 1;
        if let Some(n) = open.per_peer.get_mut(&self.peer) {
            *n -= 1;
            if *n == 0 {
                open.per_peer.remove(&self.peer);
            }
        }
        metrics::connections_open(open.total);
    }
}

/// What a connection is doing: the calls open on it now, and when that last changed. The
/// server's requests carry it (in [`ConnInfo`]); [`crate::admission`] counts each call from
/// its start to the end of its response, streams included.
#[derive(Debug)]
pub struct Activity {
    open: AtomicUsize,
    since: Mutex<Instant>,
}

impl Activity {
    fn new() -> Arc<Activity> {
        Arc::new(Activity {
            open: AtomicUsize::new(0),
            since: Mutex::new(Instant::now()),
        })
    }

    /// A call started; it ends when the guard is dropped.
    pub fn begin(self: &Arc<Self>) -> CallGuard {
        self.open.fetch_add(1, Ordering::SeqCst);
        self.touch();
        CallGuard(self.clone())
    }

    fn touch(&self) {
        *self.since.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
    }

    /// How long the connection has had no call open (`None` while one is).
    fn idle_for(&self) -> Option<Duration> {
        let since = *self.since.lock().unwrap_or_else(|p| p.into_inner());
        (self.open.load(Ordering::SeqCst) == 0).then(|| since.elapsed())
    }
}

/// One call open on a connection (see [`Activity::begin`]).
#[derive(Debug)]
pub struct CallGuard(Arc<Activity>);

impl Drop for CallGuard {
    fn drop(&mut self) {
        // The time first: a read between the two must not see no call open since long ago.
        self.0.touch();
        self.0.open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What the server knows of a connection: its addresses and its activity.
#[derive(Debug, Clone)]
pub struct ConnInfo {
    /// Its addresses.
    pub tcp: TcpConnectInfo,
    /// Its calls.
    pub activity: Arc<Activity>,
}

/// An accepted connection that has spoken, holding its place until it closes — or until it
/// has had no call open for [`Limits::idle`]: then its reads end, and the server closes it.
pub struct Conn {
    stream: TcpStream,
    _slot: Slot,
    activity: Arc<Activity>,
    idle: Duration,
    timer: Pin<Box<tokio::time::Sleep>>,
}

impl Conn {
    /// Whether the connection has been idle too long; otherwise the timer is set for the
    /// moment it would be (and wakes the connection's task then).
    fn idle_expired(&mut self, cx: &mut Context<'_>) -> bool {
        if self.idle.is_zero() {
            return false;
        }
        while self.timer.as_mut().poll(cx).is_ready() {
            let wait = match self.activity.idle_for() {
                Some(d) if d >= self.idle => return true,
                Some(d) => self.idle - d,
                None => self.idle,
            };
            self.timer
                .as_mut()
                .reset(tokio::time::Instant::now() + wait);
        }
        false
    }
}

impl Connected for Conn {
    type ConnectInfo = ConnInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        ConnInfo {
            tcp: self.stream.connect_info(),
            activity: self.activity.clone(),
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.idle_expired(cx) {
            // The end of the stream: the server closes the connection.
            metrics::connection_refused("idle");
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// The connections `listener` accepts, within `limits`, as the server's incoming stream. The
/// accept loop runs until the stream is dropped (the server stopped).
pub fn incoming(
    listener: TcpListener,
    limits: Limits,
) -> ReceiverStream<Result<Conn, std::io::Error>> {
    let (tx, rx) = mpsc::channel(64);
    tokio::spawn(accept_loop(listener, limits, tx));
    ReceiverStream::new(rx)
}

async fn accept_loop(
    listener: TcpListener,
    limits: Limits,
    tx: mpsc::Sender<Result<Conn, std::io::Error>>,
) {
    let open = Arc::new(Mutex::new(Open::default()));
    let mut backoff = Duration::from_millis(1);
    let mut last_log: Option<Instant> = None;
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = tx.closed() => return,
        };
        let (stream, peer) = match accepted {
            Ok(a) => {
                backoff = Duration::from_millis(1);
                a
            }
            Err(e) => {
                // Out of descriptors (EMFILE), memory, or a connection reset before it was
                // taken: wait instead of spinning, and say so now and then.
                metrics::connection_refused("accept_error");
                if last_log.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
                    warn!("accepting a connection failed ({e}); backing off {backoff:?}");
                    last_log = Some(Instant::now());
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        let slot = {
            let mut o = open.lock().unwrap_or_else(|p| p.into_inner());
            let from_peer = o.per_peer.get(&peer.ip()).copied().unwrap_or(0);
            let refused = if o.total >= limits.max_connections {
                Some("max_connections")
            } else if from_peer >= limits.max_per_peer {
                Some("max_per_peer")
            } else {
                None
            };
            if let Some(reason) = refused {
                metrics::connection_refused(reason);
                drop(stream);
                continue;
            }
            o.total += 1;
            *o.per_peer.entry(peer.ip()).or_insert(0) += 1;
            metrics::connections_open(o.total);
            Slot {
                open: open.clone(),
                peer: peer.ip(),
            }
        };
        let _ = stream.set_nodelay(true);
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut byte = [0u8; 1];
            match tokio::time::timeout(limits.first_byte, stream.peek(&mut byte)).await {
                Ok(Ok(n)) if n > 0 => {
                    let conn = Conn {
                        stream,
                        _slot: slot,
                        activity: Activity::new(),
                        idle: limits.idle,
                        timer: Box::pin(tokio::time::sleep(limits.idle)),
                    };
                    let _ = tx.send(Ok(conn)).await;
                }
                Ok(_) => metrics::connection_refused("closed_silent"),
                Err(_) => metrics::connection_refused("silent"),
            }
        });
    }
}

/// Raises the process's soft limit on open files to its hard limit (Unix); the limit now.
// The one unsafe call of the worker: libc's getrlimit and setrlimit.
#[allow(unsafe_code)]
pub fn raise_open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit and setrlimit write and read the one struct passed.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
                return None;
            }
            if lim.rlim_cur < lim.rlim_max {
                let raised = libc::rlimit {
                    rlim_cur: lim.rlim_max,
                    rlim_max: lim.rlim_max,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                    lim = raised;
                }
            }
        }
        // `rlim_t` is u64 on Linux, another width elsewhere.
        #[allow(clippy::unnecessary_cast)]
        Some(lim.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    {
        None
    }
}
