//! `zkw conformance` over the in-repo EZKL corpus, with proving: every case either passes
//! (imports, runs within tolerance of onnxruntime, proves and verifies) or fails with a reason
//! that names what stops it; a case made only of supported ops must pass.

use std::process::Command;

/// The ONNX ops the importer handles (in some form: see README's table for the limits).
const SUPPORTED: &[&str] = &[
    "Gemm",
    "MatMul",
    "Conv",
    "BatchNormalization",
    "MaxPool",
    "AveragePool",
    "GlobalAveragePool",
    "GlobalMaxPool",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Pow",
    "Min",
    "Max",
    "Relu",
    "Flatten",
    "Reshape",
    "Identity",
    "Dropout",
    "Constant",
    "Sigmoid",
    "Tanh",
    "Erf",
    "Exp",
    "Log",
    "Sqrt",
    "Reciprocal",
    "Abs",
    "Neg",
    "Sign",
    "Ceil",
    "Floor",
    "Round",
    "Sin",
    "Cos",
    "Tan",
    "Asin",
    "Acos",
    "Atan",
    "Sinh",
    "Cosh",
    "Asinh",
    "Acosh",
    "Atanh",
    "Softplus",
    "Softsign",
    "Not",
    "Elu",
    "Selu",
    "Celu",
    "LeakyRelu",
    "HardSigmoid",
    "HardSwish",
    "ThresholdedRelu",
    "Mish",
    "Clip",
    "Cast",
    "Softmax",
    "Less",
    "LessOrEqual",
    "Greater",
    "GreaterOrEqual",
    "Equal",
    "And",
    "Or",
    "Xor",
    "Where",
    "Concat",
    "Transpose",
    "Slice",
    "Pad",
    "Gather",
    "Expand",
    "Tile",
    "Split",
    "Squeeze",
    "Unsqueeze",
    "ReduceSum",
    "ReduceMean",
    "ReduceMax",
    "ReduceMin",
    "PRelu",
    "Shape",
    "ConstantOfShape",
    "Range",
];

/// Cases made only of supported ops that still fail, and why (each is a known limit, listed
/// in CONFORMANCE.md).
const KNOWN_FAILING: &[(&str, &str)] = &[
    ("arange", "the graph has no input that is not a constant"),
    // Axis-0 ops on tensors whose leading 1 is taken for the batch dimension.
    ("1l_average", "changes the batch dimension"),
    ("sklearn_mlp", "changes the batch dimension"),
    ("ltsf", "permutation [0, 2, 1] of shape [1, 24]"),
    (
        "linear_svc",
        "is neither a graph input nor an earlier node's output",
    ),
    // MatMul with constant weights over the last axis of a 3-D tensor (applied to the
    // flattened tensor today).
    ("multihead_attention", "does not match 2048 input features"),
    ("self_attention", "does not match 4096 input features"),
    // Two of its four input arrays are unused by the graph.
    ("bitwise_ops", "input has 12 values, the model expects 6"),
    // int8 through a 41-wide Gemm and PRelu: the output range (0.07) is below the scale
    // the calibration leaves it.
    ("prelu_gmm", "beyond the tolerance"),
];

#[test]
fn every_ezkl_case_passes_or_names_what_stops_it() {
    let dir = zkworker::conformance_dir();
    let o = Command::new(env!("CARGO_BIN_EXE_zkw"))
        .args(["conformance", dir.to_str().unwrap()])
        .env("XDG_RUNTIME_DIR", "/tmp")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    // Some cases fail (unsupported ops), so the command exits 1, not 2 (an error).
    assert_eq!(
        o.status.code(),
        Some(1),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap();
    let mut passed = 0;
    for line in manifest.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (name, ops) = (cols[0], cols[2]);
        let row = out
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap_or_else(|| panic!("no row for {name}:\n{out}"));
        let cells: Vec<&str> = row.split(" | ").collect();
        if cells[1] == "pass" {
            passed += 1;
            assert!(row.contains(" s |"), "{name} passed without a proof: {row}");
            continue;
        }
        let reason = cells.last().unwrap();
        let supported = ops.split(',').all(|op| SUPPORTED.contains(&op));
        match KNOWN_FAILING.iter().find(|(n, _)| *n == name) {
            Some((_, why)) => assert!(reason.contains(why), "{name}: {reason}"),
            None => assert!(
                !supported,
                "{name} ({ops}) uses only supported ops: {reason}"
            ),
        }
        // A reason that names the op and node, or the feature.
        assert!(
            reason.contains("unsupported ONNX op `")
                || reason.contains("invalid model")
                || reason.contains("no float reference")
                || KNOWN_FAILING.iter().any(|(n, _)| *n == name),
            "{name}: {reason}"
        );
    }
    assert!(passed >= 58, "only {passed} cases passed:\n{out}");
    assert!(out.contains(&format!("{passed} passed, ")), "{out}");
}
