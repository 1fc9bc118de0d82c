//! `FloatOp::Conv` → `Conv` at the weights' own scale, exact, then a requantize to the
//! output's calibrated format.

use zkw_model::ops::{Conv, ConvGeometry, Op};

use super::{Lower, Lowered, weighted};

pub(super) fn lower(
    l: Lower<'_>,
    geometry: &ConvGeometry,
    weights: &[f64],
    bias: &[f64],
) -> Lowered {
    let name = l.name.to_string();
    weighted(l, weights, bias, |q, bits| {
        Op::Conv(Conv {
            name,
            geometry: geometry.clone(),
            weights: q.weights,
            weight_bits: bits,
            weight_frac_bits: q.weight_frac_bits,
            bias: q.bias,
            bias_bits: q.bias_bits,
        })
    })
}
