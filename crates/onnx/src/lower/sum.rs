//! `FloatOp::Sum` → an exact `Sum` of each row, then a requantize to the output's calibrated
//! format.

use zkw_model::ops::{Op, Sum};

use super::{Lower, Lowered, requantize_to};

pub(super) fn lower(l: Lower<'_>, axis_len: usize) -> Lowered {
    let (x, frac, _) = l.x;
    let sum = l.b.push(l.name, Op::Sum(Sum { axis_len }), vec![x]);
    Ok(requantize_to(l.b, l.name, sum, frac, l.out))
}
