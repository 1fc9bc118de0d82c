//! The attributes of layers with weights, read into our shapes: a convolution's (or pool's)
//! geometry, a Gemm/MatMul's weight matrix, a broadcast bias, ONNX Reshape's `0` and `-1`.

use tract_onnx::pb::NodeProto;

use super::proto::{Const, attr, attr_ints};
use crate::error::OnnxError;
use zkw_model::ops::ConvGeometry;

/// A Conv (or pooling) node's geometry from its attributes, its input's shape
/// `[C, spatial…]` (batch excluded), its weights' shape `[M, C / group, kernel…]` and its
/// groups.
pub(super) fn conv_geometry(
    name: &str,
    node: &NodeProto,
    input: &[usize],
    weights: &[usize],
    groups: i64,
) -> Result<ConvGeometry, OnnxError> {
    let bad = |why: String| OnnxError::Invalid(format!("{} `{name}`: {why}", node.op_type));
    let rank = input.len().saturating_sub(1);
    if !(1..=2).contains(&rank) || weights.len() != rank + 2 {
        return Err(OnnxError::UnsupportedOp {
            op_type: format!(
                "{} over an input of shape {input:?} with a kernel of {:?} (1-D and 2-D are \
                 supported)",
                node.op_type,
                &weights[2.min(weights.len())..]
            ),
            node: name.to_string(),
        });
    }
    let positive = |what: &str, v: Vec<i64>| -> Result<Vec<usize>, OnnxError> {
        if v.len() != rank || v.iter().any(|&x| !(1..=1 << 16).contains(&x)) {
            return Err(bad(format!("{what} {v:?} for a {rank}-D input")));
        }
        Ok(v.into_iter().map(|x| x as usize).collect())
    };
    let kernel = weights[2..].to_vec();
    if kernel.iter().any(|&k| !(1..=1 << 16).contains(&k))
        || input.iter().any(|&d| d == 0 || d > 1 << 24)
    {
        return Err(bad(format!(
            "kernel {kernel:?} or input {input:?} out of range"
        )));
    }
    if let Some(k) = attr_ints(node, "kernel_shape")
        && positive("kernel_shape", k)? != kernel
    {
        return Err(bad(format!(
            "kernel_shape differs from the weights' {kernel:?}"
        )));
    }
    let strides = positive(
        "strides",
        attr_ints(node, "strides").unwrap_or(vec![1; rank]),
    )?;
    let dilations = positive(
        "dilations",
        attr_ints(node, "dilations").unwrap_or(vec![1; rank]),
    )?;
    if !(1..=1 << 24).contains(&groups) {
        return Err(bad(format!("group {groups}")));
    }
    let groups = groups as usize;
    let in_spatial = input[1..].to_vec();
    let auto_pad = attr(node, "auto_pad")
        .map(|a| String::from_utf8_lossy(&a.s).into_owned())
        .unwrap_or_else(|| "NOTSET".into());
    let pads = match auto_pad.as_str() {
        "NOTSET" => {
            let p = attr_ints(node, "pads").unwrap_or(vec![0; 2 * rank]);
            if p.len() != 2 * rank || p.iter().any(|&x| !(0..=1 << 16).contains(&x)) {
                return Err(bad(format!("pads {p:?} for a {rank}-D input")));
            }
            p.into_iter().map(|x| x as usize).collect()
        }
        "VALID" => vec![0; 2 * rank],
        "SAME_UPPER" | "SAME_LOWER" => {
            let mut pads = vec![0; 2 * rank];
            for d in 0..rank {
                let out = in_spatial[d].div_ceil(strides[d]);
                let span = dilations[d] * (kernel[d] - 1) + 1;
                let total =
                    (out.saturating_sub(1) * strides[d] + span).saturating_sub(in_spatial[d]);
                let small = total / 2;
                let (begin, end) = if auto_pad == "SAME_UPPER" {
                    (small, total - small)
                } else {
                    (total - small, small)
                };
                pads[d] = begin;
                pads[rank + d] = end;
            }
            pads
        }
        other => return Err(bad(format!("auto_pad `{other}`"))),
    };
    let geometry = ConvGeometry {
        in_channels: input[0],
        out_channels: weights[0],
        in_spatial,
        kernel,
        strides,
        dilations,
        pads,
        groups,
    };
    if weights[1] * groups != input[0] {
        return Err(bad(format!(
            "weights of shape {weights:?} with {groups} groups do not fit {} input channels",
            input[0]
        )));
    }
    geometry.check().map_err(bad)?;
    Ok(geometry)
}

