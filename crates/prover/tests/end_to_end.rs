//! Setup → prove → verify on small models, both weight modes, and every tampering a verifier
//! must catch.

mod common;

use common::{SALT, job, mlp};
use zkw_model::{WeightMode, model_id};
use zkw_prover::{LocalProver, setup};
use zkw_verifier::digest::input_digest;
use zkw_verifier::field::fr_to_hex;
use zkw_verifier::{
    Check, ClientRequest, Expected, InputSalt, Job, KeyPair, Receipt, Unchecked, Venue,
    VerificationError, Width, verify,
};

fn w8() -> Width {
    Width::new(8).unwrap()
}

fn round_trip(mode: WeightMode) {
    let model = mlp(mode);
    let id = model_id(&model);
    let dir = tempfile::tempdir().unwrap();
    let report = setup(&model, &id, dir.path(), &|_| {}).unwrap();
    let prover = LocalProver::load(model.clone(), &id, dir.path()).unwrap();
    let input = [100, -128, 7, 127];
    // A client's signed request for the job: the prover binds its digest and the receipt
    // carries it.
    let venue = Venue::Ledger([0x42; 32]);
    let digest = input_digest(&input, w8(), &SALT).unwrap();
    let request = ClientRequest::sign(
        &KeyPair::from_seed(&[0x43; 32]),
        &report.record.model_id,
        digest,
        "nonce-x",
        venue,
        10,
    )
    .unwrap();
    let proved = prover
        .prove(
            &input,
            &SALT,
            &Job {
                request: Some(request.clone()),
                ..job()
            },
        )
        .unwrap();
    assert_eq!(proved.receipt.request, Some(request));
    let receipt = &proved.receipt;
    assert_eq!(
        receipt.output.quantized,
        zkw_model::run(&model, &input).unwrap().output()
    );
    assert_eq!(hex::decode(&receipt.proof).unwrap().len(), 128);

    let key = prover.verifier_key();
    let record = &report.record;
    let expected = Expected::new(record, digest, "job-1")
        .worker("worker-a")
        .nonce("nonce-x")
        .venue(venue);
    let v = verify(receipt, key, &expected).unwrap();
    assert!(v.unchecked.is_empty() && v.is_strict(), "{:?}", v.unchecked);
    assert_eq!(v.quantized, receipt.output.quantized);

    // The JSON form round-trips and still verifies.
    let back = Receipt::from_json(receipt.to_json().as_bytes()).unwrap();
    verify(&back, key, &expected).unwrap();

    // Skipped checks are reported, field by field.
    let v = verify(receipt, key, &Expected::model_only(record)).unwrap();
    assert_eq!(
        v.unchecked,
        [
            Unchecked::Input,
            Unchecked::JobId,
            Unchecked::WorkerId,
            Unchecked::ClientNonce,
            Unchecked::Venue
        ]
    );
    assert!(!v.is_strict());
    let v = verify(receipt, key, &Expected::new(record, digest, "job-1")).unwrap();
    assert_eq!(
        v.unchecked,
        [
            Unchecked::WorkerId,
            Unchecked::ClientNonce,
            Unchecked::Venue
        ]
    );
    assert!(v.is_strict());

    // Changing the output fails the proof.
    let mut r = receipt.clone();
    r.output.quantized[0] += 1;
    r.output.values[0] = r.output.quantized[0] as f64 * (-(r.output.frac_bits as f64)).exp2();
    assert_eq!(
        verify(&r, key, &Expected::model_only(record)),
        Err(VerificationError::BadProof)
    );

    // With the client's request in the receipt, its input digest and nonce are the request's:
    // changed, they are refused before the proof is read.
    for edit in [
        |r: &mut Receipt| r.client_nonce = "nonce-y".into(),
        |r: &mut Receipt| r.input_digest = fr_to_hex(&zkw_verifier::Fr::from(5u64)),
    ] {
        let mut r = receipt.clone();
        edit(&mut r);
        assert!(matches!(
            verify(&r, key, &Expected::model_only(record)),
            Err(VerificationError::BadRequest { .. })
        ));
    }
    // Without a request, the proof itself binds them. Changing the input digest fails the
    // proof; so does the right input under another salt (the digest binds the salt) or
    // without one.
    let plain = prover.prove(&input, &SALT, &job()).unwrap().receipt;
    verify(&plain, key, &Expected::model_only(record)).unwrap();
    for salt in [InputSalt::UNSALTED, InputSalt::from_bytes([0x34; 31])] {
        let mut r = plain.clone();
        r.input_digest = fr_to_hex(&input_digest(&input, w8(), &salt).unwrap());
        assert_eq!(
            verify(&r, key, &Expected::model_only(record)),
            Err(VerificationError::BadProof)
        );
    }
    let mut r = plain.clone();
    r.input_digest = fr_to_hex(&input_digest(&[0, 0, 0, 0], w8(), &SALT).unwrap());
    assert_eq!(
        verify(&r, key, &Expected::model_only(record)),
        Err(VerificationError::BadProof)
    );

    // Re-attributing the job to another job id, worker or nonce, or dropping the client's
    // request, fails the proof.
    type Edit<'a> = (&'a Receipt, fn(&mut Receipt));
    let edits: [Edit<'_>; 4] = [
        (receipt, |r| r.job_id = "job-2".into()),
        (receipt, |r| r.worker_id = "worker-b".into()),
        (receipt, |r| r.request = None),
        (&plain, |r| r.client_nonce = "nonce-y".into()),
    ];
    for (base, edit) in edits {
        let mut r = base.clone();
        edit(&mut r);
        assert_eq!(
            verify(&r, key, &Expected::model_only(record)),
            Err(VerificationError::BadProof)
        );
    }

    // A record with another model commitment: in private mode the proof fails; in fixed mode
    // the record is refused first (its commitment must be its model id).
    let mut other = record.clone();
    other.model_commitment = fr_to_hex(&zkw_verifier::Fr::from(12345u64));
    let result = verify(receipt, key, &Expected::model_only(&other));
    match mode {
        WeightMode::Private => assert_eq!(result, Err(VerificationError::BadProof)),
        WeightMode::Fixed | WeightMode::Committed => assert!(
            matches!(&result, Err(VerificationError::Malformed { what: "model record", reason })
                if reason.contains("must be its model id")),
            "{result:?}"
        ),
    }

    // Expectations the receipt does not meet are named.
    let other_input = input_digest(&[1, 2, 3, 4], w8(), &SALT).unwrap();
    let wrong_input = Expected {
        input_digest: Check::Equals(other_input),
        ..expected
    };
    assert_eq!(
        verify(receipt, key, &wrong_input),
        Err(VerificationError::InputMismatch {
            expected: fr_to_hex(&other_input),
            received: receipt.input_digest.clone(),
        })
    );
    let wrong_job = Expected {
        job_id: Check::Equals("job-9"),
        ..expected
    };
    assert_eq!(
        verify(receipt, key, &wrong_job),
        Err(VerificationError::JobMismatch {
            expected: "job-9".into(),
            received: "job-1".into(),
        })
    );
    assert_eq!(
        verify(receipt, key, &expected.worker("worker-z")),
        Err(VerificationError::WorkerMismatch {
            expected: "worker-z".into(),
            received: "worker-a".into(),
        })
    );
    assert_eq!(
        verify(receipt, key, &expected.nonce("nonce-z")),
        Err(VerificationError::JobMismatch {
            expected: "client nonce nonce-z".into(),
            received: "client nonce nonce-x".into(),
        })
    );
}

#[test]
fn fixed_weights_round_trip_and_tampering() {
    round_trip(WeightMode::Fixed);
}

#[test]
fn private_weights_round_trip_and_tampering() {
    round_trip(WeightMode::Private);
}

#[test]
fn committed_weights_round_trip_and_tampering() {
    round_trip(WeightMode::Committed);
}
