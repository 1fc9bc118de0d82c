//! GatherElements: constant indices are a selection; computed indices (into at most 256 values
//! along the axis) are `Σ_j [index = j] · data_j`, each indicator a table, each product exact.

use crate::compose::fusable;
use crate::ctx::Ctx;
use crate::elementwise::{Binary, Expr};
use crate::error::OnnxError;
use crate::float::FloatOp;
use crate::movement;
use crate::proto::attr_i;

pub(crate) fn import(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    let node = cx.node;
    let name = cx.name;
    let n_in = cx.n_in;
    let data = cx.activation(0).map_err(|_| OnnxError::UnsupportedOp {
        op_type: "GatherElements from a constant".into(),
        node: name.to_string(),
    })?;
    let fd = cx.full(data);
    let a = movement::axis(attr_i(node, "axis", 0), fd.len()).map_err(|why| cx.bad(why))?;
    let st = movement::strides(&fd);
    let n = fd[a] as i64;
    Ok(match cx.activation(1) {
        Err(_) => {
            // Constant indices: a selection.
            let c = cx.operand(1)?;
            if c.shape.len() != fd.len() {
                return Err(cx.bad(format!("indices {:?} for data {fd:?}", c.shape)));
            }
            let cs = movement::strides(&c.shape);
            let indices = (0..c.data.len())
                .map(|p| {
                    let i = c.data[p] as i64;
                    let i = if i < 0 { i + n } else { i };
                    if !(0..n).contains(&i) {
                        return Err(cx.bad(format!("index {i} on an axis of {n}")));
                    }
                    Ok((0..fd.len())
                        .map(|d| {
                            let v = if d == a {
                                i as usize
                            } else {
                                (p / cs[d]) % c.shape[d]
                            };
                            v * st[d]
                        })
                        .sum::<usize>() as i64)
                })
                .collect::<Result<Vec<i64>, _>>()?;
            cx.select(
                "gather elements".into(),
                vec![data],
                c.shape.clone(),
                indices,
                0.0,
            )?
        }
        Ok(idx) => {
            // Computed indices: Σ_j [index = j] · data at j, each indicator a
            // table over the indices, each product exact.
            let fi = cx.full(idx);
            if fi.len() != fd.len() || n > 256 {
                return Err(OnnxError::UnsupportedOp {
                    op_type: format!("GatherElements of {fd:?} at computed indices {fi:?}"),
                    node: name.to_string(),
                });
            }
            let is = movement::strides(&fi);
            let m: usize = fi.iter().product();
            let ishape = cx.shapes[idx].clone();
            let (src, e) = fusable(cx.nodes, n_in, idx, cx.sole_reader(1));
            let mut products = Vec::new();
            for j in 0..n {
                let hit = e
                    .clone()
                    .binary(Binary::Equal, Expr::Const(j as f64))
                    .binary(
                        Binary::Or,
                        e.clone().binary(Binary::Equal, Expr::Const((j - n) as f64)),
                    );
                let ind = cx.push(FloatOp::Map { expr: hit }, vec![src], ishape.clone());
                let at: Vec<i64> = (0..m)
                    .map(|p| {
                        (0..fd.len())
                            .map(|d| {
                                let v = if d == a {
                                    j as usize
                                } else {
                                    (p / is[d]) % fi[d]
                                };
                                v * st[d]
                            })
                            .sum::<usize>() as i64
                    })
                    .collect();
                let op = FloatOp::Select {
                    what: format!("data at index {j}"),
                    shape: ishape.clone(),
                    indices: at,
                    fill: 0.0,
                };
                let dj = cx.push(op, vec![data], ishape.clone());
                products.push(cx.push(FloatOp::Mul, vec![ind, dj], ishape.clone()));
            }
            let k = products.len();
            let stacked: Vec<i64> = (0..m * k).map(|p| ((p % k) * m + p / k) as i64).collect();
            let op = FloatOp::Select {
                what: "products per element".into(),
                shape: vec![m, k],
                indices: stacked,
                fill: 0.0,
            };
            let st2 = cx.push(op, products, vec![m, k]);
            let sum = cx.push(FloatOp::Sum { axis_len: k }, vec![st2], vec![m]);
            let op = FloatOp::Reshape {
                shape: ishape.clone(),
            };
            let id = cx.push(op, vec![sum], ishape);
            let without_batch = cx.unbatched.contains(&idx);
            cx.mark(id, without_batch);
            id
        }
    })
}
