//! Softmax over the last axis, in exact integers.
//!
//! Per row `x` (the last axis, consecutive values): `m = max x`, `e_i = exp[x_i - m]` from a
//! table over the differences `d ∈ [-(2^in_bits - 1), 0]` (the importer fills it with
//! `round(2^exp_frac · e^(d · 2^-in_frac))`), `S = Σ e_i`, and the output
//! `y_i = floor((e_i · 2^(frac+1) + S) / (2S))` — `e_i / S` at scale `2^-frac`, rounded half up.
//! Subtracting the maximum keeps every exponent ≤ 0, so the table is bounded, and the entry
//! at `d = 0` is at least 1, so `S ≥ 1` and the division is always defined.

use serde::{Deserialize, Serialize};

use super::{OpSemantics, Parameter};
use crate::ops::table::MAX_TABLE_BITS;
use crate::tensor::Interval;
use crate::tensor::{TensorInfo, check_bits, signed_range};

/// Softmax over the last axis with an exponential table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Softmax {
    /// Length of the last axis: the rows normalized one by one.
    pub axis_len: usize,
    /// Signed width of the input; the table covers the `2^in_bits` differences
    /// `d ∈ [-(2^in_bits - 1), 0]`.
    pub in_bits: u32,
    /// `exp[d + 2^in_bits - 1]` for each difference `d`; non-negative, the last (`d = 0`) ≥ 1.
    pub exp: Vec<i64>,
    /// Scale exponent of the output (probabilities at `2^-frac_bits`).
    pub frac_bits: u32,
}

impl Softmax {
    /// Signed width of the output: values lie in `[0, 2^frac_bits]`.
    pub fn out_bits(&self) -> u32 {
        self.frac_bits + 2
    }

    /// The exponential of a difference `d ≤ 0`, clamped into the table.
    pub fn exp_of(&self, d: i64) -> i64 {
        let top = self.exp.len() as i64 - 1;
        self.exp[d.saturating_add(top).clamp(0, top) as usize]
    }

    /// One output from its exponential and the row's sum: `floor((e·2^(frac+1) + S) / 2S)`.
    pub fn divide(&self, e: i64, sum: i64) -> i64 {
        if sum <= 0 {
            return 0;
        }
        (e * (2i64 << self.frac_bits) + sum).div_euclid(2 * sum)
    }

    /// One row.
    pub fn row(&self, x: &[i64]) -> Vec<i64> {
        let m = x.iter().copied().max().unwrap_or(0);
        let e: Vec<i64> = x.iter().map(|&v| self.exp_of(v - m)).collect();
        let sum: i64 = e.iter().sum();
        e.iter().map(|&e| self.divide(e, sum)).collect()
    }
}

impl OpSemantics for Softmax {
    fn arity(&self) -> usize {
        1
    }

    fn output_info(&self, inputs: &[&TensorInfo]) -> Result<TensorInfo, String> {
        if !(1..=MAX_TABLE_BITS).contains(&self.in_bits) {
            return Err(format!(
                "softmax over {}-bit inputs (at most {MAX_TABLE_BITS})",
                self.in_bits
            ));
        }
        if self.exp.len() != 1 << self.in_bits {
            return Err(format!(
                "softmax over {}-bit inputs needs {} exponentials, not {}",
                self.in_bits,
                1u64 << self.in_bits,
                self.exp.len()
            ));
        }
        if let Some(v) = self.exp.iter().find(|v| !(0..=1 << 24).contains(*v)) {
            return Err(format!("exponential {v} outside [0, 2^24]"));
        }
        if self.exp.last() < Some(&1) {
            return Err("the exponential of 0 must be at least 1".into());
        }
        if self.frac_bits > 20 {
            return Err(format!("output scale 2^-{} (at most 20)", self.frac_bits));
        }
        check_bits("the output", self.out_bits())?;
        let x = inputs[0];
        if x.bits > self.in_bits {
            return Err(format!(
                "the input is {} bits wide, the table covers {}",
                x.bits, self.in_bits
            ));
        }
        if x.shape.last() != Some(&self.axis_len) || self.axis_len == 0 {
            return Err(format!(
                "softmax over rows of {} of a tensor of shape {:?}",
                self.axis_len, x.shape
            ));
        }
        Ok(TensorInfo {
            shape: x.shape.clone(),
            frac_bits: self.frac_bits as i32,
            bits: self.out_bits(),
        })
    }

