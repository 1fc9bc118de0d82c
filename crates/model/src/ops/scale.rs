//! Scale: a per-element affine map with constant integers, `y_i = scale_i · x_i + offset_i`,
//! exact — Mul, Div, Add and Sub by a constant tensor (broadcast by the importer), the mean's
//! `1/n`, a negation. Like a dense layer's, its constants are weights: committed in private
//! mode; with fixed weights it is a linear combination and costs no constraint.

use serde::{Deserialize, Serialize};

use super::{OpSemantics, Parameter};
use crate::tensor::Interval;
use crate::tensor::{TensorInfo, check_bits, check_frac};

/// `y_i = scale_i · x_i + offset_i`, element-wise, exact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scale {
    /// The layer's name, for messages.
    pub name: String,
    /// One factor per element.
    pub scale: Vec<i64>,
    /// Signed width of the factors.
    pub scale_bits: u32,
    /// Scale exponent of the factors: the output's is the input's plus this.
    pub scale_frac_bits: i32,
    /// One offset per element, at the output's scale.
    pub offset: Vec<i64>,
    /// Signed width of the offsets.
    pub offset_bits: u32,
}

impl OpSemantics for Scale {
    fn arity(&self) -> usize {
        1
    }

    fn output_info(&self, inputs: &[&TensorInfo]) -> Result<TensorInfo, String> {
        let x = inputs[0];
        check_bits("factor", self.scale_bits)?;
        check_bits("offset", self.offset_bits)?;
        if self.scale.len() != x.len() || self.offset.len() != x.len() {
            return Err(format!(
                "{} factors and {} offsets for {} values",
                self.scale.len(),
                self.offset.len(),
                x.len()
            ));
        }
        for (what, values, bits) in [
            ("factor", &self.scale, self.scale_bits),
            ("offset", &self.offset, self.offset_bits),
        ] {
            if let Some(v) = values
                .iter()
                .find(|&&v| !Interval { lo: v, hi: v }.fits_signed(bits))
            {
                return Err(format!("{what} {v} does not fit {bits} bits"));
            }
        }
        Ok(TensorInfo {
            shape: x.shape.clone(),
            frac_bits: check_frac("the output", x.frac_bits.checked_add(self.scale_frac_bits))?,
            bits: (x.bits + self.scale_bits.max(self.offset_bits) + 1).min(32),
        })
    }

    fn eval(&self, inputs: &[&[i64]]) -> Vec<i64> {
        inputs[0]
            .iter()
            .zip(self.scale.iter().zip(&self.offset))
            .map(|(x, (s, o))| s * x + o)
            .collect()
    }

    fn bounds(&self, inputs: &[Interval], limit: i128) -> Result<Interval, i128> {
        let x = inputs[0];
        let (mut lo, mut hi) = (i128::MAX, i128::MIN);
        for (&s, &o) in self.scale.iter().zip(&self.offset) {
            let (a, b) = (s as i128 * x.lo as i128, s as i128 * x.hi as i128);
            lo = lo.min(a.min(b) + o as i128);
            hi = hi.max(a.max(b) + o as i128);
            let worst = (s as i128).abs() * x.abs_max() as i128 + (o as i128).abs();
            if worst > limit {
                return Err(worst);
            }
        }
        Ok(Interval {
            lo: lo as i64,
            hi: hi as i64,
        })
    }

    fn macs(&self) -> usize {
        self.scale.len()
    }

    fn describe(&self) -> String {
        format!("scale `{}` ({} values)", self.name, self.scale.len())
    }

    fn parameters(&self) -> Vec<Parameter<'_>> {
        vec![
            Parameter {
                what: "factor",
                values: &self.scale,
                bits: self.scale_bits,
            },
            Parameter {
                what: "offset",
                values: &self.offset,
                bits: self.offset_bits,
            },
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scale() -> Scale {
        Scale {
            name: "s".into(),
            scale: vec![3, -2],
            scale_bits: 4,
            scale_frac_bits: 2,
            offset: vec![1, 0],
            offset_bits: 4,
        }
    }

    #[test]
    fn per_element_factors_and_offsets() {
        let s = scale();
        assert_eq!(s.eval(&[&[5, 5]]), vec![16, -10]);
        let x = Interval { lo: -4, hi: 5 };
        // 3x + 1 ∈ [-11, 16]; -2x ∈ [-10, 8].
        assert_eq!(s.bounds(&[x], 100), Ok(Interval { lo: -11, hi: 16 }));
        assert_eq!(s.bounds(&[x], 15), Err(16));
        let info = TensorInfo {
            shape: vec![2],
            frac_bits: 3,
            bits: 8,
        };
        assert_eq!(s.output_info(&[&info]).unwrap().frac_bits, 5);
        let mut bad = scale();
        bad.scale[0] = 8;
        assert_eq!(
            bad.output_info(&[&info]).unwrap_err(),
            "factor 8 does not fit 4 bits"
        );
        let short = TensorInfo {
            shape: vec![3],
            ..info
        };
        assert_eq!(
            scale().output_info(&[&short]).unwrap_err(),
            "2 factors and 2 offsets for 3 values"
        );
    }
}
