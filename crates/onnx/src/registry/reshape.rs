//! Flatten and Reshape (`0` and `-1` resolved against the static shape): the same values in a
//! new shape.

use crate::ctx::Ctx;
use crate::error::OnnxError;
use crate::layers::resolve_reshape;
use crate::proto::attr_i;

/// `Flatten`.
pub(crate) fn flatten(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    read(cx, true)
}

/// `Reshape`.
pub(crate) fn reshape(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    read(cx, false)
}

fn read(cx: &mut Ctx<'_>, flatten: bool) -> Result<usize, OnnxError> {
    let node = cx.node;
    let name = cx.name;
    let x = cx.activation(0)?;
    let f = cx.full(x);
    let out = if flatten {
        let a = attr_i(node, "axis", 1);
        let a = if a < 0 { a + f.len() as i64 } else { a }.clamp(0, f.len() as i64);
        let (head, tail) = f.split_at(a as usize);
        vec![head.iter().product(), tail.iter().product()]
    } else {
        resolve_reshape(name, &cx.operand(1)?.data, &f, false)?
    };
    Ok(cx.reshaped(x, out))
}
