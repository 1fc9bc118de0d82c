//! One float op's lowering to the integer IR, each in its own module: the IR ops it becomes,
//! at which scales and widths. [`lower`] is the one dispatch over `FloatOp` (exhaustive: a new
//! float op does not compile until it lowers); the helpers every lowering shares — weights at
//! their own scale, requantizing to a calibrated format, aligning operands, narrowing a table's
//! input — live here, beside the IR graph being built ([`Builder`]).

mod add;
mod conv;
mod dense;
mod map;
mod max_pool;
mod mul;
mod relu;
mod reshape;
mod scale;
mod select;
mod softmax;
mod sum;

use zkw_model::bounds::Interval;
use zkw_model::ir::{Node, TensorId, signed_range};
use zkw_model::ops::{Op, Requantize};

use crate::error::OnnxError;
use crate::float::{FloatNode, FloatOp};

/// What one float node's lowering reads, and the graph it appends to.
pub(crate) struct Lower<'a> {
    /// The IR graph so far.
    pub b: &'a mut Builder,
    /// The node's name (every IR node it becomes carries it).
    pub name: &'a str,
    /// The float node.
    pub node: &'a FloatNode,
    /// Its first operand: IR tensor, scale, width.
    pub x: (TensorId, i32, u32),
    /// Every float tensor so far: IR tensor, scale, width.
    pub at: &'a [(TensorId, i32, u32)],
    /// The output's calibrated format: scale and width.
    pub out: (i32, u32),
    /// The model's bit width (weights, activations).
    pub bits: u32,
    /// Every float tensor's calibrated magnitude.
    pub ranges: &'a [f64],
}

/// The node's output: IR tensor, scale, width.
pub(crate) type Lowered = Result<(TensorId, i32, u32), OnnxError>;

/// Lowers one float node: the one match over `FloatOp`, one line an op.
pub(crate) fn lower(l: Lower<'_>, op: &FloatOp) -> Lowered {
    match op {
        FloatOp::Dense {
            in_features,
            out_features,
            weights,
            bias,
        } => dense::lower(l, *in_features, *out_features, weights, bias),
        FloatOp::Conv {
            geometry,
            weights,
            bias,
        } => conv::lower(l, geometry, weights, bias),
        FloatOp::Relu => relu::lower(l),
        FloatOp::MaxPool { geometry } => max_pool::lower(l, geometry),
        FloatOp::Reshape { shape } => reshape::lower(l, shape),
        FloatOp::Select {
            what,
            shape,
            indices,
            fill,
        } => select::lower(l, what, shape, indices, *fill),
        FloatOp::Mul => mul::lower(l),
        FloatOp::Sum { axis_len } => sum::lower(l, *axis_len),
        FloatOp::Scale { scale, offset } => scale::lower(l, scale, offset),
        FloatOp::Map { expr } => map::lower(l, expr),
        FloatOp::Softmax { axis_len } => softmax::lower(l, *axis_len),
        FloatOp::Add => add::lower(l),
    }
}

/// A weighted layer (`Dense`, `Conv`, `Scale`): its weights at their own scale and its biases at
/// the accumulator's, the IR op `op` makes of them (exact), then a requantize to the output's
/// calibrated format.
pub(crate) fn weighted(
    l: Lower<'_>,
    weights: &[f64],
    bias: &[f64],
    op: impl FnOnce(Weights, u32) -> Op,
) -> Lowered {
    let (x, frac, _) = l.x;
    let q = quantize_weights(l.name, weights, bias, frac, l.bits)?;
    let acc_frac = q.acc_frac;
    let acc = l.b.push(l.name, op(q, l.bits), vec![x]);
    Ok(requantize_to(l.b, l.name, acc, acc_frac, l.out))
}

/// A layer's weights at their own scale and its biases at the accumulator's.
pub(crate) struct Weights {
    pub weights: Vec<i64>,
    pub weight_frac_bits: i32,
    pub bias: Vec<i64>,
    pub bias_bits: u32,
    pub acc_frac: i32,
}

