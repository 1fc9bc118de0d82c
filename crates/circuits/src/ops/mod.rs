//! One gadget per op of `zkw_model::ops`, each the R1CS image of the op's reference
//! semantics; [`gadget`] maps a graph node to its gadget, exhaustively (no `_` arm: a new op
//! does not compile until it has a gadget).

pub mod add;
pub mod conv;
pub mod dense;
pub mod max_pool;
pub mod mul;
pub mod relu;
pub mod requantize;
pub mod scale;
pub mod select;
pub mod softmax;
pub mod sum;
pub mod table;

use ark_relations::gr1cs::SynthesisError;
use zkw_model::{Interval, Op, WeightMode};

use crate::commitment::Committed;
use crate::lin::{Cs, Val};

/// What a node's gadget reads: its operands as circuit values, the trace's values of its
/// operands and output (checked, never trusted), the operands' static bounds, and in
/// private mode its allocated parameter groups.
pub struct NodeInputs<'a> {
    /// The operands, in the node's order.
    pub operands: Vec<&'a [Val]>,
    /// The trace's values of the operands.
    pub values: Vec<&'a [i64]>,
    /// The trace's values of the node's output.
    pub output: &'a [i64],
    /// The operands' static intervals.
    pub bounds: Vec<Interval>,
    /// Private and committed modes: the node's parameters as witnesses (empty in fixed mode).
    pub parameters: &'a [Committed],
}

/// The constraints of one node; returns its output values.
pub fn gadget(
    cs: &Cs,
    op: &Op,
    mode: WeightMode,
    n: NodeInputs<'_>,
) -> Result<Vec<Val>, SynthesisError> {
    let x = n.operands[0];
    match op {
        Op::Dense(d) => match mode {
            WeightMode::Fixed => Ok(dense::dense_fixed(d, x)),
            WeightMode::Private | WeightMode::Committed => {
                dense::dense_private(cs, d, n.parameters, x)
            }
        },
        Op::Requantize(r) => x
            .iter()
            .enumerate()
            .map(|(j, v)| {
                requantize::requantize(cs, r, &v.lin, n.values[0][j], n.bounds[0], n.output[j])
            })
            .collect(),
        Op::Relu(_) => x
            .iter()
            .enumerate()
            .map(|(j, v)| relu::relu(cs, v, n.values[0][j], n.output[j], n.bounds[0]))
            .collect(),
        Op::Reshape(_) => Ok(x.to_vec()),
        Op::Add(_) => Ok(add::add(x, n.operands[1])),
        Op::MaxPool(p) => max_pool::max_pool(cs, p, x, n.values[0], n.bounds[0]),
        Op::Conv(c) => match mode {
            WeightMode::Fixed => Ok(conv::conv_fixed(c, x)),
            WeightMode::Private | WeightMode::Committed => {
                conv::conv_private(cs, c, n.parameters, x)
            }
        },
        Op::Table(t) => table::table(cs, t, x, n.values[0], n.bounds[0]),
        Op::Softmax(s) => softmax::softmax(cs, s, x, n.values[0], n.bounds[0]),
        Op::Select(s) => Ok(select::select(s, &n.operands)),
        Op::Mul(_) => mul::mul(cs, x, n.operands[1]),
        Op::Sum(s) => Ok(sum::sum(s, x)),
        Op::Scale(s) => match mode {
            WeightMode::Fixed => Ok(scale::scale_fixed(s, x)),
            WeightMode::Private | WeightMode::Committed => {
                scale::scale_private(cs, n.parameters, x)
            }
        },
    }
}
