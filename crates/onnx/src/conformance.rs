//! External conformance cases: a folder of ONNX models, each held to another runtime's float
//! output. `zkw conformance` runs them (and proves each); the CLI's tests hold the corpus's
//! results (CONFORMANCE.md) to them.
//!
//! A case folder holds `network.onnx`, `input.json` (EZKL's format) and, where a reference
//! exists, `expected.json` (`{"output_data": [[…]]}`, onnxruntime's float output). A
//! `MANIFEST.tsv` beside the cases gives each one's tier (`core`, `extended`).
//!
//! The tolerance rule ([`QuantizationError::within_tolerance`]): a case passes when every
//! output value is within 5% of the output's range (its largest magnitude) plus two
//! quantization steps of the reference.

use std::path::Path;

use zkw_model::Model;
use zkw_model::input::{dequantize, parse_input_json, quantize_input};

use crate::error::OnnxError;
use crate::{QuantizationError, QuantizeOptions, import_float_graph, quantize};

/// One case of a folder: its name and, from the manifest, its tier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// The case's folder name.
    pub name: String,
    /// `core` or `extended`, when the manifest gives one.
    pub tier: Option<String>,
}

/// The cases of `dir`: the manifest's rows, or every subfolder holding a `network.onnx`.
pub fn cases(dir: &Path) -> Result<Vec<Case>, OnnxError> {
    let manifest = dir.join("MANIFEST.tsv");
    if manifest.is_file() {
        let text = std::fs::read_to_string(&manifest).map_err(|e| OnnxError::io(&manifest, e))?;
        return Ok(text
            .lines()
            .skip(1)
            .filter_map(|l| {
                let mut cols = l.split('\t');
                Some(Case {
                    name: cols.next()?.to_string(),
                    tier: cols.next().map(str::to_string),
                })
            })
            .collect());
    }
    let mut cases: Vec<Case> = std::fs::read_dir(dir)
        .map_err(|e| OnnxError::io(dir, e))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("network.onnx").is_file())
        .map(|e| Case {
            name: e.file_name().to_string_lossy().into_owned(),
            tier: None,
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(cases)
}

/// A case imported, quantized on its own input and compared with its float reference.
#[derive(Debug)]
pub struct Checked {
    /// The quantized model.
    pub model: Model,
    /// The case's input, quantized to the model's input format.
    pub input: Vec<i64>,
    /// How far the model's output is from the reference's.
    pub error: QuantizationError,
}

/// Imports the case in `dir` calibrated on its input, runs it and compares the output with
/// the reference; whether it is within tolerance is [`QuantizationError::within_tolerance`].
pub fn check(dir: &Path) -> Result<Checked, OnnxError> {
    let graph = import_float_graph(&dir.join("network.onnx"))?;
    let input_path = dir.join("input.json");
    let text = std::fs::read_to_string(&input_path).map_err(|e| OnnxError::io(&input_path, e))?;
    let x: Vec<f64> = parse_input_json(&text, &input_path)?.concat();
    let model = quantize(&graph, &QuantizeOptions::default(), Some(&x))?;
    let input = quantize_input(&model.input_info(), &x)?;
    let out = model.output_info()?;
    let got: Vec<f64> = zkw_model::run(&model, &input)?
        .output()
        .iter()
        .map(|&v| dequantize(v, out.frac_bits))
        .collect();
    let error = QuantizationError::between(reference(dir)?, got, out.frac_bits)?;
    Ok(Checked {
        model,
        input,
        error,
    })
}

/// The reference's float output: `expected.json`'s `output_data`, flattened.
pub fn reference(dir: &Path) -> Result<Vec<f64>, OnnxError> {
    let path = dir.join("expected.json");
    let bad = |reason: String| OnnxError::BadCase {
        path: path.clone(),
        reason,
    };
    let bytes = std::fs::read(&path).map_err(OnnxError::NoReference)?;
    let v: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| bad(format!("not JSON ({e})")))?;
    let outputs = v["output_data"]
        .as_array()
        .ok_or_else(|| bad("no output_data".into()))?;
    Ok(outputs
        .iter()
        .filter_map(|o| o.as_array())
        .flatten()
        .map(|x| x.as_f64().unwrap_or(f64::NAN))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases_come_from_the_manifest_or_the_folders() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b", "a"] {
            std::fs::create_dir(dir.path().join(name)).unwrap();
            std::fs::write(dir.path().join(name).join("network.onnx"), b"").unwrap();
        }
        std::fs::create_dir(dir.path().join("not-a-case")).unwrap();
        let names: Vec<String> = cases(dir.path())
            .unwrap()
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(names, ["a", "b"]);
        std::fs::write(
            dir.path().join("MANIFEST.tsv"),
            "case\ttier\nb\tcore\nz\textended\n",
        )
        .unwrap();
        assert_eq!(
            cases(dir.path()).unwrap(),
            [
                Case {
                    name: "b".into(),
                    tier: Some("core".into())
                },
                Case {
                    name: "z".into(),
                    tier: Some("extended".into())
                },
            ]
        );
    }

    #[test]
    fn a_missing_or_malformed_reference_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = reference(dir.path()).unwrap_err().to_string();
        assert!(
            err.starts_with("no float reference (expected.json): "),
            "{err}"
        );
        std::fs::write(dir.path().join("expected.json"), b"{").unwrap();
        let err = reference(dir.path()).unwrap_err().to_string();
        assert!(err.contains("expected.json: not JSON ("), "{err}");
        std::fs::write(dir.path().join("expected.json"), b"{}").unwrap();
        let err = reference(dir.path()).unwrap_err().to_string();
        assert!(err.ends_with("expected.json: no output_data"), "{err}");
        std::fs::write(
            dir.path().join("expected.json"),
            br#"{"output_data": [[1, 2.5], [3]]}"#,
        )
        .unwrap();
        assert_eq!(reference(dir.path()).unwrap(), [1.0, 2.5, 3.0]);
    }
}
