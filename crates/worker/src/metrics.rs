//! Prometheus metrics: jobs by state, queue depth, inference and prove durations, key-load
//! times and the backend in use. Recorded through the `metrics` facade (a no-op until an
//! exporter is installed), served at `--metrics ADDR` by `metrics-exporter-prometheus`.

use std::net::SocketAddr;
use std::time::Duration;

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::PrometheusBuilder;

use crate::error::WorkerError;
use crate::job::JobState;

/// Serves the metrics at `addr` (`GET /metrics`) from this process's global recorder.
pub fn install(addr: SocketAddr) -> Result<(), WorkerError> {
    PrometheusBuilder::new()
        .with_http_listener(addr)
        .set_buckets_for_metric(
            metrics_exporter_prometheus::Matcher::Suffix("_seconds".into()),
            &[
                0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
            ],
        )
        .and_then(|b| b.install())
        .map_err(|e| WorkerError::Config(format!("metrics at {addr}: {e}")))
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

/// A connection refused or closed before it was served, and why (`max_connections`,
/// `max_per_peer`, `silent`, `closed_silent`, `accept_error`).
pub fn connection_refused(reason: &'static str) {
    counter!("zkw_connections_refused_total", "reason" => reason).increment(1);
}

/// A job whose stored record or input was damaged was quarantined (kept aside, failed).
pub fn quarantined() {
    counter!("zkw_jobs_quarantined_total").increment(1);
}
