//! Writes `benches/models/lenet5/`: a LeNet-5-size CNN as ONNX (opset 13) with seeded random
//! weights, and an input — the benchmark the graph-IR issue asks for, built here because the
//! model must be reproducible byte for byte from this repository.
//!
//! ```text
//! cargo run --example lenet5            # writes benches/models/lenet5/{network.onnx,input.json}
//! ```
//!
//! conv 5×5 (1 → 6, pad 2) → ReLU → max pool 2 → conv 5×5 (6 → 16) → ReLU → max pool 2 →
//! flatten (400) → dense 120 → ReLU → dense 84 → ReLU → dense 10; input 1×28×28.

use std::path::Path;

use prost::Message;
use tract_onnx::pb::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto, tensor_shape_proto::Dimension,
    tensor_shape_proto::dimension, type_proto,
};

/// xorshift64*: a fixed stream of numbers in [-1, 1).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let v = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        (v >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

fn tensor(rng: &mut Rng, name: &str, dims: &[i64], fan_in: usize) -> TensorProto {
    let n: i64 = dims.iter().product();
    let bound = 1.0 / (fan_in as f64).sqrt();
    TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: 1,
        float_data: (0..n).map(|_| (rng.next() * bound) as f32).collect(),
        ..Default::default()
    }
}

fn ints(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: 7,
        ints: v.to_vec(),
        ..Default::default()
    }
}

fn int(name: &str, v: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: 2,
        i: v,
        ..Default::default()
    }
}

fn node(op: &str, name: &str, inputs: &[&str], attrs: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        op_type: op.into(),
        name: name.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![format!("{name}_out")],
        attribute: attrs,
        ..Default::default()
    }
}

fn value(name: &str, dims: &[i64]) -> ValueInfoProto {
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: 1,
                shape: Some(TensorShapeProto {
                    dim: dims
                        .iter()
                        .map(|&d| Dimension {
                            value: Some(dimension::Value::DimValue(d)),
                            ..Default::default()
                        })
                        .collect(),
                }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn main() {
    let mut rng = Rng(0x5eed_1e5e_7000_0005);
    let init = vec![
        tensor(&mut rng, "conv1.w", &[6, 1, 5, 5], 25),
        tensor(&mut rng, "conv1.b", &[6], 25),
        tensor(&mut rng, "conv2.w", &[16, 6, 5, 5], 150),
        tensor(&mut rng, "conv2.b", &[16], 150),
        tensor(&mut rng, "fc1.w", &[120, 400], 400),
        tensor(&mut rng, "fc1.b", &[120], 400),
        tensor(&mut rng, "fc2.w", &[84, 120], 120),
        tensor(&mut rng, "fc2.b", &[84], 120),
        tensor(&mut rng, "fc3.w", &[10, 84], 84),
        tensor(&mut rng, "fc3.b", &[10], 84),
    ];
    let k5 = || ints("kernel_shape", &[5, 5]);
    let pool = || vec![ints("kernel_shape", &[2, 2]), ints("strides", &[2, 2])];
    let mut nodes = vec![
        node(
            "Conv",
            "conv1",
            &["input", "conv1.w", "conv1.b"],
            vec![k5(), ints("pads", &[2, 2, 2, 2])],
        ),
        node("Relu", "relu1", &["conv1_out"], vec![]),
        node("MaxPool", "pool1", &["relu1_out"], pool()),
        node(
            "Conv",
            "conv2",
            &["pool1_out", "conv2.w", "conv2.b"],
            vec![k5()],
        ),
        node("Relu", "relu2", &["conv2_out"], vec![]),
        node("MaxPool", "pool2", &["relu2_out"], pool()),
        node("Flatten", "flatten", &["pool2_out"], vec![int("axis", 1)]),
        node(
            "Gemm",
            "fc1",
            &["flatten_out", "fc1.w", "fc1.b"],
            vec![int("transB", 1)],
        ),
        node("Relu", "relu3", &["fc1_out"], vec![]),
        node(
            "Gemm",
            "fc2",
            &["relu3_out", "fc2.w", "fc2.b"],
            vec![int("transB", 1)],
        ),
        node("Relu", "relu4", &["fc2_out"], vec![]),
        node(
            "Gemm",
            "fc3",
            &["relu4_out", "fc3.w", "fc3.b"],
            vec![int("transB", 1)],
        ),
    ];
    nodes.last_mut().unwrap().output = vec!["output".into()];
    let model = ModelProto {
        ir_version: 8,
        producer_name: "zkworker examples/lenet5.rs".into(),
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: 13,
        }],
        graph: Some(GraphProto {
            name: "lenet5".into(),
            node: nodes,
            initializer: init,
            input: vec![value("input", &[1, 1, 28, 28])],
            output: vec![value("output", &[1, 10])],
            ..Default::default()
        }),
        ..Default::default()
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/models/lenet5");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("network.onnx"), model.encode_to_vec()).unwrap();
    // A blurred ring, values in [0, 1]: something digit-like for the calibration.
    let input: Vec<f64> = (0..28 * 28)
        .map(|i| {
            let (y, x) = ((i / 28) as f64 - 13.5, (i % 28) as f64 - 13.5);
            let r = (x * x + y * y).sqrt();
            (1.0 - ((r - 8.0) / 3.0).powi(2)).max(0.0)
        })
        .collect();
    let json = serde_json::json!({ "input_data": [input] });
    std::fs::write(dir.join("input.json"), json.to_string()).unwrap();
    println!("wrote {}", dir.display());
}