/// Quantizes a layer's float weights and biases for an input at scale `2^-frac`.
pub(crate) fn quantize_weights(
    name: &str,
    weights: &[f64],
    bias: &[f64],
    frac: i32,
    bits: u32,
) -> Result<Weights, OnnxError> {
    let wf = frac_for(abs_max(weights), bits);
    let acc_frac = frac + wf;
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
        return Err(OnnxError::Invalid(format!(
            "layer `{name}`: a bias needs {bias_bits} bits at scale 2^-{acc_frac}; the input or \
             weights have too fine a scale for these biases"
        )));
    }
    Ok(Weights {
        weights: weights
            .iter()
            .map(|&w| quantize_value(w, wf, bits))
            .collect(),
        weight_frac_bits: wf,
        bias: qb,
        bias_bits,
        acc_frac,
    })
}

/// The finest `frac` with `max_abs · 2^frac ≤ 2^(bits-1) - 1`.
pub(crate) fn frac_for(max_abs: f64, bits: u32) -> i32 {
    if !max_abs.is_finite() || max_abs <= 0.0 {
        return 0;
    }
    let top = ((1i64 << (bits - 1)) - 1) as f64;
    ((top / max_abs).log2().floor() as i32).clamp(-24, 24)
}

pub(crate) fn quantize_value(v: f64, frac: i32, bits: u32) -> i64 {
    let (lo, hi) = signed_range(bits);
    ((v * (frac as f64).exp2()).round() as i64).clamp(lo, hi)
}

pub(crate) fn abs_max(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// Builds the IR graph node by node, mapping float tensors to IR tensors.
pub(crate) struct Builder {
    pub nodes: Vec<Node>,
    pub inputs: usize,
}

impl Builder {
    pub(crate) fn push(&mut self, name: &str, op: Op, inputs: Vec<TensorId>) -> TensorId {
        self.nodes.push(Node {
            name: name.to_string(),
            op,
            inputs,
        });
        self.inputs + self.nodes.len() - 1
    }
}

/// The widest input a table gets at import (`2^12` entries); wider tensors are requantized
/// to it first.
const TABLE_INPUT_BITS: u32 = 12;

/// A tensor narrow enough to index a table: itself, or requantized to
/// [`TABLE_INPUT_BITS`] at the finest scale that holds its calibrated `range`.
pub(crate) fn narrow_for_table(
    b: &mut Builder,
    name: &str,
    (x, frac, xbits): (TensorId, i32, u32),
    range: f64,
) -> (TensorId, i32, u32) {
    if xbits <= TABLE_INPUT_BITS {
        (x, frac, xbits)
    } else {
        requantize_to(
            b,
            name,
            x,
            frac,
            (frac_for(range, TABLE_INPUT_BITS), TABLE_INPUT_BITS),
        )
    }
}

/// Tensor `t` shifted from scale `2^-frac` to the coarser `2^-common` (itself when equal).
pub(crate) fn align_to(
    b: &mut Builder,
    name: &str,
    t: TensorId,
    frac: i32,
    w: u32,
    common: i32,
) -> TensorId {
    if frac == common {
        t
    } else {
        let shift = (frac - common) as u32;
        b.push(name, Op::Requantize(Requantize { shift, bits: w }), vec![t])
    }
}

/// A requantize of the wide tensor `acc` (scale `2^-acc_frac`) to `bits` at the finest scale
/// that holds the calibrated `range`: the tensor, its scale and width.
pub(crate) fn requantize_to(
    b: &mut Builder,
    name: &str,
    acc: TensorId,
    acc_frac: i32,
    (frac, bits): (i32, u32),
) -> (TensorId, i32, u32) {
    let out_frac = frac.min(acc_frac);
    let shift = (acc_frac - out_frac).clamp(0, 31) as u32;
    let id = b.push(name, Op::Requantize(Requantize { shift, bits }), vec![acc]);
    (id, acc_frac - shift as i32, bits)
}
