//! Static worst-case bounds of every tensor, from the input's bit width and the weights.
//!
//! A model is accepted only if every value any executor computes — including every partial sum
//! of a dense layer and the rounding offset added before a shift — fits in an `i32`, the GPU's
//! accumulator. `i32` values are far below the BN254 scalar field's modulus (~2^253), so a model
//! that passes cannot wrap in the field either. The circuits size their range checks from these
//! intervals, so an accepted model is always provable: a quotient can never leave its
//! range-checked width.

use serde::{Deserialize, Serialize};

use crate::error::ModelError;
use crate::ir::{Model, Op, signed_range};

/// An inclusive integer interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interval {
    /// Smallest possible value.
    pub lo: i64,
    /// Largest possible value.
    pub hi: i64,
}

impl Interval {
    /// The interval of a signed `bits`-bit integer.
    pub fn signed(bits: u32) -> Self {
        let (lo, hi) = signed_range(bits);
        Interval { lo, hi }
    }

    /// Largest magnitude in the interval.
    pub fn abs_max(&self) -> i64 {
        self.lo.abs().max(self.hi.abs())
    }

    /// The smallest signed width `k` with `[lo, hi] ⊆ [-2^(k-1), 2^(k-1) - 1]` (at least 1).
    pub fn signed_width(&self) -> u32 {
        let mut k = 1;
        while !(self.lo >= -(1i64 << (k - 1)) && self.hi < (1i64 << (k - 1))) {
            k += 1;
        }
        k
    }

    /// True when the interval lies inside the signed `bits`-bit range.
    pub fn fits_signed(&self, bits: u32) -> bool {
        let (lo, hi) = signed_range(bits);
        self.lo >= lo && self.hi <= hi
    }
}

/// Interval of the quotient `floor((acc + 2^(s-1)) / 2^s)` before saturation.
pub fn quotient_interval(acc: Interval, shift: u32) -> Interval {
    Interval {
        lo: crate::exec::round_shift(acc.lo, shift),
        hi: crate::exec::round_shift(acc.hi, shift),
    }
}

/// The result of the analysis: the interval of the input and of every op's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bounds {
    /// Interval of the input values.
    pub input: Interval,
    /// `ops[i]` bounds every value of `model.ops[i]`'s output.
    pub ops: Vec<Interval>,
}

impl Bounds {
    /// Interval of op `i`'s input.
    pub fn op_input(&self, i: usize) -> Interval {
        if i == 0 { self.input } else { self.ops[i - 1] }
    }

    /// Interval of the model's output.
    pub fn output(&self) -> Interval {
        self.ops.last().copied().unwrap_or(self.input)
    }
}

const GPU_LIMIT: i128 = i32::MAX as i128;

/// Computes the bounds of every tensor, rejecting a model that could overflow.
pub fn analyze(model: &Model) -> Result<Bounds, ModelError> {
    model.tensor_infos()?;
    let input = Interval::signed(model.input.bits);
    let mut cur = input;
    let mut ops = Vec::with_capacity(model.ops.len());
    for (i, op) in model.ops.iter().enumerate() {
        let overflow = |bound: i128| ModelError::Overflow {
            op_index: i,
            op: op.describe(),
            bound,
            limit: GPU_LIMIT,
            why: "a GPU accumulator is an i32",
        };
        cur = match op {
            Op::Dense(d) => {
                let xmax = cur.abs_max() as i128;
                let (mut lo, mut hi) = (i128::MAX, i128::MIN);
                for j in 0..d.out_features {
                    let row = &d.weights[j * d.in_features..(j + 1) * d.in_features];
                    let b = d.bias[j] as i128;
                    // Every partial sum, in any order, is bounded by |b| + Σ|w|·max|x|.
                    let worst =
                        b.abs() + row.iter().map(|&w| (w as i128).abs()).sum::<i128>() * xmax;
                    if worst > GPU_LIMIT {
                        return Err(overflow(worst));
                    }
                    let (mut rlo, mut rhi) = (b, b);
                    for &w in row {
                        let (a, c) = (w as i128 * cur.lo as i128, w as i128 * cur.hi as i128);
                        rlo += a.min(c);
                        rhi += a.max(c);
                    }
                    lo = lo.min(rlo);
                    hi = hi.max(rhi);
                }
                Interval {
                    lo: lo as i64,
                    hi: hi as i64,
                }
            }
            Op::Requantize(r) => {
                if r.shift > 0 {
                    let with_rounding = cur.abs_max() as i128 + (1i128 << (r.shift - 1));
                    if with_rounding > GPU_LIMIT {
                        return Err(overflow(with_rounding));
                    }
                }
                let q = quotient_interval(cur, r.shift);
                let (slo, shi) = signed_range(r.bits);
                Interval {
                    lo: q.lo.clamp(slo, shi),
                    hi: q.hi.clamp(slo, shi),
                }
            }
            Op::Relu => Interval {
                lo: cur.lo.max(0),
                hi: cur.hi.max(0),
            },
            Op::Reshape { .. } => cur,
        };
        if cur.abs_max() as i128 > GPU_LIMIT {
            return Err(overflow(cur.abs_max() as i128));
        }
        ops.push(cur);
    }
    Ok(Bounds { input, ops })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Dense, Requantize, TensorInfo, WeightMode};

    fn model(in_features: usize, w: i64, bits: u32) -> Model {
        Model {
            name: "b".into(),
            weight_mode: WeightMode::Fixed,
            input: TensorInfo {
                shape: vec![in_features],
                frac_bits: 0,
                bits,
            },
            ops: vec![
                Op::Dense(Dense {
                    name: "fc".into(),
                    in_features,
                    out_features: 1,
                    weights: vec![w; in_features],
                    weight_bits: bits,
                    weight_frac_bits: 0,
                    bias: vec![0],
                    bias_bits: 8,
                }),
                Op::Requantize(Requantize { shift: 4, bits: 8 }),
                Op::Relu,
            ],
            salt: None,
        }
    }

    #[test]
    fn dense_bounds_are_exact_for_uniform_weights() {
        let b = analyze(&model(3, -2, 8)).unwrap();
        assert_eq!(
            b.ops[0],
            Interval {
                lo: -2 * 127 * 3,
                hi: 2 * 128 * 3
            }
        );
        assert_eq!(b.ops[1], Interval { lo: -48, hi: 48 });
        assert_eq!(b.ops[2], Interval { lo: 0, hi: 48 });
    }

    #[test]
    fn a_model_that_could_overflow_i32_is_rejected() {
        // 16-bit inputs and weights, 200k of them: 2^15 · 2^15 · 2e5 ≫ 2^31.
        let err = analyze(&model(200_000, -(1 << 15), 16)).unwrap_err();
        match &err {
            ModelError::Overflow {
                op_index, limit, ..
            } => {
                assert_eq!(*op_index, 0);
                assert_eq!(*limit, i32::MAX as i128);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(err.to_string().contains("could overflow"), "{err}");
    }

    #[test]
    fn signed_width() {
        assert_eq!(Interval { lo: -128, hi: 127 }.signed_width(), 8);
        assert_eq!(Interval { lo: -129, hi: 0 }.signed_width(), 9);
        assert_eq!(Interval { lo: 0, hi: 128 }.signed_width(), 9);
        assert_eq!(Interval { lo: 0, hi: 0 }.signed_width(), 1);
        assert_eq!(Interval { lo: -1, hi: 0 }.signed_width(), 1);
    }
}
