//! `zkworker`: a verifiable-compute worker. This root crate re-exports the workspace's crates so
//! examples, benches and integration tests can use one name, and locates the shared
//! benchmark and conformance models.
//!
//! | crate | noun |
//! |---|---|
//! | [`model`] | the quantized model IR, its reference semantics, bounds, ONNX import |
//! | [`circuits`] | the R1CS gadgets and the inference circuit |
//! | [`prover`] | Groth16 setup, keys and proving |
//! | [`verifier`] | receipts, the statement encoding, verification |
//! | [`worker`] | the worker daemon: jobs over gRPC, persisted, proved, signed |
#![deny(missing_docs)]

use std::path::{Path, PathBuf};

pub use zkw_circuits as circuits;
pub use zkw_model as model;
pub use zkw_prover as prover;
pub use zkw_verifier as verifier;
pub use zkw_worker as worker;

/// The shared folder of benchmark and conformance models: `$ZKW_SHARED`, else `../shared`
/// beside the checkout. `None` when it does not exist.
pub fn shared_dir() -> Option<PathBuf> {
    let p = std::env::var_os("ZKW_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    p.is_dir().then_some(p)
}

/// [`shared_dir`] for tests: `None` (with a visible skip message) when absent, and a panic
/// instead under `CI=true`, where the folder must be there.
pub fn shared_dir_or_skip(test: &str) -> Option<PathBuf> {
    match shared_dir() {
        Some(p) => Some(p),
        None if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{test}: the shared folder is missing (set ZKW_SHARED); CI requires it")
        }
        None => {
            eprintln!("SKIPPED {test}: shared folder not found (set ZKW_SHARED to run it)");
            None
        }
    }
}
