//! Float graph → integer IR: power-of-two scales chosen from a calibration input.
//!
//! For each tensor the scale is the finest power of two at which the calibrated magnitude still
//! fits the bit width: `frac = floor(log2((2^(b-1) - 1) / max|x|))`. Weights get a per-layer
//! scale from their own magnitude; biases are stored at the accumulator's scale, so the dense
//! layer itself is exact and all rounding happens in the following requantize. A sum of two
//! tensors first brings the finer operand to the coarser scale, then adds exactly. Without a
//! calibration file the input is assumed to lie in [-1, 1] and hidden ranges come from
//! worst-case float intervals (coarser, but never saturating).

use super::elementwise::{Binary, Expr, Unary};
use super::float::{FloatGraph, FloatOp};
use crate::error::OnnxError;
use crate::lower::{Builder, Lower, abs_max, frac_for, lower};
use zkw_model::bounds::{Interval, analyze};
use zkw_model::ir::{Model, TensorId, TensorInfo, WeightMode};
use zkw_model::ops::{Op, Requantize, Scale};

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

/// The float magnitude each tensor is calibrated to.
fn ranges(graph: &FloatGraph, samples: &[Vec<f64>]) -> Result<Vec<f64>, OnnxError> {
    match samples {
        [] => worst_case_ranges(graph),
        _ => {
            // The largest magnitude each tensor reaches over all samples.
            let mut out: Vec<f64> = Vec::new();
            for x in samples {
                let r = sample_ranges(graph, x)?;
                if out.is_empty() {
                    out = r;
                } else {
                    out.iter_mut().zip(r).for_each(|(a, b)| *a = a.max(b));
                }
            }
            Ok(out)
        }
    }
}

/// Whether only ReLUs read tensor `t` (and it is not an output): its negative side never
/// matters, so it is calibrated, and its error measured, on the positive side alone.
fn relu_only(graph: &FloatGraph, t: usize) -> bool {
    let mut readers = graph.consumers(t).peekable();
    readers.peek().is_some()
        && readers.all(|n| n.op == FloatOp::Relu)
        && !graph.outputs.contains(&t)
}

/// Each tensor's calibrated magnitude on one sample.
fn sample_ranges(graph: &FloatGraph, x: &[f64]) -> Result<Vec<f64>, OnnxError> {
    if let Some((index, &value)) = x.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(zkw_model::ModelError::NonFiniteInput { index, value }.into());
    }
    let tensors = graph.run(x)?;
    Ok(tensors
        .iter()
        .enumerate()
        .map(|(t, o)| {
            // Read only by ReLUs: only the positive side survives, calibrate on it.
            if relu_only(graph, t) {
                o.iter().fold(0.0f64, |m, v| m.max(*v))
            } else {
                abs_max(o)
            }
        })
        .collect())
}

/// Worst case over inputs in [-1, 1].
fn worst_case_ranges(graph: &FloatGraph) -> Result<Vec<f64>, OnnxError> {
    let mut r: Vec<f64> = vec![1.0; graph.inputs.len()];
    for node in &graph.nodes {
        let a = r[node.inputs[0]];
        r.push(match &node.op {
            FloatOp::Dense {
                in_features,
                weights,
                bias,
                ..
            } => weights
                .chunks(*in_features)
                .zip(bias)
                .map(|(row, b)| b.abs() + row.iter().map(|w| w.abs()).sum::<f64>() * a)
                .fold(0.0, f64::max),
            FloatOp::Conv {
                geometry,
                weights,
                bias,
            } => {
                let per = weights.len() / geometry.out_channels.max(1);
                weights
                    .chunks(per.max(1))
                    .zip(bias)
                    .map(|(k, b)| b.abs() + k.iter().map(|w| w.abs()).sum::<f64>() * a)
                    .fold(0.0, f64::max)
            }
            FloatOp::Relu | FloatOp::Reshape { .. } | FloatOp::MaxPool { .. } => a,
            FloatOp::Add => a + r[node.inputs[1]],
            FloatOp::Map { expr } => (0..=1000)
                .map(|k| expr.eval(a * (k as f64 / 500.0 - 1.0)).abs())
                .filter(|v| v.is_finite())
                .fold(0.0, f64::max),
            FloatOp::Softmax { .. } => 1.0,
            FloatOp::Select { fill, .. } => {
                node.inputs.iter().map(|&t| r[t]).fold(fill.abs(), f64::max)
            }
            FloatOp::Mul => a * r[node.inputs[1]],
            FloatOp::Sum { axis_len } => a * *axis_len as f64,
            FloatOp::Scale { scale, offset } => scale
                .iter()
                .zip(offset)
                .map(|(s, o)| s.abs() * a + o.abs())
                .fold(0.0, f64::max),
        });
    }
    Ok(r)
}