/// Turns a constant `B` of a Gemm/MatMul into row-major `[out][in]` weights.
pub(super) fn dense_weights(
    name: &str,
    b: &Const,
    in_features: usize,
    trans_b: bool,
    alpha: f64,
) -> Result<(Vec<f64>, usize), OnnxError> {
    if b.shape.len() != 2 {
        return Err(OnnxError::Invalid(format!(
            "node `{name}`: weight matrix has shape {:?}, expected 2 dimensions",
            b.shape
        )));
    }
    let (k, n) = if trans_b {
        (b.shape[1], b.shape[0])
    } else {
        (b.shape[0], b.shape[1])
    };
    if k != in_features {
        return Err(OnnxError::Invalid(format!(
            "node `{name}`: weight matrix {:?} does not match {in_features} input features",
            b.shape
        )));
    }
    let mut w = vec![0.0; k * n];
    for j in 0..n {
        for i in 0..k {
            let v = if trans_b {
                b.data[j * k + i]
            } else {
                b.data[i * n + j]
            };
            w[j * k + i] = alpha * v;
        }
    }
    Ok((w, n))
}

pub(super) fn broadcast_bias(
    name: &str,
    c: &Const,
    n: usize,
    beta: f64,
) -> Result<Vec<f64>, OnnxError> {
    match c.data.len() {
        1 => Ok(vec![beta * c.data[0]; n]),
        m if m == n => Ok(c.data.iter().map(|v| beta * v).collect()),
        m => Err(OnnxError::Invalid(format!(
            "node `{name}`: bias has {m} values, expected {n} (shape {:?})",
            c.shape
        ))),
    }
}

/// ONNX Reshape semantics (`0` copies a dimension, `-1` is inferred) on a batch-1 tensor.
pub(super) fn resolve_reshape(
    name: &str,
    target: &[f64],
    shape: &[usize],
    has_batch: bool,
) -> Result<Vec<usize>, OnnxError> {
    let full: Vec<usize> = if has_batch {
        std::iter::once(1).chain(shape.iter().copied()).collect()
    } else {
        shape.to_vec()
    };
    let total: usize = full.iter().product();
    let mut out = Vec::with_capacity(target.len());
    let mut infer = None;
    for (k, &d) in target.iter().enumerate() {
        let d = d as i64;
        match d {
            0 => out.push(*full.get(k).ok_or_else(|| {
                OnnxError::Invalid(format!(
                    "Reshape `{name}`: 0 at a dimension the input lacks"
                ))
            })?),
            -1 if infer.is_none() => {
                infer = Some(k);
                out.push(1);
            }
            d if d > 0 => out.push(d as usize),
            _ => {
                return Err(OnnxError::Invalid(format!(
                    "Reshape `{name}`: bad target dimension {d}"
                )));
            }
        }
    }
    let known: usize = out.iter().product();
    if let Some(k) = infer {
        if known == 0 || !total.is_multiple_of(known) {
            return Err(OnnxError::Invalid(format!(
                "Reshape `{name}`: cannot infer a dimension of {target:?} from {full:?}"
            )));
        }
        out[k] = total / known;
    }
    if out.iter().product::<usize>() != total {
        return Err(OnnxError::Invalid(format!(
            "Reshape `{name}`: {full:?} cannot become {out:?}"
        )));
    }
    if has_batch {
        if out.first() != Some(&1) {
            return Err(OnnxError::Invalid(format!(
                "Reshape `{name}`: {out:?} changes the batch dimension"
            )));
        }
        out.remove(0);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reshape_semantics() {
        assert_eq!(
            resolve_reshape("r", &[0.0, -1.0], &[2, 3], true).unwrap(),
            vec![6]
        );
        assert_eq!(
            resolve_reshape("r", &[1.0, 3.0, 2.0], &[6], true).unwrap(),
            vec![3, 2]
        );
        assert!(resolve_reshape("r", &[4.0], &[6], false).is_err());
    }
}
