//! A ledger is a venue, and it pays a client's signed request: exactly one receipt per
//! request, whichever worker proved it, debiting the client; a receipt without a request, one
//! for another venue (a second ledger) or for a venue the model's registration does not list,
//! one for a fee the client did not accept, and one whose client cannot pay, settle nothing.

mod common;

use common::*;
use zkw_settlement::{Ledger, Outcome, settle};
use zkw_verifier::{KeyPair, Licence, Receipt, Registration, Venue, WorkerKey};

fn in_ledger(w: &World, ledger: &Ledger, r: &Receipt) -> Outcome {
    settle(&w.registry, ledger, std::slice::from_ref(r), NOW)
        .unwrap()
        .remove(0)
}

fn not_payable(out: Outcome) -> String {
    match out {
        Outcome::NotPayable { reason, .. } => reason,
        other => panic!("expected not payable, got {other:?}"),
    }
}

/// Re-registers `m` (next sequence) with these venues.
fn with_venues(w: &World, m: &Registration, venues: &[Venue]) {
    let mut reg = m.clone();
    reg.venues = venues.to_vec();
    reg.venues.sort();
    reg.sequence = w.registry.next_sequence(&reg.record.model_id).unwrap();
    reg.sign(&w.owner);
    w.registry.register(&reg, &w.owner).unwrap();
}

#[test]
fn a_receipt_without_a_client_request_verifies_but_settles_nowhere() {
    let w = world();
    let r = w.fixed.answer(&w.worker, "job-bare", [1, 2, 3], None);
    let reason = not_payable(in_ledger(&w, &w.ledger, &r));
    assert!(reason.contains("answers no client request"), "{reason}");
    assert!(w.ledger.settlements().unwrap().is_empty());
}

#[test]
fn the_same_receipt_is_refused_by_a_second_ledger() {
    let w = world();
    let second = Ledger::open(&w.dir.path().join("second")).unwrap();
    assert_ne!(second.venue(), w.ledger.venue());
    second.deposit(&client().public_hex(), DEPOSIT).unwrap();
    // Even with the owner listing both ledgers, a receipt made for the first is refused by the
    // second (the venue is in the proof; a request names one).
    with_venues(
        &w,
        &w.fixed.registration,
        &[w.ledger.venue(), second.venue()],
    );
    let r = w.fixed.receipt(&w.worker, "job-1", [4, 4, 4]);
    let reason = not_payable(in_ledger(&w, &second, &r));
    assert_eq!(
        reason,
        format!(
            "the client's request names venue {}, this ledger is {}",
            w.ledger.venue(),
            second.venue()
        )
    );
    assert!(second.settlements().unwrap().is_empty());
    assert!(in_ledger(&w, &w.ledger, &r).is_settled());
    // A client who wants to pay in the second ledger signs a request naming it.
    let rq = request(
        &client(),
        &w.fixed.registration,
        &[4, 4, 4],
        "n-2",
        second.venue(),
        1000,
    );
    let there = w.fixed.answer(&w.worker, "job-2", [4, 4, 4], Some(rq));
    assert!(in_ledger(&w, &second, &there).is_settled());
    assert!(!in_ledger(&w, &w.ledger, &there).is_settled());
}

#[test]
fn a_venue_the_registration_does_not_list_pays_nothing() {
    let w = world();
    let elsewhere = Ledger::open(&w.dir.path().join("elsewhere")).unwrap();
    elsewhere.deposit(&client().public_hex(), DEPOSIT).unwrap();
    let rq = request(
        &client(),
        &w.fixed.registration,
        &[1, 1, 1],
        "n",
        elsewhere.venue(),
        1000,
    );
    let r = w.fixed.answer(&w.worker, "job-e", [1, 1, 1], Some(rq));
    let reason = not_payable(in_ledger(&w, &elsewhere, &r));
    assert!(
        reason.contains("does not list this ledger") && reason.contains("among its venues"),
        "{reason}"
    );
}

