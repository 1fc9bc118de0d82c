//! `zkworker`, the root package: the end-to-end `benches/`, `examples/` and `tests/` that cut
//! across the workspace's crates, and this library — nothing but the locations of the
//! repository's test data, for those and for the crates' own tests (a dev-dependency only).
//! The crates themselves are used by their own names (`zkw_model`, `zkw_prover`, …); the map
//! of them is ARCHITECTURE.md.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

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
