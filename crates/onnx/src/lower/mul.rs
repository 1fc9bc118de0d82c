//! `FloatOp::Mul` → an exact `Mul` (its scale the sum of the operands'), then a requantize
//! to the output's calibrated format.

use zkw_model::ops::{Mul, Op};

use super::{Lower, Lowered, requantize_to};

pub(super) fn lower(l: Lower<'_>) -> Lowered {
    let (x, frac, _) = l.x;
    let (y, yfrac, _) = l.at[l.node.inputs[1]];
    let product = l.b.push(l.name, Op::Mul(Mul), vec![x, y]);
    Ok(requantize_to(l.b, l.name, product, frac + yfrac, l.out))
}
