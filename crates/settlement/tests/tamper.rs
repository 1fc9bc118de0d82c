//! The tamper matrix for settlement: every field of a signed receipt changed, every byte of
//! its proof and signature flipped, its registration swapped or edited, the receipt replayed
//! under another job, worker or nonce — each refused, with the reason, and nothing credited.
//! Changed without the worker's key, a receipt loses its signature (refused, nobody charged);
//! changed and signed again by its worker, it is that worker's false claim (penalised).

mod common;

use common::*;
use zkw_settlement::{Outcome, settle};
use zkw_verifier::{Receipt, Registration, VerificationError};

type Tamper = (&'static str, fn(&mut Receipt));

/// An edit of a registration, given another model's.
type Edit = (&'static str, fn(&mut Registration, &Registration));

const FIELDS: &[Tamper] = &[
    ("job id", |r| r.job_id.push('x')),
    ("worker id", |r| r.worker_id = "cd".repeat(32)),
    ("client nonce", |r| r.client_nonce.push('x')),
    ("input digest", |r| {
        r.input_digest = zkw_verifier::field::fr_to_hex(&(ark_bn254::Fr::from(7u64)))
    }),
    ("output value", |r| {
        r.output.quantized[1] ^= 1;
        r.output.values[1] = r.output.quantized[1] as f64 * (-(r.output.frac_bits as f64)).exp2();
    }),
    ("shown value", |r| r.output.values[0] += 0.5),
    ("output scale", |r| r.output.frac_bits += 1),
    ("output shape", |r| {
        r.output.shape = vec![1, 2];
    }),
    ("client request dropped", |r| r.request = None),
];

fn outcome(w: &World, r: &Receipt) -> Outcome {
    settle(&w.registry, &w.ledger, std::slice::from_ref(r), NOW)
        .unwrap()
        .remove(0)
}

#[test]
fn every_changed_field_is_refused_signed_again_or_not() {
    let w = world();
    let honest = w.fixed.receipt(&w.worker, "job-t", [12, -7, 99]);
    for (what, change) in FIELDS {
        let mut r = honest.clone();
        change(&mut r);
        // The nonce and the input digest are also in the client's signed request: a receipt
        // that disagrees with its request is refused for that, signed or not, and charges
        // nobody (no false output is claimed; nothing a third party makes is ever a penalty).
        if matches!(*what, "client nonce" | "input digest") {
            for signed in [false, true] {
                if signed {
                    w.worker.sign(&mut r);
                }
                let out = outcome(&w, &r);
                assert!(
                    matches!(out, Outcome::Rejected(VerificationError::BadRequest { .. })),
                    "{what}, signed again {signed}: {out:?}"
                );
            }
            continue;
        }
        // Without the worker's key.
        let out = outcome(&w, &r);
        assert!(
            matches!(
                out,
                Outcome::Rejected(VerificationError::BadSignature { .. })
            ),
            "{what}, not re-signed: {out:?}"
        );
        // Signed again by the worker (the worker id's own key, where it is the worker's).
        if r.worker_id != w.worker.worker_id() {
            continue;
        }
        w.worker.sign(&mut r);
        let out = outcome(&w, &r);
        let expected_kind = match *what {
            "shown value" | "output scale" | "output shape" => {
                matches!(
                    out,
                    Outcome::Penalized {
                        error: VerificationError::OutputMismatch(_),
                        ..
                    }
                )
            }
            _ => matches!(
                out,
                Outcome::Penalized {
                    error: VerificationError::BadProof,
                    ..
                }
            ),
        };
        assert!(expected_kind, "{what}, re-signed: {out:?}");
    }
    // The honest receipt, untouched, still settles; nothing else was credited.
    assert!(outcome(&w, &honest).is_settled());
    assert_eq!(w.ledger.settlements().unwrap().len(), 1);
}

#[test]
fn every_flipped_byte_of_proof_and_signature_is_refused() {
    let w = world();
    let honest = w.fixed.receipt(&w.worker, "job-b", [1, 2, 3]);
    let proof = hex::decode(&honest.proof).unwrap();
    let sig = hex::decode(honest.signature.as_ref().unwrap()).unwrap();
    let mut receipts = Vec::new();
    for i in 0..proof.len() {
        let mut p = proof.clone();
        p[i] ^= 0x01;
        let mut r = honest.clone();
        r.proof = hex::encode(p);
        receipts.push(r);
    }
    for i in 0..sig.len() {
        let mut s = sig.clone();
        s[i] ^= 0x01;
        let mut r = honest.clone();
        r.signature = Some(hex::encode(s));
        receipts.push(r);
    }
    // All at once: one batch, bad ones found and named.
    let outs = settle(&w.registry, &w.ledger, &receipts, NOW).unwrap();
    for (k, out) in outs.iter().enumerate() {
        assert!(
            matches!(
                out,
                Outcome::Rejected(VerificationError::BadSignature { .. })
            ),
            "#{k}: {out:?}"
        );
    }
    // Flipped and signed again by the worker: a false claim, or an unparsable proof.
    for i in [0usize, 31, 32, 63, 64, 95, 96, 127] {
        let mut p = proof.clone();
        p[i] ^= 0x01;
        let mut r = honest.clone();
        r.proof = hex::encode(p);
        r.job_id = format!("job-b{i}");
        w.worker.sign(&mut r);
        match outcome(&w, &r) {
            Outcome::Penalized { error, .. } => assert!(
                matches!(
                    error,
                    VerificationError::BadProof
                        | VerificationError::Malformed { what: "proof", .. }
                ),
                "byte {i}: {error:?}"
            ),
            other => panic!("byte {i}: {other:?}"),
        }
    }
    assert!(w.ledger.settlements().unwrap().is_empty());
}

#[test]
fn replays_under_another_job_worker_or_nonce_are_refused() {
    let w = world();
    let honest = w.fixed.receipt(&w.worker, "job-r", [5, 5, 5]);
    assert!(outcome(&w, &honest).is_settled());
    // Another job id, re-signed by the same worker: the proof binds the old job. Its request
    // settled, so the failing receipt is a dispute, never a penalty. (Another nonce
    // contradicts the client's request: the tamper matrix refuses it.)
    let mut r = honest.clone();
    r.job_id = "job-r2".into();
    w.worker.sign(&mut r);
    let out = outcome(&w, &r);
    assert!(
        matches!(
            out,
            Outcome::Disputed {
                error: VerificationError::BadProof,
                ..
            }
        ),
        "{out:?}"
    );
    // Claimed by another (licensed) worker under its own signature: the proof binds the
    // first worker.
    let thief = zkw_verifier::WorkerKey::from_seed(&[9; 32]);
    w.registry
        .add_licence(&zkw_verifier::Licence::issue(
            &w.owner,
            w.fixed.model_id(),
            &thief.worker_id(),
            None,
        ))
        .unwrap();
    let mut stolen = honest.clone();
    stolen.worker_id = thief.worker_id();
    stolen.job_id = "job-r3".into();
    thief.sign(&mut stolen);
    // Its request is settled, so its failure is recorded as a dispute, charging nobody.
    assert!(matches!(
        outcome(&w, &stolen),
        Outcome::Disputed {
            error: VerificationError::BadProof,
            ..
        }
    ));
    // The thief's claim on a request nobody settled yet: its own false claim, charged.
    let open = w.fixed.receipt(&w.worker, "job-r4", [6, 6, 6]);
    let mut stolen = open.clone();
    stolen.worker_id = thief.worker_id();
    thief.sign(&mut stolen);
    assert!(matches!(
        outcome(&w, &stolen),
        Outcome::Penalized {
            error: VerificationError::BadProof,
            ..
        }
    ));
    assert!(outcome(&w, &open).is_settled());
    assert_eq!(w.ledger.settlements().unwrap().len(), 2);
}

#[test]
fn swapped_or_edited_registrations_are_refused() {
    let w = world();
    let r = w.fixed.receipt(&w.worker, "job-g", [0, 0, 1]);
    let fixed_id = w.fixed.model_id().to_string();

    // The private model's registration under the fixed model's name.
    write_history(
        &w.registry,
        &fixed_id,
        &[(&w.private.registration, &w.owner)],
    );
    match outcome(&w, &r) {
        Outcome::UnknownModel { reason, .. } => {
            assert!(
                reason.contains("entry 1 holds a registration of model"),
                "{reason}"
            )
        }
        other => panic!("{other:?}"),
    }
    // An edited split, and an edited verifying key (the private model's), signature kept.
    let edits: [Edit; 3] = [
        ("fee", |reg, _| reg.reward.fee += 1),
        ("vk", |reg, other| {
            reg.vk = other.vk.clone();
            reg.record.vk_id = other.record.vk_id.clone();
        }),
        ("owner", |reg, _| {
            reg.owner = zkw_verifier::KeyPair::from_seed(&[8; 32]).public_hex()
        }),
    ];
    for (what, edit) in edits {
        let mut reg = w.fixed.registration.clone();
        edit(&mut reg, &w.private.registration);
        // The entry itself signed by whoever the edited registration names.
        let signer = if what == "owner" {
            zkw_verifier::KeyPair::from_seed(&[8; 32])
        } else {
            zkw_verifier::KeyPair::from_seed(&w.owner.seed())
        };
        write_history(&w.registry, &fixed_id, &[(&reg, &signer)]);
        match outcome(&w, &r) {
            // An owner's model id names the owner: a registration by another is refused
            // before its signature is looked at.
            Outcome::UnknownModel { reason, .. } => assert!(
                reason.contains(if what == "owner" {
                    "its record's model belongs to owner"
                } else {
                    "not the owner's signature of this registration"
                }),
                "{what}: {reason}"
            ),
            other => panic!("{what}: {other:?}"),
        }
    }
    // Unsigned.
    let mut unsigned = w.fixed.registration.clone();
    unsigned.signature = None;
    write_history(&w.registry, &fixed_id, &[(&unsigned, &w.owner)]);
    match outcome(&w, &r) {
        Outcome::UnknownModel { reason, .. } => {
            assert!(reason.contains("not signed by its owner"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        w.registry.register(&unsigned, &w.owner).unwrap_err(),
        zkw_settlement::SettlementError::Refused(VerificationError::Unsigned { .. })
    ));
    // A vk that is not the record's (re-signed by the owner: caught by the vk id check).
    let mut wrong_vk = w.fixed.registration.clone();
    wrong_vk.vk = w.private.registration.vk.clone();
    wrong_vk.sign(&w.owner);
    assert!(matches!(
        w.registry.register(&wrong_vk, &w.owner).unwrap_err(),
        zkw_settlement::SettlementError::Refused(VerificationError::KeyMismatch { .. })
    ));
    // Another owner re-registering the model.
    let mut hijack = w.fixed.registration.clone();
    let mallory = zkw_verifier::KeyPair::from_seed(&[8; 32]);
    hijack.sign(&mallory);
    write_history(&w.registry, &fixed_id, &[(&w.fixed.registration, &w.owner)]);
    let e = w
        .registry
        .register(&hijack, &mallory)
        .unwrap_err()
        .to_string();
    assert!(e.contains("its record's model belongs to owner"), "{e}");
    // Even with a valid setup statement of its own (it holds the proving key): the model id
    // names the first owner.
    hijack.setup = Some(setup_for(&hijack.record, &w.fixed.prover, &mallory));
    hijack.sign(&mallory);
    let e = w
        .registry
        .register(&hijack, &mallory)
        .unwrap_err()
        .to_string();
    assert!(e.contains("its record's model belongs to owner"), "{e}");
    // Restored: settles.
    assert!(outcome(&w, &r).is_settled());
}
