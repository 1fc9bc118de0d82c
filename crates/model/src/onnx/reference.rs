//! The float reference: the original ONNX graph run by tract, batch 1.
//!
//! Quantization error is measured against this, not against our own float chain, so a mistake in
//! the importer shows up as a large error instead of being compared with itself.

use std::path::Path;

use tract_onnx::prelude::*;

use crate::error::ModelError;

/// Runs the ONNX model in `f32` on one input; `input_shape` excludes the batch.
pub fn run_float_reference(
    path: &Path,
    input_shape: &[usize],
    has_batch: bool,
    x: &[f64],
) -> Result<Vec<f64>, ModelError> {
    let err = |e: TractError| ModelError::Onnx(format!("float reference: {e:#}"));
    let mut shape: Vec<usize> = input_shape.to_vec();
    if has_batch {
        shape.insert(0, 1);
    }
    let plan = tract_onnx::onnx()
        .model_for_path(path)
        .and_then(|m| m.with_input_fact(0, f32::fact(&shape).into()))
        .and_then(|m| m.into_optimized())
        .and_then(|m| m.into_runnable())
        .map_err(err)?;
    let data: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let input = Tensor::from_shape(&shape, &data).map_err(err)?;
    let out = plan.run(tvec!(input.into())).map_err(err)?;
    let out = out[0].cast_to::<f32>().map_err(err)?;
    Ok(out
        .to_plain_array_view::<f32>()
        .map_err(err)?
        .iter()
        .map(|&v| v as f64)
        .collect())
}