/// Quantizes a float graph.
pub fn quantize(
    graph: &FloatGraph,
    options: &QuantizeOptions,
    calibration: Option<&[f64]>,
) -> Result<Model, OnnxError> {
    let samples: Vec<Vec<f64>> = calibration.map(|x| vec![x.to_vec()]).unwrap_or_default();
    Ok(quantize_calibrated(graph, options, &samples)?.0)
}

/// Where each float tensor went: its IR tensor and that tensor's scale exponent.
pub type TensorMap = Vec<(TensorId, i32)>;

/// Quantizes a float graph with scales calibrated on every sample (none: worst-case ranges
/// for inputs in [-1, 1]); also returns where each float tensor went, for
/// [`layer_errors`].
pub fn quantize_calibrated(
    graph: &FloatGraph,
    options: &QuantizeOptions,
    samples: &[Vec<f64>],
) -> Result<(Model, TensorMap), OnnxError> {
    let bits = options.bits;
    if !(2..=16).contains(&bits) {
        return Err(OnnxError::Invalid(format!(
            "--bits {bits} is outside the supported 2..=16"
        )));
    }
    let ranges = ranges(graph, samples)?;
    // Integer-valued tensors (indices, comparisons, counts) at scale 1 and as wide as their
    // range needs (up to 16 bits), so that an index is never rounded; others at the finest
    // scale that holds their range in `bits`.
    let integral = integral(graph);
    let format = |t: usize| -> (i32, u32) {
        let r = ranges[t].ceil();
        if integral[t] && r < 32768.0 {
            let w = Interval {
                lo: -r as i64,
                hi: r as i64,
            }
            .signed_width();
            (0, w.clamp(bits, 16))
        } else {
            (frac_for(ranges[t], bits), bits)
        }
    };
    // The client's input is one vector in one format: every graph input at the scale of the
    // widest-ranging one.
    let n_in = graph.inputs.len();
    let input_frac = (0..n_in)
        .map(|t| frac_for(ranges[t], bits))
        .min()
        .unwrap_or(0);
    let inputs: Vec<TensorInfo> = graph
        .inputs
        .iter()
        .map(|shape| TensorInfo {
            shape: shape.clone(),
            frac_bits: input_frac,
            bits,
        })
        .collect();
    // For each float tensor: its IR tensor, scale and width.
    let mut at: Vec<(TensorId, i32, u32)> = (0..n_in).map(|t| (t, input_frac, bits)).collect();
    let mut b = Builder {
        nodes: Vec::new(),
        inputs: n_in,
    };
    for (k, node) in graph.nodes.iter().enumerate() {
        let t = n_in + k;
        let l = Lower {
            b: &mut b,
            name: node.name.as_str(),
            node,
            x: at[node.inputs[0]],
            at: &at,
            out: format(t),
            bits,
            ranges: &ranges,
        };
        let next = lower(l, &node.op)?;
        at.push(next);
    }
    // One output scale: the coarsest of the outputs' natural ones (the finest that holds each
    // one's range in `bits`). An output held coarser (an index at scale 1) is scaled up
    // exactly; a finer one is requantized down.
    let out_frac = graph
        .outputs
        .iter()
        // An output that was 0 on the calibration data says nothing about its scale.
        .map(|&t| match ranges[t] > 0.0 {
            true => at[t].1.max(frac_for(ranges[t], bits)),
            false => i32::MAX,
        })
        .min()
        .filter(|&f| f != i32::MAX)
        .or_else(|| graph.outputs.iter().map(|&t| at[t].1).min())
        .unwrap_or(input_frac);
    // The IR tensors' lengths so far (for per-element factors).
    let mut infos: Vec<TensorInfo> = inputs.clone();
    for node in &b.nodes {
        let refs: Vec<&TensorInfo> = node.inputs.iter().map(|&i| &infos[i]).collect();
        let info = node
            .op
            .semantics()
            .output_info(&refs)
            .map_err(|e| OnnxError::Invalid(format!("node `{}`: {e}", node.name)))?;
        infos.push(info);
    }
    let outputs = graph
        .outputs
        .iter()
        .map(|&t| {
            let (id, frac, w) = at[t];
            if frac > out_frac {
                let shift = (frac - out_frac) as u32;
                b.push(
                    "output",
                    Op::Requantize(Requantize { shift, bits: w }),
                    vec![id],
                )
            } else if frac < out_frac {
                let k = (out_frac - frac) as u32;
                let len = infos[id].len();
                b.push(
                    "output",
                    Op::Scale(Scale {
                        name: "output".into(),
                        scale: vec![1i64 << k; len],
                        scale_bits: k + 2,
                        scale_frac_bits: k as i32,
                        offset: vec![0; len],
                        offset_bits: 2,
                    }),
                    vec![id],
                )
            } else {
                id
            }
        })
        .collect();

    let salt = match options.weight_mode.is_private() {
        false => None,
        true => {
            let salt = match options.salt {
                Some(s) => s,
                None => {
                    let mut s = [0u8; 31];
                    getrandom::fill(&mut s).map_err(|e| {
                        OnnxError::Invalid(format!("cannot draw a commitment salt: {e}"))
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
        inputs,
        nodes: b.nodes,
        outputs,
        salt,
    };
    analyze(&model)?;
    let map = at.iter().map(|&(t, f, _)| (t, f)).collect();
    Ok((model, map))
}

/// Which float tensors hold only integers whatever the input: outputs of casts to integer
/// types, comparisons and rounding, and integer arithmetic over them (graph inputs never).
fn integral(graph: &FloatGraph) -> Vec<bool> {
    fn expr(e: &Expr, x: bool) -> bool {
        match e {
            Expr::X => x,
            Expr::Const(c) => c.fract() == 0.0,
            Expr::Unary(f, a) => match f {
                Unary::CastInt(..)
                | Unary::CastBool
                | Unary::Floor
                | Unary::Ceil
                | Unary::Round
                | Unary::Sign
                | Unary::Not => true,
                Unary::Neg | Unary::Abs | Unary::Relu => expr(a, x),
                _ => false,
            },
            Expr::Binary(f, a, b) => match f {
                Binary::Add | Binary::Sub | Binary::Mul | Binary::Min | Binary::Max => {
                    expr(a, x) && expr(b, x)
                }
                Binary::Div | Binary::Pow => false,
                _ => true,
            },
            Expr::Gather(values, _) => values.iter().all(|v| v.fract() == 0.0),
        }
    }
    let whole = |v: &[f64]| v.iter().all(|c| c.fract() == 0.0);
    let mut out = vec![false; graph.inputs.len()];
    for node in &graph.nodes {
        let all = node.inputs.iter().all(|&i| out[i]);
        let first = out[node.inputs[0]];
        out.push(match &node.op {
            FloatOp::Map { expr: e } => expr(e, first),
            FloatOp::Add | FloatOp::Mul | FloatOp::Select { .. } => all,
            FloatOp::Sum { .. } | FloatOp::Relu | FloatOp::Reshape { .. } => first,
            FloatOp::MaxPool { .. } => first,
            FloatOp::Scale { scale, offset } => first && whole(scale) && whole(offset),
            FloatOp::Dense { weights, bias, .. } | FloatOp::Conv { weights, bias, .. } => {
                first && whole(weights) && whole(bias)
            }
            FloatOp::Softmax { .. } => false,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FloatNode;
    use zkw_model::ops::Add;

    #[test]
    fn frac_for_picks_the_finest_fitting_scale() {
        assert_eq!(frac_for(1.0, 8), 6); // 64 ≤ 127 < 128
        assert_eq!(frac_for(0.99, 8), 7); // 126.7 ≤ 127
        assert_eq!(frac_for(300.0, 8), -2); // 75
        assert_eq!(frac_for(0.0, 8), 0);
    }

    fn graph() -> FloatGraph {
        let node = |name: &str, op, inputs| FloatNode {
            name: name.into(),
            op,
            inputs,
        };
        FloatGraph {
            name: "g".into(),
            inputs: vec![vec![2]],
            has_batch: true,
            nodes: vec![
                node(
                    "fc1",
                    FloatOp::Dense {
                        in_features: 2,
                        out_features: 2,
                        weights: vec![0.5, -0.25, 1.0, 0.75],
                        bias: vec![0.1, -0.2],
                    },
                    vec![0],
                ),
                node("relu", FloatOp::Relu, vec![1]),
                // A residual connection around the ReLU.
                node("skip", FloatOp::Add, vec![2, 1]),
                node(
                    "fc2",
                    FloatOp::Dense {
                        in_features: 2,
                        out_features: 1,
                        weights: vec![1.5, -1.0],
                        bias: vec![0.05],
                    },
                    vec![3],
                ),
            ],
            outputs: vec![4],
        }
    }

    #[test]
    fn quantized_output_tracks_float_output() {
        let g = graph();
        let x = [0.3, -0.7];
        let m = quantize(&g, &QuantizeOptions::default(), Some(&x)).unwrap();
        assert!(m.nodes.iter().any(|n| n.op == Op::Add(Add)), "{m:?}");
        let q = zkw_model::input::quantize_input(&m.input_info(), &x).unwrap();
        let t = zkw_model::run(&m, &q).unwrap();
        let out = m.output_info().unwrap();
        let got = zkw_model::input::dequantize(t.output()[0], out.frac_bits);
        let want = g.run(&x).unwrap()[g.outputs[0]][0];
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

/// How far one layer's quantized values are from its float values.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerError {
    /// The ONNX node (or fused chain) that computes the tensor.
    pub name: String,
    /// The largest `|dequantized - float|` over the samples.
    pub max_abs: f64,
    /// The tensor's largest float magnitude over the samples.
    pub range: f64,
}

impl LayerError {
    /// The error relative to the tensor's range (0 for an all-zero tensor).
    pub fn relative(&self) -> f64 {
        if self.range > 0.0 {
            self.max_abs / self.range
        } else {
            0.0
        }
    }
}

/// Every node's quantization error on the calibration samples: the float graph and the
/// quantized model run side by side, each float tensor compared with its IR tensor (a tensor
/// only ReLUs read, on its positive side: the negative side saturates by design).
pub fn layer_errors(
    graph: &FloatGraph,
    model: &Model,
    map: &TensorMap,
    samples: &[Vec<f64>],
) -> Result<Vec<LayerError>, OnnxError> {
    let n_in = graph.inputs.len();
    let mut out: Vec<LayerError> = graph
        .nodes
        .iter()
        .map(|n| LayerError {
            name: n.name.clone(),
            max_abs: 0.0,
            range: 0.0,
        })
        .collect();
    for x in samples {
        let float = graph.run(x)?;
        let q = zkw_model::input::quantize_input(&model.input_info(), x)?;
        let trace = zkw_model::run(model, &q)?;
        for (k, e) in out.iter_mut().enumerate() {
            let (id, frac) = map[n_in + k];
            let (f, v) = (&float[n_in + k], trace.tensor(id));
            if f.len() != v.len() {
                continue;
            }
            // What a ReLU-only tensor's readers see is its positive side.
            let positive = relu_only(graph, n_in + k);
            let seen = |v: f64| if positive { v.max(0.0) } else { v };
            for (&a, &b) in f.iter().zip(v) {
                let (a, b) = (seen(a), seen(zkw_model::input::dequantize(b, frac)));
                e.max_abs = e.max_abs.max((a - b).abs());
                e.range = e.range.max(a.abs());
            }
        }
    }
    Ok(out)
}
