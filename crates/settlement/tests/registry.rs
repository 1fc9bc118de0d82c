//! What the registry and the ledger refuse on their own: a second model with the same
//! commitment or key, a record changed under the same key, a model taken by another owner or
//! rolled back to an older registration behind the registry's back — and the job key that
//! makes one proof settle once whatever model id or worker tries it again.

mod common;

use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField};
use common::*;
use zkw_settlement::{Outcome, Registry, settle};
use zkw_verifier::{KeyPair, Licence, Receipt, Registration, WorkerKey};

fn one(w: &World, r: &Receipt) -> Outcome {
    settle(&w.registry, &w.ledger, std::slice::from_ref(r), NOW)
        .unwrap()
        .remove(0)
}

fn unknown_reason(o: Outcome) -> String {
    match o {
        Outcome::UnknownModel { reason, .. } => reason,
        other => panic!("{other:?}"),
    }
}

/// `id + r` as 32 little-endian bytes, when it fits: another model id with the same fixed
/// commitment.
fn alias(model_id: &str) -> Option<String> {
    let id = hex::decode(model_id).unwrap();
    let r = Fr::MODULUS.to_bytes_le();
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let s = id[i] as u16 + r[i] as u16 + carry;
        out[i] = s as u8;
        carry = s >> 8;
    }
    (carry == 0).then(|| hex::encode(out))
}

#[test]
fn one_proof_settles_once_under_any_model_id_with_its_commitment() {
    let w = world();
    // The fixture's model id is fixed, and below 2^256 - r: it has an alias.
    let alias_id = alias(w.fixed.model_id()).expect("the fixture's model id has an alias");
    // Registering the alias is refused: an owner's model id is the digest of its content and
    // owner, which the alias is not (and were the record to drop both, it would name no
    // owner, which no registry accepts).
    let mut aliased = w.fixed.registration.clone();
    aliased.record.model_id = alias_id.clone();
    aliased.sign(&w.owner);
    let e = w
        .registry
        .register(&aliased, &w.owner)
        .unwrap_err()
        .to_string();
    assert!(e.contains("is not the id of content"), "{e}");
    let mut unowned = aliased.clone();
    (unowned.record.content_id, unowned.record.owner) = (None, None);
    unowned.sign(&w.owner);
    let e = w
        .registry
        .register(&unowned, &w.owner)
        .unwrap_err()
        .to_string();
    assert!(e.contains("names no owner"), "{e}");
    // Written into the directory behind the registry's back, it does not even read — and
    // were it read, the proof's job would be taken already (the ledger keys jobs by
    // commitment).
    write_history(&w.registry, &alias_id, &[(&aliased, &w.owner)]);
    let r = w.fixed.receipt(&w.worker, "job-a", [1, 2, 3]);
    let e = w
        .registry
        .add_licence(&Licence::issue(
            &w.owner,
            &alias_id,
            &w.worker.worker_id(),
            None,
        ))
        .unwrap_err()
        .to_string();
    assert!(e.contains("is not the id of content"), "{e}");
    assert!(one(&w, &r).is_settled());
    let mut again = r.clone();
    again.model_id = alias_id;
    w.worker.sign(&mut again);
    let reason = unknown_reason(one(&w, &again));
    assert!(reason.contains("is not the id of content"), "{reason}");
    // The ledger's key is the client's request, which names the model it asked for.
    let request = hex::encode(r.request.as_ref().unwrap().digest());
    assert!(w.ledger.settlement(&request).unwrap().is_some());
}

#[test]
fn a_job_id_is_its_workers_another_worker_cannot_take_it() {
    let w = world();
    let other = WorkerKey::from_seed(&[12; 32]);
    w.registry
        .add_licence(&Licence::issue(
            &w.owner,
            w.fixed.model_id(),
            &other.worker_id(),
            None,
        ))
        .unwrap();
    // Another worker proves something under the same job id first: its own job.
    let first = w.fixed.receipt(&other, "job-1", [0, 0, 0]);
    assert!(one(&w, &first).is_settled());
    let honest = w.fixed.receipt(&w.worker, "job-1", [5, 6, 7]);
    assert!(one(&w, &honest).is_settled());
    assert!(matches!(one(&w, &honest), Outcome::AlreadySettled { .. }));
}

#[test]
fn records_do_not_change_under_a_key_and_sequences_only_grow() {
    let w = world();
    let fixed_id = w.fixed.model_id().to_string();
    let v1 = w.fixed.registration.clone();
    // The ledger sees registration 1 first.
    assert!(one(&w, &w.fixed.receipt(&w.worker, "job-r", [3, 3, 3])).is_settled());
    // Same key, another output scale: refused (receipts under that key would turn false).
    // (An output-format edit is caught earlier, by the owner's own possession receipt; a
    // renamed record under a fresh setup statement reaches the rule itself.)
    let mut changed = w.fixed.registration.clone();
    changed.record.name.push_str(" edited");
    changed.setup = Some(setup_for(&changed.record, &w.fixed.prover, &w.owner));
    changed.sequence = 2;
    changed.sign(&w.owner);
    let e = w
        .registry
        .register(&changed, &w.owner)
        .unwrap_err()
        .to_string();
    assert!(e.contains("changed under the same verifying key"), "{e}");
    // Same sequence: refused. A new split with a higher one: accepted.
    let mut same = w.fixed.registration.clone();
    same.reward.fee = 5;
    same.sign(&w.owner);
    let e = w
        .registry
        .register(&same, &w.owner)
        .unwrap_err()
        .to_string();
    assert!(e.contains("needs a higher sequence number"), "{e}");
    assert_eq!(w.registry.next_sequence(w.fixed.model_id()).unwrap(), 2);
    let mut v2 = same.clone();
    v2.sequence = 2;
    v2.reward.penalty = u64::MAX;
    v2.sign(&w.owner);
    w.registry.register(&v2, &w.owner).unwrap();
    // The ledger sees registration 2: a request at its fee of 5 (below registration 1's
    // 1000) is paid …
    let rq = request(&client(), &v2, &[1, 1, 1], "n-s", w.fixed.venue, 5);
    let r = w.fixed.answer(&w.worker, "job-s", [1, 1, 1], Some(rq));
    let Outcome::Settled(s) = one(&w, &r) else {
        panic!()
    };
    assert_eq!(s.worker_credit + s.owner_credit, 5);
    // … then registration 1 is put back behind the registry's back: refused.
    write_history(&w.registry, &fixed_id, &[(&v1, &w.owner)]);
    let r2 = w.fixed.receipt(&w.worker, "job-t", [1, 1, 1]);
    let reason = unknown_reason(one(&w, &r2));
    assert!(
        reason.contains("an older registration was put back"),
        "{reason}"
    );
    // Another owner's registration of the model, written in directly — even by a holder of
    // the proving key, with a valid setup statement of its own: the model id names its owner,
    // so the registration does not read. (The ledger's owner pin is the second line:
    // `the_ledger_judges_a_registration_without_writing`.)
    let mallory = KeyPair::from_seed(&[99; 32]);
    let mut taken = w.fixed.registration.clone();
    taken.sequence = 9;
    taken.setup = Some(setup_for(&taken.record, &w.fixed.prover, &mallory));
    taken.sign(&mallory);
    write_history(&w.registry, &fixed_id, &[(&taken, &mallory)]);
    let reason = unknown_reason(one(&w, &r2));
    assert!(
        reason.contains("its record's model belongs to owner"),
        "{reason}"
    );
    assert!(reason.contains(&w.owner.public_hex()), "{reason}");
    // Back to registration 2: penalties of u64::MAX add up in 128 bits, no overflow.
    write_history(&w.registry, &fixed_id, &[(&v1, &w.owner), (&v2, &w.owner)]);
    for job in ["job-u", "job-v"] {
        let mut f = w.fixed.receipt(&w.worker, job, [2, 2, 2]);
        f.output.quantized[0] ^= 1;
        f.output.values[0] = f.output.quantized[0] as f64 * (-(f.output.frac_bits as f64)).exp2();
        w.worker.sign(&mut f);
        assert!(matches!(one(&w, &f), Outcome::Penalized { .. }));
    }
    let b = w
        .ledger
        .balances()
        .unwrap()
        .into_iter()
        .find(|b| b.account == w.worker.worker_id())
        .unwrap();
    assert_eq!(b.charged, 2 * u64::MAX as u128);
    assert_eq!(
        b.net(),
        700 + s.worker_credit as i128 - 2 * u64::MAX as i128
    );
    let _: &Registration = &v2;
}

