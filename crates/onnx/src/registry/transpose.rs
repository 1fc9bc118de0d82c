//! Transpose: a selection.

use crate::ctx::Ctx;
use crate::error::OnnxError;
use crate::movement;
use crate::proto::attr_ints;

pub(crate) fn import(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    let node = cx.node;
    let x = cx.activation(0)?;
    let f = cx.full(x);
    let perm: Vec<usize> = match attr_ints(node, "perm") {
        Some(p) => p.iter().map(|&v| v.max(0) as usize).collect(),
        None => (0..f.len()).rev().collect(),
    };
    let (out, idx) = movement::transpose(&f, &perm).map_err(|why| cx.bad(why))?;
    cx.select(format!("transpose {perm:?}"), vec![x], out, idx, 0.0)
}
