//! What an ONNX op's import module reads and writes: [`Ctx`], one node and the float graph
//! built so far, and [`Import`], the function type the registry's rows name.
//!
//! What a module may rely on: the node's constant operands are folded already
//! ([`super::fold`]), its activation operands are tensors of the graph, and shapes exclude the
//! batch dimension unless the tensor has none ([`Ctx::full`] gives the ONNX shape).

use std::collections::{HashMap, HashSet};

use tract_onnx::pb::NodeProto;

use super::float::{FloatNode, FloatOp};
use super::proto::{Const, attr_ints};
use crate::error::OnnxError;
use crate::function::Function;

/// How a module reads one node: it appends float nodes through `cx` and returns the tensor
/// that is the node's (first) output.
pub type Import = fn(&mut Ctx<'_>) -> Result<usize, OnnxError>;

/// One node being imported, and the graph built so far.
pub struct Ctx<'a> {
    /// The node.
    pub node: &'a NodeProto,
    /// Its name (or its first output's, when it has none), for messages.
    pub name: &'a str,
    /// Constants by ONNX name (initializers and folded nodes).
    pub consts: &'a HashMap<String, Const>,
    /// How many nodes (and graph outputs) read each ONNX tensor.
    pub readers: &'a HashMap<&'a str, usize>,
    /// Whether the graph's tensors carry a leading batch dimension of 1.
    pub has_batch: bool,
    /// The default domain's opset.
    pub opset: i64,
    /// How many graph inputs there are (tensor ids below are graph inputs).
    pub n_in: usize,
    /// The float nodes so far; node `i` computes tensor `n_in + i`.
    pub nodes: &'a mut Vec<FloatNode>,
    /// Every tensor's shape, batch excluded unless the tensor is in `unbatched`.
    pub shapes: &'a mut Vec<Vec<usize>>,
    /// Tensor ids by ONNX name; a module with several outputs registers the others here.
    pub ids: &'a mut HashMap<String, usize>,
    /// Tensors without the batch dimension (an op made their leading dimension other than 1,
    /// or their rank 1): their shape is their whole ONNX shape.
    pub unbatched: &'a mut HashSet<usize>,
    /// The element-wise function the node's registry row names, if it is one.
    pub function: Option<Function>,
}