#[test]
fn a_fee_below_the_models_pays_nothing_and_a_higher_one_is_paid_whole() {
    let w = world();
    let rq = request(
        &client(),
        &w.fixed.registration,
        &[2, 2, 2],
        "n-cheap",
        w.ledger.venue(),
        999,
    );
    let r = w.fixed.answer(&w.worker, "job-c", [2, 2, 2], Some(rq));
    assert_eq!(
        not_payable(in_ledger(&w, &w.ledger, &r)),
        "the client's request pays 999, below the model's fee 1000"
    );
    // A client that signs for more pays what it signed, shared by the split (as a contract
    // pays out a request's deposit).
    let rq = request(
        &client(),
        &w.fixed.registration,
        &[2, 2, 2],
        "n-generous",
        w.ledger.venue(),
        5000,
    );
    let r = w.fixed.answer(&w.worker, "job-g", [2, 2, 2], Some(rq));
    let Outcome::Settled(s) = in_ledger(&w, &w.ledger, &r) else {
        panic!("not settled")
    };
    assert_eq!(
        (s.debited, s.worker_credit, s.owner_credit),
        (5000, 3500, 1500)
    );
}

#[test]
fn a_client_without_funds_is_not_debited_and_pays_once_funded() {
    let w = world();
    let poor = KeyPair::from_seed(&[0x50; 32]);
    let rq = request(
        &poor,
        &w.fixed.registration,
        &[3, 3, 3],
        "n-poor",
        w.ledger.venue(),
        1000,
    );
    let r = w.fixed.answer(&w.worker, "job-p", [3, 3, 3], Some(rq));
    match in_ledger(&w, &w.ledger, &r) {
        Outcome::Unfunded {
            client,
            needed,
            available,
            ..
        } => assert_eq!((client, needed, available), (poor.public_hex(), 1000, 0)),
        other => panic!("{other:?}"),
    }
    assert!(w.ledger.settlements().unwrap().is_empty());
    w.ledger.deposit(&poor.public_hex(), 999).unwrap();
    assert!(matches!(
        in_ledger(&w, &w.ledger, &r),
        Outcome::Unfunded { available: 999, .. }
    ));
    w.ledger.deposit(&poor.public_hex(), 1).unwrap();
    assert!(in_ledger(&w, &w.ledger, &r).is_settled());
    let b = account(&w.ledger, &poor.public_hex());
    assert_eq!((b.deposited, b.debited, b.net()), (1000, 1000, 0));
    // A deposit names a real public key.
    assert!(w.ledger.deposit("not a key", 5).is_err());
}

#[test]
fn one_request_pays_one_receipt_whichever_worker_proved_it() {
    let w = world();
    let second = WorkerKey::from_seed(&[0x66; 32]);
    w.registry
        .add_licence(&Licence::issue(
            &w.owner,
            w.fixed.model_id(),
            &second.worker_id(),
            None,
        ))
        .unwrap();
    let rq = request(
        &client(),
        &w.fixed.registration,
        &[7, 8, 9],
        "n-race",
        w.ledger.venue(),
        1000,
    );
    let first = w
        .fixed
        .answer(&second, "their-job", [7, 8, 9], Some(rq.clone()));
    let late = w.fixed.answer(&w.worker, "my-job", [7, 8, 9], Some(rq));
    let out = settle(&w.registry, &w.ledger, &[first, late], NOW).unwrap();
    let Outcome::Settled(s) = &out[0] else {
        panic!("{:?}", out[0])
    };
    assert_eq!(s.worker_id, second.worker_id());
    assert!(
        matches!(&out[1], Outcome::AlreadySettled { by, .. } if by.worker_id == second.worker_id()),
        "{:?}",
        out[1]
    );
    let client_balance = account(&w.ledger, &client().public_hex());
    assert_eq!((client_balance.requests, client_balance.debited), (1, 1000));
}

