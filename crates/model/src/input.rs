//! Input files and the float ↔ integer edge.
//!
//! Inputs use EZKL's format, `{"input_data": [[x0, x1, ...]]}` (one flattened float array per
//! graph input), so the same files drive EZKL and zkworker. Quantization happens here, at the
//! edge, and nowhere in anything proved: `q = clamp(round(x · 2^frac_bits))` — a value beyond
//! the calibrated range saturates, like any int8 pipeline.
//!
//! A client's input file may also carry `"salt"`: 31 bytes as 62 hex digits, the secret its
//! input digest absorbs so that a receipt neither reveals nor links inputs
//! ([`read_client_input`]).

use std::path::Path;

use serde::Deserialize;

use crate::error::ModelError;
use crate::ir::{TensorInfo, signed_range};

#[derive(Deserialize)]
struct InputFile {
    input_data: Vec<Vec<serde_json::Value>>,
    #[serde(default)]
    salt: Option<String>,
}

fn parse_file(text: &str, path: &Path) -> Result<InputFile, ModelError> {
    serde_json::from_str(text).map_err(|e| ModelError::BadInputFile {
        path: path.to_path_buf(),
        reason: format!("expected {{\"input_data\": [[numbers...]]}} ({e})"),
    })
}

/// Parses an EZKL-style input document; returns one flattened array per graph input.
pub fn parse_input_json(text: &str, path: &Path) -> Result<Vec<Vec<f64>>, ModelError> {
    values(&parse_file(text, path)?, path)
}

fn values(file: &InputFile, path: &Path) -> Result<Vec<Vec<f64>>, ModelError> {
    let bad = |reason: String| ModelError::BadInputFile {
        path: path.to_path_buf(),
        reason,
    };
    if file.input_data.is_empty() {
        return Err(bad("`input_data` is empty".into()));
    }
    file.input_data
        .iter()
        .map(|arr| {
            arr.iter()
                .enumerate()
                .map(|(index, v)| match v {
                    serde_json::Value::Number(n) => n
                        .as_f64()
                        .ok_or_else(|| bad(format!("value #{index} is not a number"))),
                    // Boolean inputs (EZKL allows them) are 0 and 1.
                    serde_json::Value::Bool(b) => Ok(*b as u8 as f64),
                    // JSON has no NaN/Infinity; some writers emit them as strings.
                    serde_json::Value::String(s) => match s.parse::<f64>() {
                        Ok(value) if !value.is_finite() => {
                            Err(ModelError::NonFiniteInput { index, value })
                        }
                        _ => Err(bad(format!("value #{index} is a string, not a number"))),
                    },
                    other => Err(bad(format!("value #{index} is not a number: {other}"))),
                })
                .collect()
        })
        .collect()
}

/// Reads an EZKL-style input file and returns its first (only) input, flattened.
pub fn read_input_file(path: &Path) -> Result<Vec<f64>, ModelError> {
    Ok(read_client_input(path)?.values)
}

/// Reads calibration samples: an input document (one sample), or JSON Lines of them (one
/// sample per line, blank lines skipped).
pub fn read_calibration_file(path: &Path) -> Result<Vec<Vec<f64>>, ModelError> {
    let text = std::fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
    match parse_client_input(&text, path) {
        Ok(one) => Ok(vec![one.values]),
        Err(whole) => {
            let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
            if lines.len() < 2 {
                return Err(whole);
            }
            lines
                .iter()
                .enumerate()
                .map(|(k, line)| {
                    parse_client_input(line, path)
                        .map(|c| c.values)
                        .map_err(|e| match e {
                            ModelError::BadInputFile { path, reason } => ModelError::BadInputFile {
                                path,
                                reason: format!("line {}: {reason}", k + 1),
                            },
                            other => other,
                        })
                })
                .collect()
        }
    }
}

/// A client's input: the values, and the salt of its digest when the file gives one.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientInput {
    /// The graph inputs, each flattened, concatenated in order (the model's input format).
    pub values: Vec<f64>,
    /// The 31-byte salt (`"salt"`, 62 hex digits), if present.
    pub salt: Option<[u8; 31]>,
}

/// Parses a client's input document: one array per graph input (concatenated) and an
/// optional salt.
pub fn parse_client_input(text: &str, path: &Path) -> Result<ClientInput, ModelError> {
    let bad = |reason: String| ModelError::BadInputFile {
        path: path.to_path_buf(),
        reason,
    };
    let file = parse_file(text, path)?;
    let inputs = values(&file, path)?;
    let salt = match &file.salt {
        None => None,
        Some(hex_salt) => {
            let bytes =
                hex::decode(hex_salt).map_err(|e| bad(format!("`salt` is not hex ({e})")))?;
            Some(bytes.try_into().map_err(|b: Vec<u8>| {
                bad(format!(
                    "`salt` has {} bytes, expected 31 (62 hex digits)",
                    b.len()
                ))
            })?)
        }
    };
    Ok(ClientInput {
        values: inputs.concat(),
        salt,
    })
}