impl<'a> Ctx<'a> {
    /// Operand `k` as a constant, or a message saying it must be one.
    pub fn operand(&self, k: usize) -> Result<&'a Const, OnnxError> {
        let consts = self.consts;
        self.node
            .input
            .get(k)
            .and_then(|n| consts.get(n))
            .ok_or_else(|| {
                OnnxError::Invalid(format!(
                    "node `{}` ({}): input #{k} must be a constant",
                    self.name, self.node.op_type
                ))
            })
    }

    /// Operand `k` as an activation: a graph input or an earlier node's output.
    pub fn activation(&self, k: usize) -> Result<usize, OnnxError> {
        let input = self.node.input.get(k).map(String::as_str).unwrap_or("");
        self.ids.get(input).copied().ok_or_else(|| {
            OnnxError::Invalid(format!(
                "node `{}` ({}): input #{k} `{input}` is neither a graph input nor an earlier \
                 node's output",
                self.name, self.node.op_type
            ))
        })
    }

    /// Whether this node is the only reader of its operand `k` (so a function computed for it
    /// alone can be fused into this node's).
    pub fn sole_reader(&self, k: usize) -> bool {
        self.node
            .input
            .get(k)
            .and_then(|i| self.readers.get(i.as_str()))
            == Some(&1)
    }

    /// Appends `op` over `inputs`, producing a tensor of `shape`. The new tensor has the batch
    /// dimension exactly when its first operand has (shape-changing ops say otherwise through
    /// [`Ctx::mark`]).
    pub fn push(&mut self, op: FloatOp, inputs: Vec<usize>, shape: Vec<usize>) -> usize {
        let inherit = inputs.first().is_some_and(|i| self.unbatched.contains(i));
        self.nodes.push(FloatNode {
            name: self.name.to_string(),
            op,
            inputs,
        });
        self.shapes.push(shape);
        let id = self.shapes.len() - 1;
        if inherit {
            self.unbatched.insert(id);
        }
        id
    }

    /// Tensor `t`'s ONNX shape: ours counts no batch dimension.
    pub fn full(&self, t: usize) -> Vec<usize> {
        if self.has_batch && !self.unbatched.contains(&t) {
            std::iter::once(1)
                .chain(self.shapes[t].iter().copied())
                .collect()
        } else {
            self.shapes[t].clone()
        }
    }

    /// The ONNX shape of an output: stripped of its leading batch 1 when it has one, and
    /// whether it has none (then it is stored whole, see [`Ctx::unbatched`]).
    pub fn strip(&self, s: Vec<usize>) -> (Vec<usize>, bool) {
        if self.has_batch && s.len() >= 2 && s[0] == 1 {
            (s[1..].to_vec(), false)
        } else {
            (s, self.has_batch)
        }
    }

    /// Records whether tensor `t` is without the batch dimension.
    pub fn mark(&mut self, t: usize, without_batch: bool) {
        if without_batch {
            self.unbatched.insert(t);
        } else {
            self.unbatched.remove(&t);
        }
    }

    /// The error for an op the registry sends to a module that does not read it (a registry
    /// mistake, caught by the registry's tests).
    pub fn unregistered(&self) -> OnnxError {
        OnnxError::Invalid(format!(
            "internal: ONNX op `{}` is registered but not interpreted (node `{}`)",
            self.node.op_type, self.name
        ))
    }

    /// An invalid-node error naming the op and the node.
    pub fn bad(&self, why: String) -> OnnxError {
        OnnxError::Invalid(format!("{} `{}`: {why}", self.node.op_type, self.name))
    }

    /// `x`, when it can be read as `[C, spatial…]` after the batch: a tensor without one does
    /// not fit a spatial op.
    pub fn spatial(&self, x: usize) -> Result<usize, OnnxError> {
        if self.has_batch && self.unbatched.contains(&x) {
            return Err(OnnxError::UnsupportedOp {
                op_type: format!(
                    "{} over a tensor without a batch dimension",
                    self.node.op_type
                ),
                node: self.name.to_string(),
            });
        }
        Ok(x)
    }

    /// Integers from constant operand `k` when present (newer opsets), else from the
    /// attribute `attr_name` (older ones).
    pub fn ints(&self, k: usize, attr_name: &str) -> Result<Option<Vec<i64>>, OnnxError> {
        match self.node.input.get(k).filter(|s| !s.is_empty()) {
            Some(_) => Ok(Some(
                self.operand(k)?.data.iter().map(|&v| v as i64).collect(),
            )),
            None => Ok(attr_ints(self.node, attr_name)),
        }
    }

    /// A selection (`what`, for messages) of `inputs`' values into the ONNX shape `out_full`:
    /// per output value an index into the operands' values concatenated, or `-1` for `fill`.
    pub fn select(
        &mut self,
        what: String,
        inputs: Vec<usize>,
        out_full: Vec<usize>,
        indices: Vec<i64>,
        fill: f64,
    ) -> Result<usize, OnnxError> {
        let (shape, without_batch) = self.strip(out_full);
        let op = FloatOp::Select {
            what,
            shape: shape.clone(),
            indices,
            fill,
        };
        let id = self.push(op, inputs, shape);
        self.mark(id, without_batch);
        Ok(id)
    }

    /// Tensor `x` (ONNX shape `f`) with axis `a` moved last, as `[rows, n]`: the tensor, `rows`
    /// and `n`, the axis's length.
    pub fn rows_along(
        &mut self,
        x: usize,
        f: &[usize],
        a: usize,
    ) -> Result<(usize, usize, usize), OnnxError> {
        let n = f[a];
        let rows = f.iter().product::<usize>() / n.max(1);
        let perm: Vec<usize> = (0..f.len()).filter(|&d| d != a).chain([a]).collect();
        let (_, idx) = super::movement::transpose(f, &perm).map_err(|why| self.bad(why))?;
        let rn = vec![rows, n];
        let op = FloatOp::Select {
            what: format!("axis {a} last"),
            shape: rn.clone(),
            indices: idx,
            fill: 0.0,
        };
        Ok((self.push(op, vec![x], rn), rows, n))
    }

    /// Tensor `t` reshaped to the ONNX shape `out` (batch stripped when it leads).
    pub fn reshaped(&mut self, t: usize, out: Vec<usize>) -> usize {
        let (shape, without_batch) = self.strip(out);
        let shape = if shape.is_empty() { vec![1] } else { shape };
        let op = FloatOp::Reshape {
            shape: shape.clone(),
        };
        let id = self.push(op, vec![t], shape);
        self.mark(id, without_batch);
        id
    }
}
