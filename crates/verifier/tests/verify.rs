//! `verify()` end to end inside the verifier crate, with real Groth16 proofs: a stand-in
//! circuit whose public inputs are exactly a statement's encoding (each bound by `x · 1 = x`)
//! proves any statement, so every rejection path is checked against a proof that is valid for
//! *some* statement — the one the receipt was made from (`standin/`).

mod standin;

use standin::{Fixture, fixture, fixture_by};
use zkw_verifier::field::fr_to_hex;
use zkw_verifier::receipt::{RECEIPT_VERSION, encode_proof};
use zkw_verifier::{
    Check, Expected, Fr, Receipt, Signer, Unchecked, VerificationError, WorkerKey, check_signature,
    verify, verify_batch,
};

fn strict(f: &Fixture) -> Expected<'_> {
    Expected::new(&f.record, f.input_digest, "job-1")
        .worker("worker-a")
        .nonce("nonce-x")
}

fn set_output(r: &mut Receipt, i: usize, v: i64) {
    r.output.quantized[i] = v;
    r.output.values[i] = v as f64 / 4.0;
}

#[test]
fn an_honest_receipt_verifies_strictly_and_round_trips() {
    for n in [3, 64, 65, 70] {
        let f = fixture(n, n as u64);
        let v = verify(&f.receipt, &f.key, &strict(&f)).unwrap();
        assert_eq!(v.job_id, "job-1");
        assert_eq!(v.worker_id, "worker-a");
        assert_eq!(v.model_id, f.record.model_id);
        assert_eq!(v.quantized, f.receipt.output.quantized);
        assert_eq!(v.output, f.receipt.output.values);
        // These receipts answer no client request: nobody can check a venue (tests/request.rs).
        assert!(v.unchecked == [Unchecked::Venue] && v.is_strict());
        assert_eq!(v.request, None);
        let back = Receipt::from_json(f.receipt.to_json().as_bytes()).unwrap();
        assert_eq!(back, f.receipt);
        assert_eq!(
            encode_proof(&f.receipt.decode_proof().unwrap()),
            f.receipt.proof
        );
    }
}

#[test]
fn every_claimed_field_is_bound_by_the_proof() {
    for n in [3, 70] {
        let f = fixture(n, 7);
        let any = Expected::model_only(&f.record);
        type Edit = fn(&mut Receipt);
        let edits: [(&str, Edit); 6] = [
            ("output", |r| set_output(r, 1, r.output.quantized[1] + 1)),
            ("input digest", |r| {
                r.input_digest = fr_to_hex(&Fr::from(9u64))
            }),
            ("job id", |r| r.job_id = "job-2".into()),
            ("worker id", |r| r.worker_id = "worker-b".into()),
            ("client nonce", |r| r.client_nonce = "nonce-y".into()),
            ("proof", |r| {
                // Another valid proof, of another statement.
                r.proof = fixture(r.output.quantized.len(), 99).receipt.proof;
            }),
        ];
        for (what, edit) in edits {
            let mut r = f.receipt.clone();
            edit(&mut r);
            assert_eq!(
                verify(&r, &f.key, &any),
                Err(VerificationError::BadProof),
                "{n} outputs: {what}"
            );
        }
        let mut other = f.record.clone();
        other.weight_mode = "private".into();
        other.model_commitment = fr_to_hex(&Fr::from(5u64));
        assert_eq!(
            verify(&f.receipt, &f.key, &Expected::model_only(&other)),
            Err(VerificationError::BadProof),
            "another commitment"
        );
    }
}

#[test]
fn the_carry_between_packed_outputs_is_refused_by_position() {
    let f = fixture(70, 3);
    let mut r = f.receipt.clone();
    let (a, b) = (r.output.quantized[4], r.output.quantized[5]);
    set_output(&mut r, 4, a + 256);
    set_output(&mut r, 5, b - 1);
    assert_eq!(
        verify(&r, &f.key, &strict(&f)),
        Err(VerificationError::OutOfRange {
            what: "output",
            index: 4,
            value: a + 256,
            bits: 8
        })
    );
    for v in [128, -129, i64::MAX, i64::MIN] {
        let mut r = f.receipt.clone();
        set_output(&mut r, 69, v);
        assert!(matches!(
            verify(&r, &f.key, &strict(&f)),
            Err(VerificationError::OutOfRange { index: 69, .. })
        ));
    }
    // Values at the edges of the width are fine as far as the range goes.
    for (i, v) in [(0, 127), (1, -128)] {
        let mut r = f.receipt.clone();
        assert_ne!(r.output.quantized[i], v);
        set_output(&mut r, i, v);
        assert_eq!(
            verify(&r, &f.key, &strict(&f)),
            Err(VerificationError::BadProof)
        );
    }
}

