//! LogSoftmax over the last axis (or, before opset 13, over all axes from `axis`), composed as
//! `d − log Σ exp(d)` with `d = x − max(x)` per row: a max-pool window for the maximum, an exp
//! table over `d ≤ 0`, a sum, one `−log` table over the sum (in `[1, n]`), and exact adds.
//!
//! Not `log(softmax(x))`: a probability quantized near 0 would lose the log's whole range.

use super::softmax::rows_of;
use crate::compose::row_max;
use crate::ctx::Ctx;
use crate::elementwise::{Expr, Unary};
use crate::error::OnnxError;
use crate::float::FloatOp;

pub(crate) fn import(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    let x = cx.activation(0)?;
    let n = rows_of(cx, x)?;
    let shape = cx.shapes[x].clone();
    let len: usize = shape.iter().product();
    let rows = len / n.max(1);
    let grid = vec![rows, n];
    // Row r's value at position i of the grid, for broadcasting one value per row.
    let per_row: Vec<i64> = (0..len).map(|i| (i / n) as i64).collect();
    let broadcast = |cx: &mut Ctx<'_>, t: usize, what: &str| {
        let op = FloatOp::Select {
            what: format!("{what} per row"),
            shape: grid.clone(),
            indices: per_row.clone(),
            fill: 0.0,
        };
        cx.push(op, vec![t], grid.clone())
    };
    let flat = cx.push(
        FloatOp::Reshape {
            shape: grid.clone(),
        },
        vec![x],
        grid.clone(),
    );
    let max = cx.push(
        FloatOp::MaxPool {
            geometry: row_max(rows, n),
        },
        vec![flat],
        vec![rows, 1],
    );
    let max = broadcast(cx, max, "maximum");
    let negated = cx.push(
        FloatOp::Scale {
            scale: vec![-1.0; len],
            offset: vec![0.0; len],
        },
        vec![max],
        grid.clone(),
    );
    let d = cx.push(FloatOp::Add, vec![flat, negated], grid.clone());
    let exp = FloatOp::Map {
        expr: Expr::X.unary(Unary::Exp),
    };
    let e = cx.push(exp, vec![d], grid.clone());
    let sum = cx.push(FloatOp::Sum { axis_len: n }, vec![e], vec![rows]);
    let minus_log = FloatOp::Map {
        expr: Expr::X.unary(Unary::Log).unary(Unary::Neg),
    };
    let l = cx.push(minus_log, vec![sum], vec![rows]);
    let l = broadcast(cx, l, "−log Σ exp");
    let y = cx.push(FloatOp::Add, vec![d, l], grid);
    Ok(cx.push(
        FloatOp::Reshape {
            shape: shape.clone(),
        },
        vec![y],
        shape,
    ))
}
