//! Dense: `acc[j] = bias[j] + Σ_i w[j][i] · x[i]`, exact (Gemm and MatMul with a constant
//! right operand). The accumulator is wide; a [`super::Requantize`] brings it back.

use serde::{Deserialize, Serialize};

use super::{OpSemantics, Parameter};
use crate::bounds::Interval;
use crate::ir::{TensorInfo, check_bits, check_frac, check_shape, check_values};

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
        if self.weights.len() != weights || self.bias.len() != self.out_features {
            return Err(format!(
                "has {} weights and {} biases, expected {} and {}",
                self.weights.len(),
                self.bias.len(),
                weights,
                self.out_features
            ));
        }
        check_bits("weight", self.weight_bits)?;
        if self.bias_bits == 0 || self.bias_bits > 32 {
            return Err(format!("bias width {} is outside 1..=32", self.bias_bits));
        }
        check_values("weight", &self.weights, self.weight_bits)?;
        check_values("bias", &self.bias, self.bias_bits)?;
        check_frac("the weights", Some(self.weight_frac_bits))?;
        Ok(TensorInfo {
            shape: vec![self.out_features],
            frac_bits: check_frac("the output", x.frac_bits.checked_add(self.weight_frac_bits))?,
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
        let x = inputs[0];
        let xmax = x.abs_max() as i128;
        let (mut lo, mut hi) = (i128::MAX, i128::MIN);
        for j in 0..self.out_features {
            let b = self.bias[j] as i128;
            // Every partial sum, in any order, is bounded by |b| + Σ|w|·max|x|.
            let worst =
                b.abs() + self.row(j).iter().map(|&w| (w as i128).abs()).sum::<i128>() * xmax;
            if worst > limit {
                return Err(worst);
            }
            let (mut rlo, mut rhi) = (b, b);
            for &w in self.row(j) {
                let (a, c) = (w as i128 * x.lo as i128, w as i128 * x.hi as i128);
                rlo += a.min(c);
                rhi += a.max(c);
            }
            lo = lo.min(rlo);
            hi = hi.max(rhi);
        }
        Ok(Interval {
            lo: lo as i64,
            hi: hi as i64,
        })
    }

    fn describe(&self) -> String {
        format!(
            "dense `{}` {}→{}",
            self.name, self.in_features, self.out_features
        )
    }

    fn parameters(&self) -> Vec<Parameter<'_>> {
        vec![
            Parameter {
                what: "weight",
                values: &self.weights,
                bits: self.weight_bits,
            },
            Parameter {
                what: "bias",
                values: &self.bias,
                bits: self.bias_bits,
            },
        ]
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
