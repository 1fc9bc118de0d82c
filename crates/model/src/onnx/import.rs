//! ONNX protobuf → [`FloatGraph`]: Gemm, MatMul (+ Add of a constant as bias), Conv (1-D and
//! 2-D, pads and auto_pad, strides, dilations, groups), MaxPool, BatchNormalization (as a
//! depthwise 1×1 convolution), Add of two activations, Relu, Flatten, Reshape, Identity/Dropout, Constant.
//!
//! tract-onnx decodes the protobuf and the tensors; this file only interprets nodes. The graph
//! may branch and join (residual connections) and have several inputs; weights must be
//! constants. Any other node is reported with its op type and name, so the user knows exactly
//! what to change.

use std::collections::HashMap;
use std::path::Path;

use tract_onnx::data_resolver::FopenDataResolver;
use tract_onnx::pb::{
    AttributeProto, ModelProto, NodeProto, TensorProto, ValueInfoProto,
    tensor_shape_proto::dimension, type_proto,
};
use tract_onnx::prelude::{Framework, Tensor};

use super::float::{FloatGraph, FloatNode, FloatOp};
use crate::error::ModelError;
use crate::ops::ConvGeometry;

/// A constant tensor: shape and values as `f64`.
#[derive(Debug, Clone)]
struct Const {
    shape: Vec<usize>,
    data: Vec<f64>,
}

fn onnx_err(e: impl std::fmt::Display) -> ModelError {
    ModelError::Onnx(e.to_string())
}

fn to_const(t: &Tensor) -> Result<Const, ModelError> {
    let f = t
        .cast_to::<f64>()
        .map_err(|e| onnx_err(format!("tensor of type {:?}: {e}", t.datum_type())))?;
    Ok(Const {
        shape: t.shape().to_vec(),
        data: f
            .to_plain_array_view::<f64>()
            .map_err(onnx_err)?
            .iter()
            .copied()
            .collect(),
    })
}

fn load(t: &TensorProto, dir: Option<&str>) -> Result<Const, ModelError> {
    let tensor = tract_onnx::tensor::load_tensor(&FopenDataResolver, t, dir)
        .map_err(|e| onnx_err(format!("initializer `{}`: {e}", t.name)))?;
    to_const(&tensor)
}

fn attr<'a>(node: &'a NodeProto, name: &str) -> Option<&'a AttributeProto> {
    node.attribute.iter().find(|a| a.name == name)
}

fn attr_f(node: &NodeProto, name: &str, default: f32) -> f32 {
    attr(node, name).map(|a| a.f).unwrap_or(default)
}

fn attr_i(node: &NodeProto, name: &str, default: i64) -> i64 {
    attr(node, name).map(|a| a.i).unwrap_or(default)
}

fn node_name(node: &NodeProto) -> String {
    if !node.name.is_empty() {
        node.name.clone()
    } else {
        node.output.first().cloned().unwrap_or_default()
    }
}

/// Dimensions of a graph input; symbolic dimensions are `None`.
fn input_dims(vi: &ValueInfoProto) -> Result<Vec<Option<usize>>, ModelError> {
    let tensor = match vi.r#type.as_ref().and_then(|t| t.value.as_ref()) {
        Some(type_proto::Value::TensorType(t)) => t,
        _ => {
            return Err(onnx_err(format!(
                "graph input `{}` is not a tensor",
                vi.name
            )));
        }
    };
    let shape = tensor
        .shape
        .as_ref()
        .ok_or_else(|| onnx_err(format!("graph input `{}` has no shape", vi.name)))?;
    Ok(shape
        .dim
        .iter()
        .map(|d| match d.value {
            Some(dimension::Value::DimValue(v)) if v > 0 => Some(v as usize),
            _ => None,
        })
        .collect())
}

/// Parses an ONNX file into a float chain.
pub fn import_float_graph(path: &Path) -> Result<FloatGraph, ModelError> {
    if !path.exists() {
        return Err(ModelError::io(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        ));
    }
    let proto = tract_onnx::onnx()
        .proto_model_for_path(path)
        .map_err(|e| onnx_err(format!("{}: {e}", path.display())))?;
    graph_from_proto(&proto, path)
}

