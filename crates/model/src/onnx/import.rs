//! ONNX protobuf → [`FloatGraph`]: Gemm, MatMul (+ Add as bias), Relu, Flatten, Reshape,
//! Identity/Dropout, Constant.
//!
//! tract-onnx decodes the protobuf and the tensors; this file only interprets nodes. The graph
//! must be a chain over one input whose weights are constants — any other node is reported
//! with its op type and name, so the user knows exactly what to change.

use std::collections::HashMap;
use std::path::Path;

use tract_onnx::data_resolver::FopenDataResolver;
use tract_onnx::pb::{
    AttributeProto, ModelProto, NodeProto, TensorProto, ValueInfoProto,
    tensor_shape_proto::dimension, type_proto,
};
use tract_onnx::prelude::{Framework, Tensor};

use super::float::{FloatGraph, FloatOp};
use crate::error::ModelError;

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
    if inputs.len() != 1 {
        return Err(ModelError::Invalid(format!(
            "the graph has {} inputs; models with exactly one input are supported",
            inputs.len()
        )));
    }
    let dims = input_dims(inputs[0])?;
    // A leading symbolic (or 1) dimension on a rank ≥ 2 input is the batch: we prove batch 1.
    let has_batch = dims.len() >= 2 && matches!(dims[0], None | Some(1));
    let body = if has_batch { &dims[1..] } else { &dims[..] };
    let input_shape = body
        .iter()
        .map(|d| {
            d.ok_or_else(|| {
                ModelError::Invalid(format!(
                    "graph input `{}` has a symbolic dimension other than the batch",
                    inputs[0].name
                ))
            })
        })
        .collect::<Result<Vec<usize>, _>>()?;

    let mut current = inputs[0].name.clone();
    let mut shape = input_shape.clone();
    let mut ops: Vec<FloatOp> = Vec::new();

    for node in &graph.node {
        let name = node_name(node);
        // Every op here has exactly one result; a node without one (a malformed graph) would
        // leave the chain with nothing to follow.
        let Some(output) = node.output.first().filter(|o| !o.is_empty()) else {
            return Err(ModelError::Invalid(format!(
                "node `{name}` ({}) has no output",
                node.op_type
            )));
        };
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
        if !node.input.contains(&current) {
            return Err(ModelError::Invalid(format!(
                "node `{name}` ({}) does not consume the running activation `{current}`; only \
                 chains of ops over one input are supported",
                node.op_type
            )));
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
        let len: usize = shape.iter().product();
        match node.op_type.as_str() {
            "Gemm" => {
                if node.input[0] != current {
                    return Err(ModelError::Invalid(format!(
                        "Gemm `{name}`: the activation must be input A"
                    )));
                }
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
                        "Gemm `{name}`: input A of shape {full:?} (transA={}) is not a single                          row; only batch-1 vectors through a dense layer are supported",
                        attr_i(node, "transA", 0)
                    )));
                }
                let b = operand(1)?;
                let (w, n) = dense_weights(&name, b, len, trans_b, alpha as f64)?;
                let bias = match node.input.get(2).filter(|s| !s.is_empty()) {
                    Some(_) => broadcast_bias(&name, operand(2)?, n, beta as f64)?,
                    None => vec![0.0; n],
                };
                ops.push(FloatOp::Dense {
                    name: name.clone(),
                    in_features: len,
                    out_features: n,
                    weights: w,
                    bias,
                });
                shape = vec![n];
            }
            "MatMul" => {
                if node.input[0] != current {
                    return Err(ModelError::Invalid(format!(
                        "MatMul `{name}`: the activation must be the left operand"
                    )));
                }
                let (w, n) = dense_weights(&name, operand(1)?, len, false, 1.0)?;
                ops.push(FloatOp::Dense {
                    name: name.clone(),
                    in_features: len,
                    out_features: n,
                    weights: w,
                    bias: vec![0.0; n],
                });
                shape = vec![n];
            }
            "Add" => {
                let other = if node.input[0] == current { 1 } else { 0 };
                let c = operand(other)?;
                match ops.last_mut() {
                    Some(FloatOp::Dense {
                        bias, out_features, ..
                    }) => {
                        let add = broadcast_bias(&name, c, *out_features, 1.0)?;
                        bias.iter_mut().zip(add).for_each(|(b, a)| *b += a);
                    }
                    _ => {
                        return Err(ModelError::UnsupportedOp {
                            op_type: "Add (other than a bias after MatMul/Gemm)".into(),
                            node: name.clone(),
                        });
                    }
                }
            }
            "Relu" => ops.push(FloatOp::Relu),
            "Flatten" => {
                shape = vec![len];
                ops.push(FloatOp::Reshape {
                    shape: shape.clone(),
                });
            }
            "Reshape" => {
                let target = operand(1)?;
                shape = resolve_reshape(&name, &target.data, &shape, has_batch)?;
                ops.push(FloatOp::Reshape {
                    shape: shape.clone(),
                });
            }
            "Identity" | "Dropout" => {}
            _ => return Err(unsupported()),
        }
        current = output.clone();
    }

    match graph.output.as_slice() {
        [out] if out.name == current => {}
        [out] => {
            return Err(ModelError::Invalid(format!(
                "graph output `{}` is not the end of the op chain (`{current}`)",
                out.name
            )));
        }
        outs => {
            return Err(ModelError::Invalid(format!(
                "the graph has {} outputs; models with exactly one output are supported",
                outs.len()
            )));
        }
    }

    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    Ok(FloatGraph {
        name,
        input_shape,
        has_batch,
        ops,
    })
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
}
