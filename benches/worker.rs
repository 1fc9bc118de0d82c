//! The worker daemon on `benches/models/mlp_784_56_10`, both weight modes:
//! - start time: from `start()` to listening, with the model's keys loaded;
//! - per-job overhead: a job's latency through the daemon (gRPC submit, watch until it ends,
//!   fetch the receipt; persistence and scheduling in between) minus a bare in-process
//!   inference and proof of the same input, run alternately (the median of the pairs'
//!   differences, so the machine's drift hits both sides alike); and, free of the proof's own
//!   variance, the client-observed latency minus the time the job's persisted history spent in
//!   PROVING (what remains is gRPC, persistence, scheduling and the inference);
//! - throughput: jobs per minute with the queue kept full.
//!
//! ```text
//! cargo bench --bench worker
//! ```
//!
//! Prints a Markdown table for BENCHMARKS.md.

use std::path::Path;
use std::time::{Duration, Instant};

use zkw_model::input::{quantize_input, read_input_file};
use zkw_model::{WeightMode, run};
use zkw_onnx::{QuantizeOptions, import_float_graph, quantize};
use zkw_prover::save_model;
use zkw_prover::{LocalProver, Prover, setup};
use zkw_verifier::{InputSalt, Job};
use zkw_worker::WorkerConfig;
use zkw_worker::client::{Client, connect, wait};
use zkw_worker::proto as pb;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn prepare(bench: &Path, models: &Path, mode: WeightMode) -> String {
    let x = read_input_file(&bench.join("input.json")).unwrap();
    let graph = import_float_graph(&bench.join("network.onnx")).unwrap();
    let options = QuantizeOptions {
        weight_mode: mode,
        ..Default::default()
    };
    let model = quantize(&graph, &options, Some(&x)).unwrap();
    let zkm = models.with_file_name(format!("{mode}.zkm"));
    let id = save_model(&model, &zkm).unwrap();
    setup(&model, &id, &models.join(mode.as_str()), &|_| {}).unwrap();
    id.to_hex()
}

async fn submit(client: &mut Client, model_id: &str, input: &[f64], k: usize) -> String {
    let r = client
        .submit_job(pb::SubmitJobRequest {
            model_id: model_id.into(),
            input: input.to_vec(),
            client_nonce: format!("n{k}"),
            input_salt: vec![7; 31],
            unsalted: false,
            idempotency_key: String::new(),
            client_request: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    r.job_id
}

/// Waits for the job's receipt; returns the milliseconds the job spent in PROVING (the proof,
/// the receipt's check and its signature), from the job's persisted history.
async fn wait_for_receipt(client: &mut Client, job_id: &str) -> f64 {
    let job = wait(client, job_id, |_| {}).await.unwrap();
    assert_eq!(job.state, pb::JobState::Succeeded as i32);
    let at = |s: pb::JobState| {
        job.history
            .iter()
            .find(|t| t.state == s as i32)
            .map(|t| t.at_unix_ms)
            .unwrap()
    };
    let proving = (at(pb::JobState::Succeeded) - at(pb::JobState::Proving)) as f64 / 1e3;
    client
        .get_receipt(pb::GetReceiptRequest {
            job_id: job_id.into(),
        })
        .await
        .unwrap();
    proving
}

fn main() {
    let bench = zkworker::bench_models_dir().join("mlp_784_56_10");
    let x = read_input_file(&bench.join("input.json")).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    println!(
        "| mode | worker start (keys loaded) | key load alone | bare run + prove (median) | through the daemon (median) | per-job overhead (median of pairs) | daemon time outside PROVING | jobs / minute (queue full) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (mode, pairs, burst) in [(WeightMode::Fixed, 30, 60), (WeightMode::Private, 8, 12)] {
        let work = tempfile::tempdir().unwrap();
        let models = work.path().join("models");
        std::fs::create_dir_all(&models).unwrap();
        let model_id = prepare(&bench, &models, mode);
        let keys = models.join(mode.as_str());

        // Loading the keys alone, as the worker does at start.
        let t = Instant::now();
        let prover = LocalProver::open(&keys).unwrap();
        let load_s = t.elapsed().as_secs_f64();
        let q = quantize_input(&prover.model().input_info(), &x).unwrap();
        let salt = InputSalt::from_bytes([7; 31]);

        let (start_s, bare, daemon, diffs, outside, per_min) = runtime.block_on(async {
            let mut config = WorkerConfig::new(work.path().join("data"), &models);
            config.max_queue = burst + 1;
            let t = Instant::now();
            let worker = zkw_worker::start(config).await.unwrap();
            let start_s = t.elapsed().as_secs_f64();
            let mut client = connect(&format!("http://{}", worker.addr), None, None)
                .await
                .unwrap();
            // Alternating, so that the machine's drift hits both alike: the same input run and
            // proved in-process, then through the daemon (submit, watch to the end, receipt).
            let (mut bare, mut daemon, mut diffs, mut outside) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for k in 0..pairs {
                let job = Job {
                    job_id: format!("bare-{k}"),
                    worker_id: "w".into(),
                    client_nonce: "n".into(),
                    request: None,
                };
                let t = Instant::now();
                let trace = run(prover.model(), &q).unwrap();
                Prover::prove_trace(&prover, trace, &salt, &job).unwrap();
                let b = t.elapsed().as_secs_f64();
                let t = Instant::now();
                let id = submit(&mut client, &model_id, &x, k).await;
                let proving = wait_for_receipt(&mut client, &id).await;
                let d = t.elapsed().as_secs_f64();
                outside.push(d - proving);
                bare.push(b);
                daemon.push(d);
                diffs.push(d - b);
            }
            let t = Instant::now();
            let mut ids = Vec::new();
            for k in 0..burst {
                ids.push(submit(&mut client, &model_id, &x, 1000 + k).await);
            }
            for id in &ids {
                wait_for_receipt(&mut client, id).await;
            }
            let per_min = burst as f64 / t.elapsed().as_secs_f64() * 60.0;
            worker.shutdown().await.unwrap();
            (start_s, bare, daemon, diffs, outside, per_min)
        });
        println!(
            "| {mode} | {:.0} ms | {:.0} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.0} |",
            start_s * 1e3,
            load_s * 1e3,
            median(bare) * 1e3,
            median(daemon) * 1e3,
            median(diffs) * 1e3,
            median(outside) * 1e3,
            per_min
        );
        drop(prover);
        std::thread::sleep(Duration::from_millis(100));
    }
}
