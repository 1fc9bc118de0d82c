//! Softmax — the R1CS image of `zkw_model::ops::softmax`, per row: the maximum by the
//! MaxPool gadget's running maximum, each difference's exponential by a lookup, the sum as a
//! linear combination, and each output by an exact floor division ([`crate::divide`]).

use ark_relations::gr1cs::SynthesisError;
use zkw_model::bounds::Interval;
use zkw_model::ops::Softmax;

use crate::Fr;
use crate::divide::divide;
use crate::lin::{Cs, Lin, Val, enforce_equal, fr, witness};
use crate::lookup::lookup;
use crate::ops::max_pool::{difference_span, maximum};

/// Softmax of each row; `values` are the trace's input values (hints), `bounds` the input's
/// static interval (inside the table's domain).
pub fn softmax(
    cs: &Cs,
    s: &Softmax,
    x: &[Val],
    values: &[i64],
    bounds: Interval,
) -> Result<Vec<Val>, SynthesisError> {
    let span = difference_span(bounds);
    // Differences x - max lie in [lo - hi, 0]: the table's top `hi - lo + 1` entries.
    let top = s.exp.len() - 1;
    let entries = &s.exp[top - (span.hi as usize).min(top)..];
    let largest = entries.iter().copied().max().unwrap_or(0);
    // S ≤ n · largest; the numerator's remainder is below 2S.
    let sum_bound = largest * s.axis_len as i64;
    let r_bits = 64 - (2 * sum_bound as u64).leading_zeros();
    let q_bits = s.frac_bits + 1;
    let scale = fr(2i64 << s.frac_bits);
    let mut out = Vec::with_capacity(x.len());
    for (row, row_values) in x.chunks(s.axis_len).zip(values.chunks(s.axis_len)) {
        let items: Vec<(&Val, i64)> = row.iter().zip(row_values.iter().copied()).collect();
        let (m, m_value) = maximum(cs, &items, span)?;
        let mut e = Vec::with_capacity(row.len());
        let mut e_values = Vec::with_capacity(row.len());
        for (v, &value) in row.iter().zip(row_values) {
            let d_value = value.wrapping_sub(m_value);
            e.push(lookup(cs, &v.lin.sub(&m.lin), d_value, span.lo, entries)?);
            e_values.push(s.exp_of(d_value));
        }
        // The row's sum as one variable: each of the row's divisions reads it twice, and a
        // linear combination of n terms there would make the row n² terms.
        let sum_value: i64 = e_values.iter().sum();
        let sum = witness(cs, fr(sum_value))?;
        enforce_equal(
            cs,
            &sum,
            &Lin::weighted_sum(e.iter().map(|l| (Fr::from(1u64), l))),
        )?;
        for (ei, &e_value) in e.iter().zip(&e_values) {
            // y = floor((e·2^(f+1) + S) / 2S).
            let num = ei.scale(scale).add(&sum);
            let num_value = e_value * (2i64 << s.frac_bits) + sum_value;
            let y = divide(
                cs,
                &num,
                &sum.scale(fr(2)),
                num_value,
                2 * sum_value,
                q_bits,
                r_bits,
            )?;
            out.push(Val {
                lin: y,
                non_negative: Some(Lin::constant(Fr::from(1u64))),
            });
        }
    }
    Ok(out)
}
