//! Mul: the element-wise product of two tensors of one shape, exact. Its scale is the sum
//! of the operands' (the importer requantizes after it); one product constraint per element.

use serde::{Deserialize, Serialize};

use super::{OpSemantics, Parameter};
use crate::tensor::Interval;
use crate::tensor::{TensorInfo, check_frac};

/// `a · b`, element-wise, exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mul;

impl OpSemantics for Mul {
    fn arity(&self) -> usize {
        2
    }

    fn output_info(&self, inputs: &[&TensorInfo]) -> Result<TensorInfo, String> {
        let (a, b) = (inputs[0], inputs[1]);
        if a.shape != b.shape {
            return Err(format!("multiplies shapes {:?} and {:?}", a.shape, b.shape));
        }
        Ok(TensorInfo {
            shape: a.shape.clone(),
            frac_bits: check_frac("the product", a.frac_bits.checked_add(b.frac_bits))?,
            // Never beyond 32: the bounds analysis refuses any product that could be wider.
            bits: (a.bits + b.bits).min(32),
        })
    }

    fn eval(&self, inputs: &[&[i64]]) -> Vec<i64> {
        inputs[0]
            .iter()
            .zip(inputs[1])
            .map(|(a, b)| a * b)
            .collect()
    }

    fn bounds(&self, inputs: &[Interval], limit: i128) -> Result<Interval, i128> {
        let (a, b) = (inputs[0], inputs[1]);
        let corners = [a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi];
        let out = Interval {
            lo: *corners.iter().min().expect("four corners"),
            hi: *corners.iter().max().expect("four corners"),
        };
        if out.abs_max() as i128 > limit {
            return Err(out.abs_max() as i128);
        }
        Ok(out)
    }

    fn describe(&self) -> String {
        "mul".into()
    }

    fn parameters(&self) -> Vec<Parameter<'_>> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_are_exact_and_bounded_by_the_corners() {
        assert_eq!(Mul.eval(&[&[3, -4], &[-5, -6]]), vec![-15, 24]);
        let a = Interval { lo: -3, hi: 4 };
        let b = Interval { lo: -5, hi: 2 };
        assert_eq!(Mul.bounds(&[a, b], 100), Ok(Interval { lo: -20, hi: 15 }));
        assert_eq!(Mul.bounds(&[a, b], 19), Err(20));
    }
}
