//! ReduceSum, ReduceMean, ReduceMax, ReduceMin over any axes: the reduced axes moved last by a
//! selection, then a Sum per row (scaled for the mean) or a max-pool window (minima through
//! negation).

use crate::compose::{reduced, row_max};
use crate::ctx::Ctx;
use crate::error::OnnxError;
use crate::float::FloatOp;
use crate::movement;
use crate::proto::attr_i;

/// What a reduction computes over each row.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reduction {
    Sum,
    Mean,
    Max,
    Min,
}

/// `ReduceSum`.
pub(crate) fn sum(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    read(cx, Reduction::Sum)
}

/// `ReduceMean`.
pub(crate) fn mean(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    read(cx, Reduction::Mean)
}

/// `ReduceMax`.
pub(crate) fn max(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    read(cx, Reduction::Max)
}

/// `ReduceMin`.
pub(crate) fn min(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    read(cx, Reduction::Min)
}

fn read(cx: &mut Ctx<'_>, reduction: Reduction) -> Result<usize, OnnxError> {
    let node = cx.node;
    let has_batch = cx.has_batch;
    let x = cx.activation(0)?;
    let f = cx.full(x);
    let keep = attr_i(node, "keepdims", 1) != 0;
    let listed = cx.ints(1, "axes")?.unwrap_or_default();
    let axes: Vec<usize> = if listed.is_empty() {
        if attr_i(node, "noop_with_empty_axes", 0) != 0 {
            return Ok(x);
        }
        let batch = has_batch && !cx.unbatched.contains(&x);
        (usize::from(batch)..f.len()).collect()
    } else {
        listed
            .iter()
            .map(|&v| movement::axis(v, f.len()))
            .collect::<Result<_, _>>()
            .map_err(|why| cx.bad(why))?
    };
    let kept: Vec<usize> = (0..f.len()).filter(|d| !axes.contains(d)).collect();
    let perm: Vec<usize> = kept.iter().chain(&axes).copied().collect();
    let (_, idx) = movement::transpose(&f, &perm).map_err(|why| cx.bad(why))?;
    let n: usize = axes.iter().map(|&d| f[d]).product();
    let rows = f.iter().product::<usize>() / n.max(1);
    // The reduced axes moved last, as rows of n.
    let grouped = vec![rows, n];
    let op = FloatOp::Select {
        what: format!("reduced axes {axes:?} last"),
        shape: grouped.clone(),
        indices: idx,
        fill: 0.0,
    };
    let mut t = cx.push(op, vec![x], grouped);
    let negate = |cx: &mut Ctx<'_>, t: usize| {
        let len = cx.shapes[t].iter().product();
        let shape = cx.shapes[t].clone();
        let op = FloatOp::Scale {
            scale: vec![-1.0; len],
            offset: vec![0.0; len],
        };
        cx.push(op, vec![t], shape)
    };
    match reduction {
        Reduction::Sum | Reduction::Mean => {
            t = cx.push(FloatOp::Sum { axis_len: n }, vec![t], vec![rows]);
            if reduction == Reduction::Mean {
                let op = FloatOp::Scale {
                    scale: vec![1.0 / n as f64; rows],
                    offset: vec![0.0; rows],
                };
                t = cx.push(op, vec![t], vec![rows]);
            }
        }
        Reduction::Max | Reduction::Min => {
            let min = reduction == Reduction::Min;
            if min {
                t = negate(cx, t);
            }
            let geometry = row_max(rows, n);
            t = cx.push(FloatOp::MaxPool { geometry }, vec![t], vec![rows, 1]);
            if min {
                t = negate(cx, t);
            }
        }
    }
    let out = reduced(&f, &axes, keep);
    Ok(cx.reshaped(t, out))
}
