//! Element-wise functions of one operand (Relu and every function of [`Unary`]): a chain of them
//! over one tensor fuses into one exact integer table; a ReLU of its own keeps the cheaper
//! sign-bit gadget.

use crate::compose::fusable;
use crate::ctx::Ctx;
use crate::elementwise::{Expr, Unary};
use crate::error::OnnxError;
use crate::float::FloatOp;

pub(crate) fn import(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    let node = cx.node;
    let n_in = cx.n_in;
    // The function, with its attributes, is the registry row's.
    let f = cx
        .function
        .and_then(|f| f.unary(node))
        .ok_or_else(|| cx.unregistered())?;
    let x = cx.activation(0)?;
    let (src, e) = fusable(cx.nodes, n_in, x, cx.sole_reader(0));
    let shape = cx.shapes[x].clone();
    Ok(if f == Unary::Relu && e == Expr::X {
        // A ReLU of its own: the cheaper gadget (a sign bit, not a table).
        cx.push(FloatOp::Relu, vec![x], shape)
    } else {
        let op = FloatOp::Map { expr: e.unary(f) };
        cx.push(op, vec![src], shape)
    })
}