/// Interprets a decoded ONNX model (read from `path`, whose directory holds any external data).
fn graph_from_proto(proto: &ModelProto, path: &Path) -> Result<FloatGraph, ModelError> {
    let graph = proto
        .graph
        .as_ref()
        .ok_or_else(|| onnx_err("the model has no graph"))?;
    let dir = path.parent().and_then(|p| p.to_str());

    let mut consts: HashMap<String, Const> = HashMap::new();
    for t in &graph.initializer {
        consts.insert(t.name.clone(), load(t, dir)?);
    }

    let inputs: Vec<&ValueInfoProto> = graph
        .input
        .iter()
        .filter(|i| !consts.contains_key(&i.name))
        .collect();
    if inputs.is_empty() {
        return Err(ModelError::Invalid(
            "the graph has no input that is not a constant".into(),
        ));
    }
    // Tensors by ONNX name: the graph inputs, then each node's output.
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut shapes: Vec<Vec<usize>> = Vec::new();
    let mut batch: Option<bool> = None;
    for vi in &inputs {
        let dims = input_dims(vi)?;
        // A leading symbolic (or 1) dimension on a rank ≥ 2 input is the batch: we prove batch 1.
        let has_batch = dims.len() >= 2 && matches!(dims[0], None | Some(1));
        if batch.is_some_and(|b| b != has_batch) {
            return Err(ModelError::Invalid(format!(
                "graph input `{}` has a batch dimension and another input has none",
                vi.name
            )));
        }
        batch = Some(has_batch);
        let body = if has_batch { &dims[1..] } else { &dims[..] };
        let shape = body
            .iter()
            .map(|d| {
                d.ok_or_else(|| {
                    ModelError::Invalid(format!(
                        "graph input `{}` has a symbolic dimension other than the batch",
                        vi.name
                    ))
                })
            })
            .collect::<Result<Vec<usize>, _>>()?;
        ids.insert(vi.name.clone(), shapes.len());
        shapes.push(shape);
    }
    let has_batch = batch.unwrap_or(false);
    let input_shapes = shapes.clone();
    // How many nodes read each tensor: a constant added to a dense layer's output folds into
    // its bias only when nothing else reads that output.
    let mut readers: HashMap<&str, usize> = HashMap::new();
    for node in &graph.node {
        for i in &node.input {
            *readers.entry(i.as_str()).or_default() += 1;
        }
    }
    for out in &graph.output {
        *readers.entry(out.name.as_str()).or_default() += 1;
    }
    let mut nodes: Vec<FloatNode> = Vec::new();

    for node in &graph.node {
        let name = node_name(node);
        // Every op here has exactly one result; a node without one (a malformed graph) would
        // leave its readers with nothing to read.
        let Some(output) = node.output.first().filter(|o| !o.is_empty()) else {
            return Err(ModelError::Invalid(format!(
                "node `{name}` ({}) has no output",
                node.op_type
            )));
        };
        // Identity (or Dropout) of a constant is that constant.
        if matches!(node.op_type.as_str(), "Identity" | "Dropout")
            && let Some(c) = node.input.first().and_then(|i| consts.get(i)).cloned()
        {
            consts.insert(output.clone(), c);
            continue;
        }
        if node.op_type == "Constant" {
            let t = attr(node, "value")
                .and_then(|a| a.t.as_ref())
                .ok_or_else(|| ModelError::UnsupportedOp {
                    op_type: "Constant (without a `value` tensor)".into(),
                    node: name.clone(),
                })?;
            consts.insert(output.clone(), load(t, dir)?);
            continue;
        }
        let unsupported = || ModelError::UnsupportedOp {
            op_type: node.op_type.clone(),
            node: name.clone(),
        };
        let operand = |k: usize| -> Result<&Const, ModelError> {
            node.input
                .get(k)
                .and_then(|n| consts.get(n))
                .ok_or_else(|| {
                    ModelError::Invalid(format!(
                        "node `{name}` ({}): input #{k} must be a constant",
                        node.op_type
                    ))
                })
        };
        // Operand `k` as an activation: a graph input or an earlier node's output.
        let activation = |k: usize| -> Result<usize, ModelError> {
            let input = node.input.get(k).map(String::as_str).unwrap_or("");
            ids.get(input).copied().ok_or_else(|| {
                ModelError::Invalid(format!(
                    "node `{name}` ({}): input #{k} `{input}` is neither a graph input nor an \
                     earlier node's output",
                    node.op_type
                ))
            })
        };
        let push = |nodes: &mut Vec<FloatNode>, shapes: &mut Vec<Vec<usize>>, op, inputs, shape| {
            nodes.push(FloatNode {
                name: name.clone(),
                op,
                inputs,
            });
            shapes.push(shape);
            shapes.len() - 1
        };
        let id = match node.op_type.as_str() {
            "Gemm" => {
                let x = activation(0)?;
                let shape = &shapes[x];
                let len: usize = shape.iter().product();
                let (alpha, beta) = (attr_f(node, "alpha", 1.0), attr_f(node, "beta", 1.0));
                let trans_b = attr_i(node, "transB", 0) != 0;
                // A is the batch-1 activation: as a matrix it must be one row (1×K), which it
                // is as stored ([1, K]) or, with transA, when stored as a column ([K, 1]).
                let full: Vec<usize> = if has_batch {
                    std::iter::once(1).chain(shape.iter().copied()).collect()
                } else {
                    shape.clone()
                };
                let rows = match (full.as_slice(), attr_i(node, "transA", 0) != 0) {
                    ([m, _], false) | ([_, m], true) => *m,
                    _ => 0,
                };
                if rows != 1 {
                    return Err(ModelError::Invalid(format!(
                        "Gemm `{name}`: input A of shape {full:?} (transA={}) is not a single \
                         row; only batch-1 vectors through a dense layer are supported",
                        attr_i(node, "transA", 0)
                    )));
                }
                let (w, n) = dense_weights(&name, operand(1)?, len, trans_b, alpha as f64)?;
                let bias = match node.input.get(2).filter(|s| !s.is_empty()) {
                    Some(_) => broadcast_bias(&name, operand(2)?, n, beta as f64)?,
                    None => vec![0.0; n],
                };
                let op = FloatOp::Dense {
                    in_features: len,
                    out_features: n,
                    weights: w,
                    bias,
                };
                push(&mut nodes, &mut shapes, op, vec![x], vec![n])
            }
            "MatMul" => {
                let x = activation(0).map_err(|_| {
                    ModelError::Invalid(format!(
                        "MatMul `{name}`: the activation must be the left operand"
                    ))
                })?;
                let len: usize = shapes[x].iter().product();
                let (w, n) = dense_weights(&name, operand(1)?, len, false, 1.0)?;
                let op = FloatOp::Dense {
                    in_features: len,
                    out_features: n,
                    weights: w,
                    bias: vec![0.0; n],
                };
                push(&mut nodes, &mut shapes, op, vec![x], vec![n])
            }
            "Add" => match (activation(0), activation(1)) {
                (Ok(a), Ok(b)) => {
                    if shapes[a] != shapes[b] {
                        return Err(ModelError::UnsupportedOp {
                            op_type: format!(
                                "Add broadcasting {:?} with {:?}",
                                shapes[a], shapes[b]
                            ),
                            node: name.clone(),
                        });
                    }
                    let shape = shapes[a].clone();
                    push(&mut nodes, &mut shapes, FloatOp::Add, vec![a, b], shape)
                }
                (Ok(x), Err(_)) | (Err(_), Ok(x)) => {
                    let k = if activation(0).is_ok() { 1 } else { 0 };
                    let c = operand(k)?;
                    let source = node.input[1 - k].as_str();
                    let folds = readers.get(source) == Some(&1);
                    let at = x.checked_sub(input_shapes.len()).filter(|_| folds);
                    match at.map(|i| &mut nodes[i].op) {
                        Some(FloatOp::Dense {
                            bias, out_features, ..
                        }) => {
                            let add = broadcast_bias(&name, c, *out_features, 1.0)?;
                            bias.iter_mut().zip(add).for_each(|(b, a)| *b += a);
                            x
                        }
                        _ => {
                            return Err(ModelError::UnsupportedOp {
                                op_type: "Add of a constant (other than a bias after MatMul/Gemm)"
                                    .into(),
                                node: name.clone(),
                            });
                        }
                    }
                }
                (Err(e), Err(_)) => return Err(e),
            },
            "Conv" => {
                let x = activation(0)?;
                let w = operand(1)?;
                let groups = attr_i(node, "group", 1);
                let geometry = conv_geometry(&name, node, &shapes[x], &w.shape, groups)?;
                let bias = match node.input.get(2).filter(|s| !s.is_empty()) {
                    Some(_) => broadcast_bias(&name, operand(2)?, geometry.out_channels, 1.0)?,
                    None => vec![0.0; geometry.out_channels],
                };
                let shape: Vec<usize> = std::iter::once(geometry.out_channels)
                    .chain(
                        geometry
                            .out_spatial()
                            .map_err(|e| ModelError::Invalid(format!("Conv `{name}`: {e}")))?,
                    )
                    .collect();
                let op = FloatOp::Conv {
                    geometry,
                    weights: w.data.clone(),
                    bias,
                };
                push(&mut nodes, &mut shapes, op, vec![x], shape)
            }
            "MaxPool" => {
                let x = activation(0)?;
                if node.output.get(1).is_some_and(|o| !o.is_empty()) {
                    return Err(ModelError::UnsupportedOp {
                        op_type: "MaxPool with an Indices output".into(),
                        node: name.clone(),
                    });
                }
                if attr_i(node, "ceil_mode", 0) != 0 {
                    return Err(ModelError::UnsupportedOp {
                        op_type: "MaxPool with ceil_mode".into(),
                        node: name.clone(),
                    });
                }
                let c = shapes[x].first().copied().unwrap_or(0);
                let kernel = attr_ints(node, "kernel_shape").unwrap_or_default();
                // The window as a depthwise convolution's weights: [C, 1, kernel…].
                let wshape: Vec<usize> = [c, 1]
                    .into_iter()
                    .chain(kernel.iter().map(|&k| k.max(0) as usize))
                    .collect();
                let geometry = conv_geometry(&name, node, &shapes[x], &wshape, c as i64)?;
                let (shape, _) = geometry
                    .check()
                    .map_err(|e| ModelError::Invalid(format!("MaxPool `{name}`: {e}")))?;
                let op = FloatOp::MaxPool { geometry };
                push(&mut nodes, &mut shapes, op, vec![x], shape)
            }
            "BatchNormalization" => {
                // Inference-mode batch norm is a per-channel affine map, y = s·x + t with
                // s = scale / sqrt(var + ε) and t = B - mean·s: a depthwise 1×1 convolution
                // (a diagonal dense layer over a vector).
                let x = activation(0)?;
                let shape = shapes[x].clone();
                let c = shape.first().copied().unwrap_or(0);
                let eps = attr_f(node, "epsilon", 1e-5) as f64;
                let per_channel = |k: usize| -> Result<Vec<f64>, ModelError> {
                    let v = operand(k)?;
                    broadcast_bias(&name, v, c, 1.0)
                };
                let (gamma, beta, mean, var) = (
                    per_channel(1)?,
                    per_channel(2)?,
                    per_channel(3)?,
                    per_channel(4)?,
                );
                if let Some(v) = var.iter().find(|v| v.is_nan() || **v + eps <= 0.0) {
                    return Err(ModelError::Invalid(format!(
                        "BatchNormalization `{name}`: variance {v} + epsilon is not positive"
                    )));
                }
                let s: Vec<f64> = (0..c).map(|i| gamma[i] / (var[i] + eps).sqrt()).collect();
                let t: Vec<f64> = (0..c).map(|i| beta[i] - mean[i] * s[i]).collect();
                let op = match shape.len() {
                    1 if c > 4096 => {
                        return Err(ModelError::UnsupportedOp {
                            op_type: format!("BatchNormalization over a vector of {c}"),
                            node: name.clone(),
                        });
                    }
                    1 => FloatOp::Dense {
                        in_features: c,
                        out_features: c,
                        weights: (0..c * c)
                            .map(|k| if k / c == k % c { s[k / c] } else { 0.0 })
                            .collect(),
                        bias: t,
                    },
                    2 | 3 => {
                        let rank = shape.len() - 1;
                        FloatOp::Conv {
                            geometry: ConvGeometry {
                                in_channels: c,
                                out_channels: c,
                                in_spatial: shape[1..].to_vec(),
                                kernel: vec![1; rank],
                                strides: vec![1; rank],
                                dilations: vec![1; rank],
                                pads: vec![0; 2 * rank],
                                groups: c,
                            },
                            weights: s,
                            bias: t,
                        }
                    }
                    _ => {
                        return Err(ModelError::UnsupportedOp {
                            op_type: format!("BatchNormalization over shape {shape:?}"),
                            node: name.clone(),
                        });
                    }
                };
                push(&mut nodes, &mut shapes, op, vec![x], shape)
            }
            "Relu" => {
                let x = activation(0)?;
                let shape = shapes[x].clone();
                push(&mut nodes, &mut shapes, FloatOp::Relu, vec![x], shape)
            }
            "Flatten" => {
                let x = activation(0)?;
                let shape = vec![shapes[x].iter().product()];
                let op = FloatOp::Reshape {
                    shape: shape.clone(),
                };
                push(&mut nodes, &mut shapes, op, vec![x], shape)
            }
            "Reshape" => {
                let x = activation(0)?;
                let target = operand(1)?;
                let shape = resolve_reshape(&name, &target.data, &shapes[x], has_batch)?;
                let op = FloatOp::Reshape {
                    shape: shape.clone(),
                };
                push(&mut nodes, &mut shapes, op, vec![x], shape)
            }
            "Identity" | "Dropout" => activation(0)?,
            _ => return Err(unsupported()),
        };
        ids.insert(output.clone(), id);
    }

    if graph.output.is_empty() {
        return Err(ModelError::Invalid("the graph has no output".into()));
    }
    let outputs = graph
        .output
        .iter()
        .map(|o| {
            ids.get(&o.name).copied().ok_or_else(|| {
                ModelError::Invalid(format!(
                    "graph output `{}` is not computed from the graph's input",
                    o.name
                ))
            })
        })
        .collect::<Result<Vec<usize>, _>>()?;

    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    Ok(FloatGraph {
        name,
        inputs: input_shapes,
        has_batch,
        nodes,
        outputs,
    })
}

