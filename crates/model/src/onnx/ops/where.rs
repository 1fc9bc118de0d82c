//! Where(c, a, b) with boolean `c`: `b + c · (a − b)`, exact.

use super::Ctx;
use crate::error::ModelError;
use crate::onnx::compose::fusable;
use crate::onnx::elementwise::{Binary, Expr};
use crate::onnx::float::FloatOp;
use crate::onnx::proto::scalar;

pub(crate) fn import(cx: &mut Ctx<'_>) -> Result<usize, ModelError> {
    let name = cx.name;
    let n_in = cx.n_in;
    // Where(c, a, b) = b + c · (a - b), c boolean.
    let c = cx.activation(0)?;
    let side = |k: usize| -> Result<Result<usize, f64>, ModelError> {
        match cx.activation(k) {
            Ok(t) => Ok(Ok(t)),
            Err(_) => scalar(cx.operand(k)?)
                .map(Err)
                .ok_or_else(|| ModelError::UnsupportedOp {
                    op_type: "Where with a non-scalar constant branch".into(),
                    node: name.to_string(),
                }),
        }
    };
    let shape = cx.shapes[c].clone();
    let len: usize = shape.iter().product();
    let (a, b) = (side(1)?, side(2)?);
    for t in [a, b].into_iter().flatten() {
        if cx.shapes[t] != shape {
            return Err(ModelError::UnsupportedOp {
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
