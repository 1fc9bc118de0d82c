//! Setup, prove and verify on a benchmark model (default `benches/models/mlp_784_56_10`), every
//! weight mode.
//!
//! ```text
//! cargo bench --bench mlp
//! ZKW_BENCH_MODEL=lenet5 cargo bench --bench mlp     # any folder of benches/models
//! ZKW_BENCH_MODES=fixed,committed cargo bench --bench mlp
//! ```
//!
//! Each phase runs in its own child process so that its peak memory (VmHWM) is its own: setup
//! (import, synthesis, key generation, key files), prove (key loading, then the best of 3
//! proofs) and verify (median of 200). Prints a Markdown table for BENCHMARKS.md.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use zkw_model::input::{quantize_input, read_input_file};
use zkw_model::{WeightMode, load_model};
use zkw_onnx::{QuantizeOptions, import_float_graph, quantize};
use zkw_prover::save_model;
use zkw_prover::{KeyDir, LocalProver, setup};
use zkw_verifier::Job;
use zkw_verifier::{Expected, InputSalt, Receipt, verify};

mod common;
use common::peak_rss_mib;

fn run_child(phase: &str, mode: WeightMode, work: &Path) -> serde_json::Value {
    common::run_child(
        &[
            ("ZKW_BENCH_PHASE", phase.as_ref()),
            ("ZKW_BENCH_MODE", mode.as_str().as_ref()),
            ("ZKW_BENCH_WORK", work.as_os_str()),
        ],
        "ZKW_BENCH ",
    )
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn child(phase: &str, mode: WeightMode, bench: &Path, work: &Path) {
    let model_path = work.join("model.zkm");
    let keys = work.join("keys");
    let out = match phase {
        "setup" => {
            let x = read_input_file(&bench.join("input.json")).unwrap();
            let graph = import_float_graph(&bench.join("network.onnx")).unwrap();
            let options = QuantizeOptions {
                weight_mode: mode,
                ..Default::default()
            };
            let model = quantize(&graph, &options, Some(&x)).unwrap();
            let id = save_model(&model, &model_path).unwrap();
            let t = Instant::now();
            let r = setup(&model, &id, &keys, &|_| {}).unwrap();
            serde_json::json!({
                "setup_s": secs(t.elapsed()),
                "phases": r.timings.iter().map(|(p, d)| (p.to_string(), secs(*d))).collect::<Vec<_>>(),
                "constraints": r.record.constraints,
                "witnesses": r.witness_variables,
                "pk_bytes": r.pk_bytes, "vk_bytes": r.vk_bytes, "r1cs_bytes": r.r1cs_bytes, "baseline_bytes": r.baseline_bytes,
                "peak_mib": peak_rss_mib(),
            })
        }
        "prove" => {
            let (model, id) = load_model(&model_path).unwrap();
            let x = read_input_file(&bench.join("input.json")).unwrap();
            let q = quantize_input(&model.input_info(), &x).unwrap();
            let t = Instant::now();
            let prover = LocalProver::load(model, &id, &keys).unwrap();
            let load = secs(t.elapsed());
            let mut runs = Vec::new();
            let mut last = None;
            for k in 0..3 {
                let job = Job {
                    job_id: format!("bench-{k}"),
                    worker_id: "bench".into(),
                    client_nonce: String::new(),
                    request: None,
                };
                let t = Instant::now();
                let p = prover
                    .prove(&q, &InputSalt::from_bytes([7; 31]), &job)
                    .unwrap();
                runs.push(secs(t.elapsed()));
                last = Some(p);
            }
            let last = last.unwrap();
            std::fs::write(work.join("receipt.json"), last.receipt.to_json()).unwrap();
            serde_json::json!({
                "load_s": load,
                "prove_s": runs,
                "phases": last.timings.iter().map(|(p, d)| (p.to_string(), secs(*d))).collect::<Vec<_>>(),
                "proof_bytes": hex::decode(&last.receipt.proof).unwrap().len(),
                "peak_mib": peak_rss_mib(),
            })
        }
        "verify" => {
            let receipt =
                Receipt::from_json(&std::fs::read(work.join("receipt.json")).unwrap()).unwrap();
            let dir = KeyDir::new(&keys);
            let t = Instant::now();
            let record = dir.read_record().unwrap();
            let key = dir.read_vk(&record).unwrap();
            let load = secs(t.elapsed());
            let mut runs: Vec<f64> = (0..200)
                .map(|_| {
                    let t = Instant::now();
                    verify(&receipt, &key, &Expected::model_only(&record)).unwrap();
                    secs(t.elapsed())
                })
                .collect();
            runs.sort_by(f64::total_cmp);
            serde_json::json!({ "load_s": load, "verify_median_s": runs[runs.len() / 2], "peak_mib": peak_rss_mib() })
        }
        other => panic!("unknown phase {other}"),
    };
    println!("ZKW_BENCH {out}");
}

fn main() {
    let name = std::env::var("ZKW_BENCH_MODEL").unwrap_or_else(|_| "mlp_784_56_10".into());
    let bench = zkworker::bench_models_dir().join(name);
    if let (Ok(phase), Ok(mode), Ok(work)) = (
        std::env::var("ZKW_BENCH_PHASE"),
        std::env::var("ZKW_BENCH_MODE"),
        std::env::var("ZKW_BENCH_WORK"),
    ) {
        child(&phase, mode.parse().unwrap(), &bench, &PathBuf::from(work));
        return;
    }
    let modes: Vec<WeightMode> = std::env::var("ZKW_BENCH_MODES")
        .unwrap_or_else(|_| "fixed,private,committed".into())
        .split(',')
        .map(|m| m.parse().unwrap())
        .collect();
    println!(
        "| mode | constraints | setup | key load | prove (best of 3) | proof phase | prove peak mem | verify (median) | pk | vk | proof |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for mode in modes {
        let work = tempfile::tempdir().unwrap();
        let s = run_child("setup", mode, work.path());
        let p = run_child("prove", mode, work.path());
        let v = run_child("verify", mode, work.path());
        let best = p["prove_s"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .fold(f64::INFINITY, f64::min);
        let phase = |what: &str| {
            p["phases"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e[0] == what)
                .map_or(f64::NAN, |e| e[1].as_f64().unwrap())
        };
        println!(
            "| {mode} | {} | {:.2} s | {:.3} s | {:.3} s | {:.3} s | {:.0} MB | {:.2} ms | {:.1} MiB | {} B | {} B |",
            s["constraints"],
            s["setup_s"].as_f64().unwrap(),
            p["load_s"].as_f64().unwrap(),
            best,
            phase("prove"),
            p["peak_mib"].as_f64().unwrap() * 1.048576,
            v["verify_median_s"].as_f64().unwrap() * 1e3,
            s["pk_bytes"].as_f64().unwrap() / (1024.0 * 1024.0),
            s["vk_bytes"],
            p["proof_bytes"],
        );
        eprintln!("{mode} setup: {s}");
        eprintln!("{mode} prove: {p}");
        eprintln!("{mode} verify: {v}");
    }
}
