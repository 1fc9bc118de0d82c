//! Constant folding at import: a node whose operands are all constants (shape arithmetic —
//! Shape, ConstantOfShape, Range, NonZero, Gather, Concat, Slice, Transpose, Squeeze/Unsqueeze,
//! Reshape, Cast — and element-wise functions of constants) becomes a constant, so a model
//! with static shapes never carries its shape computations into the circuit.
//!
//! Which ops fold, and how, is the registry's: each foldable row names its function here
//! ([`Fold`]), and the importer hands [`fold_constant`] the node's row's fold and element-wise
//! function, so no op-type string is matched in this file and it never reads the registry.

use std::collections::{HashMap, HashSet};

use tract_onnx::pb::NodeProto;

use super::layers::resolve_reshape;
use super::movement;
use super::proto::{Const, attr, attr_i, attr_ints, load, node_name};
use crate::error::OnnxError;
use crate::function::Function;

/// One op's fold: the node computed as a constant, or `None` when it cannot be (an operand
/// it needs is absent or computed).
pub(crate) type FoldFn = fn(&Folding<'_>) -> Result<Option<Const>, OnnxError>;

/// When a registry row's fold runs.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Fold {
    /// Whatever its operands (`Constant` has none; `Shape` reads a computed tensor's shape).
    Always(FoldFn),
    /// When every operand present is a constant.
    OfConstants(FoldFn),
}

/// What a fold reads: the node, its operands (each a constant, or `None` when computed or
/// absent), and what `Shape` needs of the graph so far.
pub(crate) struct Folding<'a> {
    node: &'a NodeProto,
    name: String,
    op: &'a str,
    inputs: Vec<Option<&'a Const>>,
    ids: &'a HashMap<String, usize>,
    shapes: &'a [Vec<usize>],
    has_batch: bool,
    unbatched: &'a HashSet<usize>,
    dir: Option<&'a str>,
}

impl Folding<'_> {
    /// Operand `k`, when it is a constant.
    fn c(&self, k: usize) -> Option<&Const> {
        self.inputs.get(k).copied().flatten()
    }

    /// Operand 0, a constant whenever an `OfConstants` fold runs.
    fn data(&self) -> &Const {
        self.c(0)
            .expect("an OfConstants fold runs on a constant operand 0")
    }

    /// Operand `k` as integers.
    fn ints(&self, k: usize) -> Option<Vec<i64>> {
        self.c(k)
            .map(|x| x.data.iter().map(|&v| v as i64).collect())
    }

    /// The node's op and name, and why it cannot be folded.
    fn bad(&self, why: String) -> OnnxError {
        OnnxError::Invalid(format!("{} `{}`: {why}", self.op, self.name))
    }
}

/// A node computed from constants alone (shape arithmetic, constant tables) as a constant;
/// `None` when the node reads a computed tensor or is not foldable.
#[allow(clippy::too_many_arguments)]
pub(super) fn fold_constant(
    node: &NodeProto,
    (fold, function): (Option<Fold>, Option<Function>),
    consts: &HashMap<String, Const>,
    ids: &HashMap<String, usize>,
    shapes: &[Vec<usize>],
    has_batch: bool,
    unbatched: &HashSet<usize>,
    dir: Option<&str>,
) -> Result<Option<Const>, OnnxError> {
    let f = Folding {
        node,
        name: node_name(node),
        op: node.op_type.as_str(),
        inputs: node
            .input
            .iter()
            .map(|i| if i.is_empty() { None } else { consts.get(i) })
            .collect(),
        ids,
        shapes,
        has_batch,
        unbatched,
        dir,
    };
    if let Some(Fold::Always(fold)) = fold {
        return fold(&f);
    }
    let present = node.input.iter().filter(|i| !i.is_empty()).count();
    if present == 0 || present != f.inputs.iter().flatten().count() {
        return Ok(None);
    }
    // Every fold reads operand 0; a node whose first operand is absent (an empty name) is
    // not a fold but the importer's to refuse.
    if f.c(0).is_none() {
        return Ok(None);
    }
    match fold {
        Some(Fold::OfConstants(fold)) => fold(&f),
        _ => elementwise(&f, function),
    }
}

/// `Constant`: its `value` tensor.
pub(crate) fn constant(f: &Folding<'_>) -> Result<Option<Const>, OnnxError> {
    let (node, name, dir) = (f.node, f.name.clone(), f.dir);
    let t = attr(node, "value")
        .and_then(|a| a.t.as_ref())
        .ok_or_else(|| OnnxError::UnsupportedOp {
            op_type: "Constant (without a `value` tensor)".into(),
            node: name.clone(),
        })?;
    Ok(Some(load(t, dir)?))
}

/// `Shape`: the static shape of a computed tensor (batch 1 included when the model has one).
pub(crate) fn shape(f: &Folding<'_>) -> Result<Option<Const>, OnnxError> {
    let (node, ids, shapes, has_batch, unbatched) =
        (f.node, f.ids, f.shapes, f.has_batch, f.unbatched);
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
    Ok(Some(Const {
        shape: vec![data.len()],
        data,
    }))
}

/// `Cast`, `Identity`, `Dropout` of a constant: the constant (values are kept as `f64`).
pub(crate) fn identity(f: &Folding<'_>) -> Result<Option<Const>, OnnxError> {
    Ok(Some(f.data().clone()))
}

