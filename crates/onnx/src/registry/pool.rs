//! AveragePool, GlobalAveragePool and GlobalMaxPool: averages as a depthwise convolution of
//! equal weights (count_include_pad, or no padding), the global maximum as one max-pool window.

use crate::ctx::Ctx;
use crate::error::OnnxError;
use crate::float::FloatOp;
use crate::layers::conv_geometry;
use crate::proto::{attr_i, attr_ints};
use zkw_model::ops::ConvGeometry;

/// `AveragePool`.
pub(crate) fn average(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    read(cx, false, false)
}

/// `GlobalAveragePool`.
pub(crate) fn global_average(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    read(cx, true, false)
}

/// `GlobalMaxPool`.
pub(crate) fn global_max(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    read(cx, true, true)
}

fn read(cx: &mut Ctx<'_>, global: bool, max: bool) -> Result<usize, OnnxError> {
    let node = cx.node;
    let name = cx.name;
    let x = cx.spatial(cx.activation(0)?)?;
    let c = cx.shapes[x].first().copied().unwrap_or(0);
    let kernel: Vec<usize> = if global {
        cx.shapes[x][1..].to_vec()
    } else {
        attr_ints(node, "kernel_shape")
            .unwrap_or_default()
            .iter()
            .map(|&k| k.max(0) as usize)
            .collect()
    };
    if attr_i(node, "ceil_mode", 0) != 0 {
        return Err(OnnxError::UnsupportedOp {
            op_type: format!("{} with ceil_mode", node.op_type),
            node: name.to_string(),
        });
    }
    let wshape: Vec<usize> = [c, 1].into_iter().chain(kernel.iter().copied()).collect();
    let geometry = if global {
        let rank = kernel.len();
        ConvGeometry {
            in_channels: c,
            out_channels: c,
            in_spatial: kernel.clone(),
            kernel: kernel.clone(),
            strides: vec![1; rank],
            dilations: vec![1; rank],
            pads: vec![0; 2 * rank],
            groups: c,
        }
    } else {
        conv_geometry(name, node, &cx.shapes[x], &wshape, c as i64)?
    };
    let (shape, _) = geometry.check().map_err(|why| cx.bad(why))?;
    let op = if max {
        FloatOp::MaxPool { geometry }
    } else {
        if geometry.pads.iter().any(|&p| p > 0) && attr_i(node, "count_include_pad", 0) == 0 {
            return Err(OnnxError::UnsupportedOp {
                op_type: "AveragePool over padding without count_include_pad".into(),
                node: name.to_string(),
            });
        }
        let k: usize = kernel.iter().product();
        FloatOp::Conv {
            weights: vec![1.0 / k as f64; c * k],
            bias: vec![0.0; c],
            geometry,
        }
    };
    Ok(cx.push(op, vec![x], shape))
}
