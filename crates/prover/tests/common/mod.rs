//! Fixtures shared by the prover's integration tests.

#![allow(dead_code)]

use zkw_model::{Dense, Model, Op, Relu, Requantize, Reshape, TensorInfo, WeightMode};
use zkw_verifier::InputSalt;
use zkw_verifier::Job;

/// The client's input salt in the tests.
pub const SALT: InputSalt = InputSalt::from_bytes([0x33; 31]);

/// A 16 → 70 layer: more than 64 outputs, so the statement carries their digest.
pub fn wide(mode: WeightMode) -> Model {
    let weights = (0..16 * 70)
        .map(|i: i64| ((i * 37 + 11) % 255) - 127)
        .collect();
    Model::chain(
        "wide",
        mode,
        TensorInfo {
            shape: vec![16],
            frac_bits: 4,
            bits: 8,
        },
        vec![
            Op::Dense(Dense {
                name: "fc".into(),
                in_features: 16,
                out_features: 70,
                weights,
                weight_bits: 8,
                weight_frac_bits: 7,
                bias: (0..70).map(|j: i64| j * 13 - 400).collect(),
                bias_bits: 12,
            }),
            Op::Requantize(Requantize { shift: 9, bits: 8 }),
        ],
        (mode == WeightMode::Private).then(|| "cd".repeat(31)),
    )
}

/// A 4 → 3 → ReLU → 2 MLP whose values exercise saturation, negative weights and biases.
pub fn mlp(mode: WeightMode) -> Model {
    Model::chain(
        "tiny",
        mode,
        TensorInfo {
            shape: vec![1, 4],
            frac_bits: 5,
            bits: 8,
        },
        vec![
            Op::Reshape(Reshape { shape: vec![4] }),
            Op::Dense(Dense {
                name: "fc1".into(),
                in_features: 4,
                out_features: 3,
                weights: vec![12, -7, 100, -128, 5, 6, 7, 8, -50, 60, -70, 80],
                weight_bits: 8,
                weight_frac_bits: 6,
                bias: vec![300, -200, 1000],
                bias_bits: 12,
            }),
            Op::Requantize(Requantize { shift: 6, bits: 8 }),
            Op::Relu(Relu),
            Op::Dense(Dense {
                name: "fc2".into(),
                in_features: 3,
                out_features: 2,
                weights: vec![90, -30, 20, -100, 127, 1],
                weight_bits: 8,
                weight_frac_bits: 6,
                bias: vec![-40, 40],
                bias_bits: 8,
            }),
            Op::Requantize(Requantize { shift: 7, bits: 8 }),
        ],
        (mode == WeightMode::Private).then(|| "ab".repeat(31)),
    )
}

/// The job the tests prove.
pub fn job() -> Job {
    Job {
        job_id: "job-1".into(),
        worker_id: "worker-a".into(),
        client_nonce: "nonce-x".into(),
    }
}