/// A worker grafts a funded client's key onto another client's signed request (a request
/// parsed with serde has its form checked, not its signature), proves the honest request,
/// swaps the grafted one in and signs the receipt: refused for the signature, and the funded
/// client is not debited. (Adopted from the attack review of the venue step.)
#[test]
fn a_grafted_client_key_debits_nobody() {
    let w = world();
    let funded = client();
    let poor = KeyPair::from_seed(&[0x44; 32]);
    let x = [1, 2, 3];
    let honest = request(
        &poor,
        &w.fixed.registration,
        &x,
        "graft",
        w.ledger.venue(),
        REWARD.fee,
    );
    let json = honest
        .to_json()
        .replace(&honest.client(), &funded.public_hex());
    let grafted: zkw_verifier::ClientRequest = serde_json::from_str(&json).unwrap();
    assert_eq!(grafted.client(), funded.public_hex());
    let mut r = w.fixed.answer(&w.worker, "job-graft", x, Some(honest));
    r.request = Some(grafted);
    w.worker.sign(&mut r);
    match in_ledger(&w, &w.ledger, &r) {
        Outcome::Rejected(zkw_verifier::VerificationError::BadRequest { reason }) => {
            assert_eq!(reason, "it is not signed by the client it names")
        }
        other => panic!("{other:?}"),
    }
    let b = account(&w.ledger, &funded.public_hex());
    assert_eq!((b.deposited, b.debited), (DEPOSIT as u128, 0));
    assert!(w.ledger.settlements().unwrap().is_empty());
    assert!(w.ledger.penalties().unwrap().is_empty());
}

/// A ledger's id is the public key of its `ledger.key` (0600), and its disputes are statements
/// signed by that key, which anyone checks against the venue a request names — and which a
/// copy of the ledger without its key cannot sign.
#[test]
fn a_ledgers_disputes_are_statements_signed_by_the_key_its_venue_names() {
    use zkw_settlement::ledger::LEDGER_KEY_FILE;
    use zkw_verifier::dispute::check_dispute;
    let w = world();
    let key_path = w.dir.path().join("ledger").join(LEDGER_KEY_FILE);
    let key = zkw_verifier::ed25519::read_secret_key(&key_path).unwrap();
    assert_eq!(w.ledger.venue(), Venue::Ledger(key.public()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // A settled request, then its worker's second, false answer to it: a dispute.
    let honest = w.fixed.receipt(&w.worker, "job-d", [2, 4, 6]);
    assert!(in_ledger(&w, &w.ledger, &honest).is_settled());
    let mut second = honest.clone();
    second.job_id = "job-d2".into();
    w.worker.sign(&mut second);
    assert!(matches!(
        in_ledger(&w, &w.ledger, &second),
        Outcome::Disputed { .. }
    ));
    let d = w.ledger.disputes().unwrap().remove(0);
    let env = w.ledger.dispute_statement(&d).unwrap();
    let back = zkw_verifier::Envelope::from_json(env.to_json().as_bytes()).unwrap();
    let p = check_dispute(&back, &w.ledger.venue()).unwrap();
    assert_eq!(p.receipt, second);
    assert_eq!(p.job_id, "job-d2");
    assert_eq!(
        p.settled_receipt,
        hex::encode(zkw_verifier::signature::receipt_digest(&honest))
    );
    // Checked against another ledger, it is refused.
    let other = Ledger::open(&w.dir.path().join("other")).unwrap();
    assert!(check_dispute(&back, &other.venue()).is_err());
    // Another ledger's key in this ledger's directory signs nothing here.
    std::fs::remove_file(&key_path).unwrap();
    std::fs::copy(w.dir.path().join("other").join(LEDGER_KEY_FILE), &key_path).unwrap();
    let e = w.ledger.dispute_statement(&d).unwrap_err().to_string();
    assert!(e.contains("it signs nothing here"), "{e}");
}
