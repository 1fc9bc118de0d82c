//! The op set: one module per op, each the whole definition of that op in the integer IR —
//! its parameters, its shape and scale rule, its reference integer semantics, its static
//! bounds and the parameters it puts in the weight commitment.
//!
//! [`Op`] is the closed list; every `match` over it is exhaustive (no `_` arm), so adding an op
//! means a new module here, one variant, and the compiler pointing at every place that must
//! learn it — among them [`Op::parameters`], the one accessor the weight commitment reads.

pub mod add;
pub mod conv;
pub mod dense;
pub mod max_pool;
pub mod mul;
pub mod relu;
pub mod requantize;
pub mod reshape;
pub mod scale;
pub mod select;
pub mod softmax;
pub mod sum;
pub mod table;
mod weighted;

pub use add::Add;
pub use conv::{Conv, ConvGeometry};
pub use dense::Dense;
pub use max_pool::MaxPool;
pub use mul::Mul;
pub use relu::Relu;
pub use requantize::Requantize;
pub use reshape::Reshape;
pub use scale::Scale;
pub use select::Select;
pub use softmax::Softmax;
pub use sum::Sum;
pub use table::Table;

use serde::{Deserialize, Serialize};

use crate::tensor::Interval;
use crate::tensor::TensorInfo;

/// A group of integer parameters an op commits to in private-weights mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parameter<'a> {
    /// What the values are (`"weight"`, `"bias"`), for messages.
    pub what: &'static str,
    /// The values, each a signed `bits`-bit integer.
    pub values: &'a [i64],
    /// Their declared signed width (what they are range-checked and packed at).
    pub bits: u32,
}

/// What every op defines. Implemented by each op's parameter struct.
pub trait OpSemantics {
    /// Number of input tensors.
    fn arity(&self) -> usize;

    /// The output's shape and format from the inputs', or why the inputs do not fit.
    fn output_info(&self, inputs: &[&TensorInfo]) -> Result<TensorInfo, String>;

    /// The reference integer semantics: the output from the inputs, exact in `i64`. Called
    /// only on inputs [`OpSemantics::output_info`] accepted, with values inside the bounds
    /// [`OpSemantics::bounds`] accepted.
    fn eval(&self, inputs: &[&[i64]]) -> Vec<i64>;

    /// The interval of every output value from the inputs' intervals; `Err(bound)` when some
    /// intermediate value could exceed `limit` in magnitude.
    fn bounds(&self, inputs: &[Interval], limit: i128) -> Result<Interval, i128>;

    /// Multiply-accumulates one evaluation costs (what the model-wide work budget counts);
    /// called only after [`OpSemantics::output_info`] accepted the op.
    fn macs(&self) -> usize {
        0
    }

    /// A short description for messages and `zkw model inspect`.
    fn describe(&self) -> String;

    /// The parameters the weight commitment absorbs, in order (empty for an op without any).
    fn parameters(&self) -> Vec<Parameter<'_>>;
}