/// Reads a client's input file: the graph inputs (concatenated) and an optional salt.
pub fn read_client_input(path: &Path) -> Result<ClientInput, ModelError> {
    let text = std::fs::read_to_string(path).map_err(|e| ModelError::io(path, e))?;
    parse_client_input(&text, path)
}

/// How far beyond the input format's range a value may lie and still be saturated (quantized
/// to the nearest end, with a warning from [`saturated_count`]'s callers): further, it is
/// refused — it is nothing like any calibration sample (a 1e308, a unit mix-up).
pub const FAR_BEYOND: f64 = 65536.0;

/// Quantizes a float input to the model's input format, checking length and finiteness; a
/// value beyond the format's range saturates, one [`FAR_BEYOND`] it is refused.
pub fn quantize_input(info: &TensorInfo, x: &[f64]) -> Result<Vec<i64>, ModelError> {
    quantize_checked(info, x, false)
}

/// Quantizes a float input like [`quantize_input`], but refuses any value that would
/// saturate ([`ModelError::InputSaturates`]): what a worker does with a client's input, so a
/// receipt never proves a result on an input other than the one sent.
pub fn quantize_input_exact(info: &TensorInfo, x: &[f64]) -> Result<Vec<i64>, ModelError> {
    quantize_checked(info, x, true)
}

fn quantize_checked(
    info: &TensorInfo,
    x: &[f64],
    refuse_saturation: bool,
) -> Result<Vec<i64>, ModelError> {
    if x.len() != info.len() {
        return Err(ModelError::InputLength {
            expected: info.len(),
            got: x.len(),
            shape: info.shape.clone(),
        });
    }
    let (lo, hi) = signed_range(info.bits);
    let scale = (info.frac_bits as f64).exp2();
    x.iter()
        .enumerate()
        .map(|(index, &value)| {
            if !value.is_finite() {
                return Err(ModelError::NonFiniteInput { index, value });
            }
            let q = (value * scale).round();
            if refuse_saturation && (q < lo as f64 || q > hi as f64) {
                return Err(ModelError::InputSaturates {
                    index,
                    value,
                    lo: lo as f64 / scale,
                    hi: hi as f64 / scale,
                });
            }
            if q.abs() > FAR_BEYOND * hi as f64 {
                return Err(ModelError::InputFarOutOfRange {
                    index,
                    value,
                    lo: lo as f64 / scale,
                    hi: hi as f64 / scale,
                });
            }
            Ok(q.clamp(lo as f64, hi as f64) as i64)
        })
        .collect()
}

/// How many values of `x` lie beyond the input's representable range (and so saturate when
/// quantized): a sign that the input is not like the calibration sample.
pub fn saturated_count(info: &TensorInfo, x: &[f64]) -> usize {
    let (lo, hi) = signed_range(info.bits);
    let scale = (info.frac_bits as f64).exp2();
    x.iter()
        .filter(|v| {
            let q = (**v * scale).round();
            q < lo as f64 || q > hi as f64
        })
        .count()
}

