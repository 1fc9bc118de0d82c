//! The float reference: the original ONNX graph run by tract, batch 1.
//!
//! Quantization error is measured against this, not against our own float chain, so a mistake in
//! the importer shows up as a large error instead of being compared with itself.

use std::path::Path;

use tract_onnx::prelude::*;

use crate::error::OnnxError;

/// Runs the ONNX model in `f32` on one input per graph input (`x` holds them concatenated;
/// `input_shapes` exclude the batch); returns the outputs concatenated.
pub fn run_float_reference(
    path: &Path,
    input_shapes: &[Vec<usize>],
    has_batch: bool,
    x: &[f64],
) -> Result<Vec<f64>, OnnxError> {
    let err = |e: TractError| OnnxError::Onnx(format!("float reference: {e:#}"));
    let shapes: Vec<Vec<usize>> = input_shapes
        .iter()
        .map(|s| {
            let mut shape = s.clone();
            if has_batch {
                shape.insert(0, 1);
            }
            shape
        })
        .collect();
    let mut model = tract_onnx::onnx().model_for_path(path).map_err(err)?;
    for (i, shape) in shapes.iter().enumerate() {
        model = model
            .with_input_fact(i, f32::fact(shape).into())
            .map_err(err)?;
    }
    let plan = model
        .into_optimized()
        .and_then(|m| m.into_runnable())
        .map_err(err)?;
    let mut inputs = TVec::new();
    let mut rest = x;
    for shape in &shapes {
        let n: usize = shape.iter().product();
        let (head, tail) = rest.split_at(n.min(rest.len()));
        let data: Vec<f32> = head.iter().map(|&v| v as f32).collect();
        inputs.push(Tensor::from_shape(shape, &data).map_err(err)?.into());
        rest = tail;
    }
    let outs = plan.run(inputs).map_err(err)?;
    let mut all = Vec::new();
    for out in outs.iter() {
        let out = out.cast_to::<f32>().map_err(err)?;
        all.extend(
            out.to_plain_array_view::<f32>()
                .map_err(err)?
                .iter()
                .map(|&v| v as f64),
        );
    }
    Ok(all)
}

/// How far the quantized model's output is from the float reference on one input.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizationError {
    /// tract's float output.
    pub float: Vec<f64>,
    /// The quantized model's dequantized output.
    pub quantized: Vec<f64>,
    /// Largest absolute difference.
    pub max_abs: f64,
    /// Largest absolute float output (the output's range).
    pub float_range: f64,
    /// One quantization step of the output, `2^-frac_bits`.
    pub step: f64,
}

impl QuantizationError {
    /// `max_abs` relative to the output's range.
    pub fn relative(&self) -> f64 {
        if self.float_range > 0.0 {
            self.max_abs / self.float_range
        } else {
            self.max_abs
        }
    }
}

/// Runs both the ONNX float reference and the quantized model on `x` and compares them.
pub fn quantization_error(
    onnx_path: &Path,
    graph: &super::FloatGraph,
    model: &zkw_model::Model,
    x: &[f64],
) -> Result<QuantizationError, OnnxError> {
    let float = run_float_reference(onnx_path, &graph.inputs, graph.has_batch, x)?;
    let q = zkw_model::input::quantize_input(&model.input_info(), x)?;
    let trace = zkw_model::run(model, &q)?;
    let out = model.output_info()?;
    let quantized: Vec<f64> = trace
        .output()
        .iter()
        .map(|&v| zkw_model::input::dequantize(v, out.frac_bits))
        .collect();
    if quantized.len() != float.len() {
        return Err(OnnxError::Invalid(format!(
            "the quantized model outputs {} values, the ONNX model {}",
            quantized.len(),
            float.len()
        )));
    }
    let max_abs = float
        .iter()
        .zip(&quantized)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    let float_range = float.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    Ok(QuantizationError {
        float,
        quantized,
        max_abs,
        float_range,
        step: (-(out.frac_bits as f64)).exp2(),
    })
}
