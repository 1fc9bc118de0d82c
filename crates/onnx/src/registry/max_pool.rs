//! MaxPool: the window as a depthwise geometry, each maximum proved by the max-pool gadget.

use crate::ctx::Ctx;
use crate::error::OnnxError;
use crate::float::FloatOp;
use crate::layers::conv_geometry;
use crate::proto::{attr_i, attr_ints};

pub(crate) fn import(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    let node = cx.node;
    let name = cx.name;
    let x = cx.spatial(cx.activation(0)?)?;
    if node.output.get(1).is_some_and(|o| !o.is_empty()) {
        return Err(OnnxError::UnsupportedOp {
            op_type: "MaxPool with an Indices output".into(),
            node: name.to_string(),
        });
    }
    if attr_i(node, "ceil_mode", 0) != 0 {
        return Err(OnnxError::UnsupportedOp {
            op_type: "MaxPool with ceil_mode".into(),
            node: name.to_string(),
        });
    }
    let c = cx.shapes[x].first().copied().unwrap_or(0);
    let kernel = attr_ints(node, "kernel_shape").unwrap_or_default();
    // The window as a depthwise convolution's weights: [C, 1, kernel…].
    let wshape: Vec<usize> = [c, 1]
        .into_iter()
        .chain(kernel.iter().map(|&k| k.max(0) as usize))
        .collect();
    let geometry = conv_geometry(name, node, &cx.shapes[x], &wshape, c as i64)?;
    let (shape, _) = geometry
        .check()
        .map_err(|e| OnnxError::Invalid(format!("MaxPool `{name}`: {e}")))?;
    let op = FloatOp::MaxPool { geometry };
    Ok(cx.push(op, vec![x], shape))
}
