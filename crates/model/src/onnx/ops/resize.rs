//! Resize and Upsample in nearest mode, every coordinate transformation and rounding mode: a
//! selection computed from static scales or sizes.

use super::Ctx;
use crate::error::ModelError;
use crate::onnx::movement;
use crate::onnx::proto::attr;

pub(crate) fn import(cx: &mut Ctx<'_>) -> Result<usize, ModelError> {
    let node = cx.node;
    let name = cx.name;
    let consts = cx.consts;
    let x = cx.activation(0)?;
    let f = cx.full(x);
    let text = |a: &str, default: &str| {
        attr(node, a)
            .map(|v| String::from_utf8_lossy(&v.s).into_owned())
            .unwrap_or_else(|| default.to_string())
    };
    let mode = text("mode", "nearest");
    if mode != "nearest" {
        return Err(ModelError::UnsupportedOp {
            op_type: format!("{} in mode `{mode}` (only nearest)", node.op_type),
            node: name.to_string(),
        });
    }
    let coords = text("coordinate_transformation_mode", "half_pixel");
    let rounding = text("nearest_mode", "round_prefer_floor");
    // Scales (input 2, or 1 for Upsample) or sizes (input 3).
    let input_k = |k: usize| {
        node.input
            .get(k)
            .filter(|s| !s.is_empty())
            .and_then(|n| consts.get(n))
            .filter(|c| !c.data.is_empty())
    };
    let scales_at = if node.op_type == "Upsample" { 1 } else { 2 };
    let (out, scales): (Vec<usize>, Vec<f64>) = match (input_k(scales_at), input_k(3)) {
        (_, Some(sz)) => {
            let out: Vec<usize> = sz.data.iter().map(|&v| v as usize).collect();
            let sc = out
                .iter()
                .zip(&f)
                .map(|(&o, &i)| o as f64 / i as f64)
                .collect();
            (out, sc)
        }
        (Some(sc), None) => (
            f.iter()
                .zip(&sc.data)
                .map(|(&i, &s)| (i as f64 * s).floor() as usize)
                .collect(),
            sc.data.clone(),
        ),
        _ => return Err(cx.bad("neither scales nor sizes".into())),
    };
    if out.len() != f.len() {
        return Err(cx.bad(format!("output size {out:?} for shape {f:?}")));
    }
    let source = |d: usize, o: usize| -> Result<usize, ModelError> {
        let (o, i, n, s) = (o as f64, f[d] as f64, out[d] as f64, scales[d]);
        let x = match coords.as_str() {
            "asymmetric" => o / s,
            "half_pixel" => (o + 0.5) / s - 0.5,
            "pytorch_half_pixel" => {
                if n > 1.0 {
                    (o + 0.5) / s - 0.5
                } else {
                    0.0
                }
            }
            "align_corners" => {
                if n > 1.0 {
                    o * (i - 1.0) / (n - 1.0)
                } else {
                    0.0
                }
            }
            "tf_half_pixel_for_nn" => (o + 0.5) / s,
            other => {
                return Err(cx.bad(format!("coordinate_transformation_mode `{other}`")));
            }
        };
        let r = match rounding.as_str() {
            "floor" => x.floor(),
            "ceil" => x.ceil(),
            "round_prefer_ceil" => (x + 0.5).floor(),
            _ => (x - 0.5).ceil(),
        };
        Ok(r.clamp(0.0, i - 1.0) as usize)
    };
    let maps: Vec<Vec<usize>> = (0..f.len())
        .map(|d| (0..out[d]).map(|o| source(d, o)).collect())
        .collect::<Result<_, _>>()?;
    let st = movement::strides(&f);
    let total: usize = out.iter().product();
    let mut indices = Vec::with_capacity(total);
    let mut idx = vec![0usize; out.len()];
    for _ in 0..total {
        indices.push((0..f.len()).map(|d| maps[d][idx[d]] * st[d]).sum::<usize>() as i64);
        for d in (0..out.len()).rev() {
            idx[d] += 1;
            if idx[d] < out[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    cx.select(
        format!("resize {coords} {rounding}"),
        vec![x],
        out,
        indices,
        0.0,
    )
}
