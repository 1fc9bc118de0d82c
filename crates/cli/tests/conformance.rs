//! `zkw conformance` over the in-repo EZKL corpus, with proving: every case either passes
//! (imports, runs within tolerance of onnxruntime, proves and verifies) or fails with a reason
//! that names what stops it; a case made only of supported ops must pass.

use std::process::Command;

const SUPPORTED: &[&str] = &[
    "Gemm",
    "MatMul",
    "Conv",
    "BatchNormalization",
    "MaxPool",
    "Add",
    "Relu",
    "Flatten",
    "Reshape",
    "Identity",
    "Constant",
];

/// Cases made only of supported ops that still fail, and why.
const KNOWN_FAILING: &[(&str, &str)] = &[
    ("arange", "the graph has no input that is not a constant"),
    ("blackman_window", "Add of a constant"),
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
                || reason.contains("no float reference"),
            "{name}: {reason}"
        );
    }
    assert!(passed >= 19, "only {passed} cases passed:\n{out}");
    assert!(out.contains(&format!("{passed} passed, ")), "{out}");
}
