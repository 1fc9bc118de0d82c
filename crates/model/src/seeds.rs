//! Small valid models of every kind (feature `seeds`): the seeds the model-file fuzzers
//! mutate, in CI (`tests/fuzz_bytes.rs`) and under AFL++ (`fuzz/`, whose corpus is written
//! from them). One list, so that a new op kind is fuzzed in both places or fails a test here.
//! A feature of its own, without proptest, so the instrumented fuzz build stays small.

use crate::bounds::analyze;
use crate::ir::{Model, Node, TensorInfo, WeightMode};
use crate::ops::{Add, Op, Relu, Requantize, Reshape, examples};

/// The seed models, named: one per op kind (`ops::examples()`, each on the first of a few
/// input formats it accepts), a private-weights MLP (reshape, dense, requantize, relu, with a
/// salt) and a residual graph of two inputs and two outputs. Panics when an op kind has no
/// seed: a new op needs an input format here that it accepts.
pub fn seed_models() -> Vec<(String, Model)> {
    let info = |shape: Vec<usize>, frac_bits, bits| TensorInfo {
        shape,
        frac_bits,
        bits,
    };
    let candidates = [
        info(vec![2], 3, 8),
        info(vec![1, 2], 0, 8),
        info(vec![2, 3, 3], 2, 8),
        info(vec![3], 0, 8),
        info(vec![2, 2], 0, 2),
        info(vec![4], 0, 2),
        info(vec![2], 0, 2),
        info(vec![4], 1, 4),
    ];
    let mut models: Vec<(String, Model)> = examples()
        .into_iter()
        .map(|op| {
            let arity = op.semantics().arity();
            let model = candidates
                .iter()
                .map(|input| Model {
                    name: op.kind().into(),
                    weight_mode: WeightMode::Fixed,
                    inputs: vec![input.clone(); arity],
                    nodes: vec![Node {
                        name: op.kind().into(),
                        op: op.clone(),
                        inputs: (0..arity).collect(),
                    }],
                    outputs: vec![arity],
                    salt: None,
                })
                .find(|m| analyze(m).is_ok())
                .unwrap_or_else(|| panic!("no seed model for op {}", op.kind()));
            (format!("op_{}", op.kind()), model)
        })
        .collect();
    let dense = examples()
        .into_iter()
        .find(|o| o.kind() == "dense")
        .expect("a dense example");
    let mlp = Model::chain(
        "mlp",
        WeightMode::Private,
        info(vec![1, 2], 4, 8),
        vec![
            Op::Reshape(Reshape { shape: vec![2] }),
            dense,
            Op::Requantize(Requantize { shift: 3, bits: 8 }),
            Op::Relu(Relu),
        ],
        Some("ab".repeat(31)),
    );
    models.push(("mlp_private".into(), mlp));
    let residual = residual();
    models.push(("residual".into(), residual));
    models
}

/// A residual graph of two inputs and two outputs: `relu(x0) + x1`, and `x1` itself.
pub fn residual() -> Model {
    let info = TensorInfo {
        shape: vec![2],
        frac_bits: 2,
        bits: 8,
    };
    Model {
        name: "residual".into(),
        weight_mode: WeightMode::Fixed,
        inputs: vec![info.clone(), info],
        nodes: vec![
            Node {
                name: "relu".into(),
                op: Op::Relu(Relu),
                inputs: vec![0],
            },
            Node {
                name: "skip".into(),
                op: Op::Add(Add),
                inputs: vec![2, 1],
            },
        ],
        outputs: vec![3, 2],
        salt: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seed_model_is_valid_and_every_op_kind_has_one() {
        let seeds = seed_models();
        for (name, m) in &seeds {
            analyze(m).unwrap_or_else(|e| panic!("seed {name}: {e}"));
        }
        let kinds: std::collections::BTreeSet<&str> = seeds
            .iter()
            .flat_map(|(_, m)| m.nodes.iter().map(|n| n.op.kind()))
            .collect();
        let all: std::collections::BTreeSet<&str> = examples().iter().map(Op::kind).collect();
        assert_eq!(kinds, all);
        assert_eq!(seeds.len(), all.len() + 2);
    }
}
