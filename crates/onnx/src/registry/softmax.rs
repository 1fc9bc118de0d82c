//! Softmax over the last axis (or, before opset 13, over all axes from `axis`): the softmax
//! gadget over rows.

use crate::ctx::Ctx;
use crate::error::OnnxError;
use crate::float::FloatOp;
use crate::proto::attr_i;

pub(crate) fn import(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    let x = cx.activation(0)?;
    let axis_len = rows_of(cx, x)?;
    let op = FloatOp::Softmax { axis_len };
    let shape = cx.shapes[x].clone();
    Ok(cx.push(op, vec![x], shape))
}

/// The length of the rows a softmax-like op (Softmax, LogSoftmax) normalizes over tensor `x`:
/// its last axis, or before opset 13 every axis from `axis` on.
pub(super) fn rows_of(cx: &Ctx<'_>, x: usize) -> Result<usize, OnnxError> {
    let node = cx.node;
    let opset = cx.opset;
    let shape = &cx.shapes[x];
    // ONNX counts the batch dimension; ours is stripped.
    let full = cx.full(x).len();
    let has_batch = full > shape.len();
    let axis = attr_i(node, "axis", if opset >= 13 { -1 } else { 1 });
    let axis = if axis < 0 { axis + full as i64 } else { axis };
    let rank_axis = axis - i64::from(has_batch);
    let axis_len = if opset >= 13 {
        // One axis: supported when it is the last.
        (axis == full as i64 - 1 && rank_axis >= 0).then(|| shape[shape.len() - 1])
    } else {
        // Before opset 13: the input is flattened to 2-D at `axis`; rows are
        // everything from `axis` on.
        (0..=shape.len() as i64)
            .contains(&rank_axis.max(0))
            .then(|| shape[rank_axis.max(0) as usize..].iter().product())
    };
    axis_len.ok_or_else(|| OnnxError::UnsupportedOp {
        op_type: format!(
            "{} over axis {axis} of a tensor of rank {full} (only the last)",
            node.op_type
        ),
        node: cx.name.to_string(),
    })
}
