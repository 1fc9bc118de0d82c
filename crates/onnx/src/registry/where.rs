//! Where(c, a, b) with boolean `c`: `b + c · (a − b)`, exact. With a constant condition (an
//! attention mask) it is a selection: each output value is `a`'s or `b`'s (or the constant
//! branch's scalar), numpy-broadcast, at no cost.

use crate::compose::fusable;
use crate::ctx::Ctx;
use crate::elementwise::{Binary, Expr};
use crate::error::OnnxError;
use crate::float::FloatOp;
use crate::movement;
use crate::proto::{Const, scalar};

pub(crate) fn import(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    if cx.activation(0).is_err()
        && let Ok(cond) = cx.operand(0)
    {
        return constant_condition(cx, cond);
    }
    let name = cx.name;
    let n_in = cx.n_in;
    // Where(c, a, b) = b + c · (a - b), c boolean.
    let c = cx.activation(0)?;
    let shape = cx.shapes[c].clone();
    let len: usize = shape.iter().product();
    let (a, b) = (branch(cx, 1)?, branch(cx, 2)?);
    for t in [a, b].into_iter().flatten() {
        if cx.shapes[t] != shape {
            return Err(OnnxError::UnsupportedOp {
                op_type: format!("Where broadcasting {shape:?} with {:?}", cx.shapes[t]),
                node: name.to_string(),
            });
        }
    }
    let affine = |scale: f64, offset: f64| FloatOp::Scale {
        scale: vec![scale; len],
        offset: vec![offset; len],
    };
    let s = shape.clone();
    Ok(match (a, b) {
        (Err(a), Err(b)) => {
            let (src, e) = fusable(cx.nodes, n_in, c, cx.sole_reader(0));
            let expr = e
                .binary(Binary::Mul, Expr::Const(a - b))
                .binary(Binary::Add, Expr::Const(b));
            cx.push(FloatOp::Map { expr }, vec![src], s)
        }
        (Ok(a), Ok(b)) => {
            let nb = cx.push(affine(-1.0, 0.0), vec![b], s.clone());
            let d = cx.push(FloatOp::Add, vec![a, nb], s.clone());
            let p = cx.push(FloatOp::Mul, vec![c, d], s.clone());
            cx.push(FloatOp::Add, vec![p, b], s)
        }
        (Ok(a), Err(v)) => {
            let d = cx.push(affine(1.0, -v), vec![a], s.clone());
            let p = cx.push(FloatOp::Mul, vec![c, d], s.clone());
            cx.push(affine(1.0, v), vec![p], s)
        }
        (Err(v), Ok(b)) => {
            let d = cx.push(affine(-1.0, v), vec![b], s.clone());
            let p = cx.push(FloatOp::Mul, vec![c, d], s.clone());
            cx.push(FloatOp::Add, vec![p, b], s)
        }
    })
}

/// Branch `k`: a computed tensor (`Ok`), or a constant scalar (`Err`).
fn branch(cx: &Ctx<'_>, k: usize) -> Result<Result<usize, f64>, OnnxError> {
    match cx.activation(k) {
        Ok(t) => Ok(Ok(t)),
        Err(_) => scalar(cx.operand(k)?)
            .map(Err)
            .ok_or_else(|| OnnxError::UnsupportedOp {
                op_type: "Where with a non-scalar constant branch".into(),
                node: cx.name.to_string(),
            }),
    }
}

/// Where with a constant condition: a selection over the computed branches.
fn constant_condition(cx: &mut Ctx<'_>, cond: &Const) -> Result<usize, OnnxError> {
    let name = cx.name;
    let (a, b) = (branch(cx, 1)?, branch(cx, 2)?);
    let fill = match (a, b) {
        (Ok(_), Ok(_)) => 0.0,
        (Ok(_), Err(v)) | (Err(v), Ok(_)) => v,
        (Err(_), Err(_)) => {
            return Err(OnnxError::UnsupportedOp {
                op_type: "Where of constants only".into(),
                node: name.to_string(),
            });
        }
    };
    let shape_of = |t: Result<usize, f64>| t.map_or_else(|_| Vec::new(), |t| cx.full(t));
    let (fa, fb) = (shape_of(a), shape_of(b));
    let out = movement::broadcast_shape(&cond.shape, &fa)
        .and_then(|s| movement::broadcast_shape(&s, &fb))
        .map_err(|why| cx.bad(why))?;
    let at = |shape: &[usize]| movement::broadcast(shape, &out).map_err(|why| cx.bad(why));
    let ic = at(&cond.shape)?;
    // Each branch's index into the selected operands' values, or -1 for the constant.
    let mut inputs = Vec::new();
    let mut offset = 0i64;
    let mut index_of = |t: Result<usize, f64>, f: &[usize]| -> Result<Vec<i64>, OnnxError> {
        match t {
            Ok(t) => {
                inputs.push(t);
                let idx: Vec<i64> = at(f)?.iter().map(|&i| i + offset).collect();
                offset += f.iter().product::<usize>() as i64;
                Ok(idx)
            }
            Err(_) => Ok(vec![-1; ic.len()]),
        }
    };
    let (ia, ib) = (index_of(a, &fa)?, index_of(b, &fb)?);
    let indices: Vec<i64> = (0..ic.len())
        .map(|i| {
            if cond.data[ic[i] as usize] != 0.0 {
                ia[i]
            } else {
                ib[i]
            }
        })
        .collect();
    cx.select(
        "where (constant condition)".into(),
        inputs,
        out,
        indices,
        fill,
    )
}
