//! GPU vs reference inference: one input's latency, and throughput (inputs per second) at
//! batch 1, 16 and 256, on the MLP bench model, the LeNet-5-size CNN and the conformance model
//! with the most multiply-accumulates. Prints a Markdown table labelled with the adapter.
//!
//! `cargo bench -p zkw-gpu --bench inference` (release). On a CPU driver (lavapipe) the figures
//! say the kernels run, nothing about GPU speed.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use zkw_gpu::GpuExecutor;
use zkw_model::input::{parse_input_json, quantize_input};
use zkw_model::ir::signed_range;
use zkw_model::{Executor, Model, Reference};
use zkw_onnx::{QuantizeOptions, import_float_graph, quantize};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The model in `dir` (network.onnx + input.json), calibrated on its input, and that input.
fn load(dir: &Path) -> Option<(Model, Vec<i64>)> {
    let graph = import_float_graph(&dir.join("network.onnx")).ok()?;
    let input = dir.join("input.json");
    let text = std::fs::read_to_string(&input).ok()?;
    let x = parse_input_json(&text, &input).ok()?.concat();
    let model = quantize(&graph, &QuantizeOptions::default(), Some(&x)).ok()?;
    let q = quantize_input(&model.input_info(), &x).ok()?;
    Reference.run(&model, &q).ok()?;
    Some((model, q))
}

fn macs(m: &Model) -> usize {
    m.nodes.iter().map(|n| n.op.semantics().macs()).sum()
}

/// The median of `runs` timings of `f`.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut t: Vec<Duration> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed()
        })
        .collect();
    t.sort();
    t[runs / 2]
}

/// A rate in inputs per second: whole above 10, else with a decimal.
fn rate(r: f64) -> String {
    if r >= 10.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

/// `n` inputs near `q`: each value moved by its sample's index, kept in range.
fn batch(model: &Model, q: &[i64], n: usize) -> Vec<Vec<i64>> {
    let (lo, hi) = signed_range(model.input_info().bits);
    (0..n)
        .map(|k| {
            q.iter()
                .map(|&v| (v + k as i64 % 5 - 2).clamp(lo, hi))
                .collect()
        })
        .collect()
}

fn main() {
    let gpu = match GpuExecutor::new() {
        Ok(g) => g,
        Err(e) => {
            eprintln!("no GPU adapter ({e}): nothing to measure");
            return;
        }
    };
    let mut models: Vec<(String, Model, Vec<i64>)> = Vec::new();
    for name in ["mlp_784_56_10", "lenet5"] {
        let (m, q) = load(&root().join("benches/models").join(name)).expect(name);
        models.push((name.into(), m, q));
    }
    let conformance = root().join("tests/conformance/ezkl");
    let mut cases: Vec<_> = std::fs::read_dir(&conformance)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    let largest = cases
        .iter()
        .filter_map(|dir| Some((dir.file_name()?.to_string_lossy().into_owned(), load(dir)?)))
        .max_by_key(|(_, (m, _))| macs(m));
    if let Some((name, (m, q))) = largest {
        models.push((format!("{name} (conformance, most MACs)"), m, q));
    }
    println!("adapter: {}\n", gpu.adapter());
    println!(
        "| model | MACs | reference, 1 input | GPU, 1 input | GPU inputs/s at 1 | at 16 | at 256 | \
         reference inputs/s |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (name, model, q) in &models {
        let reference = median(5, || {
            Reference.run(model, q).unwrap();
        });
        // Warm up: kernels compiled, the model uploaded, the batch-1 arena made.
        let want = Reference.run(model, q).unwrap();
        assert_eq!(gpu.run(model, q).unwrap(), want, "{name}: GPU != reference");
        let one = median(5, || {
            gpu.run(model, q).unwrap();
        });
        // A batch the device cannot finish within the submission timeout (a large model on a
        // CPU driver) is reported, not measured.
        let mut rates = Vec::new();
        for n in [1usize, 16, 256] {
            let xs = batch(model, q, n);
            eprintln!("{name}: batch {n}");
            let rate = match gpu.run_batch(model, &xs) {
                Ok(_) => {
                    let t = median(3, || {
                        gpu.run_batch(model, &xs).unwrap();
                    });
                    rate(n as f64 / t.as_secs_f64())
                }
                Err(e) => {
                    eprintln!("{name} at batch {n}: {e}");
                    "— (timeout)".to_string()
                }
            };
            rates.push(rate);
        }
        println!(
            "| {name} | {} | {:.2} ms | {:.2} ms | {} | {} | {} | {} |",
            macs(model),
            reference.as_secs_f64() * 1e3,
            one.as_secs_f64() * 1e3,
            rates[0],
            rates[1],
            rates[2],
            rate(1.0 / reference.as_secs_f64()),
        );
    }
}
