//! ReLU — the R1CS image of `zkw_model::ops::relu`: `z = v · [v ≥ 0]`.
//!
//! After a requantize the sign bit already exists (the quotient's top bit) and ReLU costs one
//! product. Elsewhere the value is decomposed in the width its static bounds give.

use ark_relations::gr1cs::SynthesisError;
use zkw_model::bounds::Interval;

use crate::Fr;
use crate::lin::{Cs, Lin, Val, enforce, enforce_equal, fr, witness};
use crate::range::{alloc_bits, signed_bit_values, signed_from_bits};

/// ReLU of one element; `v_value` and `z_value` are the trace's input and output (checked, not
/// trusted), `bounds` the input's static interval.
pub fn relu(
    cs: &Cs,
    v: &Val,
    v_value: i64,
    z_value: i64,
    bounds: Interval,
) -> Result<Val, SynthesisError> {
    let sign_bits = v
        .non_negative
        .is_none()
        .then(|| signed_bit_values(v_value, bounds.signed_width()));
    relu_with(cs, v, sign_bits.as_deref(), fr(z_value))
}

/// The constraints of ReLU over a given witness: the bits of `v`'s decomposition when `v`
/// has no sign bit yet (`None` otherwise), and `z`.
pub fn relu_with(
    cs: &Cs,
    v: &Val,
    sign_bits: Option<&[Fr]>,
    z_value: Fr,
) -> Result<Val, SynthesisError> {
    let sign = match (&v.non_negative, sign_bits) {
        (Some(s), _) => s.clone(),
        (None, Some(bits)) => {
            let ranged = signed_from_bits(alloc_bits(cs, bits)?);
            enforce_equal(cs, &ranged.value, &v.lin)?;
            ranged.non_negative().clone()
        }
        // No sign bit and no decomposition to make one: not a circuit anyone can build.
        (None, None) => return Err(SynthesisError::AssignmentMissing),
    };
    let z = witness(cs, z_value)?;
    enforce(cs, &v.lin, &sign, &z)?;
    // `z ≥ 0` always: its sign bit is the constant 1 (not `v`'s sign, which is 0 for v < 0
    // and would lie to any later op that reads it).
    Ok(Val {
        lin: z,
        non_negative: Some(Lin::constant(Fr::from(1u64))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_relations::gr1cs::ConstraintSystem;

    #[test]
    fn relu_of_relu_is_relu_and_its_output_is_marked_non_negative() {
        for v in [-5i64, 0, 5] {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let x = Val::plain(witness(&cs, fr(v)).unwrap());
            let bounds = Interval { lo: -8, hi: 7 };
            let z = relu(&cs, &x, v, v.max(0), bounds).unwrap();
            assert_eq!(z.non_negative.as_ref().unwrap().value, Fr::from(1u64));
            let z2 = relu(&cs, &z, v.max(0), v.max(0), bounds).unwrap();
            assert_eq!(z2.lin.value, fr(v.max(0)));
            assert!(cs.is_satisfied().unwrap(), "{v}");
            // The second ReLU reuses the constant sign: one product, no decomposition.
            assert_eq!(cs.num_constraints(), 4 + 1 + 1 + 1, "{v}");
        }
    }

    #[test]
    fn without_a_sign_bit_or_bits_there_is_no_relu() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let x = Val::plain(witness(&cs, fr(1)).unwrap());
        assert!(relu_with(&cs, &x, None, fr(1)).is_err());
    }
}
