//! `FloatOp::Dense` → `Dense` at the weights' own scale, exact, then a requantize to the
//! output's calibrated format.

use zkw_model::ops::{Dense, Op};

use super::{Lower, Lowered, weighted};

pub(super) fn lower(
    l: Lower<'_>,
    in_features: usize,
    out_features: usize,
    weights: &[f64],
    bias: &[f64],
) -> Lowered {
    let name = l.name.to_string();
    weighted(l, weights, bias, |q, bits| {
        Op::Dense(Dense {
            name,
            in_features,
            out_features,
            weights: q.weights,
            weight_bits: bits,
            weight_frac_bits: q.weight_frac_bits,
            bias: q.bias,
            bias_bits: q.bias_bits,
        })
    })
}
