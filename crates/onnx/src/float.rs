//! The float view of an imported graph: what ONNX says the model computes, in `f64`, as a
//! graph of nodes over tensors (graph inputs first, then each node's output).

use super::elementwise::Expr;
use crate::error::OnnxError;
use zkw_model::ops::ConvGeometry;

/// What one node of the imported float graph computes.
#[derive(Debug, Clone, PartialEq)]
pub enum FloatOp {
    /// `y = W x + b`, `W` row-major `[out][in]`.
    Dense {
        /// Input features.
        in_features: usize,
        /// Output features.
        out_features: usize,
        /// Row-major weights.
        weights: Vec<f64>,
        /// One bias per output.
        bias: Vec<f64>,
    },
    /// `max(0, x)`.
    Relu,
    /// New shape, batch excluded; data order unchanged.
    Reshape {
        /// The new shape.
        shape: Vec<usize>,
    },
    /// Element-wise sum of two tensors of one shape.
    Add,
    /// Convolution: `y[o, p] = b[o] + Σ w[o, c, k] · x[c, …]` over the geometry's taps.
    Conv {
        /// Channels, sizes, kernel, strides, dilations, pads, groups.
        geometry: ConvGeometry,
        /// `[out][in / groups][kernel…]` weights.
        weights: Vec<f64>,
        /// One bias per output channel.
        bias: Vec<f64>,
    },
    /// The largest value of each window (a depthwise geometry, one channel per group).
    MaxPool {
        /// Channels, sizes, kernel, strides, dilations, pads.
        geometry: ConvGeometry,
    },
    /// An element-wise function of the input (a fused chain of element-wise ONNX nodes).
    Map {
        /// The function of `x`.
        expr: Expr,
    },
    /// Each output value one of the operands' values concatenated, or `fill` (`-1`).
    Select {
        /// What the selection does, for messages.
        what: String,
        /// The output's shape (batch excluded).
        shape: Vec<usize>,
        /// Per output value, an index into the operands' values concatenated, or `-1`.
        indices: Vec<i64>,
        /// The padding value.
        fill: f64,
    },
    /// Element-wise product of two tensors of one shape.
    Mul,
    /// Sum of each row of `axis_len` consecutive values.
    Sum {
        /// The row length.
        axis_len: usize,
    },
    /// `y_i = scale_i · x_i + offset_i`.
    Scale {
        /// One factor per element.
        scale: Vec<f64>,
        /// One offset per element.
        offset: Vec<f64>,
    },
    /// Softmax over consecutive rows of `axis_len` values.
    Softmax {
        /// The row length.
        axis_len: usize,
    },
}

/// One node: an op over earlier tensors.
#[derive(Debug, Clone, PartialEq)]
pub struct FloatNode {
    /// The ONNX node's name.
    pub name: String,
    /// What it computes.
    pub op: FloatOp,
    /// Operand tensors (indices into the graph's tensors).
    pub inputs: Vec<usize>,
}

/// An imported ONNX graph in floats.
#[derive(Debug, Clone, PartialEq)]
pub struct FloatGraph {
    /// Model name (file stem).
    pub name: String,
    /// The graph inputs' shapes, batch excluded: tensors `0..inputs.len()`.
    pub inputs: Vec<Vec<usize>>,
    /// Whether the ONNX inputs have a leading batch dimension.
    pub has_batch: bool,
    /// The nodes in topological order; node `k` outputs tensor `inputs.len() + k`.
    pub nodes: Vec<FloatNode>,
    /// The output tensors, in order.
    pub outputs: Vec<usize>,
}

impl FloatGraph {
    /// Drops every node no output depends on (what fusing element-wise chains leaves behind),
    /// renumbering the tensors.
    pub fn prune(&mut self) {
        let n_in = self.inputs.len();
        let mut live = vec![false; n_in + self.nodes.len()];
        for &t in &self.outputs {
            live[t] = true;
        }
        for k in (0..self.nodes.len()).rev() {
            if live[n_in + k] {
                for &i in &self.nodes[k].inputs {
                    live[i] = true;
                }
            }
        }
        let mut new_id = vec![usize::MAX; live.len()];
        (0..n_in).for_each(|t| new_id[t] = t);
        let mut next = n_in;
        let nodes = std::mem::take(&mut self.nodes);
        for (k, mut node) in nodes.into_iter().enumerate() {
            if live[n_in + k] {
                node.inputs.iter_mut().for_each(|i| *i = new_id[*i]);
                new_id[n_in + k] = next;
                next += 1;
                self.nodes.push(node);
            }
        }
        self.outputs.iter_mut().for_each(|t| *t = new_id[*t]);
    }

