//! `FloatOp::MaxPool` → `MaxPool`, at its input's scale and width.

use zkw_model::ops::{ConvGeometry, MaxPool, Op};

use super::{Lower, Lowered};

pub(super) fn lower(l: Lower<'_>, geometry: &ConvGeometry) -> Lowered {
    let (x, frac, bits) = l.x;
    let op = Op::MaxPool(MaxPool {
        geometry: geometry.clone(),
    });
    Ok((l.b.push(l.name, op, vec![x]), frac, bits))
}
