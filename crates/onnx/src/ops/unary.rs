//! Element-wise functions of one operand (Relu and every function of [`Unary`]): a chain of them
//! over one tensor fuses into one exact integer table; a ReLU of its own keeps the cheaper
//! sign-bit gadget.

use super::Ctx;
use crate::compose::fusable;
use crate::elementwise::{Expr, Unary};
use crate::error::OnnxError;
use crate::float::FloatOp;
use crate::proto::{attr, attr_f};

pub(crate) fn import(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    let node = cx.node;
    let n_in = cx.n_in;
    let op_type = node.op_type.as_str();
    let f = match op_type {
        "Relu" => Unary::Relu,
        // Opset 20's Gelu: exact (erf) or, with approximate="tanh", the tanh form.
        "Gelu" => Unary::Gelu(attr(node, "approximate").is_some_and(|a| a.s == b"tanh")),
        _ => {
            Unary::from_onnx(op_type, |n, d| attr_f(node, n, d)).ok_or_else(|| cx.unregistered())?
        }
    };
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