    /// Number of input elements (all graph inputs).
    pub fn input_len(&self) -> usize {
        self.inputs
            .iter()
            .map(|s| s.iter().product::<usize>())
            .sum()
    }

    /// The tensors each tensor feeds, by consumer node.
    pub fn consumers(&self, t: usize) -> impl Iterator<Item = &FloatNode> {
        self.nodes.iter().filter(move |n| n.inputs.contains(&t))
    }

    /// Runs the graph in `f64` on the graph inputs concatenated; returns every tensor.
    pub fn run(&self, x: &[f64]) -> Result<Vec<Vec<f64>>, OnnxError> {
        if x.len() != self.input_len() {
            return Err(zkw_model::ModelError::InputLength {
                expected: self.input_len(),
                got: x.len(),
                shape: if self.inputs.len() == 1 {
                    self.inputs[0].clone()
                } else {
                    vec![self.input_len()]
                },
            }
            .into());
        }
        let mut tensors: Vec<Vec<f64>> = Vec::with_capacity(self.inputs.len() + self.nodes.len());
        let mut rest = x;
        for shape in &self.inputs {
            let (head, tail) = rest.split_at(shape.iter().product());
            tensors.push(head.to_vec());
            rest = tail;
        }
        for node in &self.nodes {
            let a = &tensors[node.inputs[0]];
            let next = match &node.op {
                FloatOp::Dense {
                    in_features,
                    out_features,
                    weights,
                    bias,
                } => (0..*out_features)
                    .map(|j| {
                        let row = &weights[j * in_features..(j + 1) * in_features];
                        bias[j] + row.iter().zip(a).map(|(w, v)| w * v).sum::<f64>()
                    })
                    .collect(),
                FloatOp::Relu => a.iter().map(|v| v.max(0.0)).collect(),
                FloatOp::Reshape { .. } => a.to_vec(),
                FloatOp::Add => a
                    .iter()
                    .zip(&tensors[node.inputs[1]])
                    .map(|(p, q)| p + q)
                    .collect(),
                FloatOp::MaxPool { geometry } => geometry
                    .taps()
                    .iter()
                    .map(|t| {
                        t.iter()
                            .map(|&(_, i)| a[i])
                            .fold(f64::NEG_INFINITY, f64::max)
                    })
                    .collect(),
                FloatOp::Map { expr } => a.iter().map(|&v| expr.eval(v)).collect(),
                FloatOp::Select { indices, fill, .. } => {
                    let all: Vec<f64> = node
                        .inputs
                        .iter()
                        .flat_map(|&t| tensors[t].iter().copied())
                        .collect();
                    indices
                        .iter()
                        .map(|&i| if i < 0 { *fill } else { all[i as usize] })
                        .collect()
                }
                FloatOp::Mul => a
                    .iter()
                    .zip(&tensors[node.inputs[1]])
                    .map(|(p, q)| p * q)
                    .collect(),
                FloatOp::Sum { axis_len } => a.chunks(*axis_len).map(|r| r.iter().sum()).collect(),
                FloatOp::Scale { scale, offset } => a
                    .iter()
                    .zip(scale.iter().zip(offset))
                    .map(|(v, (s, o))| s * v + o)
                    .collect(),
                FloatOp::Softmax { axis_len } => a
                    .chunks(*axis_len)
                    .flat_map(|row| {
                        let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                        let e: Vec<f64> = row.iter().map(|v| (v - m).exp()).collect();
                        let s: f64 = e.iter().sum();
                        e.into_iter().map(move |v| v / s)
                    })
                    .collect(),
                FloatOp::Conv {
                    geometry,
                    weights,
                    bias,
                } => {
                    let taps = geometry.taps();
                    let per_channel = taps.len() / geometry.out_channels.max(1);
                    taps.iter()
                        .enumerate()
                        .map(|(j, t)| {
                            bias[j / per_channel.max(1)]
                                + t.iter().map(|&(w, i)| weights[w] * a[i]).sum::<f64>()
                        })
                        .collect()
                }
            };
            tensors.push(next);
        }
        Ok(tensors)
    }
}
