//! MatMul: with constant weights, a dense layer (or a 1×1 convolution over many rows, so the
//! weights are stored once); between two activations, every product by a Mul and each dot
//! product by a Sum over rows a selection lays out.

use crate::ctx::Ctx;
use crate::error::OnnxError;
use crate::float::FloatOp;
use crate::layers::dense_weights;
use crate::movement;
use zkw_model::ops::ConvGeometry;

pub(crate) fn import(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    if cx.activation(1).is_ok() {
        two_activations(cx)
    } else {
        constant_weights(cx)
    }
}

fn two_activations(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    let name = cx.name;
    // Two activations: every product by a Mul, each dot product by a Sum.
    let (a, b) = (cx.activation(0)?, cx.activation(1)?);
    let (fa, fb) = (cx.full(a), cx.full(b));
    let bad2 = || OnnxError::UnsupportedOp {
        op_type: format!("MatMul of shapes {fa:?} and {fb:?}"),
        node: name.to_string(),
    };
    if fa.len() < 2 || fb.len() < 2 {
        return Err(bad2());
    }
    let (m, k) = (fa[fa.len() - 2], fa[fa.len() - 1]);
    let (k2, n) = (fb[fb.len() - 2], fb[fb.len() - 1]);
    let lead =
        movement::broadcast_shape(&fa[..fa.len() - 2], &fb[..fb.len() - 2]).map_err(|_| bad2())?;
    if k != k2 {
        return Err(bad2());
    }
    let batches: usize = lead.iter().product();
    let ia = movement::broadcast(&fa[..fa.len() - 2], &lead).map_err(|_| bad2())?;
    let ib = movement::broadcast(&fb[..fb.len() - 2], &lead).map_err(|_| bad2())?;
    let (mut sa, mut sb) = (Vec::new(), Vec::new());
    for g in 0..batches {
        let (ga, gb) = (ia[g] as usize, ib[g] as usize);
        for i in 0..m {
            for j in 0..n {
                for l in 0..k {
                    sa.push(((ga * m + i) * k + l) as i64);
                    sb.push(((gb * k + l) * n + j) as i64);
                }
            }
        }
    }
    let spread: Vec<usize> = lead.iter().copied().chain([m, n, k]).collect();
    let pa = cx.select("matmul rows".into(), vec![a], spread.clone(), sa, 0.0)?;
    let pb = cx.select("matmul columns".into(), vec![b], spread, sb, 0.0)?;
    let s = cx.shapes[pa].clone();
    let p = cx.push(FloatOp::Mul, vec![pa, pb], s.clone());
    let out = s[..s.len() - 1].to_vec();
    Ok(cx.push(FloatOp::Sum { axis_len: k }, vec![p], out))
}

fn constant_weights(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    let name = cx.name;
    let x = cx.activation(0).map_err(|_| {
        OnnxError::Invalid(format!(
            "MatMul `{name}`: the activation must be the left operand"
        ))
    })?;
    let f = cx.full(x);
    let b = cx.operand(1)?;
    let k = f.last().copied().unwrap_or(0);
    let rows = f.iter().product::<usize>() / k.max(1);
    Ok(if rows > 1 && b.shape.len() == 2 && b.shape[0] == k {
        // Many rows through one weight matrix: a 1×1 convolution over the rows
        // as positions ([rows, k] → [k, rows] → [n, rows] → [rows, n]), so the
        // weights are stored once, not once per row.
        let n = b.shape[1];
        let (_, into) = movement::transpose(&[rows, k], &[1, 0]).map_err(|why| cx.bad(why))?;
        let op = FloatOp::Select {
            what: "rows as positions".into(),
            shape: vec![k, rows],
            indices: into,
            fill: 0.0,
        };
        let t = cx.push(op, vec![x], vec![k, rows]);
        let op = FloatOp::Conv {
            geometry: ConvGeometry {
                in_channels: k,
                out_channels: n,
                in_spatial: vec![rows],
                kernel: vec![1],
                strides: vec![1],
                dilations: vec![1],
                pads: vec![0, 0],
                groups: 1,
            },
            weights: (0..n * k).map(|i| b.data[(i % k) * n + i / k]).collect(),
            bias: vec![0.0; n],
        };
        let c = cx.push(op, vec![t], vec![n, rows]);
        let (_, back) = movement::transpose(&[n, rows], &[1, 0]).map_err(|why| cx.bad(why))?;
        let out: Vec<usize> = f[..f.len() - 1].iter().copied().chain([n]).collect();
        cx.select("positions as rows".into(), vec![c], out, back, 0.0)?
    } else {
        let len: usize = cx.shapes[x].iter().product();
        let (w, n) = dense_weights(name, b, len, false, 1.0)?;
        let op = FloatOp::Dense {
            in_features: len,
            out_features: n,
            weights: w,
            bias: vec![0.0; n],
        };
        let d = cx.push(op, vec![x], vec![n]);
        // ONNX keeps the leading dimensions ([1, 1, k] → [1, 1, n]).
        let out: Vec<usize> = f[..f.len() - 1].iter().copied().chain([n]).collect();
        let (shape, without_batch) = cx.strip(out);
        if shape == [n] && !without_batch {
            d
        } else {
            let op = FloatOp::Reshape {
                shape: shape.clone(),
            };
            let id = cx.push(op, vec![d], shape);
            cx.mark(id, without_batch);
            id
        }
    })
}
