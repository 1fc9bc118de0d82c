//! Fixtures shared by the prover's integration tests.

#![allow(dead_code)]

use zkw_model::ops::{Dense, Requantize};
use zkw_model::{Model, Op, TensorInfo, WeightMode};
use zkw_verifier::InputSalt;
use zkw_verifier::Job;

/// The client's input salt in the tests.
pub const SALT: InputSalt = InputSalt::from_bytes([0x33; 31]);

/// A 16 → 70 layer: more than 62 8-bit outputs, so the statement carries their digest.
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
        mode.is_private().then(|| "cd".repeat(31)),
    )
}

#[allow(unused_imports)] // not every test binary uses it
pub use zkw_model::testing::mlp;

/// The job the tests prove.
pub fn job() -> Job {
    Job {
        job_id: "job-1".into(),
        worker_id: "worker-a".into(),
        client_nonce: "nonce-x".into(),
        request: None,
    }
}
