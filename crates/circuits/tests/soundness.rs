//! Soundness: every witness value is constrained. In a small model's circuit, changing any
//! single witness value (each in turn) leaves the system unsatisfied — in both weight modes.

mod common;

use ark_ff::One;
use ark_relations::gr1cs::R1CS_PREDICATE_LABEL;
use common::{circuit, small_mlp, synthesize};
use zkw_circuits::Fr;
use zkw_model::{WeightMode, run};

fn every_witness_is_constrained(mode: WeightMode) {
    let model = small_mlp(mode);
    // An input that drives one hidden unit into saturation and keeps the other in range.
    let trace = run(&model, &[127, -128, 5]).unwrap();
    let cs = synthesize(circuit(&model, trace));
    assert!(cs.is_satisfied().unwrap());
    let n = cs.num_witness_variables();
    assert!(n > 100, "{mode}: only {n} witnesses");
    let mut loose = Vec::new();
    for i in 0..n {
        cs.borrow_mut().unwrap().assignments.witness_assignment[i] += Fr::one();
        if cs.is_satisfied().unwrap() {
            loose.push(i);
        }
        cs.borrow_mut().unwrap().assignments.witness_assignment[i] -= Fr::one();
    }
    assert!(
        loose.is_empty(),
        "{mode}: unconstrained witnesses {loose:?} of {n}"
    );
    // Every public input but the job binding is pinned by the computation itself.
    let job = cs.num_instance_variables() - 1;
    for i in 1..job {
        cs.borrow_mut().unwrap().assignments.instance_assignment[i] += Fr::one();
        assert!(
            !cs.is_satisfied().unwrap(),
            "{mode}: public input {i} is not bound"
        );
        cs.borrow_mut().unwrap().assignments.instance_assignment[i] -= Fr::one();
    }
    // The job binding is free in the R1CS (any job may be proved) but must appear in a
    // constraint, or Groth16 would not bind it; the prover tests show a changed binding fails.
    let matrices = cs.to_matrices().unwrap();
    let abc = &matrices[R1CS_PREDICATE_LABEL];
    assert!(
        abc.iter().flatten().flatten().any(|(_, var)| *var == job),
        "{mode}: the job binding appears in no constraint"
    );
}

#[test]
fn fixed_mode_every_witness_is_constrained() {
    every_witness_is_constrained(WeightMode::Fixed);
}

#[test]
fn private_mode_every_witness_is_constrained() {
    every_witness_is_constrained(WeightMode::Private);
}