#[test]
fn a_second_model_may_share_a_key_or_commitment_and_a_proof_still_settles_once() {
    let w = world();
    let private = &w.private.registration;
    // The same verifying key and commitment under another owned id (what a holder of the
    // proving key can make): accepted — it takes nobody's model id. (Refusing it made the
    // registry first-come: anyone could block an owner with its published commitment.)
    let same_key = private_under_id(private, &w.private.prover, [0x42; 32], &w.owner);
    w.registry.register(&same_key, &w.owner).unwrap();
    w.registry
        .add_licence(&Licence::issue(
            &w.owner,
            &same_key.record.model_id,
            &w.worker.worker_id(),
            None,
        ))
        .unwrap();
    // One proof settles once, whatever id it is settled under: the ledger keys a job by the
    // commitment the proof is about.
    let honest = w.private.receipt(&w.worker, "job-shared", [1, 2, 3]);
    assert!(one(&w, &honest).is_settled());
    let mut relabelled = honest.clone();
    relabelled.model_id = same_key.record.model_id.clone();
    w.worker.sign(&mut relabelled);
    assert!(
        matches!(one(&w, &relabelled), Outcome::AlreadySettled { .. }),
        "{:?}",
        one(&w, &relabelled)
    );
    // The same commitment under a key of its own: a second setup of the same model file (its
    // salt, so its commitment, is the file's), under another id — accepted too.
    let (second, prover) = another_key(zkw_model::WeightMode::Private, 500, &w.owner);
    assert_eq!(
        second.record.model_commitment,
        private.record.model_commitment
    );
    assert_ne!(second.record.vk_id, private.record.vk_id);
    let same_commitment = private_under_id(&second, &prover, [0x43; 32], &w.owner);
    w.registry.register(&same_commitment, &w.owner).unwrap();

    // A fixed-weights model's id is pinned by its circuit: no proof of ownership can be made
    // for another id, whoever holds the proving key.
    let mut fixed_alias = w.fixed.registration.clone();
    let id = [0x44u8; 32];
    fixed_alias.record.model_id = hex::encode(id);
    fixed_alias.record.model_commitment =
        zkw_verifier::field::fr_to_hex(&zkw_verifier::statement::fixed_model_commitment(&id));
    fixed_alias.setup = Some(setup_for(&fixed_alias.record, &w.fixed.prover, &w.owner));
    fixed_alias.sign(&w.owner);
    let e = w
        .registry
        .register(&fixed_alias, &w.owner)
        .unwrap_err()
        .to_string();
    assert!(e.contains("is not the id of content"), "{e}");
}

#[test]
fn registry_paths_are_built_only_from_ids() {
    let w = world();
    let (model, worker) = (w.fixed.model_id(), w.worker.worker_id());
    let dir = w.registry.dir();
    assert_eq!(
        w.registry.licence_path(model, &worker).unwrap(),
        dir.join("licences")
            .join(model)
            .join(format!("{worker}.json"))
    );
    for (m, k) in [(model, "../x"), ("../x", worker.as_str()), ("..", "..")] {
        assert_eq!(w.registry.licence_path(m, k), None, "{m} {k}");
    }
    assert_eq!(w.registry.history_dir("../models/x"), None);
    assert_eq!(w.registry.entry_path("..", 1), None);
}

