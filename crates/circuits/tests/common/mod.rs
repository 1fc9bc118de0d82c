//! Random and hand-made models for the circuit tests.

#![allow(dead_code)]

use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, OptimizationGoal, SynthesisMode,
};
use zkw_circuits::{CircuitError, Fr, InferenceCircuit, model_commitment};
use zkw_model::ops::{Dense, Relu, Requantize};
use zkw_model::{Model, Op, TensorInfo, Trace, WeightMode, model_id};
use zkw_verifier::InputSalt;

/// A small two-layer MLP with saturating and non-saturating requantizations.
pub fn small_mlp(mode: WeightMode) -> Model {
    Model::chain(
        "small",
        mode,
        TensorInfo {
            shape: vec![3],
            frac_bits: 4,
            bits: 8,
        },
        vec![
            Op::Dense(Dense {
                name: "fc1".into(),
                in_features: 3,
                out_features: 2,
                weights: vec![100, -128, 7, -3, 127, 55],
                weight_bits: 8,
                weight_frac_bits: 6,
                bias: vec![-500, 20],
                bias_bits: 12,
            }),
            Op::Requantize(Requantize { shift: 5, bits: 8 }),
            Op::Relu(Relu),
            Op::Dense(Dense {
                name: "fc2".into(),
                in_features: 2,
                out_features: 2,
                weights: vec![1, -1, 2, 3],
                weight_bits: 4,
                weight_frac_bits: 1,
                bias: vec![0, -3],
                bias_bits: 4,
            }),
            Op::Requantize(Requantize { shift: 0, bits: 8 }),
        ],
        mode.is_private().then(|| "17".repeat(31)),
    )
}

#[allow(unused_imports)]
pub use zkw_model::testing::{arb_input, arb_model};

/// The input salt of the tests' circuits.
pub const SALT: InputSalt = InputSalt::from_bytes([0x5a; 31]);

/// The circuit of a trace, with a fixed salt and job binding; `Err` when the trace cannot
/// even be encoded (a value outside its width).
pub fn try_circuit(model: &Model, trace: Trace) -> Result<InferenceCircuit<'_>, CircuitError> {
    let commitment = model_commitment(model, &model_id(model)).unwrap();
    InferenceCircuit::new(model, commitment, trace, &SALT, Fr::from(42u64))
}

/// The circuit of a trace, with a fixed salt and job binding.
pub fn circuit(model: &Model, trace: Trace) -> InferenceCircuit<'_> {
    try_circuit(model, trace).unwrap()
}

/// Synthesizes with matrices and assignment, LCs inlined, ready for `is_satisfied`.
pub fn synthesize(c: InferenceCircuit<'_>) -> ConstraintSystemRef<Fr> {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Prove {
        construct_matrices: true,
        generate_lc_assignments: false,
    });
    c.generate_constraints(cs.clone()).unwrap();
    cs.finalize();
    cs
}