/// The real value an integer stands for at `frac_bits`.
pub fn dequantize(v: i64, frac_bits: i32) -> f64 {
    v as f64 * (-(frac_bits as f64)).exp2()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_quantization_refuses_what_would_saturate_and_nothing_else() {
        let info = TensorInfo {
            shape: vec![3],
            frac_bits: 4,
            bits: 8,
        };
        // The format holds [-8, 7.9375]; 7.96 rounds to 127 (in range), 7.97 to 128 (not).
        assert_eq!(
            quantize_input_exact(&info, &[-8.0, 0.5, 7.96]).unwrap(),
            [-128, 8, 127]
        );
        let err = quantize_input_exact(&info, &[0.0, 0.0, 7.97]).unwrap_err();
        assert!(
            matches!(err, ModelError::InputSaturates { index: 2, .. }),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "input value #2 = 7.97 is outside the model's input range [-8, 7.9375] \
             (it would saturate); scale or clip the input"
        );
        let err = quantize_input_exact(&info, &[-8.04, 0.0, 0.0]).unwrap_err();
        assert!(
            matches!(err, ModelError::InputSaturates { index: 0, .. }),
            "{err:?}"
        );
        // The lenient quantizer saturates both.
        assert_eq!(
            quantize_input(&info, &[-8.04, 0.0, 7.97]).unwrap(),
            [-128, 0, 127]
        );
        // Length and finiteness are checked the same way by both.
        let err = quantize_input_exact(&info, &[1.0]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the input has 1 values, the model expects 3 (shape [3])"
        );
        let err = quantize_input_exact(&info, &[0.0, f64::NAN, 0.0]).unwrap_err();
        assert!(
            matches!(err, ModelError::NonFiniteInput { index: 1, .. }),
            "{err:?}"
        );
    }

    /// A value a little beyond the range saturates; one far beyond (a 1e308) is refused, and
    /// the message shows it short, once.
    #[test]
    fn a_value_far_beyond_the_range_is_refused_with_a_short_message() {
        let info = TensorInfo {
            shape: vec![2],
            frac_bits: 6,
            bits: 8,
        };
        assert_eq!(quantize_input(&info, &[2.5, -3.0]).unwrap(), [127, -128]);
        assert_eq!(
            quantize_input(&info, &[0.0, 1e308])
                .unwrap_err()
                .to_string(),
            "input value #1 = 1.000000e308 lies far beyond the model's input range \
             [-2, 1.984375]: no calibration covers it"
        );
        let edge = FAR_BEYOND * 127.0 / 64.0;
        assert!(quantize_input(&info, &[edge, 0.0]).is_ok());
        assert!(quantize_input(&info, &[-edge * 1.01, 0.0]).is_err());
    }

    #[test]
    fn calibration_files_hold_one_sample_or_json_lines_of_them() {
        let dir = tempfile::tempdir().unwrap();
        let one = dir.path().join("one.json");
        std::fs::write(&one, r#"{"input_data": [[1, 2]]}"#).unwrap();
        assert_eq!(read_calibration_file(&one).unwrap(), vec![vec![1.0, 2.0]]);
        let many = dir.path().join("many.jsonl");
        std::fs::write(
            &many,
            "{\"input_data\": [[1, 2]]}\n\n{\"input_data\": [[3, 4]]}\n",
        )
        .unwrap();
        assert_eq!(
            read_calibration_file(&many).unwrap(),
            vec![vec![1.0, 2.0], vec![3.0, 4.0]]
        );
        let bad = dir.path().join("bad.jsonl");
        std::fs::write(
            &bad,
            "{\"input_data\": [[1]]}\n{\"input_data\": [[\"x\"]]}\n",
        )
        .unwrap();
        let err = read_calibration_file(&bad).unwrap_err().to_string();
        assert!(
            err.contains("line 2: value #0 is a string, not a number"),
            "{err}"
        );
    }

    fn info() -> TensorInfo {
        TensorInfo {
            shape: vec![1, 3],
            frac_bits: 4,
            bits: 8,
        }
    }

    #[test]
    fn quantizes_rounds_and_saturates() {
        let q = quantize_input(&info(), &[0.5, -0.03125, 100.0]).unwrap();
        assert_eq!(q, vec![8, -1, 127]);
        assert_eq!(saturated_count(&info(), &[0.5, -0.03125, 100.0]), 1);
        assert_eq!(saturated_count(&info(), &[7.9, -8.0, 0.0]), 0);
        assert_eq!(dequantize(8, 4), 0.5);
    }

    #[test]
    fn wrong_length_names_both_lengths() {
        let err = quantize_input(&info(), &[1.0]).unwrap_err().to_string();
        assert!(
            err.contains("input has 1 values, the model expects 3"),
            "{err}"
        );
    }

    #[test]
    fn non_finite_is_rejected() {
        let err = quantize_input(&info(), &[1.0, f64::NAN, 0.0]).unwrap_err();
        assert!(
            matches!(err, ModelError::NonFiniteInput { index: 1, .. }),
            "{err}"
        );
        let err = parse_input_json(
            r#"{"input_data": [[1.0, "Infinity"]]}"#,
            Path::new("i.json"),
        )
        .unwrap_err();
        assert!(
            matches!(err, ModelError::NonFiniteInput { index: 1, .. }),
            "{err}"
        );
    }

    #[test]
    fn salts_are_read_and_checked() {
        let p = Path::new("i.json");
        let salted = format!(
            r#"{{"input_data": [[1.0, 2.0]], "salt": "{}"}}"#,
            "0a".repeat(31)
        );
        let c = parse_client_input(&salted, p).unwrap();
        assert_eq!(c.values, vec![1.0, 2.0]);
        assert_eq!(c.salt, Some([10; 31]));
        let c = parse_client_input(r#"{"input_data": [[1.0]]}"#, p).unwrap();
        assert_eq!(c.salt, None);
        let err = parse_client_input(r#"{"input_data": [[1.0]], "salt": "abcd"}"#, p)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`salt` has 2 bytes, expected 31"), "{err}");
        let err = parse_client_input(r#"{"input_data": [[1.0]], "salt": "xyz"}"#, p)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`salt` is not hex"), "{err}");
        let err = parse_client_input(r#"{"input_data": [[1.0]], "salt": 5}"#, p)
            .unwrap_err()
            .to_string();
        assert!(err.contains("expected {\"input_data\""), "{err}");
        // Several graph inputs: one vector, in order.
        let two = parse_client_input(r#"{"input_data": [[1.0], [2.0, 3.0]]}"#, p).unwrap();
        assert_eq!(two.values, vec![1.0, 2.0, 3.0]);
    }

    #[test]
    fn malformed_files_say_what_is_expected() {
        let err = parse_input_json(r#"{"data": []}"#, Path::new("i.json"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("input_data"), "{err}");
    }
}
