//! `FloatOp::Reshape` → `Reshape`: the same values, another shape.

use zkw_model::ops::{Op, Reshape};

use super::{Lower, Lowered};

pub(super) fn lower(l: Lower<'_>, shape: &[usize]) -> Lowered {
    let (x, frac, bits) = l.x;
    let op = Op::Reshape(Reshape {
        shape: shape.to_vec(),
    });
    Ok((l.b.push(l.name, op, vec![x]), frac, bits))
}
