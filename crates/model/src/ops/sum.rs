//! Sum: the sum of each row of the last axis, exact (ReduceSum, and ReduceMean before its
//! scaling). A linear combination in the circuit: no constraint of its own.

use serde::{Deserialize, Serialize};

use super::{OpSemantics, Parameter};
use crate::tensor::Interval;
use crate::tensor::TensorInfo;

/// `y[r] = Σ_j x[r · axis_len + j]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sum {
    /// Length of the last axis: the rows summed.
    pub axis_len: usize,
}

impl OpSemantics for Sum {
    fn arity(&self) -> usize {
        1
    }

    fn output_info(&self, inputs: &[&TensorInfo]) -> Result<TensorInfo, String> {
        let x = inputs[0];
        if self.axis_len == 0 || x.shape.last() != Some(&self.axis_len) {
            return Err(format!(
                "sums rows of {} of a tensor of shape {:?}",
                self.axis_len, x.shape
            ));
        }
        let mut shape = x.shape[..x.shape.len() - 1].to_vec();
        if shape.is_empty() {
            shape.push(1);
        }
        let grow = usize::BITS - (self.axis_len - 1).leading_zeros();
        Ok(TensorInfo {
            shape,
            frac_bits: x.frac_bits,
            bits: (x.bits + grow).min(32),
        })
    }

    fn eval(&self, inputs: &[&[i64]]) -> Vec<i64> {
        inputs[0]
            .chunks(self.axis_len)
            .map(|r| r.iter().sum())
            .collect()
    }

    fn bounds(&self, inputs: &[Interval], limit: i128) -> Result<Interval, i128> {
        let x = inputs[0];
        let n = self.axis_len as i128;
        let worst = x.abs_max() as i128 * n;
        if worst > limit {
            return Err(worst);
        }
        Ok(Interval {
            lo: (x.lo as i128 * n) as i64,
            hi: (x.hi as i128 * n) as i64,
        })
    }

    fn describe(&self) -> String {
        format!("sum of rows of {}", self.axis_len)
    }

    fn parameters(&self) -> Vec<Parameter<'_>> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_rows_and_grows_the_width() {
        let s = Sum { axis_len: 3 };
        assert_eq!(s.eval(&[&[1, 2, 3, -4, 5, -6]]), vec![6, -5]);
        let x = TensorInfo {
            shape: vec![2, 3],
            frac_bits: 1,
            bits: 8,
        };
        let out = s.output_info(&[&x]).unwrap();
        assert_eq!((out.shape, out.bits), (vec![2], 10));
        let a = Interval { lo: -3, hi: 4 };
        assert_eq!(s.bounds(&[a], 100), Ok(Interval { lo: -9, hi: 12 }));
        assert_eq!(s.bounds(&[a], 11), Err(12));
        assert!(Sum { axis_len: 2 }.output_info(&[&x]).is_err());
    }
}
