//! The light verifier's own cost, as a settlement service that links only `zkw-verifier` pays
//! it: one signed receipt of a model with 10 outputs (4 public inputs, as the bench model
//! `mlp_784_56_10`), checked strictly; and 100 such receipts one by one, in one batch, and in
//! one batch with a bad proof (found by halving).
//!
//! `cargo bench -p zkw-verifier --bench verify`
//!
//! Groth16 verification costs the same for any circuit with as many public inputs, so the
//! receipts come from the tests' stand-in circuit (`tests/standin/`) rather than a real model:
//! the bench needs neither the prover nor the model crate, and their build features (rayon in
//! arkworks) stay out of it.

#[path = "../tests/standin/mod.rs"]
mod standin;

use std::time::{Duration, Instant};

use zkw_verifier::{Expected, Receipt, WorkerKey, verify, verify_batch};

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

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let worker = WorkerKey::from_seed(&[5; 32]);
    let n = 100;
    let mut f = standin::fixtures_by(10, 1, &worker.worker_id(), n);
    for r in &mut f.receipts {
        worker.sign(r);
    }
    let worker_id = worker.worker_id();
    let expected: Vec<Expected<'_>> = f
        .receipts
        .iter()
        .map(|r| {
            Expected::new(&f.record, f.input_digest, &r.job_id)
                .worker(&worker_id)
                .nonce("nonce-x")
        })
        .collect();
    for (r, e) in f.receipts.iter().zip(&expected) {
        assert!(verify(r, &f.key, e).unwrap().is_strict());
    }

    let one = median(501, || {
        verify(&f.receipts[0], &f.key, &expected[0]).unwrap();
    });
    let pairs: Vec<(&Receipt, &Expected<'_>)> = f.receipts.iter().zip(&expected).collect();
    let one_by_one = median(11, || {
        for (r, e) in &pairs {
            verify(r, &f.key, e).unwrap();
        }
    });
    let batched = median(11, || {
        assert!(verify_batch(&f.key, &pairs).iter().all(Result::is_ok));
    });
    let mut bad = f.receipts.clone();
    // Another receipt's proof: well formed, valid for another job, so only the pairing
    // equation can tell.
    bad[37].proof = bad[38].proof.clone();
    worker.sign(&mut bad[37]);
    let bad_pairs: Vec<(&Receipt, &Expected<'_>)> = bad.iter().zip(&expected).collect();
    let with_one_bad = median(11, || {
        let got = verify_batch(&f.key, &bad_pairs);
        assert_eq!(got.iter().filter(|r| r.is_err()).count(), 1);
        assert!(got[37].is_err());
    });
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    println!("{cores} cores");
    println!(
        "| verify one (median of 501) | {n} one by one | {n} in one batch | {n} in one batch, one bad proof |"
    );
    println!("|---|---|---|---|");
    println!(
        "| {:.2} ms | {:.1} ms | {:.1} ms | {:.1} ms |",
        ms(one),
        ms(one_by_one),
        ms(batched),
        ms(with_one_bad),
    );
}
