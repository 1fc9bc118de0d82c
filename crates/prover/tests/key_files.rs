//! Key files that pass their digest check but were made or edited to break the prover: each
//! is refused at load with the file and the reason, never a panic or an index out of range.
//! (A digest is stored inside the file, so anyone who edits one can recompute it.)

mod common;

use std::sync::OnceLock;

use ark_bn254::Bn254;
use ark_ff::One;
use ark_groth16::ProvingKey;
use common::mlp;
use proptest::prelude::*;
use zkw_circuits::Fr;
use zkw_model::{WeightMode, model_id};
use zkw_prover::keys::{BASELINE_MAGIC, PK_MAGIC, R1CS_MAGIC, read_digested, write_digested};
use zkw_prover::matrices::R1csMatrices;
use zkw_prover::{KeyDir, LocalProver, ProverError, setup};

struct Keys {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    vk_id: String,
}

/// A fresh copy of one setup's keys (setup runs once per test binary).
fn keys() -> Keys {
    static TEMPLATE: OnceLock<(tempfile::TempDir, String)> = OnceLock::new();
    let (template, vk_id) = TEMPLATE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let model = mlp(WeightMode::Fixed);
        let report = setup(&model, &model_id(&model), dir.path(), &|_| {}).unwrap();
        (dir, report.record.vk_id)
    });
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(template.path()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    Keys {
        path: dir.path().to_path_buf(),
        _dir: dir,
        vk_id: vk_id.clone(),
    }
}

fn load(k: &Keys) -> Result<LocalProver, ProverError> {
    let model = mlp(WeightMode::Fixed);
    LocalProver::load(model.clone(), &model_id(&model), &k.path)
}

/// The reason of a `BadKeyFile` error for `file`, or a panic with what came instead.
fn bad_file_reason(k: &Keys, file: &std::path::Path) -> String {
    match load(k) {
        Err(ProverError::BadKeyFile { path, reason }) if path == file => reason,
        Err(e) => panic!("another error: {e}"),
        Ok(_) => panic!("a broken {} was accepted", file.display()),
    }
}

#[test]
fn edited_matrices_are_refused_by_name() {
    let k = keys();
    let dir = KeyDir::new(&k.path);
    let path = dir.r1cs_path(&k.vk_id);
    let good: R1csMatrices = read_digested(&path, R1CS_MAGIC, "matrices").unwrap();
    let n = good.num_variables();
    type Edit = Box<dyn Fn(&mut R1csMatrices)>;
    let edits: Vec<(Edit, String)> = vec![
        (
            Box::new(move |m| m.abc[0][3].push((Fr::one(), n + 5))),
            format!(
                "matrix A row 3 names variable {}, the assignment has {n}",
                n + 5
            ),
        ),
        (
            Box::new(|m| {
                m.abc[1].pop();
            }),
            format!(
                "matrix B has {} rows, expected {}",
                good.num_constraints - 1,
                good.num_constraints
            ),
        ),
        (
            Box::new(|m| {
                m.abc.pop();
            }),
            "2 matrices, expected A, B and C".into(),
        ),
        (
            Box::new(|m| m.num_instance_variables = 0),
            "no instance variable (not even the constant 1)".into(),
        ),
        (
            Box::new(|m| m.num_witness_variables = usize::MAX),
            "the variable count overflows".into(),
        ),
        (
            Box::new(|m| {
                m.num_instance_variables = usize::MAX;
                m.num_witness_variables = 0;
            }),
            "too many constraints for a BN254 evaluation domain".into(),
        ),
        (
            Box::new(|m| m.num_constraints = 1 << 28),
            "too many constraints for a BN254 evaluation domain".into(),
        ),
        (
            Box::new(|m| m.num_witness_variables -= 1),
            format!("names variable {}", n - 1),
        ),
    ];
    for (edit, want) in edits {
        let mut m = good.clone();
        edit(&mut m);
        write_digested(&path, R1CS_MAGIC, &m).unwrap();
        let reason = bad_file_reason(&k, &path);
        assert!(reason.contains(&want), "{reason:?} lacks {want:?}");
    }
    write_digested(&path, R1CS_MAGIC, &good).unwrap();
    assert!(load(&k).is_ok());
}

#[test]
fn a_proving_key_of_the_wrong_size_is_refused_by_name() {
    let k = keys();
    let dir = KeyDir::new(&k.path);
    let path = dir.pk_path(&k.vk_id);
    let good: ProvingKey<Bn254> = read_digested(&path, PK_MAGIC, "proving key").unwrap();
    type Edit = fn(&mut ProvingKey<Bn254>);
    let edits: Vec<(Edit, &str)> = vec![
        (|pk| pk.h_query.truncate(1), "h_query has 1 points"),
        (|pk| pk.a_query.truncate(2), "a_query has 2 points"),
        (|pk| pk.b_g1_query.push(pk.b_g1_query[0]), "b_g1_query has"),
        (|pk| pk.b_g2_query.truncate(3), "b_g2_query has 3 points"),
        (|pk| pk.l_query.clear(), "l_query has 0 points"),
    ];
    for (edit, want) in edits {
        let mut pk = good.clone();
        edit(&mut pk);
        write_digested(&path, PK_MAGIC, &pk).unwrap();
        let reason = bad_file_reason(&k, &path);
        assert!(reason.contains(want), "{reason:?} lacks {want:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Arbitrary payloads behind a valid magic and digest: an error naming the file.
    #[test]
    fn arbitrary_payloads_with_a_valid_digest_are_refused(
        payload in prop::collection::vec(any::<u8>(), 0..600),
        which in 0usize..3,
    ) {
        let k = keys();
        let dir = KeyDir::new(&k.path);
        let (path, magic) = match which {
            0 => (dir.pk_path(&k.vk_id), PK_MAGIC),
            1 => (dir.r1cs_path(&k.vk_id), R1CS_MAGIC),
            _ => (dir.baseline_path(&k.vk_id), BASELINE_MAGIC),
        };
        let mut bytes = magic.to_vec();
        bytes.extend_from_slice(blake3::hash(&payload).as_bytes());
        bytes.extend_from_slice(&payload);
        std::fs::write(&path, &bytes).unwrap();
        let reason = bad_file_reason(&k, &path);
        prop_assert!(!reason.is_empty());
    }

    /// Truncated or altered at any byte: refused by the digest, naming the file.
    #[test]
    fn truncated_and_flipped_key_files_are_refused(
        which in 0usize..3,
        cut in any::<prop::sample::Index>(),
        flip in any::<bool>(),
    ) {
        let k = keys();
        let dir = KeyDir::new(&k.path);
        let path = match which {
            0 => dir.pk_path(&k.vk_id),
            1 => dir.r1cs_path(&k.vk_id),
            _ => dir.baseline_path(&k.vk_id),
        };
        let mut bytes = std::fs::read(&path).unwrap();
        let at = cut.index(bytes.len());
        if flip {
            bytes[at] ^= 0x10;
        } else {
            bytes.truncate(at);
        }
        std::fs::write(&path, &bytes).unwrap();
        let reason = bad_file_reason(&k, &path);
        prop_assert!(
            reason.contains("digest mismatch")
                || reason.contains("truncated")
                || reason.contains("not a zkworker"),
            "{}", reason
        );
    }
}
