//! Float chain → integer IR: power-of-two scales chosen from a calibration input.
//!
//! For each tensor the scale is the finest power of two at which the calibrated magnitude still
//! fits the bit width: `frac = floor(log2((2^(b-1) - 1) / max|x|))`. Weights get a per-layer
//! scale from their own magnitude; biases are stored at the accumulator's scale, so the dense
//! layer itself is exact and all rounding happens in the following requantize. Without a
//! calibration file the input is assumed to lie in [-1, 1] and hidden ranges come from
//! worst-case float intervals (coarser, but never saturating).

use super::float::{FloatGraph, FloatOp};
use crate::bounds::{Interval, analyze};
use crate::error::ModelError;
use crate::ir::{Dense, Model, Op, Requantize, TensorInfo, WeightMode, signed_range};

/// What the user chooses at import.
#[derive(Debug, Clone)]
pub struct QuantizeOptions {
    /// Signed width of inputs, weights and activations.
    pub bits: u32,
    /// How weights appear in proofs.
    pub weight_mode: WeightMode,
    /// Private mode: the commitment's blinding salt; drawn from the OS when `None`.
    pub salt: Option<[u8; 31]>,
}

impl Default for QuantizeOptions {
    fn default() -> Self {
        QuantizeOptions {
            bits: 8,
            weight_mode: WeightMode::Fixed,
            salt: None,
        }
    }
}

/// The finest `frac` with `max_abs · 2^frac ≤ 2^(bits-1) - 1`.
fn frac_for(max_abs: f64, bits: u32) -> i32 {
    if !max_abs.is_finite() || max_abs <= 0.0 {
        return 0;
    }
    let top = ((1i64 << (bits - 1)) - 1) as f64;
    ((top / max_abs).log2().floor() as i32).clamp(-24, 24)
}

fn quantize_value(v: f64, frac: i32, bits: u32) -> i64 {
    let (lo, hi) = signed_range(bits);
    ((v * (frac as f64).exp2()).round() as i64).clamp(lo, hi)
}

