//! Resize and Upsample from static scales or sizes, every coordinate transformation but
//! `tf_crop_and_resize`.
//!
//! Nearest (every rounding mode) is one selection. Linear is, per corner of the
//! interpolation cell (2^r corners for r interpolated axes), a selection of that corner's
//! values and their constant weights (a Scale), then the corners added: exact but for the
//! weights' quantization.

use crate::ctx::Ctx;
use crate::error::OnnxError;
use crate::float::FloatOp;
use crate::movement;
use crate::proto::attr;

/// `Resize`.
pub(crate) fn resize(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    read(cx, false)
}

/// `Upsample` (opset 9): scales as its second input.
pub(crate) fn upsample(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    read(cx, true)
}

fn read(cx: &mut Ctx<'_>, upsample: bool) -> Result<usize, OnnxError> {
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
    let linear = matches!(mode.as_str(), "linear" | "bilinear" | "trilinear");
    if mode != "nearest" && !linear {
        return Err(OnnxError::UnsupportedOp {
            op_type: format!(
                "{} in mode `{mode}` (only nearest and linear)",
                node.op_type
            ),
            node: name.to_string(),
        });
    }
    if attr(node, "antialias").is_some_and(|a| a.i != 0) {
        return Err(OnnxError::UnsupportedOp {
            op_type: format!("{} with antialias", node.op_type),
            node: name.to_string(),
        });
    }
    // Upsample (deprecated) maps coordinates asymmetrically and rounds down.
    let coords = text(
        "coordinate_transformation_mode",
        if upsample { "asymmetric" } else { "half_pixel" },
    );
    let rounding = text(
        "nearest_mode",
        if upsample {
            "floor"
        } else {
            "round_prefer_floor"
        },
    );
    // Scales (input 2, or 1 for Upsample) or sizes (input 3).
    let input_k = |k: usize| {
        node.input
            .get(k)
            .filter(|s| !s.is_empty())
            .and_then(|n| consts.get(n))
            .filter(|c| !c.data.is_empty())
    };
    let scales_at = if upsample { 1 } else { 2 };
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
    const TRANSFORMS: [&str; 5] = [
        "asymmetric",
        "half_pixel",
        "pytorch_half_pixel",
        "align_corners",
        "tf_half_pixel_for_nn",
    ];
    if !TRANSFORMS.contains(&coords.as_str()) {
        return Err(OnnxError::UnsupportedOp {
            op_type: format!(
                "{} with coordinate_transformation_mode `{coords}`",
                node.op_type
            ),
            node: name.to_string(),
        });
    }
    // Output position `o` of axis `d` in input coordinates.
    let coordinate = |d: usize, o: usize| -> f64 {
        let (o, i, n, s) = (o as f64, f[d] as f64, out[d] as f64, scales[d]);
        match coords.as_str() {
            "asymmetric" => o / s,
            "half_pixel" => (o + 0.5) / s - 0.5,
            "pytorch_half_pixel" if n > 1.0 => (o + 0.5) / s - 0.5,
            "align_corners" if n > 1.0 => o * (i - 1.0) / (n - 1.0),
            "pytorch_half_pixel" | "align_corners" => 0.0,
            _ => (o + 0.5) / s, // tf_half_pixel_for_nn
        }
    };
    if linear {
        return interpolate(cx, x, &f, &out, coordinate);
    }
    let source = |d: usize, o: usize| -> usize {
        let (x, i) = (coordinate(d, o), f[d] as f64);
        let r = match rounding.as_str() {
            "floor" => x.floor(),
            "ceil" => x.ceil(),
            "round_prefer_ceil" => (x + 0.5).floor(),
            _ => (x - 0.5).ceil(),
        };
        r.clamp(0.0, i - 1.0) as usize
    };
    let maps: Vec<Vec<usize>> = (0..f.len())
        .map(|d| (0..out[d]).map(|o| source(d, o)).collect())
        .collect();
    let indices = gather_grid(&f, &out, |d, o| maps[d][o]);
    cx.select(
        format!("resize {coords} {rounding}"),
        vec![x],
        out,
        indices,
        0.0,
    )
}

/// For each position of the output grid `out` (row-major), the input index (of an input of
/// shape `f`) whose coordinate along each axis `d` is `at(d, o_d)`.
fn gather_grid(f: &[usize], out: &[usize], at: impl Fn(usize, usize) -> usize) -> Vec<i64> {
    let st = movement::strides(f);
    let total: usize = out.iter().product();
    let mut indices = Vec::with_capacity(total);
    let mut idx = vec![0usize; out.len()];
    for _ in 0..total {
        indices.push((0..f.len()).map(|d| at(d, idx[d]) * st[d]).sum::<usize>() as i64);
        for d in (0..out.len()).rev() {
            idx[d] += 1;
            if idx[d] < out[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    indices
}

/// Linear interpolation of `x` (ONNX shape `f`) to `out`: the source coordinate clamped to the
/// input, its two neighbours per axis and their weights; one selection and one Scale per
/// corner of the cell, summed.
fn interpolate(
    cx: &mut Ctx<'_>,
    x: usize,
    f: &[usize],
    out: &[usize],
    coordinate: impl Fn(usize, usize) -> f64,
) -> Result<usize, OnnxError> {
    // Per axis and output position: (lower neighbour, upper neighbour, upper's weight).
    let cells: Vec<Vec<(usize, usize, f64)>> = (0..f.len())
        .map(|d| {
            (0..out[d])
                .map(|o| {
                    let last = f[d].saturating_sub(1);
                    let c = coordinate(d, o).clamp(0.0, last as f64);
                    let lo = c.floor() as usize;
                    (lo, (lo + 1).min(last), c - lo as f64)
                })
                .collect()
        })
        .collect();
    // Only the axes where some position falls between two inputs need both neighbours.
    let moving: Vec<usize> = (0..f.len())
        .filter(|&d| cells[d].iter().any(|&(_, _, w)| w != 0.0))
        .collect();
    let mut sum: Option<usize> = None;
    for corner in 0..1usize << moving.len() {
        let upper = |d: usize| {
            moving
                .iter()
                .position(|&m| m == d)
                .is_some_and(|k| corner >> k & 1 == 1)
        };
        let indices = gather_grid(f, out, |d, o| {
            let (lo, hi, _) = cells[d][o];
            if upper(d) { hi } else { lo }
        });
        let weights: Vec<f64> = (0..out.iter().product::<usize>())
            .map(|p| {
                // The position's coordinate along each axis, from its row-major index.
                let mut rest = p;
                let mut w = 1.0;
                for d in (0..out.len()).rev() {
                    let o = rest % out[d];
                    rest /= out[d];
                    if moving.contains(&d) {
                        let (_, _, u) = cells[d][o];
                        w *= if upper(d) { u } else { 1.0 - u };
                    }
                }
                w
            })
            .collect();
        let picked = cx.select(
            format!("linear resize corner {corner}"),
            vec![x],
            out.to_vec(),
            indices,
            0.0,
        )?;
        let shape = cx.shapes[picked].clone();
        let term = if weights.iter().all(|&w| w == 1.0) {
            picked
        } else {
            let len = weights.len();
            let op = FloatOp::Scale {
                scale: weights,
                offset: vec![0.0; len],
            };
            cx.push(op, vec![picked], shape.clone())
        };
        sum = Some(match sum {
            None => term,
            Some(acc) => cx.push(FloatOp::Add, vec![acc, term], shape),
        });
    }
    sum.ok_or_else(|| cx.bad("nothing to interpolate".into()))
}
