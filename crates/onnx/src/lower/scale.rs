//! `FloatOp::Scale` → `Scale` with its factors at their own scale and offsets at the
//! product's, exact, then a requantize to the output's calibrated format.

use zkw_model::ops::{Op, Scale};

use super::{Lower, Lowered, weighted};

pub(super) fn lower(l: Lower<'_>, scale: &[f64], offset: &[f64]) -> Lowered {
    let name = l.name.to_string();
    weighted(l, scale, offset, |q, bits| {
        Op::Scale(Scale {
            name,
            scale: q.weights,
            scale_bits: bits,
            scale_frac_bits: q.weight_frac_bits,
            offset: q.bias,
            offset_bits: q.bias_bits,
        })
    })
}
