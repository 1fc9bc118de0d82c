//! Select: each output value is one value of the operands (or a constant) — every op that
//! only moves data: Concat, Slice, Transpose, Pad, Gather with constant indices, Expand,
//! Tile, Split, nearest-neighbour Resize, broadcasting. The importer computes the index map
//! from the ONNX op's attributes once; the circuit wires the output to the operands' values
//! (no constraint at all), and the executors copy.

use serde::{Deserialize, Serialize};

use super::{OpSemantics, Parameter};
use crate::tensor::Interval;
use crate::tensor::{TensorInfo, check_bits, signed_range};

/// `y[i] = operands' values concatenated[indices[i]]`, or `fill` where `indices[i] = -1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Select {
    /// What the selection does, for messages (`concat`, `transpose [0, 2, 1]`, …).
    pub what: String,
    /// Number of operands; they share one scale.
    pub operands: usize,
    /// The output's shape.
    pub shape: Vec<usize>,
    /// For each output value, an index into the operands' values concatenated, or `-1`.
    pub indices: Vec<i64>,
    /// The value of positions with index `-1` (padding), at the operands' scale.
    pub fill: i64,
}

impl Select {
    fn fills(&self) -> bool {
        self.indices.contains(&-1)
    }
}

impl OpSemantics for Select {
    fn arity(&self) -> usize {
        self.operands
    }

    fn output_info(&self, inputs: &[&TensorInfo]) -> Result<TensorInfo, String> {
        let first = inputs.first().ok_or("a selection from no operand")?;
        if let Some(other) = inputs.iter().find(|i| i.frac_bits != first.frac_bits) {
            return Err(format!(
                "selects from operands at scales 2^-{} and 2^-{} (they must share one)",
                first.frac_bits, other.frac_bits
            ));
        }
        let total: usize = inputs.iter().map(|i| i.len()).sum();
        let len = self.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if len != Some(self.indices.len()) {
            return Err(format!(
                "{} indices for an output of shape {:?}",
                self.indices.len(),
                self.shape
            ));
        }
        if let Some(i) = self.indices.iter().find(|&&i| i < -1 || i >= total as i64) {
            return Err(format!("index {i} outside the operands' {total} values"));
        }
        let mut bits = inputs.iter().map(|i| i.bits).max().unwrap_or(2);
        if self.fills() {
            bits = bits.max(
                Interval {
                    lo: self.fill,
                    hi: self.fill,
                }
                .signed_width(),
            );
        }
        check_bits("the selection", bits)?;
        let _ = signed_range(bits);
        Ok(TensorInfo {
            shape: self.shape.clone(),
            frac_bits: first.frac_bits,
            bits,
        })
    }

    fn eval(&self, inputs: &[&[i64]]) -> Vec<i64> {
        let all: Vec<i64> = inputs.concat();
        self.indices
            .iter()
            .map(|&i| if i < 0 { self.fill } else { all[i as usize] })
            .collect()
    }

    fn bounds(&self, inputs: &[Interval], _limit: i128) -> Result<Interval, i128> {
        let mut out = inputs.iter().copied().reduce(|a, b| Interval {
            lo: a.lo.min(b.lo),
            hi: a.hi.max(b.hi),
        });
        if self.fills() {
            let f = Interval {
                lo: self.fill,
                hi: self.fill,
            };
            out = Some(out.map_or(f, |a| Interval {
                lo: a.lo.min(f.lo),
                hi: a.hi.max(f.hi),
            }));
        }
        Ok(out.unwrap_or(Interval { lo: 0, hi: 0 }))
    }

    fn describe(&self) -> String {
        format!("select ({}) → {:?}", self.what, self.shape)
    }

    fn parameters(&self) -> Vec<Parameter<'_>> {
        // Wiring and one padding constant: architecture, public in both modes.
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(shape: Vec<usize>, frac_bits: i32) -> TensorInfo {
        TensorInfo {
            shape,
            frac_bits,
            bits: 8,
        }
    }

    #[test]
    fn concatenates_pads_and_refuses_mixed_scales() {
        let s = Select {
            what: "concat then pad".into(),
            operands: 2,
            shape: vec![4],
            indices: vec![-1, 0, 2, 1],
            fill: 300,
        };
        assert_eq!(s.eval(&[&[5, 6], &[7]]), vec![300, 5, 7, 6]);
        let info = s.output_info(&[&t(vec![2], 3), &t(vec![1], 3)]).unwrap();
        assert_eq!((info.shape, info.bits), (vec![4], 10));
        assert_eq!(
            s.output_info(&[&t(vec![2], 3), &t(vec![1], 4)])
                .unwrap_err(),
            "selects from operands at scales 2^-3 and 2^-4 (they must share one)"
        );
        assert_eq!(
            s.output_info(&[&t(vec![2], 3), &t(vec![0], 3)])
                .unwrap_err(),
            "index 2 outside the operands' 2 values"
        );
        let a = Interval { lo: -3, hi: 4 };
        let b = Interval { lo: 0, hi: 9 };
        assert_eq!(s.bounds(&[a, b], 0), Ok(Interval { lo: -3, hi: 300 }));
    }
}
