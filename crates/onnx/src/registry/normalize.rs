//! InstanceNormalization and LayerNormalization: per-row mean and variance by sums, the
//! deviation's product, a `1/√(var + ε)` table, and the scale and bias as per-element constants.

use crate::ctx::Ctx;
use crate::elementwise::{Binary, Expr, Unary};
use crate::error::OnnxError;
use crate::float::FloatOp;
use crate::movement;
use crate::proto::{attr_f, attr_i};

/// `InstanceNormalization`: per channel over the spatial positions.
pub(crate) fn instance(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    read(cx, true)
}

/// `LayerNormalization`: over the last axes.
pub(crate) fn layer(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    read(cx, false)
}

fn read(cx: &mut Ctx<'_>, instance: bool) -> Result<usize, OnnxError> {
    let node = cx.node;
    let x = cx.activation(0)?;
    let f = cx.full(x);
    let eps = attr_f(node, "epsilon", 1e-5) as f64;
    let shape = cx.shapes[x].clone();
    let len: usize = shape.iter().product();
    // Rows normalized one by one, and each scale/bias value's index in a row.
    let (n, per_row) = if instance {
        // Per channel over the spatial positions; scale and bias per channel.
        let x = cx.spatial(x)?;
        let _ = x;
        let c = shape.first().copied().unwrap_or(1);
        (len / c.max(1), false)
    } else {
        let a = movement::axis(attr_i(node, "axis", -1), f.len()).map_err(|why| cx.bad(why))?;
        (f[a..].iter().product::<usize>(), true)
    };
    let rows = len / n.max(1);
    let affine = |k: usize| -> Result<Vec<f64>, OnnxError> {
        match node.input.get(k).filter(|s| !s.is_empty()) {
            None => Ok(vec![if k == 1 { 1.0 } else { 0.0 }; len]),
            Some(_) => {
                let c = cx.operand(k)?;
                let want = if per_row { n } else { rows };
                if c.data.len() != want && c.data.len() != 1 {
                    return Err(cx.bad(format!("{} values for rows of {n}", c.data.len())));
                }
                let at = |i: usize| c.data[if c.data.len() == 1 { 0 } else { i }];
                Ok((0..len)
                    .map(|i| if per_row { at(i % n) } else { at(i / n) })
                    .collect())
            }
        }
    };
    let (gamma, beta) = (affine(1)?, affine(2)?);
    let p = |cx: &mut Ctx<'_>, op, inputs, shape| cx.push(op, inputs, shape);
    let flat = vec![rows, n];
    let as_rows = FloatOp::Reshape {
        shape: flat.clone(),
    };
    let xr = p(cx, as_rows, vec![x], flat.clone());
    let mean_of = |cx: &mut Ctx<'_>, t: usize| {
        let s = p(cx, FloatOp::Sum { axis_len: n }, vec![t], vec![rows]);
        let op = FloatOp::Scale {
            scale: vec![1.0 / n as f64; rows],
            offset: vec![0.0; rows],
        };
        let m = p(cx, op, vec![s], vec![rows]);
        let op = FloatOp::Select {
            what: "row value to each element".into(),
            shape: flat.clone(),
            indices: (0..rows * n).map(|i| (i / n) as i64).collect(),
            fill: 0.0,
        };
        p(cx, op, vec![m], flat.clone())
    };
    let mean = mean_of(cx, xr);
    let neg = FloatOp::Scale {
        scale: vec![-1.0; len],
        offset: vec![0.0; len],
    };
    let nm = p(cx, neg, vec![mean], flat.clone());
    let d = p(cx, FloatOp::Add, vec![xr, nm], flat.clone());
    let sq = p(cx, FloatOp::Mul, vec![d, d], flat.clone());
    let var = mean_of(cx, sq);
    let expr = Expr::X
        .binary(Binary::Add, Expr::Const(eps))
        .unary(Unary::Sqrt)
        .unary(Unary::Reciprocal);
    let inv = p(cx, FloatOp::Map { expr }, vec![var], flat.clone());
    let y = p(cx, FloatOp::Mul, vec![d, inv], flat.clone());
    let op = FloatOp::Scale {
        scale: gamma,
        offset: beta,
    };
    let z = p(cx, op, vec![y], flat);
    let op = FloatOp::Reshape {
        shape: shape.clone(),
    };
    Ok(cx.push(op, vec![z], shape))
}
