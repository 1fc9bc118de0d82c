//! ReLU — the R1CS image of `zkw_model::exec::relu`: `z = v · [v ≥ 0]`.
//!
//! After a requantize the sign bit already exists (the quotient's top bit) and ReLU costs one
//! product. Elsewhere the value is decomposed in the width its static bounds give.

use ark_relations::gr1cs::SynthesisError;
use zkw_model::bounds::Interval;

use crate::lin::{Cs, Val, enforce, enforce_equal, fr, witness};
use crate::range::signed;

/// ReLU of one element; `v_value` and `z_value` are the trace's input and output (checked, not
/// trusted), `bounds` the input's static interval.
pub fn relu(
    cs: &Cs,
    v: &Val,
    v_value: i64,
    z_value: i64,
    bounds: Interval,
) -> Result<Val, SynthesisError> {
    let sign = match &v.non_negative {
        Some(s) => s.clone(),
        None => {
            let ranged = signed(cs, v_value, bounds.signed_width())?;
            enforce_equal(cs, &ranged.value, &v.lin)?;
            ranged.non_negative().clone()
        }
    };
    let z = witness(cs, fr(z_value))?;
    enforce(cs, &v.lin, &sign, &z)?;
    Ok(Val {
        lin: z,
        non_negative: Some(sign),
    })
}
