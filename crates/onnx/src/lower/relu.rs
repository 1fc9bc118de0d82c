//! `FloatOp::Relu` → `Relu`, at its input's scale and width.

use zkw_model::ops::{Op, Relu};

use super::{Lower, Lowered};

pub(super) fn lower(l: Lower<'_>) -> Lowered {
    let (x, frac, bits) = l.x;
    Ok((l.b.push(l.name, Op::Relu(Relu), vec![x]), frac, bits))
}
