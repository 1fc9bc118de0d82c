//! ONNX ops the conformance corpus does not exercise, each in a small graph written here and
//! held to tract's float run of the same file: the imported float graph must compute what
//! ONNX says (to f32 precision), and the quantized model must come within the quantization
//! tolerance of it.

use std::path::{Path, PathBuf};

use prost::Message;
use tract_onnx::pb::tensor_shape_proto::{Dimension, dimension};
use tract_onnx::pb::type_proto::{Tensor, Value};
use tract_onnx::pb::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto,
};
use zkw_model::input::{dequantize, quantize_input};
use zkw_onnx::{
    QuantizationError, QuantizeOptions, import_float_graph, quantize, run_float_reference,
};

fn value_info(name: &str, shape: &[usize]) -> ValueInfoProto {
    let dim = shape
        .iter()
        .map(|&d| Dimension {
            value: Some(dimension::Value::DimValue(d as i64)),
            ..Default::default()
        })
        .collect();
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            value: Some(Value::TensorType(Tensor {
                elem_type: 1,
                shape: (!shape.is_empty()).then_some(TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn floats(name: &str, shape: &[usize], data: &[f32]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: shape.iter().map(|&d| d as i64).collect(),
        data_type: 1,
        float_data: data.to_vec(),
        ..Default::default()
    }
}

fn text(name: &str, s: &str) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        s: s.as_bytes().to_vec(),
        r#type: 3,
        ..Default::default()
    }
}

fn int(name: &str, i: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        i,
        r#type: 2,
        ..Default::default()
    }
}

fn node(op: &str, inputs: &[&str], output: &str, attribute: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        op_type: op.into(),
        name: output.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        attribute,
        ..Default::default()
    }
}

/// Writes a graph from input `x` (ONNX shape `shape`) through `nodes` to output `y`.
fn write(
    dir: &Path,
    name: &str,
    opset: i64,
    shape: &[usize],
    nodes: Vec<NodeProto>,
    initializer: Vec<TensorProto>,
) -> PathBuf {
    let model = ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: opset,
        }],
        graph: Some(GraphProto {
            name: name.into(),
            node: nodes,
            initializer,
            input: vec![value_info("x", shape)],
            output: vec![value_info("y", &[])],
            ..Default::default()
        }),
        ..Default::default()
    };
    let path = dir.join(format!("{name}.onnx"));
    std::fs::write(&path, model.encode_to_vec()).unwrap();
    path
}

/// The imported graph against tract on a spread of inputs, then the quantized model against
/// the float graph.
fn check(path: &Path) {
    let graph = import_float_graph(path).unwrap();
    let len: usize = graph.input_len();
    let x: Vec<f64> = (0..len)
        .map(|i| ((i * 37 % 23) as f64 - 11.0) / 5.0)
        .collect();
    let ours = graph.run(&x).unwrap()[graph.outputs[0]].clone();
    let theirs = run_float_reference(path, &graph.inputs, graph.has_batch, &x).unwrap();
    let name = path.display();
    assert_eq!(ours.len(), theirs.len(), "{name}: output length");
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert!(
            (a - b).abs() <= 1e-4 * (1.0 + b.abs()),
            "{name}: value {i}: ours {a}, tract {b}"
        );
    }
    let model = quantize(&graph, &QuantizeOptions::default(), Some(&x)).unwrap();
    let q = quantize_input(&model.input_info(), &x).unwrap();
    let out = model.output_info().unwrap();
    let got = zkw_model::run(&model, &q).unwrap().output();
    let got = got.iter().map(|&v| dequantize(v, out.frac_bits)).collect();
    let e = QuantizationError::between(theirs, got, out.frac_bits).unwrap();
    assert!(
        e.within_tolerance(),
        "{name}: quantized {:?}, float {:?} (error {}, tolerance {})",
        e.quantized,
        e.float,
        e.max_abs,
        e.tolerance()
    );
}

#[test]
fn resize_linear_in_every_coordinate_transformation() {
    let dir = tempfile::tempdir().unwrap();
    let shape = [1, 2, 3, 4];
    for (k, (scales, mode)) in [
        (vec![1.0, 1.0, 2.0, 1.5], "half_pixel"),
        (vec![1.0, 1.0, 2.0, 1.5], "asymmetric"),
        (vec![1.0, 1.0, 2.0, 2.0], "align_corners"),
        (vec![1.0, 1.0, 2.0, 2.0], "pytorch_half_pixel"),
        (vec![1.0, 1.0, 1.0, 0.5], "half_pixel"),
        (vec![1.0, 1.0, 3.0, 1.0], "half_pixel"),
    ]
    .into_iter()
    .enumerate()
    {
        let resize = node(
            "Resize",
            &["x", "", "scales"],
            "y",
            vec![
                text("mode", "linear"),
                text("coordinate_transformation_mode", mode),
            ],
        );
        let path = write(
            dir.path(),
            &format!("resize_{k}_{mode}"),
            13,
            &shape,
            vec![resize],
            vec![floats("scales", &[4], &scales)],
        );
        check(&path);
    }
}

