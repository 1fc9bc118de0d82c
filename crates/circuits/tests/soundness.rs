//! Soundness: every witness value is constrained. In a small model's circuit, changing any
//! single witness value (each in turn) leaves the system unsatisfied — in every weight mode.
//! Committed weights are the exception by design: their wires are bound by the owner's
//! commitment `D_reg`, outside the R1CS (a weight that multiplies a zero is free in it), and
//! `crates/prover/tests/committed.rs` shows other weights refused by the commitment.

mod common;

use ark_ff::One;
use ark_relations::gr1cs::R1CS_PREDICATE_LABEL;
use common::{circuit, small_mlp, synthesize};
use zkw_circuits::Fr;
use zkw_model::ops::{Dense, Requantize};
use zkw_model::{Model, Op, TensorInfo, WeightMode, run};
use zkw_verifier::statement::OUTPUT_START;

fn every_witness_is_constrained(mode: WeightMode) {
    let model = small_mlp(mode);
    let committed = zkw_circuits::commitment::committed_wires(&model);
    // An input that drives one hidden unit into saturation and keeps the other in range.
    let trace = run(&model, &[127, -128, 5]).unwrap();
    let cs = synthesize(circuit(&model, trace));
    assert!(cs.is_satisfied().unwrap());
    let n = cs.num_witness_variables();
    assert!(n > 100, "{mode}: only {n} witnesses");
    let mut loose = Vec::new();
    for i in committed..n {
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

#[test]
fn committed_mode_every_witness_but_the_committed_ones_is_constrained() {
    every_witness_is_constrained(WeightMode::Committed);
}

#[test]
fn each_packed_output_element_is_bound_to_its_own_public_input() {
    // 40 8-bit outputs pack into two elements (31 + 9): the second is the first statement
    // where the element's index matters, so binding element k anywhere but OUTPUT_START + k
    // must fail here.
    let model = Model::chain(
        "forty",
        WeightMode::Fixed,
        TensorInfo {
            shape: vec![3],
            frac_bits: 4,
            bits: 8,
        },
        vec![
            Op::Dense(Dense {
                name: "fc".into(),
                in_features: 3,
                out_features: 40,
                weights: (0..120).map(|i: i64| (i * 53 % 255) - 127).collect(),
                weight_bits: 8,
                weight_frac_bits: 6,
                bias: (0..40).map(|j: i64| j * 97 - 2000).collect(),
                bias_bits: 13,
            }),
            Op::Requantize(Requantize { shift: 6, bits: 8 }),
        ],
        None,
    );
    let trace = run(&model, &[90, -70, 33]).unwrap();
    let c = circuit(&model, trace);
    let publics = c.statement().public_inputs().unwrap();
    assert_eq!(publics.len(), OUTPUT_START + 2 + 1);
    let (first, second) = (publics[OUTPUT_START], publics[OUTPUT_START + 1]);
    assert_ne!(first, second);
    let cs = synthesize(c);
    assert!(cs.is_satisfied().unwrap());
    // Instance variable 0 is the constant 1: public input i is instance i + 1.
    let slot = |k: usize| OUTPUT_START + k + 1;
    let set = |a: Fr, b: Fr| {
        let mut sys = cs.borrow_mut().unwrap();
        sys.assignments.instance_assignment[slot(0)] = a;
        sys.assignments.instance_assignment[slot(1)] = b;
    };
    // The elements swapped: each is some honest packing, only their places differ.
    set(second, first);
    assert!(!cs.is_satisfied().unwrap(), "swapped output elements");
    // The last output one higher (it sits at the bottom of the second element).
    let last_up = Fr::from(1u128 << (8 * 8));
    set(first, second + last_up);
    assert!(!cs.is_satisfied().unwrap(), "the 40th output raised");
    set(first, second);
    assert!(cs.is_satisfied().unwrap());
}
