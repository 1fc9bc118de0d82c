//! Table — the R1CS image of `zkw_model::ops::table`: each element is one lookup
//! ([`crate::lookup`]) into the entries from its static lower bound on, so a ReLU'd input
//! (only the non-negative half) pays for half the table.

use ark_relations::gr1cs::SynthesisError;
use zkw_model::bounds::Interval;
use zkw_model::ops::Table;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lin::{fr, witness};
    use crate::ops::relu::relu;
    use ark_relations::gr1cs::ConstraintSystem;

    /// A table whose reachable entries are all non-negative marks its outputs so: a ReLU after
    /// it is one product. With a negative entry it does not, and the ReLU decomposes its input
    /// (3 bits for [-4, 3], a tie, the product: 5 constraints) — and still gives max(0, v).
    #[test]
    fn outputs_carry_a_sign_bit_only_when_every_entry_is_non_negative() {
        for (entries, v, relu_cost) in [
            (vec![0i64, 1, 2, 3], 1i64, 1),
            (vec![-4, -3, -2, -1], 1, 5),
            (vec![-1, 0, 1, 2], -2, 5),
        ] {
            let t = Table {
                function: "test".into(),
                in_bits: 2,
                frac_bits: 0,
                bits: 4,
                table: entries.clone(),
            };
            let cs = ConstraintSystem::<Fr>::new_ref();
            let x = [Val::plain(witness(&cs, fr(v)).unwrap())];
            let y = table(&cs, &t, &x, &[v], Interval { lo: -2, hi: 1 }).unwrap();
            let e = t.apply(v);
            let before = cs.num_constraints();
            let r = relu(&cs, &y[0], e, e.max(0), Interval { lo: -4, hi: 3 }).unwrap();
            assert_eq!(r.lin.value, fr(e.max(0)), "{entries:?}");
            assert!(cs.is_satisfied().unwrap(), "{entries:?}");
            assert_eq!(cs.num_constraints() - before, relu_cost, "{entries:?}");
        }
    }
}