#[test]
fn sequences_start_at_one_and_a_registration_that_cannot_be_read_is_no_missing_one() {
    let w = world();
    let unregistered = "ab".repeat(32);
    assert_eq!(w.registry.next_sequence(&unregistered).unwrap(), 1);
    assert_eq!(
        w.registry.next_sequence(w.fixed.model_id()).unwrap(),
        w.fixed.registration.sequence + 1
    );
    let e = w.registry.model(&unregistered).unwrap_err().to_string();
    assert!(
        e.ends_with(&format!("model {unregistered} is not registered")),
        "{e}"
    );
    // A registration file that cannot be read (a directory in its place) is an I/O error
    // naming the file, not a model that is not registered.
    let path = w.registry.entry_path(&unregistered, 1).unwrap();
    std::fs::create_dir_all(&path).unwrap();
    match w.registry.model(&unregistered) {
        Err(zkw_settlement::SettlementError::Io { path: p, .. }) => assert_eq!(p, path),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_licence_or_model_list_that_cannot_be_read_is_an_error_not_an_empty_answer() {
    let w = world();
    let (model, stranger) = (w.fixed.model_id(), w.stranger.worker_id());
    assert_eq!(w.registry.licence(model, &stranger).unwrap(), None);
    let path = w.registry.licence_path(model, &stranger).unwrap();
    std::fs::create_dir_all(&path).unwrap();
    match w.registry.licence(model, &stranger) {
        Err(zkw_settlement::SettlementError::Io { path: p, .. }) => assert_eq!(p, path),
        other => panic!("{other:?}"),
    }

    // No history directory yet: no models. A file in its place: an error.
    let fresh = zkw_settlement::Registry::new(w.dir.path().join("fresh"));
    assert_eq!(fresh.model_ids().unwrap(), Vec::<String>::new());
    std::fs::create_dir_all(fresh.dir()).unwrap();
    std::fs::write(fresh.dir().join("history"), "not a directory").unwrap();
    match fresh.model_ids() {
        Err(zkw_settlement::SettlementError::Io { path, .. }) => {
            assert_eq!(path, fresh.dir().join("history"))
        }
        other => panic!("{other:?}"),
    }
}

/// The attack review's A → B → A: register key A, settle an honest receipt under it, register
/// key B, then key A again with an edited output scale. Before the history, the rule "a record
/// cannot change under the same key" compared only with B, and the paid receipt was settled
/// again as a penalty. Now the registry refuses the edited A (it remembers A's record), and a
/// history written past the registry's rules is refused by the ledger's record pin: the
/// worker is never charged.
#[test]
fn an_owner_cannot_turn_a_paid_receipt_into_a_penalty_by_re_registering_its_key() {
    let w = world();
    let fixed_id = w.fixed.model_id().to_string();
    let a = w.fixed.registration.clone();
    let honest = w.fixed.receipt(&w.worker, "job-aba", [4, 5, 6]);
    assert!(one(&w, &honest).is_settled());

    let (mut b, _) = another_key(zkw_model::WeightMode::Fixed, 300, &w.owner);
    assert_eq!(b.record.model_id, fixed_id);
    assert_ne!(b.record.vk_id, a.record.vk_id);
    b.sequence = 2;
    b.sign(&w.owner);
    w.registry.register(&b, &w.owner).unwrap();

    // Key A again with an edited output scale, with a setup statement the owner signs for the
    // edited record: its own possession receipt no longer verifies against it.
    let edit = |f: fn(&mut zkw_verifier::ModelRecord)| {
        let mut r = a.clone();
        f(&mut r.record);
        r.setup = Some(setup_for(&r.record, &w.fixed.prover, &w.owner));
        r.sequence = 3;
        r.sign(&w.owner);
        r
    };
    let scale = edit(|r| r.output.frac_bits += 1);
    let e = w
        .registry
        .register(&scale, &w.owner)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("possession receipt does not prove") && e.contains("scale"),
        "{e}"
    );
    // An edit the possession receipt cannot see: refused because the history remembers
    // key A's record (the comparison with the current registration, B's, saw nothing).
    let renamed = edit(|r| r.name.push_str(" v2"));
    let e = w
        .registry
        .register(&renamed, &w.owner)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("changed under the same verifying key") && e.contains("registration 1 had"),
        "{e}"
    );
    assert_eq!(w.registry.history(&fixed_id).unwrap().len(), 2);

    // The same history written into the directory by the owner, past the registry's rules:
    // the ledger's pin of key A's record refuses it, for the paid receipt and any other.
    write_history(
        &w.registry,
        &fixed_id,
        &[(&a, &w.owner), (&b, &w.owner), (&renamed, &w.owner)],
    );
    let reason = unknown_reason(one(&w, &honest));
    assert!(
        reason.contains("not the one this ledger first saw with that key"),
        "{reason}"
    );
    let later = w.fixed.receipt(&w.worker, "job-aba-2", [4, 5, 6]);
    assert!(matches!(one(&w, &later), Outcome::UnknownModel { .. }));
    // With the edited scale as the newest entry, the registration does not even read.
    write_history(
        &w.registry,
        &fixed_id,
        &[(&a, &w.owner), (&b, &w.owner), (&scale, &w.owner)],
    );
    let reason = unknown_reason(one(&w, &honest));
    assert!(reason.contains("possession receipt"), "{reason}");
    // Nothing was charged to anyone.
    assert!(w.ledger.penalties().unwrap().is_empty());
    assert!(w.ledger.balances().unwrap().iter().all(|b| b.charged == 0));
}

/// A job that settled is never penalised afterwards: a failing receipt its worker signed for
/// the same job — another answer, or the settled receipt itself judged by changed terms — is
/// kept as a dispute, and nobody is charged.
#[test]
fn a_settled_job_is_disputed_never_penalised() {
    let w = world();
    let honest = w.fixed.receipt(&w.worker, "job-d", [1, 2, 3]);
    assert!(one(&w, &honest).is_settled());
    let mut false_answer = honest.clone();
    false_answer.output.quantized[0] ^= 1;
    false_answer.output.values[0] =
        false_answer.output.quantized[0] as f64 * (-(false_answer.output.frac_bits as f64)).exp2();
    w.worker.sign(&mut false_answer);
    match one(&w, &false_answer) {
        Outcome::Disputed { dispute, error } => {
            assert_eq!(error, zkw_verifier::VerificationError::BadProof);
            assert_eq!(dispute.job_id, "job-d");
            assert_eq!(
                dispute.settled_receipt,
                hex::encode(zkw_verifier::signature::receipt_digest(&honest))
            );
        }
        other => panic!("{other:?}"),
    }
    // Again: the same dispute, still no charge.
    assert!(matches!(one(&w, &false_answer), Outcome::Disputed { .. }));
    assert_eq!(w.ledger.disputes().unwrap().len(), 1);
    assert!(w.ledger.penalties().unwrap().is_empty());
    // The same false answer for a job that never settled is a penalty.
    let mut unsettled = w.fixed.receipt(&w.worker, "job-e", [1, 2, 3]);
    unsettled.output.quantized[0] ^= 1;
    unsettled.output.values[0] =
        unsettled.output.quantized[0] as f64 * (-(unsettled.output.frac_bits as f64)).exp2();
    w.worker.sign(&mut unsettled);
    assert!(matches!(one(&w, &unsettled), Outcome::Penalized { .. }));
}

