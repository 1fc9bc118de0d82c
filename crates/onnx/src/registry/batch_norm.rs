//! BatchNormalization (inference mode): a per-channel affine map `y = s·x + t`.
//!
//! Folded into the preceding dense or conv layer when it alone reads that layer's output, else a
//! depthwise 1×1 convolution (a diagonal dense layer over a vector).

use crate::ctx::Ctx;
use crate::error::OnnxError;
use crate::float::FloatOp;
use crate::layers::broadcast_bias;
use crate::proto::attr_f;
use zkw_model::ops::ConvGeometry;

pub(crate) fn import(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    let node = cx.node;
    let name = cx.name;
    // Inference-mode batch norm is a per-channel affine map, y = s·x + t with
    // s = scale / sqrt(var + ε) and t = B - mean·s.
    let x = cx.spatial(cx.activation(0)?)?;
    let shape = cx.shapes[x].clone();
    let c = shape.first().copied().unwrap_or(0);
    let eps = attr_f(node, "epsilon", 1e-5) as f64;
    let per_channel = |k: usize| -> Result<Vec<f64>, OnnxError> {
        let v = cx.operand(k)?;
        broadcast_bias(name, v, c, 1.0)
    };
    let (gamma, beta, mean, var) = (
        per_channel(1)?,
        per_channel(2)?,
        per_channel(3)?,
        per_channel(4)?,
    );
    if let Some(v) = var.iter().find(|v| v.is_nan() || **v + eps <= 0.0) {
        return Err(OnnxError::Invalid(format!(
            "BatchNormalization `{name}`: variance {v} + epsilon is not positive"
        )));
    }
    let s: Vec<f64> = (0..c).map(|i| gamma[i] / (var[i] + eps).sqrt()).collect();
    let t: Vec<f64> = (0..c).map(|i| beta[i] - mean[i] * s[i]).collect();
    // Folded into the layer before when nothing else reads that layer's output: its weights
    // of output channel o scaled by s[o], its bias b[o] becoming s[o]·b[o] + t[o]. No layer,
    // no requantization, no constraints of its own.
    if cx.sole_reader(0)
        && let Some(prev) = x.checked_sub(cx.n_in).map(|i| &mut cx.nodes[i].op)
    {
        let folded = match prev {
            FloatOp::Conv {
                geometry,
                weights,
                bias,
            } if geometry.out_channels == c => Some((weights, bias)),
            FloatOp::Dense {
                out_features,
                weights,
                bias,
                ..
            } if *out_features == c => Some((weights, bias)),
            _ => None,
        };
        if let Some((weights, bias)) = folded {
            let per = weights.len() / c.max(1);
            for (o, row) in weights.chunks_mut(per.max(1)).enumerate() {
                row.iter_mut().for_each(|w| *w *= s[o]);
                bias[o] = s[o] * bias[o] + t[o];
            }
            return Ok(x);
        }
    }
    // Else a depthwise 1×1 convolution (a diagonal dense layer over a vector).
    let op = match shape.len() {
        1 if c > 4096 => {
            return Err(OnnxError::UnsupportedOp {
                op_type: format!("BatchNormalization over a vector of {c}"),
                node: name.to_string(),
            });
        }
        1 => FloatOp::Dense {
            in_features: c,
            out_features: c,
            weights: (0..c * c)
                .map(|k| if k / c == k % c { s[k / c] } else { 0.0 })
                .collect(),
            bias: t,
        },
        2 | 3 => {
            let rank = shape.len() - 1;
            FloatOp::Conv {
                geometry: ConvGeometry {
                    in_channels: c,
                    out_channels: c,
                    in_spatial: shape[1..].to_vec(),
                    kernel: vec![1; rank],
                    strides: vec![1; rank],
                    dilations: vec![1; rank],
                    pads: vec![0; 2 * rank],
                    groups: c,
                },
                weights: s,
                bias: t,
            }
        }
        _ => {
            return Err(OnnxError::UnsupportedOp {
                op_type: format!("BatchNormalization over shape {shape:?}"),
                node: name.to_string(),
            });
        }
    };
    Ok(cx.push(op, vec![x], shape))
}
