//! `FloatOp::Conv` → `Conv` at the weights' own scale, exact, then a requantize to the
//! output's calibrated format.

use zkw_model::ops::{Conv, ConvGeometry, Op};

use super::{Lower, Lowered, quantize_weights, requantize_to};

pub(super) fn lower(
    l: Lower<'_>,
    geometry: &ConvGeometry,
    weights: &[f64],
    bias: &[f64],
) -> Lowered {
    let (x, frac, _) = l.x;
    let q = quantize_weights(l.name, weights, bias, frac, l.bits)?;
    let acc = l.b.push(
        l.name,
        Op::Conv(Conv {
            name: l.name.to_string(),
            geometry: geometry.clone(),
            weights: q.weights,
            weight_bits: l.bits,
            weight_frac_bits: q.weight_frac_bits,
            bias: q.bias,
            bias_bits: q.bias_bits,
        }),
        vec![x],
    );
    Ok(requantize_to(l.b, l.name, acc, q.acc_frac, l.out))
}
