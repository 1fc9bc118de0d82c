//! ONNX protobuf → [`FloatGraph`]: the graph's inputs and outputs, and each node in order —
//! folded to a constant when its operands are constants ([`super::fold`]), else handed to its
//! op's import module through the registry ([`super::registry`]).
//!
//! tract-onnx decodes the protobuf and the tensors ([`super::proto`]); this file only walks
//! the graph. The graph may branch and join (residual connections) and have several inputs;
//! weights must be constants. Any other node is reported with its op type and name, so the
//! user knows exactly what to change.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use tract_onnx::pb::{ModelProto, ValueInfoProto};
use tract_onnx::prelude::Framework;

use super::ctx::Ctx;
use super::float::{FloatGraph, FloatNode};
use super::fold::fold_constant;
use super::proto::{Const, input_dims, load, node_name, onnx_err};
use super::registry;
use crate::error::OnnxError;

/// Parses an ONNX file into a float chain.
pub fn import_float_graph(path: &Path) -> Result<FloatGraph, OnnxError> {
    if !path.exists() {
        return Err(OnnxError::io(
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
fn graph_from_proto(proto: &ModelProto, path: &Path) -> Result<FloatGraph, OnnxError> {
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
        return Err(OnnxError::Invalid(
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
            return Err(OnnxError::Invalid(format!(
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
                    OnnxError::Invalid(format!(
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

    // Tensors without the batch dimension (an op made their leading dimension other than 1, or
    // their rank 1): their shape here is their whole ONNX shape. Every other tensor's ONNX
    // shape is `[1] + shape` when the graph has a batch.
    let mut unbatched: HashSet<usize> = HashSet::new();
    for node in &graph.node {
        let name = node_name(node);
        // Every op here has exactly one result; a node without one (a malformed graph) would
        // leave its readers with nothing to read.
        let Some(output) = node.output.first().filter(|o| !o.is_empty()) else {
            return Err(OnnxError::Invalid(format!(
                "node `{name}` ({}) has no output",
                node.op_type
            )));
        };
        let Some(op) = registry::lookup(&node.op_type) else {
            return Err(OnnxError::UnsupportedOp {
                op_type: node.op_type.clone(),
                node: name,
            });
        };
        // Constants, and data movement over constants (shape computations, constant tables),
        // fold to a constant at import.
        let folding = (op.fold, op.function);
        if let Some(c) = fold_constant(
            node, folding, &consts, &ids, &shapes, has_batch, &unbatched, dir,
        )? {
            consts.insert(output.clone(), c);
            continue;
        }
        let mut cx = Ctx {
            node,
            name: &name,
            consts: &consts,
            readers: &readers,
            has_batch,
            opset,
            n_in,
            nodes: &mut nodes,
            shapes: &mut shapes,
            ids: &mut ids,
            unbatched: &mut unbatched,
            function: op.function,
        };
        let id = (op.import)(&mut cx)?;
        ids.insert(output.clone(), id);
    }

    if graph.output.is_empty() {
        return Err(OnnxError::Invalid("the graph has no output".into()));
    }
    let outputs = graph
        .output
        .iter()
        .map(|o| {
            ids.get(&o.name).copied().ok_or_else(|| {
                OnnxError::Invalid(format!(
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
    use crate::FloatOp;
    use tract_onnx::pb::{AttributeProto, TensorProto};

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
                refusal("Resize", vec![text_attr("mode", "cubic")], &["x"]),
                "Resize in mode `cubic` (only nearest and linear)",
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
                .any(|n| n.op == zkw_model::ops::Op::Add(zkw_model::ops::Add))
        );
        let q = zkw_model::input::quantize_input(&model.input_info(), &x).unwrap();
        let got = zkw_model::run(&model, &q).unwrap().output();
        let want = &g.run(&x).unwrap()[g.outputs[0]];
        let out = model.output_info().unwrap();
        let range = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (a, b) in got.iter().zip(want) {
            let a = zkw_model::input::dequantize(*a, out.frac_bits);
            assert!((a - b).abs() <= 0.05 * range, "{a} vs {b} (range {range})");
        }
    }

    /// A BatchNormalization after a dense layer folds into that layer (no node of its own)
    /// and computes what the unfolded per-channel map computes, which it stays when the
    /// layer's output has another reader.
    #[test]
    fn batch_norm_folds_into_the_layer_before() {
        let with_bn = |also_output: bool| {
            let (mut proto, path) = digits();
            let graph = proto.graph.as_mut().unwrap();
            let first = graph.node[0].output[0].clone();
            let n = graph.initializer[1].dims.iter().product::<i64>() as usize;
            let tensor = |name: &str, v: Vec<f32>| TensorProto {
                name: name.into(),
                dims: vec![n as i64],
                data_type: 1,
                float_data: v,
                ..Default::default()
            };
            let ramp = |a: f32, b: f32| (0..n).map(|i| a + b * i as f32).collect::<Vec<f32>>();
            graph.initializer.extend([
                tensor("bn_scale", ramp(0.5, 0.1)),
                tensor("bn_bias", ramp(-0.2, 0.03)),
                tensor("bn_mean", ramp(0.1, -0.02)),
                tensor("bn_var", ramp(0.3, 0.05)),
            ]);
            let mut bn = graph.node[0].clone();
            bn.op_type = "BatchNormalization".into();
            bn.name = "bn".into();
            bn.input = ["bn_scale", "bn_bias", "bn_mean", "bn_var"]
                .iter()
                .map(|s| s.to_string())
                .collect();
            bn.input.insert(0, first.clone());
            bn.output = vec!["normalized".into()];
            bn.attribute.clear();
            for node in graph.node.iter_mut().skip(1) {
                for i in node.input.iter_mut().filter(|i| **i == first) {
                    *i = "normalized".into();
                }
            }
            graph.node.insert(1, bn);
            if also_output {
                let mut out = graph.output[0].clone();
                out.name = first;
                graph.output.push(out);
            }
            graph_from_proto(&proto, &path).unwrap()
        };
        let (folded, kept) = (with_bn(false), with_bn(true));
        assert!(folded.nodes.iter().all(|n| n.name != "bn"));
        assert!(kept.nodes.iter().any(|n| n.name == "bn"));
        assert_eq!(kept.nodes.len(), folded.nodes.len() + 1);
        let x: Vec<f64> = (0..folded.input_len())
            .map(|i| (i % 5) as f64 / 5.0)
            .collect();
        let (a, b) = (folded.run(&x).unwrap(), kept.run(&x).unwrap());
        let (a, b) = (&a[folded.outputs[0]], &b[kept.outputs[0]]);
        for (u, v) in a.iter().zip(b) {
            assert!((u - v).abs() < 1e-9, "{u} vs {v}");
        }
    }
}
