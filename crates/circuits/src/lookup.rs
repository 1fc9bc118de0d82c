//! Table lookup in R1CS: `y = T[x - lo]` for `x ∈ [lo, lo + n)`, by a two-level one-hot
//! decomposition of the index.
//!
//! The index `x - lo` is written `L·h + l` with `h ∈ [0, K)`, `l ∈ [0, L)` and `K·L ≥ n`, each
//! digit as a one-hot vector of booleans (the last element of each is `1 - Σ others`, itself
//! constrained boolean, so exactly one is set). Then, with `row_i(l) = Σ_j T[i·L + j]·l_j` a
//! linear combination of the column selectors with the table's constants,
//! `y = Σ_i h_i · row_i(l)`: one product per row. Total: `2K + L + 1` constraints for `K + L - 2`
//! booleans, `K - 1` products and `y` — about `2√(2n)` per lookup (47 for an 8-bit input) instead
//! of the `n` a polynomial through all entries would cost.
//!
//! Soundness: the booleans and the two one-hot sums pin `h` and `l` to single digits, the
//! index equation (integers far below the field's modulus) then pins them to the only
//! decomposition of `x - lo`, and the products and the output equation make `y` exactly the
//! selected entry. An `x` outside `[lo, lo + K·L)` has no decomposition: the system is
//! unsatisfiable. Indices in `[n, K·L)` read the last entry — the clamp the reference applies
//! (`zkw_model::ops::Table::index`); the bounds analysis keeps honest inputs inside `[lo, lo+n)`.
//!
//! As elsewhere, witness generation ([`lookup`]) is kept apart from the constraints
//! ([`lookup_with`]), so the adversarial tests can feed the constraints any selectors.

use ark_ff::One;
use ark_relations::gr1cs::SynthesisError;

use crate::Fr;
use crate::lin::{Cs, Lin, boolean_value, enforce, enforce_equal, fr, not, product, witness};

/// The table's shape: `(rows K, columns L)` with `K·L ≥ n`, minimizing the cost `2K + L`.
pub fn split(n: usize) -> (usize, usize) {
    let n = n.max(1);
    (1..=n)
        .map(|l| (n.div_ceil(l), l))
        .min_by_key(|&(k, l)| (2 * k + l, k))
        .expect("n ≥ 1")
}

/// Constraints one lookup into `n` entries costs.
pub fn cost(n: usize) -> usize {
    let (k, l) = split(n);
    2 * k + l + 1 - usize::from(k == 1) - usize::from(l == 1)
}

/// The one-hot vector with `hot` set (all zero when `hot` is out of range), as field values.
pub fn one_hot_values(hot: usize, len: usize) -> Vec<Fr> {
    (0..len).map(|i| Fr::from(u64::from(i == hot))).collect()
}

/// A one-hot vector: all but the last allocated boolean, the last `1 - Σ others`, constrained
/// boolean (which makes exactly one of them 1). `values[len - 1]` is ignored.
fn one_hot(cs: &Cs, values: &[Fr]) -> Result<Vec<Lin>, SynthesisError> {
    let (_, rest) = values.split_last().ok_or(SynthesisError::Unsatisfiable)?;
    let mut out = rest
        .iter()
        .map(|&v| boolean_value(cs, v))
        .collect::<Result<Vec<Lin>, _>>()?;
    let others = Lin::weighted_sum(out.iter().map(|b| (Fr::one(), b)));
    let final_one = Lin::constant(Fr::one()).sub(&others);
    if !out.is_empty() {
        enforce(cs, &final_one, &not(&final_one), &Lin::default())?;
    }
    out.push(final_one);
    Ok(out)
}

/// `T[x - lo]`, with the selectors computed from `x_value` (the trace's value of `x`: a hint,
/// checked by the constraints).
pub fn lookup(
    cs: &Cs,
    x: &Lin,
    x_value: i64,
    lo: i64,
    entries: &[i64],
) -> Result<Lin, SynthesisError> {
    let (k, l) = split(entries.len());
    let index = x_value.wrapping_sub(lo);
    // An index outside [0, K·L) has no decomposition: whatever selectors this makes (a row
    // past the last is all zeros), the system is unsatisfied.
    let i = usize::try_from(index).unwrap_or(usize::MAX);
    let (row, col, y) = (i / l, i % l, entries[i.min(entries.len() - 1)]);
    lookup_with(
        cs,
        x,
        lo,
        entries,
        &one_hot_values(row, k),
        &one_hot_values(col, l),
        fr(y),
    )
}

