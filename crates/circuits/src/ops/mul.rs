//! Mul — the R1CS image of `zkw_model::ops::mul`: one product constraint per element.

use ark_relations::gr1cs::SynthesisError;

use crate::lin::{Cs, Val, product};

/// Element-wise product of two operands of one length.
pub fn mul(cs: &Cs, a: &[Val], b: &[Val]) -> Result<Vec<Val>, SynthesisError> {
    a.iter()
        .zip(b)
        .map(|(a, b)| Ok(Val::plain(product(cs, &a.lin, &b.lin)?)))
        .collect()
}
