//! Dense: `acc[j] = bias[j] + Σ_i w[j][i] · x[i]`, exact (Gemm and MatMul with a constant
//! right operand). The accumulator is wide; a [`super::Requantize`] brings it back.

use serde::{Deserialize, Serialize};

use super::weighted::Weighted;
use super::{OpSemantics, Parameter};
use crate::tensor::Interval;
use crate::tensor::{TensorInfo, check_shape};

/// A fully connected layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dense {
    /// Name of the ONNX node this came from (for messages).
    pub name: String,
    /// Input features.
    pub in_features: usize,
    /// Output features.
    pub out_features: usize,
    /// Row-major `[out_features][in_features]` signed integers of `weight_bits` bits.
    pub weights: Vec<i64>,
    /// Signed width of every weight.
    pub weight_bits: u32,
    /// The weights stand for `w · 2^-weight_frac_bits`.
    pub weight_frac_bits: i32,
    /// One bias per output, at the accumulator's scale (input frac bits + weight frac bits).
    pub bias: Vec<i64>,
    /// Signed width of every bias value.
    pub bias_bits: u32,
}

impl Dense {
    fn weighted(&self) -> Weighted<'_> {
        Weighted {
            weights: &self.weights,
            weight_bits: self.weight_bits,
            weight_frac_bits: self.weight_frac_bits,
            bias: &self.bias,
            bias_bits: self.bias_bits,
        }
    }

    /// Row `j` of the weight matrix.
    pub fn row(&self, j: usize) -> &[i64] {
        &self.weights[j * self.in_features..(j + 1) * self.in_features]
    }
}

impl OpSemantics for Dense {
    fn arity(&self) -> usize {
        1
    }

    fn output_info(&self, inputs: &[&TensorInfo]) -> Result<TensorInfo, String> {
        let x = inputs[0];
        if self.in_features != x.len() {
            return Err(format!(
                "expects {} inputs but receives {} (shape {:?})",
                self.in_features,
                x.len(),
                x.shape
            ));
        }
        let weights = check_shape("the weight matrix", &[self.out_features, self.in_features])?;
        let frac_bits = self
            .weighted()
            .check(weights, self.out_features, x.frac_bits)?;
        Ok(TensorInfo {
            shape: vec![self.out_features],
            frac_bits,
            // Accumulators are wide; `bounds` gives their exact range.
            bits: 32,
        })
    }

    fn eval(&self, inputs: &[&[i64]]) -> Vec<i64> {
        let x = inputs[0];
        (0..self.out_features)
            .map(|j| self.bias[j] + self.row(j).iter().zip(x).map(|(w, v)| w * v).sum::<i64>())
            .collect()
    }

    fn bounds(&self, inputs: &[Interval], limit: i128) -> Result<Interval, i128> {
        let (mut lo, mut hi) = (i128::MAX, i128::MIN);
        for j in 0..self.out_features {
            let (rlo, rhi) = Weighted::output_interval(
                self.bias[j],
                self.row(j).iter().copied(),
                inputs[0],
                limit,
            )?;
            lo = lo.min(rlo);
            hi = hi.max(rhi);
        }
        Ok(Interval {
            lo: lo as i64,
            hi: hi as i64,
        })
    }

    fn macs(&self) -> usize {
        self.weights.len()
    }

    fn describe(&self) -> String {
        format!(
            "dense `{}` {}→{}",
            self.name, self.in_features, self.out_features
        )
    }

    fn parameters(&self) -> Vec<Parameter<'_>> {
        self.weighted().parameters()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d() -> Dense {
        Dense {
            name: "d".into(),
            in_features: 3,
            out_features: 2,
            weights: vec![1, 2, 3, -4, 5, -6],
            weight_bits: 8,
            weight_frac_bits: 0,
            bias: vec![10, -10],
            bias_bits: 16,
        }
    }

    #[test]
    fn dense_is_exact() {
        assert_eq!(
            d().eval(&[&[1, -1, 2]]),
            vec![10 + 1 - 2 + 6, -10 - 4 - 5 - 12]
        );
    }

    #[test]
    fn bounds_are_exact_per_row() {
        let x = Interval { lo: -2, hi: 3 };
        let b = d().bounds(&[x], i128::MAX).unwrap();
        // Each term at its own extreme: row 0 gives the top, row 1 the bottom.
        assert_eq!(b.hi, 10 + 3 + 6 + 9);
        assert_eq!(b.lo, -10 - 12 - 10 - 18);
        assert_eq!(d().bounds(&[x], 30), Err(10 + 15 * 3)); // row 1: |b| + Σ|w| · max|x|
    }
}
