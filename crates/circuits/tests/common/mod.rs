//! Random and hand-made models for the circuit tests.

#![allow(dead_code)]

use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, OptimizationGoal, SynthesisMode,
};
use proptest::prelude::*;
use zkw_circuits::{CircuitError, Fr, InferenceCircuit, model_commitment};
use zkw_model::{Dense, Model, Op, Requantize, TensorInfo, Trace, WeightMode, model_id};
use zkw_verifier::InputSalt;

/// A small two-layer MLP with saturating and non-saturating requantizations.
pub fn small_mlp(mode: WeightMode) -> Model {
    Model {
        name: "small".into(),
        weight_mode: mode,
        input: TensorInfo {
            shape: vec![3],
            frac_bits: 4,
            bits: 8,
        },
        ops: vec![
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
            Op::Relu,
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
        salt: (mode == WeightMode::Private).then(|| "17".repeat(31)),
    }
}

/// A proptest strategy for random MLP chains (1–2 dense layers, random shifts, optional ReLU).
pub fn arb_model() -> impl Strategy<Value = Model> {
    let layer = |inp: usize| {
        (1usize..4, 2u32..9, 0u32..12, any::<bool>()).prop_flat_map(
            move |(out, wbits, shift, relu)| {
                let half = 1i64 << (wbits - 1);
                (
                    prop::collection::vec(-half..half, inp * out),
                    prop::collection::vec(-2000i64..2000, out),
                    Just((out, wbits, shift, relu)),
                )
            },
        )
    };
    (1usize..5, 2u32..9, any::<bool>())
        .prop_flat_map(move |(inp, in_bits, private)| (Just((inp, in_bits, private)), layer(inp)))
        .prop_flat_map(move |(head, l1)| {
            let out1 = l1.2.0;
            (Just(head), Just(l1), prop::option::of(layer(out1)))
        })
        .prop_map(|((inp, in_bits, private), l1, l2)| {
            let mut ops = Vec::new();
            let mut in_features = inp;
            for (k, (weights, bias, (out, wbits, shift, relu))) in
                std::iter::once(l1).chain(l2).enumerate()
            {
                ops.push(Op::Dense(Dense {
                    name: format!("fc{k}"),
                    in_features,
                    out_features: out,
                    weights,
                    weight_bits: wbits,
                    weight_frac_bits: 0,
                    bias,
                    bias_bits: 12,
                }));
                ops.push(Op::Requantize(Requantize { shift, bits: 8 }));
                if relu {
                    ops.push(Op::Relu);
                }
                in_features = out;
            }
            Model {
                name: "random".into(),
                weight_mode: if private {
                    WeightMode::Private
                } else {
                    WeightMode::Fixed
                },
                input: TensorInfo {
                    shape: vec![inp],
                    frac_bits: 0,
                    bits: in_bits,
                },
                ops,
                salt: private.then(|| "5a".repeat(31)),
            }
        })
}

/// A random input for a model.
pub fn arb_input(model: &Model) -> impl Strategy<Value = Vec<i64>> + use<> {
    let half = 1i64 << (model.input.bits - 1);
    prop::collection::vec(-half..half, model.input.len())
}

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
