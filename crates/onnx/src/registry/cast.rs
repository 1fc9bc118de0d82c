//! Cast: to a float type the value is unchanged; to an integer or boolean type, a rounding or
//! saturating table fused into the operand's function.

use crate::compose::{cast_function, fusable};
use crate::ctx::Ctx;
use crate::error::OnnxError;
use crate::float::FloatOp;
use crate::proto::attr_i;

pub(crate) fn import(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    let node = cx.node;
    let name = cx.name;
    let n_in = cx.n_in;
    Ok(match attr_i(node, "to", 1) {
        // To a float type: the value is unchanged.
        1 | 10 | 11 | 16 => cx.activation(0)?,
        to => {
            let f = cast_function(to).ok_or_else(|| OnnxError::UnsupportedOp {
                op_type: format!("Cast to ONNX type {to}"),
                node: name.to_string(),
            })?;
            let x = cx.activation(0)?;
            let (src, e) = fusable(cx.nodes, n_in, x, cx.sole_reader(0));
            let op = FloatOp::Map { expr: e.unary(f) };
            let shape = cx.shapes[x].clone();
            cx.push(op, vec![src], shape)
        }
    })
}