/// `ConstantOfShape`: a tensor of the given shape, every value the `value` attribute's.
pub(crate) fn constant_of_shape(f: &Folding<'_>) -> Result<Option<Const>, OnnxError> {
    let node = f.node;
    let ints = |k: usize| f.ints(k);
    Ok(Some({
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
    }))
}

/// `Range`: `start, start + delta, …` below `limit` (at most 2^24 values).
pub(crate) fn range(f: &Folding<'_>) -> Result<Option<Const>, OnnxError> {
    let c = |k: usize| f.c(k);
    let bad = |why: String| f.bad(why);
    Ok(Some({
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
    }))
}

/// `NonZero`: `[rank, count]`, the coordinates of each non-zero value, in row-major order.
pub(crate) fn non_zero(f: &Folding<'_>) -> Result<Option<Const>, OnnxError> {
    let data = f.data();
    Ok(Some({
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
    }))
}

/// `Reshape` of a constant.
pub(crate) fn reshape(f: &Folding<'_>) -> Result<Option<Const>, OnnxError> {
    let name = &f.name;
    let data = f.data();
    let c = |k: usize| f.c(k);
    let bad = |why: String| f.bad(why);
    Ok(Some({
        let x = data;
        let target = c(1).ok_or_else(|| bad("no shape".into()))?;
        let shape = resolve_reshape(name, &target.data, &x.shape, false)?;
        Const {
            shape,
            data: x.data.clone(),
        }
    }))
}

/// `Concat` of constants.
pub(crate) fn concat(f: &Folding<'_>) -> Result<Option<Const>, OnnxError> {
    let node = f.node;
    let bad = |why: String| f.bad(why);
    Ok(Some({
        let xs: Vec<&Const> = f.inputs.iter().flatten().copied().collect();
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
    }))
}

/// `Gather` from a constant by constant indices.
pub(crate) fn gather(f: &Folding<'_>) -> Result<Option<Const>, OnnxError> {
    let node = f.node;
    let c = |k: usize| f.c(k);
    let bad = |why: String| f.bad(why);
    Ok(Some({
        let (x, i) = match (c(0), c(1)) {
            (Some(x), Some(i)) => (x, i),
            _ => return Ok(None),
        };
        let a = movement::axis(attr_i(node, "axis", 0), x.shape.len()).map_err(bad)?;
        let idx: Vec<i64> = i.data.iter().map(|&v| v as i64).collect();
        let (out, map) = movement::gather(&x.shape, a, &idx, &i.shape).map_err(bad)?;
        moved(x, out, map, 0.0)
    }))
}

/// `Transpose` of a constant.
pub(crate) fn transpose(f: &Folding<'_>) -> Result<Option<Const>, OnnxError> {
    let node = f.node;
    let data = f.data();
    let bad = |why: String| f.bad(why);
    Ok(Some({
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
    }))
}

/// `Slice` of a constant by constant starts, ends, axes and steps.
pub(crate) fn slice(f: &Folding<'_>) -> Result<Option<Const>, OnnxError> {
    let node = f.node;
    let data = f.data();
    let ints = |k: usize| f.ints(k);
    let bad = |why: String| f.bad(why);
    Ok(Some({
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
        let (out, idx) = movement::slice(&x.shape, &starts, &ends, &axes, &steps).map_err(bad)?;
        moved(x, out, idx, 0.0)
    }))
}

/// `Squeeze` of a constant: the given axes of size 1 dropped (every one when none is given).
pub(crate) fn squeeze(f: &Folding<'_>) -> Result<Option<Const>, OnnxError> {
    squeeze_or_unsqueeze(f, true)
}

/// `Unsqueeze` of a constant: axes of size 1 inserted.
pub(crate) fn unsqueeze(f: &Folding<'_>) -> Result<Option<Const>, OnnxError> {
    squeeze_or_unsqueeze(f, false)
}

fn squeeze_or_unsqueeze(f: &Folding<'_>, squeeze: bool) -> Result<Option<Const>, OnnxError> {
    let node = f.node;
    let data = f.data();
    let ints = |k: usize| f.ints(k);
    let bad = |why: String| f.bad(why);
    Ok(Some({
        let x = data;
        let axes = ints(1)
            .or_else(|| attr_ints(node, "axes"))
            .unwrap_or_default();
        let shape: Vec<usize> = if squeeze {
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
    }))
}

/// An element-wise function of constants, numpy-broadcast; `None` for any other op.
fn elementwise(f: &Folding<'_>, function: Option<Function>) -> Result<Option<Const>, OnnxError> {
    let node = f.node;
    let data = f.data();
    let c = |k: usize| f.c(k);
    let bad = |why: String| f.bad(why);
    Ok(Some({
        if let Some(f) = function.and_then(|g| g.unary(node)) {
            let x = data;
            Const {
                shape: x.shape.clone(),
                data: x.data.iter().map(|&v| f.apply(v)).collect(),
            }
        } else if let (Some(f), Some(a), Some(b)) = (function.and_then(|g| g.binary()), c(0), c(1))
        {
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
    }))
}

/// `x`'s values moved to `out`'s shape by an index map (`-1`: `fill`).
fn moved(x: &Const, out: Vec<usize>, idx: Vec<i64>, fill: f64) -> Const {
    Const {
        shape: out,
        data: idx
            .iter()
            .map(|&i| if i < 0 { fill } else { x.data[i as usize] })
            .collect(),
    }
}