fn attr_ints(node: &NodeProto, name: &str) -> Option<Vec<i64>> {
    attr(node, name).map(|a| a.ints.clone())
}

/// A Conv (or pooling) node's geometry from its attributes, its input's shape
/// `[C, spatial…]` (batch excluded), its weights' shape `[M, C / group, kernel…]` and its
/// groups.
fn conv_geometry(
    name: &str,
    node: &NodeProto,
    input: &[usize],
    weights: &[usize],
    groups: i64,
) -> Result<ConvGeometry, ModelError> {
    let bad = |why: String| ModelError::Invalid(format!("{} `{name}`: {why}", node.op_type));
    let rank = input.len().saturating_sub(1);
    if !(1..=2).contains(&rank) || weights.len() != rank + 2 {
        return Err(ModelError::UnsupportedOp {
            op_type: format!(
                "{} over an input of shape {input:?} with a kernel of {:?} (1-D and 2-D are \
                 supported)",
                node.op_type,
                &weights[2.min(weights.len())..]
            ),
            node: name.to_string(),
        });
    }
    let positive = |what: &str, v: Vec<i64>| -> Result<Vec<usize>, ModelError> {
        if v.len() != rank || v.iter().any(|&x| !(1..=1 << 16).contains(&x)) {
            return Err(bad(format!("{what} {v:?} for a {rank}-D input")));
        }
        Ok(v.into_iter().map(|x| x as usize).collect())
    };
    let kernel = weights[2..].to_vec();
    if kernel.iter().any(|&k| !(1..=1 << 16).contains(&k))
        || input.iter().any(|&d| d == 0 || d > 1 << 24)
    {
        return Err(bad(format!(
            "kernel {kernel:?} or input {input:?} out of range"
        )));
    }
    if let Some(k) = attr_ints(node, "kernel_shape")
        && positive("kernel_shape", k)? != kernel
    {
        return Err(bad(format!(
            "kernel_shape differs from the weights' {kernel:?}"
        )));
    }
    let strides = positive(
        "strides",
        attr_ints(node, "strides").unwrap_or(vec![1; rank]),
    )?;
    let dilations = positive(
        "dilations",
        attr_ints(node, "dilations").unwrap_or(vec![1; rank]),
    )?;
    if !(1..=1 << 24).contains(&groups) {
        return Err(bad(format!("group {groups}")));
    }
    let groups = groups as usize;
    let in_spatial = input[1..].to_vec();
    let auto_pad = attr(node, "auto_pad")
        .map(|a| String::from_utf8_lossy(&a.s).into_owned())
        .unwrap_or_else(|| "NOTSET".into());
    let pads = match auto_pad.as_str() {
        "NOTSET" => {
            let p = attr_ints(node, "pads").unwrap_or(vec![0; 2 * rank]);
            if p.len() != 2 * rank || p.iter().any(|&x| !(0..=1 << 16).contains(&x)) {
                return Err(bad(format!("pads {p:?} for a {rank}-D input")));
            }
            p.into_iter().map(|x| x as usize).collect()
        }
        "VALID" => vec![0; 2 * rank],
        "SAME_UPPER" | "SAME_LOWER" => {
            let mut pads = vec![0; 2 * rank];
            for d in 0..rank {
                let out = in_spatial[d].div_ceil(strides[d]);
                let span = dilations[d] * (kernel[d] - 1) + 1;
                let total =
                    (out.saturating_sub(1) * strides[d] + span).saturating_sub(in_spatial[d]);
                let small = total / 2;
                let (begin, end) = if auto_pad == "SAME_UPPER" {
                    (small, total - small)
                } else {
                    (total - small, small)
                };
                pads[d] = begin;
                pads[rank + d] = end;
            }
            pads
        }
        other => return Err(bad(format!("auto_pad `{other}`"))),
    };
    let geometry = ConvGeometry {
        in_channels: input[0],
        out_channels: weights[0],
        in_spatial,
        kernel,
        strides,
        dilations,
        pads,
        groups,
    };
    if weights[1] * groups != input[0] {
        return Err(bad(format!(
            "weights of shape {weights:?} with {groups} groups do not fit {} input channels",
            input[0]
        )));
    }
    geometry.check().map_err(bad)?;
    Ok(geometry)
}

