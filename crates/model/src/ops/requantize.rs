//! Requantize: round-half-up arithmetic shift right, then saturation to a narrow width — where
//! all of the model's rounding happens.

use serde::{Deserialize, Serialize};

use super::{OpSemantics, Parameter};
use crate::tensor::Interval;
use crate::tensor::{TensorInfo, check_bits, check_frac, signed_range};

/// Round-half-up arithmetic shift right by `shift`, then saturation to `bits` signed bits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requantize {
    /// Bits shifted out (the scale drops by `2^shift`).
    pub shift: u32,
    /// Signed width of the result.
    pub bits: u32,
}

/// Round-half-up arithmetic shift: `floor((v + 2^(s-1)) / 2^s)`; the identity for `s = 0`.
pub fn round_shift(v: i64, shift: u32) -> i64 {
    if shift == 0 {
        v
    } else {
        (v + (1i64 << (shift - 1))) >> shift
    }
}

/// Clamps `v` to the signed `bits`-bit range.
pub fn saturate(v: i64, bits: u32) -> i64 {
    let (lo, hi) = signed_range(bits);
    v.clamp(lo, hi)
}

/// Interval of the quotient `floor((acc + 2^(s-1)) / 2^s)` before saturation.
pub fn quotient_interval(acc: Interval, shift: u32) -> Interval {
    Interval {
        lo: round_shift(acc.lo, shift),
        hi: round_shift(acc.hi, shift),
    }
}

impl Requantize {
    /// One value: round-half-up shift, then saturation.
    pub fn apply(&self, v: i64) -> i64 {
        saturate(round_shift(v, self.shift), self.bits)
    }
}

impl OpSemantics for Requantize {
    fn arity(&self) -> usize {
        1
    }

    fn output_info(&self, inputs: &[&TensorInfo]) -> Result<TensorInfo, String> {
        check_bits("requantize", self.bits)?;
        if self.shift > 31 {
            return Err(format!("shift {} is larger than 31", self.shift));
        }
        let x = inputs[0];
        Ok(TensorInfo {
            shape: x.shape.clone(),
            frac_bits: check_frac("the output", x.frac_bits.checked_sub(self.shift as i32))?,
            bits: self.bits,
        })
    }

    fn eval(&self, inputs: &[&[i64]]) -> Vec<i64> {
        inputs[0].iter().map(|&v| self.apply(v)).collect()
    }

    fn bounds(&self, inputs: &[Interval], limit: i128) -> Result<Interval, i128> {
        let x = inputs[0];
        if self.shift > 0 {
            let with_rounding = x.abs_max() as i128 + (1i128 << (self.shift - 1));
            if with_rounding > limit {
                return Err(with_rounding);
            }
        }
        let q = quotient_interval(x, self.shift);
        let (lo, hi) = signed_range(self.bits);
        Ok(Interval {
            lo: q.lo.clamp(lo, hi),
            hi: q.hi.clamp(lo, hi),
        })
    }

    fn describe(&self) -> String {
        format!("requantize >>{} to {} bits", self.shift, self.bits)
    }

    fn parameters(&self) -> Vec<Parameter<'_>> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_shift_rounds_half_up_for_both_signs() {
        assert_eq!(round_shift(5, 1), 3); // 2.5 -> 3
        assert_eq!(round_shift(-5, 1), -2); // -2.5 -> -2
        assert_eq!(round_shift(-6, 2), -1); // -1.5 -> -1
        assert_eq!(round_shift(-7, 2), -2); // -1.75 -> -2
        assert_eq!(round_shift(7, 0), 7);
    }

    #[test]
    fn requantize_saturates() {
        let r = Requantize { shift: 1, bits: 8 };
        assert_eq!(r.apply(1000), 127);
        assert_eq!(r.apply(-1000), -128);
        assert_eq!(r.apply(-256), -128);
        assert_eq!(r.apply(253), 127);
    }

    #[test]
    fn the_rounding_offset_counts_against_the_limit() {
        let r = Requantize { shift: 4, bits: 8 };
        let x = Interval { lo: -100, hi: 100 };
        assert_eq!(r.bounds(&[x], 107), Err(108));
        assert_eq!(r.bounds(&[x], 108), Ok(Interval { lo: -6, hi: 6 }));
    }
}
