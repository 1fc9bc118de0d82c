//! The quantized model IR: a chain of integer ops over power-of-two-scaled tensors.
//!
//! A tensor is a vector of integers `v` standing for the reals `v · 2^-frac_bits`. The model is a
//! straight chain (`ops[i]` consumes the output of `ops[i-1]`, the first consumes the input),
//! which is what MLPs are; the IR knows nothing of ONNX. What each op computes, to the bit, is
//! defined in [`crate::exec`].

use serde::{Deserialize, Serialize};

use crate::error::ModelError;

/// How a model's weights appear in its proofs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightMode {
    /// Weights are circuit constants: cheapest to prove; the verifying key identifies the model.
    Fixed,
    /// Weights are private witnesses bound to a public Poseidon commitment: the proof shows the
    /// worker knows the weights behind the model's commitment (proof of ownership).
    Private,
}

impl WeightMode {
    /// The lower-case name used on the command line and in files.
    pub fn as_str(self) -> &'static str {
        match self {
            WeightMode::Fixed => "fixed",
            WeightMode::Private => "private",
        }
    }
}

impl std::fmt::Display for WeightMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for WeightMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "fixed" => Ok(WeightMode::Fixed),
            "private" => Ok(WeightMode::Private),
            other => Err(format!(
                "unknown weight mode `{other}` (expected fixed or private)"
            )),
        }
    }
}

/// Shape and fixed-point format of a tensor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TensorInfo {
    /// Dimensions, batch excluded.
    pub shape: Vec<usize>,
    /// The tensor's integers stand for `v · 2^-frac_bits` (may be negative).
    pub frac_bits: i32,
    /// Signed bit width every value fits in.
    pub bits: u32,
}

impl TensorInfo {
    /// Number of elements (saturating at `usize::MAX`; a validated model's tensors hold at most
    /// [`MAX_ELEMENTS`]).
    pub fn len(&self) -> usize {
        self.shape
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .unwrap_or(usize::MAX)
    }

    /// True when the tensor has no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A fully connected layer: `acc[j] = bias[j] + Σ_i weights[j·in + i] · x[i]`, exact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dense {
    /// Name of the ONNX node this came from (for messages).
    pub name: String,
    /// Input features.
    pub in_features: usize,
    /// Output features.
    pub out_features: usize,
    /// Row-major `[out_features][in_features]` signed integers of `weight_bits` bits.
    pub weights: Vec<i64>,
    /// Signed width of every weight.
    pub weight_bits: u32,
    /// The weights stand for `w · 2^-weight_frac_bits`.
    pub weight_frac_bits: i32,
    /// One bias per output, at the accumulator's scale (input frac bits + weight frac bits).
    pub bias: Vec<i64>,
    /// Signed width of every bias value.
    pub bias_bits: u32,
}

/// Round-half-up arithmetic shift right by `shift`, then saturation to `bits` signed bits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requantize {
    /// Bits shifted out (the scale drops by `2^shift`).
    pub shift: u32,
    /// Signed width of the result.
    pub bits: u32,
}

/// One op of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Fully connected layer with exact integer accumulation.
    Dense(Dense),
    /// Rounding shift and saturation back to a narrow width.
    Requantize(Requantize),
    /// `max(0, v)`.
    Relu,
    /// Reinterpret the data with a new shape (Flatten and Reshape); data order unchanged.
    Reshape {
        /// The new shape, batch excluded.
        shape: Vec<usize>,
    },
}

impl Op {
    /// Short description for messages and `inspect`.
    pub fn describe(&self) -> String {
        match self {
            Op::Dense(d) => format!("dense `{}` {}→{}", d.name, d.in_features, d.out_features),
            Op::Requantize(r) => format!("requantize >>{} to {} bits", r.shift, r.bits),
            Op::Relu => "relu".to_string(),
            Op::Reshape { shape } => format!("reshape {shape:?}"),
        }
    }
}

/// Largest signed bit width a tensor, weight or bias may be declared with.
pub const MAX_BITS: u32 = 24;

/// The most values one tensor (or one layer's weights) may have: far beyond what a circuit
/// proves, low enough that no count computed from a model file can overflow.
pub const MAX_ELEMENTS: usize = 1 << 24;

