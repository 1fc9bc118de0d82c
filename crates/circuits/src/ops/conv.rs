//! Conv — the R1CS image of `zkw_model::ops::conv`: each output element is a dense row over
//! its taps. Fixed weights: a linear combination, no constraint. Private weights: one product
//! per tap, with each weight one committed witness reused at every position it slides over.

use ark_ff::One;
use ark_relations::gr1cs::SynthesisError;
use zkw_model::ops::Conv;

use crate::Fr;
use crate::commitment::Committed;
use crate::lin::{Cs, Lin, Val, fr, product};

/// Fixed weights: `acc = bias + Σ w·x` over each output's taps, as linear combinations.
pub fn conv_fixed(c: &Conv, x: &[Val]) -> Vec<Val> {
    let taps = c.geometry.taps();
    let per_channel = taps.len() / c.geometry.out_channels.max(1);
    taps.iter()
        .enumerate()
        .map(|(j, t)| {
            let acc = Lin::weighted_sum(t.iter().map(|&(w, i)| (fr(c.weights[w]), &x[i].lin)));
            Val::plain(acc.add_const(fr(c.bias[j / per_channel.max(1)])))
        })
        .collect()
}

/// Private weights: one product constraint per tap.
pub fn conv_private(
    cs: &Cs,
    c: &Conv,
    p: &[Committed],
    x: &[Val],
) -> Result<Vec<Val>, SynthesisError> {
    // The op's parameter groups, in `Conv::parameters` order: weights, then biases.
    let [weights, bias] = p else {
        return Err(SynthesisError::Unsatisfiable);
    };
    let taps = c.geometry.taps();
    let per_channel = taps.len() / c.geometry.out_channels.max(1);
    let one = Fr::one();
    taps.iter()
        .enumerate()
        .map(|(j, t)| {
            let products = t
                .iter()
                .map(|&(w, i)| product(cs, &weights.values[w], &x[i].lin))
                .collect::<Result<Vec<_>, _>>()?;
            let b = &bias.values[j / per_channel.max(1)];
            Ok(Val::plain(Lin::weighted_sum(
                std::iter::once((one, b)).chain(products.iter().map(|l| (one, l))),
            )))
        })
        .collect()
}
