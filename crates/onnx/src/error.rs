//! Typed errors of ONNX import and quantization.
//!
//! The importer's own failures (an operator we cannot lower, a file that is not ONNX, a graph
//! whose shapes or attributes do not fit together) are named here; a failure of the integer IR
//! underneath (bounds, validation) passes through unchanged as [`OnnxError::Model`], so the
//! core crate's [`ModelError`] never needs to know that ONNX exists.

use std::path::PathBuf;

use zkw_model::ModelError;

/// Everything that can go wrong while importing, calibrating or quantizing an ONNX model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OnnxError {
    /// The ONNX graph uses an operator zkworker has no lowering for.
    #[error("unsupported ONNX op `{op_type}` (node `{node}`)")]
    UnsupportedOp {
        /// ONNX operator type, e.g. `Conv`.
        op_type: String,
        /// The node's name in the graph (or its output name when unnamed).
        node: String,
    },
    /// The ONNX file could not be read or is not a model we can interpret.
    #[error("cannot import ONNX model: {0}")]
    Onnx(String),
    /// The graph is inconsistent (shapes, attributes, constants) or cannot be quantized.
    #[error("invalid model: {0}")]
    Invalid(String),
    /// A conformance case has no float reference to be held to.
    #[error("no float reference (expected.json): {0}")]
    NoReference(std::io::Error),
    /// A conformance case's folder holds a malformed file.
    #[error("{}: {reason}", path.display())]
    BadCase {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Reading a file failed.
    // The OS error is part of the message and deliberately not a `source`: a report that walks
    // the chain (anyhow's `{:#}`) would print it twice.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
    /// The integer model the importer built was refused by the IR (validation, bounds), or
    /// running it failed.
    #[error(transparent)]
    Model(#[from] ModelError),
}

impl OnnxError {
    pub(crate) fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        OnnxError::Io {
            path: path.into(),
            error,
        }
    }
}
