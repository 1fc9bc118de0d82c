//! Concat: a selection of the operands' values along one axis (zero constraints).

use crate::ctx::Ctx;
use crate::error::OnnxError;
use crate::movement;
use crate::proto::attr_i;

pub(crate) fn import(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    let node = cx.node;
    let name = cx.name;
    let xs = (0..node.input.len())
        .map(|k| {
            cx.activation(k).map_err(|_| OnnxError::UnsupportedOp {
                op_type: "Concat of a constant with a computed tensor".into(),
                node: name.to_string(),
            })
        })
        .collect::<Result<Vec<usize>, _>>()?;
    let fulls: Vec<Vec<usize>> = xs.iter().map(|&x| cx.full(x)).collect();
    let a = movement::axis(attr_i(node, "axis", 0), fulls[0].len()).map_err(|why| cx.bad(why))?;
    let (out, idx) = movement::concat(&fulls, a).map_err(|why| cx.bad(why))?;
    cx.select(format!("concat on axis {a}"), xs, out, idx, 0.0)
}
