//! Setup → prove → verify on small models, both weight modes, and every tampering a verifier
//! must catch.

mod common;

use common::{job, mlp};
use zkw_model::{WeightMode, model_id};
use zkw_prover::{Prover, setup};
use zkw_verifier::field::fr_to_hex;
use zkw_verifier::{Expected, Receipt, VerificationError, verify};

fn round_trip(mode: WeightMode) {
    let model = mlp(mode);
    let id = model_id(&model);
    let dir = tempfile::tempdir().unwrap();
    let report = setup(&model, &id, dir.path(), &|_| {}).unwrap();
    let prover = Prover::load(model.clone(), &id, dir.path()).unwrap();
    let input = [100, -128, 7, 127];
    let proved = prover.prove(&input, &job()).unwrap();
    let receipt = &proved.receipt;
    assert_eq!(
        receipt.output.quantized,
        zkw_model::run(&model, &input).unwrap().output()
    );
    assert_eq!(hex::decode(&receipt.proof).unwrap().len(), 128);

    let key = prover.verifier_key();
    let record = &report.record;
    let digest = zkw_verifier::digest::input_digest(&input, 8);
    let expected = Expected {
        record,
        job_id: Some("job-1"),
        worker_id: Some("worker-a"),
        client_nonce: Some("nonce-x"),
        input_digest: Some(digest),
    };
    verify(receipt, key, &expected).unwrap();

    // The JSON form round-trips and still verifies.
    let back = Receipt::from_json(receipt.to_json().as_bytes()).unwrap();
    verify(&back, key, &expected).unwrap();

    // Changing the output fails the proof.
    let mut r = receipt.clone();
    r.output.quantized[0] += 1;
    r.output.values[0] = r.output.quantized[0] as f64 * (-(r.output.frac_bits as f64)).exp2();
    assert_eq!(
        verify(&r, key, &Expected::model(record)),
        Err(VerificationError::BadProof)
    );

    // Changing the input digest fails the proof.
    let mut r = receipt.clone();
    r.input_digest = fr_to_hex(&zkw_verifier::digest::input_digest(&[0, 0, 0, 0], 8));
    assert_eq!(
        verify(&r, key, &Expected::model(record)),
        Err(VerificationError::BadProof)
    );

    // Re-attributing the job to another job id or worker fails the proof.
    for edit in [
        |r: &mut Receipt| r.job_id = "job-2".into(),
        |r: &mut Receipt| r.worker_id = "worker-b".into(),
    ] {
        let mut r = receipt.clone();
        edit(&mut r);
        assert_eq!(
            verify(&r, key, &Expected::model(record)),
            Err(VerificationError::BadProof)
        );
    }

    // A record with another model commitment fails the proof.
    let mut other = record.clone();
    other.model_commitment = fr_to_hex(&zkw_verifier::Fr::from(12345u64));
    assert_eq!(
        verify(receipt, key, &Expected::model(&other)),
        Err(VerificationError::BadProof)
    );

    // Expectations the receipt does not meet are named.
    let wrong_input = Expected {
        input_digest: Some(zkw_verifier::digest::input_digest(&[1, 2, 3, 4], 8)),
        ..expected
    };
    assert!(matches!(
        verify(receipt, key, &wrong_input),
        Err(VerificationError::InputMismatch { .. })
    ));
    let wrong_job = Expected {
        job_id: Some("job-9"),
        ..expected
    };
    assert!(matches!(
        verify(receipt, key, &wrong_job),
        Err(VerificationError::JobMismatch { .. })
    ));
}

#[test]
fn fixed_weights_round_trip_and_tampering() {
    round_trip(WeightMode::Fixed);
}

#[test]
fn private_weights_round_trip_and_tampering() {
    round_trip(WeightMode::Private);
}