    fn eval(&self, inputs: &[&[i64]]) -> Vec<i64> {
        inputs[0]
            .chunks(self.axis_len)
            .flat_map(|r| self.row(r))
            .collect()
    }

    fn bounds(&self, inputs: &[Interval], limit: i128) -> Result<Interval, i128> {
        let x = inputs[0];
        let (lo, hi) = signed_range(self.in_bits);
        if x.lo < lo || x.hi > hi {
            return Err(x.abs_max() as i128);
        }
        // The largest numerator e·2^(frac+1) + S, with S at most a row of the largest entry.
        let top = *self.exp.iter().max().unwrap_or(&0) as i128;
        let numerator = top * (2i128 << self.frac_bits) + top * self.axis_len as i128;
        if numerator > limit {
            return Err(numerator);
        }
        // The divisor 2S.
        let divisor = 2 * top * self.axis_len as i128;
        if divisor > limit {
            return Err(divisor);
        }
        Ok(Interval {
            lo: 0,
            hi: 1 << self.frac_bits,
        })
    }

    fn describe(&self) -> String {
        format!(
            "softmax over rows of {} ({}-bit inputs)",
            self.axis_len, self.in_bits
        )
    }

    fn parameters(&self) -> Vec<Parameter<'_>> {
        // The exponential is architecture, public in both modes (as a table's entries).
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// exp at scale 2^4 over 2-bit inputs at scale 2^0: d ∈ [-3, 0].
    fn softmax() -> Softmax {
        let exp = (0..4)
            .map(|k| (16.0 * f64::exp((k - 3) as f64)).round() as i64)
            .collect();
        Softmax {
            axis_len: 2,
            in_bits: 2,
            exp,
            frac_bits: 6,
        }
    }

    #[test]
    fn rows_sum_to_one_and_ties_split_evenly() {
        let s = softmax();
        assert_eq!(s.exp, vec![1, 2, 6, 16]);
        // Row [1, 1]: e = [16, 16], each exactly 1/2 = 32 at 2^-6.
        // Row [-2, 1]: d = [-3, 0], e = [1, 16], S = 17: 64/17 = 3.76 → 4, 1024/17 = 60.2 → 60.
        assert_eq!(s.eval(&[&[1, 1, -2, 1]]), vec![32, 32, 4, 60]);
        let ok = Interval { lo: -2, hi: 1 };
        assert_eq!(s.bounds(&[ok], 1 << 20), Ok(Interval { lo: 0, hi: 64 }));
        // 16 · 2^7 + 16 · 2 = 2080.
        assert_eq!(s.bounds(&[ok], 2000), Err(2080));
        assert_eq!(s.bounds(&[Interval { lo: -3, hi: 1 }], 1 << 20), Err(3));
    }

    #[test]
    fn malformed_softmax_is_refused_with_the_reason() {
        let x = TensorInfo {
            shape: vec![3, 2],
            frac_bits: 0,
            bits: 2,
        };
        assert_eq!(softmax().output_info(&[&x]).unwrap().bits, 8);
        let mut s = softmax();
        s.exp[3] = 0;
        assert_eq!(
            s.output_info(&[&x]).unwrap_err(),
            "the exponential of 0 must be at least 1"
        );
        let mut s = softmax();
        s.exp[0] = -1;
        assert_eq!(
            s.output_info(&[&x]).unwrap_err(),
            "exponential -1 outside [0, 2^24]"
        );
        let s = Softmax {
            axis_len: 3,
            ..softmax()
        };
        assert_eq!(
            s.output_info(&[&x]).unwrap_err(),
            "softmax over rows of 3 of a tensor of shape [3, 2]"
        );
    }
}