#[test]
fn expectations_are_checked_field_by_field() {
    let f = fixture(3, 1);
    let e = strict(&f);
    assert_eq!(
        verify(
            &f.receipt,
            &f.key,
            &Expected {
                job_id: Check::Equals("job-9"),
                ..e
            }
        ),
        Err(VerificationError::JobMismatch {
            expected: "job-9".into(),
            received: "job-1".into()
        })
    );
    assert_eq!(
        verify(&f.receipt, &f.key, &e.worker("w-9")),
        Err(VerificationError::WorkerMismatch {
            expected: "w-9".into(),
            received: "worker-a".into()
        })
    );
    assert_eq!(
        verify(&f.receipt, &f.key, &e.nonce("n-9")),
        Err(VerificationError::JobMismatch {
            expected: "client nonce n-9".into(),
            received: "client nonce nonce-x".into()
        })
    );
    let other = Fr::from(5u64);
    assert_eq!(
        verify(
            &f.receipt,
            &f.key,
            &Expected {
                input_digest: Check::Equals(other),
                ..e
            }
        ),
        Err(VerificationError::InputMismatch {
            expected: fr_to_hex(&other),
            received: f.receipt.input_digest.clone()
        })
    );
    // Skipped checks are listed, in order.
    let v = verify(
        &f.receipt,
        &f.key,
        &Expected::new(&f.record, f.input_digest, "job-1"),
    )
    .unwrap();
    assert_eq!(
        v.unchecked,
        [
            Unchecked::WorkerId,
            Unchecked::ClientNonce,
            Unchecked::Venue
        ]
    );
    assert!(v.is_strict());
    let v = verify(
        &f.receipt,
        &f.key,
        &Expected {
            job_id: Check::Skip,
            ..e
        },
    )
    .unwrap();
    assert_eq!(v.unchecked, [Unchecked::JobId, Unchecked::Venue]);
    assert!(!v.is_strict());
    let v = verify(
        &f.receipt,
        &f.key,
        &Expected {
            input_digest: Check::Skip,
            ..e
        },
    )
    .unwrap();
    assert_eq!(v.unchecked, [Unchecked::Input, Unchecked::Venue]);
    assert!(!v.is_strict());
    let v = verify(&f.receipt, &f.key, &Expected::model_only(&f.record)).unwrap();
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
    let names: Vec<String> = v.unchecked.iter().map(|u| u.to_string()).collect();
    assert_eq!(
        names,
        ["input", "job id", "worker id", "client nonce", "venue"]
    );
}

#[test]
fn the_model_is_the_one_the_caller_names_unless_it_says_otherwise() {
    let f = fixture(3, 3);
    // A record looked up by the receipt's own model id verifies, but says so: a worker could
    // have proved any registered model with the same input format.
    let v = verify(&f.receipt, &f.key, &strict(&f).model_from_receipt()).unwrap();
    assert_eq!(v.unchecked, [Unchecked::Model, Unchecked::Venue]);
    assert_eq!(Unchecked::Model.to_string(), "model");
    assert!(!v.is_strict());
    // A caller that names another model than its record's is refused before anything else.
    let other = "4d".repeat(32);
    assert_eq!(
        verify(
            &f.receipt,
            &f.key,
            &Expected {
                model: Check::Equals(&other),
                ..strict(&f)
            }
        ),
        Err(VerificationError::ModelMismatch {
            expected: other.clone(),
            received: format!(
                "another model (the record given is model {})",
                f.record.model_id
            ),
        })
    );
    // Naming the record's own model is the strict default.
    assert_eq!(strict(&f).model, Check::Equals(f.record.model_id.as_str()));
    assert_eq!(
        Expected::model_only(&f.record).model,
        Check::Equals(f.record.model_id.as_str())
    );
}

