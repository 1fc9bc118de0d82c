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
use zkw_verifier::width::Width;

/// A private layer's weights and biases, allocated as range-checked witnesses.
#[derive(Debug, Clone)]
pub struct PrivateDense {
    /// Row-major `[out][in]`, range-checked at `weight_width`.
    pub weights: Vec<Ranged>,
    /// One per output, range-checked at `bias_width`.
    pub bias: Vec<Ranged>,
    /// The weights' width: what they are range-checked and committed at.
    pub weight_width: Width,
    /// The biases' width.
    pub bias_width: Width,
}

/// Allocates a private layer's parameters, each range-checked at the width the commitment
/// packs it at.
pub fn alloc_private(cs: &Cs, d: &Dense) -> Result<PrivateDense, SynthesisError> {
    let width = |bits| Width::new(bits).map_err(|_| SynthesisError::Unsatisfiable);
    Ok(PrivateDense {
        weight_width: width(d.weight_bits)?,
        bias_width: width(d.bias_bits)?,
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
