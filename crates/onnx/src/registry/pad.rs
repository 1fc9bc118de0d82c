//! Pad in constant mode: a selection with the pad value as its fill.

use crate::ctx::Ctx;
use crate::error::OnnxError;
use crate::movement;
use crate::proto::{attr, attr_f, scalar};

pub(crate) fn import(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    let node = cx.node;
    let name = cx.name;
    let x = cx.activation(0)?;
    let f = cx.full(x);
    let mode = attr(node, "mode")
        .map(|a| String::from_utf8_lossy(&a.s).into_owned())
        .unwrap_or_else(|| "constant".into());
    if mode != "constant" || node.input.get(3).is_some_and(|s| !s.is_empty()) {
        return Err(OnnxError::UnsupportedOp {
            op_type: format!("Pad in mode `{mode}` or over chosen axes"),
            node: name.to_string(),
        });
    }
    let pads = cx
        .ints(1, "pads")?
        .ok_or_else(|| cx.bad("no pads".into()))?;
    let value = match node.input.get(2).filter(|s| !s.is_empty()) {
        Some(_) => scalar(cx.operand(2)?).unwrap_or(0.0),
        None => attr_f(node, "value", 0.0) as f64,
    };
    let (out, idx) = movement::pad(&f, &pads).map_err(|why| cx.bad(why))?;
    cx.select("pad".into(), vec![x], out, idx, value)
}