/// One op of the graph.
///
/// # Adding an op
///
/// The compiler and the tests name each place; `scripts/check-modules.py` lists the files.
///
/// 1. Its module here, `ops/<op>.rs`: the parameters and their [`OpSemantics`] (shape and
///    scale rule, the integer semantics, bounds, work, committed parameters); its variant
///    below, its arm in [`Op::semantics`], its entry in [`examples`].
/// 2. A generator: a strategy in `zkw_model::testing::arb_op_model` (and a place in
///    `arb_model`'s random graphs).
/// 3. Its gadget, `zkw-circuits`' `ops/<op>.rs`, and its arm in `ops::gadget`.
/// 4. Its kernel, `zkw-gpu`'s `kernels/<op>.rs` beside its `<op>.wgsl`, and its arms in
///    `kernels/mod.rs`.
/// 5. Hand-built cheating witnesses for its gadget in `zkw-circuits`'
///    `tests/adversarial/mod.rs`, listed in `OP_ATTACKS`.
/// 6. The ONNX operator that lowers to it (`zkw-onnx`), when there is a new one: its float op
///    and lowering, its import module and its registry row.
/// 7. The golden seed model: `ZKW_REGENERATE_GOLDEN=1 cargo test -p zkworker --test golden`.
///
/// `zkw-circuits`' op-completeness test (`tests/op_completeness.rs`) iterates every
/// [`OpKind`] and fails until 2–5 hold: a generator, circuit ≡ reference on edge inputs, a
/// GPU kernel equal to the reference, adversarial witnesses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, strum::EnumDiscriminants)]
#[serde(rename_all = "snake_case")]
#[strum_discriminants(
    name(OpKind),
    derive(Hash, PartialOrd, Ord, strum::EnumIter, strum::IntoStaticStr),
    strum(serialize_all = "snake_case"),
    doc = "The kind of an [`Op`], without its parameters: `OpKind::iter()` lists every op."
)]
pub enum Op {
    /// Fully connected layer with exact integer accumulation.
    Dense(Dense),
    /// Rounding shift and saturation back to a narrow width.
    Requantize(Requantize),
    /// `max(0, v)`.
    Relu(Relu),
    /// Reinterpret the data with a new shape (Flatten and Reshape); data order unchanged.
    Reshape(Reshape),
    /// Element-wise sum of two tensors of one shape and scale, exact (residual connections).
    Add(Add),
    /// 1-D or 2-D convolution with exact integer accumulation.
    Conv(Conv),
    /// The largest value of each window, per channel.
    MaxPool(MaxPool),
    /// An element-wise function given by its value at every input (non-linear functions).
    Table(Table),
    /// Softmax over the last axis with an exponential table and an exact division.
    Softmax(Softmax),
    /// Data movement: each output value one operand value or a constant.
    Select(Select),
    /// Element-wise product of two tensors, exact.
    Mul(Mul),
    /// Sum of each row of the last axis, exact.
    Sum(Sum),
    /// Per-element constant factor and offset, exact.
    Scale(Scale),
}

impl Op {
    /// The op's semantics. Exhaustive: a new op must be listed here to exist at all.
    pub fn semantics(&self) -> &dyn OpSemantics {
        match self {
            Op::Dense(o) => o,
            Op::Requantize(o) => o,
            Op::Relu(o) => o,
            Op::Reshape(o) => o,
            Op::Add(o) => o,
            Op::Conv(o) => o,
            Op::MaxPool(o) => o,
            Op::Table(o) => o,
            Op::Softmax(o) => o,
            Op::Select(o) => o,
            Op::Mul(o) => o,
            Op::Sum(o) => o,
            Op::Scale(o) => o,
        }
    }

    /// The op's kind, as files and messages name it (the name of its variant in files).
    pub fn kind(&self) -> &'static str {
        OpKind::from(self).into()
    }

    /// Short description for messages and `inspect`.
    pub fn describe(&self) -> String {
        self.semantics().describe()
    }

    /// The parameters the weight commitment absorbs — the one accessor it reads, so an op's
    /// weights cannot fall out of the commitment.
    pub fn parameters(&self) -> Vec<Parameter<'_>> {
        self.semantics().parameters()
    }
}

