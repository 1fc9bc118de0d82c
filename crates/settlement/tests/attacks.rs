//! The second attack review of the ownership change (2026-12), each attack that got through
//! then, as the regression test it became: a squatter setting up a model of its own under the
//! owner's model id, a worker holding the proving key claiming the model in a new registry,
//! an oversized registration bricking the registry, a FIFO planted among the history entries.

mod common;

use std::time::Duration;

use common::*;
use zkw_model::{ModelId, WeightMode};
use zkw_prover::ownership::prove_ownership;
use zkw_prover::{KeyDir, LocalProver, setup, setup_owned};
use zkw_settlement::{Outcome, Registry, SettlementError, settle};
use zkw_verifier::{KeyPair, Licence, Receipt, Registration, VerificationError};

fn one(registry: &Registry, ledger: &zkw_settlement::Ledger, r: &Receipt) -> Outcome {
    settle(registry, ledger, std::slice::from_ref(r), NOW)
        .unwrap()
        .remove(0)
}

/// A squatter that saw the owner's published `record.json` sets up a model of its own (other
/// weights) under the owner's model id, with a valid proof of holding *its own* proving key.
/// Then, a model id was only a name, and the first registration of it won: the squatter's
/// registration was accepted, the owner locked out, and a client's strict check accepted
/// another model's output. Now a registered model's id is the digest of its content and its
/// owner: the squatter's record either names no owner (no registry takes it), names the
/// owner (only the owner can register it), or names the squatter (another id altogether).
#[test]
fn a_model_of_its_own_under_the_owners_id_is_refused() {
    let w = world();
    let victim_id = w.fixed.model_id().to_string();
    let fresh = Registry::new(w.dir.path().join("fresh"));
    let squatter = KeyPair::from_seed(&[0x77; 32]);
    let mine = model(WeightMode::Fixed, 999);
    let spoofed = ModelId(hex::decode(&victim_id).unwrap().try_into().unwrap());

    // Set up under the victim's id without an owner.
    let keys = tempfile::tempdir().unwrap();
    let report = setup(&mine, &spoofed, keys.path(), &|_| {}).unwrap();
    assert_eq!(report.record.model_id, victim_id);
    let key = KeyDir::new(keys.path()).read_vk(&report.record).unwrap();
    let prover = LocalProver::load(mine.clone(), &spoofed, keys.path()).unwrap();
    let mut reg = Registration::new(report.record.clone(), &key, REWARD, no_files())
        .with_setup(prove_ownership(&prover, &squatter).unwrap());
    reg.sign(&squatter);
    let e = fresh.register(&reg, &squatter).unwrap_err().to_string();
    assert!(e.contains("its record names no owner"), "{e}");

    // The same, its record claiming the owner's content and key (which is what the id is the
    // digest of): the registration must then be the owner's.
    let mut claimed = reg.clone();
    claimed.record.content_id = w.fixed.registration.record.content_id.clone();
    claimed.record.owner = Some(w.owner.public_hex());
    claimed.sign(&squatter);
    let e = fresh.register(&claimed, &squatter).unwrap_err().to_string();
    assert!(e.contains("its record's model belongs to owner"), "{e}");

    // Set up as its own: another model id, which takes nothing from the owner.
    let content = zkw_model::model_id(&mine);
    let own_keys = tempfile::tempdir().unwrap();
    let own = setup_owned(
        &mine,
        &content,
        &squatter.public_hex(),
        own_keys.path(),
        &|_| {},
    )
    .unwrap();
    assert_ne!(own.record.model_id, victim_id);

    // The owner registers its model in the fresh registry, and it is the one read.
    fresh.register(&w.fixed.registration, &w.owner).unwrap();
    assert_eq!(
        fresh.model(&victim_id).unwrap().registration.owner,
        w.owner.public_hex()
    );
}

