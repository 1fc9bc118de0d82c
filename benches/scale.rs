//! The scaling curve: constraints, setup, prove time and peak memory against model size, by
//! multiply-accumulates (committed weights cost one constraint per MAC), for MLPs and CNNs
//! from about 10k to 2M MACs, fixed and committed weights.
//!
//! ```text
//! cargo bench --bench scale                          # every size, both modes
//! ZKW_SCALE=mlp-1m cargo bench --bench scale         # the models whose name contains it
//! ZKW_SCALE_MODES=committed cargo bench --bench scale
//! benches/scale/plot.sh                              # the PNG from target/scale/scale.csv
//! ```
//!
//! The models are built here, with seeded random int8 weights, so every size exists without a
//! file in the repository. Each (model, mode) runs in child processes, so that each phase's
//! peak memory (VmHWM) is its own: setup (synthesis, keys, and for committed weights the
//! commitment, its opening and the one-time range proof), then prove (key loading and the best
//! of two proofs). Results go to `target/scale/scale.csv` (one row per run, appended) and a
//! Markdown table on stdout; each run's model, keys and input stay in
//! `target/scale/<model>-<mode>/` for timing `zkw prove` on them (`benches/scale/plot.sh` says
//! how).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use zkw_model::ops::{Conv, ConvGeometry, Dense, Relu, Requantize, Reshape};
use zkw_model::{Model, Op, TensorInfo, WeightMode, load_model};
use zkw_prover::{LocalProver, save_model, setup};
use zkw_verifier::{InputSalt, Job};

mod common;
use common::peak_rss_mib;

fn run_child(phase: &str, name: &str, mode: WeightMode, work: &Path) -> serde_json::Value {
    common::run_child(
        &[
            ("ZKW_SCALE_PHASE", phase.as_ref()),
            ("ZKW_SCALE_MODEL", name.as_ref()),
            ("ZKW_SCALE_MODE", mode.as_str().as_ref()),
            ("ZKW_SCALE_WORK", work.as_os_str()),
        ],
        "ZKW_SCALE ",
    )
}

/// xorshift64*: a fixed stream of int8 values.
struct Rng(u64);

impl Rng {
    fn int8(&mut self) -> i64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        ((self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as i64) - 128
    }

    fn values(&mut self, n: usize) -> Vec<i64> {
        (0..n).map(|_| self.int8().max(-127)).collect()
    }
}

fn salt(mode: WeightMode) -> Option<String> {
    mode.is_private().then(|| "5a".repeat(31))
}

fn dense(rng: &mut Rng, name: &str, inp: usize, out: usize) -> Op {
    Op::Dense(Dense {
        name: name.into(),
        in_features: inp,
        out_features: out,
        weights: rng.values(inp * out),
        weight_bits: 8,
        weight_frac_bits: 7,
        bias: rng.values(out),
        bias_bits: 16,
    })
}

/// Requantizes an accumulator of `fan_in` random int8 × int8 products back to 8 bits: a sum
/// of `n` such products is typically `√n · 2^13`, so the shift keeps typical values in 8
/// bits and saturates the rest.
fn requantize(fan_in: usize) -> Op {
    let log2 = usize::BITS - fan_in.leading_zeros();
    Op::Requantize(Requantize {
        shift: 6 + log2.div_ceil(2),
        bits: 8,
    })
}

/// 784 → `hidden` → ReLU → 10: `794·hidden` MACs.
fn mlp(hidden: usize, mode: WeightMode) -> Model {
    let mut rng = Rng(0x5eed ^ hidden as u64);
    Model::chain(
        format!("mlp-784-{hidden}-10"),
        mode,
        TensorInfo {
            shape: vec![784],
            frac_bits: 4,
            bits: 8,
        },
        vec![
            dense(&mut rng, "fc1", 784, hidden),
            requantize(784),
            Op::Relu(Relu),
            dense(&mut rng, "fc2", hidden, 10),
            requantize(hidden),
        ],
        salt(mode),
    )
}