#[test]
fn resize_nearest_in_every_rounding_mode() {
    let dir = tempfile::tempdir().unwrap();
    for rounding in ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"] {
        let resize = node(
            "Resize",
            &["x", "", "scales"],
            "y",
            vec![text("mode", "nearest"), text("nearest_mode", rounding)],
        );
        let path = write(
            dir.path(),
            &format!("nearest_{rounding}"),
            13,
            &[1, 1, 3, 4],
            vec![resize],
            vec![floats("scales", &[4], &[1.0, 1.0, 1.5, 2.5])],
        );
        check(&path);
    }
}

#[test]
fn log_softmax_over_the_last_axis_and_before_opset_13() {
    let dir = tempfile::tempdir().unwrap();
    for (opset, axis) in [(13, -1), (13, 2), (11, 1), (11, 2)] {
        let ls = node("LogSoftmax", &["x"], "y", vec![int("axis", axis)]);
        let path = write(
            dir.path(),
            &format!("log_softmax_{opset}_{axis}"),
            opset,
            &[1, 3, 5],
            vec![ls],
            vec![],
        );
        check(&path);
    }
    // Another axis is refused by name.
    let ls = node("LogSoftmax", &["x"], "y", vec![int("axis", 1)]);
    let path = write(
        dir.path(),
        "log_softmax_axis1",
        13,
        &[1, 3, 5],
        vec![ls],
        vec![],
    );
    assert_eq!(
        import_float_graph(&path).unwrap_err().to_string(),
        "unsupported ONNX op `LogSoftmax over axis 1 of a tensor of rank 3 (only the last)` \
         (node `y`)"
    );
}

#[test]
fn gelu_exact_and_tanh() {
    let dir = tempfile::tempdir().unwrap();
    for approximate in ["none", "tanh"] {
        let gelu = node("Gelu", &["x"], "y", vec![text("approximate", approximate)]);
        let path = write(
            dir.path(),
            &format!("gelu_{approximate}"),
            20,
            &[1, 12],
            vec![gelu],
            vec![],
        );
        check(&path);
    }
}

#[test]
fn non_zero_of_a_constant_folds_into_indices() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = vec![
        node("NonZero", &["mask"], "at", vec![]),
        node("Gather", &["x", "at"], "y", vec![int("axis", 1)]),
    ];
    let mask = floats("mask", &[6], &[0.0, 1.0, 0.0, 2.0, -1.0, 0.0]);
    let path = write(dir.path(), "non_zero", 13, &[1, 6], nodes, vec![mask]);
    check(&path);
    let graph = import_float_graph(&path).unwrap();
    assert_eq!(
        graph.run(&[10.0, 11.0, 12.0, 13.0, 14.0, 15.0]).unwrap()[1],
        [11.0, 13.0, 14.0]
    );
}

/// Where with a constant condition (an attention mask): a selection between the computed
/// branch and the scalar, broadcast — and between two computed branches.
#[test]
fn where_with_a_constant_mask() {
    let dir = tempfile::tempdir().unwrap();
    let mask: Vec<f32> = (0..12).map(|i| ((i % 4) <= i / 4) as i32 as f32).collect();
    let nodes = vec![node("Where", &["mask", "x", "low"], "y", vec![])];
    let inits = vec![
        TensorProto {
            name: "mask".into(),
            dims: vec![3, 4],
            data_type: 9,
            int32_data: mask.iter().map(|&m| m as i32).collect(),
            ..Default::default()
        },
        floats("low", &[], &[-4.0]),
    ];
    let path = write(dir.path(), "where_mask", 13, &[1, 3, 4], nodes, inits);
    check(&path);
    let nodes = vec![
        node("Neg", &["x"], "n", vec![]),
        node("Where", &["mask", "x", "n"], "y", vec![]),
    ];
    let inits = vec![TensorProto {
        name: "mask".into(),
        dims: vec![4],
        data_type: 9,
        int32_data: vec![1, 0, 0, 1],
        ..Default::default()
    }];
    let path = write(dir.path(), "where_two", 13, &[1, 3, 4], nodes, inits);
    check(&path);
}
