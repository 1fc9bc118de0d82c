//! Constant folding at import: a node whose operands are all constants (shape arithmetic —
//! Shape, ConstantOfShape, Range, NonZero, Gather, Concat, Slice, Transpose, Squeeze/Unsqueeze,
//! Reshape, Cast — and
//! element-wise functions of constants) becomes a constant, so a model with static shapes
//! never carries its shape computations into the circuit.

use std::collections::{HashMap, HashSet};

use tract_onnx::pb::NodeProto;

use super::elementwise::{Binary, Unary};
use super::layers::resolve_reshape;
use super::movement;
use super::proto::{Const, attr, attr_f, attr_i, attr_ints, load, node_name};
use crate::error::OnnxError;

/// A node computed from constants alone (shape arithmetic, constant tables) as a constant;
/// `None` when the node reads a computed tensor or is not foldable.
pub(super) fn fold_constant(
    node: &NodeProto,
    consts: &HashMap<String, Const>,
    ids: &HashMap<String, usize>,
    shapes: &[Vec<usize>],
    has_batch: bool,
    unbatched: &HashSet<usize>,
    dir: Option<&str>,
) -> Result<Option<Const>, OnnxError> {
    let name = node_name(node);
    let bad = |why: String| OnnxError::Invalid(format!("{} `{name}`: {why}", node.op_type));
    let op = node.op_type.as_str();
    if op == "Constant" {
        let t = attr(node, "value")
            .and_then(|a| a.t.as_ref())
            .ok_or_else(|| OnnxError::UnsupportedOp {
                op_type: "Constant (without a `value` tensor)".into(),
                node: name.clone(),
            })?;
        return Ok(Some(load(t, dir)?));
    }
    if op == "Shape" {
        // The static shape of a computed tensor (batch 1 included when the model has one).
        let Some(&t) = node.input.first().and_then(|i| ids.get(i)) else {
            return Ok(None);
        };
        let batched = has_batch && !unbatched.contains(&t);
        let full: Vec<f64> = std::iter::repeat_n(1.0, usize::from(batched))
            .chain(shapes[t].iter().map(|&d| d as f64))
            .collect();
        let r = full.len() as i64;
        let clampi = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
        let (a, b) = (
            clampi(attr_i(node, "start", 0)),
            clampi(attr_i(node, "end", r)),
        );
        let data = full[a..b.max(a)].to_vec();
        return Ok(Some(Const {
            shape: vec![data.len()],
            data,
        }));
    }
    let inputs: Vec<Option<&Const>> = node
        .input
        .iter()
        .map(|i| if i.is_empty() { None } else { consts.get(i) })
        .collect();
    let present = node.input.iter().filter(|i| !i.is_empty()).count();
    if present != inputs.iter().flatten().count() || present == 0 && op != "Constant" {
        return Ok(None);
    }
    let c = |k: usize| inputs.get(k).copied().flatten();
    // Every fold reads operand 0; a node whose first operand is absent (an empty name) is
    // not a fold but the importer's to refuse.
    let Some(data) = c(0) else {
        return Ok(None);
    };
    let ints = |k: usize| c(k).map(|x| x.data.iter().map(|&v| v as i64).collect::<Vec<i64>>());
    let moved = |x: &Const, out: Vec<usize>, idx: Vec<i64>, fill: f64| Const {
        shape: out,
        data: idx
            .iter()
            .map(|&i| if i < 0 { fill } else { x.data[i as usize] })
            .collect(),
    };
    let folded = match op {
        "ConstantOfShape" => {
            let shape: Vec<usize> = ints(0)
                .unwrap_or_default()
                .iter()
                .map(|&d| d.max(0) as usize)
                .collect();
            let value = match attr(node, "value").and_then(|a| a.t.as_ref()) {
                Some(t) => load(t, None)?.data.first().copied().unwrap_or(0.0),
                None => 0.0,
            };
            let len = shape.iter().product();
            Const {
                shape,
                data: vec![value; len],
            }
        }
        "Range" => {
            let (start, limit, delta) = match (c(0), c(1), c(2)) {
                (Some(a), Some(b), Some(d)) => (a.data[0], b.data[0], d.data[0]),
                _ => return Ok(None),
            };
            let n = ((limit - start) / delta).ceil().max(0.0) as usize;
            if n > 1 << 24 {
                return Err(bad(format!("a range of {n} values")));
            }
            let data: Vec<f64> = (0..n).map(|k| start + k as f64 * delta).collect();
            Const {
                shape: vec![n],
                data,
            }
        }
        "Cast" | "Identity" | "Dropout" => data.clone(),
        "NonZero" => {
            // `[rank, count]`: the coordinates of each non-zero value, in row-major order.
            let strides = movement::strides(&data.shape);
            let at: Vec<usize> = (0..data.data.len())
                .filter(|&i| data.data[i] != 0.0)
                .collect();
            let rank = data.shape.len();
            let data = (0..rank)
                .flat_map(|d| {
                    let (stride, size) = (strides[d], data.shape[d]);
                    at.iter().map(move |&i| ((i / stride) % size) as f64)
                })
                .collect();
            Const {
                shape: vec![rank, at.len()],
                data,
            }
        }
        "Reshape" => {
            let x = data;
            let target = c(1).ok_or_else(|| bad("no shape".into()))?;
            let shape = resolve_reshape(&name, &target.data, &x.shape, false)?;
            Const {
                shape,
                data: x.data.clone(),
            }
        }
        "Unsqueeze" | "Squeeze" => {
            let x = data;
            let axes = ints(1)
                .or_else(|| attr_ints(node, "axes"))
                .unwrap_or_default();
            let shape: Vec<usize> = if op == "Squeeze" {
                let axes: Vec<usize> = axes
                    .iter()
                    .map(|&a| movement::axis(a, x.shape.len()))
                    .collect::<Result<_, _>>()
                    .map_err(bad)?;
                (0..x.shape.len())
                    .filter(|d| !(axes.contains(d) || (axes.is_empty() && x.shape[*d] == 1)))
                    .map(|d| x.shape[d])
                    .collect()
            } else {
                let rank = x.shape.len() + axes.len();
                let axes: Vec<usize> = axes
                    .iter()
                    .map(|&a| movement::axis(a, rank))
                    .collect::<Result<_, _>>()
                    .map_err(bad)?;
                let mut rest = x.shape.iter();
                (0..rank)
                    .map(|d| {
                        if axes.contains(&d) {
                            1
                        } else {
                            *rest.next().unwrap_or(&1)
                        }
                    })
                    .collect()
            };
            Const {
                shape,
                data: x.data.clone(),
            }
        }
        "Concat" => {
            let xs: Vec<&Const> = inputs.iter().flatten().copied().collect();
            let shapes: Vec<Vec<usize>> = xs.iter().map(|x| x.shape.clone()).collect();
            let rank = shapes[0].len().max(1);
            let a = movement::axis(attr_i(node, "axis", 0), rank).map_err(bad)?;
            let shapes: Vec<Vec<usize>> = shapes
                .into_iter()
                .map(|s| if s.is_empty() { vec![1] } else { s })
                .collect();
            let (out, idx) = movement::concat(&shapes, a).map_err(bad)?;
            let all: Vec<f64> = xs.iter().flat_map(|x| x.data.iter().copied()).collect();
            moved(
                &Const {
                    shape: vec![all.len()],
                    data: all,
                },
                out,
                idx,
                0.0,
            )
        }
        "Gather" => {
            let (x, i) = match (c(0), c(1)) {
                (Some(x), Some(i)) => (x, i),
                _ => return Ok(None),
            };
            let a = movement::axis(attr_i(node, "axis", 0), x.shape.len()).map_err(bad)?;
            let idx: Vec<i64> = i.data.iter().map(|&v| v as i64).collect();
            let (out, map) = movement::gather(&x.shape, a, &idx, &i.shape).map_err(bad)?;
            moved(x, out, map, 0.0)
        }
        "Transpose" => {
            let x = data;
            let rank = x.shape.len();
            let perm: Vec<usize> = match attr_ints(node, "perm") {
                Some(p) => p
                    .iter()
                    .map(|&v| movement::axis(v, rank))
                    .collect::<Result<_, _>>()
                    .map_err(bad)?,
                None => (0..rank).rev().collect(),
            };
            let (out, idx) = movement::transpose(&x.shape, &perm).map_err(bad)?;
            moved(x, out, idx, 0.0)
        }
        "Slice" => {
            let x = data;
            let (starts, ends) = match (
                ints(1).or_else(|| attr_ints(node, "starts")),
                ints(2).or_else(|| attr_ints(node, "ends")),
            ) {
                (Some(s), Some(e)) => (s, e),
                _ => return Ok(None),
            };
            let axes: Vec<usize> = match ints(3).or_else(|| attr_ints(node, "axes")) {
                Some(a) => a
                    .iter()
                    .map(|&v| movement::axis(v, x.shape.len()))
                    .collect::<Result<_, _>>()
                    .map_err(bad)?,
                None => (0..starts.len()).collect(),
            };
            let steps = ints(4).unwrap_or(vec![1; starts.len()]);
            let (out, idx) =
                movement::slice(&x.shape, &starts, &ends, &axes, &steps).map_err(bad)?;
            moved(x, out, idx, 0.0)
        }
        _ => {
            // Element-wise functions of constants, numpy-broadcast.
            if let Some(f) = Unary::from_onnx(op, |n, d| attr_f(node, n, d)) {
                let x = data;
                Const {
                    shape: x.shape.clone(),
                    data: x.data.iter().map(|&v| f.apply(v)).collect(),
                }
            } else if let (Some(f), Some(a), Some(b)) = (Binary::from_onnx(op), c(0), c(1)) {
                let out = movement::broadcast_shape(&a.shape, &b.shape).map_err(bad)?;
                let ia = movement::broadcast(&a.shape, &out).map_err(bad)?;
                let ib = movement::broadcast(&b.shape, &out).map_err(bad)?;
                Const {
                    data: ia
                        .iter()
                        .zip(&ib)
                        .map(|(&i, &j)| f.apply(a.data[i as usize], b.data[j as usize]))
                        .collect(),
                    shape: out,
                }
            } else {
                return Ok(None);
            }
        }
    };
    Ok(Some(folded))
}
