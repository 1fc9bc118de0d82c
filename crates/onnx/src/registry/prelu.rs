//! PRelu: one slope is a leaky-ReLU table; per-channel slopes are `relu(x) − slope · relu(−x)`,
//! two ReLUs and per-element constants.

use crate::compose::fusable;
use crate::ctx::Ctx;
use crate::elementwise::Unary;
use crate::error::OnnxError;
use crate::float::FloatOp;
use crate::movement;
use crate::proto::scalar;

pub(crate) fn import(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    let n_in = cx.n_in;
    // relu(x) - slope · relu(-x): two ReLUs and per-element constants.
    let x = cx.activation(0)?;
    let f = cx.full(x);
    let slope = cx.operand(1)?;
    let shape = cx.shapes[x].clone();
    if let Some(a) = scalar(slope) {
        // One slope: a leaky ReLU, one table.
        let (src, e) = fusable(cx.nodes, n_in, x, cx.sole_reader(0));
        let op = FloatOp::Map {
            expr: e.unary(Unary::LeakyRelu(a)),
        };
        let id = cx.push(op, vec![src], shape);
        return Ok(id);
    }
    let len: usize = shape.iter().product();
    let slope: Vec<f64> = movement::broadcast(&slope.shape, &f)
        .map_err(|why| cx.bad(why))?
        .iter()
        .map(|&i| slope.data[i as usize])
        .collect();
    let r = cx.push(FloatOp::Relu, vec![x], shape.clone());
    let neg = FloatOp::Scale {
        scale: vec![-1.0; len],
        offset: vec![0.0; len],
    };
    let n = cx.push(neg, vec![x], shape.clone());
    let rn = cx.push(FloatOp::Relu, vec![n], shape.clone());
    let op = FloatOp::Scale {
        scale: slope.iter().map(|s| -s).collect(),
        offset: vec![0.0; len],
    };
    let s = cx.push(op, vec![rn], shape.clone());
    Ok(cx.push(FloatOp::Add, vec![r, s], shape))
}
