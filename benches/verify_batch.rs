//! Batch verification against one-by-one, on 100 receipts of the fixed-weights bench model
//! (`benches/models/mlp_784_56_10`): all valid, and with one bad proof (found by halving).
//!
//! `cargo bench --bench verify_batch`

use std::path::Path;
use std::time::{Duration, Instant};

use zkw_model::input::{quantize_input, read_input_file};
use zkw_model::model_id;
use zkw_onnx::{QuantizeOptions, import_float_graph, quantize};
use zkw_prover::{LocalProver, setup};
use zkw_verifier::{Expected, InputSalt, Job, Receipt, verify, verify_batch};

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

fn main() {
    let bench = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/models/mlp_784_56_10");
    let x = read_input_file(&bench.join("input.json")).unwrap();
    let graph = import_float_graph(&bench.join("network.onnx")).unwrap();
    let model = quantize(&graph, &QuantizeOptions::default(), Some(&x)).unwrap();
    let q = quantize_input(&model.input_info(), &x).unwrap();
    let id = model_id(&model);
    let dir = tempfile::tempdir().unwrap();
    let report = setup(&model, &id, dir.path(), &|_| {}).unwrap();
    let prover = LocalProver::load(model, &id, dir.path()).unwrap();
    let n = 100;
    let receipts: Vec<Receipt> = (0..n)
        .map(|k| {
            let job = Job {
                job_id: format!("job-{k}"),
                worker_id: "bench".into(),
                client_nonce: String::new(),
                request: None,
            };
            prover
                .prove(&q, &InputSalt::from_bytes([7; 31]), &job)
                .unwrap()
                .receipt
        })
        .collect();
    let key = prover.verifier_key();
    let expected = Expected::model_only(&report.record);
    let pairs: Vec<(&Receipt, &Expected<'_>)> = receipts.iter().map(|r| (r, &expected)).collect();

    let one_by_one = median(5, || {
        for r in &receipts {
            verify(r, key, &expected).unwrap();
        }
    });
    let batched = median(5, || {
        assert!(verify_batch(key, &pairs).iter().all(Result::is_ok));
    });
    let mut bad = receipts.clone();
    bad[37].output.quantized[0] ^= 1;
    bad[37].output.values[0] =
        bad[37].output.quantized[0] as f64 * (-(bad[37].output.frac_bits as f64)).exp2();
    let bad_pairs: Vec<(&Receipt, &Expected<'_>)> = bad.iter().map(|r| (r, &expected)).collect();
    let with_one_bad = median(5, || {
        let got = verify_batch(key, &bad_pairs);
        assert_eq!(got.iter().filter(|r| r.is_err()).count(), 1);
        assert!(got[37].is_err());
    });
    println!("| receipts | one by one | batch | batch with one bad proof (found by halving) |");
    println!("|---|---|---|---|");
    println!(
        "| {n} | {:.1} ms ({:.2} ms each) | {:.1} ms | {:.1} ms |",
        one_by_one.as_secs_f64() * 1e3,
        one_by_one.as_secs_f64() * 1e3 / n as f64,
        batched.as_secs_f64() * 1e3,
        with_one_bad.as_secs_f64() * 1e3,
    );
}
