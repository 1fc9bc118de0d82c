//! Gather: constant indices into a computed tensor are a selection; computed indices into
//! constant data are one table per column of the data, interleaved.

use crate::compose::fusable;
use crate::ctx::Ctx;
use crate::elementwise::Expr;
use crate::error::OnnxError;
use crate::float::FloatOp;
use crate::movement;
use crate::proto::attr_i;

pub(crate) fn import(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    if cx.activation(0).is_err() && cx.activation(1).is_ok() {
        computed_indices(cx)
    } else {
        constant_indices(cx)
    }
}

fn computed_indices(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    let node = cx.node;
    let name = cx.name;
    let n_in = cx.n_in;
    // Constant data at computed indices: per column of the data along the axis,
    // a table over the index tensor, then the columns interleaved.
    let data = cx.operand(0)?;
    let idx = cx.activation(1)?;
    let fi = cx.full(idx);
    let a = movement::axis(attr_i(node, "axis", 0), data.shape.len()).map_err(|why| cx.bad(why))?;
    let outer: usize = data.shape[..a].iter().product();
    let inner: usize = data.shape[a + 1..].iter().product();
    let along = data.shape[a];
    if outer * inner > 4096 {
        return Err(OnnxError::UnsupportedOp {
            op_type: format!(
                "Gather at computed indices from a constant of shape {:?}",
                data.shape
            ),
            node: name.to_string(),
        });
    }
    let (src, e) = fusable(cx.nodes, n_in, idx, cx.sole_reader(1));
    let cols: Vec<usize> = (0..outer * inner)
        .map(|c| {
            let (o, q) = (c / inner, c % inner);
            let values = (0..along)
                .map(|j| data.data[(o * along + j) * inner + q])
                .collect();
            let op = FloatOp::Map {
                expr: Expr::Gather(values, Box::new(e.clone())),
            };
            let shape = cx.shapes[idx].clone();
            cx.push(op, vec![src], shape)
        })
        .collect();
    let m: usize = fi.iter().product();
    let out: Vec<usize> = data.shape[..a]
        .iter()
        .chain(&fi)
        .chain(&data.shape[a + 1..])
        .copied()
        .collect();
    let indices: Vec<i64> = (0..outer * m * inner)
        .map(|p| {
            let (o, rest) = (p / (m * inner), p % (m * inner));
            let (i, q) = (rest / inner, rest % inner);
            ((o * inner + q) * m + i) as i64
        })
        .collect();
    Ok(if cols.len() == 1 && out == fi {
        cols[0]
    } else {
        cx.select("gathered columns".into(), cols, out, indices, 0.0)?
    })
}

fn constant_indices(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    let node = cx.node;
    let name = cx.name;
    let consts = cx.consts;
    let x = cx.activation(0)?;
    let f = cx.full(x);
    let a = movement::axis(attr_i(node, "axis", 0), f.len()).map_err(|why| cx.bad(why))?;
    let i = node
        .input
        .get(1)
        .and_then(|n| consts.get(n))
        .ok_or_else(|| OnnxError::UnsupportedOp {
            op_type: "Gather with indices computed from the input".into(),
            node: name.to_string(),
        })?;
    let idx: Vec<i64> = i.data.iter().map(|&v| v as i64).collect();
    let (out, map) = movement::gather(&f, a, &idx, &i.shape).map_err(|why| cx.bad(why))?;
    cx.select(format!("gather on axis {a}"), vec![x], out, map, 0.0)
}