/// The constraints of a lookup over given selectors (`rows`: `K` values, `cols`: `L` values,
/// the last of each ignored) and output `y`.
pub fn lookup_with(
    cs: &Cs,
    x: &Lin,
    lo: i64,
    entries: &[i64],
    rows: &[Fr],
    cols: &[Fr],
    y: Fr,
) -> Result<Lin, SynthesisError> {
    let (k, l) = split(entries.len());
    if rows.len() != k || cols.len() != l {
        return Err(SynthesisError::Unsatisfiable);
    }
    let h = one_hot(cs, rows)?;
    let c = one_hot(cs, cols)?;
    // x - lo = L·Σ i·h_i + Σ j·c_j.
    let index = Lin::weighted_sum(
        h.iter()
            .enumerate()
            .map(|(i, b)| (fr((i * l) as i64), b))
            .chain(c.iter().enumerate().map(|(j, b)| (fr(j as i64), b))),
    );
    enforce_equal(cs, &x.add_const(-fr(lo)), &index)?;
    let last = entries.len() - 1;
    let row = |i: usize| {
        Lin::weighted_sum(
            c.iter()
                .enumerate()
                .map(|(j, b)| (fr(entries[(i * l + j).min(last)]), b)),
        )
    };
    // y = Σ_i h_i · row_i: K - 1 products, the last folded into the output's equation.
    let mut sum = Lin::default();
    for (i, hi) in h.iter().enumerate().take(k - 1) {
        sum = sum.add(&product(cs, hi, &row(i))?);
    }
    let out = witness(cs, y)?;
    let last_row = row(k - 1);
    if k == 1 {
        // One row: h is the constant 1 and y is that row's linear combination.
        enforce_equal(cs, &out, &last_row)?;
    } else {
        enforce(cs, &h[k - 1], &last_row, &out.sub(&sum))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_relations::gr1cs::ConstraintSystem;

    #[test]
    fn split_balances_rows_and_columns() {
        assert_eq!(split(1), (1, 1));
        // 10 rows of 26 (260 ≥ 256) cost 2·10 + 26 = 46, less than 8 × 32's 48.
        assert_eq!(split(256), (10, 26));
        assert_eq!(cost(256), 47);
        assert_eq!(split(4), (1, 4));
        for n in [2usize, 3, 100, 1000, 65536] {
            let (k, l) = split(n);
            assert!(k * l >= n && (k - 1) * l < n, "{n}: {k} × {l}");
        }
    }

    #[test]
    fn every_entry_of_tables_of_every_size_is_read_back() {
        for n in [1usize, 2, 3, 7, 16, 33, 100] {
            let entries: Vec<i64> = (0..n as i64).map(|i| i * i - 40).collect();
            for (i, &want) in entries.iter().enumerate() {
                let cs = ConstraintSystem::<Fr>::new_ref();
                let x = witness(&cs, fr(i as i64 - 5)).unwrap();
                let y = lookup(&cs, &x, i as i64 - 5, -5, &entries).unwrap();
                assert_eq!(y.value, fr(want), "n={n} i={i}");
                assert!(cs.is_satisfied().unwrap(), "n={n} i={i}");
                assert_eq!(cs.num_constraints(), cost(n), "n={n}");
            }
        }
    }

    #[test]
    fn indices_past_the_last_entry_read_it_as_the_reference_clamps() {
        // Nine entries in two rows of five: index 9 exists in the grid, reads entry 8.
        let entries: Vec<i64> = (0..9).map(|i| 10 * i).collect();
        assert_eq!(split(9), (2, 5));
        let cs = ConstraintSystem::<Fr>::new_ref();
        let x = witness(&cs, fr(9)).unwrap();
        let y = lookup(&cs, &x, 9, 0, &entries).unwrap();
        assert_eq!(y.value, fr(80));
        assert!(cs.is_satisfied().unwrap());
    }

    #[test]
    fn selectors_of_the_wrong_length_are_refused() {
        let entries = [1i64, 2, 3, 4, 5, 6, 7, 8, 9];
        let (k, l) = split(entries.len());
        let cs = ConstraintSystem::<Fr>::new_ref();
        let x = witness(&cs, fr(0)).unwrap();
        for (rows, cols) in [(k + 1, l), (k, l + 1), (k - 1, l - 1)] {
            let r = lookup_with(
                &cs,
                &x,
                0,
                &entries,
                &one_hot_values(0, rows),
                &one_hot_values(0, cols),
                fr(1),
            );
            assert!(
                matches!(r, Err(SynthesisError::Unsatisfiable)),
                "{rows} × {cols}"
            );
        }
    }

    #[test]
    fn an_input_outside_the_table_has_no_lookup() {
        let entries = [1i64, 2, 3, 4, 5, 6, 7, 8, 9];
        for v in [-1i64, 12, 1000] {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let x = witness(&cs, fr(v)).unwrap();
            lookup(&cs, &x, v, 0, &entries).unwrap();
            assert!(!cs.is_satisfied().unwrap(), "{v}");
        }
    }
}
