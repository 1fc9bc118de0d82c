//! `FloatOp::Select` (every data movement) → `Select` over operands brought to one scale, the
//! coarsest; finer ones are shifted to it.

use zkw_model::ops::{Op, Select};

use super::{Lower, Lowered, align_to, quantize_value};

pub(super) fn lower(
    l: Lower<'_>,
    what: &str,
    shape: &[usize],
    indices: &[i64],
    fill: f64,
) -> Lowered {
    let operands: Vec<_> = l.node.inputs.iter().map(|&i| l.at[i]).collect();
    let common = operands.iter().map(|o| o.1).min().unwrap_or(l.x.1);
    let ids: Vec<_> = operands
        .iter()
        .map(|&(t, f, w)| align_to(l.b, l.name, t, f, w, common))
        .collect();
    let width = operands.iter().map(|o| o.2).max().unwrap_or(l.bits);
    let fill = quantize_value(fill, common, width);
    let op = Op::Select(Select {
        what: what.to_string(),
        operands: ids.len(),
        shape: shape.to_vec(),
        indices: indices.to_vec(),
        fill,
    });
    Ok((l.b.push(l.name, op, ids), common, width))
}