#[test]
fn the_receipt_must_match_the_record_and_the_key() {
    let f = fixture(3, 2);
    let e = strict(&f);
    let mut r = f.receipt.clone();
    r.model_id = "2b".repeat(32);
    assert_eq!(
        verify(&r, &f.key, &e),
        Err(VerificationError::ModelMismatch {
            expected: f.record.model_id.clone(),
            received: "2b".repeat(32)
        })
    );
    let mut r = f.receipt.clone();
    r.vk_id = "3c".repeat(32);
    assert_eq!(
        verify(&r, &f.key, &e),
        Err(VerificationError::KeyMismatch {
            expected: f.record.vk_id.clone(),
            received: "3c".repeat(32)
        })
    );
    // The key file is another key than the record names.
    let other = fixture(3, 5).key;
    assert_eq!(
        verify(&f.receipt, &other, &e),
        Err(VerificationError::KeyMismatch {
            expected: f.record.vk_id.clone(),
            received: other.id().to_string()
        })
    );
    // A key for another number of public inputs, registered under its own id: 40 8-bit
    // outputs pack to 2 elements, the 3 outputs here to one.
    let wide = fixture(40, 5);
    let mut rec = f.record.clone();
    rec.vk_id = wide.key.id().to_string();
    let mut r = f.receipt.clone();
    r.vk_id = wide.key.id().to_string();
    assert_eq!(
        verify(&r, &wide.key, &Expected::new(&rec, f.input_digest, "job-1")),
        Err(VerificationError::KeyMismatch {
            expected: "a key for 4 public inputs".into(),
            received: "a key for 5".into()
        })
    );
}

#[test]
fn the_output_must_have_the_models_format() {
    let f = fixture(3, 4);
    let e = strict(&f);
    let mut r = f.receipt.clone();
    r.output.frac_bits = 3;
    assert_eq!(
        verify(&r, &f.key, &e),
        Err(VerificationError::OutputMismatch(
            "scale 2^-3, the model's output scale is 2^-2".into()
        ))
    );
    let mut r = f.receipt.clone();
    r.output.shape = vec![1, 3];
    assert_eq!(
        verify(&r, &f.key, &e),
        Err(VerificationError::OutputMismatch(
            "shape [1, 3], the model outputs shape [3]".into()
        ))
    );
    // A displayed value has one spelling: -0.0 is not 0.
    let zero = fixture(3, 4);
    let mut r = zero.receipt.clone();
    set_output(&mut r, 0, 0);
    r.output.values[0] = -0.0;
    let err = verify(&r, &zero.key, &strict(&zero))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("dequantized value #0 = -0 is not quantized value 0"),
        "{err}"
    );
    let mut r = f.receipt.clone();
    r.output.values[2] += 0.25;
    let err = verify(&r, &f.key, &e).unwrap_err().to_string();
    assert!(err.contains("dequantized value #2"), "{err}");
    // The proof must be 128 bytes of valid points.
    let mut r = f.receipt.clone();
    r.proof = "00".repeat(128);
    assert!(matches!(
        verify(&r, &f.key, &e),
        Err(VerificationError::Malformed { what: "proof", .. })
    ));
    let mut r = f.receipt.clone();
    r.proof = "00".repeat(127);
    assert!(matches!(
        r.decode_proof(),
        Err(VerificationError::Malformed { what: "proof", .. })
    ));
    r.proof = "zz".repeat(128);
    assert!(matches!(
        r.decode_proof(),
        Err(VerificationError::Malformed { what: "proof", .. })
    ));
    // Versions other than this build's are refused as such.
    let mut r = f.receipt.clone();
    r.version = RECEIPT_VERSION + 1;
    assert_eq!(
        verify(&r, &f.key, &e),
        Err(VerificationError::UnsupportedVersion {
            found: (RECEIPT_VERSION + 1).into(),
            supported: RECEIPT_VERSION
        })
    );
    // An invalid record is refused before anything else.
    let mut rec = f.record.clone();
    rec.version = 1;
    assert!(matches!(
        verify(
            &f.receipt,
            &f.key,
            &Expected::new(&rec, f.input_digest, "job-1")
        ),
        Err(VerificationError::Malformed {
            what: "model record",
            ..
        })
    ));
}

#[test]
fn ids_at_the_size_limit_are_accepted_one_byte_more_is_not() {
    let f = fixture(3, 6);
    let mut r = f.receipt.clone();
    r.job_id = "j".repeat(zkw_verifier::receipt::MAX_ID_BYTES);
    assert!(r.validate().is_ok());
    r.job_id.push('j');
    assert!(r.validate().is_err());
}

