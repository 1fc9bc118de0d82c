//! Conv, 1-D and 2-D: pads (explicit or auto_pad), strides, dilations, groups and depthwise, as
//! one convolution layer with its weights and bias.

use crate::ctx::Ctx;
use crate::error::OnnxError;
use crate::float::FloatOp;
use crate::layers::{broadcast_bias, conv_geometry};
use crate::proto::attr_i;

pub(crate) fn import(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    let node = cx.node;
    let name = cx.name;
    let x = cx.spatial(cx.activation(0)?)?;
    let w = cx.operand(1)?;
    let groups = attr_i(node, "group", 1);
    let geometry = conv_geometry(name, node, &cx.shapes[x], &w.shape, groups)?;
    let bias = match node.input.get(2).filter(|s| !s.is_empty()) {
        Some(_) => broadcast_bias(name, cx.operand(2)?, geometry.out_channels, 1.0)?,
        None => vec![0.0; geometry.out_channels],
    };
    let shape: Vec<usize> = std::iter::once(geometry.out_channels)
        .chain(
            geometry
                .out_spatial()
                .map_err(|e| OnnxError::Invalid(format!("Conv `{name}`: {e}")))?,
        )
        .collect();
    let op = FloatOp::Conv {
        geometry,
        weights: w.data.clone(),
        bias,
    };
    Ok(cx.push(op, vec![x], shape))
}
