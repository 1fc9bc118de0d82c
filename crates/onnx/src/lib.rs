//! `zkw-onnx`: ONNX in — parse the graph into a float graph, calibrate, quantize to the integer IR.
//!
//! Like tract's importer, this crate turns ONNX nodes into `zkw-model`'s ops and never leaks
//! into the core IR: the model crate knows nothing of ONNX, protobuf or floats, and a client
//! that only loads, runs or proves models never links tract. [`import_float_graph`] reads the
//! ONNX protobuf (decoded by tract-onnx, a maintained parser) into a [`FloatGraph`];
//! [`quantize`] chooses power-of-two scales from a calibration input and emits a
//! [`zkw_model::Model`]; [`run_float_reference`] runs the original ONNX graph in floats with
//! tract, which is what quantization error is measured against. [`registry`] is the one table
//! of ONNX operator types — which we read, how, and which we refuse — with one import module
//! per op under it (`registry/<op>.rs`).
//!
//! Files: `proto.rs` (attributes and constants of a protobuf node), `import.rs` (the graph
//! walk), `ctx.rs` (what an import module reads and writes), `fold.rs` (constant folding),
//! `elementwise.rs` and `function.rs` (the element-wise functions rows name), `movement.rs`,
//! `layers.rs` and `compose.rs` (shared lowerings), `float.rs` (the float graph and its
//! executor), `quantize.rs` (calibration and scales), `lower/` (each float op lowered to IR
//! ops, one module an op), `reference.rs` (tract's float run), [`conformance`] (external
//! cases held to another runtime's output), `error.rs`.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod compose;
pub mod conformance;
mod ctx;
mod elementwise;
pub mod error;
mod float;
mod fold;
mod function;
mod import;
mod layers;
mod lower;
mod movement;
mod proto;
mod quantize;
mod reference;
pub mod registry;

pub use elementwise::{Binary, Expr, Unary};
pub use error::OnnxError;
pub use float::{FloatGraph, FloatNode, FloatOp};
pub use import::import_float_graph;
pub use quantize::{
    LayerError, QuantizeOptions, TensorMap, layer_errors, quantize, quantize_calibrated,
};
pub use reference::{
    QuantizationError, TOLERANCE_OF_RANGE, TOLERANCE_STEPS, quantization_error, run_float_reference,
};

use std::path::Path;

use zkw_model::ir::Model;

/// Imports an ONNX file and quantizes it: the whole `zkw model import` in one call.
pub fn import_onnx(
    path: &Path,
    options: &QuantizeOptions,
    calibration: Option<&[f64]>,
) -> Result<Model, OnnxError> {
    let graph = import_float_graph(path)?;
    quantize(&graph, options, calibration)
}