/// Turns a constant `B` of a Gemm/MatMul into row-major `[out][in]` weights.
fn dense_weights(
    name: &str,
    b: &Const,
    in_features: usize,
    trans_b: bool,
    alpha: f64,
) -> Result<(Vec<f64>, usize), ModelError> {
    if b.shape.len() != 2 {
        return Err(ModelError::Invalid(format!(
            "node `{name}`: weight matrix has shape {:?}, expected 2 dimensions",
            b.shape
        )));
    }
    let (k, n) = if trans_b {
        (b.shape[1], b.shape[0])
    } else {
        (b.shape[0], b.shape[1])
    };
    if k != in_features {
        return Err(ModelError::Invalid(format!(
            "node `{name}`: weight matrix {:?} does not match {in_features} input features",
            b.shape
        )));
    }
    let mut w = vec![0.0; k * n];
    for j in 0..n {
        for i in 0..k {
            let v = if trans_b {
                b.data[j * k + i]
            } else {
                b.data[i * n + j]
            };
            w[j * k + i] = alpha * v;
        }
    }
    Ok((w, n))
}

fn broadcast_bias(name: &str, c: &Const, n: usize, beta: f64) -> Result<Vec<f64>, ModelError> {
    match c.data.len() {
        1 => Ok(vec![beta * c.data[0]; n]),
        m if m == n => Ok(c.data.iter().map(|v| beta * v).collect()),
        m => Err(ModelError::Invalid(format!(
            "node `{name}`: bias has {m} values, expected {n} (shape {:?})",
            c.shape
        ))),
    }
}

