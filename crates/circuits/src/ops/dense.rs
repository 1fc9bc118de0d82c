//! Dense — the R1CS image of `zkw_model::ops::dense`.
//!
//! Fixed weights are constants, so an accumulator is a linear combination of the inputs and a
//! layer costs no constraint at all (the following requantize pins it down). Private weights are
//! range-checked witnesses (the same values the commitment absorbs) and every multiply-accumulate
//! costs one product constraint.

use ark_relations::gr1cs::SynthesisError;
use zkw_model::ops::Dense;

use ark_ff::One;

use crate::Fr;
use crate::commitment::Committed;
use crate::lin::{Cs, Lin, Val, fr, product};

/// Fixed weights: `acc[j] = bias[j] + Σ w[j][i] x[i]` as linear combinations.
pub fn dense_fixed(d: &Dense, x: &[Val]) -> Vec<Val> {
    (0..d.out_features)
        .map(|j| {
            let acc = Lin::weighted_sum(d.row(j).iter().zip(x).map(|(&w, v)| (fr(w), &v.lin)));
            Val::plain(acc.add_const(fr(d.bias[j])))
        })
        .collect()
}

/// Private weights: one product constraint per multiply-accumulate.
pub fn dense_private(
    cs: &Cs,
    d: &Dense,
    p: &[Committed],
    x: &[Val],
) -> Result<Vec<Val>, SynthesisError> {
    // The op's parameter groups, in `Dense::parameters` order: weights, then biases.
    let [weights, bias] = p else {
        return Err(SynthesisError::Unsatisfiable);
    };
    (0..d.out_features)
        .map(|j| {
            let row = &weights.values[j * d.in_features..(j + 1) * d.in_features];
            let products = row
                .iter()
                .zip(x)
                .map(|(w, v)| product(cs, w, &v.lin))
                .collect::<Result<Vec<_>, _>>()?;
            // One allocation for the row (adding term by term would copy it quadratically).
            let one = Fr::one();
            let acc = Lin::weighted_sum(
                std::iter::once((one, &bias.values[j])).chain(products.iter().map(|l| (one, l))),
            );
            Ok(Val::plain(acc))
        })
        .collect()
}
