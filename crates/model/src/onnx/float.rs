//! The float view of an imported graph: what ONNX says the model computes, in `f64`.

use crate::error::ModelError;

/// One op of the imported float chain.
#[derive(Debug, Clone, PartialEq)]
pub enum FloatOp {
    /// `y = W x + b`, `W` row-major `[out][in]`.
    Dense {
        /// ONNX node name.
        name: String,
        /// Input features.
        in_features: usize,
        /// Output features.
        out_features: usize,
        /// Row-major weights.
        weights: Vec<f64>,
        /// One bias per output.
        bias: Vec<f64>,
    },
    /// `max(0, x)`.
    Relu,
    /// New shape, batch excluded; data order unchanged.
    Reshape {
        /// The new shape.
        shape: Vec<usize>,
    },
}

/// An imported ONNX graph as a chain of float ops over one input.
#[derive(Debug, Clone, PartialEq)]
pub struct FloatGraph {
    /// Model name (file stem).
    pub name: String,
    /// Input shape, batch excluded.
    pub input_shape: Vec<usize>,
    /// Whether the ONNX input has a leading batch dimension.
    pub has_batch: bool,
    /// The chain.
    pub ops: Vec<FloatOp>,
}

impl FloatGraph {
    /// Number of input elements.
    pub fn input_len(&self) -> usize {
        self.input_shape.iter().product()
    }

    /// Runs the chain in `f64`; returns the output of every op.
    pub fn run(&self, x: &[f64]) -> Result<Vec<Vec<f64>>, ModelError> {
        if x.len() != self.input_len() {
            return Err(ModelError::InputLength {
                expected: self.input_len(),
                got: x.len(),
                shape: self.input_shape.clone(),
            });
        }
        let mut out: Vec<Vec<f64>> = Vec::with_capacity(self.ops.len());
        for op in &self.ops {
            let cur = out.last().map(Vec::as_slice).unwrap_or(x);
            let next = match op {
                FloatOp::Dense {
                    in_features,
                    out_features,
                    weights,
                    bias,
                    ..
                } => (0..*out_features)
                    .map(|j| {
                        let row = &weights[j * in_features..(j + 1) * in_features];
                        bias[j] + row.iter().zip(cur).map(|(w, v)| w * v).sum::<f64>()
                    })
                    .collect(),
                FloatOp::Relu => cur.iter().map(|v| v.max(0.0)).collect(),
                FloatOp::Reshape { .. } => cur.to_vec(),
            };
            out.push(next);
        }
        Ok(out)
    }
}
