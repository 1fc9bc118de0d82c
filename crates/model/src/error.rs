//! Typed errors of model import, validation and execution.
//!
//! Each variant names the problem precisely enough for a user to fix their model or input
//! without reading our code: the operation and bound that could overflow, the expected and
//! received input length, the file and what is wrong with it. ONNX import has its own error
//! type in `zkw-onnx`; nothing here knows that ONNX exists.

use std::path::PathBuf;

/// Everything that can go wrong while loading, validating or running a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The model's structure is inconsistent (shapes, bit widths, op order).
    #[error("invalid model: {0}")]
    Invalid(String),
    /// Static bounds analysis found a value that could leave its safe range.
    #[error(
        "model could overflow: node #{op_index} ({op}) can reach {bound}, beyond the limit {limit} ({why})"
    )]
    Overflow {
        /// Index of the node in the model.
        op_index: usize,
        /// Short description of the op.
        op: String,
        /// The worst-case magnitude found.
        bound: i128,
        /// The largest magnitude allowed.
        limit: i128,
        /// Which limit: the GPU's `i32` or a circuit's field.
        why: &'static str,
    },
    /// An input has the wrong number of elements.
    #[error("the input has {got} values, the model expects {expected} (shape {shape:?})")]
    InputLength {
        /// Number of elements the model expects.
        expected: usize,
        /// Number of elements received.
        got: usize,
        /// The model's input shape.
        shape: Vec<usize>,
    },
    /// An input value is NaN or infinite.
    #[error("input value #{index} is not a finite number ({value})")]
    NonFiniteInput {
        /// Position in the flattened input.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// An input value lies so far beyond the model's input range that no calibration covers
    /// it (more than [`crate::input::FAR_BEYOND`] times the range): refused, not saturated.
    #[error(
        "input value #{index} = {} lies far beyond the model's input range [{}, {}]: \
         no calibration covers it",
        short(*value),
        short(*lo),
        short(*hi)
    )]
    InputFarOutOfRange {
        /// Position in the flattened input.
        index: usize,
        /// The offending value.
        value: f64,
        /// The lowest value the input format holds.
        lo: f64,
        /// The highest value the input format holds.
        hi: f64,
    },
    /// An input value lies beyond the model's input range, so quantizing it would saturate:
    /// refused where the input must be taken exactly ([`crate::input::quantize_input_exact`]).
    #[error(
        "input value #{index} = {} is outside the model's input range [{}, {}] \
         (it would saturate); scale or clip the input",
        short(*value),
        short(*lo),
        short(*hi)
    )]
    InputSaturates {
        /// Position in the flattened input.
        index: usize,
        /// The offending value.
        value: f64,
        /// The lowest value the input format holds.
        lo: f64,
        /// The highest value the input format holds.
        hi: f64,
    },
    /// A quantized input value lies outside the model's input bit width.
    #[error("quantized input value #{index} = {value} is outside the {bits}-bit range")]
    InputOutOfRange {
        /// Position in the flattened input.
        index: usize,
        /// The offending value.
        value: i64,
        /// The model's input bit width.
        bits: u32,
    },
    /// An input or calibration file is malformed.
    #[error("bad input file {path}: {reason}")]
    BadInputFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A model file is corrupt, truncated, of another format or of an unknown version.
    #[error("bad model file {path}: {reason}")]
    BadModelFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// An executor other than the reference (the GPU) could not run the model.
    #[error("the {executor} executor failed: {reason}")]
    Executor {
        /// Which executor.
        executor: String,
        /// What went wrong.
        reason: String,
    },
    /// Reading or writing a file failed.
    // The OS error is part of the message and deliberately not a `source`: a report that walks
    // the chain (anyhow's `{:#}`) would print it twice.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
}

impl ModelError {
    pub(crate) fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        ModelError::Io {
            path: path.into(),
            error,
        }
    }
}

/// A value as an error message shows it: in full between 1e-6 and 1e15, in scientific
/// notation beyond (1e308 printed in full is 309 digits, 2^-256 over 70 zeros).
pub(crate) fn short(v: f64) -> String {
    if v != 0.0 && !(1e-6..1e15).contains(&v.abs()) {
        format!("{v:.6e}")
    } else {
        v.to_string()
    }
}