/// ONNX Reshape semantics (`0` copies a dimension, `-1` is inferred) on a batch-1 tensor.
fn resolve_reshape(
    name: &str,
    target: &[f64],
    shape: &[usize],
    has_batch: bool,
) -> Result<Vec<usize>, ModelError> {
    let full: Vec<usize> = if has_batch {
        std::iter::once(1).chain(shape.iter().copied()).collect()
    } else {
        shape.to_vec()
    };
    let total: usize = full.iter().product();
    let mut out = Vec::with_capacity(target.len());
    let mut infer = None;
    for (k, &d) in target.iter().enumerate() {
        let d = d as i64;
        match d {
            0 => out.push(*full.get(k).ok_or_else(|| {
                ModelError::Invalid(format!(
                    "Reshape `{name}`: 0 at a dimension the input lacks"
                ))
            })?),
            -1 if infer.is_none() => {
                infer = Some(k);
                out.push(1);
            }
            d if d > 0 => out.push(d as usize),
            _ => {
                return Err(ModelError::Invalid(format!(
                    "Reshape `{name}`: bad target dimension {d}"
                )));
            }
        }
    }
    let known: usize = out.iter().product();
    if let Some(k) = infer {
        if known == 0 || !total.is_multiple_of(known) {
            return Err(ModelError::Invalid(format!(
                "Reshape `{name}`: cannot infer a dimension of {target:?} from {full:?}"
            )));
        }
        out[k] = total / known;
    }
    if out.iter().product::<usize>() != total {
        return Err(ModelError::Invalid(format!(
            "Reshape `{name}`: {full:?} cannot become {out:?}"
        )));
    }
    if has_batch {
        if out.first() != Some(&1) {
            return Err(ModelError::Invalid(format!(
                "Reshape `{name}`: {out:?} changes the batch dimension"
            )));
        }
        out.remove(0);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reshape_semantics() {
        assert_eq!(
            resolve_reshape("r", &[0.0, -1.0], &[2, 3], true).unwrap(),
            vec![6]
        );
        assert_eq!(
            resolve_reshape("r", &[1.0, 3.0, 2.0], &[6], true).unwrap(),
            vec![3, 2]
        );
        assert!(resolve_reshape("r", &[4.0], &[6], false).is_err());
    }

    fn digits() -> (ModelProto, std::path::PathBuf) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/digits/digits.onnx");
        let proto = tract_onnx::onnx().proto_model_for_path(&path).unwrap();
        (proto, path)
    }

    #[test]
    fn nodes_without_an_output_are_refused_by_name() {
        let (proto, path) = digits();
        assert!(graph_from_proto(&proto, &path).is_ok());
        let graph = proto.graph.as_ref().unwrap();
        for k in 0..graph.node.len() {
            for empty in [vec![], vec![String::new()]] {
                let mut broken = proto.clone();
                let node = &mut broken.graph.as_mut().unwrap().node[k];
                node.output = empty.clone();
                if node.name.is_empty() {
                    node.name = format!("n{k}");
                }
                let name = node.name.clone();
                let op = node.op_type.clone();
                let err = graph_from_proto(&broken, &path).unwrap_err().to_string();
                assert_eq!(
                    err,
                    format!("invalid model: node `{name}` ({op}) has no output"),
                    "node #{k}"
                );
            }
        }
    }

    #[test]
    fn a_model_without_a_graph_is_refused() {
        let (mut proto, path) = digits();
        proto.graph = None;
        let err = graph_from_proto(&proto, &path).unwrap_err().to_string();
        assert_eq!(err, "cannot import ONNX model: the model has no graph");
    }

    /// digits with a residual-style join: the ReLU's output is read twice, by an Add of it with
    /// itself, and the next layer reads the sum — a graph, not a chain.
    #[test]
    fn a_tensor_read_twice_and_joined_by_add_imports_as_a_graph() {
        let (mut proto, path) = digits();
        let graph = proto.graph.as_mut().unwrap();
        let relu = graph.node.iter().position(|n| n.op_type == "Relu").unwrap();
        let r = graph.node[relu].output[0].clone();
        let mut add = graph.node[relu].clone();
        add.op_type = "Add".into();
        add.name = "join".into();
        add.input = vec![r.clone(), r.clone()];
        add.output = vec!["joined".into()];
        add.attribute.clear();
        for n in graph.node.iter_mut().skip(relu + 1) {
            for i in n.input.iter_mut().filter(|i| **i == r) {
                *i = "joined".into();
            }
        }
        graph.node.insert(relu + 1, add);
        let g = graph_from_proto(&proto, &path).unwrap();
        let join = g.nodes.iter().find(|n| n.name == "join").unwrap();
        assert_eq!(join.op, FloatOp::Add);
        assert_eq!(join.inputs[0], join.inputs[1]);

        let x: Vec<f64> = (0..g.input_len()).map(|i| (i % 7) as f64 / 7.0).collect();
        let model = super::super::quantize(&g, &super::super::QuantizeOptions::default(), Some(&x))
            .unwrap();
        assert!(
            model
                .nodes
                .iter()
                .any(|n| n.op == crate::ops::Op::Add(crate::ops::Add))
        );
        let q = crate::input::quantize_input(&model.input_info(), &x).unwrap();
        let got = crate::exec::run(&model, &q).unwrap().output();
        let want = &g.run(&x).unwrap()[g.outputs[0]];
        let out = model.output_info().unwrap();
        let range = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (a, b) in got.iter().zip(want) {
            let a = crate::input::dequantize(*a, out.frac_bits);
            assert!((a - b).abs() <= 0.05 * range, "{a} vs {b} (range {range})");
        }
    }
}
