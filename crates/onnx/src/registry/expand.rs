//! Expand to a constant shape: a broadcasting selection.

use crate::ctx::Ctx;
use crate::error::OnnxError;
use crate::movement;

pub(crate) fn import(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    let x = cx.activation(0)?;
    let f = cx.full(x);
    let target: Vec<usize> = cx
        .operand(1)?
        .data
        .iter()
        .map(|&v| v.max(0.0) as usize)
        .collect();
    let out = movement::broadcast_shape(&f, &target).map_err(|why| cx.bad(why))?;
    let idx = movement::broadcast(&f, &out).map_err(|why| cx.bad(why))?;
    cx.select("expand".into(), vec![x], out, idx, 0.0)
}
