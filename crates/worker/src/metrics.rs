//! Prometheus metrics: jobs by state, queue depth, inference and prove durations, key-load
//! times and the backend in use. Recorded through the `metrics` facade (a no-op until the
//! recorder is installed), rendered by `metrics-exporter-prometheus` and served at `--metrics
//! ADDR` by [`serve`], behind `--metrics-token` (or `--token`) when one is set: the metrics
//! name the models served and how busy the worker is.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tracing::warn;

use crate::auth::constant_time_eq;
use crate::error::WorkerError;
use crate::job::JobState;

/// Scrapes served at once; more wait for a slot.
const MAX_SCRAPERS: usize = 16;

/// Serves the metrics at `addr` (`GET /metrics`) from this process's global recorder. With
/// `token`, a scrape must carry `authorization: Bearer <token>` (Prometheus'
/// `authorization.credentials`), or it is answered 401 and shown nothing.
pub async fn serve(addr: SocketAddr, token: Option<String>) -> Result<SocketAddr, WorkerError> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Suffix("_seconds".into()),
            &[
                0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
            ],
        )
        .and_then(|b| b.install_recorder())
        .map_err(|e| WorkerError::Config(format!("metrics at {addr}: {e}")))?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| WorkerError::Config(format!("metrics at {addr}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| WorkerError::Config(format!("metrics at {addr}: {e}")))?;
    {
        // Histograms are drained into their summaries by the upkeep.
        let handle = handle.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(5)).await;
                handle.run_upkeep();
            }
        });
    }
    let expected: Option<Arc<[u8]>> = token.map(|t| format!("Bearer {t}").into_bytes().into());
    let slots = Arc::new(Semaphore::new(MAX_SCRAPERS));
    tokio::spawn(async move {
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(s) => s,
                Err(e) => {
                    warn!("metrics: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            // As many scrapes as there are slots; another connection is closed at once
            // (a handful of silent ones must not keep Prometheus out).
            let Ok(slot) = slots.clone().try_acquire_owned() else {
                continue;
            };
            let (handle, expected) = (handle.clone(), expected.clone());
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let response = scrape(&handle, expected.as_deref(), &req);
                    async move { Ok::<_, std::convert::Infallible>(response) }
                });
                let conn = http1::Builder::new()
                    .keep_alive(false)
                    .timer(TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(10))
                    .serve_connection(TokioIo::new(stream), service);
                // A scrape that stalls is dropped with its connection.
                let _ = tokio::time::timeout(Duration::from_secs(60), conn).await;
                drop(slot);
            });
        }
    });
    Ok(bound)
}

/// One scrape: the metrics, or why not.
fn scrape<B>(
    handle: &PrometheusHandle,
    expected: Option<&[u8]>,
    req: &http::Request<B>,
) -> http::Response<Full<Bytes>> {
    let reply = |status: u16, body: String| {
        let mut r = http::Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = http::StatusCode::from_u16(status).expect("a valid status");
        r
    };
    if req.uri().path() != "/metrics" {
        return reply(404, "not found: the metrics are at /metrics\n".into());
    }
    if let Some(expected) = expected {
        let given = req.headers().get(http::header::AUTHORIZATION);
        if !given.is_some_and(|v| constant_time_eq(v.as_bytes(), expected)) {
            let mut r = reply(401, "the metrics require a bearer token\n".into());
            r.headers_mut().insert(
                http::header::WWW_AUTHENTICATE,
                http::HeaderValue::from_static("Bearer"),
            );
            return r;
        }
    }
    let mut r = reply(200, handle.render());
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    r
}

/// A job entered `state` (from `previous`, none for a new job): the count of transitions into
/// each state, and the number of jobs in each state now.
pub fn job_moved(previous: Option<JobState>, state: JobState) {
    counter!("zkw_job_transitions_total", "state" => state.as_str()).increment(1);
    if let Some(p) = previous {
        gauge!("zkw_jobs", "state" => p.as_str()).decrement(1.0);
    }
    gauge!("zkw_jobs", "state" => state.as_str()).increment(1.0);
}

/// The jobs in each state when the worker starts.
pub fn jobs_at_start(counts: &std::collections::BTreeMap<JobState, usize>) {
    for state in JobState::ALL {
        let n = counts.get(&state).copied().unwrap_or(0);
        gauge!("zkw_jobs", "state" => state.as_str()).set(n as f64);
    }
}

/// Jobs waiting in the queue.
pub fn queue_depth(n: usize) {
    gauge!("zkw_queue_depth").set(n as f64);
}

/// One inference.
pub fn inference(d: Duration) {
    histogram!("zkw_inference_seconds").record(d.as_secs_f64());
}

/// One proof.
pub fn prove(d: Duration) {
    histogram!("zkw_prove_seconds").record(d.as_secs_f64());
}

/// A model's keys were loaded.
pub fn key_load(model_id: &str, d: Duration) {
    gauge!("zkw_key_load_seconds", "model" => model_id.to_string()).set(d.as_secs_f64());
}

/// The executor in use.
pub fn backend(name: &str) {
    gauge!("zkw_backend_info", "backend" => name.to_string()).set(1.0);
}

/// Connections open now (accepted and spoken).
pub fn connections_open(n: usize) {
    gauge!("zkw_connections_open").set(n as f64);
}

/// A connection refused, or closed by the worker, and why (`max_connections`,
/// `max_per_peer`, `silent`, `closed_silent`, `accept_error`, `idle`).
pub fn connection_refused(reason: &'static str) {
    counter!("zkw_connections_refused_total", "reason" => reason).increment(1);
}

/// A job whose stored record or input was damaged was quarantined (kept aside, failed).
pub fn quarantined() {
    counter!("zkw_jobs_quarantined_total").increment(1);
}

/// A request refused before it was decoded, and why (`too_large`, `busy`, `silent`).
pub fn request_shed(reason: &'static str) {
    counter!("zkw_requests_shed_total", "reason" => reason).increment(1);
}
