//! Table — the R1CS image of `zkw_model::ops::table`: each element is one lookup
//! ([`crate::lookup`]) into the entries from its static lower bound on, so a ReLU'd input
//! (only the non-negative half) pays for half the table.

use ark_relations::gr1cs::SynthesisError;
use zkw_model::Table;
use zkw_model::bounds::Interval;

use crate::Fr;
use crate::lin::{Cs, Lin, Val};
use crate::lookup::lookup;

/// The table applied to each element; `values` are the trace's input values (hints),
/// `bounds` the input's static interval (inside the table's domain: the bounds analysis
/// refuses a model where it is not).
pub fn table(
    cs: &Cs,
    t: &Table,
    x: &[Val],
    values: &[i64],
    bounds: Interval,
) -> Result<Vec<Val>, SynthesisError> {
    // From the bounds' lowest value to the table's end: every index the lookup can decompose
    // reads the entry the reference reads (beyond the end both clamp), even if the bounds
    // were loose — the gadget does not rely on them being exact.
    let entries = &t.table[t.index(bounds.lo)..];
    // Every entry non-negative: so is every output, and a ReLU after it costs one product.
    let non_negative = entries
        .iter()
        .all(|&v| v >= 0)
        .then(|| Lin::constant(Fr::from(1u64)));
    x.iter()
        .zip(values)
        .map(|(v, &value)| {
            Ok(Val {
                lin: lookup(cs, &v.lin, value, bounds.lo, entries)?,
                non_negative: non_negative.clone(),
            })
        })
        .collect()
}