fn conv(rng: &mut Rng, name: &str, cin: usize, cout: usize, side: usize) -> Op {
    Op::Conv(Conv {
        name: name.into(),
        geometry: ConvGeometry {
            in_channels: cin,
            out_channels: cout,
            in_spatial: vec![side, side],
            kernel: vec![3, 3],
            strides: vec![1, 1],
            dilations: vec![1, 1],
            pads: vec![1, 1, 1, 1],
            groups: 1,
        },
        weights: rng.values(cout * cin * 9),
        weight_bits: 8,
        weight_frac_bits: 7,
        bias: rng.values(cout),
        bias_bits: 16,
    })
}

/// 1×16×16 → conv 3×3 (→ c) → ReLU → conv 3×3 (c → c) → ReLU → dense (256c → 10).
fn cnn(c: usize, mode: WeightMode) -> Model {
    const SIDE: usize = 16;
    let mut rng = Rng(0xc0ffee ^ c as u64);
    Model::chain(
        format!("cnn-16x16-{c}"),
        mode,
        TensorInfo {
            shape: vec![1, SIDE, SIDE],
            frac_bits: 4,
            bits: 8,
        },
        vec![
            conv(&mut rng, "conv1", 1, c, SIDE),
            requantize(9),
            Op::Relu(Relu),
            conv(&mut rng, "conv2", c, c, SIDE),
            requantize(9 * c),
            Op::Relu(Relu),
            Op::Reshape(Reshape {
                shape: vec![c * SIDE * SIDE],
            }),
            dense(&mut rng, "fc", c * SIDE * SIDE, 10),
            requantize(c * SIDE * SIDE),
        ],
        salt(mode),
    )
}

/// Every model of the curve, by name.
fn models(mode: WeightMode) -> Vec<(String, Model)> {
    let mut out = Vec::new();
    // 794·h MACs: about 10k, 30k, 100k, 300k, 1M (1.0M parameters) and 2M.
    for (tag, h) in [
        ("10k", 13),
        ("30k", 38),
        ("100k", 126),
        ("300k", 378),
        ("1m", 1270),
        ("2m", 2519),
    ] {
        out.push((format!("mlp-{tag}"), mlp(h, mode)));
    }
    // 4,864·c + 2,304·c² MACs: about 20k, 60k, 190k, 670k, 1.4M and 1.9M.
    for (tag, c) in [
        ("20k", 2),
        ("60k", 4),
        ("190k", 8),
        ("670k", 16),
        ("1.4m", 24),
        ("1.9m", 28),
    ] {
        out.push((format!("cnn-{tag}"), cnn(c, mode)));
    }
    out
}

/// Multiply-accumulates of one inference.
fn macs(model: &Model) -> usize {
    let infos = model.tensor_infos().expect("a valid model");
    model
        .nodes
        .iter()
        .enumerate()
        .map(|(k, n)| {
            let out = infos[model.node_output(k)].len();
            match &n.op {
                Op::Dense(d) => d.in_features * d.out_features,
                Op::Conv(c) => {
                    out * c.geometry.in_channels / c.geometry.groups
                        * c.geometry.kernel.iter().product::<usize>()
                }
                _ => 0,
            }
        })
        .sum()
}

fn input(model: &Model) -> Vec<i64> {
    let mut rng = Rng(7);
    rng.values(model.input_info().len())
}

