//! Add: the element-wise sum of two tensors of one shape and one scale, exact. The residual
//! connection of a ResNet block; the importer aligns the operands' scales first (a
//! [`super::Requantize`] on the finer one), and the sum is one bit wider than its widest operand.

use serde::{Deserialize, Serialize};

use super::{OpSemantics, Parameter};
use crate::tensor::Interval;
use crate::tensor::TensorInfo;

/// `a + b`, element-wise, exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Add;

impl OpSemantics for Add {
    fn arity(&self) -> usize {
        2
    }

    fn output_info(&self, inputs: &[&TensorInfo]) -> Result<TensorInfo, String> {
        let (a, b) = (inputs[0], inputs[1]);
        if a.shape != b.shape {
            return Err(format!("adds shapes {:?} and {:?}", a.shape, b.shape));
        }
        if a.frac_bits != b.frac_bits {
            return Err(format!(
                "adds scales 2^-{} and 2^-{} (operands must share a scale)",
                a.frac_bits, b.frac_bits
            ));
        }
        Ok(TensorInfo {
            shape: a.shape.clone(),
            frac_bits: a.frac_bits,
            // One bit wider than the widest operand, but never beyond 32: every value of an
            // accepted model fits an i32 (`crate::bounds` refuses any other).
            bits: (a.bits.max(b.bits) + 1).min(32),
        })
    }

    fn eval(&self, inputs: &[&[i64]]) -> Vec<i64> {
        inputs[0]
            .iter()
            .zip(inputs[1])
            .map(|(a, b)| a + b)
            .collect()
    }

    fn bounds(&self, inputs: &[Interval], limit: i128) -> Result<Interval, i128> {
        let (a, b) = (inputs[0], inputs[1]);
        let worst = a.abs_max() as i128 + b.abs_max() as i128;
        if worst > limit {
            return Err(worst);
        }
        Ok(Interval {
            lo: a.lo + b.lo,
            hi: a.hi + b.hi,
        })
    }

    fn describe(&self) -> String {
        "add".into()
    }

    fn parameters(&self) -> Vec<Parameter<'_>> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_is_exact_and_bounded() {
        assert_eq!(Add.eval(&[&[1, -5], &[2, 7]]), vec![3, 2]);
        let (a, b) = (Interval { lo: -3, hi: 4 }, Interval { lo: 0, hi: 9 });
        assert_eq!(Add.bounds(&[a, b], 100), Ok(Interval { lo: -3, hi: 13 }));
        assert_eq!(Add.bounds(&[a, b], 12), Err(13));
    }

    #[test]
    fn operands_must_share_shape_and_scale() {
        let t = |shape: Vec<usize>, frac_bits| TensorInfo {
            shape,
            frac_bits,
            bits: 8,
        };
        let err = Add
            .output_info(&[&t(vec![2], 3), &t(vec![2], 4)])
            .unwrap_err();
        assert!(err.contains("share a scale"), "{err}");
        let err = Add
            .output_info(&[&t(vec![2], 3), &t(vec![3], 3)])
            .unwrap_err();
        assert!(err.contains("[2] and [3]"), "{err}");
        assert_eq!(
            Add.output_info(&[&t(vec![2], 3), &t(vec![2], 3)])
                .unwrap()
                .bits,
            9
        );
    }
}
