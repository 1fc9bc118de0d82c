//! Add — the R1CS image of `zkw_model::ops::add`: `z = a + b`, a linear combination, no
//! constraint of its own (whatever reads `z` pins it down: a requantize decomposes it, an
//! output equality binds it).

use crate::lin::Val;

/// Element-wise sum of two operands of one length.
pub fn add(a: &[Val], b: &[Val]) -> Vec<Val> {
    a.iter()
        .zip(b)
        .map(|(a, b)| Val::plain(a.lin.add(&b.lin)))
        .collect()
}
