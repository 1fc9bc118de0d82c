//! GPU == reference, every tensor of the trace, on every conformance model the reference runs
//! (the EZKL corpus in `tests/conformance/ezkl`, imported and calibrated on its own input).

mod common;

use std::path::Path;

use zkw_model::input::{parse_input_json, quantize_input};
use zkw_model::{Executor, Reference};
use zkw_onnx::{QuantizeOptions, import_float_graph, quantize};

#[test]
fn every_conformance_model_the_reference_runs() {
    let Some(gpu) = common::gpu() else {
        return;
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance/ezkl");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("network.onnx").is_file())
        .collect();
    cases.sort();
    let mut compared = 0;
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy();
        // Cases the importer or the reference refuses are conformance's business, not ours.
        let Ok(graph) = import_float_graph(&case.join("network.onnx")) else {
            continue;
        };
        let input = case.join("input.json");
        let Ok(x) = std::fs::read_to_string(&input)
            .map_err(|_| ())
            .and_then(|t| parse_input_json(&t, &input).map_err(|_| ()))
        else {
            continue;
        };
        let x = x.concat();
        let Ok(model) = quantize(&graph, &QuantizeOptions::default(), Some(&x)) else {
            continue;
        };
        let Ok(q) = quantize_input(&model.input_info(), &x) else {
            continue;
        };
        let Ok(want) = Reference.run(&model, &q) else {
            continue;
        };
        let got = gpu
            .run(&model, &q)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        for (t, (g, w)) in got.tensors.iter().zip(&want.tensors).enumerate() {
            assert_eq!(g, w, "{name}: tensor #{t}");
        }
        assert_eq!(got, want, "{name}");
        compared += 1;
    }
    eprintln!("{compared} conformance models: GPU == reference");
    // The corpus has 78 cases the reference runs; a drop means cases stopped being compared.
    assert!(
        compared >= 78,
        "only {compared} conformance models compared"
    );
}
