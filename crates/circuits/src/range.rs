//! Range checks by bit decomposition.
//!
//! A signed value `v` of width `w` is represented by the `w` boolean witnesses of the
//! offset-binary `u = v + 2^(w-1)`; `v` itself is then the linear combination
//! `Σ b_k 2^k - 2^(w-1)`, so the check costs `w` constraints and the value none. The top bit is
//! 1 exactly when `v ≥ 0`, which ReLU and saturation reuse.
//!
//! Witness generation ([`bit_values`], [`signed_bit_values`]) is kept apart from the
//! constraints ([`alloc_bits`], [`signed_from_bits`], [`tie`]): the honest path composes them,
//! and the adversarial tests feed the constraint half values no honest prover would compute.

use ark_ff::AdditiveGroup;
use ark_relations::gr1cs::SynthesisError;

use crate::Fr;
use crate::lin::{Cs, Lin, boolean_value, enforce_equal, fr, witness};

/// A range-checked signed value.
#[derive(Debug, Clone)]
pub struct Ranged {
    /// The value as a linear combination of its bits.
    pub value: Lin,
    /// Offset-binary bits, least significant first.
    pub bits: Vec<Lin>,
}

impl Ranged {
    /// The bit that is 1 exactly when the value is non-negative.
    pub fn non_negative(&self) -> &Lin {
        self.bits.last().expect("width ≥ 1")
    }
}

/// The `width` low bits of `value`, least significant first (witness generation).
pub fn bit_values(value: u64, width: u32) -> Vec<Fr> {
    (0..width).map(|k| Fr::from((value >> k) & 1)).collect()
}

/// The offset-binary bits of a signed value in `width` bits (witness generation). An
/// out-of-range value (a wrong trace) keeps only its low bits: the value these bits stand for
/// then differs from the trace, and the system is unsatisfied.
pub fn signed_bit_values(value: i64, width: u32) -> Vec<Fr> {
    let u = value.wrapping_add(1i64 << (width - 1));
    bit_values(u as u64 & ((1u64 << width) - 1), width)
}

/// Allocates bit values as witnesses, each constrained boolean.
pub fn alloc_bits(cs: &Cs, bits: &[Fr]) -> Result<Vec<Lin>, SynthesisError> {
    bits.iter().map(|&b| boolean_value(cs, b)).collect()
}

/// `Σ b_k 2^k`.
pub fn from_bits(bits: &[Lin]) -> Lin {
    let mut pow = Fr::from(1u64);
    let weights: Vec<Fr> = bits
        .iter()
        .map(|_| {
            let w = pow;
            pow.double_in_place();
            w
        })
        .collect();
    // One allocation: every range-checked value (hundreds of thousands of weights) passes here.
    Lin::weighted_sum(weights.into_iter().zip(bits))
}

/// The signed value that allocated offset-binary bits stand for: `Σ b_k 2^k - 2^(w-1)`.
pub fn signed_from_bits(bits: Vec<Lin>) -> Ranged {
    let offset = 1i64 << (bits.len().max(1) - 1);
    let value = from_bits(&bits).add_const(-fr(offset));
    Ranged { value, bits }
}

/// Signed: `value ∈ [-2^(width-1), 2^(width-1))`.
pub fn signed(cs: &Cs, value: i64, width: u32) -> Result<Ranged, SynthesisError> {
    Ok(signed_from_bits(alloc_bits(
        cs,
        &signed_bit_values(value, width),
    )?))
}

/// A range-checked value made a witness of its own (carrying `value`), tied to its bits by
/// one constraint.
pub fn tie(cs: &Cs, r: Ranged, value: Fr) -> Result<Ranged, SynthesisError> {
    let v = witness(cs, value)?;
    enforce_equal(cs, &v, &r.value)?;
    Ok(Ranged {
        value: v,
        bits: r.bits,
    })
}

/// Signed, with the value also a witness of its own, tied to its bits by one constraint.
///
/// For values that many constraints reference — a dense layer's input appears in every one of
/// its output rows — one term per use instead of `width` makes the matrices (and the prover's
/// matrix-vector products) `width` times sparser for the price of one constraint.
pub fn signed_var(cs: &Cs, value: i64, width: u32) -> Result<Ranged, SynthesisError> {
    let r = signed(cs, value, width)?;
    let v = r.value.value;
    tie(cs, r, v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_relations::gr1cs::ConstraintSystem;

    #[test]
    fn signed_round_trips_and_sign_bit() {
        for v in [-128i64, -1, 0, 1, 127] {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let r = signed(&cs, v, 8).unwrap();
            assert_eq!(r.value.value, fr(v));
            assert_eq!(r.non_negative().value, Fr::from((v >= 0) as u64));
            assert!(cs.is_satisfied().unwrap());
            assert_eq!(cs.num_constraints(), 8);

            let cs = ConstraintSystem::<Fr>::new_ref();
            let r = signed_var(&cs, v, 8).unwrap();
            assert_eq!(r.value.terms.len(), 1);
            assert_eq!(r.value.value, fr(v));
            assert!(cs.is_satisfied().unwrap());
            assert_eq!(cs.num_constraints(), 9);
        }
    }
}
