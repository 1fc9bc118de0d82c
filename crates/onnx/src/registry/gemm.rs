//! Gemm with a single-row activation `A` (batch 1) and constant `B`: one dense layer
//! (`transA`/`transB`, `alpha` folded into the weights, `beta` into the bias).

use crate::ctx::Ctx;
use crate::error::OnnxError;
use crate::float::FloatOp;
use crate::layers::{broadcast_bias, dense_weights};
use crate::proto::{attr_f, attr_i};

pub(crate) fn import(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    let node = cx.node;
    let name = cx.name;
    let x = cx.activation(0)?;
    let shape = &cx.shapes[x];
    let len: usize = shape.iter().product();
    let (alpha, beta) = (attr_f(node, "alpha", 1.0), attr_f(node, "beta", 1.0));
    let trans_b = attr_i(node, "transB", 0) != 0;
    // A is the batch-1 activation: as a matrix it must be one row (1×K), which it
    // is as stored ([1, K]) or, with transA, when stored as a column ([K, 1]).
    let full = cx.full(x);
    let rows = match (full.as_slice(), attr_i(node, "transA", 0) != 0) {
        ([m, _], false) | ([_, m], true) => *m,
        _ => 0,
    };
    if rows != 1 {
        return Err(OnnxError::Invalid(format!(
            "Gemm `{name}`: input A of shape {full:?} (transA={}) is not a single \
             row; only batch-1 vectors through a dense layer are supported",
            attr_i(node, "transA", 0)
        )));
    }
    let (w, n) = dense_weights(name, cx.operand(1)?, len, trans_b, alpha as f64)?;
    let bias = match node.input.get(2).filter(|s| !s.is_empty()) {
        Some(_) => broadcast_bias(name, cx.operand(2)?, n, beta as f64)?,
        None => vec![0.0; n],
    };
    let op = FloatOp::Dense {
        in_features: len,
        out_features: n,
        weights: w,
        bias,
    };
    Ok(cx.push(op, vec![x], vec![n]))
}
