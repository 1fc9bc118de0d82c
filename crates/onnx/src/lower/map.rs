//! `FloatOp::Map` (any element-wise function) → a `Table` of the function at every value of
//! its input (narrowed first to at most `TABLE_INPUT_BITS`), each entry quantized to the
//! output's calibrated format.

use zkw_model::ops::{Op, Table};

use super::{Lower, Lowered, narrow_for_table, quantize_value};
use crate::elementwise::Expr;

pub(super) fn lower(l: Lower<'_>, expr: &Expr) -> Lowered {
    let range = l.ranges[l.node.inputs[0]];
    let (x, frac, xbits) = narrow_for_table(l.b, l.name, l.x, range);
    let (out_frac, out_bits) = l.out;
    let lo = -(1i64 << (xbits - 1));
    let step = (-frac as f64).exp2();
    let table = (0..1i64 << xbits)
        .map(|k| quantize_value(expr.eval((lo + k) as f64 * step), out_frac, out_bits))
        .collect();
    let op = Op::Table(Table {
        function: expr.to_string(),
        in_bits: xbits,
        frac_bits: out_frac,
        bits: out_bits,
        table,
    });
    Ok((l.b.push(l.name, op, vec![x]), out_frac, out_bits))
}
