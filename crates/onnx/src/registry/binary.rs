//! Element-wise functions of two operands (Add, Sub, Mul, Div, Pow, Min, Max, comparisons,
//! And/Or/Xor) with numpy broadcasting.
//!
//! By a scalar constant: fused into the operand's element-wise function (one table). By a constant
//! tensor: per-element factors and offsets (a Scale), a constant added to a dense layer folded
//! into its bias. Between two tensors: fused when both are functions of one source, else composed
//! exactly ([`crate::compose::two_tensors`]).

use crate::compose::{fusable, two_tensors};
use crate::ctx::Ctx;
use crate::elementwise::{Binary, Expr};
use crate::error::OnnxError;
use crate::float::FloatOp;
use crate::layers::broadcast_bias;
use crate::movement;
use crate::proto::scalar;

pub(crate) fn import(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    let node = cx.node;
    let name = cx.name;
    let readers = cx.readers;
    let has_batch = cx.has_batch;
    let n_in = cx.n_in;
    let op_type = node.op_type.as_str();
    let f = cx
        .function
        .and_then(|f| f.binary())
        .ok_or_else(|| cx.unregistered())?;
    Ok(match (cx.activation(0), cx.activation(1)) {
        (Ok(a), Ok(b)) => {
            // Two views of one source fuse into one function of it (but a sum of
            // two plain tensors stays an Add: exact and free).
            let (sa, ea) = fusable(cx.nodes, n_in, a, true);
            let (sb, eb) = fusable(cx.nodes, n_in, b, true);
            let plain = ea == Expr::X && eb == Expr::X;
            if sa == sb && cx.shapes[a] == cx.shapes[b] && !(plain && f == Binary::Add) {
                let shape = cx.shapes[a].clone();
                let op = FloatOp::Map {
                    expr: ea.binary(f, eb),
                };
                cx.push(op, vec![sa], shape)
            } else {
                {
                    let first_new = cx.shapes.len();
                    let (fa, fb) = (cx.full(a), cx.full(b));
                    let (id, without_batch) = two_tensors(
                        cx.nodes,
                        cx.shapes,
                        name,
                        op_type,
                        f,
                        ((a, fa), (b, fb)),
                        has_batch,
                    )?;
                    (first_new..cx.shapes.len()).for_each(|t| cx.mark(t, without_batch));
                    id
                }
            }
        }
        (Ok(x), Err(_)) | (Err(_), Ok(x)) => {
            let k = if cx.activation(0).is_ok() { 1 } else { 0 };
            let c = cx.operand(k)?;
            let source = node.input[1 - k].as_str();
            let folds = f == Binary::Add && readers.get(source) == Some(&1);
            let at = x.checked_sub(n_in).filter(|_| folds);
            match (at.map(|i| &mut cx.nodes[i].op), scalar(c)) {
                // A constant added to a dense layer's output is its bias.
                (
                    Some(FloatOp::Dense {
                        bias, out_features, ..
                    }),
                    _,
                ) => {
                    let add = broadcast_bias(name, c, *out_features, 1.0)?;
                    bias.iter_mut().zip(add).for_each(|(b, a)| *b += a);
                    x
                }
                (_, Some(v)) => {
                    let (src, e) = fusable(cx.nodes, n_in, x, cx.sole_reader(1 - k));
                    let expr = if k == 1 {
                        e.binary(f, Expr::Const(v))
                    } else {
                        Expr::Const(v).binary(f, e)
                    };
                    let shape = cx.shapes[x].clone();
                    cx.push(FloatOp::Map { expr }, vec![src], shape)
                }
                (_, None) => {
                    // A constant tensor: per-element factors and offsets.
                    let unsupported = || OnnxError::UnsupportedOp {
                        op_type: format!(
                            "{op_type} with a constant of shape {:?} (only Add, \
                             Sub, Mul and Div by one)",
                            c.shape
                        ),
                        node: name.to_string(),
                    };
                    let target = cx.full(x);
                    let idx = movement::broadcast(&c.shape, &target).map_err(|_| unsupported())?;
                    let v: Vec<f64> = idx.iter().map(|&i| c.data[i as usize]).collect();
                    let len = v.len();
                    let negated = || v.iter().map(|c| -c).collect::<Vec<f64>>();
                    let compare = matches!(
                        f,
                        Binary::Less
                            | Binary::LessOrEqual
                            | Binary::Greater
                            | Binary::GreaterOrEqual
                            | Binary::Equal
                    );
                    let (scale, offset) = match (f, k) {
                        (Binary::Add, _) => (vec![1.0; len], v.clone()),
                        // x - c, and for a comparison x op c ⇔ (x - c) op 0.
                        (Binary::Sub, 1) => (vec![1.0; len], negated()),
                        (_, 1) if compare => (vec![1.0; len], negated()),
                        // c - x, and c op x ⇔ (c - x) op 0.
                        (Binary::Sub, _) => (vec![-1.0; len], v.clone()),
                        (_, _) if compare => (vec![-1.0; len], v.clone()),
                        (Binary::Mul, _) => (v.clone(), vec![0.0; len]),
                        (Binary::Div, 1) => (v.iter().map(|c| 1.0 / c).collect(), vec![0.0; len]),
                        _ => return Err(unsupported()),
                    };
                    let shape = cx.shapes[x].clone();
                    let op = FloatOp::Scale { scale, offset };
                    let d = cx.push(op, vec![x], shape.clone());
                    if compare {
                        let expr = Expr::X.binary(f, Expr::Const(0.0));
                        cx.push(FloatOp::Map { expr }, vec![d], shape)
                    } else {
                        d
                    }
                }
            }
        }
        (Err(e), Err(_)) => return Err(e),
    })
}
