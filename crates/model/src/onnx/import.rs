//! ONNX protobuf → [`FloatGraph`]: each node of a registered op type
//! ([`super::registry`]) interpreted as one or more float ops — a layer, a fused element-wise
//! function, a selection, a composition ([`super::compose`]) — after constant folding
//! ([`super::fold`]).
//!
//! tract-onnx decodes the protobuf and the tensors ([`super::proto`]); this file only
//! interprets nodes. The graph may branch and join (residual connections) and have several
//! inputs; weights must be constants. Any other node is reported with its op type and name, so
//! the user knows exactly what to change.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::path::Path;

use tract_onnx::pb::{ModelProto, ValueInfoProto};
use tract_onnx::prelude::Framework;

use super::compose::{cast_function, fusable, reduced, row_max, two_tensors};
use super::elementwise::{Binary, Expr, Unary};
use super::float::{FloatGraph, FloatNode, FloatOp};
use super::fold::fold_constant;
use super::layers::{broadcast_bias, conv_geometry, dense_weights, resolve_reshape};
use super::movement;
use super::proto::{
    Const, attr, attr_f, attr_i, attr_ints, input_dims, load, node_name, onnx_err, scalar,
};
use super::registry;
use crate::error::ModelError;
use crate::ops::ConvGeometry;

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
    // Tensors without the batch dimension (an op made their leading dimension other than 1, or
    // their rank 1): their shape here is their whole ONNX shape. Every other tensor's ONNX
    // shape is `[1] + shape` when the graph has a batch.
    let unbatched: RefCell<HashSet<usize>> = RefCell::new(HashSet::new());
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
    let n_in = input_shapes.len();
    let opset = proto
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map_or(13, |o| o.version);

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
        if !registry::is_supported(&node.op_type) {
            return Err(unsupported());
        }
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
        // Whether this node is the only reader of its operand `k` (so a function computed
        // for it alone can be fused into this node's).
        let sole_reader =
            |k: usize| node.input.get(k).and_then(|i| readers.get(i.as_str())) == Some(&1);
        // A new tensor has the batch dimension exactly when its first operand has (shape-
        // changing ops say otherwise through `strip`).
        let push = |nodes: &mut Vec<FloatNode>,
                    shapes: &mut Vec<Vec<usize>>,
                    op,
                    inputs: Vec<usize>,
                    shape| {
            let inherit = inputs
                .first()
                .is_some_and(|i| unbatched.borrow().contains(i));
            nodes.push(FloatNode {
                name: name.clone(),
                op,
                inputs,
            });
            shapes.push(shape);
            let id = shapes.len() - 1;
            if inherit {
                unbatched.borrow_mut().insert(id);
            }
            id
        };
        // Data movement over constants (shape computations, constant tables) folds to a
        // constant at import.
        if let Some(c) =
            fold_constant(node, &consts, &ids, &shapes, has_batch, &unbatched.borrow())?
        {
            consts.insert(output.clone(), c);
            continue;
        }
        // ONNX shapes count the batch dimension; ours do not.
        let full = |shapes: &[Vec<usize>], t: usize| -> Vec<usize> {
            if has_batch && !unbatched.borrow().contains(&t) {
                std::iter::once(1)
                    .chain(shapes[t].iter().copied())
                    .collect()
            } else {
                shapes[t].clone()
            }
        };
        // The ONNX shape of an output: stripped of its leading batch 1 when it has one, and
        // whether it has none (then it is stored whole, see `unbatched`).
        let strip = |s: Vec<usize>| -> (Vec<usize>, bool) {
            if has_batch && s.len() >= 2 && s[0] == 1 {
                (s[1..].to_vec(), false)
            } else {
                (s, has_batch)
            }
        };
        let mark = |t: usize, without_batch: bool| {
            if without_batch {
                unbatched.borrow_mut().insert(t);
            } else {
                unbatched.borrow_mut().remove(&t);
            }
        };
        let bad = |why: String| ModelError::Invalid(format!("{} `{name}`: {why}", node.op_type));
        // Spatial ops read `[C, spatial…]` after the batch: a tensor without one does not fit.
        let spatial = |x: usize| -> Result<usize, ModelError> {
            if has_batch && unbatched.borrow().contains(&x) {
                return Err(ModelError::UnsupportedOp {
                    op_type: format!("{} over a tensor without a batch dimension", node.op_type),
                    node: name.clone(),
                });
            }
            Ok(x)
        };
        let ints = |k: usize, attr_name: &str| -> Result<Option<Vec<i64>>, ModelError> {
            match node.input.get(k).filter(|s| !s.is_empty()) {
                Some(_) => Ok(Some(operand(k)?.data.iter().map(|&v| v as i64).collect())),
                None => Ok(attr_ints(node, attr_name)),
            }
        };
        let select = |nodes: &mut Vec<FloatNode>,
                      shapes: &mut Vec<Vec<usize>>,
                      what: String,
                      inputs: Vec<usize>,
                      out_full: Vec<usize>,
                      indices: Vec<i64>,
                      fill: f64|
         -> Result<usize, ModelError> {
            let (shape, without_batch) = strip(out_full);
            let op = FloatOp::Select {
                what,
                shape: shape.clone(),
                indices,
                fill,
            };
            let id = push(nodes, shapes, op, inputs, shape);
            mark(id, without_batch);
            Ok(id)
        };
        // Tensor `t` reshaped to the ONNX shape `out` (batch stripped when it leads).
        let reshaped = |nodes: &mut Vec<FloatNode>,
                        shapes: &mut Vec<Vec<usize>>,
                        t: usize,
                        out: Vec<usize>|
         -> usize {
            let (shape, without_batch) = strip(out);
            let shape = if shape.is_empty() { vec![1] } else { shape };
            let op = FloatOp::Reshape {
                shape: shape.clone(),
            };
            let id = push(nodes, shapes, op, vec![t], shape);
            mark(id, without_batch);
            id
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
                let full = full(&shapes, x);
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
            "Where" => {
                // Where(c, a, b) = b + c · (a - b), c boolean.
                let c = activation(0)?;
                let side =
                    |k: usize| -> Result<Result<usize, f64>, ModelError> {
                        match activation(k) {
                            Ok(t) => Ok(Ok(t)),
                            Err(_) => scalar(operand(k)?).map(Err).ok_or_else(|| {
                                ModelError::UnsupportedOp {
                                    op_type: "Where with a non-scalar constant branch".into(),
                                    node: name.clone(),
                                }
                            }),
                        }
                    };
                let shape = shapes[c].clone();
                let len: usize = shape.iter().product();
                let (a, b) = (side(1)?, side(2)?);
                for t in [a, b].into_iter().flatten() {
                    if shapes[t] != shape {
                        return Err(ModelError::UnsupportedOp {
                            op_type: format!("Where broadcasting {shape:?} with {:?}", shapes[t]),
                            node: name.clone(),
                        });
                    }
                }
                let affine = |scale: f64, offset: f64| FloatOp::Scale {
                    scale: vec![scale; len],
                    offset: vec![offset; len],
                };
                let s = shape.clone();
                match (a, b) {
                    (Err(a), Err(b)) => {
                        let (src, e) = fusable(&nodes, n_in, c, sole_reader(0));
                        let expr = e
                            .binary(Binary::Mul, Expr::Const(a - b))
                            .binary(Binary::Add, Expr::Const(b));
                        push(&mut nodes, &mut shapes, FloatOp::Map { expr }, vec![src], s)
                    }
                    (Ok(a), Ok(b)) => {
                        let nb = push(
                            &mut nodes,
                            &mut shapes,
                            affine(-1.0, 0.0),
                            vec![b],
                            s.clone(),
                        );
                        let d = push(
                            &mut nodes,
                            &mut shapes,
                            FloatOp::Add,
                            vec![a, nb],
                            s.clone(),
                        );
                        let p = push(&mut nodes, &mut shapes, FloatOp::Mul, vec![c, d], s.clone());
                        push(&mut nodes, &mut shapes, FloatOp::Add, vec![p, b], s)
                    }
                    (Ok(a), Err(v)) => {
                        let d = push(&mut nodes, &mut shapes, affine(1.0, -v), vec![a], s.clone());
                        let p = push(&mut nodes, &mut shapes, FloatOp::Mul, vec![c, d], s.clone());
                        push(&mut nodes, &mut shapes, affine(1.0, v), vec![p], s)
                    }
                    (Err(v), Ok(b)) => {
                        let d = push(&mut nodes, &mut shapes, affine(-1.0, v), vec![b], s.clone());
                        let p = push(&mut nodes, &mut shapes, FloatOp::Mul, vec![c, d], s.clone());
                        push(&mut nodes, &mut shapes, FloatOp::Add, vec![p, b], s)
                    }
                }
            }
            "MatMul" if activation(1).is_ok() => {
                // Two activations: every product by a Mul, each dot product by a Sum.
                let (a, b) = (activation(0)?, activation(1)?);
                let (fa, fb) = (full(&shapes, a), full(&shapes, b));
                let bad2 = || ModelError::UnsupportedOp {
                    op_type: format!("MatMul of shapes {fa:?} and {fb:?}"),
                    node: name.clone(),
                };
                if fa.len() < 2 || fb.len() < 2 {
                    return Err(bad2());
                }
                let (m, k) = (fa[fa.len() - 2], fa[fa.len() - 1]);
                let (k2, n) = (fb[fb.len() - 2], fb[fb.len() - 1]);
                let lead = movement::broadcast_shape(&fa[..fa.len() - 2], &fb[..fb.len() - 2])
                    .map_err(|_| bad2())?;
                if k != k2 {
                    return Err(bad2());
                }
                let batches: usize = lead.iter().product();
                let ia = movement::broadcast(&fa[..fa.len() - 2], &lead).map_err(|_| bad2())?;
                let ib = movement::broadcast(&fb[..fb.len() - 2], &lead).map_err(|_| bad2())?;
                let (mut sa, mut sb) = (Vec::new(), Vec::new());
                for g in 0..batches {
                    let (ga, gb) = (ia[g] as usize, ib[g] as usize);
                    for i in 0..m {
                        for j in 0..n {
                            for l in 0..k {
                                sa.push(((ga * m + i) * k + l) as i64);
                                sb.push(((gb * k + l) * n + j) as i64);
                            }
                        }
                    }
                }
                let spread: Vec<usize> = lead.iter().copied().chain([m, n, k]).collect();
                let pa = select(
                    &mut nodes,
                    &mut shapes,
                    "matmul rows".into(),
                    vec![a],
                    spread.clone(),
                    sa,
                    0.0,
                )?;
                let pb = select(
                    &mut nodes,
                    &mut shapes,
                    "matmul columns".into(),
                    vec![b],
                    spread,
                    sb,
                    0.0,
                )?;
                let s = shapes[pa].clone();
                let p = push(
                    &mut nodes,
                    &mut shapes,
                    FloatOp::Mul,
                    vec![pa, pb],
                    s.clone(),
                );
                let out = s[..s.len() - 1].to_vec();
                push(
                    &mut nodes,
                    &mut shapes,
                    FloatOp::Sum { axis_len: k },
                    vec![p],
                    out,
                )
            }
            "MatMul" => {
                let x = activation(0).map_err(|_| {
                    ModelError::Invalid(format!(
                        "MatMul `{name}`: the activation must be the left operand"
                    ))
                })?;
                let f = full(&shapes, x);
                let b = operand(1)?;
                let k = f.last().copied().unwrap_or(0);
                let rows = f.iter().product::<usize>() / k.max(1);
                if rows > 1 && b.shape.len() == 2 && b.shape[0] == k {
                    // Many rows through one weight matrix: a 1×1 convolution over the rows
                    // as positions ([rows, k] → [k, rows] → [n, rows] → [rows, n]), so the
                    // weights are stored once, not once per row.
                    let n = b.shape[1];
                    let (_, into) = movement::transpose(&[rows, k], &[1, 0]).map_err(bad)?;
                    let op = FloatOp::Select {
                        what: "rows as positions".into(),
                        shape: vec![k, rows],
                        indices: into,
                        fill: 0.0,
                    };
                    let t = push(&mut nodes, &mut shapes, op, vec![x], vec![k, rows]);
                    let op = FloatOp::Conv {
                        geometry: ConvGeometry {
                            in_channels: k,
                            out_channels: n,
                            in_spatial: vec![rows],
                            kernel: vec![1],
                            strides: vec![1],
                            dilations: vec![1],
                            pads: vec![0, 0],
                            groups: 1,
                        },
                        weights: (0..n * k).map(|i| b.data[(i % k) * n + i / k]).collect(),
                        bias: vec![0.0; n],
                    };
                    let c = push(&mut nodes, &mut shapes, op, vec![t], vec![n, rows]);
                    let (_, back) = movement::transpose(&[n, rows], &[1, 0]).map_err(bad)?;
                    let out: Vec<usize> = f[..f.len() - 1].iter().copied().chain([n]).collect();
                    select(
                        &mut nodes,
                        &mut shapes,
                        "positions as rows".into(),
                        vec![c],
                        out,
                        back,
                        0.0,
                    )?
                } else {
                    let len: usize = shapes[x].iter().product();
                    let (w, n) = dense_weights(&name, b, len, false, 1.0)?;
                    let op = FloatOp::Dense {
                        in_features: len,
                        out_features: n,
                        weights: w,
                        bias: vec![0.0; n],
                    };
                    let d = push(&mut nodes, &mut shapes, op, vec![x], vec![n]);
                    // ONNX keeps the leading dimensions ([1, 1, k] → [1, 1, n]).
                    let out: Vec<usize> = f[..f.len() - 1].iter().copied().chain([n]).collect();
                    let (shape, without_batch) = strip(out);
                    if shape == [n] && !without_batch {
                        d
                    } else {
                        let op = FloatOp::Reshape {
                            shape: shape.clone(),
                        };
                        let id = push(&mut nodes, &mut shapes, op, vec![d], shape);
                        mark(id, without_batch);
                        id
                    }
                }
            }
            "Conv" => {
                let x = spatial(activation(0)?)?;
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
                let x = spatial(activation(0)?)?;
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
                let x = spatial(activation(0)?)?;
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
            "Concat" => {
                let xs = (0..node.input.len())
                    .map(|k| {
                        activation(k).map_err(|_| ModelError::UnsupportedOp {
                            op_type: "Concat of a constant with a computed tensor".into(),
                            node: name.clone(),
                        })
                    })
                    .collect::<Result<Vec<usize>, _>>()?;
                let fulls: Vec<Vec<usize>> = xs.iter().map(|&x| full(&shapes, x)).collect();
                let a = movement::axis(attr_i(node, "axis", 0), fulls[0].len()).map_err(bad)?;
                let (out, idx) = movement::concat(&fulls, a).map_err(bad)?;
                select(
                    &mut nodes,
                    &mut shapes,
                    format!("concat on axis {a}"),
                    xs,
                    out,
                    idx,
                    0.0,
                )?
            }
            "Transpose" => {
                let x = activation(0)?;
                let f = full(&shapes, x);
                let perm: Vec<usize> = match attr_ints(node, "perm") {
                    Some(p) => p.iter().map(|&v| v.max(0) as usize).collect(),
                    None => (0..f.len()).rev().collect(),
                };
                let (out, idx) = movement::transpose(&f, &perm).map_err(bad)?;
                select(
                    &mut nodes,
                    &mut shapes,
                    format!("transpose {perm:?}"),
                    vec![x],
                    out,
                    idx,
                    0.0,
                )?
            }
            "Slice" => {
                let x = activation(0)?;
                let f = full(&shapes, x);
                let starts = ints(1, "starts")?.ok_or_else(|| bad("no starts".into()))?;
                let ends = ints(2, "ends")?.ok_or_else(|| bad("no ends".into()))?;
                let axes: Vec<usize> = match ints(3, "axes")? {
                    Some(a) => a
                        .iter()
                        .map(|&v| movement::axis(v, f.len()))
                        .collect::<Result<_, _>>()
                        .map_err(bad)?,
                    None => (0..starts.len()).collect(),
                };
                let steps = ints(4, "steps")?.unwrap_or(vec![1; starts.len()]);
                if ends.len() != starts.len() || axes.len() != starts.len() {
                    return Err(bad("starts, ends and axes differ in length".into()));
                }
                let (out, idx) = movement::slice(&f, &starts, &ends, &axes, &steps).map_err(bad)?;
                select(
                    &mut nodes,
                    &mut shapes,
                    "slice".into(),
                    vec![x],
                    out,
                    idx,
                    0.0,
                )?
            }
            "Pad" => {
                let x = activation(0)?;
                let f = full(&shapes, x);
                let mode = attr(node, "mode")
                    .map(|a| String::from_utf8_lossy(&a.s).into_owned())
                    .unwrap_or_else(|| "constant".into());
                if mode != "constant" || node.input.get(3).is_some_and(|s| !s.is_empty()) {
                    return Err(ModelError::UnsupportedOp {
                        op_type: format!("Pad in mode `{mode}` or over chosen axes"),
                        node: name.clone(),
                    });
                }
                let pads = ints(1, "pads")?.ok_or_else(|| bad("no pads".into()))?;
                let value = match node.input.get(2).filter(|s| !s.is_empty()) {
                    Some(_) => scalar(operand(2)?).unwrap_or(0.0),
                    None => attr_f(node, "value", 0.0) as f64,
                };
                let (out, idx) = movement::pad(&f, &pads).map_err(bad)?;
                select(
                    &mut nodes,
                    &mut shapes,
                    "pad".into(),
                    vec![x],
                    out,
                    idx,
                    value,
                )?
            }
            "Gather" if activation(0).is_err() && activation(1).is_ok() => {
                // Constant data at computed indices: per column of the data along the axis,
                // a table over the index tensor, then the columns interleaved.
                let data = operand(0)?;
                let idx = activation(1)?;
                let fi = full(&shapes, idx);
                let a = movement::axis(attr_i(node, "axis", 0), data.shape.len()).map_err(bad)?;
                let outer: usize = data.shape[..a].iter().product();
                let inner: usize = data.shape[a + 1..].iter().product();
                let along = data.shape[a];
                if outer * inner > 4096 {
                    return Err(ModelError::UnsupportedOp {
                        op_type: format!(
                            "Gather at computed indices from a constant of shape {:?}",
                            data.shape
                        ),
                        node: name.clone(),
                    });
                }
                let (src, e) = fusable(&nodes, n_in, idx, sole_reader(1));
                let cols: Vec<usize> = (0..outer * inner)
                    .map(|c| {
                        let (o, q) = (c / inner, c % inner);
                        let values = (0..along)
                            .map(|j| data.data[(o * along + j) * inner + q])
                            .collect();
                        let op = FloatOp::Map {
                            expr: Expr::Gather(values, Box::new(e.clone())),
                        };
                        let shape = shapes[idx].clone();
                        push(&mut nodes, &mut shapes, op, vec![src], shape)
                    })
                    .collect();
                let m: usize = fi.iter().product();
                let out: Vec<usize> = data.shape[..a]
                    .iter()
                    .chain(&fi)
                    .chain(&data.shape[a + 1..])
                    .copied()
                    .collect();
                let indices: Vec<i64> = (0..outer * m * inner)
                    .map(|p| {
                        let (o, rest) = (p / (m * inner), p % (m * inner));
                        let (i, q) = (rest / inner, rest % inner);
                        ((o * inner + q) * m + i) as i64
                    })
                    .collect();
                if cols.len() == 1 && out == fi {
                    cols[0]
                } else {
                    select(
                        &mut nodes,
                        &mut shapes,
                        "gathered columns".into(),
                        cols,
                        out,
                        indices,
                        0.0,
                    )?
                }
            }
            "Gather" => {
                let x = activation(0)?;
                let f = full(&shapes, x);
                let a = movement::axis(attr_i(node, "axis", 0), f.len()).map_err(bad)?;
                let i = node
                    .input
                    .get(1)
                    .and_then(|n| consts.get(n))
                    .ok_or_else(|| ModelError::UnsupportedOp {
                        op_type: "Gather with indices computed from the input".into(),
                        node: name.clone(),
                    })?;
                let idx: Vec<i64> = i.data.iter().map(|&v| v as i64).collect();
                let (out, map) = movement::gather(&f, a, &idx, &i.shape).map_err(bad)?;
                select(
                    &mut nodes,
                    &mut shapes,
                    format!("gather on axis {a}"),
                    vec![x],
                    out,
                    map,
                    0.0,
                )?
            }
            "Expand" => {
                let x = activation(0)?;
                let f = full(&shapes, x);
                let target: Vec<usize> = operand(1)?
                    .data
                    .iter()
                    .map(|&v| v.max(0.0) as usize)
                    .collect();
                let out = movement::broadcast_shape(&f, &target).map_err(bad)?;
                let idx = movement::broadcast(&f, &out).map_err(bad)?;
                select(
                    &mut nodes,
                    &mut shapes,
                    "expand".into(),
                    vec![x],
                    out,
                    idx,
                    0.0,
                )?
            }
            "Tile" => {
                let x = activation(0)?;
                let f = full(&shapes, x);
                let repeats: Vec<i64> = operand(1)?.data.iter().map(|&v| v as i64).collect();
                let (out, idx) = movement::tile(&f, &repeats).map_err(bad)?;
                select(
                    &mut nodes,
                    &mut shapes,
                    "tile".into(),
                    vec![x],
                    out,
                    idx,
                    0.0,
                )?
            }
            "Split" => {
                let x = activation(0)?;
                let f = full(&shapes, x);
                let a = movement::axis(attr_i(node, "axis", 0), f.len()).map_err(bad)?;
                let n = node.output.len();
                let sizes: Vec<i64> = match ints(1, "split")? {
                    Some(s) => s,
                    None => {
                        let per = f[a].div_ceil(n.max(1)) as i64;
                        (0..n as i64)
                            .map(|k| per.min(f[a] as i64 - k * per).max(0))
                            .collect()
                    }
                };
                if sizes.len() != n || sizes.iter().sum::<i64>() != f[a] as i64 {
                    return Err(bad(format!("split sizes {sizes:?} of an axis of {}", f[a])));
                }
                let mut begin = 0i64;
                let mut first = None;
                for (k, &size) in sizes.iter().enumerate() {
                    let (out, idx) =
                        movement::slice(&f, &[begin], &[begin + size], &[a], &[1]).map_err(bad)?;
                    begin += size;
                    let id = select(
                        &mut nodes,
                        &mut shapes,
                        format!("split part {k}"),
                        vec![x],
                        out,
                        idx,
                        0.0,
                    )?;
                    if k == 0 {
                        first = Some(id);
                    } else if !node.output[k].is_empty() {
                        ids.insert(node.output[k].clone(), id);
                    }
                }
                first.ok_or_else(|| bad("no output".into()))?
            }
            "Squeeze" | "Unsqueeze" => {
                let x = activation(0)?;
                let f = full(&shapes, x);
                let axes = ints(1, "axes")?.unwrap_or_default();
                let out: Vec<usize> = if node.op_type == "Squeeze" {
                    let axes: Vec<usize> = if axes.is_empty() {
                        (0..f.len()).filter(|&d| f[d] == 1).collect()
                    } else {
                        axes.iter()
                            .map(|&v| movement::axis(v, f.len()))
                            .collect::<Result<_, _>>()
                            .map_err(bad)?
                    };
                    (0..f.len())
                        .filter(|d| !axes.contains(d))
                        .map(|d| f[d])
                        .collect()
                } else {
                    let rank = f.len() + axes.len();
                    let axes: Vec<usize> = axes
                        .iter()
                        .map(|&v| movement::axis(v, rank))
                        .collect::<Result<_, _>>()
                        .map_err(bad)?;
                    let mut rest = f.iter();
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
                reshaped(&mut nodes, &mut shapes, x, out)
            }
            "ReduceSum" | "ReduceMean" | "ReduceMax" | "ReduceMin" => {
                let x = activation(0)?;
                let f = full(&shapes, x);
                let keep = attr_i(node, "keepdims", 1) != 0;
                let listed = ints(1, "axes")?.unwrap_or_default();
                let axes: Vec<usize> = if listed.is_empty() {
                    if attr_i(node, "noop_with_empty_axes", 0) != 0 {
                        ids.insert(output.clone(), x);
                        continue;
                    }
                    let batch = has_batch && !unbatched.borrow().contains(&x);
                    (usize::from(batch)..f.len()).collect()
                } else {
                    listed
                        .iter()
                        .map(|&v| movement::axis(v, f.len()))
                        .collect::<Result<_, _>>()
                        .map_err(bad)?
                };
                let kept: Vec<usize> = (0..f.len()).filter(|d| !axes.contains(d)).collect();
                let perm: Vec<usize> = kept.iter().chain(&axes).copied().collect();
                let (_, idx) = movement::transpose(&f, &perm).map_err(bad)?;
                let n: usize = axes.iter().map(|&d| f[d]).product();
                let rows = f.iter().product::<usize>() / n.max(1);
                // The reduced axes moved last, as rows of n.
                let grouped = vec![rows, n];
                let op = FloatOp::Select {
                    what: format!("reduced axes {axes:?} last"),
                    shape: grouped.clone(),
                    indices: idx,
                    fill: 0.0,
                };
                let mut t = push(&mut nodes, &mut shapes, op, vec![x], grouped);
                let negate =
                    |nodes: &mut Vec<FloatNode>, shapes: &mut Vec<Vec<usize>>, t: usize| {
                        let len = shapes[t].iter().product();
                        let shape = shapes[t].clone();
                        let op = FloatOp::Scale {
                            scale: vec![-1.0; len],
                            offset: vec![0.0; len],
                        };
                        push(nodes, shapes, op, vec![t], shape)
                    };
                match node.op_type.as_str() {
                    "ReduceSum" | "ReduceMean" => {
                        t = push(
                            &mut nodes,
                            &mut shapes,
                            FloatOp::Sum { axis_len: n },
                            vec![t],
                            vec![rows],
                        );
                        if node.op_type == "ReduceMean" {
                            let op = FloatOp::Scale {
                                scale: vec![1.0 / n as f64; rows],
                                offset: vec![0.0; rows],
                            };
                            t = push(&mut nodes, &mut shapes, op, vec![t], vec![rows]);
                        }
                    }
                    _ => {
                        let min = node.op_type == "ReduceMin";
                        if min {
                            t = negate(&mut nodes, &mut shapes, t);
                        }
                        let geometry = row_max(rows, n);
                        t = push(
                            &mut nodes,
                            &mut shapes,
                            FloatOp::MaxPool { geometry },
                            vec![t],
                            vec![rows, 1],
                        );
                        if min {
                            t = negate(&mut nodes, &mut shapes, t);
                        }
                    }
                }
                let out = reduced(&f, &axes, keep);
                reshaped(&mut nodes, &mut shapes, t, out)
            }
            "AveragePool" | "GlobalAveragePool" | "GlobalMaxPool" => {
                let x = spatial(activation(0)?)?;
                let c = shapes[x].first().copied().unwrap_or(0);
                let global = node.op_type.starts_with("Global");
                let kernel: Vec<usize> = if global {
                    shapes[x][1..].to_vec()
                } else {
                    attr_ints(node, "kernel_shape")
                        .unwrap_or_default()
                        .iter()
                        .map(|&k| k.max(0) as usize)
                        .collect()
                };
                if attr_i(node, "ceil_mode", 0) != 0 {
                    return Err(ModelError::UnsupportedOp {
                        op_type: format!("{} with ceil_mode", node.op_type),
                        node: name.clone(),
                    });
                }
                let wshape: Vec<usize> = [c, 1].into_iter().chain(kernel.iter().copied()).collect();
                let geometry = if global {
                    let rank = kernel.len();
                    ConvGeometry {
                        in_channels: c,
                        out_channels: c,
                        in_spatial: kernel.clone(),
                        kernel: kernel.clone(),
                        strides: vec![1; rank],
                        dilations: vec![1; rank],
                        pads: vec![0; 2 * rank],
                        groups: c,
                    }
                } else {
                    conv_geometry(&name, node, &shapes[x], &wshape, c as i64)?
                };
                let (shape, _) = geometry.check().map_err(bad)?;
                let op = if node.op_type == "GlobalMaxPool" {
                    FloatOp::MaxPool { geometry }
                } else {
                    if geometry.pads.iter().any(|&p| p > 0)
                        && attr_i(node, "count_include_pad", 0) == 0
                    {
                        return Err(ModelError::UnsupportedOp {
                            op_type: "AveragePool over padding without count_include_pad".into(),
                            node: name.clone(),
                        });
                    }
                    let k: usize = kernel.iter().product();
                    FloatOp::Conv {
                        weights: vec![1.0 / k as f64; c * k],
                        bias: vec![0.0; c],
                        geometry,
                    }
                };
                push(&mut nodes, &mut shapes, op, vec![x], shape)
            }
            "PRelu" => {
                // relu(x) - slope · relu(-x): two ReLUs and per-element constants.
                let x = activation(0)?;
                let f = full(&shapes, x);
                let slope = operand(1)?;
                let shape = shapes[x].clone();
                if let Some(a) = scalar(slope) {
                    // One slope: a leaky ReLU, one table.
                    let (src, e) = fusable(&nodes, n_in, x, sole_reader(0));
                    let op = FloatOp::Map {
                        expr: e.unary(Unary::LeakyRelu(a)),
                    };
                    let id = push(&mut nodes, &mut shapes, op, vec![src], shape);
                    ids.insert(output.clone(), id);
                    continue;
                }
                let len: usize = shape.iter().product();
                let slope: Vec<f64> = movement::broadcast(&slope.shape, &f)
                    .map_err(bad)?
                    .iter()
                    .map(|&i| slope.data[i as usize])
                    .collect();
                let r = push(
                    &mut nodes,
                    &mut shapes,
                    FloatOp::Relu,
                    vec![x],
                    shape.clone(),
                );
                let neg = FloatOp::Scale {
                    scale: vec![-1.0; len],
                    offset: vec![0.0; len],
                };
                let n = push(&mut nodes, &mut shapes, neg, vec![x], shape.clone());
                let rn = push(
                    &mut nodes,
                    &mut shapes,
                    FloatOp::Relu,
                    vec![n],
                    shape.clone(),
                );
                let op = FloatOp::Scale {
                    scale: slope.iter().map(|s| -s).collect(),
                    offset: vec![0.0; len],
                };
                let s = push(&mut nodes, &mut shapes, op, vec![rn], shape.clone());
                push(&mut nodes, &mut shapes, FloatOp::Add, vec![r, s], shape)
            }
            "ConvTranspose" => {
                // A stride-1 convolution with the flipped, transposed kernel over the input
                // with (stride - 1) zeros between its values and d·(k - 1) - pad around them.
                let x = spatial(activation(0)?)?;
                let w = operand(1)?;
                let unsupported = |why: &str| ModelError::UnsupportedOp {
                    op_type: format!("ConvTranspose {why}"),
                    node: name.clone(),
                };
                let in_shape = shapes[x].clone();
                let rank = in_shape.len().saturating_sub(1);
                if !(1..=2).contains(&rank) || w.shape.len() != rank + 2 {
                    return Err(unsupported("beyond 1-D and 2-D"));
                }
                if attr(node, "output_shape").is_some()
                    || attr(node, "auto_pad").is_some_and(|a| a.s != b"NOTSET")
                {
                    return Err(unsupported("with output_shape or auto_pad"));
                }
                let groups = attr_i(node, "group", 1).max(1) as usize;
                let (c_in, c_out) = (in_shape[0], w.shape[1] * groups);
                if w.shape[0] != c_in || c_in % groups != 0 {
                    return Err(bad(format!("weights {:?} for {c_in} channels", w.shape)));
                }
                let kernel: Vec<usize> = w.shape[2..].to_vec();
                let get = |a: &str, default: usize, n: usize| -> Vec<usize> {
                    attr_ints(node, a)
                        .map(|v| v.iter().map(|&x| x.max(0) as usize).collect())
                        .unwrap_or(vec![default; n])
                };
                let strides = get("strides", 1, rank);
                let dilations = get("dilations", 1, rank);
                let pads = get("pads", 0, 2 * rank);
                let out_pad = get("output_padding", 0, rank);
                if [&strides, &dilations, &out_pad]
                    .iter()
                    .any(|v| v.len() != rank)
                    || pads.len() != 2 * rank
                    || strides.contains(&0)
                    || dilations.contains(&0)
                {
                    return Err(bad("strides, dilations, pads or output_padding".into()));
                }
                // The zero-stuffed, padded input as a selection (negative padding crops).
                let spread: Vec<i64> = (0..rank)
                    .map(|d| (dilations[d] * (kernel[d] - 1)) as i64 - pads[d] as i64)
                    .collect();
                let tail: Vec<i64> = (0..rank)
                    .map(|d| {
                        (dilations[d] * (kernel[d] - 1)) as i64 - pads[rank + d] as i64
                            + out_pad[d] as i64
                    })
                    .collect();
                let stuffed: Vec<usize> = (0..rank)
                    .map(|d| {
                        let n = (in_shape[d + 1] - 1) * strides[d] + 1;
                        usize::try_from(n as i64 + spread[d] + tail[d]).unwrap_or(0)
                    })
                    .collect();
                if stuffed
                    .iter()
                    .zip(&kernel)
                    .zip(&dilations)
                    .any(|((&n, &k), &d)| n < d * (k - 1) + 1)
                {
                    return Err(bad("pads larger than the output".into()));
                }
                let sp_strides = movement::strides(&in_shape[1..]);
                let area: usize = in_shape[1..].iter().product();
                let mut indices = Vec::new();
                let out_area: usize = stuffed.iter().product();
                for c in 0..c_in {
                    for p in 0..out_area {
                        let mut rem = p;
                        let mut flat = Some(c * area);
                        for d in (0..rank).rev() {
                            let o = (rem % stuffed[d]) as i64;
                            rem /= stuffed[d];
                            let q = o - spread[d];
                            let s = strides[d] as i64;
                            if q < 0 || q % s != 0 || q / s >= in_shape[d + 1] as i64 {
                                flat = None;
                            } else if let Some(f) = flat.as_mut() {
                                *f += (q / s) as usize * sp_strides[d];
                            }
                        }
                        indices.push(flat.map_or(-1, |f| f as i64));
                    }
                }
                let stuffed_shape: Vec<usize> = std::iter::once(c_in)
                    .chain(stuffed.iter().copied())
                    .collect();
                let op = FloatOp::Select {
                    what: "zero-stuffed and padded".into(),
                    shape: stuffed_shape.clone(),
                    indices,
                    fill: 0.0,
                };
                let t = push(&mut nodes, &mut shapes, op, vec![x], stuffed_shape);
                let k_area: usize = kernel.iter().product();
                let (cin_g, cout_g) = (c_in / groups, c_out / groups);
                let mut weights = vec![0.0; c_out * cin_g * k_area];
                for o in 0..c_out {
                    let (g, ol) = (o / cout_g, o % cout_g);
                    for cl in 0..cin_g {
                        let c = g * cin_g + cl;
                        for i in 0..k_area {
                            weights[(o * cin_g + cl) * k_area + (k_area - 1 - i)] =
                                w.data[(c * cout_g + ol) * k_area + i];
                        }
                    }
                }
                let bias = match node.input.get(2).filter(|s| !s.is_empty()) {
                    Some(_) => broadcast_bias(&name, operand(2)?, c_out, 1.0)?,
                    None => vec![0.0; c_out],
                };
                let geometry = ConvGeometry {
                    in_channels: c_in,
                    out_channels: c_out,
                    in_spatial: stuffed,
                    kernel,
                    strides: vec![1; rank],
                    dilations,
                    pads: vec![0; 2 * rank],
                    groups,
                };
                let (shape, _) = geometry.check().map_err(bad)?;
                let op = FloatOp::Conv {
                    geometry,
                    weights,
                    bias,
                };
                push(&mut nodes, &mut shapes, op, vec![t], shape)
            }
            "Resize" | "Upsample" => {
                let x = activation(0)?;
                let f = full(&shapes, x);
                let text = |a: &str, default: &str| {
                    attr(node, a)
                        .map(|v| String::from_utf8_lossy(&v.s).into_owned())
                        .unwrap_or_else(|| default.to_string())
                };
                let mode = text("mode", "nearest");
                if mode != "nearest" {
                    return Err(ModelError::UnsupportedOp {
                        op_type: format!("{} in mode `{mode}` (only nearest)", node.op_type),
                        node: name.clone(),
                    });
                }
                let coords = text("coordinate_transformation_mode", "half_pixel");
                let rounding = text("nearest_mode", "round_prefer_floor");
                // Scales (input 2, or 1 for Upsample) or sizes (input 3).
                let input_k = |k: usize| {
                    node.input
                        .get(k)
                        .filter(|s| !s.is_empty())
                        .and_then(|n| consts.get(n))
                        .filter(|c| !c.data.is_empty())
                };
                let scales_at = if node.op_type == "Upsample" { 1 } else { 2 };
                let (out, scales): (Vec<usize>, Vec<f64>) = match (input_k(scales_at), input_k(3)) {
                    (_, Some(sz)) => {
                        let out: Vec<usize> = sz.data.iter().map(|&v| v as usize).collect();
                        let sc = out
                            .iter()
                            .zip(&f)
                            .map(|(&o, &i)| o as f64 / i as f64)
                            .collect();
                        (out, sc)
                    }
                    (Some(sc), None) => (
                        f.iter()
                            .zip(&sc.data)
                            .map(|(&i, &s)| (i as f64 * s).floor() as usize)
                            .collect(),
                        sc.data.clone(),
                    ),
                    _ => return Err(bad("neither scales nor sizes".into())),
                };
                if out.len() != f.len() {
                    return Err(bad(format!("output size {out:?} for shape {f:?}")));
                }
                let source = |d: usize, o: usize| -> Result<usize, ModelError> {
                    let (o, i, n, s) = (o as f64, f[d] as f64, out[d] as f64, scales[d]);
                    let x = match coords.as_str() {
                        "asymmetric" => o / s,
                        "half_pixel" => (o + 0.5) / s - 0.5,
                        "pytorch_half_pixel" => {
                            if n > 1.0 {
                                (o + 0.5) / s - 0.5
                            } else {
                                0.0
                            }
                        }
                        "align_corners" => {
                            if n > 1.0 {
                                o * (i - 1.0) / (n - 1.0)
                            } else {
                                0.0
                            }
                        }
                        "tf_half_pixel_for_nn" => (o + 0.5) / s,
                        other => {
                            return Err(bad(format!("coordinate_transformation_mode `{other}`")));
                        }
                    };
                    let r = match rounding.as_str() {
                        "floor" => x.floor(),
                        "ceil" => x.ceil(),
                        "round_prefer_ceil" => (x + 0.5).floor(),
                        _ => (x - 0.5).ceil(),
                    };
                    Ok(r.clamp(0.0, i - 1.0) as usize)
                };
                let maps: Vec<Vec<usize>> = (0..f.len())
                    .map(|d| (0..out[d]).map(|o| source(d, o)).collect())
                    .collect::<Result<_, _>>()?;
                let st = movement::strides(&f);
                let total: usize = out.iter().product();
                let mut indices = Vec::with_capacity(total);
                let mut idx = vec![0usize; out.len()];
                for _ in 0..total {
                    indices
                        .push((0..f.len()).map(|d| maps[d][idx[d]] * st[d]).sum::<usize>() as i64);
                    for d in (0..out.len()).rev() {
                        idx[d] += 1;
                        if idx[d] < out[d] {
                            break;
                        }
                        idx[d] = 0;
                    }
                }
                select(
                    &mut nodes,
                    &mut shapes,
                    format!("resize {coords} {rounding}"),
                    vec![x],
                    out,
                    indices,
                    0.0,
                )?
            }
            "InstanceNormalization" | "LayerNormalization" => {
                let x = activation(0)?;
                let f = full(&shapes, x);
                let eps = attr_f(node, "epsilon", 1e-5) as f64;
                let shape = shapes[x].clone();
                let len: usize = shape.iter().product();
                // Rows normalized one by one, and each scale/bias value's index in a row.
                let (n, per_row) = if node.op_type == "InstanceNormalization" {
                    // Per channel over the spatial positions; scale and bias per channel.
                    let x = spatial(x)?;
                    let _ = x;
                    let c = shape.first().copied().unwrap_or(1);
                    (len / c.max(1), false)
                } else {
                    let a = movement::axis(attr_i(node, "axis", -1), f.len()).map_err(bad)?;
                    (f[a..].iter().product::<usize>(), true)
                };
                let rows = len / n.max(1);
                let affine = |k: usize| -> Result<Vec<f64>, ModelError> {
                    match node.input.get(k).filter(|s| !s.is_empty()) {
                        None => Ok(vec![if k == 1 { 1.0 } else { 0.0 }; len]),
                        Some(_) => {
                            let c = operand(k)?;
                            let want = if per_row { n } else { rows };
                            if c.data.len() != want && c.data.len() != 1 {
                                return Err(bad(format!(
                                    "{} values for rows of {n}",
                                    c.data.len()
                                )));
                            }
                            let at = |i: usize| c.data[if c.data.len() == 1 { 0 } else { i }];
                            Ok((0..len)
                                .map(|i| if per_row { at(i % n) } else { at(i / n) })
                                .collect())
                        }
                    }
                };
                let (gamma, beta) = (affine(1)?, affine(2)?);
                let p = |nodes: &mut Vec<FloatNode>,
                         shapes: &mut Vec<Vec<usize>>,
                         op,
                         inputs,
                         shape| { push(nodes, shapes, op, inputs, shape) };
                let flat = vec![rows, n];
                let as_rows = FloatOp::Reshape {
                    shape: flat.clone(),
                };
                let xr = p(&mut nodes, &mut shapes, as_rows, vec![x], flat.clone());
                let mean_of =
                    |nodes: &mut Vec<FloatNode>, shapes: &mut Vec<Vec<usize>>, t: usize| {
                        let s = p(
                            nodes,
                            shapes,
                            FloatOp::Sum { axis_len: n },
                            vec![t],
                            vec![rows],
                        );
                        let op = FloatOp::Scale {
                            scale: vec![1.0 / n as f64; rows],
                            offset: vec![0.0; rows],
                        };
                        let m = p(nodes, shapes, op, vec![s], vec![rows]);
                        let op = FloatOp::Select {
                            what: "row value to each element".into(),
                            shape: flat.clone(),
                            indices: (0..rows * n).map(|i| (i / n) as i64).collect(),
                            fill: 0.0,
                        };
                        p(nodes, shapes, op, vec![m], flat.clone())
                    };
                let mean = mean_of(&mut nodes, &mut shapes, xr);
                let neg = FloatOp::Scale {
                    scale: vec![-1.0; len],
                    offset: vec![0.0; len],
                };
                let nm = p(&mut nodes, &mut shapes, neg, vec![mean], flat.clone());
                let d = p(
                    &mut nodes,
                    &mut shapes,
                    FloatOp::Add,
                    vec![xr, nm],
                    flat.clone(),
                );
                let sq = p(
                    &mut nodes,
                    &mut shapes,
                    FloatOp::Mul,
                    vec![d, d],
                    flat.clone(),
                );
                let var = mean_of(&mut nodes, &mut shapes, sq);
                let expr = Expr::X
                    .binary(Binary::Add, Expr::Const(eps))
                    .unary(Unary::Sqrt)
                    .unary(Unary::Reciprocal);
                let inv = p(
                    &mut nodes,
                    &mut shapes,
                    FloatOp::Map { expr },
                    vec![var],
                    flat.clone(),
                );
                let y = p(
                    &mut nodes,
                    &mut shapes,
                    FloatOp::Mul,
                    vec![d, inv],
                    flat.clone(),
                );
                let op = FloatOp::Scale {
                    scale: gamma,
                    offset: beta,
                };
                let z = p(&mut nodes, &mut shapes, op, vec![y], flat);
                let op = FloatOp::Reshape {
                    shape: shape.clone(),
                };
                push(&mut nodes, &mut shapes, op, vec![z], shape)
            }
            "OneHot" => {
                // One table per class over the indices: `on` where the index is the class
                // (negative indices count from the end), `off` elsewhere; then interleaved.
                let idx = activation(0)?;
                let depth = scalar(operand(1)?)
                    .filter(|d| *d >= 1.0 && *d <= 4096.0)
                    .ok_or_else(|| bad("depth must be one value in 1..=4096".into()))?
                    as usize;
                let values = operand(2)?;
                let (off, on) = match values.data.as_slice() {
                    [off, on] => (*off, *on),
                    _ => return Err(bad("values must be [off, on]".into())),
                };
                let fi = full(&shapes, idx);
                let a = movement::axis(attr_i(node, "axis", -1), fi.len() + 1).map_err(bad)?;
                let (src, e) = fusable(&nodes, n_in, idx, sole_reader(0));
                let cols: Vec<usize> = (0..depth)
                    .map(|k| {
                        let is = |v: i64| e.clone().binary(Binary::Equal, Expr::Const(v as f64));
                        let hit = is(k as i64).binary(Binary::Or, is(k as i64 - depth as i64));
                        let expr = hit
                            .binary(Binary::Mul, Expr::Const(on - off))
                            .binary(Binary::Add, Expr::Const(off));
                        let shape = shapes[idx].clone();
                        push(
                            &mut nodes,
                            &mut shapes,
                            FloatOp::Map { expr },
                            vec![src],
                            shape,
                        )
                    })
                    .collect();
                let m: usize = fi.iter().product();
                let inner: usize = fi[a..].iter().product();
                let out: Vec<usize> = fi[..a]
                    .iter()
                    .chain(&[depth])
                    .chain(&fi[a..])
                    .copied()
                    .collect();
                let indices: Vec<i64> = (0..m * depth)
                    .map(|p| {
                        let (o, rest) = (p / (depth * inner), p % (depth * inner));
                        let (k, q) = (rest / inner, rest % inner);
                        (k * m + o * inner + q) as i64
                    })
                    .collect();
                select(
                    &mut nodes,
                    &mut shapes,
                    "one-hot".into(),
                    cols,
                    out,
                    indices,
                    0.0,
                )?
            }
            "GatherElements" => {
                let data = activation(0).map_err(|_| ModelError::UnsupportedOp {
                    op_type: "GatherElements from a constant".into(),
                    node: name.clone(),
                })?;
                let fd = full(&shapes, data);
                let a = movement::axis(attr_i(node, "axis", 0), fd.len()).map_err(bad)?;
                let st = movement::strides(&fd);
                let n = fd[a] as i64;
                match activation(1) {
                    Err(_) => {
                        // Constant indices: a selection.
                        let c = operand(1)?;
                        if c.shape.len() != fd.len() {
                            return Err(bad(format!("indices {:?} for data {fd:?}", c.shape)));
                        }
                        let cs = movement::strides(&c.shape);
                        let indices = (0..c.data.len())
                            .map(|p| {
                                let i = c.data[p] as i64;
                                let i = if i < 0 { i + n } else { i };
                                if !(0..n).contains(&i) {
                                    return Err(bad(format!("index {i} on an axis of {n}")));
                                }
                                Ok((0..fd.len())
                                    .map(|d| {
                                        let v = if d == a {
                                            i as usize
                                        } else {
                                            (p / cs[d]) % c.shape[d]
                                        };
                                        v * st[d]
                                    })
                                    .sum::<usize>() as i64)
                            })
                            .collect::<Result<Vec<i64>, _>>()?;
                        select(
                            &mut nodes,
                            &mut shapes,
                            "gather elements".into(),
                            vec![data],
                            c.shape.clone(),
                            indices,
                            0.0,
                        )?
                    }
                    Ok(idx) => {
                        // Computed indices: Σ_j [index = j] · data at j, each indicator a
                        // table over the indices, each product exact.
                        let fi = full(&shapes, idx);
                        if fi.len() != fd.len() || n > 256 {
                            return Err(ModelError::UnsupportedOp {
                                op_type: format!(
                                    "GatherElements of {fd:?} at computed indices {fi:?}"
                                ),
                                node: name.clone(),
                            });
                        }
                        let is = movement::strides(&fi);
                        let m: usize = fi.iter().product();
                        let ishape = shapes[idx].clone();
                        let (src, e) = fusable(&nodes, n_in, idx, sole_reader(1));
                        let mut products = Vec::new();
                        for j in 0..n {
                            let hit = e
                                .clone()
                                .binary(Binary::Equal, Expr::Const(j as f64))
                                .binary(
                                    Binary::Or,
                                    e.clone().binary(Binary::Equal, Expr::Const((j - n) as f64)),
                                );
                            let ind = push(
                                &mut nodes,
                                &mut shapes,
                                FloatOp::Map { expr: hit },
                                vec![src],
                                ishape.clone(),
                            );
                            let at: Vec<i64> = (0..m)
                                .map(|p| {
                                    (0..fd.len())
                                        .map(|d| {
                                            let v = if d == a {
                                                j as usize
                                            } else {
                                                (p / is[d]) % fi[d]
                                            };
                                            v * st[d]
                                        })
                                        .sum::<usize>() as i64
                                })
                                .collect();
                            let op = FloatOp::Select {
                                what: format!("data at index {j}"),
                                shape: ishape.clone(),
                                indices: at,
                                fill: 0.0,
                            };
                            let dj = push(&mut nodes, &mut shapes, op, vec![data], ishape.clone());
                            products.push(push(
                                &mut nodes,
                                &mut shapes,
                                FloatOp::Mul,
                                vec![ind, dj],
                                ishape.clone(),
                            ));
                        }
                        let k = products.len();
                        let stacked: Vec<i64> =
                            (0..m * k).map(|p| ((p % k) * m + p / k) as i64).collect();
                        let op = FloatOp::Select {
                            what: "products per element".into(),
                            shape: vec![m, k],
                            indices: stacked,
                            fill: 0.0,
                        };
                        let st2 = push(&mut nodes, &mut shapes, op, products, vec![m, k]);
                        let sum = push(
                            &mut nodes,
                            &mut shapes,
                            FloatOp::Sum { axis_len: k },
                            vec![st2],
                            vec![m],
                        );
                        let op = FloatOp::Reshape {
                            shape: ishape.clone(),
                        };
                        let id = push(&mut nodes, &mut shapes, op, vec![sum], ishape);
                        let without_batch = unbatched.borrow().contains(&idx);
                        mark(id, without_batch);
                        id
                    }
                }
            }
            "ArgMax" | "ArgMin" => {
                // Rows along the axis; e = [x = max] by a table of x - max, the first maximum
                // by a prefix count of e, the index by Σ j · first_j.
                let x = activation(0)?;
                let f = full(&shapes, x);
                let a = movement::axis(attr_i(node, "axis", 0), f.len()).map_err(bad)?;
                if attr_i(node, "select_last_index", 0) != 0 {
                    return Err(ModelError::UnsupportedOp {
                        op_type: format!("{} with select_last_index", node.op_type),
                        node: name.clone(),
                    });
                }
                let keep = attr_i(node, "keepdims", 1) != 0;
                let n = f[a];
                let rows = f.iter().product::<usize>() / n.max(1);
                let perm: Vec<usize> = (0..f.len()).filter(|&d| d != a).chain([a]).collect();
                let (_, idx) = movement::transpose(&f, &perm).map_err(bad)?;
                let rn = vec![rows, n];
                let op = FloatOp::Select {
                    what: format!("axis {a} last"),
                    shape: rn.clone(),
                    indices: idx,
                    fill: 0.0,
                };
                let mut t = push(&mut nodes, &mut shapes, op, vec![x], rn.clone());
                let per = |v: f64| FloatOp::Scale {
                    scale: vec![v; rows * n],
                    offset: vec![0.0; rows * n],
                };
                if node.op_type == "ArgMin" {
                    t = push(&mut nodes, &mut shapes, per(-1.0), vec![t], rn.clone());
                }
                let geometry = row_max(rows, n);
                let m = push(
                    &mut nodes,
                    &mut shapes,
                    FloatOp::MaxPool { geometry },
                    vec![t],
                    vec![rows, 1],
                );
                let spread = |what: &str, indices: Vec<i64>, shape: Vec<usize>| FloatOp::Select {
                    what: what.into(),
                    shape,
                    indices,
                    fill: 0.0,
                };
                let op = spread(
                    "row maximum to each",
                    (0..rows * n).map(|i| (i / n) as i64).collect(),
                    rn.clone(),
                );
                let mb = push(&mut nodes, &mut shapes, op, vec![m], rn.clone());
                let nm = push(&mut nodes, &mut shapes, per(-1.0), vec![mb], rn.clone());
                let d = push(
                    &mut nodes,
                    &mut shapes,
                    FloatOp::Add,
                    vec![t, nm],
                    rn.clone(),
                );
                let is_max = Expr::X.binary(Binary::GreaterOrEqual, Expr::Const(0.0));
                let e = push(
                    &mut nodes,
                    &mut shapes,
                    FloatOp::Map { expr: is_max },
                    vec![d],
                    rn.clone(),
                );
                // c_j = Σ_{i ≤ j} e_i.
                let prefix: Vec<i64> = (0..rows * n * n)
                    .map(|p| {
                        let (r, j, i) = (p / (n * n), (p / n) % n, p % n);
                        if i <= j { (r * n + i) as i64 } else { -1 }
                    })
                    .collect();
                let op = spread("prefixes", prefix, vec![rows, n, n]);
                let pre = push(&mut nodes, &mut shapes, op, vec![e], vec![rows, n, n]);
                let c = push(
                    &mut nodes,
                    &mut shapes,
                    FloatOp::Sum { axis_len: n },
                    vec![pre],
                    rn.clone(),
                );
                // first_j = [c_j + (n + 1)·e_j = n + 2]: e_j = 1 and c_j = 1.
                let we = push(
                    &mut nodes,
                    &mut shapes,
                    per((n + 1) as f64),
                    vec![e],
                    rn.clone(),
                );
                let key = push(
                    &mut nodes,
                    &mut shapes,
                    FloatOp::Add,
                    vec![c, we],
                    rn.clone(),
                );
                let hit = Expr::X.binary(Binary::Equal, Expr::Const((n + 2) as f64));
                let first = push(
                    &mut nodes,
                    &mut shapes,
                    FloatOp::Map { expr: hit },
                    vec![key],
                    rn.clone(),
                );
                let op = FloatOp::Scale {
                    scale: (0..rows * n).map(|i| (i % n) as f64).collect(),
                    offset: vec![0.0; rows * n],
                };
                let j = push(&mut nodes, &mut shapes, op, vec![first], rn);
                let arg = push(
                    &mut nodes,
                    &mut shapes,
                    FloatOp::Sum { axis_len: n },
                    vec![j],
                    vec![rows],
                );
                let out = reduced(&f, &[a], keep);
                reshaped(&mut nodes, &mut shapes, arg, out)
            }
            "RNN" | "LSTM" => {
                // Unrolled over the static sequence: per step a dense layer of the step's
                // input (both biases folded in, and the constant initial state's
                // contribution), a dense layer of the previous state, and the gates as
                // tables, products and sums.
                let lstm = node.op_type == "LSTM";
                let unsupported = |why: String| ModelError::UnsupportedOp {
                    op_type: format!("{} {why}", node.op_type),
                    node: name.clone(),
                };
                let x = activation(0)?;
                let fx = full(&shapes, x);
                let (w, r) = (operand(1)?, operand(2)?);
                let h = attr_i(node, "hidden_size", 0).max(0) as usize;
                let direction = attr(node, "direction")
                    .map(|a| String::from_utf8_lossy(&a.s).into_owned())
                    .unwrap_or_else(|| "forward".into());
                let defaults: &[&[u8]] = if lstm {
                    &[b"Sigmoid", b"Tanh", b"Tanh"]
                } else {
                    &[b"Tanh"]
                };
                let custom = attr(node, "activations").is_some_and(|a| {
                    !a.strings.is_empty()
                        && !a
                            .strings
                            .iter()
                            .map(Vec::as_slice)
                            .eq(defaults.iter().copied())
                });
                if direction != "forward" || custom {
                    return Err(unsupported(
                        "other than forward with default activations".into(),
                    ));
                }
                if attr_i(node, "layout", 0) != 0
                    || node.input.get(4).is_some_and(|s| !s.is_empty())
                {
                    return Err(unsupported(
                        "with a batch-first layout or sequence lengths".into(),
                    ));
                }
                let gates = if lstm { 4 } else { 1 };
                if fx.len() != 3 || fx[1] != 1 || h == 0 {
                    return Err(unsupported(format!(
                        "over an input of shape {fx:?} (batch 1)"
                    )));
                }
                let (seq, n_in) = (fx[0], fx[2]);
                if seq == 0 {
                    return Err(unsupported("over an empty sequence".into()));
                }
                if w.shape != [1, gates * h, n_in] || r.shape != [1, gates * h, h] {
                    return Err(bad(format!("weights {:?} and {:?}", w.shape, r.shape)));
                }
                let zeros = |n: usize| vec![0.0; n];
                let bias: Vec<f64> = match node.input.get(3).filter(|s| !s.is_empty()) {
                    Some(_) => {
                        let b = operand(3)?;
                        if b.data.len() != 2 * gates * h {
                            return Err(bad(format!("bias of {} values", b.data.len())));
                        }
                        (0..gates * h)
                            .map(|i| b.data[i] + b.data[gates * h + i])
                            .collect()
                    }
                    None => zeros(gates * h),
                };
                let state = |k: usize| -> Result<Vec<f64>, ModelError> {
                    match node.input.get(k).filter(|s| !s.is_empty()) {
                        Some(_) => {
                            let c = operand(k)
                                .map_err(|_| unsupported("with a computed initial state".into()))?;
                            if c.data.len() != h {
                                return Err(bad(format!(
                                    "initial state of {} values",
                                    c.data.len()
                                )));
                            }
                            Ok(c.data.clone())
                        }
                        None => Ok(zeros(h)),
                    }
                };
                let (h0, c0) = (state(5)?, if lstm { state(6)? } else { zeros(h) });
                // R · h0 is a constant: it joins the first step's bias.
                let rh0: Vec<f64> = (0..gates * h)
                    .map(|j| (0..h).map(|i| r.data[j * h + i] * h0[i]).sum())
                    .collect();
                let dense = |nodes: &mut Vec<FloatNode>,
                             shapes: &mut Vec<Vec<usize>>,
                             t: usize,
                             m: &[f64],
                             k: usize,
                             b: Vec<f64>| {
                    let op = FloatOp::Dense {
                        in_features: k,
                        out_features: gates * h,
                        weights: m.to_vec(),
                        bias: b,
                    };
                    push(nodes, shapes, op, vec![t], vec![gates * h])
                };
                let slice = |nodes: &mut Vec<FloatNode>,
                             shapes: &mut Vec<Vec<usize>>,
                             t: usize,
                             from: usize,
                             n: usize,
                             what: &str| {
                    let op = FloatOp::Select {
                        what: what.into(),
                        shape: vec![n],
                        indices: (from..from + n).map(|i| i as i64).collect(),
                        fill: 0.0,
                    };
                    push(nodes, shapes, op, vec![t], vec![n])
                };
                let map = |nodes: &mut Vec<FloatNode>,
                           shapes: &mut Vec<Vec<usize>>,
                           t: usize,
                           f: Unary| {
                    let op = FloatOp::Map {
                        expr: Expr::X.unary(f),
                    };
                    push(nodes, shapes, op, vec![t], vec![h])
                };
                let mut hs: Vec<usize> = Vec::new();
                let mut c_prev: Option<usize> = None;
                for step in 0..seq {
                    let xt = slice(&mut nodes, &mut shapes, x, step * n_in, n_in, "step input");
                    let mut b = bias.clone();
                    if step == 0 {
                        b.iter_mut().zip(&rh0).for_each(|(a, c)| *a += c);
                    }
                    let mut g = dense(&mut nodes, &mut shapes, xt, &w.data, n_in, b);
                    if let Some(&hp) = hs.last() {
                        let rh = dense(&mut nodes, &mut shapes, hp, &r.data, h, zeros(gates * h));
                        g = push(
                            &mut nodes,
                            &mut shapes,
                            FloatOp::Add,
                            vec![g, rh],
                            vec![gates * h],
                        );
                    }
                    let ht = if lstm {
                        // ONNX gate order: input, output, forget, cell.
                        let part = |nodes: &mut Vec<FloatNode>,
                                    shapes: &mut Vec<Vec<usize>>,
                                    k: usize,
                                    f: Unary| {
                            let s = slice(nodes, shapes, g, k * h, h, "gate");
                            map(nodes, shapes, s, f)
                        };
                        let i = part(&mut nodes, &mut shapes, 0, Unary::Sigmoid);
                        let o = part(&mut nodes, &mut shapes, 1, Unary::Sigmoid);
                        let f = part(&mut nodes, &mut shapes, 2, Unary::Sigmoid);
                        let cand = part(&mut nodes, &mut shapes, 3, Unary::Tanh);
                        let ic = push(
                            &mut nodes,
                            &mut shapes,
                            FloatOp::Mul,
                            vec![i, cand],
                            vec![h],
                        );
                        let c = match c_prev {
                            Some(cp) => {
                                let fc = push(
                                    &mut nodes,
                                    &mut shapes,
                                    FloatOp::Mul,
                                    vec![f, cp],
                                    vec![h],
                                );
                                push(&mut nodes, &mut shapes, FloatOp::Add, vec![fc, ic], vec![h])
                            }
                            // A zero initial cell state adds nothing (and a zero tensor
                            // would drag the sum's scale to its own).
                            None if c0.iter().all(|&v| v == 0.0) => ic,
                            None => {
                                // f ⊙ c0 with a constant c0: per-element factors.
                                let op = FloatOp::Scale {
                                    scale: c0.clone(),
                                    offset: zeros(h),
                                };
                                let fc = push(&mut nodes, &mut shapes, op, vec![f], vec![h]);
                                push(&mut nodes, &mut shapes, FloatOp::Add, vec![fc, ic], vec![h])
                            }
                        };
                        c_prev = Some(c);
                        let tc = map(&mut nodes, &mut shapes, c, Unary::Tanh);
                        push(&mut nodes, &mut shapes, FloatOp::Mul, vec![o, tc], vec![h])
                    } else {
                        map(&mut nodes, &mut shapes, g, Unary::Tanh)
                    };
                    hs.push(ht);
                }
                // Y [seq, 1, 1, h], Y_h [1, 1, h], Y_c [1, 1, h].
                let y_full = vec![seq, 1, 1, h];
                let all: Vec<i64> = (0..seq * h).map(|i| i as i64).collect();
                let y = select(
                    &mut nodes,
                    &mut shapes,
                    "hidden states".into(),
                    hs.clone(),
                    y_full,
                    all,
                    0.0,
                )?;
                let last_of =
                    |nodes: &mut Vec<FloatNode>, shapes: &mut Vec<Vec<usize>>, t: usize| {
                        select(
                            nodes,
                            shapes,
                            "last state".into(),
                            vec![t],
                            vec![1, 1, h],
                            (0..h as i64).collect(),
                            0.0,
                        )
                    };
                let Some(&last) = hs.last() else {
                    return Err(unsupported("over an empty sequence".into()));
                };
                for (k, t) in [(1usize, Some(last)), (2, c_prev)] {
                    if let (Some(out), Some(t)) = (node.output.get(k).filter(|o| !o.is_empty()), t)
                    {
                        let id = last_of(&mut nodes, &mut shapes, t)?;
                        ids.insert(out.clone(), id);
                    }
                }
                y
            }
            "TopK" => {
                // The values of an odd-even transposition sort of each row (exact: every
                // comparison a 2-wide max pool, minima through negation), then the first k.
                let x = activation(0)?;
                if node.output.get(1).is_some_and(|o| {
                    !o.is_empty() && readers.get(o.as_str()).is_some_and(|&n| n > 0)
                }) {
                    return Err(ModelError::UnsupportedOp {
                        op_type: "TopK with its indices read".into(),
                        node: name.clone(),
                    });
                }
                let f = full(&shapes, x);
                let a = movement::axis(attr_i(node, "axis", -1), f.len()).map_err(bad)?;
                let k = match node.input.get(1).filter(|s| !s.is_empty()) {
                    Some(_) => scalar(operand(1)?).unwrap_or(-1.0),
                    None => attr_i(node, "k", -1) as f64,
                };
                let n = f[a];
                if k < 1.0 || k > n as f64 {
                    return Err(bad(format!("k = {k} on an axis of {n}")));
                }
                let k = k as usize;
                let largest = attr_i(node, "largest", 1) != 0;
                let rows = f.iter().product::<usize>() / n;
                let perm: Vec<usize> = (0..f.len()).filter(|&d| d != a).chain([a]).collect();
                let (_, idx) = movement::transpose(&f, &perm).map_err(bad)?;
                let rn = vec![rows, n];
                let op = FloatOp::Select {
                    what: format!("axis {a} last"),
                    shape: rn.clone(),
                    indices: idx,
                    fill: 0.0,
                };
                let mut cur = push(&mut nodes, &mut shapes, op, vec![x], rn.clone());
                let neg = |nodes: &mut Vec<FloatNode>,
                           shapes: &mut Vec<Vec<usize>>,
                           t: usize,
                           len: usize| {
                    let op = FloatOp::Scale {
                        scale: vec![-1.0; len],
                        offset: vec![0.0; len],
                    };
                    let shape = shapes[t].clone();
                    push(nodes, shapes, op, vec![t], shape)
                };
                let pool = |nodes: &mut Vec<FloatNode>,
                            shapes: &mut Vec<Vec<usize>>,
                            t: usize,
                            c: usize| {
                    let geometry = row_max(c, 2);
                    push(
                        nodes,
                        shapes,
                        FloatOp::MaxPool { geometry },
                        vec![t],
                        vec![c, 1],
                    )
                };
                for stage in 0..n {
                    let firsts: Vec<usize> = (stage % 2..n.saturating_sub(1)).step_by(2).collect();
                    if firsts.is_empty() {
                        continue;
                    }
                    let c = rows * firsts.len();
                    let pairs: Vec<i64> = (0..rows)
                        .flat_map(|r| firsts.iter().flat_map(move |&i| [r * n + i, r * n + i + 1]))
                        .map(|i| i as i64)
                        .collect();
                    let op = FloatOp::Select {
                        what: format!("sorting stage {stage}"),
                        shape: vec![c, 2],
                        indices: pairs,
                        fill: 0.0,
                    };
                    let p = push(&mut nodes, &mut shapes, op, vec![cur], vec![c, 2]);
                    let hi = pool(&mut nodes, &mut shapes, p, c);
                    let np = neg(&mut nodes, &mut shapes, p, 2 * c);
                    let lo = pool(&mut nodes, &mut shapes, np, c);
                    let lo = neg(&mut nodes, &mut shapes, lo, c);
                    // Descending for the largest, ascending for the smallest.
                    let (first, second) = if largest { (hi, lo) } else { (lo, hi) };
                    let total = rows * n;
                    let indices: Vec<i64> = (0..total)
                        .map(|p| {
                            let (r, i) = (p / n, p % n);
                            match firsts.iter().position(|&f| f == i || f + 1 == i) {
                                Some(q) if firsts[q] == i => (total + r * firsts.len() + q) as i64,
                                Some(q) => (total + c + r * firsts.len() + q) as i64,
                                None => p as i64,
                            }
                        })
                        .collect();
                    let op = FloatOp::Select {
                        what: format!("sorted stage {stage}"),
                        shape: rn.clone(),
                        indices,
                        fill: 0.0,
                    };
                    cur = push(
                        &mut nodes,
                        &mut shapes,
                        op,
                        vec![cur, first, second],
                        rn.clone(),
                    );
                }
                // The first k of each row, the axis back in place.
                let mut out = f.clone();
                out[a] = k;
                let kept: Vec<usize> = (0..f.len()).filter(|&d| d != a).collect();
                let ost = movement::strides(&out);
                let total: usize = out.iter().product();
                let indices: Vec<i64> = (0..total)
                    .map(|p| {
                        let coord = |d: usize| (p / ost[d]) % out[d];
                        let row = kept.iter().fold(0, |acc, &d| acc * f[d] + coord(d));
                        (row * n + coord(a)) as i64
                    })
                    .collect();
                select(
                    &mut nodes,
                    &mut shapes,
                    format!("top {k}"),
                    vec![cur],
                    out,
                    indices,
                    0.0,
                )?
            }
            "Flatten" | "Reshape" => {
                let x = activation(0)?;
                let f = full(&shapes, x);
                let out = if node.op_type == "Flatten" {
                    let a = attr_i(node, "axis", 1);
                    let a = if a < 0 { a + f.len() as i64 } else { a }.clamp(0, f.len() as i64);
                    let (head, tail) = f.split_at(a as usize);
                    vec![head.iter().product(), tail.iter().product()]
                } else {
                    resolve_reshape(&name, &operand(1)?.data, &f, false)?
                };
                reshaped(&mut nodes, &mut shapes, x, out)
            }
            "Identity" | "Dropout" => activation(0)?,
            "Cast" => match attr_i(node, "to", 1) {
                // To a float type: the value is unchanged.
                1 | 10 | 11 | 16 => activation(0)?,
                to => {
                    let f = cast_function(to).ok_or_else(|| ModelError::UnsupportedOp {
                        op_type: format!("Cast to ONNX type {to}"),
                        node: name.clone(),
                    })?;
                    let x = activation(0)?;
                    let (src, e) = fusable(&nodes, n_in, x, sole_reader(0));
                    let op = FloatOp::Map { expr: e.unary(f) };
                    let shape = shapes[x].clone();
                    push(&mut nodes, &mut shapes, op, vec![src], shape)
                }
            },
            "Softmax" => {
                let x = activation(0)?;
                let shape = shapes[x].clone();
                // ONNX counts the batch dimension; ours is stripped.
                let full = full(&shapes, x).len();
                let has_batch = full > shape.len();
                let axis = attr_i(node, "axis", if opset >= 13 { -1 } else { 1 });
                let axis = if axis < 0 { axis + full as i64 } else { axis };
                let rank_axis = axis - i64::from(has_batch);
                let axis_len = if opset >= 13 {
                    // One axis: supported when it is the last.
                    (axis == full as i64 - 1 && rank_axis >= 0).then(|| shape[shape.len() - 1])
                } else {
                    // Before opset 13: the input is flattened to 2-D at `axis`; rows are
                    // everything from `axis` on.
                    (0..=shape.len() as i64)
                        .contains(&rank_axis.max(0))
                        .then(|| shape[rank_axis.max(0) as usize..].iter().product())
                };
                let axis_len = axis_len.ok_or_else(|| ModelError::UnsupportedOp {
                    op_type: format!(
                        "Softmax over axis {axis} of a tensor of rank {full} (only the last)"
                    ),
                    node: name.clone(),
                })?;
                let op = FloatOp::Softmax { axis_len };
                push(&mut nodes, &mut shapes, op, vec![x], shape)
            }
            "Clip" => {
                // Bounds as inputs (opset ≥ 11) or attributes (before), each optional.
                let bound = |k: usize, attr_name: &str, default: f64| -> Result<f64, ModelError> {
                    match node.input.get(k).filter(|s| !s.is_empty()) {
                        Some(_) => scalar(operand(k)?).ok_or_else(|| ModelError::UnsupportedOp {
                            op_type: "Clip with a non-scalar bound".into(),
                            node: name.clone(),
                        }),
                        None => Ok(attr(node, attr_name).map_or(default, |a| a.f as f64)),
                    }
                };
                let f = Unary::Clip(
                    bound(1, "min", f64::NEG_INFINITY)?,
                    bound(2, "max", f64::INFINITY)?,
                );
                let x = activation(0)?;
                let (src, e) = fusable(&nodes, n_in, x, sole_reader(0));
                let shape = shapes[x].clone();
                let op = FloatOp::Map { expr: e.unary(f) };
                push(&mut nodes, &mut shapes, op, vec![src], shape)
            }
            op_type if op_type == "Relu" || Unary::from_onnx(op_type, |_, d| d).is_some() => {
                let f = match op_type {
                    "Relu" => Unary::Relu,
                    _ => Unary::from_onnx(op_type, |n, d| attr_f(node, n, d))
                        .expect("checked in the guard"),
                };
                let x = activation(0)?;
                let (src, e) = fusable(&nodes, n_in, x, sole_reader(0));
                let shape = shapes[x].clone();
                if f == Unary::Relu && e == Expr::X {
                    // A ReLU of its own: the cheaper gadget (a sign bit, not a table).
                    push(&mut nodes, &mut shapes, FloatOp::Relu, vec![x], shape)
                } else {
                    let op = FloatOp::Map { expr: e.unary(f) };
                    push(&mut nodes, &mut shapes, op, vec![src], shape)
                }
            }
            op_type if Binary::from_onnx(op_type).is_some() => {
                let f = Binary::from_onnx(op_type).expect("checked in the guard");
                match (activation(0), activation(1)) {
                    (Ok(a), Ok(b)) => {
                        // Two views of one source fuse into one function of it (but a sum of
                        // two plain tensors stays an Add: exact and free).
                        let (sa, ea) = fusable(&nodes, n_in, a, true);
                        let (sb, eb) = fusable(&nodes, n_in, b, true);
                        let plain = ea == Expr::X && eb == Expr::X;
                        if sa == sb && shapes[a] == shapes[b] && !(plain && f == Binary::Add) {
                            let shape = shapes[a].clone();
                            let op = FloatOp::Map {
                                expr: ea.binary(f, eb),
                            };
                            push(&mut nodes, &mut shapes, op, vec![sa], shape)
                        } else {
                            {
                                let first_new = shapes.len();
                                let (fa, fb) = (full(&shapes, a), full(&shapes, b));
                                let (id, without_batch) = two_tensors(
                                    &mut nodes,
                                    &mut shapes,
                                    &name,
                                    op_type,
                                    f,
                                    ((a, fa), (b, fb)),
                                    has_batch,
                                )?;
                                (first_new..shapes.len()).for_each(|t| mark(t, without_batch));
                                id
                            }
                        }
                    }
                    (Ok(x), Err(_)) | (Err(_), Ok(x)) => {
                        let k = if activation(0).is_ok() { 1 } else { 0 };
                        let c = operand(k)?;
                        let source = node.input[1 - k].as_str();
                        let folds = f == Binary::Add && readers.get(source) == Some(&1);
                        let at = x.checked_sub(input_shapes.len()).filter(|_| folds);
                        match (at.map(|i| &mut nodes[i].op), scalar(c)) {
                            // A constant added to a dense layer's output is its bias.
                            (
                                Some(FloatOp::Dense {
                                    bias, out_features, ..
                                }),
                                _,
                            ) => {
                                let add = broadcast_bias(&name, c, *out_features, 1.0)?;
                                bias.iter_mut().zip(add).for_each(|(b, a)| *b += a);
                                x
                            }
                            (_, Some(v)) => {
                                let (src, e) = fusable(&nodes, n_in, x, sole_reader(1 - k));
                                let expr = if k == 1 {
                                    e.binary(f, Expr::Const(v))
                                } else {
                                    Expr::Const(v).binary(f, e)
                                };
                                let shape = shapes[x].clone();
                                push(
                                    &mut nodes,
                                    &mut shapes,
                                    FloatOp::Map { expr },
                                    vec![src],
                                    shape,
                                )
                            }
                            (_, None) => {
                                // A constant tensor: per-element factors and offsets.
                                let unsupported = || ModelError::UnsupportedOp {
                                    op_type: format!(
                                        "{op_type} with a constant of shape {:?} (only Add, \
                                         Sub, Mul and Div by one)",
                                        c.shape
                                    ),
                                    node: name.clone(),
                                };
                                let target = full(&shapes, x);
                                let idx = movement::broadcast(&c.shape, &target)
                                    .map_err(|_| unsupported())?;
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
                                    (Binary::Div, 1) => {
                                        (v.iter().map(|c| 1.0 / c).collect(), vec![0.0; len])
                                    }
                                    _ => return Err(unsupported()),
                                };
                                let shape = shapes[x].clone();
                                let op = FloatOp::Scale { scale, offset };
                                let d = push(&mut nodes, &mut shapes, op, vec![x], shape.clone());
                                if compare {
                                    let expr = Expr::X.binary(f, Expr::Const(0.0));
                                    push(
                                        &mut nodes,
                                        &mut shapes,
                                        FloatOp::Map { expr },
                                        vec![d],
                                        shape,
                                    )
                                } else {
                                    d
                                }
                            }
                        }
                    }
                    (Err(e), Err(_)) => return Err(e),
                }
            }
            // Registered ops read only over constants (folded above) arrive here with a
            // computed operand.
            "Shape" | "ConstantOfShape" | "Range" => {
                return Err(ModelError::UnsupportedOp {
                    op_type: format!("{} of a computed value", node.op_type),
                    node: name.clone(),
                });
            }
            other => {
                return Err(ModelError::Invalid(format!(
                    "internal: ONNX op `{other}` is registered but not interpreted (node \
                     `{name}`)"
                )));
            }
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
    let mut graph = FloatGraph {
        name,
        inputs: input_shapes,
        has_batch,
        nodes,
        outputs,
    };
    // Element-wise chains fused into their consumers leave their own nodes unread.
    graph.prune();
    Ok(graph)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_onnx::pb::AttributeProto;

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

    /// Every registered op reaches an arm of the importer: fed a node of each type (reading
    /// the first layer's output, without attributes), the importer may refuse it for its
    /// operands or attributes, but never as an op it does not know.
    #[test]
    fn every_registered_op_is_interpreted() {
        let (proto, path) = digits();
        let first = proto.graph.as_ref().unwrap().node[0].output[0].clone();
        for op in super::super::registry::SUPPORTED {
            let mut probe = proto.clone();
            let graph = probe.graph.as_mut().unwrap();
            let mut node = graph.node[0].clone();
            node.op_type = op.name.into();
            node.name = "probe".into();
            node.input = vec![first.clone(), first.clone()];
            node.output = vec!["probe_out".into()];
            node.attribute.clear();
            graph.node.insert(1, node);
            if let Err(e) = graph_from_proto(&probe, &path) {
                let e = e.to_string();
                assert!(
                    !e.contains("registered but not interpreted")
                        && !e.contains(&format!("unsupported ONNX op `{}` (node", op.name)),
                    "{}: {e}",
                    op.name
                );
            }
        }
        // And an op that is not registered is refused by name.
        let mut probe = proto.clone();
        let graph = probe.graph.as_mut().unwrap();
        graph.node[0].op_type = "ScatterElements".into();
        let e = graph_from_proto(&probe, &path).unwrap_err().to_string();
        assert!(e.contains("unsupported ONNX op `ScatterElements`"), "{e}");
    }

    /// A node `op_type` with `attrs` reading `inputs` (`"x"` is the first layer's output, any
    /// other name an initializer of digits), inserted after the first layer; the error.
    fn refusal(op_type: &str, attrs: Vec<AttributeProto>, inputs: &[&str]) -> String {
        let (mut proto, path) = digits();
        let graph = proto.graph.as_mut().unwrap();
        let first = graph.node[0].output[0].clone();
        let weights = graph.initializer[0].name.clone();
        let mut node = graph.node[0].clone();
        node.op_type = op_type.into();
        node.name = "probe".into();
        node.input = inputs
            .iter()
            .map(|&i| match i {
                "x" => first.clone(),
                "w" => weights.clone(),
                other => other.to_string(),
            })
            .collect();
        node.output = vec!["probe_out".into()];
        node.attribute = attrs;
        graph.node.insert(1, node);
        graph_from_proto(&proto, &path).unwrap_err().to_string()
    }

    fn int_attr(name: &str, i: i64) -> AttributeProto {
        AttributeProto {
            name: name.into(),
            i,
            ..Default::default()
        }
    }

    fn text_attr(name: &str, s: &str) -> AttributeProto {
        AttributeProto {
            name: name.into(),
            s: s.as_bytes().to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn unsupported_forms_of_supported_ops_are_named() {
        let cases = [
            (
                refusal("Softmax", vec![int_attr("axis", 0)], &["x"]),
                "Softmax over axis 0 of a tensor of rank 2 (only the last)",
            ),
            (
                refusal("Pad", vec![text_attr("mode", "reflect")], &["x"]),
                "Pad in mode `reflect` or over chosen axes",
            ),
            (
                refusal("Resize", vec![text_attr("mode", "linear")], &["x"]),
                "Resize in mode `linear` (only nearest)",
            ),
            (
                refusal("GatherElements", vec![], &["w", "x"]),
                "GatherElements from a constant",
            ),
            (
                refusal("ArgMax", vec![int_attr("select_last_index", 1)], &["x"]),
                "ArgMax with select_last_index",
            ),
            (
                refusal("Cast", vec![int_attr("to", 8)], &["x"]),
                "Cast to ONNX type 8",
            ),
            (
                refusal("Mul", vec![], &["x", "w"]),
                "Mul with a constant of shape",
            ),
        ];
        for (err, want) in cases {
            assert!(
                err.starts_with(&format!("unsupported ONNX op `{want}"))
                    && err.ends_with("(node `probe`)"),
                "{err}"
            );
        }
    }

    /// A node over constants whose first operand is absent (an empty name) is not folded
    /// (no panic on a hostile file): it is refused for its operand.
    #[test]
    fn an_absent_first_operand_is_refused_not_folded() {
        for op in ["Cast", "Reshape", "Unsqueeze", "Slice", "Sigmoid"] {
            let err = refusal(op, vec![], &["", "w"]);
            assert!(
                err.contains("input #0 `` is neither a graph input nor an earlier node's output"),
                "{op}: {err}"
            );
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
