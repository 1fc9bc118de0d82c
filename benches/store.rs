//! The worker's restart cost with a large job store: opening it with redb's integrity check
//! (every page checksum of the committed trees verified, which the worker does on every start
//! since a plain open may trust, or panic on, a damaged file) against a plain open, then
//! recovery (every unfinished job's record and input read and checked). Stores of 10,000 and
//! 100,000 (the default `--retain-finished`) ended jobs, each with a receipt of a realistic
//! size, plus 64 queued jobs (a full default queue) with 784-value inputs.
//!
//! `cargo bench --bench store`

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use zkw_worker::job::{JobRecord, JobState};
use zkw_worker::store::JobStore;
use zkw_worker::store::salvage::Report;

/// A receipt's size as the worker stores it (the digits model's signed v5 receipt is about
/// this big).
const RECEIPT_BYTES: usize = 2_400;

fn job(i: usize, state: JobState) -> JobRecord {
    let mut j: JobRecord = serde_json::from_value(serde_json::json!({
        "job_id": format!("{i:032x}"), "model_id": "ab".repeat(32), "seq": i,
        "input_salt": "42".repeat(31), "input_digest": "1".repeat(76),
        "client_nonce": format!("nonce-{i}"), "worker_id": "cd".repeat(32),
        "idempotency_key": null, "state": "Queued", "history": [], "attempts": 0,
        "error": null, "cancel_requested": false,
    }))
    .unwrap();
    j = j.accept();
    match state {
        JobState::Queued => {}
        JobState::Succeeded => {
            j.start(u32::MAX);
            j.charge(u32::MAX);
            j.take_for_proving();
            j.succeed();
        }
        other => unreachable!("the bench stores queued and succeeded jobs, not {other}"),
    }
    j
}

fn build(path: &Path, ended: usize, queued: usize) {
    let mut r = Report::default();
    for i in 0..ended + queued {
        let state = if i < ended {
            JobState::Succeeded
        } else {
            JobState::Queued
        };
        let j = job(i, state);
        if state == JobState::Succeeded {
            r.receipts
                .insert(j.job_id.clone(), "x".repeat(RECEIPT_BYTES));
        } else {
            r.inputs.insert(j.job_id.clone(), (0..784).collect());
        }
        r.jobs.insert(j.job_id.clone(), j);
    }
    JobStore::open(path, usize::MAX)
        .unwrap()
        .restore(&r)
        .unwrap();
}

fn median(runs: usize, mut f: impl FnMut() -> Duration) -> Duration {
    let mut t: Vec<Duration> = (0..runs).map(|_| f()).collect();
    t.sort();
    t[runs / 2]
}

fn main() {
    println!(
        "| ended jobs | file | plain redb open | open with integrity check | recovery (64 queued) |"
    );
    println!("|---|---|---|---|---|");
    for ended in [10_000, 100_000] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.redb");
        build(&path, ended, 64);
        let size = std::fs::metadata(&path).unwrap().len();
        let plain = median(5, || {
            let t = Instant::now();
            let db = redb::Database::open(&path).unwrap();
            let d = t.elapsed();
            drop(db);
            d
        });
        let mut recovered = 0;
        let mut recovery = Vec::new();
        let checked = median(5, || {
            let t = Instant::now();
            let s = JobStore::open(&path, usize::MAX).unwrap();
            let d = t.elapsed();
            let t = Instant::now();
            recovered = s.recover().unwrap().jobs.len();
            recovery.push(t.elapsed());
            d
        });
        assert_eq!(recovered, 64);
        recovery.sort();
        let counts: BTreeMap<_, _> = JobStore::open(&path, usize::MAX).unwrap().counts().unwrap();
        assert_eq!(counts[&JobState::Succeeded], ended);
        println!(
            "| {ended} | {:.0} MiB | {:.1} ms | {:.1} ms | {:.1} ms |",
            size as f64 / (1 << 20) as f64,
            plain.as_secs_f64() * 1e3,
            checked.as_secs_f64() * 1e3,
            recovery[recovery.len() / 2].as_secs_f64() * 1e3,
        );
    }
}
