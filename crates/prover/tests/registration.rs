//! A keys directory made into its owner's registration: only the owner the model id is bound
//! to may register it, with a setup statement that owner signed; everything else is refused
//! with the directory and the reason.

mod common;

use common::mlp;
use zkw_model::{WeightMode, model_id};
use zkw_prover::registration::{registration, write_setup_statement};
use zkw_prover::{KeyDir, ProverError, setup, setup_owned};
use zkw_verifier::{KeyPair, Reward, Venue};

fn reward() -> Reward {
    Reward {
        fee: 100,
        worker_share_bps: 7_000,
        penalty: 10,
    }
}

/// Keys set up for `owner` (or for no owner).
fn keys(owner: Option<&KeyPair>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let model = mlp(WeightMode::Fixed);
    let id = model_id(&model);
    match owner {
        Some(o) => setup_owned(&model, &id, &o.public_hex(), dir.path(), &|_| {}).map(drop),
        None => setup(&model, &id, dir.path(), &|_| {}).map(drop),
    }
    .unwrap();
    dir
}

/// The reason of a `NotOwner` refusal, or a panic with what came instead.
fn refusal(r: Result<zkw_verifier::Registration, ProverError>) -> String {
    match r {
        Err(ProverError::NotOwner { reason, .. }) => reason,
        Err(e) => panic!("another error: {e}"),
        Ok(_) => panic!("registered"),
    }
}

#[test]
fn the_owner_registers_with_a_setup_statement_made_on_the_way() {
    let owner = KeyPair::from_seed(&[1; 32]);
    let dir = keys(Some(&owner));
    let keys = KeyDir::new(dir.path());
    assert!(!keys.setup_statement_path().exists());
    let ledger = Venue::Ledger([9; 32]);
    let evm = Venue::Evm {
        chain_id: 1,
        contract: [2; 20],
    };
    let r = registration(&keys, &owner, reward(), &[ledger, evm, ledger]).unwrap();
    // Made now, with the proving key, and kept for next time.
    assert!(keys.setup_statement_path().exists());
    assert!(r.setup.is_some());
    assert_eq!(r.record, keys.read_record().unwrap());
    assert_eq!(r.key_files, keys.file_digests(&r.record).unwrap());
    let mut venues = vec![Venue::Ledger([9; 32]), evm];
    venues.sort();
    assert_eq!(r.venues, venues, "sorted, each once");
    // Unsigned: the registry numbers and signs it.
    assert!(r.signature.is_none());
}

#[test]
fn another_owner_or_no_owner_is_refused() {
    let owner = KeyPair::from_seed(&[1; 32]);
    let squatter = KeyPair::from_seed(&[2; 32]);
    let dir = keys(Some(&owner));
    let keys_dir = KeyDir::new(dir.path());
    let e = refusal(registration(&keys_dir, &squatter, reward(), &[]));
    assert!(
        e.starts_with(&format!(
            "this model was set up by owner {}",
            owner.public_hex()
        )),
        "{e}"
    );

    let unowned = keys(None);
    let e = refusal(registration(
        &KeyDir::new(unowned.path()),
        &owner,
        reward(),
        &[],
    ));
    assert!(e.starts_with("this setup names no owner"), "{e}");
}

#[test]
fn a_setup_statement_signed_by_someone_else_is_refused() {
    let owner = KeyPair::from_seed(&[1; 32]);
    let other = KeyPair::from_seed(&[3; 32]);
    let dir = keys(Some(&owner));
    let keys_dir = KeyDir::new(dir.path());
    // A statement in the directory signed by another key (its proof is valid: it proves
    // possession for that key's ownership job).
    write_setup_statement(&keys_dir, &other).unwrap();
    let e = refusal(registration(&keys_dir, &owner, reward(), &[]));
    assert!(
        e.starts_with(&format!(
            "the setup statement is signed by {}, not by this owner",
            other.public_hex()
        )),
        "{e}"
    );
}

#[test]
fn published_files_alone_cannot_be_registered() {
    let owner = KeyPair::from_seed(&[1; 32]);
    let dir = keys(Some(&owner));
    let keys_dir = KeyDir::new(dir.path());
    let record = keys_dir.read_record().unwrap();
    // What an owner publishes: the record and the verifying key, no proving key.
    let published = tempfile::tempdir().unwrap();
    let public = KeyDir::new(published.path());
    std::fs::copy(keys_dir.record_path(), public.record_path()).unwrap();
    std::fs::copy(
        keys_dir.vk_path(&record.vk_id),
        public.vk_path(&record.vk_id),
    )
    .unwrap();
    let e = refusal(registration(&public, &owner, reward(), &[]));
    assert!(
        e.starts_with(
            "no setup statement, and proving ownership with the directory's proving key failed: "
        ),
        "{e}"
    );
}