/// A worker the owner handed the proving key to makes a proof of ownership for itself and
/// registers the owner's model in a registry the owner has not used yet, taking the owner's
/// share of every honest receipt settled there. Now the model id names its owner: the
/// worker's registration of it is refused, and the owner registers it later.
#[test]
fn a_worker_holding_the_keys_cannot_claim_the_model_in_a_new_registry() {
    let w = world();
    let model_id = w.fixed.model_id().to_string();
    let venue = Registry::new(w.dir.path().join("new-venue"));
    let ledger = zkw_settlement::Ledger::open(&w.dir.path().join("new-venue-ledger")).unwrap();
    let rogue = KeyPair::from_seed(&[0x80; 32]);
    let mut reg = w.fixed.registration.clone();
    reg.setup = Some(prove_ownership(&w.fixed.prover, &rogue).unwrap());
    reg.reward.worker_share_bps = 0;
    reg.sign(&rogue);
    let e = venue.register(&reg, &rogue).unwrap_err().to_string();
    assert!(e.contains("its record's model belongs to owner"), "{e}");
    // The honest receipt settles nowhere there until the owner registers; then it pays the
    // owner.
    ledger.deposit(&client().public_hex(), 5000).unwrap();
    let rq = request(
        &client(),
        &w.fixed.registration,
        &[1, 2, 3],
        "n-venue",
        ledger.venue(),
        1000,
    );
    let honest = w.fixed.answer(&w.worker, "job-venue", [1, 2, 3], Some(rq));
    assert!(matches!(
        one(&venue, &ledger, &honest),
        Outcome::UnknownModel { .. }
    ));
    let mut there = w.fixed.registration.clone();
    there.venues = vec![ledger.venue()];
    there.sign(&w.owner);
    venue.register(&there, &w.owner).unwrap();
    venue
        .add_licence(&Licence::issue(
            &w.owner,
            &model_id,
            &w.worker.worker_id(),
            None,
        ))
        .unwrap();
    match one(&venue, &ledger, &honest) {
        Outcome::Settled(s) => assert_eq!(s.owner, w.owner.public_hex()),
        other => panic!("{other:?}"),
    }
}

/// An owner registering a registration too large for any reader to read back: it used to be
/// written, and then no registration of any model could be made (every write reads every
/// history). Now it is refused before anything is written — and a history that does not read
/// (written past the registry) no longer stops the others.
#[test]
fn an_oversized_registration_is_refused_and_an_unreadable_history_blocks_no_one() {
    let w = world();
    let (mut big, prover) = another_key(WeightMode::Fixed, 301, &w.owner);
    let big_id = big.record.model_id.clone();
    big.record.name = "x".repeat(zkw_verifier::registration::MAX_REGISTRATION_BYTES);
    big.setup = Some(setup_for(&big.record, &prover, &w.owner));
    big.sign(&w.owner);
    match w.registry.register(&big, &w.owner) {
        Err(SettlementError::Refused(VerificationError::TooLarge(t))) => {
            assert_eq!(t.cap, zkw_verifier::registration::MAX_REGISTRATION_BYTES);
            assert_eq!(t.what, "model registration");
        }
        other => panic!("{other:?}"),
    }
    assert!(!w.registry.history_dir(&big_id).unwrap().exists());

    // A history that does not read, written into the directory.
    let broken = hex::encode([0x5d; 32]);
    std::fs::create_dir_all(w.registry.history_dir(&broken).unwrap()).unwrap();
    std::fs::write(w.registry.entry_path(&broken, 1).unwrap(), b"{").unwrap();
    assert!(w.registry.model(&broken).is_err());
    let stranger = KeyPair::from_seed(&[0x7a; 32]);
    let (mut other, _p) = another_key(WeightMode::Fixed, 302, &stranger);
    other.sign(&stranger);
    w.registry.register(&other, &stranger).unwrap();
}

/// A FIFO planted as a history entry: opening it for reading used to block until a writer
/// came, while holding the registry's write lock — every later registration and licence
/// queued behind it, and every reader of that model hung. Now registry files are opened
/// without blocking and refused unless they are regular files.
#[test]
fn a_fifo_among_the_history_entries_hangs_nobody() {
    let w = world();
    let planted = hex::encode([0x5e; 32]);
    std::fs::create_dir_all(w.registry.history_dir(&planted).unwrap()).unwrap();
    let fifo = w.registry.entry_path(&planted, 1).unwrap();
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let stranger = KeyPair::from_seed(&[0x7b; 32]);
    let (mut other, _p) = another_key(WeightMode::Fixed, 303, &stranger);
    other.sign(&stranger);
    let registry = w.registry.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let planted_id = planted.clone();
    let handle = std::thread::spawn(move || {
        let read = registry
            .model(&planted_id)
            .map(|_| ())
            .map_err(|e| e.to_string());
        let registered = registry.register(&other, &stranger).map(|_| ());
        let _ = tx.send((read, registered.map_err(|e| e.to_string())));
    });
    let answer = rx.recv_timeout(Duration::from_secs(20));
    if answer.is_err() {
        // Release the reader so that the test ends, then fail.
        drop(std::fs::OpenOptions::new().write(true).open(&fifo));
    }
    handle.join().unwrap();
    let (read, registered) = answer.expect("a FIFO in the registry hung a reader");
    let e = read.unwrap_err();
    assert!(e.contains("not a regular file"), "{e}");
    registered.unwrap();
}

// The same review's attacks that were stopped, kept as regression tests of what stopped them.