/// The largest scale exponent (`|frac_bits|`) any tensor or weight may have: far beyond what
/// quantization picks, small enough that scales never overflow and `2^-frac_bits` stays a
/// finite, non-zero `f64`.
pub const MAX_FRAC_BITS: i32 = 256;

fn check_frac(what: &str, frac_bits: Option<i32>) -> Result<i32, ModelError> {
    frac_bits
        .filter(|f| f.unsigned_abs() <= MAX_FRAC_BITS as u32)
        .ok_or_else(|| {
            ModelError::Invalid(format!(
                "{what}: scale exponent {} is beyond ±{MAX_FRAC_BITS}",
                frac_bits.map_or("(overflow)".to_string(), |f| f.to_string())
            ))
        })
}

/// Checks that a tensor of `shape` has between 1 and [`MAX_ELEMENTS`] values.
fn check_shape(what: &str, shape: &[usize]) -> Result<usize, ModelError> {
    let n = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .filter(|&n| n <= MAX_ELEMENTS)
        .ok_or_else(|| {
            ModelError::Invalid(format!(
                "{what} of shape {shape:?} has more than {MAX_ELEMENTS} values"
            ))
        })?;
    if n == 0 {
        return Err(ModelError::Invalid(format!("{what} has no element")));
    }
    Ok(n)
}

/// A quantized model: an input format and a chain of ops.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Model {
    /// Human-readable name (usually the ONNX file's stem).
    pub name: String,
    /// How the weights appear in proofs.
    pub weight_mode: WeightMode,
    /// The input tensor's shape and format.
    pub input: TensorInfo,
    /// The chain of ops.
    pub ops: Vec<Op>,
    /// Private mode: 31 random bytes (hex) that blind the weight commitment. `None` in fixed mode.
    pub salt: Option<String>,
}

impl Model {
    /// Shape and format of the output of every op (`result[i]` is the output of `ops[i]`),
    /// checking that the chain is consistent.
    pub fn tensor_infos(&self) -> Result<Vec<TensorInfo>, ModelError> {
        let mut cur = self.input.clone();
        check_bits("input", cur.bits)?;
        check_shape("the input", &cur.shape)?;
        check_frac("the input", Some(cur.frac_bits))?;
        let mut out = Vec::with_capacity(self.ops.len());
        for (i, op) in self.ops.iter().enumerate() {
            cur = match op {
                Op::Dense(d) => {
                    if d.in_features != cur.len() {
                        return Err(ModelError::Invalid(format!(
                            "op #{i} ({}) expects {} inputs but receives {} (shape {:?})",
                            op.describe(),
                            d.in_features,
                            cur.len(),
                            cur.shape
                        )));
                    }
                    let weights = check_shape(
                        &format!("op #{i}'s weight matrix"),
                        &[d.out_features, d.in_features],
                    )?;
                    if d.weights.len() != weights || d.bias.len() != d.out_features {
                        return Err(ModelError::Invalid(format!(
                            "op #{i} ({}) has {} weights and {} biases, expected {} and {}",
                            op.describe(),
                            d.weights.len(),
                            d.bias.len(),
                            weights,
                            d.out_features
                        )));
                    }
                    check_bits("weight", d.weight_bits)?;
                    if d.bias_bits == 0 || d.bias_bits > 32 {
                        return Err(ModelError::Invalid(format!(
                            "op #{i}: bias width {} is outside 1..=32",
                            d.bias_bits
                        )));
                    }
                    check_values(i, "weight", &d.weights, d.weight_bits)?;
                    check_values(i, "bias", &d.bias, d.bias_bits)?;
                    check_frac(&format!("op #{i}'s weights"), Some(d.weight_frac_bits))?;
                    TensorInfo {
                        shape: vec![d.out_features],
                        frac_bits: check_frac(
                            &format!("op #{i}'s output"),
                            cur.frac_bits.checked_add(d.weight_frac_bits),
                        )?,
                        // Accumulators are wide; `bounds` gives their exact range.
                        bits: 32,
                    }
                }
                Op::Requantize(r) => {
                    check_bits("requantize", r.bits)?;
                    if r.shift > 31 {
                        return Err(ModelError::Invalid(format!(
                            "op #{i}: shift {} is larger than 31",
                            r.shift
                        )));
                    }
                    TensorInfo {
                        shape: cur.shape.clone(),
                        frac_bits: check_frac(
                            &format!("op #{i}'s output"),
                            cur.frac_bits.checked_sub(r.shift as i32),
                        )?,
                        bits: r.bits,
                    }
                }
                Op::Relu => cur.clone(),
                Op::Reshape { shape } => {
                    let n = check_shape(&format!("op #{i}'s output"), shape)?;
                    if n != cur.len() {
                        return Err(ModelError::Invalid(format!(
                            "op #{i} reshapes {:?} ({} values) to {shape:?} ({n} values)",
                            cur.shape,
                            cur.len()
                        )));
                    }
                    TensorInfo {
                        shape: shape.clone(),
                        ..cur.clone()
                    }
                }
            };
            out.push(cur.clone());
        }
        Ok(out)
    }

