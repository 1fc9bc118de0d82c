//! `FloatOp::Scale` → `Scale` with its factors at their own scale and offsets at the
//! product's, exact, then a requantize to the output's calibrated format.

use zkw_model::ops::{Op, Scale};

use super::{Lower, Lowered, quantize_weights, requantize_to};

pub(super) fn lower(l: Lower<'_>, scale: &[f64], offset: &[f64]) -> Lowered {
    let (x, frac, _) = l.x;
    let q = quantize_weights(l.name, scale, offset, frac, l.bits)?;
    let op = Op::Scale(Scale {
        name: l.name.to_string(),
        scale: q.weights,
        scale_bits: l.bits,
        scale_frac_bits: q.weight_frac_bits,
        offset: q.bias,
        offset_bits: q.bias_bits,
    });
    let acc = l.b.push(l.name, op, vec![x]);
    Ok(requantize_to(l.b, l.name, acc, q.acc_frac, l.out))
}
