//! Ownership in the light verifier: the owned model id, and the owner's setup statement with
//! its possession receipt — each check of `check_setup` and `check_owned` met by the forgery it
//! exists for, with a real Groth16 proof (the stand-in circuit) wherever a proof is read.

mod standin;

use serde_json::json;
use standin::{Owned, owned};
use zkw_verifier::dsse::Envelope;
use zkw_verifier::intoto::{Statement, Subject};
use zkw_verifier::ownership::{
    OWNERSHIP_JOB_PREFIX, SETUP_PREDICATE, check_setup, is_ownership_job, ownership_job, sign_setup,
};
use zkw_verifier::record::owned_model_id;
use zkw_verifier::{KeyPair, Receipt, Registration, Reward, VerificationError, WorkerKey};

fn owner() -> KeyPair {
    KeyPair::from_seed(&[0x21; 32])
}

/// The owner's possession receipt of `m`: its ownership job, signed by the owner.
fn possession(m: &Owned, owner: &KeyPair) -> Receipt {
    let job = ownership_job(&m.record.model_id, &owner.public_hex());
    let mut r = m.receipt(&job.job_id, &job.worker_id, &job.client_nonce);
    WorkerKey::from_seed(&owner.seed()).sign(&mut r);
    r
}

fn refusal(e: VerificationError) -> String {
    match e {
        VerificationError::BadOwnerSignature { what, reason } => {
            assert_eq!(what, "model setup statement");
            reason
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_owned_model_id_is_the_digest_of_content_and_owner() {
    // Computed independently with Python's `blake3` package:
    // blake3(derive_key_context="zkworker 2026-12 owned model id", b"\x11"*32 + b"ab"*32)
    assert_eq!(
        hex::encode(owned_model_id(&[0x11; 32], &"ab".repeat(32))),
        "2c8ac4572ebcc5f2eb368d55dfc01997573b8607f66a442794f600f11a53f53a"
    );
    assert_ne!(
        owned_model_id(&[0x11; 32], &"ab".repeat(32)),
        owned_model_id(&[0x11; 32], &"cd".repeat(32))
    );
    assert_ne!(
        owned_model_id(&[0x11; 32], &"ab".repeat(32)),
        owned_model_id(&[0x12; 32], &"ab".repeat(32))
    );
}

#[test]
fn a_record_names_its_owner_only_with_the_id_that_owner_and_content_make() {
    let o = owner().public_hex();
    let m = owned(&o, 1);
    m.record.validate().unwrap();
    let malformed = |r: &zkw_verifier::ModelRecord| match r.validate() {
        Err(VerificationError::Malformed { what, reason }) => {
            assert_eq!(what, "model record");
            reason
        }
        other => panic!("{other:?}"),
    };
    // Another owner, same id.
    let mut r = m.record.clone();
    r.owner = Some("cd".repeat(32));
    assert!(malformed(&r).contains("is not the id of content"));
    // Another content, same id.
    let mut r = m.record.clone();
    r.content_id = Some("12".repeat(32));
    assert!(malformed(&r).contains("is not the id of content"));
    // One without the other.
    let mut r = m.record.clone();
    r.owner = None;
    assert!(malformed(&r).contains("come together"));
    let mut r = m.record.clone();
    r.content_id = None;
    assert!(malformed(&r).contains("come together"));
    // Not hex, in either.
    for bad in ["AB".repeat(32), "ab".repeat(31), "zz".repeat(32)] {
        let mut r = m.record.clone();
        r.owner = Some(bad.clone());
        assert!(malformed(&r).contains("64 lower-case hex"), "{bad}");
        let mut r = m.record.clone();
        r.content_id = Some(bad.clone());
        assert!(malformed(&r).contains("64 lower-case hex"), "{bad}");
    }
}

#[test]
fn the_owners_setup_statement_checks_and_every_forgery_of_it_is_refused() {
    let o = owner();
    let m = owned(&o.public_hex(), 2);
    let honest = sign_setup(&m.record, possession(&m, &o), &o).unwrap();
    let p = check_setup(&honest, &m.record, &m.key, &o.public_hex()).unwrap();
    assert_eq!(p.owner, o.public_hex());
    assert_eq!(p.model_id, m.record.model_id);

    // Signed by another key.
    let mallory = KeyPair::from_seed(&[0x66; 32]);
    let theirs = sign_setup(&m.record, possession(&m, &o), &mallory).unwrap();
    assert!(
        refusal(check_setup(&theirs, &m.record, &m.key, &o.public_hex()).unwrap_err())
            .contains("not signed by the registering owner")
    );

    // Signed for another record (a field the proof does not read changed).
    let mut other = m.record.clone();
    other.name.push('!');
    let for_other = sign_setup(&other, possession(&m, &o), &o).unwrap();
    assert!(
        refusal(check_setup(&for_other, &m.record, &m.key, &o.public_hex()).unwrap_err())
            .contains("its subjects are not")
    );

    // Right subjects, but a predicate stating another model, key, record or owner: signed by
    // the owner all the same (an owner's own mistake, or a tool's).
    let base = Statement::open(&honest, &o.public_hex()).unwrap();
    for (field, what) in [
        ("model_id", "model"),
        ("vk_id", "verifying key"),
        ("record_digest", "record digest"),
        ("owner", "owner"),
    ] {
        let mut s = base.clone();
        s.predicate.insert(field.into(), json!("ef".repeat(32)));
        let e = refusal(check_setup(&s.sign(&o), &m.record, &m.key, &o.public_hex()).unwrap_err());
        assert!(e.contains(&format!("it states {what} ")), "{field}: {e}");
    }

    // The possession receipt for another job, worker or nonce (each with a valid proof).
    let job = ownership_job(&m.record.model_id, &o.public_hex());
    let cases = [
        ("job-1".to_string(), job.worker_id.clone(), String::new()),
        (job.job_id.clone(), "77".repeat(32), String::new()),
        (job.job_id.clone(), job.worker_id.clone(), "n".to_string()),
    ];
    for (job_id, worker, nonce) in cases {
        let mut r = m.receipt(&job_id, &worker, &nonce);
        WorkerKey::from_seed(&o.seed()).sign(&mut r);
        let st = sign_setup(&m.record, r, &o).unwrap();
        let e = refusal(check_setup(&st, &m.record, &m.key, &o.public_hex()).unwrap_err());
        assert!(
            e.contains("not the ownership job of owner"),
            "{job_id} {nonce}: {e}"
        );
    }

    // Unsigned, or signed by another key under the owner's id.
    let mut unsigned = possession(&m, &o);
    unsigned.signature = None;
    let st = sign_setup(&m.record, unsigned, &o).unwrap();
    assert!(
        refusal(check_setup(&st, &m.record, &m.key, &o.public_hex()).unwrap_err())
            .contains("not signed by the owner")
    );
    let mut foreign = possession(&m, &o);
    WorkerKey::from_seed(&[0x66; 32]).sign(&mut foreign);
    let st = sign_setup(&m.record, foreign, &o).unwrap();
    assert!(matches!(
        check_setup(&st, &m.record, &m.key, &o.public_hex()),
        Err(VerificationError::BadSignature { .. })
    ));

    // A proof of another statement: the receipt's output changed and signed again.
    let mut false_claim = possession(&m, &o);
    false_claim.output.quantized[0] += 1;
    false_claim.output.values[0] += 0.25;
    WorkerKey::from_seed(&o.seed()).sign(&mut false_claim);
    let st = sign_setup(&m.record, false_claim, &o).unwrap();
    let e = refusal(check_setup(&st, &m.record, &m.key, &o.public_hex()).unwrap_err());
    assert!(
        e.contains("does not prove") && e.contains("does not verify"),
        "{e}"
    );

    // A statement of another predicate type, with the right subjects.
    let mut s = base.clone();
    s.predicate_type = "https://example.org/other/v1".into();
    assert!(matches!(
        check_setup(&s.sign(&o), &m.record, &m.key, &o.public_hex()),
        Err(VerificationError::Malformed { .. })
    ));
    assert_eq!(base.predicate_type, SETUP_PREDICATE);
    assert_eq!(base.subject.len(), 3);
    assert_eq!(
        base.subject[2],
        Subject::blake3("record", &m.record.digest())
    );
}

#[test]
fn a_registry_takes_a_registration_only_with_its_owners_statement_and_id() {
    let o = owner();
    let m = owned(&o.public_hex(), 3);
    let reward = Reward {
        fee: 10,
        worker_share_bps: 5000,
        penalty: 1,
    };
    let statement = sign_setup(&m.record, possession(&m, &o), &o).unwrap();
    let bare = Registration::new(m.record.clone(), &m.key, reward, Default::default());
    assert_eq!(bare.setup, None);
    let mut reg = bare.clone().with_setup(statement.clone());
    assert_eq!(reg.setup.as_ref(), Some(&statement));
    reg.sign(&o);
    reg.check_owned().unwrap();

    // Without the statement: readable (check), not registrable (check_owned).
    let mut without = bare.clone();
    without.sign(&o);
    without.check().unwrap();
    match without.check_owned() {
        Err(VerificationError::BadOwnerSignature { reason, .. }) => {
            assert!(reason.contains("carries no setup statement"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    // A record naming no owner.
    let mut unowned = reg.clone();
    (unowned.record.content_id, unowned.record.owner) = (None, None);
    unowned.sign(&o);
    match unowned.check_owned() {
        Err(VerificationError::BadOwnerSignature { reason, .. }) => {
            assert!(reason.contains("names no owner"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    // Signed by anyone but the owner the record names.
    let mallory = KeyPair::from_seed(&[0x66; 32]);
    let mut taken = reg.clone();
    taken.sign(&mallory);
    for result in [taken.check(), taken.check_owned()] {
        match result {
            Err(VerificationError::BadOwnerSignature { reason, .. }) => {
                assert!(reason.contains("belongs to owner"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }
    // A statement that does not check, carried by an otherwise good registration.
    let mut forged = bare.with_setup(sign_setup(&m.record, possession(&m, &o), &mallory).unwrap());
    forged.sign(&o);
    assert!(matches!(
        forged.check(),
        Err(VerificationError::BadOwnerSignature {
            what: "model setup statement",
            ..
        })
    ));
}

#[test]
fn ownership_job_ids_have_their_own_prefix() {
    let job = ownership_job(&"ab".repeat(32), &"cd".repeat(32));
    assert_eq!(
        job.job_id,
        format!("{OWNERSHIP_JOB_PREFIX}{}", "ab".repeat(32))
    );
    assert_eq!(job.worker_id, "cd".repeat(32));
    assert_eq!(job.client_nonce, "");
    assert!(is_ownership_job(&job.job_id));
    assert!(is_ownership_job(OWNERSHIP_JOB_PREFIX));
    assert!(!is_ownership_job("job-1"));
    assert!(!is_ownership_job(&format!("x{OWNERSHIP_JOB_PREFIX}")));
    assert!(!is_ownership_job(""));
}

#[test]
fn an_envelope_carries_at_most_sixteen_signatures() {
    let keys: Vec<KeyPair> = (0..17u8).map(|k| KeyPair::from_seed(&[k; 32])).collect();
    let mut e = Envelope::sign("application/x", b"p".to_vec(), &keys[0]);
    for k in &keys[1..16] {
        e.add_signature(k);
    }
    let sixteen = e.to_json();
    assert_eq!(
        Envelope::from_json(sixteen.as_bytes())
            .unwrap()
            .signers()
            .len(),
        16
    );
    e.add_signature(&keys[16]);
    match Envelope::from_json(e.to_json().as_bytes()) {
        Err(VerificationError::Malformed { reason, .. }) => {
            assert!(reason.contains("17 signatures, at most 16"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

/// The possession receipt is published in the setup statement; it is no client's job, so
/// `verify` refuses it whatever the caller expects — even a caller that names its job id.
#[test]
fn a_possession_receipt_never_verifies_as_a_job() {
    let o = owner();
    let m = owned(&o.public_hex(), 4);
    let r = possession(&m, &o);
    let job = ownership_job(&m.record.model_id, &o.public_hex());
    let expected = zkw_verifier::Expected {
        input_digest: zkw_verifier::Check::Skip,
        ..zkw_verifier::Expected::new(&m.record, zkw_verifier::Fr::from(0u64), &job.job_id)
    }
    .worker(&job.worker_id)
    .nonce("");
    match zkw_verifier::verify(&r, &m.key, &expected) {
        Err(VerificationError::JobMismatch { received, .. }) => {
            assert!(received.contains("never a job"), "{received}")
        }
        other => panic!("{other:?}"),
    }
    // The setup statement's own check accepts it.
    zkw_verifier::verify::verify_possession(&r, &m.key, &expected).unwrap();
}
