//! `zkworker`: a verifiable-compute worker. This root crate re-exports the workspace's crates so
//! examples, benches and integration tests can use one name, and locates the benchmark and
//! conformance models kept in the repository.
//!
//! | crate | noun |
//! |---|---|
//! | [`model`] | the quantized model IR, its reference semantics, bounds, the model file |
//! | [`onnx`] | ONNX import: float graph, calibration, quantization |
//! | [`circuits`] | the R1CS gadgets and the inference circuit |
//! | [`prover`] | Groth16 setup, keys and proving |
//! | [`verifier`] | receipts, the statement encoding, verification |
//! | [`settlement`] | registry, licences, the ledger |
//! | [`worker`] | the worker daemon: jobs over gRPC, persisted, proved, signed |
#![deny(missing_docs)]
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

pub use zkw_circuits as circuits;
pub use zkw_model as model;
pub use zkw_onnx as onnx;
pub use zkw_prover as prover;
pub use zkw_settlement as settlement;
pub use zkw_verifier as verifier;
pub use zkw_worker as worker;

/// The repository's root (where `tests/` and `benches/` live).
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The external ONNX conformance cases (EZKL's examples, with float references):
/// `tests/conformance/ezkl/`.
pub fn conformance_dir() -> PathBuf {
    root().join("tests/conformance/ezkl")
}

/// The benchmark models: `benches/models/`.
pub fn bench_models_dir() -> PathBuf {
    root().join("benches/models")
}
