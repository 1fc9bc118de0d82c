//! Settlement cost: 1,000 signed, licensed receipts of the bundled digits model
//! (`examples/digits`), each answering a client's signed request, into a fresh ledger — all in
//! one `settle` call (one batch verification per model, one ledger transaction), and one call
//! per receipt (its own verification and transaction, as 1,000 separate `zkw settle` runs
//! would do minus process start). Also one receipt's strict verification alone.
//!
//! `cargo bench --bench settle`

use std::path::Path;
use std::time::{Duration, Instant};

use zkw_model::input::{quantize_input, read_input_file};
use zkw_model::model_id;
use zkw_onnx::{QuantizeOptions, import_float_graph, quantize};
use zkw_prover::{KeyDir, LocalProver, setup_owned};
use zkw_settlement::{Ledger, Registry, settle};
use zkw_verifier::digest::input_digest;
use zkw_verifier::{
    ClientRequest, Expected, InputSalt, Job, KeyPair, Licence, Receipt, Registration, Reward,
    WorkerKey, verify,
};

fn main() {
    let digits = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/digits");
    let x = read_input_file(&digits.join("input.json")).unwrap();
    let graph = import_float_graph(&digits.join("digits.onnx")).unwrap();
    let model = quantize(&graph, &QuantizeOptions::default(), Some(&x)).unwrap();
    let q = quantize_input(&model.input_info(), &x).unwrap();
    let id = model_id(&model);
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("keys");
    let owner = KeyPair::from_seed(&[1; 32]);
    let report = setup_owned(&model, &id, &owner.public_hex(), &keys, &|_| {}).unwrap();
    let prover = LocalProver::load(model, &id, &keys).unwrap();
    // Two ledgers (the venues), one for each way of settling; the client funds both.
    let client = KeyPair::from_seed(&[3; 32]);
    let ledgers = [
        Ledger::open(&dir.path().join("ledger-batch")).unwrap(),
        Ledger::open(&dir.path().join("ledger-each")).unwrap(),
    ];
    for l in &ledgers {
        l.deposit(&client.public_hex(), u64::MAX / 4).unwrap();
    }
    let worker = WorkerKey::from_seed(&[2; 32]);
    let registry = Registry::new(dir.path().join("registry"));
    let kd = KeyDir::new(&keys);
    let mut registration = Registration::new(
        report.record.clone(),
        prover.verifier_key(),
        Reward {
            fee: 1000,
            worker_share_bps: 7000,
            penalty: 1000,
        },
        kd.file_digests(&report.record).unwrap(),
    )
    .with_setup(zkw_prover::ownership::prove_ownership(&prover, &owner).unwrap());
    registration.venues = ledgers.iter().map(|l| l.venue()).collect();
    registration.venues.sort();
    registration.sign(&owner);
    registry.register(&registration, &owner).unwrap();
    registry
        .add_licence(&Licence::issue(
            &owner,
            &report.record.model_id,
            &worker.worker_id(),
            None,
        ))
        .unwrap();

    let n = 1000;
    let t = Instant::now();
    let salt = InputSalt::from_bytes([7; 31]);
    let digest = input_digest(&q, report.record.input.bits, &salt).unwrap();
    let prove_for = |ledger: &Ledger| -> Vec<Receipt> {
        (0..n)
            .map(|k| {
                let nonce = format!("n-{k}");
                let request = ClientRequest::sign(
                    &client,
                    &report.record.model_id,
                    digest,
                    &nonce,
                    ledger.venue(),
                    1000,
                )
                .unwrap();
                let job = Job {
                    job_id: format!("job-{k}"),
                    worker_id: worker.worker_id(),
                    client_nonce: nonce,
                    request: Some(request),
                };
                let mut r = prover.prove(&q, &salt, &job).unwrap().receipt;
                worker.sign(&mut r);
                r
            })
            .collect()
    };
    let receipts = prove_for(&ledgers[0]);
    let receipts_each = prove_for(&ledgers[1]);
    eprintln!("proved {} receipts in {:.1?}", 2 * n, t.elapsed());

    // One receipt's strict verification: median of 101.
    let key = prover.verifier_key();
    let expected = Expected::model_only(&report.record);
    let mut times: Vec<Duration> = receipts[..101]
        .iter()
        .map(|r| {
            let s = Instant::now();
            verify(r, key, &expected).unwrap();
            s.elapsed()
        })
        .collect();
    times.sort();
    println!("verify one receipt (median of 101): {:.2?}", times[50]);

    let now = 1_800_000_000;
    let ledger = &ledgers[0];
    let s = Instant::now();
    let out = settle(&registry, ledger, &receipts, now).unwrap();
    let batch = s.elapsed();
    assert!(out.iter().all(|o| o.is_settled()));
    println!(
        "settle {n} in one call: {:.2?} ({:.2?} per receipt)",
        batch,
        batch / n as u32
    );

    let ledger = &ledgers[1];
    let s = Instant::now();
    for r in &receipts_each {
        let out = settle(&registry, ledger, std::slice::from_ref(r), now).unwrap();
        assert!(out[0].is_settled());
    }
    let each = s.elapsed();
    println!(
        "settle {n} one call each: {:.2?} ({:.2?} per receipt)",
        each,
        each / n as u32
    );
    let s = Instant::now();
    let again = settle(&registry, ledger, &receipts_each, now).unwrap();
    assert!(again.iter().all(|o| !o.is_settled()));
    println!(
        "refuse {n} already settled in one call: {:.2?}",
        s.elapsed()
    );
}
