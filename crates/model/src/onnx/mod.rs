//! ONNX in: parse the graph into a float graph, calibrate, quantize to the integer IR.
//!
//! Like tract's importer, this module turns ONNX nodes into our ops and never leaks into the
//! core IR: `import` reads the ONNX protobuf (decoded by tract-onnx, a maintained parser) into a
//! [`FloatGraph`]; [`quantize`] chooses power-of-two scales from a calibration input and emits a
//! [`crate::Model`]; `reference` runs the original ONNX graph in floats with tract, which is
//! what quantization error is measured against.

mod compose;
mod elementwise;
mod float;
mod fold;
mod import;
mod layers;
mod movement;
mod ops;
mod proto;
mod quantize;
mod reference;
pub mod registry;

pub use elementwise::{Binary, Expr, Unary};
pub use float::{FloatGraph, FloatNode, FloatOp};
pub use import::import_float_graph;
pub use quantize::{
    LayerError, QuantizeOptions, TensorMap, layer_errors, quantize, quantize_calibrated,
};
pub use reference::{QuantizationError, quantization_error, run_float_reference};

use std::path::Path;

use crate::error::ModelError;
use crate::ir::Model;

/// Imports an ONNX file and quantizes it: the whole `zkw model import` in one call.
pub fn import_onnx(
    path: &Path,
    options: &QuantizeOptions,
    calibration: Option<&[f64]>,
) -> Result<Model, ModelError> {
    let graph = import_float_graph(path)?;
    quantize(&graph, options, calibration)
}