/// One op of every kind, with parameters: what the tests iterate over to check that every op
/// keeps a rule (every kind is listed by [`Op::kind`]'s exhaustive match).
pub fn examples() -> Vec<Op> {
    vec![
        Op::Dense(Dense {
            name: "fc".into(),
            in_features: 2,
            out_features: 2,
            weights: vec![1, -2, 3, -4],
            weight_bits: 8,
            weight_frac_bits: 3,
            bias: vec![5, -6],
            bias_bits: 16,
        }),
        Op::Requantize(Requantize { shift: 3, bits: 8 }),
        Op::Relu(Relu),
        Op::Reshape(Reshape { shape: vec![2] }),
        Op::Add(Add),
        Op::Conv(Conv {
            name: "conv".into(),
            geometry: ConvGeometry {
                in_channels: 2,
                out_channels: 2,
                in_spatial: vec![3, 3],
                kernel: vec![2, 2],
                strides: vec![1, 1],
                dilations: vec![1, 1],
                pads: vec![0, 0, 0, 0],
                groups: 2,
            },
            weights: vec![1, -1, 2, -2, 3, -3, 4, -4],
            weight_bits: 8,
            weight_frac_bits: 2,
            bias: vec![7, -7],
            bias_bits: 8,
        }),
        Op::MaxPool(MaxPool {
            geometry: ConvGeometry {
                in_channels: 2,
                out_channels: 2,
                in_spatial: vec![3, 3],
                kernel: vec![2, 2],
                strides: vec![1, 1],
                dilations: vec![1, 1],
                pads: vec![0, 0, 1, 1],
                groups: 2,
            },
        }),
        Op::Table(Table {
            function: "sign(x)".into(),
            in_bits: 2,
            frac_bits: 0,
            bits: 2,
            table: vec![-1, -1, 0, 1],
        }),
        Op::Softmax(Softmax {
            axis_len: 2,
            in_bits: 2,
            exp: vec![1, 2, 6, 16],
            frac_bits: 6,
        }),
        Op::Select(Select {
            what: "reverse and pad".into(),
            operands: 1,
            shape: vec![3],
            indices: vec![1, 0, -1],
            fill: 0,
        }),
        Op::Mul(Mul),
        Op::Sum(Sum { axis_len: 2 }),
        Op::Scale(Scale {
            name: "s".into(),
            scale: vec![3, -2],
            scale_bits: 4,
            scale_frac_bits: 1,
            offset: vec![1, 0],
            offset_bits: 4,
        }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_an_example_named_as_files_name_it() {
        use strum::IntoEnumIterator;
        let examples = examples();
        for kind in OpKind::iter() {
            let op = examples.iter().find(|op| OpKind::from(*op) == kind);
            let op = op.unwrap_or_else(|| panic!("no example of {kind:?}"));
            // A model file names the variant as `kind()` does.
            let json = serde_json::to_value(op).unwrap();
            let name = json.as_object().unwrap().keys().next().unwrap().clone();
            assert_eq!(name, op.kind());
        }
        assert_eq!(
            examples.len(),
            OpKind::iter().count(),
            "one example per kind"
        );
    }

    /// Every integer array an op stores, other than a shape, is a parameter the commitment
    /// must see. Walks each example's serialized form and compares with `parameters()`.
    #[test]
    fn every_stored_integer_array_is_committed() {
        fn arrays(v: &serde_json::Value, key: &str, out: &mut Vec<(String, usize)>) {
            match v {
                serde_json::Value::Array(a) if a.iter().all(|x| x.is_i64() || x.is_u64()) => {
                    out.push((key.to_string(), a.len()))
                }
                serde_json::Value::Array(a) => a.iter().for_each(|x| arrays(x, key, out)),
                serde_json::Value::Object(m) => m.iter().for_each(|(k, x)| arrays(x, k, out)),
                _ => {}
            }
        }
        for op in examples() {
            let mut found = Vec::new();
            arrays(&serde_json::to_value(&op).unwrap(), "", &mut found);
            // Shapes and geometry are structure, not parameters; a table's entries and a
            // softmax's exponentials are the function the model computes — architecture,
            // public in both modes and fixed by the verifying key (see `table`), and so is a
            // selection's wiring.
            let structure = [
                "indices",
                "table",
                "exp",
                "shape",
                "in_spatial",
                "kernel",
                "strides",
                "dilations",
                "pads",
            ];
            found.retain(|(k, _)| !structure.contains(&k.as_str()));
            let committed: usize = op.parameters().iter().map(|p| p.values.len()).sum();
            let stored: usize = found.iter().map(|(_, n)| n).sum();
            assert_eq!(
                committed,
                stored,
                "{}: stores {found:?} but commits {committed} values",
                op.kind()
            );
        }
    }
}
