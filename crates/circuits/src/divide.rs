//! Floor division of a non-negative value by a positive one: `q = floor(num / den)`.
//!
//! Constraints: `den · q = num - r`, with `q` decomposed into `q_bits` unsigned bits, `r` and
//! `den - 1 - r` each into `r_bits` unsigned bits (so `0 ≤ r < den`). Every quantity is far
//! below the field's modulus, so the field equation is the integer one and `(q, r)` is the
//! unique quotient and remainder. Without the range check on `q` any `r` would do: the field
//! always has some `q` with `den · q = num - r`. Cost: `q_bits + 2·r_bits + 3`.

use ark_relations::gr1cs::SynthesisError;

use crate::Fr;
use crate::lin::{Cs, Lin, enforce, enforce_equal, fr, witness};
use crate::range::{alloc_bits, bit_values, from_bits};

/// The witness of one division: the quotient's and remainder's bits and the bits of
/// `den - 1 - r`, least significant first.
#[derive(Debug, Clone)]
pub struct DivisionWitness {
    /// `q`'s bits.
    pub q: Vec<Fr>,
    /// `r`'s bits.
    pub r: Vec<Fr>,
    /// `den - 1 - r`'s bits.
    pub gap: Vec<Fr>,
}

impl DivisionWitness {
    /// The honest witness for `num / den` (trace values: hints; a wrong one fails the
    /// constraints).
    pub fn new(num: i64, den: i64, q_bits: u32, r_bits: u32) -> DivisionWitness {
        let (q, r) = if den > 0 {
            (num.div_euclid(den), num.rem_euclid(den))
        } else {
            (0, 0)
        };
        let mask = |v: i64, w: u32| (v as u64) & ((1u64 << w) - 1);
        DivisionWitness {
            q: bit_values(mask(q, q_bits), q_bits),
            r: bit_values(mask(r, r_bits), r_bits),
            gap: bit_values(mask(den - 1 - r, r_bits), r_bits),
        }
    }
}

/// `floor(num / den)` over a given witness; returns `q` as a single variable.
pub fn divide_with(
    cs: &Cs,
    num: &Lin,
    den: &Lin,
    w: &DivisionWitness,
) -> Result<Lin, SynthesisError> {
    // The quotient as one variable (what later ops read), tied to its bits.
    let q_bits = from_bits(&alloc_bits(cs, &w.q)?);
    let q = witness(cs, q_bits.value)?;
    enforce_equal(cs, &q, &q_bits)?;
    let r = from_bits(&alloc_bits(cs, &w.r)?);
    let gap = from_bits(&alloc_bits(cs, &w.gap)?);
    // r + gap = den - 1, so 0 ≤ r < den.
    enforce_equal(cs, &r.add(&gap), &den.add_const(-fr(1)))?;
    enforce(cs, den, &q, &num.sub(&r))?;
    Ok(q)
}

/// `floor(num / den)` from the trace's values of `num` and `den` (hints).
pub fn divide(
    cs: &Cs,
    num: &Lin,
    den: &Lin,
    num_value: i64,
    den_value: i64,
    q_bits: u32,
    r_bits: u32,
) -> Result<Lin, SynthesisError> {
    divide_with(
        cs,
        num,
        den,
        &DivisionWitness::new(num_value, den_value, q_bits, r_bits),
    )
}

/// Constraints one division costs.
pub fn cost(q_bits: u32, r_bits: u32) -> usize {
    (q_bits + 2 * r_bits + 3) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_relations::gr1cs::ConstraintSystem;

    fn run(num: i64, den: i64, w: &DivisionWitness) -> (bool, Fr) {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let n = witness(&cs, fr(num)).unwrap();
        let d = witness(&cs, fr(den)).unwrap();
        let q = divide_with(&cs, &n, &d, w).unwrap();
        (cs.is_satisfied().unwrap(), q.value)
    }

    #[test]
    fn quotients_are_floors() {
        for (num, den) in [(0i64, 1i64), (7, 2), (100, 7), (15, 15), (14, 15)] {
            let (ok, q) = run(num, den, &DivisionWitness::new(num, den, 8, 5));
            assert!(ok, "{num}/{den}");
            assert_eq!(q, fr(num / den));
        }
        let cs = ConstraintSystem::<Fr>::new_ref();
        let n = witness(&cs, fr(9)).unwrap();
        let d = witness(&cs, fr(4)).unwrap();
        divide(&cs, &n, &d, 9, 4, 4, 3).unwrap();
        assert_eq!(cs.num_constraints(), cost(4, 3));
    }

    #[test]
    fn a_remainder_as_large_as_the_divisor_is_refused() {
        // 9 = 4·1 + 5: q and r in their widths, but r ≥ den — only `r + gap = den - 1` fails.
        let mut w = DivisionWitness::new(9, 4, 4, 3);
        w.q = bit_values(1, 4);
        w.r = bit_values(5, 3);
        w.gap = bit_values(0, 3);
        assert!(!run(9, 4, &w).0);
    }

    #[test]
    fn a_zero_divisor_has_no_quotient() {
        assert!(!run(9, 0, &DivisionWitness::new(9, 0, 4, 3)).0);
    }
}
