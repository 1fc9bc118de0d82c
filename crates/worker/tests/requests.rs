//! A worker that knows the model's registered terms (`--registry`) refuses a client's request
//! no venue would pay — a fee below the model's, a venue its registration does not lists —
//! before anything is proved: otherwise the client gets the output and the worker nothing.
//! (Found by the attack review of the venue step.)

use std::path::Path;

use zkw_model::WeightMode;
use zkw_model::input::quantize_input;
use zkw_model::testing::mlp;
use zkw_prover::ownership::prove_ownership;
use zkw_prover::{KeyDir, LocalProver, setup_owned};
use zkw_settlement::Registry;
use zkw_verifier::{ClientRequest, InputSalt, KeyPair, Registration, Reward, Venue};
use zkw_worker::worker::Submit;
use zkw_worker::{Backend, WorkerConfig};

const FEE: u64 = 10;
const SALT: [u8; 31] = [0x5a; 31];

/// A models directory with the tiny MLP's keys, registered by `owner` with fee [`FEE`] and
/// the one venue `venue`; the model's record.
fn setup(root: &Path, owner: &KeyPair, venue: Venue) -> zkw_verifier::ModelRecord {
    let m = mlp(WeightMode::Fixed);
    let id = zkw_model::model_id(&m);
    let keys = root.join("models/tiny");
    let report = setup_owned(&m, &id, &owner.public_hex(), &keys, &|_| {}).unwrap();
    let kd = KeyDir::new(&keys);
    let key = kd.read_vk(&report.record).unwrap();
    let files = kd.file_digests(&report.record).unwrap();
    let prover = LocalProver::open(&keys).unwrap();
    let mut reg = Registration::new(
        report.record.clone(),
        &key,
        Reward {
            fee: FEE,
            worker_share_bps: 5000,
            penalty: 1,
        },
        files,
    )
    .with_setup(prove_ownership(&prover, owner).unwrap());
    reg.venues = vec![venue];
    reg.sign(owner);
    Registry::new(root.join("registry"))
        .register(&reg, owner)
        .unwrap();
    report.record
}

/// Submits `x` with a request signed for `venue` and `fee`; whether the worker accepted it.
fn submit_with(venue_listed: Venue, venue_asked: Venue, fee: u64) -> Result<String, String> {
    let root = tempfile::tempdir().unwrap();
    let owner = KeyPair::from_seed(&[3; 32]);
    let record = setup(root.path(), &owner, venue_listed);
    let model_id = record.model_id.clone();
    let mut config = WorkerConfig::new(root.path().join("data"), root.path().join("models"));
    config.registry = Some(root.path().join("registry"));
    config.backend = Backend::Cpu;
    let rt = tokio::runtime::Runtime::new().unwrap();
    let running = rt.block_on(zkw_worker::start(config)).unwrap();
    let worker = running.worker().clone();
    let x = vec![0.5, -0.25, 1.0, 0.125];
    let m = mlp(WeightMode::Fixed);
    let q = quantize_input(&m.input_info(), &x).unwrap();
    let digest =
        zkw_verifier::digest::input_digest(&q, record.input.bits, &InputSalt::from_bytes(SALT))
            .unwrap();
    let client = KeyPair::from_seed(&[9; 32]);
    let rq = ClientRequest::sign(&client, &model_id, digest, "n-1", venue_asked, fee).unwrap();
    let out = worker.submit(Submit {
        model_id,
        input: x,
        client_nonce: "n-1".into(),
        input_salt: SALT.to_vec(),
        unsalted: false,
        idempotency_key: None,
        request: Some(rq),
    });
    let _ = rt.block_on(running.shutdown());
    out.map(|s| s.job.job_id).map_err(|e| e.to_string())
}

#[test]
fn a_request_meeting_the_models_terms_is_accepted() {
    let ledger = Venue::Ledger([1; 32]);
    submit_with(ledger, ledger, FEE).unwrap();
    submit_with(ledger, ledger, FEE + 1).unwrap();
}

#[test]
fn a_request_for_a_fee_below_the_models_is_refused_before_it_is_proved() {
    let ledger = Venue::Ledger([1; 32]);
    let e = submit_with(ledger, ledger, FEE - 1).unwrap_err();
    assert!(
        e.contains(&format!("pays {}, below model ", FEE - 1))
            && e.contains(&format!("'s fee {FEE}: no venue would pay the job")),
        "{e}"
    );
}

#[test]
fn a_request_for_a_venue_the_registration_does_not_list_is_refused_before_it_is_proved() {
    let listed = Venue::Ledger([1; 32]);
    let elsewhere = Venue::Ledger([2; 32]);
    let e = submit_with(listed, elsewhere, FEE).unwrap_err();
    assert!(
        e.contains(&format!("names venue {elsewhere}, which model "))
            && e.contains(&format!("registration does not list ({listed})")),
        "{e}"
    );
}
