//! Clip (and so Relu6): scalar bounds from inputs (opset ≥ 11) or attributes, fused into the
//! operand's element-wise function.

use crate::compose::fusable;
use crate::ctx::Ctx;
use crate::elementwise::Unary;
use crate::error::OnnxError;
use crate::float::FloatOp;
use crate::proto::{attr, scalar};

pub(crate) fn import(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    let node = cx.node;
    let name = cx.name;
    let n_in = cx.n_in;
    // Bounds as inputs (opset ≥ 11) or attributes (before), each optional.
    let bound = |k: usize, attr_name: &str, default: f64| -> Result<f64, OnnxError> {
        match node.input.get(k).filter(|s| !s.is_empty()) {
            Some(_) => scalar(cx.operand(k)?).ok_or_else(|| OnnxError::UnsupportedOp {
                op_type: "Clip with a non-scalar bound".into(),
                node: name.to_string(),
            }),
            None => Ok(attr(node, attr_name).map_or(default, |a| a.f as f64)),
        }
    };
    let f = Unary::Clip(
        bound(1, "min", f64::NEG_INFINITY)?,
        bound(2, "max", f64::INFINITY)?,
    );
    let x = cx.activation(0)?;
    let (src, e) = fusable(cx.nodes, n_in, x, cx.sole_reader(0));
    let shape = cx.shapes[x].clone();
    let op = FloatOp::Map { expr: e.unary(f) };
    Ok(cx.push(op, vec![src], shape))
}
