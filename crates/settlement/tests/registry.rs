//! What the registry and the ledger refuse on their own: a second model with the same
//! commitment or key, a record changed under the same key, a model taken by another owner or
//! rolled back to an older registration behind the registry's back — and the job key that
//! makes one proof settle once whatever model id or worker tries it again.

mod common;

use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField};
use common::*;
use zkw_settlement::{Outcome, settle};
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
    // Registering the alias is refused: same commitment, same key.
    let mut aliased = w.fixed.registration.clone();
    aliased.record.model_id = alias_id.clone();
    aliased.sign(&w.owner);
    let e = w.registry.register(&aliased).unwrap_err().to_string();
    assert!(e.contains("registered with the same verifying key"), "{e}");
    // Written into the directory behind the registry's back, it is read (it is signed and
    // consistent) — but the proof's job is taken already.
    std::fs::write(w.registry.model_path(&alias_id).unwrap(), aliased.to_json()).unwrap();
    let r = w.fixed.receipt(&w.worker, "job-a", [1, 2, 3]);
    w.registry
        .add_licence(&Licence::issue(
            &w.owner,
            &alias_id,
            &w.worker.worker_id(),
            None,
        ))
        .unwrap();
    assert!(one(&w, &r).is_settled());
    let mut again = r.clone();
    again.model_id = alias_id;
    w.worker.sign(&mut again);
    assert!(
        matches!(one(&w, &again), Outcome::AlreadySettled { .. }),
        "{:?}",
        one(&w, &again)
    );
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
    let path = w.registry.model_path(w.fixed.model_id()).unwrap();
    let v1 = std::fs::read(&path).unwrap();
    // The ledger sees registration 1 first.
    assert!(one(&w, &w.fixed.receipt(&w.worker, "job-r", [3, 3, 3])).is_settled());
    // Same key, another output scale: refused (receipts under that key would turn false).
    let mut changed = w.fixed.registration.clone();
    changed.record.output.frac_bits += 1;
    changed.sequence = 2;
    changed.sign(&w.owner);
    let e = w.registry.register(&changed).unwrap_err().to_string();
    assert!(e.contains("changed under the same verifying key"), "{e}");
    // Same sequence: refused. A new split with a higher one: accepted.
    let mut same = w.fixed.registration.clone();
    same.reward.fee = 5;
    same.sign(&w.owner);
    let e = w.registry.register(&same).unwrap_err().to_string();
    assert!(e.contains("needs a higher sequence number"), "{e}");
    assert_eq!(w.registry.next_sequence(w.fixed.model_id()).unwrap(), 2);
    let mut v2 = same.clone();
    v2.sequence = 2;
    v2.reward.penalty = u64::MAX;
    v2.sign(&w.owner);
    w.registry.register(&v2).unwrap();
    // The ledger sees registration 2 …
    let r = w.fixed.receipt(&w.worker, "job-s", [1, 1, 1]);
    let Outcome::Settled(s) = one(&w, &r) else {
        panic!()
    };
    assert_eq!(s.worker_credit + s.owner_credit, 5);
    // … then registration 1 is put back behind the registry's back: refused.
    std::fs::write(&path, &v1).unwrap();
    let r2 = w.fixed.receipt(&w.worker, "job-t", [1, 1, 1]);
    let reason = unknown_reason(one(&w, &r2));
    assert!(
        reason.contains("an older registration was put back"),
        "{reason}"
    );
    // Another owner's registration of the model, written in directly: refused by the pin.
    let mallory = KeyPair::from_seed(&[99; 32]);
    let mut taken = w.fixed.registration.clone();
    taken.sequence = 9;
    taken.sign(&mallory);
    std::fs::write(&path, taken.to_json()).unwrap();
    let reason = unknown_reason(one(&w, &r2));
    assert!(reason.contains("this ledger has model"), "{reason}");
    assert!(reason.contains(&w.owner.public_hex()), "{reason}");
    // Back to registration 2: penalties of u64::MAX add up in 128 bits, no overflow.
    std::fs::write(&path, v2.to_json()).unwrap();
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
fn a_second_model_is_refused_for_the_same_key_alone_or_the_same_commitment_alone() {
    let w = world();
    // A registry holding only the fixed model.
    let other = zkw_settlement::Registry::new(w.dir.path().join("other"));
    other.register(&w.fixed.registration).unwrap();
    let fixed = &w.fixed.registration;

    // The same verifying key under another model id, with that id's own commitment.
    let mut same_key = fixed.clone();
    let id = [0x42u8; 32];
    same_key.record.model_id = hex::encode(id);
    same_key.record.model_commitment =
        zkw_verifier::field::fr_to_hex(&zkw_verifier::statement::fixed_model_commitment(&id));
    assert_ne!(
        same_key.record.model_commitment,
        fixed.record.model_commitment
    );
    same_key.sign(&w.owner);
    let e = other.register(&same_key).unwrap_err().to_string();
    assert!(e.contains("registered with the same verifying key"), "{e}");

    // The same commitment (an alias of the id) under a key of its own.
    let mut same_commitment = fixed.clone();
    same_commitment.record.model_id = alias(w.fixed.model_id()).unwrap();
    same_commitment.vk = w.private.registration.vk.clone();
    same_commitment.record.vk_id = w.private.registration.record.vk_id.clone();
    same_commitment.sign(&w.owner);
    let e = other.register(&same_commitment).unwrap_err().to_string();
    assert!(e.contains("registered with the same commitment"), "{e}");
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
    assert_eq!(w.registry.model_path("../models/x"), None);
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
    let path = w.registry.model_path(&unregistered).unwrap();
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

    // No models directory yet: no models. A file in its place: an error.
    let fresh = zkw_settlement::Registry::new(w.dir.path().join("fresh"));
    assert_eq!(fresh.model_ids().unwrap(), Vec::<String>::new());
    std::fs::create_dir_all(fresh.dir()).unwrap();
    std::fs::write(fresh.dir().join("models"), "not a directory").unwrap();
    match fresh.model_ids() {
        Err(zkw_settlement::SettlementError::Io { path, .. }) => {
            assert_eq!(path, fresh.dir().join("models"))
        }
        other => panic!("{other:?}"),
    }
}
