//! Scale — the R1CS image of `zkw_model::ops::scale`: fixed constants make each output a
//! linear combination (no constraint); private ones are committed witnesses and cost one
//! product per element.

use ark_ff::One;
use ark_relations::gr1cs::SynthesisError;
use zkw_model::ops::Scale;

use crate::Fr;
use crate::commitment::Committed;
use crate::lin::{Cs, Lin, Val, fr, product};

/// Fixed constants: `scale_i · x_i + offset_i` as linear combinations.
pub fn scale_fixed(s: &Scale, x: &[Val]) -> Vec<Val> {
    x.iter()
        .zip(s.scale.iter().zip(&s.offset))
        .map(|(v, (&k, &o))| Val::plain(v.lin.scale(fr(k)).add_const(fr(o))))
        .collect()
}

/// Private constants: one product per element, the offset added.
pub fn scale_private(cs: &Cs, p: &[Committed], x: &[Val]) -> Result<Vec<Val>, SynthesisError> {
    // The op's parameter groups, in `Scale::parameters` order: factors, then offsets.
    let [factors, offsets] = p else {
        return Err(SynthesisError::Unsatisfiable);
    };
    x.iter()
        .zip(factors.values.iter().zip(&offsets.values))
        .map(|(v, (k, o))| {
            let p = product(cs, k, &v.lin)?;
            Ok(Val::plain(Lin::weighted_sum([
                (Fr::one(), &p),
                (Fr::one(), o),
            ])))
        })
        .collect()
}