fn child(phase: &str, name: &str, mode: WeightMode, work: &Path) {
    let model_path = work.join("model.zkm");
    let keys = work.join("keys");
    let out = match phase {
        "setup" => {
            let (_, model) = models(mode)
                .into_iter()
                .find(|(n, _)| n == name)
                .expect("a model of the curve");
            std::fs::create_dir_all(work).unwrap();
            let id = save_model(&model, &model_path).unwrap();
            // The input as `zkw prove` reads it (EZKL format, with a salt).
            let info = model.input_info();
            let scale = (info.frac_bits as f64).exp2();
            let x: Vec<f64> = input(&model).iter().map(|&q| q as f64 / scale).collect();
            std::fs::write(
                work.join("input.json"),
                serde_json::json!({"input_data": [x], "salt": "11".repeat(31)}).to_string(),
            )
            .unwrap();
            let t = Instant::now();
            let r = setup(&model, &id, &keys, &|_| {}).unwrap();
            serde_json::json!({
                "setup_s": t.elapsed().as_secs_f64(),
                "phases": r.timings.iter().map(|(p, d)| (p.to_string(), d.as_secs_f64())).collect::<Vec<_>>(),
                "constraints": r.record.constraints,
                "params": model.parameter_count(),
                "macs": macs(&model),
                "pk_bytes": r.pk_bytes,
                "peak_mib": peak_rss_mib(),
            })
        }
        "prove" => {
            let (model, id) = load_model(&model_path).unwrap();
            let x = input(&model);
            let t = Instant::now();
            let prover = LocalProver::load(model, &id, &keys).unwrap();
            let load = t.elapsed().as_secs_f64();
            let best = (0..2)
                .map(|k| {
                    let job = Job {
                        job_id: format!("scale-{k}"),
                        worker_id: "bench".into(),
                        client_nonce: String::new(),
                        request: None,
                    };
                    let t = Instant::now();
                    prover
                        .prove(&x, &InputSalt::from_bytes([7; 31]), &job)
                        .unwrap();
                    t.elapsed().as_secs_f64()
                })
                .fold(f64::INFINITY, f64::min);
            serde_json::json!({ "load_s": load, "prove_s": best, "peak_mib": peak_rss_mib() })
        }
        other => panic!("unknown phase {other}"),
    };
    println!("ZKW_SCALE {out}");
}

fn main() {
    if let (Ok(phase), Ok(name), Ok(mode), Ok(work)) = (
        std::env::var("ZKW_SCALE_PHASE"),
        std::env::var("ZKW_SCALE_MODEL"),
        std::env::var("ZKW_SCALE_MODE"),
        std::env::var("ZKW_SCALE_WORK"),
    ) {
        child(&phase, &name, mode.parse().unwrap(), &PathBuf::from(work));
        return;
    }
    // `cargo bench` passes `--bench`; any other argument is a filter cargo meant for libtest.
    let filter = std::env::var("ZKW_SCALE").unwrap_or_default();
    let modes: Vec<WeightMode> = std::env::var("ZKW_SCALE_MODES")
        .unwrap_or_else(|_| "fixed,committed".into())
        .split(',')
        .map(|m| m.parse().unwrap())
        .collect();
    let root = zkworker::bench_models_dir()
        .parent()
        .and_then(Path::parent)
        .expect("the repository")
        .join("target/scale");
    std::fs::create_dir_all(&root).unwrap();
    let csv_path = root.join("scale.csv");
    let new = !csv_path.exists();
    let mut csv = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&csv_path)
        .unwrap();
    if new {
        writeln!(
            csv,
            "model,kind,mode,macs,params,constraints,setup_s,setup_peak_mib,load_s,prove_s,prove_peak_mib"
        )
        .unwrap();
    }
    println!(
        "| model | mode | MACs | parameters | constraints | setup | setup peak | key load | prove | prove peak |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for mode in modes {
        for (name, _) in models(mode) {
            if !name.contains(&filter) {
                continue;
            }
            let work = root.join(format!("{name}-{mode}"));
            let _ = std::fs::remove_dir_all(&work);
            let s = run_child("setup", &name, mode, &work);
            let p = run_child("prove", &name, mode, &work);
            let f = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap();
            println!(
                "| {name} | {mode} | {} | {} | {} | {:.1} s | {:.0} MB | {:.2} s | {:.2} s | {:.0} MB |",
                s["macs"],
                s["params"],
                s["constraints"],
                f(&s, "setup_s"),
                f(&s, "peak_mib") * 1.048576,
                f(&p, "load_s"),
                f(&p, "prove_s"),
                f(&p, "peak_mib") * 1.048576,
            );
            writeln!(
                csv,
                "{name},{},{mode},{},{},{},{:.3},{:.1},{:.3},{:.3},{:.1}",
                name.split('-').next().unwrap(),
                s["macs"],
                s["params"],
                s["constraints"],
                f(&s, "setup_s"),
                f(&s, "peak_mib"),
                f(&p, "load_s"),
                f(&p, "prove_s"),
                f(&p, "peak_mib"),
            )
            .unwrap();
            eprintln!("{name} {mode} setup phases: {}", s["phases"]);
        }
    }
}