    /// Shape and format of the model's output.
    pub fn output_info(&self) -> Result<TensorInfo, ModelError> {
        Ok(self
            .tensor_infos()?
            .pop()
            .unwrap_or_else(|| self.input.clone()))
    }

    /// The dense layers, in order.
    pub fn dense_layers(&self) -> impl Iterator<Item = &Dense> {
        self.ops.iter().filter_map(|op| match op {
            Op::Dense(d) => Some(d),
            _ => None,
        })
    }

    /// Total number of weights and biases.
    pub fn parameter_count(&self) -> usize {
        self.dense_layers()
            .map(|d| d.weights.len() + d.bias.len())
            .sum()
    }
}

fn check_bits(what: &str, bits: u32) -> Result<(), ModelError> {
    if !(2..=MAX_BITS).contains(&bits) {
        return Err(ModelError::Invalid(format!(
            "{what} width of {bits} bits is outside 2..={MAX_BITS}"
        )));
    }
    Ok(())
}

fn check_values(op: usize, what: &str, values: &[i64], bits: u32) -> Result<(), ModelError> {
    let (lo, hi) = signed_range(bits);
    if let Some((k, v)) = values
        .iter()
        .enumerate()
        .find(|(_, v)| **v < lo || **v > hi)
    {
        return Err(ModelError::Invalid(format!(
            "op #{op}: {what} #{k} = {v} does not fit in {bits} signed bits"
        )));
    }
    Ok(())
}

/// The inclusive range `[-2^(bits-1), 2^(bits-1) - 1]` of a signed `bits`-bit integer.
pub fn signed_range(bits: u32) -> (i64, i64) {
    let half = 1i64 << (bits - 1);
    (-half, half - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Model {
        Model {
            name: "t".into(),
            weight_mode: WeightMode::Fixed,
            input: TensorInfo {
                shape: vec![1, 2],
                frac_bits: 4,
                bits: 8,
            },
            ops: vec![
                Op::Reshape { shape: vec![2] },
                Op::Dense(Dense {
                    name: "fc".into(),
                    in_features: 2,
                    out_features: 1,
                    weights: vec![1, -2],
                    weight_bits: 8,
                    weight_frac_bits: 3,
                    bias: vec![5],
                    bias_bits: 16,
                }),
                Op::Requantize(Requantize { shift: 3, bits: 8 }),
            ],
            salt: None,
        }
    }

    #[test]
    fn scales_follow_the_chain() {
        let infos = tiny().tensor_infos().unwrap();
        assert_eq!(infos[1].frac_bits, 7);
        assert_eq!(infos[2].frac_bits, 4);
        assert_eq!(infos[2].bits, 8);
        assert_eq!(infos[2].shape, vec![1]);
    }

    #[test]
    fn inconsistent_shapes_are_rejected_with_the_op() {
        let mut m = tiny();
        m.ops[0] = Op::Reshape { shape: vec![3] };
        let err = m.tensor_infos().unwrap_err().to_string();
        assert!(err.contains("op #0 reshapes [1, 2]"), "{err}");
    }

    #[test]
    fn out_of_width_weights_are_rejected() {
        let mut m = tiny();
        if let Op::Dense(d) = &mut m.ops[1] {
            d.weights[1] = 200;
        }
        let err = m.tensor_infos().unwrap_err().to_string();
        assert!(err.contains("weight #1 = 200"), "{err}");
    }
}
