//! The circuit's structure depends on the model alone: setup synthesizes it over an all-zero,
//! unsalted input, proving over the real trace, salt and job — the matrices must be the same,
//! or keys made at setup would not fit a job's assignment. And `inspect`'s per-section
//! breakdown accounts for every constraint.

mod common;

use ark_relations::gr1cs::R1CS_PREDICATE_LABEL;
use common::{arb_input, arb_model, circuit, small_mlp, synthesize};
use proptest::prelude::*;
use zkw_circuits::circuit::constraint_breakdown;
use zkw_circuits::{InferenceCircuit, model_commitment};
use zkw_model::{WeightMode, model_id, run};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn setup_and_proving_synthesize_the_same_matrices((model, input) in arb_model().prop_flat_map(|m| {
        let i = arb_input(&m);
        (Just(m), i)
    })) {
        let commitment = model_commitment(&model, &model_id(&model)).unwrap();
        let setup = InferenceCircuit::for_setup(&model, commitment).unwrap();
        prop_assert_eq!(setup.trace().input().iter().filter(|&&v| v != 0).count(), 0);
        let setup = setup.synthesize_for_matrices().unwrap();
        let job = synthesize(circuit(&model, run(&model, &input).unwrap()));
        prop_assert_eq!(setup.num_instance_variables(), job.num_instance_variables());
        prop_assert_eq!(setup.num_witness_variables(), job.num_witness_variables());
        prop_assert_eq!(setup.num_constraints(), job.num_constraints());
        let a = setup.to_matrices().unwrap().remove(R1CS_PREDICATE_LABEL).unwrap();
        let b = job.to_matrices().unwrap().remove(R1CS_PREDICATE_LABEL).unwrap();
        prop_assert!(a == b, "the matrices depend on the trace");
    }
}

#[test]
fn the_breakdown_names_every_section_and_sums_to_the_total() {
    for mode in [
        WeightMode::Fixed,
        WeightMode::Private,
        WeightMode::Committed,
    ] {
        let model = small_mlp(mode);
        let commitment = model_commitment(&model, &model_id(&model)).unwrap();
        let parts = constraint_breakdown(&model, commitment).unwrap();
        let total = InferenceCircuit::for_setup(&model, commitment)
            .unwrap()
            .synthesize_for_matrices()
            .unwrap()
            .num_constraints();
        assert_eq!(parts.iter().map(|(_, n)| n).sum::<usize>(), total, "{mode}");
        let names: Vec<&str> = parts.iter().map(|(s, _)| s.as_str()).collect();
        let mut want = vec![];
        if mode == WeightMode::Private {
            want.push("weight and bias range checks");
        }
        want.extend([
            "model commitment",
            "input range checks",
            "input digest (Poseidon)",
            "node #0: dense `fc1` 3→2",
            "node #1: requantize >>5 to 8 bits",
            "node #2: relu",
            "node #3: dense `fc2` 2→2",
            "node #4: requantize >>0 to 8 bits",
            "output and job binding",
        ]);
        assert_eq!(names, want, "{mode}");
        // Each input value costs its 8 range bits and the tie to its own witness; fixed
        // weights cost nothing; the commitment is one equality in fixed mode.
        let get = |what: &str| parts.iter().find(|(s, _)| s == what).unwrap().1;
        assert_eq!(get("input range checks"), 3 * 9, "{mode}");
        // The two outputs pack to one public input: one equality, and one for the binding.
        assert_eq!(get("output and job binding"), 1 + 1, "{mode}");
        if mode == WeightMode::Fixed {
            assert_eq!(get("model commitment"), 1);
            assert_eq!(get("node #0: dense `fc1` 3→2"), 0);
        } else if mode == WeightMode::Committed {
            // The weights are committed wires: no range check, no commitment in the circuit,
            // one product per multiply-accumulate.
            assert_eq!(get("model commitment"), 1);
            assert_eq!(get("node #0: dense `fc1` 3→2"), 6);
        } else {
            assert_eq!(
                get("weight and bias range checks"),
                6 * 8 + 2 * 12 + 4 * 4 + 2 * 4
            );
            assert_eq!(get("node #0: dense `fc1` 3→2"), 6);
        }
    }
}
