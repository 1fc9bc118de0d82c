//! The prover's own arrangement of Groth16 (cached matrices, baseline, quotient beside the
//! assignment MSMs) against arkworks', a wrong trace, and broken baseline files.

mod common;

use ark_bn254::Bn254;
use ark_groth16::Groth16;
use common::{SALT, job, mlp};
use zkw_circuits::Fr;
use zkw_model::{WeightMode, model_id};
use zkw_prover::groth16::create_proof;
use zkw_prover::{KeyDir, LocalProver, ProverError, setup};

fn prover(mode: WeightMode, dir: &std::path::Path) -> LocalProver {
    let model = mlp(mode);
    let id = model_id(&model);
    setup(&model, &id, dir, &|_| {}).unwrap();
    LocalProver::load(model, &id, dir).unwrap()
}

fn same_proof_as_arkworks(mode: WeightMode) {
    let dir = tempfile::tempdir().unwrap();
    let p = prover(mode, dir.path());
    let m = p.matrices();
    // The zero input is the baseline's own; the others differ from it in most variables.
    for input in [[0, 0, 0, 0], [100, -128, 7, 127], [-5, 64, -64, 1]] {
        let trace = zkw_model::run(p.model(), &input).unwrap();
        let z = p
            .assignment(p.circuit(trace, &SALT, &job()).unwrap())
            .unwrap();
        let (r, s) = (Fr::from(0x1234_5678u64), Fr::from(987_654_321u64));
        let ours = create_proof(p.proving_key(), m, p.baseline(), &z, r, s).unwrap();
        let theirs = Groth16::<Bn254>::create_proof_with_reduction_and_matrices(
            p.proving_key(),
            r,
            s,
            &m.abc,
            m.num_instance_variables,
            m.num_constraints,
            &z,
        )
        .unwrap();
        assert_eq!(ours, theirs, "{mode:?} input {input:?}");
    }
}

#[test]
fn fixed_mode_proof_equals_arkworks_for_the_same_randomness() {
    same_proof_as_arkworks(WeightMode::Fixed);
}

#[test]
fn private_mode_proof_equals_arkworks_for_the_same_randomness() {
    same_proof_as_arkworks(WeightMode::Private);
}

#[test]
fn private_mode_baseline_leaves_only_the_jobs_share() {
    let dir = tempfile::tempdir().unwrap();
    let p = prover(WeightMode::Private, dir.path());
    let trace = zkw_model::run(p.model(), &[100, -128, 7, 127]).unwrap();
    let z = p
        .assignment(p.circuit(trace, &SALT, &job()).unwrap())
        .unwrap();
    let differ = z
        .iter()
        .zip(&p.baseline().z)
        .filter(|(a, b)| a != b)
        .count();
    // Weights, their bits and the commitment's Poseidon rounds never change.
    assert!(differ * 3 < z.len(), "{differ} of {} differ", z.len());
}

#[test]
fn a_wrong_trace_is_refused_naming_the_constraint_it_breaks() {
    let dir = tempfile::tempdir().unwrap();
    for mode in [
        WeightMode::Fixed,
        WeightMode::Private,
        WeightMode::Committed,
    ] {
        let p = prover(mode, dir.path().join(format!("{mode:?}")).as_path());
        let mut trace = zkw_model::run(p.model(), &[100, -128, 7, 127]).unwrap();
        let last = trace.tensors.len() - 1;
        trace.tensors[last][1] += 1;
        match p.prove_trace(trace, &SALT, &job()) {
            Err(ProverError::Unsatisfied(row)) => assert!(row < p.matrices().num_constraints),
            other => panic!("{mode:?}: expected Unsatisfied, got {other:?}"),
        }
    }
}

#[test]
fn broken_baseline_files_are_refused_by_name() {
    let root = tempfile::tempdir().unwrap();
    let (fixed, private) = (root.path().join("f"), root.path().join("p"));
    let pf = prover(WeightMode::Fixed, &fixed);
    let pp = prover(WeightMode::Private, &private);
    let base_f = KeyDir::new(&fixed).baseline_path(&pf.record().vk_id);
    let base_p = KeyDir::new(&private).baseline_path(&pp.record().vk_id);
    let model = mlp(WeightMode::Fixed);
    let id = model_id(&model);
    let load = || {
        LocalProver::load(model.clone(), &id, &fixed)
            .map(|_| ())
            .unwrap_err()
    };

    // The baseline file holds points and a digest, never the assignment (it has the weights).
    assert!(std::fs::metadata(&base_p).unwrap().len() < 512);

    // Another model's baseline under this key's name: a sound file, the wrong reference.
    let good = std::fs::read(&base_f).unwrap();
    std::fs::copy(&base_p, &base_f).unwrap();
    let err = load().to_string();
    assert!(
        err.contains(".base") && err.contains("another reference assignment"),
        "{err}"
    );

    // One flipped byte.
    let mut bad = good.clone();
    bad[60] ^= 0x40;
    std::fs::write(&base_f, &bad).unwrap();
    let err = load().to_string();
    assert!(err.contains("digest mismatch"), "{err}");

    // Missing.
    std::fs::remove_file(&base_f).unwrap();
    let err = load();
    assert!(
        matches!(&err, ProverError::Io { path, .. } if path == &base_f),
        "{err}"
    );
}
