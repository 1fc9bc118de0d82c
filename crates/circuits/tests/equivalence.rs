//! Reference == circuit: for random MLPs and inputs, the circuit built from the reference trace
//! is satisfied and its public output equals the reference output; a trace that differs from
//! the reference anywhere never yields a satisfied circuit for another output.

mod common;

use ark_ff::{BigInteger, PrimeField};
use common::{arb_input, arb_model, circuit, small_mlp, synthesize, try_circuit};
use proptest::prelude::*;
use zkw_model::{WeightMode, run};
use zkw_verifier::statement::OUTPUT_START;
use zkw_verifier::{Fr, Width};

/// The output values packed in public-input elements, read back bit by bit: `bits` bits a
/// value, least significant first, offset by `2^(bits-1)`.
fn unpack(elements: &[Fr], width: Width, len: usize) -> Vec<i64> {
    let bits = width.bits() as usize;
    let mut out = Vec::new();
    for e in elements {
        let le = e.into_bigint().to_bits_le();
        let mut k = 0;
        while k < width.per_element() && out.len() < len {
            let v = (0..bits).fold(0i64, |acc, b| acc | (i64::from(le[k * bits + b]) << b));
            out.push(v - (1i64 << (bits - 1)));
            k += 1;
        }
        // Nothing above the last packed value.
        assert!(le[k * bits..].iter().all(|b| !b));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn circuit_accepts_the_reference_trace((model, input) in arb_model().prop_flat_map(|m| {
        let i = arb_input(&m);
        (Just(m), i)
    })) {
        let trace = run(&model, &input).unwrap();
        let c = circuit(&model, trace.clone());
        let statement = c.statement().clone();
        prop_assert_eq!(&statement.output, &trace.output());
        let publics = statement.public_inputs().unwrap();
        let elements = &publics[OUTPUT_START..statement.job_binding_index()];
        prop_assert_eq!(unpack(elements, statement.output_width, trace.output().len()), trace.output());
        let cs = synthesize(c);
        prop_assert!(cs.is_satisfied().unwrap(), "{:?}", cs.which_is_unsatisfied().unwrap());
        // The assignment's instance part is exactly the statement's encoding.
        let instance = cs.instance_assignment().unwrap();
        prop_assert_eq!(&instance[1..], &publics[..]);
    }

    #[test]
    fn a_corrupted_trace_never_proves_another_output((model, input, pick) in arb_model().prop_flat_map(|m| {
        let i = arb_input(&m);
        (Just(m), i, any::<prop::sample::Index>())
    })) {
        let mut trace = run(&model, &input).unwrap();
        // Every value of every node's output (the inputs are the statement's own).
        let slots: Vec<(usize, usize)> = (0..model.nodes.len())
            // A reshape's output is the same values as its input: nothing to corrupt there.
            .filter(|&n| !matches!(model.nodes[n].op, zkw_model::Op::Reshape(_)))
            .map(|n| model.node_output(n))
            .flat_map(|t| (0..trace.tensors[t].len()).map(move |k| (t, k)))
            .collect();
        let reference = trace.output();
        let (s, k) = slots[pick.index(slots.len())];
        trace.tensors[s][k] += 1;
        let last = model.outputs.contains(&s);
        // A value pushed outside its width has no statement at all: refused before proving.
        let Ok(c) = try_circuit(&model, trace) else {
            return Ok(());
        };
        let claimed = c.statement().output.clone();
        let cs = synthesize(c);
        // An intermediate value the circuit recomputes (e.g. a requantize that cannot saturate)
        // may be ignored; what must never happen is a satisfied circuit for a wrong output.
        if cs.is_satisfied().unwrap() {
            prop_assert!(!last, "a corrupted output was accepted");
            prop_assert_eq!(claimed, reference);
        }
    }
}

#[test]
fn small_models_are_satisfied_in_every_weight_mode() {
    for mode in [
        WeightMode::Fixed,
        WeightMode::Private,
        WeightMode::Committed,
    ] {
        let model = small_mlp(mode);
        for input in [[0, 0, 0], [127, -128, 5], [-128, 127, -1], [127, 127, 127]] {
            let trace = run(&model, &input).unwrap();
            let cs = synthesize(circuit(&model, trace));
            assert!(cs.is_satisfied().unwrap(), "{mode}: {input:?}");
        }
    }
}
