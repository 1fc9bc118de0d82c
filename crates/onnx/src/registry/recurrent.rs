//! RNN and LSTM (forward, batch 1, static sequence): unrolled, each step a dense layer of the
//! step's input (biases and the constant initial state folded in), a dense layer of the previous
//! state, and the gates as tables, products and sums.

use crate::ctx::Ctx;
use crate::elementwise::{Expr, Unary};
use crate::error::OnnxError;
use crate::float::FloatOp;
use crate::proto::{attr, attr_i};

/// `RNN`.
pub(crate) fn rnn(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    read(cx, false)
}

/// `LSTM`.
pub(crate) fn lstm(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    read(cx, true)
}

fn read(cx: &mut Ctx<'_>, lstm: bool) -> Result<usize, OnnxError> {
    let node = cx.node;
    let name = cx.name;
    // Unrolled over the static sequence: per step a dense layer of the step's
    // input (both biases folded in, and the constant initial state's
    // contribution), a dense layer of the previous state, and the gates as
    // tables, products and sums.
    let unsupported = |why: String| OnnxError::UnsupportedOp {
        op_type: format!("{} {why}", node.op_type),
        node: name.to_string(),
    };
    let x = cx.activation(0)?;
    let fx = cx.full(x);
    let (w, r) = (cx.operand(1)?, cx.operand(2)?);
    let h = attr_i(node, "hidden_size", 0).max(0) as usize;
    let direction = attr(node, "direction")
        .map(|a| String::from_utf8_lossy(&a.s).into_owned())
        .unwrap_or_else(|| "forward".into());
    let defaults: &[&[u8]] = if lstm {
        &[b"Sigmoid", b"Tanh", b"Tanh"]
    } else {
        &[b"Tanh"]
    };
    let custom = attr(node, "activations").is_some_and(|a| {
        !a.strings.is_empty()
            && !a
                .strings
                .iter()
                .map(Vec::as_slice)
                .eq(defaults.iter().copied())
    });
    if direction != "forward" || custom {
        return Err(unsupported(
            "other than forward with default activations".into(),
        ));
    }
    if attr_i(node, "layout", 0) != 0 || node.input.get(4).is_some_and(|s| !s.is_empty()) {
        return Err(unsupported(
            "with a batch-first layout or sequence lengths".into(),
        ));
    }
    let gates = if lstm { 4 } else { 1 };
    if fx.len() != 3 || fx[1] != 1 || h == 0 {
        return Err(unsupported(format!(
            "over an input of shape {fx:?} (batch 1)"
        )));
    }
    let (seq, n_in) = (fx[0], fx[2]);
    if seq == 0 {
        return Err(unsupported("over an empty sequence".into()));
    }
    if w.shape != [1, gates * h, n_in] || r.shape != [1, gates * h, h] {
        return Err(cx.bad(format!("weights {:?} and {:?}", w.shape, r.shape)));
    }
    let zeros = |n: usize| vec![0.0; n];
    let bias: Vec<f64> = match node.input.get(3).filter(|s| !s.is_empty()) {
        Some(_) => {
            let b = cx.operand(3)?;
            if b.data.len() != 2 * gates * h {
                return Err(cx.bad(format!("bias of {} values", b.data.len())));
            }
            (0..gates * h)
                .map(|i| b.data[i] + b.data[gates * h + i])
                .collect()
        }
        None => zeros(gates * h),
    };
    let state = |k: usize| -> Result<Vec<f64>, OnnxError> {
        match node.input.get(k).filter(|s| !s.is_empty()) {
            Some(_) => {
                let c = cx
                    .operand(k)
                    .map_err(|_| unsupported("with a computed initial state".into()))?;
                if c.data.len() != h {
                    return Err(cx.bad(format!("initial state of {} values", c.data.len())));
                }
                Ok(c.data.clone())
            }
            None => Ok(zeros(h)),
        }
    };
    let (h0, c0) = (state(5)?, if lstm { state(6)? } else { zeros(h) });
    // R · h0 is a constant: it joins the first step's bias.
    let rh0: Vec<f64> = (0..gates * h)
        .map(|j| (0..h).map(|i| r.data[j * h + i] * h0[i]).sum())
        .collect();
    let dense = |cx: &mut Ctx<'_>, t: usize, m: &[f64], k: usize, b: Vec<f64>| {
        let op = FloatOp::Dense {
            in_features: k,
            out_features: gates * h,
            weights: m.to_vec(),
            bias: b,
        };
        cx.push(op, vec![t], vec![gates * h])
    };
    let slice = |cx: &mut Ctx<'_>, t: usize, from: usize, n: usize, what: &str| {
        let op = FloatOp::Select {
            what: what.into(),
            shape: vec![n],
            indices: (from..from + n).map(|i| i as i64).collect(),
            fill: 0.0,
        };
        cx.push(op, vec![t], vec![n])
    };
    let map = |cx: &mut Ctx<'_>, t: usize, f: Unary| {
        let op = FloatOp::Map {
            expr: Expr::X.unary(f),
        };
        cx.push(op, vec![t], vec![h])
    };
    let mut hs: Vec<usize> = Vec::new();
    let mut c_prev: Option<usize> = None;
    for step in 0..seq {
        let xt = slice(cx, x, step * n_in, n_in, "step input");
        let mut b = bias.clone();
        if step == 0 {
            b.iter_mut().zip(&rh0).for_each(|(a, c)| *a += c);
        }
        let mut g = dense(cx, xt, &w.data, n_in, b);
        if let Some(&hp) = hs.last() {
            let rh = dense(cx, hp, &r.data, h, zeros(gates * h));
            g = cx.push(FloatOp::Add, vec![g, rh], vec![gates * h]);
        }
        let ht = if lstm {
            // ONNX gate order: input, output, forget, cell.
            let part = |cx: &mut Ctx<'_>, k: usize, f: Unary| {
                let s = slice(cx, g, k * h, h, "gate");
                map(cx, s, f)
            };
            let i = part(cx, 0, Unary::Sigmoid);
            let o = part(cx, 1, Unary::Sigmoid);
            let f = part(cx, 2, Unary::Sigmoid);
            let cand = part(cx, 3, Unary::Tanh);
            let ic = cx.push(FloatOp::Mul, vec![i, cand], vec![h]);
            let c = match c_prev {
                Some(cp) => {
                    let fc = cx.push(FloatOp::Mul, vec![f, cp], vec![h]);
                    cx.push(FloatOp::Add, vec![fc, ic], vec![h])
                }
                // A zero initial cell state adds nothing (and a zero tensor
                // would drag the sum's scale to its own).
                None if c0.iter().all(|&v| v == 0.0) => ic,
                None => {
                    // f ⊙ c0 with a constant c0: per-element factors.
                    let op = FloatOp::Scale {
                        scale: c0.clone(),
                        offset: zeros(h),
                    };
                    let fc = cx.push(op, vec![f], vec![h]);
                    cx.push(FloatOp::Add, vec![fc, ic], vec![h])
                }
            };
            c_prev = Some(c);
            let tc = map(cx, c, Unary::Tanh);
            cx.push(FloatOp::Mul, vec![o, tc], vec![h])
        } else {
            map(cx, g, Unary::Tanh)
        };
        hs.push(ht);
    }
    // Y [seq, 1, 1, h], Y_h [1, 1, h], Y_c [1, 1, h].
    let y_full = vec![seq, 1, 1, h];
    let all: Vec<i64> = (0..seq * h).map(|i| i as i64).collect();
    let y = cx.select("hidden states".into(), hs.clone(), y_full, all, 0.0)?;
    let last_of = |cx: &mut Ctx<'_>, t: usize| {
        cx.select(
            "last state".into(),
            vec![t],
            vec![1, 1, h],
            (0..h as i64).collect(),
            0.0,
        )
    };
    let Some(&last) = hs.last() else {
        return Err(unsupported("over an empty sequence".into()));
    };
    for (k, t) in [(1usize, Some(last)), (2, c_prev)] {
        if let (Some(out), Some(t)) = (node.output.get(k).filter(|o| !o.is_empty()), t) {
            let id = last_of(cx, t)?;
            cx.ids.insert(out.clone(), id);
        }
    }
    Ok(y)
}
