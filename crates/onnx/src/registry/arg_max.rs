//! ArgMax / ArgMin: the index of each row's first maximum (minimum through negation).
//!
//! Exact, no division: `e = [x = max]` by a table of `x - max`, the first maximum by a prefix
//! count of `e`, the index as `Σ j · first_j`.

use crate::compose::{reduced, row_max};
use crate::ctx::Ctx;
use crate::elementwise::{Binary, Expr};
use crate::error::OnnxError;
use crate::float::FloatOp;
use crate::movement;
use crate::proto::attr_i;

/// `ArgMax`.
pub(crate) fn arg_max(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    read(cx, false)
}

/// `ArgMin`: the first minimum.
pub(crate) fn arg_min(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    read(cx, true)
}

fn read(cx: &mut Ctx<'_>, min: bool) -> Result<usize, OnnxError> {
    let node = cx.node;
    let name = cx.name;
    // Rows along the axis; e = [x = max] by a table of x - max, the first maximum
    // by a prefix count of e, the index by Σ j · first_j.
    let x = cx.activation(0)?;
    let f = cx.full(x);
    let a = movement::axis(attr_i(node, "axis", 0), f.len()).map_err(|why| cx.bad(why))?;
    if attr_i(node, "select_last_index", 0) != 0 {
        return Err(OnnxError::UnsupportedOp {
            op_type: format!("{} with select_last_index", node.op_type),
            node: name.to_string(),
        });
    }
    let keep = attr_i(node, "keepdims", 1) != 0;
    let (mut t, rows, n) = cx.rows_along(x, &f, a)?;
    let rn = vec![rows, n];
    let per = |v: f64| FloatOp::Scale {
        scale: vec![v; rows * n],
        offset: vec![0.0; rows * n],
    };
    if min {
        t = cx.push(per(-1.0), vec![t], rn.clone());
    }
    let geometry = row_max(rows, n);
    let m = cx.push(FloatOp::MaxPool { geometry }, vec![t], vec![rows, 1]);
    let spread = |what: &str, indices: Vec<i64>, shape: Vec<usize>| FloatOp::Select {
        what: what.into(),
        shape,
        indices,
        fill: 0.0,
    };
    let op = spread(
        "row maximum to each",
        (0..rows * n).map(|i| (i / n) as i64).collect(),
        rn.clone(),
    );
    let mb = cx.push(op, vec![m], rn.clone());
    let nm = cx.push(per(-1.0), vec![mb], rn.clone());
    let d = cx.push(FloatOp::Add, vec![t, nm], rn.clone());
    let is_max = Expr::X.binary(Binary::GreaterOrEqual, Expr::Const(0.0));
    let e = cx.push(FloatOp::Map { expr: is_max }, vec![d], rn.clone());
    // c_j = Σ_{i ≤ j} e_i.
    let prefix: Vec<i64> = (0..rows * n * n)
        .map(|p| {
            let (r, j, i) = (p / (n * n), (p / n) % n, p % n);
            if i <= j { (r * n + i) as i64 } else { -1 }
        })
        .collect();
    let op = spread("prefixes", prefix, vec![rows, n, n]);
    let pre = cx.push(op, vec![e], vec![rows, n, n]);
    let c = cx.push(FloatOp::Sum { axis_len: n }, vec![pre], rn.clone());
    // first_j = [c_j + (n + 1)·e_j = n + 2]: e_j = 1 and c_j = 1.
    let we = cx.push(per((n + 1) as f64), vec![e], rn.clone());
    let key = cx.push(FloatOp::Add, vec![c, we], rn.clone());
    let hit = Expr::X.binary(Binary::Equal, Expr::Const((n + 2) as f64));
    let first = cx.push(FloatOp::Map { expr: hit }, vec![key], rn.clone());
    let op = FloatOp::Scale {
        scale: (0..rows * n).map(|i| (i % n) as f64).collect(),
        offset: vec![0.0; rows * n],
    };
    let j = cx.push(op, vec![first], rn);
    let arg = cx.push(FloatOp::Sum { axis_len: n }, vec![j], vec![rows]);
    let out = reduced(&f, &[a], keep);
    Ok(cx.reshaped(arg, out))
}
