//! `FloatOp::Dense` → `Dense` at the weights' own scale, exact, then a requantize to the
//! output's calibrated format.

use zkw_model::ops::{Dense, Op};

use super::{Lower, Lowered, quantize_weights, requantize_to};

pub(super) fn lower(
    l: Lower<'_>,
    in_features: usize,
    out_features: usize,
    weights: &[f64],
    bias: &[f64],
) -> Lowered {
    let (x, frac, _) = l.x;
    let q = quantize_weights(l.name, weights, bias, frac, l.bits)?;
    let acc = l.b.push(
        l.name,
        Op::Dense(Dense {
            name: l.name.to_string(),
            in_features,
            out_features,
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
