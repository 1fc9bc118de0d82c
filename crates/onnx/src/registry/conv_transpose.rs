//! ConvTranspose: a stride-1 convolution with the flipped, transposed kernel over the input
//! zero-stuffed by a selection (stride − 1 zeros between values, `d·(k − 1) − pad` around them;
//! negative padding crops).

use crate::ctx::Ctx;
use crate::error::OnnxError;
use crate::float::FloatOp;
use crate::layers::broadcast_bias;
use crate::movement;
use crate::proto::{attr, attr_i, attr_ints};
use zkw_model::ops::ConvGeometry;

pub(crate) fn import(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    let node = cx.node;
    let name = cx.name;
    // A stride-1 convolution with the flipped, transposed kernel over the input
    // with (stride - 1) zeros between its values and d·(k - 1) - pad around them.
    let x = cx.spatial(cx.activation(0)?)?;
    let w = cx.operand(1)?;
    let unsupported = |why: &str| OnnxError::UnsupportedOp {
        op_type: format!("ConvTranspose {why}"),
        node: name.to_string(),
    };
    let in_shape = cx.shapes[x].clone();
    let rank = in_shape.len().saturating_sub(1);
    if !(1..=2).contains(&rank) || w.shape.len() != rank + 2 {
        return Err(unsupported("beyond 1-D and 2-D"));
    }
    if attr(node, "output_shape").is_some()
        || attr(node, "auto_pad").is_some_and(|a| a.s != b"NOTSET")
    {
        return Err(unsupported("with output_shape or auto_pad"));
    }
    let groups = attr_i(node, "group", 1).max(1) as usize;
    let (c_in, c_out) = (in_shape[0], w.shape[1] * groups);
    if w.shape[0] != c_in || c_in % groups != 0 {
        return Err(cx.bad(format!("weights {:?} for {c_in} channels", w.shape)));
    }
    let kernel: Vec<usize> = w.shape[2..].to_vec();
    let get = |a: &str, default: usize, n: usize| -> Vec<usize> {
        attr_ints(node, a)
            .map(|v| v.iter().map(|&x| x.max(0) as usize).collect())
            .unwrap_or(vec![default; n])
    };
    let strides = get("strides", 1, rank);
    let dilations = get("dilations", 1, rank);
    let pads = get("pads", 0, 2 * rank);
    let out_pad = get("output_padding", 0, rank);
    if [&strides, &dilations, &out_pad]
        .iter()
        .any(|v| v.len() != rank)
        || pads.len() != 2 * rank
        || strides.contains(&0)
        || dilations.contains(&0)
    {
        return Err(cx.bad("strides, dilations, pads or output_padding".into()));
    }
    // The zero-stuffed, padded input as a selection (negative padding crops).
    let spread: Vec<i64> = (0..rank)
        .map(|d| (dilations[d] * (kernel[d] - 1)) as i64 - pads[d] as i64)
        .collect();
    let tail: Vec<i64> = (0..rank)
        .map(|d| {
            (dilations[d] * (kernel[d] - 1)) as i64 - pads[rank + d] as i64 + out_pad[d] as i64
        })
        .collect();
    let stuffed: Vec<usize> = (0..rank)
        .map(|d| {
            let n = (in_shape[d + 1] - 1) * strides[d] + 1;
            usize::try_from(n as i64 + spread[d] + tail[d]).unwrap_or(0)
        })
        .collect();
    if stuffed
        .iter()
        .zip(&kernel)
        .zip(&dilations)
        .any(|((&n, &k), &d)| n < d * (k - 1) + 1)
    {
        return Err(cx.bad("pads larger than the output".into()));
    }
    let sp_strides = movement::strides(&in_shape[1..]);
    let area: usize = in_shape[1..].iter().product();
    let mut indices = Vec::new();
    let out_area: usize = stuffed.iter().product();
    for c in 0..c_in {
        for p in 0..out_area {
            let mut rem = p;
            let mut flat = Some(c * area);
            for d in (0..rank).rev() {
                let o = (rem % stuffed[d]) as i64;
                rem /= stuffed[d];
                let q = o - spread[d];
                let s = strides[d] as i64;
                if q < 0 || q % s != 0 || q / s >= in_shape[d + 1] as i64 {
                    flat = None;
                } else if let Some(f) = flat.as_mut() {
                    *f += (q / s) as usize * sp_strides[d];
                }
            }
            indices.push(flat.map_or(-1, |f| f as i64));
        }
    }
    let stuffed_shape: Vec<usize> = std::iter::once(c_in)
        .chain(stuffed.iter().copied())
        .collect();
    let op = FloatOp::Select {
        what: "zero-stuffed and padded".into(),
        shape: stuffed_shape.clone(),
        indices,
        fill: 0.0,
    };
    let t = cx.push(op, vec![x], stuffed_shape);
    let k_area: usize = kernel.iter().product();
    let (cin_g, cout_g) = (c_in / groups, c_out / groups);
    let mut weights = vec![0.0; c_out * cin_g * k_area];
    for o in 0..c_out {
        let (g, ol) = (o / cout_g, o % cout_g);
        for cl in 0..cin_g {
            let c = g * cin_g + cl;
            for i in 0..k_area {
                weights[(o * cin_g + cl) * k_area + (k_area - 1 - i)] =
                    w.data[(c * cout_g + ol) * k_area + i];
            }
        }
    }
    let bias = match node.input.get(2).filter(|s| !s.is_empty()) {
        Some(_) => broadcast_bias(name, cx.operand(2)?, c_out, 1.0)?,
        None => vec![0.0; c_out],
    };
    let geometry = ConvGeometry {
        in_channels: c_in,
        out_channels: c_out,
        in_spatial: stuffed,
        kernel,
        strides: vec![1; rank],
        dilations,
        pads: vec![0; 2 * rank],
        groups,
    };
    let (shape, _) = geometry.check().map_err(|why| cx.bad(why))?;
    let op = FloatOp::Conv {
        geometry,
        weights,
        bias,
    };
    Ok(cx.push(op, vec![t], shape))
}
