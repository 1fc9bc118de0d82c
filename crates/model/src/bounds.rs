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
use crate::ir::{Model, TensorId};
pub use crate::tensor::Interval;

pub use crate::ops::requantize::quotient_interval;

/// The result of the analysis: the interval of every tensor, indexed by `TensorId`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bounds {
    /// `tensors[t]` bounds every value of tensor `t`.
    pub tensors: Vec<Interval>,
}

impl Bounds {
    /// Interval of tensor `t`.
    pub fn tensor(&self, t: TensorId) -> Interval {
        self.tensors[t]
    }
}

const GPU_LIMIT: i128 = i32::MAX as i128;

/// Computes the bounds of every tensor, rejecting a model that could overflow.
pub fn analyze(model: &Model) -> Result<Bounds, ModelError> {
    model.tensor_infos()?;
    let mut tensors: Vec<Interval> = model
        .inputs
        .iter()
        .map(|i| Interval::signed(i.bits))
        .collect();
    for (k, node) in model.nodes.iter().enumerate() {
        let overflow = |bound: i128| ModelError::Overflow {
            op_index: k,
            op: node.op.describe(),
            bound,
            limit: GPU_LIMIT,
            why: "a GPU accumulator is an i32",
        };
        let operands: Vec<Interval> = node.inputs.iter().map(|&t| tensors[t]).collect();
        let out = node
            .op
            .semantics()
            .bounds(&operands, GPU_LIMIT)
            .map_err(overflow)?;
        if out.abs_max() as i128 > GPU_LIMIT {
            return Err(overflow(out.abs_max() as i128));
        }
        tensors.push(out);
    }
    Ok(Bounds { tensors })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{TensorInfo, WeightMode};
    use crate::ops::{Dense, Op, Relu, Requantize};

    fn model(in_features: usize, w: i64, bits: u32) -> Model {
        Model::chain(
            "b",
            WeightMode::Fixed,
            TensorInfo {
                shape: vec![in_features],
                frac_bits: 0,
                bits,
            },
            vec![
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
                Op::Relu(Relu),
            ],
            None,
        )
    }

    #[test]
    fn dense_bounds_are_exact_for_uniform_weights() {
        let b = analyze(&model(3, -2, 8)).unwrap();
        assert_eq!(
            b.tensors[1],
            Interval {
                lo: -2 * 127 * 3,
                hi: 2 * 128 * 3
            }
        );
        assert_eq!(b.tensors[2], Interval { lo: -48, hi: 48 });
        assert_eq!(b.tensors[3], Interval { lo: 0, hi: 48 });
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