fn abs_max(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// Quantizes a float chain.
pub fn quantize(
    graph: &FloatGraph,
    options: &QuantizeOptions,
    calibration: Option<&[f64]>,
) -> Result<Model, ModelError> {
    let bits = options.bits;
    if !(2..=16).contains(&bits) {
        return Err(ModelError::Invalid(format!(
            "--bits {bits} is outside the supported 2..=16"
        )));
    }
    // Per-op magnitude of the float activations: calibrated, or worst case over [-1, 1].
    let (input_range, ranges): (f64, Vec<f64>) = match calibration {
        Some(x) => {
            if let Some((index, &value)) = x.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(ModelError::NonFiniteInput { index, value });
            }
            let outs = graph.run(x)?;
            let ranges = outs
                .iter()
                .enumerate()
                .map(|(i, o)| {
                    // Before a ReLU only the positive side survives: calibrate on it.
                    if matches!(graph.ops.get(i + 1), Some(FloatOp::Relu)) {
                        o.iter().fold(0.0f64, |m, v| m.max(*v))
                    } else {
                        abs_max(o)
                    }
                })
                .collect();
            (abs_max(x), ranges)
        }
        None => {
            let mut a = 1.0f64;
            let ranges = graph
                .ops
                .iter()
                .map(|op| {
                    if let FloatOp::Dense {
                        in_features,
                        weights,
                        bias,
                        ..
                    } = op
                    {
                        a = weights
                            .chunks(*in_features)
                            .zip(bias)
                            .map(|(row, b)| b.abs() + row.iter().map(|w| w.abs()).sum::<f64>() * a)
                            .fold(0.0, f64::max);
                    }
                    a
                })
                .collect();
            (1.0, ranges)
        }
    };

    let input = TensorInfo {
        shape: graph.input_shape.clone(),
        frac_bits: frac_for(input_range, bits),
        bits,
    };
    let mut frac = input.frac_bits;
    let mut ops = Vec::new();
    for (i, op) in graph.ops.iter().enumerate() {
        match op {
            FloatOp::Dense {
                name,
                in_features,
                out_features,
                weights,
                bias,
            } => {
                let wf = frac_for(abs_max(weights), bits);
                let acc_frac = frac + wf;
                let qw = weights
                    .iter()
                    .map(|&w| quantize_value(w, wf, bits))
                    .collect();
                let qb: Vec<i64> = bias
                    .iter()
                    .map(|&b| (b * (acc_frac as f64).exp2()).round() as i64)
                    .collect();
                let bias_bits = qb
                    .iter()
                    .map(|&b| Interval { lo: b, hi: b }.signed_width())
                    .max()
                    .unwrap_or(1)
                    .max(2);
                if bias_bits > 32 {
                    return Err(ModelError::Invalid(format!(
                        "dense `{name}`: a bias needs {bias_bits} bits at scale 2^-{acc_frac}; \
                         the input or weights have too fine a scale for these biases"
                    )));
                }
                ops.push(Op::Dense(Dense {
                    name: name.clone(),
                    in_features: *in_features,
                    out_features: *out_features,
                    weights: qw,
                    weight_bits: bits,
                    weight_frac_bits: wf,
                    bias: qb,
                    bias_bits,
                }));
                let out_frac = frac_for(ranges[i], bits).min(acc_frac);
                let shift = (acc_frac - out_frac).clamp(0, 31) as u32;
                ops.push(Op::Requantize(Requantize { shift, bits }));
                frac = acc_frac - shift as i32;
            }
            FloatOp::Relu => ops.push(Op::Relu),
            FloatOp::Reshape { shape } => ops.push(Op::Reshape {
                shape: shape.clone(),
            }),
        }
    }

    let salt = match options.weight_mode {
        WeightMode::Fixed => None,
        WeightMode::Private => {
            let salt = match options.salt {
                Some(s) => s,
                None => {
                    let mut s = [0u8; 31];
                    getrandom::fill(&mut s).map_err(|e| {
                        ModelError::Invalid(format!("cannot draw a commitment salt: {e}"))
                    })?;
                    s
                }
            };
            Some(hex::encode(salt))
        }
    };
    let model = Model {
        name: graph.name.clone(),
        weight_mode: options.weight_mode,
        input,
        ops,
        salt,
    };
    analyze(&model)?;
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frac_for_picks_the_finest_fitting_scale() {
        assert_eq!(frac_for(1.0, 8), 6); // 64 ≤ 127 < 128
        assert_eq!(frac_for(0.99, 8), 7); // 126.7 ≤ 127
        assert_eq!(frac_for(300.0, 8), -2); // 75
        assert_eq!(frac_for(0.0, 8), 0);
    }

    fn graph() -> FloatGraph {
        FloatGraph {
            name: "g".into(),
            input_shape: vec![2],
            has_batch: true,
            ops: vec![
                FloatOp::Dense {
                    name: "fc1".into(),
                    in_features: 2,
                    out_features: 2,
                    weights: vec![0.5, -0.25, 1.0, 0.75],
                    bias: vec![0.1, -0.2],
                },
                FloatOp::Relu,
                FloatOp::Dense {
                    name: "fc2".into(),
                    in_features: 2,
                    out_features: 1,
                    weights: vec![1.5, -1.0],
                    bias: vec![0.05],
                },
            ],
        }
    }

    #[test]
    fn quantized_output_tracks_float_output() {
        let g = graph();
        let x = [0.3, -0.7];
        let m = quantize(&g, &QuantizeOptions::default(), Some(&x)).unwrap();
        let q = crate::input::quantize_input(&m.input, &x).unwrap();
        let t = crate::exec::run(&m, &q).unwrap();
        let out = m.output_info().unwrap();
        let got = crate::input::dequantize(t.output()[0], out.frac_bits);
        let want = g.run(&x).unwrap().last().unwrap()[0];
        let step = (-(out.frac_bits as f64)).exp2();
        assert!(
            (got - want).abs() <= 4.0 * step,
            "got {got}, want {want}, step {step}"
        );
    }

    #[test]
    fn private_mode_draws_a_salt() {
        let opts = QuantizeOptions {
            weight_mode: WeightMode::Private,
            ..Default::default()
        };
        let a = quantize(&graph(), &opts, None).unwrap();
        let b = quantize(&graph(), &opts, None).unwrap();
        assert_eq!(a.salt.as_ref().unwrap().len(), 62);
        assert_ne!(a.salt, b.salt);
    }

    #[test]
    fn bits_out_of_range_is_rejected() {
        let opts = QuantizeOptions {
            bits: 40,
            ..Default::default()
        };
        let err = quantize(&graph(), &opts, None).unwrap_err().to_string();
        assert!(err.contains("--bits 40"), "{err}");
    }
}
