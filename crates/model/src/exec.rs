//! THE reference integer semantics: what every op computes, to the bit.
//!
//! The wgpu kernels and the R1CS gadgets are tested equal to these functions. They operate on
//! `i64` so that they can never wrap themselves; [`crate::bounds`] guarantees statically that
//! every value of an accepted model also fits the narrower types other executors use.
//!
//! The executor returns a [`Trace`]: the input and the output of every op. The circuit's witness
//! is built from a trace alone, so any executor that produces the same trace (the GPU) can
//! feed the prover.

use serde::{Deserialize, Serialize};

use crate::error::ModelError;
use crate::ir::{Dense, Model, Op, Requantize, signed_range};

/// Every tensor of one inference: the input and the output of each op, in op order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    /// The quantized input.
    pub input: Vec<i64>,
    /// `steps[i]` is the output of `model.ops[i]`.
    pub steps: Vec<Vec<i64>>,
}

impl Trace {
    /// The model's output (the last step, or the input for a model without ops).
    pub fn output(&self) -> &[i64] {
        self.steps.last().unwrap_or(&self.input)
    }

    /// The input of op `i`.
    pub fn op_input(&self, i: usize) -> &[i64] {
        if i == 0 {
            &self.input
        } else {
            &self.steps[i - 1]
        }
    }
}

/// Checks that `input` fits the model's input length and bit width.
pub fn check_input(model: &Model, input: &[i64]) -> Result<(), ModelError> {
    if input.len() != model.input.len() {
        return Err(ModelError::InputLength {
            expected: model.input.len(),
            got: input.len(),
            shape: model.input.shape.clone(),
        });
    }
    let (lo, hi) = signed_range(model.input.bits);
    if let Some((index, &value)) = input.iter().enumerate().find(|(_, v)| **v < lo || **v > hi) {
        return Err(ModelError::InputOutOfRange {
            index,
            value,
            bits: model.input.bits,
        });
    }
    Ok(())
}

/// Runs the model on a quantized input and returns the full trace.
pub fn run(model: &Model, input: &[i64]) -> Result<Trace, ModelError> {
    model.tensor_infos()?;
    check_input(model, input)?;
    let mut steps: Vec<Vec<i64>> = Vec::with_capacity(model.ops.len());
    for op in &model.ops {
        let x = steps.last().map(Vec::as_slice).unwrap_or(input);
        steps.push(apply(op, x));
    }
    Ok(Trace {
        input: input.to_vec(),
        steps,
    })
}

/// Applies one op to its input.
pub fn apply(op: &Op, x: &[i64]) -> Vec<i64> {
    match op {
        Op::Dense(d) => dense(d, x),
        Op::Requantize(r) => x.iter().map(|&v| requantize(r, v)).collect(),
        Op::Relu => x.iter().map(|&v| relu(v)).collect(),
        Op::Reshape { .. } => x.to_vec(),
    }
}

/// `acc[j] = bias[j] + Σ_i w[j][i] · x[i]`, exact.
pub fn dense(d: &Dense, x: &[i64]) -> Vec<i64> {
    (0..d.out_features)
        .map(|j| {
            let row = &d.weights[j * d.in_features..(j + 1) * d.in_features];
            d.bias[j] + row.iter().zip(x).map(|(w, v)| w * v).sum::<i64>()
        })
        .collect()
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

/// Round-half-up shift, then saturation.
pub fn requantize(r: &Requantize, v: i64) -> i64 {
    saturate(round_shift(v, r.shift), r.bits)
}

/// `max(0, v)`.
pub fn relu(v: i64) -> i64 {
    v.max(0)
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
        assert_eq!(requantize(&r, 1000), 127);
        assert_eq!(requantize(&r, -1000), -128);
        assert_eq!(requantize(&r, -256), -128);
        assert_eq!(requantize(&r, 253), 127);
    }

    #[test]
    fn dense_is_exact() {
        let d = Dense {
            name: "d".into(),
            in_features: 3,
            out_features: 2,
            weights: vec![1, 2, 3, -4, 5, -6],
            weight_bits: 8,
            weight_frac_bits: 0,
            bias: vec![10, -10],
            bias_bits: 16,
        };
        assert_eq!(
            dense(&d, &[1, -1, 2]),
            vec![10 + 1 - 2 + 6, -10 - 4 - 5 - 12]
        );
    }
}
