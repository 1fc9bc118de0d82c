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

/// The tolerance of a quantized model: its output may differ from the float reference's by
/// this share of the float output's range…
pub const TOLERANCE_OF_RANGE: f64 = 0.05;
/// …plus this many quantization steps of the output.
pub const TOLERANCE_STEPS: f64 = 2.0;

impl QuantizationError {
    /// Compares a float reference's output with the quantized model's (dequantized) output at
    /// `frac_bits`: the one metric the importer, `zkw model import`, the demo and the
    /// conformance run all report.
    pub fn between(
        float: Vec<f64>,
        quantized: Vec<f64>,
        frac_bits: i32,
    ) -> Result<Self, OnnxError> {
        if quantized.len() != float.len() {
            return Err(OnnxError::Invalid(format!(
                "the quantized model outputs {} values, the float reference {}",
                quantized.len(),
                float.len()
            )));
        }
        // `f64::max` drops a NaN: fold by hand so that a NaN anywhere makes the error NaN
        // (and so never within tolerance).
        let max_abs = float
            .iter()
            .zip(&quantized)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, |m: f64, d| {
                if m.is_nan() || d.is_nan() {
                    f64::NAN
                } else {
                    m.max(d)
                }
            });
        let float_range = float.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        Ok(QuantizationError {
            float,
            quantized,
            max_abs,
            float_range,
            step: (-(frac_bits as f64)).exp2(),
        })
    }

    /// The largest error the tolerance allows here: [`TOLERANCE_OF_RANGE`] of the range plus
    /// [`TOLERANCE_STEPS`] steps.
    pub fn tolerance(&self) -> f64 {
        TOLERANCE_OF_RANGE * self.float_range + TOLERANCE_STEPS * self.step
    }

    /// Whether every value is within [`QuantizationError::tolerance`]; a NaN anywhere is not
    /// (only a comparable error passes).
    pub fn within_tolerance(&self) -> bool {
        self.max_abs
            .partial_cmp(&self.tolerance())
            .is_some_and(|o| o.is_le())
    }

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
    QuantizationError::between(float, quantized, out.frac_bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tolerance_is_five_percent_of_the_range_and_two_steps() {
        // Range 10, step 2^-2: tolerance 0.5 + 0.5.
        let e = QuantizationError::between(vec![10.0, -4.0], vec![9.0, -4.25], 2).unwrap();
        assert_eq!((e.max_abs, e.float_range, e.step), (1.0, 10.0, 0.25));
        assert_eq!(e.tolerance(), 1.0);
        assert!(e.within_tolerance());
        assert_eq!(e.relative(), 0.1);
        let e = QuantizationError::between(vec![10.0, -4.0], vec![8.75, -4.0], 2).unwrap();
        assert!(!e.within_tolerance());
        // A NaN is never within tolerance.
        for (float, quantized) in [
            ([10.0, f64::NAN], [10.0, 0.0]),
            ([f64::NAN, 1.0], [0.0, 1.0]),
        ] {
            let e = QuantizationError::between(float.into(), quantized.into(), 2).unwrap();
            assert!(e.max_abs.is_nan() && !e.within_tolerance(), "{e:?}");
        }
        let err = QuantizationError::between(vec![1.0], vec![1.0, 2.0], 0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid model: the quantized model outputs 2 values, the float reference 1"
        );
    }
}