/// Registrations of one model at once — its owner's, each with the next sequence number — are
/// checked and written in one critical section: exactly one is accepted, and every other is
/// refused for its sequence number (not an I/O error from two writers racing for one entry).
#[test]
fn concurrent_registrations_of_one_model_admit_exactly_one_and_refuse_the_rest_by_name() {
    let w = world();
    let registrations: Vec<Registration> = (0..8u64)
        .map(|k| {
            let mut r = w.fixed.registration.clone();
            r.sequence = 2;
            r.reward.fee = 100 + k;
            r.sign(&w.owner);
            r
        })
        .collect();
    let results: Vec<Result<(), String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = registrations
            .iter()
            .map(|reg| {
                let registry = w.registry.clone();
                let owner = KeyPair::from_seed(&w.owner.seed());
                scope.spawn(move || {
                    registry
                        .register(reg, &owner)
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    for e in results.iter().filter_map(|r| r.as_ref().err()) {
        assert!(e.contains("needs a higher sequence number"), "{e}");
    }
    assert_eq!(w.registry.history(w.fixed.model_id()).unwrap().len(), 2);
}

/// The attack review's squatter: the owner publishes `record.json`, the verifying key and its
/// signed setup statement before registering; a third party holding those (and no proving
/// key) registers the model first — under its own key, with the owner's statement, with a
/// statement of its own carrying the owner's possession receipt, or with an honest receipt of
/// the model as its "possession". Each is refused, and the owner then registers.
#[test]
fn published_artifacts_cannot_be_registered_by_anyone_but_their_owner() {
    use zkw_verifier::intoto::Statement;
    use zkw_verifier::ownership::{SETUP_PREDICATE, SetupPredicate, sign_setup};
    let w = world();
    let published = &w.fixed.registration;
    let fresh = zkw_settlement::Registry::new(w.dir.path().join("fresh"));
    let squatter = KeyPair::from_seed(&[0x51; 32]);

    // The owner's registration re-signed by the squatter: the model id names the owner.
    let mut copied = published.clone();
    copied.sign(&squatter);
    let e = fresh.register(&copied, &squatter).unwrap_err().to_string();
    assert!(e.contains("its record's model belongs to owner"), "{e}");
    // Re-owned: the record names the squatter, so the model id is the squatter's own (not the
    // owner's), and the owner's setup statement is not the squatter's.
    let squatter_id = hex::encode(zkw_verifier::record::owned_model_id(
        &hex::decode(published.record.content_id.as_ref().unwrap())
            .unwrap()
            .try_into()
            .unwrap(),
        &squatter.public_hex(),
    ));
    let mut reowned = published.clone();
    reowned.record.owner = Some(squatter.public_hex());
    reowned.record.model_commitment =
        zkw_verifier::field::fr_to_hex(&zkw_verifier::statement::fixed_model_commitment(
            &hex::decode(&squatter_id).unwrap().try_into().unwrap(),
        ));
    reowned.record.model_id = squatter_id;
    reowned.sign(&squatter);
    let e = fresh.register(&reowned, &squatter).unwrap_err().to_string();
    assert!(e.contains("not signed by the registering owner"), "{e}");
    let owner_registration = published;
    let published = &reowned;

    // A setup statement of its own, carrying the owner's possession receipt.
    let owners: SetupPredicate =
        Statement::open(published.setup.as_ref().unwrap(), &w.owner.public_hex())
            .unwrap()
            .predicate_as(SETUP_PREDICATE)
            .unwrap();
    let mut restated = published.clone();
    restated.setup =
        Some(sign_setup(&published.record, owners.possession.clone(), &squatter).unwrap());
    restated.sign(&squatter);
    let e = fresh
        .register(&restated, &squatter)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not the ownership job of owner"), "{e}");

    // The owner's possession receipt with its worker id set to the squatter and signed by
    // it: the proof binds the owner.
    let mut relabelled = owners.possession.clone();
    relabelled.model_id = published.record.model_id.clone();
    relabelled.worker_id = squatter.public_hex();
    relabelled.job_id =
        zkw_verifier::ownership::ownership_job(&published.record.model_id, &squatter.public_hex())
            .job_id;
    WorkerKey::from_seed(&squatter.seed()).sign(&mut relabelled);
    let mut forged = published.clone();
    forged.setup = Some(sign_setup(&published.record, relabelled, &squatter).unwrap());
    forged.sign(&squatter);
    let e = fresh.register(&forged, &squatter).unwrap_err().to_string();
    assert!(
        e.contains("possession receipt does not prove") && e.contains("does not verify"),
        "{e}"
    );

    // An honest receipt of the model (from a job it saw) as its "possession".
    let mut seen = w.fixed.receipt(&w.worker, "job-seen", [1, 1, 1]);
    seen.worker_id = squatter.public_hex();
    WorkerKey::from_seed(&squatter.seed()).sign(&mut seen);
    let mut borrowed = published.clone();
    borrowed.setup = Some(sign_setup(&published.record, seen, &squatter).unwrap());
    borrowed.sign(&squatter);
    let e = fresh
        .register(&borrowed, &squatter)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not the ownership job of owner"), "{e}");

    // No setup statement at all.
    let mut bare = published.clone();
    bare.setup = None;
    bare.sign(&squatter);
    let e = fresh.register(&bare, &squatter).unwrap_err().to_string();
    assert!(e.contains("carries no setup statement"), "{e}");

    // The owner registers its published artifacts as they are.
    assert!(fresh.model_ids().unwrap().is_empty());
    fresh.register(owner_registration, &w.owner).unwrap();
    assert_eq!(
        fresh.model(w.fixed.model_id()).unwrap().registration.owner,
        w.owner.public_hex()
    );
}

/// A possession receipt is never a job: settlement refuses it without paying or charging.
#[test]
fn an_ownership_proof_does_not_settle() {
    use zkw_verifier::intoto::Statement;
    use zkw_verifier::ownership::{SETUP_PREDICATE, SetupPredicate};
    let w = world();
    let p: SetupPredicate = Statement::open(
        w.fixed.registration.setup.as_ref().unwrap(),
        &w.owner.public_hex(),
    )
    .unwrap()
    .predicate_as(SETUP_PREDICATE)
    .unwrap();
    // Licensed as a worker of its own model, the owner still cannot settle it.
    w.registry
        .add_licence(&Licence::issue(
            &w.owner,
            w.fixed.model_id(),
            &w.owner.public_hex(),
            None,
        ))
        .unwrap();
    match one(&w, &p.possession) {
        Outcome::Rejected(zkw_verifier::VerificationError::JobMismatch { received, .. }) => {
            assert!(received.contains("never a job"), "{received}")
        }
        other => panic!("{other:?}"),
    }
    assert!(w.ledger.settlements().unwrap().is_empty());
}

/// A verifier's pins remember the newest history entry seen: a registry put back to an older
/// state, rewritten, or taken by another owner is refused; a newer one moves the pin.
#[test]
fn pins_refuse_a_rolled_back_or_rewritten_history() {
    use zkw_settlement::pins::{PINS_VERSION, Pins};
    let w = world();
    let id = w.fixed.model_id().to_string();
    let path = w.dir.path().join("pins.json");
    let mut pins = Pins::load(&path).unwrap();
    assert!(pins.models.is_empty());
    pins.check(&id, &w.registry.history(&id).unwrap()).unwrap();
    assert_eq!(pins.models[&id].index, 1);
    let a = w.fixed.registration.clone();
    let mut a2 = a.clone();
    a2.sequence = 2;
    a2.reward.fee = 3;
    a2.sign(&w.owner);
    w.registry.register(&a2, &w.owner).unwrap();
    pins.check(&id, &w.registry.history(&id).unwrap()).unwrap();
    assert_eq!(pins.models[&id].index, 2);
    pins.save(&path).unwrap();
    let mut pins = Pins::load(&path).unwrap();
    assert_eq!(pins.version, PINS_VERSION);

    // Put back to entry 1 alone.
    write_history(&w.registry, &id, &[(&a, &w.owner)]);
    let e = pins
        .check(&id, &w.registry.history(&id).unwrap())
        .unwrap_err();
    assert!(e.contains("an older registration was put back"), "{e}");
    // Rewritten: two entries again, the second another registration.
    let mut other2 = a.clone();
    other2.sequence = 2;
    other2.reward.fee = 4;
    other2.sign(&w.owner);
    write_history(&w.registry, &id, &[(&a, &w.owner), (&other2, &w.owner)]);
    let e = pins
        .check(&id, &w.registry.history(&id).unwrap())
        .unwrap_err();
    assert!(e.contains("the history was rewritten"), "{e}");
    // Another owner's history (which no registry reads today: the model id names its owner;
    // the pins check it on their own).
    let mallory = KeyPair::from_seed(&[98; 32]);
    let mut taken = a.clone();
    taken.setup = Some(setup_for(&taken.record, &w.fixed.prover, &mallory));
    taken.sign(&mallory);
    let entry = zkw_settlement::history::Entry::new(
        &taken,
        None,
        &mallory,
        &w.registry.id().unwrap().unwrap(),
    )
    .unwrap();
    let e = pins.check(&id, &[entry]).unwrap_err();
    assert!(e.contains("the pins have it owned by"), "{e}");
    // A malformed pin file is an error naming it, not an empty one.
    std::fs::write(
        &path,
        br#"{"version":1,"models":{"x":{"owner":"a","index":1,"entry":"b"}}}"#,
    )
    .unwrap();
    let e = Pins::load(&path).unwrap_err().to_string();
    assert!(e.contains("is malformed"), "{e}");
    std::fs::write(&path, br#"{"version":2,"models":{}}"#).unwrap();
    let e = Pins::load(&path).unwrap_err().to_string();
    assert!(e.contains("pin file version 2"), "{e}");
}

/// The ledger's memory, read only: what `zkw verify --ledger` refuses.
#[test]
fn the_ledger_judges_a_registration_without_writing() {
    let w = world();
    let a = w.fixed.registration.clone();
    assert_eq!(w.ledger.judge(&a).unwrap(), None);
    assert!(one(&w, &w.fixed.receipt(&w.worker, "job-j", [1, 1, 1])).is_settled());
    let mut renamed = a.clone();
    renamed.record.name.push('!');
    let reason = w.ledger.judge(&renamed).unwrap().unwrap();
    assert!(
        reason.contains("not the one this ledger first saw"),
        "{reason}"
    );
    let mut a2 = a.clone();
    a2.sequence = 2;
    a2.sign(&w.owner);
    w.registry.register(&a2, &w.owner).unwrap();
    assert!(one(&w, &w.fixed.receipt(&w.worker, "job-k", [1, 1, 1])).is_settled());
    let reason = w.ledger.judge(&a).unwrap().unwrap();
    assert!(
        reason.contains("an older registration was put back"),
        "{reason}"
    );
    let mut foreign = a2.clone();
    foreign.sign(&KeyPair::from_seed(&[97; 32]));
    let reason = w.ledger.judge(&foreign).unwrap().unwrap();
    assert!(reason.contains("registered by owner"), "{reason}");
    // Judging wrote nothing: the renamed record is still refused, not pinned.
    assert!(w.ledger.judge(&renamed).unwrap().is_some());
}

/// A registration at its size cap registers and reads back: the history entry that carries it
/// (base64 inside an envelope) fits the entry cap, which is not far above what it must hold.
#[test]
fn a_registration_at_its_cap_registers_and_reads_back() {
    use zkw_settlement::history::{Entry, MAX_ENTRY_BYTES};
    use zkw_verifier::registration::MAX_REGISTRATION_BYTES;
    let w = world();
    let (mut big, prover) = another_key(zkw_model::WeightMode::Fixed, 303, &w.owner);
    big.record.name.clear();
    big.setup = Some(setup_for(&big.record, &prover, &w.owner));
    big.sign(&w.owner);
    let base = serde_json::to_vec(&big).unwrap().len();
    big.record.name = "n".repeat(MAX_REGISTRATION_BYTES - base);
    big.setup = Some(setup_for(&big.record, &prover, &w.owner));
    big.sign(&w.owner);
    assert_eq!(
        serde_json::to_vec(&big).unwrap().len(),
        MAX_REGISTRATION_BYTES
    );
    let entry_len = Entry::new(&big, None, &w.owner, &[0xff; 32])
        .unwrap()
        .to_json()
        .len();
    assert!(
        entry_len <= MAX_ENTRY_BYTES,
        "{entry_len} > {MAX_ENTRY_BYTES}"
    );
    assert!(
        MAX_ENTRY_BYTES < entry_len + (2 << 20),
        "the entry cap is loose: {MAX_ENTRY_BYTES}"
    );
    w.registry.register(&big, &w.owner).unwrap();
    assert_eq!(
        w.registry.model(&big.record.model_id).unwrap().registration,
        big
    );
}

/// An entry's index and its link to the one before go together: entry 0, a first entry
/// naming a predecessor, and a later one naming none are refused on read, each by name —
/// even signed by the owner.
#[test]
fn an_entry_index_and_its_previous_link_go_together() {
    use zkw_settlement::history::{ENTRY_PREDICATE, EntryPredicate};
    use zkw_verifier::intoto::{Statement, Subject};
    let w = world();
    let id = w.fixed.model_id().to_string();
    let reg = &w.fixed.registration;
    let entry_of = |index: u64, previous: Option<String>| {
        let predicate = EntryPredicate {
            registry: hex::encode(w.registry.id().unwrap().unwrap()),
            index,
            previous,
            registration: reg.clone(),
        };
        let statement = Statement {
            subject: vec![Subject::blake3(
                &format!("registration/{id}"),
                &reg.signing_digest(),
            )],
            predicate_type: ENTRY_PREDICATE.into(),
            predicate: match serde_json::to_value(&predicate).unwrap() {
                serde_json::Value::Object(m) => m,
                _ => unreachable!(),
            },
        };
        statement.sign(&w.owner).to_json()
    };
    for (index, previous, says) in [
        (0, None, "entry 0 does not name a previous entry"),
        (1, Some("ab".repeat(32)), "entry 1 names a previous entry"),
        (2, None, "entry 2 does not name a previous entry"),
    ] {
        let e = zkw_settlement::history::Entry::from_json(entry_of(index, previous).as_bytes())
            .unwrap_err()
            .to_string();
        assert!(e.contains(says), "{index}: {e}");
    }
    // The same entry 1 without a predecessor reads.
    zkw_settlement::history::Entry::from_json(entry_of(1, None).as_bytes()).unwrap();
}

/// A pin file that cannot be read is an error naming it, not an empty set of pins; a pin with
/// any one field malformed (an owner, an entry digest, a model id, index 0) is refused.
#[test]
fn a_pin_file_is_read_whole_or_refused() {
    use zkw_settlement::pins::Pins;
    let w = world();
    let dir = w.dir.path().join("pins-as-dir");
    std::fs::create_dir_all(&dir).unwrap();
    assert!(matches!(
        Pins::load(&dir),
        Err(zkw_settlement::SettlementError::Io { .. })
    ));
    let path = w.dir.path().join("pins.json");
    let (id, key) = ("ab".repeat(32), "cd".repeat(32));
    let good = serde_json::json!({"version": 1, "models": {&id: {"owner": &key, "index": 1, "entry": &key}}});
    std::fs::write(&path, good.to_string()).unwrap();
    Pins::load(&path).unwrap();
    for (field, value) in [
        ("owner", serde_json::json!("zz")),
        ("entry", serde_json::json!("zz")),
        ("index", serde_json::json!(0)),
    ] {
        let mut bad = good.clone();
        bad["models"][&id][field] = value;
        std::fs::write(&path, bad.to_string()).unwrap();
        let e = Pins::load(&path).unwrap_err().to_string();
        assert!(e.contains("is malformed"), "{field}: {e}");
    }
    let bad = serde_json::json!({"version": 1, "models": {"x": {"owner": &key, "index": 1, "entry": &key}}});
    std::fs::write(&path, bad.to_string()).unwrap();
    assert!(
        Pins::load(&path)
            .unwrap_err()
            .to_string()
            .contains("is malformed")
    );
}

/// A schema-1 ledger (made here by taking a schema-2 one back: the three new tables dropped,
/// the version set to 1) is refused by name, migrates once, and keeps what it knew: the
/// settled job is still settled, and its worker's second, false answer to it is a dispute,
/// never a penalty. (Adopted from the second attack review.)
#[test]
fn a_schema_1_ledger_is_refused_by_name_and_migrates_keeping_its_settlements() {
    use redb::{ConcurrencyMode, Database, TableDefinition};
    use zkw_settlement::Ledger;
    let w = world();
    let dir = w.dir.path().join("v1-ledger");
    let settle_in = |ledger: &Ledger, r: &Receipt| {
        settle(&w.registry, ledger, std::slice::from_ref(r), NOW)
            .unwrap()
            .remove(0)
    };
    // A second ledger, which the owner adds to the model's venues, and a request for it.
    let (r, venue) = {
        let ledger = Ledger::open(&dir).unwrap();
        ledger.deposit(&client().public_hex(), 5000).unwrap();
        let mut reg = w.private.registration.clone();
        reg.venues = vec![w.ledger.venue(), ledger.venue()];
        reg.venues.sort();
        reg.sequence = w.registry.next_sequence(w.private.model_id()).unwrap();
        reg.sign(&w.owner);
        w.registry.register(&reg, &w.owner).unwrap();
        let rq = request(&client(), &reg, &[3, 2, 1], "n-m", ledger.venue(), 1000);
        let r = w.private.answer(&w.worker, "job-m", [3, 2, 1], Some(rq));
        assert!(settle_in(&ledger, &r).is_settled());
        (r, ledger.venue())
    };
    {
        let db = Database::builder()
            .set_concurrency_mode(ConcurrencyMode::MultiWriter)
            .create(dir.join(zkw_settlement::ledger::LEDGER_FILE))
            .unwrap();
        let txn = db.begin_write().unwrap();
        let sr: TableDefinition<&str, &str> = TableDefinition::new("settled_receipts");
        let di: TableDefinition<&str, &[u8]> = TableDefinition::new("disputes");
        let re: TableDefinition<&str, &str> = TableDefinition::new("records");
        let meta: TableDefinition<&str, u64> = TableDefinition::new("meta");
        assert!(txn.delete_table(sr).unwrap());
        assert!(txn.delete_table(di).unwrap());
        assert!(txn.delete_table(re).unwrap());
        txn.open_table(meta).unwrap().insert("version", 1).unwrap();
        txn.commit().unwrap();
    }
    let e = Ledger::open(&dir).err().unwrap().to_string();
    assert!(
        e.contains("schema version 1") && e.contains("zkw ledger migrate"),
        "{e}"
    );
    assert_eq!(Ledger::migrate(&dir).unwrap(), 1);
    assert_eq!(Ledger::migrate(&dir).unwrap(), 3);
    let ledger = Ledger::open(&dir).unwrap();
    // The index of settled receipts was rebuilt from the settlements.
    let digest = hex::encode(zkw_verifier::signature::receipt_digest(&r));
    assert_eq!(
        ledger
            .settled_by_receipt(&digest)
            .unwrap()
            .map(|s| s.receipt_digest),
        Some(digest)
    );
    assert_eq!(ledger.settled_by_receipt(&"00".repeat(32)).unwrap(), None);
    // The ledger kept its id: it is still the venue its receipts name.
    assert_eq!(ledger.venue(), venue);
    assert!(matches!(
        settle_in(&ledger, &r),
        Outcome::AlreadySettled {
            same_receipt: true,
            ..
        }
    ));
    let mut false_answer = r.clone();
    false_answer.output.quantized[0] ^= 1;
    let step = (-(false_answer.output.frac_bits as f64)).exp2();
    false_answer.output.values[0] = false_answer.output.quantized[0] as f64 * step;
    w.worker.sign(&mut false_answer);
    assert!(matches!(
        settle_in(&ledger, &false_answer),
        Outcome::Disputed { .. }
    ));
    assert!(ledger.penalties().unwrap().is_empty());
    // A directory without a ledger is no ledger to migrate.
    assert!(Ledger::migrate(&w.dir.path().join("none")).is_err());
}

/// A schema-2 ledger (no id, no key: made here by dropping a schema-3 one's) is refused by
/// name, migrates once, and makes its key then, whose public key is its venue id.
#[test]
fn a_schema_2_ledger_is_refused_by_name_and_draws_its_id_when_migrated() {
    use redb::{ConcurrencyMode, Database, TableDefinition};
    use zkw_settlement::Ledger;
    let w = world();
    let dir = w.dir.path().join("v2-ledger");
    let before = Ledger::open(&dir).unwrap().venue();
    {
        let db = Database::builder()
            .set_concurrency_mode(ConcurrencyMode::MultiWriter)
            .create(dir.join(zkw_settlement::ledger::LEDGER_FILE))
            .unwrap();
        let txn = db.begin_write().unwrap();
        let id: TableDefinition<&str, &[u8]> = TableDefinition::new("identity");
        let meta: TableDefinition<&str, u64> = TableDefinition::new("meta");
        assert!(txn.delete_table(id).unwrap());
        txn.open_table(meta).unwrap().insert("version", 2).unwrap();
        txn.commit().unwrap();
    }
    // A schema-2 ledger had no key either.
    let key_file = dir.join(zkw_settlement::ledger::LEDGER_KEY_FILE);
    std::fs::remove_file(&key_file).unwrap();
    let e = Ledger::open(&dir).err().unwrap().to_string();
    assert!(
        e.contains("schema version 2") && e.contains("zkw ledger migrate"),
        "{e}"
    );
    assert_eq!(Ledger::migrate(&dir).unwrap(), 2);
    let after = Ledger::open(&dir).unwrap().venue();
    assert!(matches!(after, zkw_verifier::Venue::Ledger(_)));
    assert_ne!(after, before, "a fresh key was made");
    assert_eq!(Ledger::open(&dir).unwrap().venue(), after, "and kept");
    let key = zkw_verifier::ed25519::read_secret_key(&key_file).unwrap();
    assert_eq!(after, zkw_verifier::Venue::Ledger(key.public()));
}

/// The history is evidence of its own: an entry dropped from the middle, one signed by
/// another key, and a registry written by the previous version are each refused by name.
#[test]
fn a_rewritten_history_or_an_old_registry_is_refused_by_name() {
    let w = world();
    let fixed_id = w.fixed.model_id().to_string();
    let a = w.fixed.registration.clone();
    let mut a2 = a.clone();
    a2.sequence = 2;
    a2.reward.fee = 7;
    a2.sign(&w.owner);
    w.registry.register(&a2, &w.owner).unwrap();
    let mut a3 = a2.clone();
    a3.sequence = 3;
    a3.reward.fee = 9;
    a3.sign(&w.owner);
    w.registry.register(&a3, &w.owner).unwrap();
    let history = w.registry.history(&fixed_id).unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(
        history[2].predicate.previous,
        Some(hex::encode(history[1].digest()))
    );
    // Entry 2 removed and entry 3 renamed into its place: the chain breaks.
    let p2 = w.registry.entry_path(&fixed_id, 2).unwrap();
    let p3 = w.registry.entry_path(&fixed_id, 3).unwrap();
    std::fs::rename(&p3, &p2).unwrap();
    let e = w.registry.model(&fixed_id).unwrap_err().to_string();
    assert!(e.contains("the file holds entry 3"), "{e}");
    // Rebuilt as a clean-looking chain of entries 1 and 3 (the owner can do that, a third
    // party cannot): the ledger that saw fee 7's registration 2 refuses an older view only
    // when the sequence goes back — here it goes forward, so it is accepted.
    write_history(&w.registry, &fixed_id, &[(&a, &w.owner), (&a3, &w.owner)]);
    assert_eq!(
        w.registry.model(&fixed_id).unwrap().registration.reward.fee,
        9
    );
    // An entry signed by a key that is not the owner its registration names.
    let mallory = KeyPair::from_seed(&[66; 32]);
    let entry =
        zkw_settlement::history::Entry::new(&a, None, &w.owner, &w.registry.id().unwrap().unwrap())
            .unwrap();
    let mut forged: serde_json::Value = serde_json::from_str(&entry.to_json()).unwrap();
    let other = zkw_verifier::dsse::Envelope::sign(
        zkw_verifier::intoto::PAYLOAD_TYPE,
        b"{}".to_vec(),
        &mallory,
    );
    let other: serde_json::Value = serde_json::from_str(&other.to_json()).unwrap();
    forged["signatures"] = other["signatures"].clone();
    std::fs::write(
        w.registry.entry_path(&fixed_id, 1).unwrap(),
        serde_json::to_string(&forged).unwrap(),
    )
    .unwrap();
    let e = w.registry.model(&fixed_id).unwrap_err().to_string();
    assert!(
        e.contains("not signed by the owner its registration names"),
        "{e}"
    );
    // A registry an earlier zkw wrote: `models/<id>.json`, no history.
    let old = zkw_settlement::Registry::new(w.dir.path().join("old"));
    std::fs::create_dir_all(old.dir().join("models")).unwrap();
    std::fs::write(
        old.dir().join("models").join(format!("{fixed_id}.json")),
        a.to_json(),
    )
    .unwrap();
    let e = old.model(&fixed_id).unwrap_err().to_string();
    assert!(
        e.contains("written by an earlier zkw") && e.contains("register each model again"),
        "{e}"
    );
    let e = old.register(&a, &w.owner).unwrap_err().to_string();
    assert!(e.contains("written by an earlier zkw"), "{e}");
    assert!(old.model_ids().is_err());
}

/// A model's history directory that cannot be listed (a file in its place) is an I/O error
/// naming it, not a model that is not registered.
#[test]
fn a_history_that_cannot_be_listed_is_an_error_not_an_unregistered_model() {
    let w = world();
    let id = "cd".repeat(32);
    let dir = w.registry.history_dir(&id).unwrap();
    std::fs::create_dir_all(dir.parent().unwrap()).unwrap();
    std::fs::write(&dir, b"not a directory").unwrap();
    match w.registry.model(&id) {
        Err(zkw_settlement::SettlementError::Io { path, .. }) => assert_eq!(path, dir),
        other => panic!("{other:?}"),
    }
}

/// An owner's entries from one registry, copied into another registry's directory by whoever
/// can write it, are refused by name: each entry names the registry it was written for.
#[test]
fn an_owners_entries_replayed_from_another_registry_are_refused() {
    let w = world();
    let fixed_id = w.fixed.model_id().to_string();
    // A second registry where the owner registered another model (so it has its own id).
    let other = Registry::new(w.dir.path().join("other-registry"));
    other.register(&w.private.registration, &w.owner).unwrap();
    let (a, b) = (
        w.registry.id().unwrap().unwrap(),
        other.id().unwrap().unwrap(),
    );
    assert_ne!(a, b);
    // The fixed model's history copied over: genuine owner-signed entries, of another registry.
    let from = w.registry.history_dir(&fixed_id).unwrap();
    let to = other.history_dir(&fixed_id).unwrap();
    std::fs::create_dir_all(&to).unwrap();
    for f in std::fs::read_dir(&from).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), to.join(f.file_name())).unwrap();
    }
    let e = other.model(&fixed_id).unwrap_err().to_string();
    assert!(
        e.contains(&format!(
            "entry 1 was written for registry {}, this registry is {}: an entry replayed from \
             another registry",
            hex::encode(a),
            hex::encode(b)
        )),
        "{e}"
    );
    // A copy of the whole registry (a mirror) keeps its id and reads.
    let mirror = w.dir.path().join("mirror");
    copy_dir(w.registry.dir(), &mirror);
    assert_eq!(
        Registry::new(&mirror)
            .model(&fixed_id)
            .unwrap()
            .registration,
        w.registry.model(&fixed_id).unwrap().registration
    );
    // A registry with entries but no id is refused, not read as any registry's.
    std::fs::remove_file(mirror.join(zkw_settlement::registry::REGISTRY_ID_FILE)).unwrap();
    let e = Registry::new(&mirror)
        .model(&fixed_id)
        .unwrap_err()
        .to_string();
    assert!(e.contains("has history entries but no id"), "{e}");
    // An id that cannot be read is an error naming it, not a missing id.
    std::fs::create_dir(mirror.join(zkw_settlement::registry::REGISTRY_ID_FILE)).unwrap();
    let e = Registry::new(&mirror)
        .model(&fixed_id)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(zkw_settlement::registry::REGISTRY_ID_FILE) && !e.contains("no id"),
        "{e}"
    );
    std::fs::remove_dir(mirror.join(zkw_settlement::registry::REGISTRY_ID_FILE)).unwrap();
    std::fs::write(
        mirror.join(zkw_settlement::registry::REGISTRY_ID_FILE),
        "zz",
    )
    .unwrap();
    let e = Registry::new(&mirror)
        .model(&fixed_id)
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a registry id"), "{e}");
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for f in std::fs::read_dir(from).unwrap() {
        let f = f.unwrap();
        let target = to.join(f.file_name());
        if f.file_type().unwrap().is_dir() {
            copy_dir(&f.path(), &target);
        } else {
            std::fs::copy(f.path(), &target).unwrap();
        }
    }
}

/// Committed weights register only with their commitment checked (condition S1): the
/// commitment files must be in the registry, be the ones the registration lists, and open the
/// record's commitment. A registered committed model's receipts then settle like any other.
#[test]
fn a_committed_model_registers_only_with_a_commitment_that_opens() {
    let w = world();
    let owner = &w.owner;
    let (mut registration, prover, keys) =
        owned_setup(zkw_model::WeightMode::Committed, 700, owner);
    registration.venues = vec![w.fixed.venue];
    registration.sign(owner);
    let record = registration.record.clone();
    let published = zkw_prover::KeyDir::new(keys.path()).published();

    // The files are not in the registry yet.
    let err = w
        .registry
        .register(&registration, owner)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("copy the keys directory's commitment files in first"),
        "{err}"
    );

    // Another setup's opening in their place: not the file the registration lists…
    let (other, _p, other_keys) = owned_setup(zkw_model::WeightMode::Committed, 701, owner);
    let other_published = zkw_prover::KeyDir::new(other_keys.path()).published();
    w.registry.add_commitment(&published, &record).unwrap();
    let opening = w.registry.commitments().opening_path(&record.vk_id);
    std::fs::copy(other_published.opening_path(&other.record.vk_id), &opening).unwrap();
    let err = w
        .registry
        .register(&registration, owner)
        .unwrap_err()
        .to_string();
    assert!(err.contains("not the file the registration lists"), "{err}");
    // …and listed by its digest, it opens nothing of this model's.
    let mut relisted = registration.clone();
    relisted.key_files.insert(
        format!("{}.opening", record.vk_id),
        blake3::hash(&std::fs::read(&opening).unwrap())
            .to_hex()
            .to_string(),
    );
    relisted.sign(owner);
    let err = w
        .registry
        .register(&relisted, owner)
        .unwrap_err()
        .to_string();
    assert!(err.contains("opening proof fails"), "{err}");

    // The owner's own files: registered, and its receipts settle.
    w.registry.add_commitment(&published, &record).unwrap();
    w.registry.register(&registration, owner).unwrap();
    w.registry
        .add_licence(&Licence::issue(
            owner,
            &record.model_id,
            &w.worker.worker_id(),
            None,
        ))
        .unwrap();
    let registered = Registered {
        prover,
        registration,
        keys,
        venue: w.fixed.venue,
    };
    let receipt = registered.receipt(&w.worker, "committed-job", [1, 2, 3]);
    assert!(
        matches!(one(&w, &receipt), Outcome::Settled { .. }),
        "settles"
    );
    assert!(
        matches!(one(&w, &receipt), Outcome::AlreadySettled { .. }),
        "once"
    );
}
