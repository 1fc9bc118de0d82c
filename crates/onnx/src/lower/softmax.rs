//! `FloatOp::Softmax` → `Softmax` with a table of exponentials over its (narrowed) input,
//! at scale `2^14`; the output has `bits - 2` fraction bits.

use zkw_model::ops::{Op, Softmax};

use super::{Lower, Lowered, narrow_for_table};

/// A softmax's exponentials are at scale `2^14`: `e^0 = 16384`.
const SOFTMAX_EXP_SCALE: f64 = 16384.0;

pub(super) fn lower(l: Lower<'_>, axis_len: usize) -> Lowered {
    let range = l.ranges[l.node.inputs[0]];
    let (x, frac, xbits) = narrow_for_table(l.b, l.name, l.x, range);
    let top = (1i64 << xbits) - 1;
    let step = (-frac as f64).exp2();
    let exp = (0..=top)
        .map(|k| (SOFTMAX_EXP_SCALE * libm::exp((k - top) as f64 * step)).round() as i64)
        .collect();
    let op = Op::Softmax(Softmax {
        axis_len,
        in_bits: xbits,
        exp,
        frac_bits: l.bits - 2,
    });
    Ok((l.b.push(l.name, op, vec![x]), l.bits as i32 - 2, l.bits))
}