#[test]
fn a_workers_signature_is_checked_and_reported() {
    let key = WorkerKey::from_seed(&[9; 32]);
    let f = fixture_by(3, 8, &key.worker_id());
    let e = Expected::new(&f.record, f.input_digest, "job-1");
    // Unsigned: verified, and said so.
    assert_eq!(
        verify(&f.receipt, &f.key, &e).unwrap().signer,
        Signer::Unsigned
    );
    let mut signed = f.receipt.clone();
    key.sign(&mut signed);
    let v = verify(&signed, &f.key, &e).unwrap();
    assert_eq!(v.signer, Signer::Worker(key.worker_id()));
    // The signature survives JSON.
    let back = Receipt::from_json(signed.to_json().as_bytes()).unwrap();
    assert_eq!(
        check_signature(&back).unwrap(),
        Signer::Worker(key.worker_id())
    );

    // Signed by another key, altered, or over another claim: refused, naming the signature.
    let other = WorkerKey::from_seed(&[10; 32]);
    let mut r = f.receipt.clone();
    other.sign(&mut r);
    assert!(matches!(
        verify(&r, &f.key, &e),
        Err(VerificationError::BadSignature { .. })
    ));
    let mut r = signed.clone();
    let mut sig = hex::decode(r.signature.as_ref().unwrap()).unwrap();
    sig[10] ^= 1;
    r.signature = Some(hex::encode(sig));
    assert!(matches!(
        verify(&r, &f.key, &e),
        Err(VerificationError::BadSignature { .. })
    ));
    // Every field is signed: the claim, the shown values, the version and the proof bytes.
    type Edit = fn(&mut Receipt);
    let edits: [Edit; 12] = [
        |r| r.output.values[0] += 1.0,
        |r| r.version += 1,
        |r| {
            r.proof
                .replace_range(0..2, if &r.proof[0..2] == "00" { "01" } else { "00" })
        },
        |r| {
            r.proof.replace_range(
                254..256,
                if &r.proof[254..256] == "00" {
                    "01"
                } else {
                    "00"
                },
            )
        },
        |r| r.model_id = "2b".repeat(32),
        |r| r.vk_id = "3c".repeat(32),
        |r| r.input_digest = fr_to_hex(&Fr::from(3u64)),
        |r| r.job_id = "job-2".into(),
        |r| r.client_nonce = "other".into(),
        |r| r.output.quantized[0] += 1,
        |r| r.output.frac_bits += 1,
        |r| r.output.shape = vec![1, 3],
    ];
    for edit in edits {
        let mut r = signed.clone();
        edit(&mut r);
        assert!(matches!(
            check_signature(&r),
            Err(VerificationError::BadSignature { .. })
        ));
    }
    // A signature with a worker id that is no key, and malformed signatures.
    let mut r = f.receipt.clone();
    key.sign(&mut r);
    r.worker_id = "worker-a".into();
    let err = check_signature(&r).unwrap_err().to_string();
    assert!(err.contains("not an ed25519 public key"), "{err}");
    let mut r = signed.clone();
    r.signature = Some("00".repeat(63));
    assert!(matches!(
        r.validate(),
        Err(VerificationError::BadSignature { .. })
    ));
    r.signature = Some("AB".repeat(64));
    assert!(matches!(
        r.validate(),
        Err(VerificationError::BadSignature { .. })
    ));
    // The seed never prints.
    assert!(!format!("{key:?}").contains(&hex::encode([9u8; 32])));
    assert_eq!(
        format!("{key:?}"),
        format!("WorkerKey({})", key.worker_id())
    );
    assert_eq!(
        WorkerKey::from_seed(&key.seed()).worker_id(),
        key.worker_id()
    );
}

#[test]
fn a_batch_gives_each_receipt_what_verify_gives_it() {
    let f = standin::fixtures_by(4, 5, "worker-a", 6);
    let mut receipts = f.receipts.clone();
    let y = receipts[2].output.quantized[0];
    set_output(&mut receipts[2], 0, y + 1);
    receipts[4].proof = f.receipts[5].proof.clone();
    receipts[5].job_id = "job-x".into();
    let expected: Vec<Expected<'_>> = f
        .receipts
        .iter()
        .map(|r| Expected::new(&f.record, f.input_digest, &r.job_id))
        .collect();
    let pairs: Vec<(&Receipt, &Expected<'_>)> = receipts.iter().zip(&expected).collect();
    let batch = verify_batch(&f.key, &pairs);
    assert_eq!(batch.len(), 6);
    for ((r, e), got) in pairs.iter().zip(&batch) {
        let one = verify(r, &f.key, e);
        assert_eq!(
            got.as_ref().map(|v| &v.job_id),
            one.as_ref().map(|v| &v.job_id)
        );
        assert_eq!(
            got.as_ref().err().map(ToString::to_string),
            one.as_ref().err().map(ToString::to_string)
        );
    }
    let errors: Vec<usize> = (0..6).filter(|&k| batch[k].is_err()).collect();
    assert_eq!(errors, [2, 4, 5]);
    assert!(matches!(batch[2], Err(VerificationError::BadProof)));
    assert!(matches!(batch[4], Err(VerificationError::BadProof)));
    assert!(matches!(
        batch[5],
        Err(VerificationError::JobMismatch { .. })
    ));
}
