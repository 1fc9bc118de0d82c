//! OneHot with constant depth and values: one table per class over the indices (`on` where the
//! index is the class, negative indices counting from the end), interleaved.

use crate::compose::fusable;
use crate::ctx::Ctx;
use crate::elementwise::{Binary, Expr};
use crate::error::OnnxError;
use crate::float::FloatOp;
use crate::movement;
use crate::proto::{attr_i, scalar};

pub(crate) fn import(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    let node = cx.node;
    let n_in = cx.n_in;
    // One table per class over the indices: `on` where the index is the class
    // (negative indices count from the end), `off` elsewhere; then interleaved.
    let idx = cx.activation(0)?;
    let depth = scalar(cx.operand(1)?)
        .filter(|d| *d >= 1.0 && *d <= 4096.0)
        .ok_or_else(|| cx.bad("depth must be one value in 1..=4096".into()))?
        as usize;
    let values = cx.operand(2)?;
    let (off, on) = match values.data.as_slice() {
        [off, on] => (*off, *on),
        _ => return Err(cx.bad("values must be [off, on]".into())),
    };
    let fi = cx.full(idx);
    let a = movement::axis(attr_i(node, "axis", -1), fi.len() + 1).map_err(|why| cx.bad(why))?;
    let (src, e) = fusable(cx.nodes, n_in, idx, cx.sole_reader(0));
    let cols: Vec<usize> = (0..depth)
        .map(|k| {
            let is = |v: i64| e.clone().binary(Binary::Equal, Expr::Const(v as f64));
            let hit = is(k as i64).binary(Binary::Or, is(k as i64 - depth as i64));
            let expr = hit
                .binary(Binary::Mul, Expr::Const(on - off))
                .binary(Binary::Add, Expr::Const(off));
            let shape = cx.shapes[idx].clone();
            cx.push(FloatOp::Map { expr }, vec![src], shape)
        })
        .collect();
    let m: usize = fi.iter().product();
    let inner: usize = fi[a..].iter().product();
    let out: Vec<usize> = fi[..a]
        .iter()
        .chain(&[depth])
        .chain(&fi[a..])
        .copied()
        .collect();
    let indices: Vec<i64> = (0..m * depth)
        .map(|p| {
            let (o, rest) = (p / (depth * inner), p % (depth * inner));
            let (k, q) = (rest / inner, rest % inner);
            (k * m + o * inner + q) as i64
        })
        .collect();
    cx.select("one-hot".into(), cols, out, indices, 0.0)
}
