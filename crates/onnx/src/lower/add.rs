//! `FloatOp::Add` → operands at one scale (the finer one shifted to the coarser: its width
//! can only shrink), an exact `Add` one bit wider, then a requantize to the output's
//! calibrated format.

use zkw_model::ops::{Add, Op};

use super::{Lower, Lowered, align_to, requantize_to};

pub(super) fn lower(l: Lower<'_>) -> Lowered {
    let (x, frac, xbits) = l.x;
    let (y, yfrac, ybits) = l.at[l.node.inputs[1]];
    let common = frac.min(yfrac);
    let xa = align_to(l.b, l.name, x, frac, xbits, common);
    let ya = align_to(l.b, l.name, y, yfrac, ybits, common);
    let sum = l.b.push(l.name, Op::Add(Add), vec![xa, ya]);
    Ok(requantize_to(l.b, l.name, sum, common, l.out))
}
