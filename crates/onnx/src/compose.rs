//! Float-graph compositions the importer builds from several of our ops: binary ops between
//! two computed tensors (broadcast, then an exact Add or Mul, a reciprocal table, a table of
//! the difference or the sum), reductions' shapes, row maxima, fusable element-wise views and
//! casts.

use super::elementwise::{Binary, Expr, Unary};
use super::float::{FloatNode, FloatOp};
use super::movement;
use crate::error::OnnxError;
use zkw_model::ops::ConvGeometry;

/// A binary element-wise op of two tensors computed apart, broadcast to one shape: Add and
/// Mul exactly, Sub as an add of the negation, Div as a product with a reciprocal table,
/// comparisons as a table of the difference, Min/Max through a ReLU of the difference, and
/// the boolean ops as a table of the sum.
pub(super) fn two_tensors(
    nodes: &mut Vec<FloatNode>,
    shapes: &mut Vec<Vec<usize>>,
    name: &str,
    op_type: &str,
    f: Binary,
    ((a, fa), (b, fb)): ((usize, Vec<usize>), (usize, Vec<usize>)),
    has_batch: bool,
) -> Result<(usize, bool), OnnxError> {
    let bad = |why: String| OnnxError::UnsupportedOp {
        op_type: format!("{op_type} of two tensors: {why}"),
        node: name.to_string(),
    };
    let mut push = |op: FloatOp, inputs: Vec<usize>, shape: Vec<usize>| {
        nodes.push(FloatNode {
            name: name.to_string(),
            op,
            inputs,
        });
        shapes.push(shape);
        shapes.len() - 1
    };
    let out = movement::broadcast_shape(&fa, &fb).map_err(bad)?;
    // Stripped of the batch 1 when it has one (as `graph_from_proto`'s `strip`).
    let batched = has_batch && out.len() >= 2 && out[0] == 1;
    let shape: Vec<usize> = out[usize::from(batched)..].to_vec();
    let mut spread = |t: usize, ft: &[usize]| -> Result<usize, OnnxError> {
        if ft == out.as_slice() {
            return Ok(t);
        }
        let indices = movement::broadcast(ft, &out).map_err(bad)?;
        let op = FloatOp::Select {
            what: format!("broadcast to {out:?}"),
            shape: shape.clone(),
            indices,
            fill: 0.0,
        };
        Ok(push(op, vec![t], shape.clone()))
    };
    let a = spread(a, &fa)?;
    let b = spread(b, &fb)?;
    let len: usize = shape.iter().product();
    let neg = |push: &mut dyn FnMut(FloatOp, Vec<usize>, Vec<usize>) -> usize, t: usize| {
        let op = FloatOp::Scale {
            scale: vec![-1.0; len],
            offset: vec![0.0; len],
        };
        push(op, vec![t], shape.clone())
    };
    let map = |expr: Expr| FloatOp::Map { expr };
    let s = shape.clone();
    let id = match f {
        Binary::Add => push(FloatOp::Add, vec![a, b], s),
        Binary::Mul => push(FloatOp::Mul, vec![a, b], s),
        Binary::Sub => {
            let nb = neg(&mut push, b);
            push(FloatOp::Add, vec![a, nb], s)
        }
        Binary::Div => {
            let r = push(map(Expr::X.unary(Unary::Reciprocal)), vec![b], s.clone());
            push(FloatOp::Mul, vec![a, r], s)
        }
        Binary::Less
        | Binary::LessOrEqual
        | Binary::Greater
        | Binary::GreaterOrEqual
        | Binary::Equal => {
            let nb = neg(&mut push, b);
            let d = push(FloatOp::Add, vec![a, nb], s.clone());
            push(map(Expr::X.binary(f, Expr::Const(0.0))), vec![d], s)
        }
        Binary::Max | Binary::Min => {
            // max = b + relu(a - b); min = a - relu(a - b).
            let nb = neg(&mut push, b);
            let d = push(FloatOp::Add, vec![a, nb], s.clone());
            let r = push(FloatOp::Relu, vec![d], s.clone());
            if f == Binary::Max {
                push(FloatOp::Add, vec![b, r], s)
            } else {
                let nr = neg(&mut push, r);
                push(FloatOp::Add, vec![a, nr], s)
            }
        }
        Binary::And | Binary::Or | Binary::Xor => {
            let sum = push(FloatOp::Add, vec![a, b], s.clone());
            let gt = |t: f64| Expr::X.binary(Binary::Greater, Expr::Const(t));
            let expr = match f {
                Binary::And => gt(1.5),
                Binary::Or => gt(0.5),
                _ => gt(0.5).binary(Binary::And, Expr::X.binary(Binary::Less, Expr::Const(1.5))),
            };
            push(map(expr), vec![sum], s)
        }
        Binary::Pow => return Err(bad("a power with a computed exponent".into())),
    };
    Ok((id, has_batch && !batched))
}

/// The shape a reduction over `axes` leaves (`keep`: reduced axes stay as 1).
pub(super) fn reduced(f: &[usize], axes: &[usize], keep: bool) -> Vec<usize> {
    (0..f.len())
        .filter_map(|d| match (axes.contains(&d), keep) {
            (false, _) => Some(f[d]),
            (true, true) => Some(1),
            (true, false) => None,
        })
        .collect()
}

/// The maximum of each of `rows` rows of `n`: a max pool with one window per row.
pub(super) fn row_max(rows: usize, n: usize) -> ConvGeometry {
    ConvGeometry {
        in_channels: rows,
        out_channels: rows,
        in_spatial: vec![n],
        kernel: vec![n],
        strides: vec![1],
        dilations: vec![1],
        pads: vec![0, 0],
        groups: rows,
    }
}

/// Tensor `t` as a function of a source tensor: a fused element-wise node's source and
/// function when `t` is one and `fuse` allows it, else `t` itself as `x`.
pub(super) fn fusable(nodes: &[FloatNode], n_in: usize, t: usize, fuse: bool) -> (usize, Expr) {
    match t.checked_sub(n_in).map(|k| &nodes[k]) {
        Some(FloatNode {
            op: FloatOp::Map { expr },
            inputs,
            ..
        }) if fuse => (inputs[0], expr.clone()),
        _ => (t, Expr::X),
    }
}

/// The element-wise function of a Cast to a non-float ONNX type (`None`: unsupported).
pub(super) fn cast_function(to: i64) -> Option<Unary> {
    let int = |lo: f64, hi: f64| Some(Unary::CastInt(lo, hi));
    match to {
        2 => int(0.0, 255.0),
        3 => int(-128.0, 127.0),
        4 => int(0.0, 65535.0),
        5 => int(-32768.0, 32767.0),
        6 => int(i32::MIN as f64, i32::MAX as f64),
        7 | 12 | 13 => int(f64::MIN, f64::MAX),
        9 => Some(Unary::CastBool),
        _ => None,
    }
}
