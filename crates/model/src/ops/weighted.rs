//! What the two weighted layers ([`super::Dense`], [`super::Conv`]) share: every output is
//! `bias + Σ w·x` over some of the input's values, with the weights and the biases as the
//! committed parameters. One place for their checks, their per-output bounds and their
//! parameter list, so the two cannot drift apart.

use super::Parameter;
use crate::tensor::Interval;
use crate::tensor::{check_bits, check_frac, check_values};

/// A weighted layer's integer parameters.
pub(crate) struct Weighted<'a> {
    pub weights: &'a [i64],
    pub weight_bits: u32,
    pub weight_frac_bits: i32,
    pub bias: &'a [i64],
    pub bias_bits: u32,
}

impl<'a> Weighted<'a> {
    /// Checks counts, widths, values and the weights' scale; returns the accumulator's scale
    /// for an input at `2^-input_frac`.
    pub fn check(&self, weights: usize, biases: usize, input_frac: i32) -> Result<i32, String> {
        if self.weights.len() != weights || self.bias.len() != biases {
            return Err(format!(
                "has {} weights and {} biases, expected {weights} and {biases}",
                self.weights.len(),
                self.bias.len(),
            ));
        }
        check_bits("weight", self.weight_bits)?;
        if self.bias_bits == 0 || self.bias_bits > 32 {
            return Err(format!("bias width {} is outside 1..=32", self.bias_bits));
        }
        check_values("weight", self.weights, self.weight_bits)?;
        check_values("bias", self.bias, self.bias_bits)?;
        check_frac("the weights", Some(self.weight_frac_bits))?;
        check_frac("the output", input_frac.checked_add(self.weight_frac_bits))
    }

    /// The interval of one output `bias + Σ w·x` over the weights `ws`, with `x` in `x`;
    /// `Err(bound)` when a partial sum, in any order, could exceed `limit`.
    pub fn output_interval(
        bias: i64,
        ws: impl Iterator<Item = i64> + Clone,
        x: Interval,
        limit: i128,
    ) -> Result<(i128, i128), i128> {
        let b = bias as i128;
        // Every partial sum, in any order, is bounded by |b| + Σ|w|·max|x|.
        let worst =
            b.abs() + ws.clone().map(|w| (w as i128).abs()).sum::<i128>() * x.abs_max() as i128;
        if worst > limit {
            return Err(worst);
        }
        Ok(ws.fold((b, b), |(lo, hi), w| {
            let (a, c) = (w as i128 * x.lo as i128, w as i128 * x.hi as i128);
            (lo + a.min(c), hi + a.max(c))
        }))
    }

    /// The committed parameters: the weights, then the biases.
    pub fn parameters(&self) -> Vec<Parameter<'a>> {
        vec![
            Parameter {
                what: "weight",
                values: self.weights,
                bits: self.weight_bits,
            },
            Parameter {
                what: "bias",
                values: self.bias,
                bits: self.bias_bits,
            },
        ]
    }
}
