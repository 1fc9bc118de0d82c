//! Dense — the R1CS image of `zkw_model::exec::dense`.
//!
//! Fixed weights are constants, so an accumulator is a linear combination of the inputs and a
//! layer costs no constraint at all (the following requantize pins it down). Private weights are
//! range-checked witnesses (the same values the commitment absorbs) and every multiply-accumulate
//! costs one product constraint.

use ark_relations::gr1cs::SynthesisError;
use zkw_model::Dense;

use ark_ff::One;

use crate::Fr;
use crate::lin::{Cs, Lin, Val, fr, product};
use crate::range::{Ranged, signed};

/// A private layer's weights and biases, allocated as range-checked witnesses.
#[derive(Debug, Clone)]
pub struct PrivateDense {
    /// Row-major `[out][in]`, `weight_bits` wide.
    pub weights: Vec<Ranged>,
    /// One per output, `bias_bits` wide.
    pub bias: Vec<Ranged>,
}

/// Allocates a private layer's parameters.
pub fn alloc_private(cs: &Cs, d: &Dense) -> Result<PrivateDense, SynthesisError> {
    Ok(PrivateDense {
        weights: d
            .weights
            .iter()
            .map(|&w| signed(cs, w, d.weight_bits))
            .collect::<Result<_, _>>()?,
        bias: d
            .bias
            .iter()
            .map(|&b| signed(cs, b, d.bias_bits))
            .collect::<Result<_, _>>()?,
    })
}

/// Fixed weights: `acc[j] = bias[j] + Σ w[j][i] x[i]` as linear combinations.
pub fn dense_fixed(d: &Dense, x: &[Val]) -> Vec<Val> {
    (0..d.out_features)
        .map(|j| {
            let row = &d.weights[j * d.in_features..(j + 1) * d.in_features];
            let acc = Lin::weighted_sum(row.iter().zip(x).map(|(&w, v)| (fr(w), &v.lin)));
            Val::plain(acc.add_const(fr(d.bias[j])))
        })
        .collect()
}

/// Private weights: one product constraint per multiply-accumulate.
pub fn dense_private(
    cs: &Cs,
    d: &Dense,
    p: &PrivateDense,
    x: &[Val],
) -> Result<Vec<Val>, SynthesisError> {
    (0..d.out_features)
        .map(|j| {
            let row = &p.weights[j * d.in_features..(j + 1) * d.in_features];
            let products = row
                .iter()
                .zip(x)
                .map(|(w, v)| product(cs, &w.value, &v.lin))
                .collect::<Result<Vec<_>, _>>()?;
            // One allocation for the row (adding term by term would copy it quadratically).
            let one = Fr::one();
            let acc = Lin::weighted_sum(
                std::iter::once((one, &p.bias[j].value)).chain(products.iter().map(|l| (one, l))),
            );
            Ok(Val::plain(acc))
        })
        .collect()
}
