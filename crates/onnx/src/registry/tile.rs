//! Tile by constant repeats: a selection.

use crate::ctx::Ctx;
use crate::error::OnnxError;
use crate::movement;

pub(crate) fn import(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    let x = cx.activation(0)?;
    let f = cx.full(x);
    let repeats: Vec<i64> = cx.operand(1)?.data.iter().map(|&v| v as i64).collect();
    let (out, idx) = movement::tile(&f, &repeats).map_err(|why| cx.bad(why))?;
    cx.select("tile".into(), vec![x], out, idx, 0.0)
}