/// A receipt that verified (unpaid: its worker unlicensed) is not turned into a penalty by
/// rewriting the history with an edited record under the same key (the ledger's record pin),
/// nor by a new key (a key mismatch is no false claim).
#[test]
fn a_verified_unpaid_receipt_is_never_turned_into_a_penalty() {
    let w = world();
    let fixed_id = w.fixed.model_id().to_string();
    // The stranger holds no licence: verified, not paid, record pinned.
    let r = w.fixed.receipt(&w.stranger, "job-u", [1, 2, 3]);
    assert!(matches!(
        one(&w.registry, &w.ledger, &r),
        Outcome::Unlicensed(_)
    ));
    // Directory rewrite: the history deleted and written again from scratch, the same key
    // with an edited record (any edit: the pin is of the whole record), sequence 9.
    let mut edited = w.fixed.registration.clone();
    edited.record.name.push_str(" (edited)");
    edited.setup = Some(setup_for(&edited.record, &w.fixed.prover, &w.owner));
    edited.sequence = 9;
    edited.sign(&w.owner);
    write_history(&w.registry, &fixed_id, &[(&edited, &w.owner)]);
    w.registry
        .add_licence(&Licence::issue(
            &w.owner,
            &fixed_id,
            &w.stranger.worker_id(),
            None,
        ))
        .unwrap();
    match one(&w.registry, &w.ledger, &r) {
        Outcome::UnknownModel { reason, .. } => {
            assert!(reason.contains("first saw with that key"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    // A new key: the old receipt names the old key, rejected without penalty.
    let (mut b, _) = another_key(WeightMode::Fixed, 300, &w.owner);
    b.sequence = 10;
    b.sign(&w.owner);
    write_history(&w.registry, &fixed_id, &[(&b, &w.owner)]);
    assert!(matches!(
        one(&w.registry, &w.ledger, &r),
        Outcome::Rejected(zkw_verifier::VerificationError::KeyMismatch { .. })
    ));
    assert!(w.ledger.penalties().unwrap().is_empty());
}

/// Entries are read only under 8-digit names, not through a link in place of an entry, and a
/// history linked to another model's is that model's: each is refused or ignored, and a
/// rollback the ledger saw is refused.
#[test]
fn history_file_names_and_links_are_not_followed_into_another_chain() {
    let w = world();
    let fixed = w.fixed.model_id().to_string();
    let private = w.private.model_id().to_string();
    // Another model's entry linked into this model's history in place of its own.
    let mut a2 = w.fixed.registration.clone();
    a2.sequence = 2;
    a2.sign(&w.owner);
    let p1 = w.registry.entry_path(&fixed, 1).unwrap();
    let p2 = w.registry.entry_path(&fixed, 2).unwrap();
    let aside = p1.with_file_name("aside");
    std::fs::rename(&p1, &aside).unwrap();
    std::os::unix::fs::symlink(w.registry.entry_path(&private, 1).unwrap(), &p1).unwrap();
    // A link is not followed at all.
    let e = w.registry.model(&fixed).unwrap_err().to_string();
    assert!(e.contains("symbolic links"), "{e}");
    std::fs::remove_file(&p1).unwrap();
    std::fs::rename(&aside, &p1).unwrap();
    // The same entry under a second index.
    std::os::unix::fs::symlink(w.registry.entry_path(&fixed, 1).unwrap(), &p2).unwrap();
    let e = w.registry.model(&fixed).unwrap_err().to_string();
    assert!(e.contains("symbolic links"), "{e}");
    std::fs::remove_file(&p2).unwrap();
    // A copy, not a link: read, and refused for what it holds.
    std::fs::copy(w.registry.entry_path(&fixed, 1).unwrap(), &p2).unwrap();
    let e = w.registry.model(&fixed).unwrap_err().to_string();
    assert!(e.contains("holds entry 1"), "{e}");
    std::fs::remove_file(&p2).unwrap();
    // A real entry 2 written under names that are not 8 digits: ignored (model reads entry 1).
    w.registry.register(&a2, &w.owner).unwrap();
    for name in ["2.json", "000000002.json", "0000000+.json", "00000002.JSON"] {
        std::fs::copy(&p2, p2.with_file_name(name)).unwrap();
    }
    std::fs::remove_file(&p2).unwrap();
    assert_eq!(w.registry.model(&fixed).unwrap().registration.sequence, 1);
    // And the ledger, having seen sequence 2, refuses the rollback.
    std::fs::copy(p2.with_file_name("2.json"), &p2).unwrap();
    let r = w.fixed.receipt(&w.worker, "job-n", [1, 1, 1]);
    assert!(one(&w.registry, &w.ledger, &r).is_settled());
    std::fs::remove_file(&p2).unwrap();
    let r = w.fixed.receipt(&w.worker, "job-n2", [1, 1, 1]);
    assert!(matches!(
        one(&w.registry, &w.ledger, &r),
        Outcome::UnknownModel { .. }
    ));
    // A whole history directory linked to another model's.
    let alias = hex::encode([0x3c; 32]);
    std::os::unix::fs::symlink(
        w.registry.history_dir(&private).unwrap(),
        w.registry.history_dir(&alias).unwrap(),
    )
    .unwrap();
    let e = w.registry.model(&alias).unwrap_err().to_string();
    assert!(e.contains("holds a registration of model"), "{e}");
}

/// An entry chained on by another key, a second signature slipped in front of the owner's,
/// and an entry of another chain of the same model: refused, ignored, refused.
#[test]
fn forged_and_replayed_history_entries_are_refused() {
    use zkw_settlement::history::Entry;
    let w = world();
    let fixed = w.fixed.model_id().to_string();
    let mallory = KeyPair::from_seed(&[0x6d; 32]);
    let first = &w.registry.history(&fixed).unwrap()[0];
    // Entry 2 by mallory (of a model of its own: its id names it), chained onto the owner's
    // entry 1.
    let (mut m, prover) = another_key(WeightMode::Fixed, 300, &mallory);
    m.sequence = 2;
    m.setup = Some(prove_ownership(&prover, &mallory).unwrap());
    m.sign(&mallory);
    let forged = Entry::new(
        &m,
        Some(first),
        &mallory,
        &w.registry.id().unwrap().unwrap(),
    )
    .unwrap();
    let p2 = w.registry.entry_path(&fixed, 2).unwrap();
    std::fs::write(&p2, forged.to_json()).unwrap();
    let e = w.registry.model(&fixed).unwrap_err().to_string();
    assert!(e.contains("entry 2 holds a registration of model"), "{e}");
    // Its record made to claim this model's id: the id names its owner, not mallory.
    let mut claimed = m.clone();
    claimed.record = w.fixed.registration.record.clone();
    claimed.vk = w.fixed.registration.vk.clone();
    claimed.setup = Some(prove_ownership(&w.fixed.prover, &mallory).unwrap());
    claimed.sign(&mallory);
    let forged = Entry::new(
        &claimed,
        Some(first),
        &mallory,
        &w.registry.id().unwrap().unwrap(),
    )
    .unwrap();
    std::fs::write(&p2, forged.to_json()).unwrap();
    let e = w.registry.model(&fixed).unwrap_err().to_string();
    assert!(e.contains("its record's model belongs to owner"), "{e}");
    std::fs::remove_file(&p2).unwrap();
    // Mallory's signature added in front of the owner's on entry 1.
    let p1 = w.registry.entry_path(&fixed, 1).unwrap();
    let mut env = zkw_verifier::Envelope::from_json(&std::fs::read(&p1).unwrap()).unwrap();
    env.add_signature(&mallory);
    let mut v: serde_json::Value = serde_json::from_str(&env.to_json()).unwrap();
    v["signatures"].as_array_mut().unwrap().reverse();
    std::fs::write(&p1, serde_json::to_vec(&v).unwrap()).unwrap();
    let after = w.registry.history(&fixed).unwrap();
    assert_eq!(after[0].digest(), first.digest());
    assert_eq!(
        w.registry.model(&fixed).unwrap().registration.owner,
        w.owner.public_hex()
    );
    // The owner's entry 2 from another registry (a different chain) put here.
    let elsewhere = Registry::new(w.dir.path().join("elsewhere"));
    elsewhere
        .register(&w.private.registration, &w.owner)
        .unwrap();
    let mut a2 = w.fixed.registration.clone();
    a2.sequence = 2;
    a2.sign(&w.owner);
    elsewhere.register(&w.fixed.registration, &w.owner).unwrap();
    let mut a1b = w.fixed.registration.clone();
    a1b.reward.fee += 1;
    a1b.sign(&w.owner);
    // A different entry 1 in `elsewhere`, so its entry 2 names another `previous`.
    write_history(&elsewhere, &fixed, &[(&a1b, &w.owner), (&a2, &w.owner)]);
    std::fs::copy(elsewhere.entry_path(&fixed, 2).unwrap(), &p2).unwrap();
    let e = w.registry.model(&fixed).unwrap_err().to_string();
    // Refused for naming the other registry, before its chain is even compared.
    assert!(
        e.contains("entry 2 was written for registry")
            && e.contains("an entry replayed from another registry"),
        "{e}"
    );
}
