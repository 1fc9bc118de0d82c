//! Slice with constant starts, ends, axes and steps: a selection.

use crate::ctx::Ctx;
use crate::error::OnnxError;
use crate::movement;

pub(crate) fn import(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    let x = cx.activation(0)?;
    let f = cx.full(x);
    let starts = cx
        .ints(1, "starts")?
        .ok_or_else(|| cx.bad("no starts".into()))?;
    let ends = cx
        .ints(2, "ends")?
        .ok_or_else(|| cx.bad("no ends".into()))?;
    let axes: Vec<usize> = match cx.ints(3, "axes")? {
        Some(a) => a
            .iter()
            .map(|&v| movement::axis(v, f.len()))
            .collect::<Result<_, _>>()
            .map_err(|why| cx.bad(why))?,
        None => (0..starts.len()).collect(),
    };
    let steps = cx.ints(4, "steps")?.unwrap_or(vec![1; starts.len()]);
    if ends.len() != starts.len() || axes.len() != starts.len() {
        return Err(cx.bad("starts, ends and axes differ in length".into()));
    }
    let (out, idx) =
        movement::slice(&f, &starts, &ends, &axes, &steps).map_err(|why| cx.bad(why))?;
    cx.select("slice".into(), vec![x], out, idx, 0.0)
}
