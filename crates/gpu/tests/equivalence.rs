//! GPU == reference, to the bit, for every tensor of the trace: on the shared random graphs
//! (every op and neighbour pairing), on one-op models with wide random shapes and inputs at the
//! edges of their ranges, and on batches.

mod common;

use proptest::prelude::*;
use zkw_model::testing::{arb_edge_input, arb_input, arb_model, arb_op_model};
use zkw_model::{Executor, Model, Reference};

fn same_trace(model: &Model, x: &[i64]) -> Result<(), TestCaseError> {
    let Some(gpu) = common::gpu() else {
        return Ok(());
    };
    let want = Reference.run(model, x).unwrap();
    let got = gpu.run(model, x).unwrap();
    prop_assert_eq!(got.tensors.len(), want.tensors.len());
    for (t, (g, w)) in got.tensors.iter().zip(&want.tensors).enumerate() {
        prop_assert_eq!(g, w, "tensor #{}", t);
    }
    prop_assert_eq!(got, want);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_graphs((m, x) in arb_model().prop_flat_map(|m| {
        let x = arb_input(&m);
        (Just(m), x)
    })) {
        same_trace(&m, &x)?;
    }

    #[test]
    fn every_op_over_wide_shapes_and_edge_values((m, x) in arb_op_model().prop_flat_map(|m| {
        let x = arb_edge_input(&m);
        (Just(m), x)
    })) {
        same_trace(&m, &x)?;
    }

    #[test]
    fn batches_equal_one_by_one((m, xs) in arb_op_model().prop_flat_map(|m| {
        let xs = prop::collection::vec(arb_edge_input(&m), 1..70);
        (Just(m), xs)
    })) {
        let Some(gpu) = common::gpu() else {
            return Ok(());
        };
        let got = gpu.run_batch(&m, &xs).unwrap();
        prop_assert_eq!(got.len(), xs.len());
        for (g, x) in got.iter().zip(&xs) {
            prop_assert_eq!(g, &Reference.run(&m, x).unwrap());
        }
    }
}
