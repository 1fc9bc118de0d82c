//! The worker daemon on `../shared/bench/mlp_784_56_10`, both weight modes:
//! - start time: from `start()` to listening, with the model's keys loaded;
//! - per-job overhead: a job's latency through the daemon (gRPC submit, watch until it ends,
//!   fetch the receipt; persistence and scheduling in between) minus a bare in-process
//!   inference and proof of the same input, medians over sequential jobs;
//! - throughput: jobs per minute with the queue kept full.
//!
//! ```text
//! cargo bench --bench worker
//! ```
//!
//! Prints a Markdown table for BENCHMARKS.md.

use std::path::Path;
use std::time::{Duration, Instant};

use zkworker::model::input::{quantize_input, read_input_file};
use zkworker::model::onnx::{QuantizeOptions, import_float_graph, quantize};
use zkworker::model::{WeightMode, run, save_model};
use zkworker::prover::{LocalProver, Prover, setup};
use zkworker::verifier::{InputSalt, Job};
use zkworker::worker::WorkerConfig;
use zkworker::worker::client::{Client, connect, wait};
use zkworker::worker::proto as pb;

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

async fn job(client: &mut Client, model_id: &str, input: &[f64], k: usize) -> String {
    let r = client
        .submit_job(pb::SubmitJobRequest {
            model_id: model_id.into(),
            input: input.to_vec(),
            client_nonce: format!("n{k}"),
            input_salt: vec![7; 31],
            unsalted: false,
            idempotency_key: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    r.job_id
}

async fn wait_for_receipt(client: &mut Client, job_id: &str) {
    let job = wait(client, job_id, |_| {}).await.unwrap();
    assert_eq!(job.state, pb::JobState::Succeeded as i32);
    client
        .get_receipt(pb::GetReceiptRequest {
            job_id: job_id.into(),
        })
        .await
        .unwrap();
}

fn main() {
    let Some(shared) = zkworker::shared_dir() else {
        eprintln!("SKIPPED: shared folder not found (set ZKW_SHARED)");
        return;
    };
    let bench = shared.join("bench/mlp_784_56_10");
    let x = read_input_file(&bench.join("input.json")).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    println!(
        "| mode | worker start (keys loaded) | bare run + prove (median) | through the daemon (median) | per-job overhead | jobs / minute (queue full) |"
    );
    println!("|---|---|---|---|---|---|");
    for (mode, sequential, burst) in [(WeightMode::Fixed, 30, 60), (WeightMode::Private, 6, 12)] {
        let work = tempfile::tempdir().unwrap();
        let models = work.path().join("models");
        std::fs::create_dir_all(&models).unwrap();
        let model_id = prepare(&bench, &models, mode);

        // Bare: the same work in-process, no daemon.
        let prover = LocalProver::open(&models.join(mode.as_str())).unwrap();
        let q = quantize_input(&prover.model().input, &x).unwrap();
        let salt = InputSalt::from_bytes([7; 31]);
        let bare: Vec<f64> = (0..sequential)
            .map(|k| {
                let job = Job {
                    job_id: format!("bare-{k}"),
                    worker_id: "w".into(),
                    client_nonce: "n".into(),
                };
                let t = Instant::now();
                let trace = run(prover.model(), &q).unwrap();
                Prover::prove_trace(&prover, trace, &salt, &job).unwrap();
                t.elapsed().as_secs_f64()
            })
            .collect();
        drop(prover);

        let (start_s, daemon, per_min) = runtime.block_on(async {
            let mut config = WorkerConfig::new(work.path().join("data"), &models);
            config.max_queue = burst + 1;
            let t = Instant::now();
            let worker = zkworker::worker::start(config).await.unwrap();
            let start_s = t.elapsed().as_secs_f64();
            let mut client = connect(&format!("http://{}", worker.addr), None, None)
                .await
                .unwrap();
            let mut daemon = Vec::new();
            for k in 0..sequential {
                let t = Instant::now();
                let id = job(&mut client, &model_id, &x, k).await;
                wait_for_receipt(&mut client, &id).await;
                daemon.push(t.elapsed().as_secs_f64());
            }
            let t = Instant::now();
            let mut ids = Vec::new();
            for k in 0..burst {
                ids.push(job(&mut client, &model_id, &x, 1000 + k).await);
            }
            for id in &ids {
                wait_for_receipt(&mut client, id).await;
            }
            let per_min = burst as f64 / t.elapsed().as_secs_f64() * 60.0;
            worker.shutdown().await.unwrap();
            (start_s, daemon, per_min)
        });
        let (bare, daemon) = (median(bare), median(daemon));
        println!(
            "| {mode} | {:.0} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.0} |",
            start_s * 1e3,
            bare * 1e3,
            daemon * 1e3,
            (daemon - bare) * 1e3,
            per_min
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
