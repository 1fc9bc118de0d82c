//! Settlement end to end on real proofs: honest receipts credited once by the registered
//! split, every copy, re-spelling and re-randomization of a settled job refused, signed false
//! receipts penalised once, unsigned and unlicensed receipts left unpaid with the reason.

mod common;

use common::*;
use zkw_settlement::{Outcome, settle};
use zkw_verifier::{Licence, Receipt, VerificationError, WorkerKey};

fn one(w: &World, r: &Receipt) -> Outcome {
    settle(&w.registry, &w.ledger, std::slice::from_ref(r), NOW)
        .unwrap()
        .remove(0)
}

fn balance(w: &World, account: &str) -> (u64, u64) {
    w.ledger
        .balances()
        .unwrap()
        .into_iter()
        .find(|b| b.account == account)
        .map(|b| (b.credited as u64, b.charged as u64))
        .unwrap_or((0, 0))
}

#[test]
fn an_honest_receipt_settles_once_by_the_split() {
    let w = world();
    let r = w.fixed.receipt(&w.worker, "job-1", [10, -20, 30]);
    let Outcome::Settled(s) = one(&w, &r) else {
        panic!("not settled")
    };
    assert_eq!((s.worker_credit, s.owner_credit), (700, 300));
    assert_eq!(balance(&w, &w.worker.worker_id()), (700, 0));
    assert_eq!(balance(&w, &w.owner.public_hex()), (300, 0));
    // The ledger finds it by the client's request, which the proof binds; the client paid.
    let key = hex::encode(r.request.as_ref().unwrap().digest());
    assert_eq!(w.ledger.settlement(&key).unwrap(), Some(s.clone()));
    assert_eq!(w.ledger.settlement(&"00".repeat(32)).unwrap(), None);
    assert_eq!((s.client.clone(), s.debited), (client().public_hex(), 1000));
    let c = account(&w.ledger, &client().public_hex());
    assert_eq!(
        (c.deposited, c.debited, c.requests),
        (DEPOSIT as u128, 1000, 1)
    );

    // The same receipt again, the same one re-spelled, a re-randomized proof of it.
    let respelled = Receipt::from_json(serde_json::to_string(&r).unwrap().as_bytes()).unwrap();
    let rerandomized = rerandomized(&w.fixed, &r);
    for (what, copy) in [("again", &r), ("re-spelled", &respelled)] {
        match one(&w, copy) {
            Outcome::AlreadySettled {
                by,
                same_receipt: true,
                also: None,
            } => assert_eq!(by, s, "{what}"),
            other => panic!("{what}: {other:?}"),
        }
    }
    match one(&w, &rerandomized) {
        Outcome::AlreadySettled {
            same_receipt: false,
            also: Some(VerificationError::BadSignature { .. }),
            ..
        } => {}
        other => panic!("re-randomized: {other:?}"),
    }
    // Another (valid, signed, licensed) receipt answering the same request, under another job
    // id: refused too — a request is paid once, whichever receipt comes first.
    let other = w
        .fixed
        .answer(&w.worker, "job-1b", [10, -20, 30], r.request.clone());
    let out = one(&w, &other);
    assert!(!out.is_settled());
    assert!(
        matches!(
            out,
            Outcome::AlreadySettled {
                same_receipt: false,
                also: None,
                ..
            }
        ),
        "{out:?}"
    );
    assert!(out.to_string().contains("already settled"), "{out}");
    assert_eq!(balance(&w, &w.worker.worker_id()), (700, 0));
    assert_eq!(w.ledger.settlements().unwrap().len(), 1);
    // Another input under the requested job's id and the client's request: the request signs
    // the input's digest, so the receipt is refused for what it is, and nobody is charged.
    let mut swapped = w.fixed.answer(&w.worker, "job-1", [1, 2, 3], None);
    swapped.request = r.request.clone();
    w.worker.sign(&mut swapped);
    match one(&w, &swapped) {
        Outcome::AlreadySettled {
            same_receipt: false,
            also: Some(VerificationError::BadRequest { reason }),
            ..
        } => assert!(
            reason.contains("the client asked for the input with digest"),
            "{reason}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(w.ledger.penalties().unwrap().len(), 0);
}

#[test]
fn two_receipts_of_one_job_in_one_call_settle_it_once() {
    let w = world();
    let a = w.fixed.receipt(&w.worker, "job-7", [1, 1, 1]);
    let b = w
        .fixed
        .answer(&w.worker, "job-7b", [1, 1, 1], a.request.clone());
    let c = w.fixed.receipt(&w.worker, "job-8", [3, 3, 3]);
    let out = settle(&w.registry, &w.ledger, &[a, b, c], NOW).unwrap();
    assert!(out[0].is_settled());
    assert!(
        matches!(out[1], Outcome::AlreadySettled { .. }),
        "{:?}",
        out[1]
    );
    assert!(out[2].is_settled());
    assert_eq!(balance(&w, &w.worker.worker_id()), (1400, 0));
    // Each account counts its jobs; the client paid two requests.
    for b in w.ledger.balances().unwrap() {
        if b.account == client().public_hex() {
            assert_eq!(
                (b.requests, b.debited, b.net()),
                (2, 2000, DEPOSIT as i128 - 2000)
            );
        } else {
            assert_eq!((b.jobs, b.penalties), (2, 0), "{}", b.account);
        }
    }
}

#[test]
fn a_private_weights_receipt_settles_without_the_weights() {
    let w = world();
    let r = w.private.receipt(&w.worker, "job-p", [-5, 7, 120]);
    // The prover's keys (and the model file with the weights) are gone: settlement reads the
    // registry and the receipt only.
    let Registered { keys, .. } = &w.private;
    std::fs::remove_dir_all(keys.path()).unwrap();
    assert!(one(&w, &r).is_settled());
}

#[test]
fn no_receipt_settles_against_another_models_record() {
    let w = world();
    let r = w.fixed.receipt(&w.worker, "job-x", [4, 5, 6]);
    // Named as the private model, re-signed by the worker: the client's request names the
    // fixed model.
    let mut swapped = r.clone();
    swapped.model_id = w.private.model_id().into();
    w.worker.sign(&mut swapped);
    assert!(matches!(
        one(&w, &swapped),
        Outcome::Rejected(VerificationError::BadRequest { .. })
    ));
    // Without the request, the vk id is the fixed model's.
    swapped.request = None;
    w.worker.sign(&mut swapped);
    assert!(matches!(
        one(&w, &swapped),
        Outcome::Rejected(VerificationError::KeyMismatch { .. })
    ));
    // Named with the private model's vk too: the proof is false for that statement, and the
    // worker signed it.
    swapped.vk_id = w.private.registration.record.vk_id.clone();
    w.worker.sign(&mut swapped);
    let out = one(&w, &swapped);
    assert!(
        matches!(
            out,
            Outcome::Penalized {
                error: VerificationError::BadProof,
                ..
            }
        ),
        "{out:?}"
    );
    // A model the registry does not hold.
    let mut unknown = r.clone();
    unknown.model_id = "ee".repeat(32);
    match one(&w, &unknown) {
        Outcome::UnknownModel { reason, .. } => {
            assert!(reason.contains("not registered"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert!(w.ledger.settlements().unwrap().is_empty());
}

#[test]
fn unlicensed_workers_are_not_paid_and_told_why() {
    let w = world();
    let r = w.fixed.receipt(&w.stranger, "job-s", [1, 0, -1]);
    match one(&w, &r) {
        Outcome::Unlicensed(VerificationError::Unlicensed { reason, .. }) => {
            assert_eq!(reason, "it holds no licence for it")
        }
        other => panic!("{other:?}"),
    }
    // An expired licence.
    w.registry
        .add_licence(&Licence::issue(
            &w.owner,
            w.fixed.model_id(),
            &w.stranger.worker_id(),
            Some(NOW),
        ))
        .unwrap();
    match one(&w, &r) {
        Outcome::Unlicensed(e) => assert!(e.to_string().contains("expired at 1800000000"), "{e}"),
        other => panic!("{other:?}"),
    }
    // A licence signed by someone else than the owner: refused by the registry, and when
    // written into it by hand, refused at settlement.
    let mallory = zkw_verifier::KeyPair::from_seed(&[66; 32]);
    let forged = Licence::issue(&mallory, w.fixed.model_id(), &w.stranger.worker_id(), None);
    let e = w.registry.add_licence(&forged).unwrap_err().to_string();
    assert!(e.contains("is owned by"), "{e}");
    let path = w
        .registry
        .licence_path(w.fixed.model_id(), &w.stranger.worker_id())
        .unwrap();
    std::fs::write(&path, forged.to_json()).unwrap();
    match one(&w, &r) {
        Outcome::Unlicensed(e) => {
            assert!(e.to_string().contains("not by the model's owner"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    // A licence for the other model does not count; an edited licence is refused.
    let mut edited = Licence::issue(
        &w.owner,
        w.fixed.model_id(),
        &w.stranger.worker_id(),
        Some(NOW),
    );
    edited.expires_at = None;
    std::fs::write(&path, edited.to_json()).unwrap();
    match one(&w, &r) {
        Outcome::Unlicensed(e) => {
            assert!(
                e.to_string()
                    .contains("not the owner's signature of this licence"),
                "{e}"
            )
        }
        other => panic!("{other:?}"),
    }
    // Then a valid one: paid.
    w.registry
        .add_licence(&Licence::issue(
            &w.owner,
            w.fixed.model_id(),
            &w.stranger.worker_id(),
            Some(NOW + 1),
        ))
        .unwrap();
    assert!(one(&w, &r).is_settled());
}

#[test]
fn unsigned_receipts_verify_but_are_not_paid() {
    let w = world();
    let mut r = w.fixed.receipt(&w.worker, "job-u", [9, 9, 9]);
    r.signature = None;
    assert!(matches!(one(&w, &r), Outcome::Unsigned(_)));
    assert!(w.ledger.settlements().unwrap().is_empty());
}

#[test]
fn a_signed_false_receipt_is_penalised_once_and_kept_as_evidence() {
    let w = world();
    let honest = w.fixed.receipt(&w.worker, "job-f", [3, -3, 3]);
    let mut false_claim = honest.clone();
    false_claim.output.quantized[0] += 1;
    false_claim.output.values[0] += (-(false_claim.output.frac_bits as f64)).exp2();
    w.worker.sign(&mut false_claim);
    let Outcome::Penalized { penalty, error } = one(&w, &false_claim) else {
        panic!("not penalised")
    };
    assert_eq!(error, VerificationError::BadProof);
    assert_eq!(penalty.amount, 250);
    assert_eq!(
        Receipt::from_json(penalty.receipt.as_bytes()).unwrap(),
        false_claim
    );
    assert!(matches!(
        one(&w, &false_claim),
        Outcome::AlreadyPenalized { .. }
    ));
    assert_eq!(balance(&w, &w.worker.worker_id()), (0, 250));
    let b = w.ledger.balances().unwrap().remove(0);
    assert_eq!((b.jobs, b.penalties, b.net()), (0, 1, -250));
    // The honest receipt of that job still settles: a penalty does not take the job.
    assert!(one(&w, &honest).is_settled());
    assert_eq!(balance(&w, &w.worker.worker_id()), (700, 250));

    // The same false claim unsigned, or with a signature that is not the worker's: rejected,
    // nobody charged.
    let mut unsigned = false_claim.clone();
    unsigned.signature = None;
    unsigned.job_id = "job-g".into();
    unsigned.request = None;
    assert!(matches!(
        one(&w, &unsigned),
        Outcome::Rejected(VerificationError::BadProof)
    ));
    let mut framed = false_claim.clone();
    framed.job_id = "job-h".into();
    framed.request = None;
    WorkerKey::from_seed(&[77; 32]).sign(&mut framed);
    assert!(matches!(
        one(&w, &framed),
        Outcome::Rejected(VerificationError::BadSignature { .. })
    ));
    // A third party flipping a proof byte of an honest signed receipt: the signature no
    // longer holds, so no penalty (the worker signed the proof too).
    let honest2 = w.fixed.receipt(&w.worker, "job-i", [0, 1, 2]);
    let mut flipped = honest2.clone();
    let mut bytes = hex::decode(&flipped.proof).unwrap();
    bytes[5] ^= 1;
    flipped.proof = hex::encode(bytes);
    assert!(matches!(
        one(&w, &flipped),
        Outcome::Rejected(VerificationError::BadSignature { .. })
    ));
    assert_eq!(balance(&w, &w.worker.worker_id()), (700, 250));
    assert_eq!(w.ledger.penalties().unwrap().len(), 1);
}
