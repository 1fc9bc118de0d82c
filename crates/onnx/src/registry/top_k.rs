//! TopK (values): an odd-even transposition sort of each row, every comparison an exact
//! 2-wide max pool (minima through negation), then the first `k`.

use crate::compose::row_max;
use crate::ctx::Ctx;
use crate::error::OnnxError;
use crate::float::FloatOp;
use crate::movement;
use crate::proto::{attr_i, scalar};

pub(crate) fn import(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    let node = cx.node;
    let name = cx.name;
    let readers = cx.readers;
    // The values of an odd-even transposition sort of each row (exact: every
    // comparison a 2-wide max pool, minima through negation), then the first k.
    let x = cx.activation(0)?;
    if node
        .output
        .get(1)
        .is_some_and(|o| !o.is_empty() && readers.get(o.as_str()).is_some_and(|&n| n > 0))
    {
        return Err(OnnxError::UnsupportedOp {
            op_type: "TopK with its indices read".into(),
            node: name.to_string(),
        });
    }
    let f = cx.full(x);
    let a = movement::axis(attr_i(node, "axis", -1), f.len()).map_err(|why| cx.bad(why))?;
    let k = match node.input.get(1).filter(|s| !s.is_empty()) {
        Some(_) => scalar(cx.operand(1)?).unwrap_or(-1.0),
        None => attr_i(node, "k", -1) as f64,
    };
    let n = f[a];
    if k < 1.0 || k > n as f64 {
        return Err(cx.bad(format!("k = {k} on an axis of {n}")));
    }
    let k = k as usize;
    let largest = attr_i(node, "largest", 1) != 0;
    let (mut cur, rows, _) = cx.rows_along(x, &f, a)?;
    let rn = vec![rows, n];
    let neg = |cx: &mut Ctx<'_>, t: usize, len: usize| {
        let op = FloatOp::Scale {
            scale: vec![-1.0; len],
            offset: vec![0.0; len],
        };
        let shape = cx.shapes[t].clone();
        cx.push(op, vec![t], shape)
    };
    let pool = |cx: &mut Ctx<'_>, t: usize, c: usize| {
        let geometry = row_max(c, 2);
        cx.push(FloatOp::MaxPool { geometry }, vec![t], vec![c, 1])
    };
    for stage in 0..n {
        let firsts: Vec<usize> = (stage % 2..n.saturating_sub(1)).step_by(2).collect();
        if firsts.is_empty() {
            continue;
        }
        let c = rows * firsts.len();
        let pairs: Vec<i64> = (0..rows)
            .flat_map(|r| firsts.iter().flat_map(move |&i| [r * n + i, r * n + i + 1]))
            .map(|i| i as i64)
            .collect();
        let op = FloatOp::Select {
            what: format!("sorting stage {stage}"),
            shape: vec![c, 2],
            indices: pairs,
            fill: 0.0,
        };
        let p = cx.push(op, vec![cur], vec![c, 2]);
        let hi = pool(cx, p, c);
        let np = neg(cx, p, 2 * c);
        let lo = pool(cx, np, c);
        let lo = neg(cx, lo, c);
        // Descending for the largest, ascending for the smallest.
        let (first, second) = if largest { (hi, lo) } else { (lo, hi) };
        let total = rows * n;
        let indices: Vec<i64> = (0..total)
            .map(|p| {
                let (r, i) = (p / n, p % n);
                match firsts.iter().position(|&f| f == i || f + 1 == i) {
                    Some(q) if firsts[q] == i => (total + r * firsts.len() + q) as i64,
                    Some(q) => (total + c + r * firsts.len() + q) as i64,
                    None => p as i64,
                }
            })
            .collect();
        let op = FloatOp::Select {
            what: format!("sorted stage {stage}"),
            shape: rn.clone(),
            indices,
            fill: 0.0,
        };
        cur = cx.push(op, vec![cur, first, second], rn.clone());
    }
    // The first k of each row, the axis back in place.
    let mut out = f.clone();
    out[a] = k;
    let kept: Vec<usize> = (0..f.len()).filter(|&d| d != a).collect();
    let ost = movement::strides(&out);
    let total: usize = out.iter().product();
    let indices: Vec<i64> = (0..total)
        .map(|p| {
            let coord = |d: usize| (p / ost[d]) % out[d];
            let row = kept.iter().fold(0, |acc, &d| acc * f[d] + coord(d));
            (row * n + coord(a)) as i64
        })
        .collect();
    cx.select(format!("top {k}"), vec![cur], out, indices, 0.0)
}
