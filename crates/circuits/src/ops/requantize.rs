//! Requantize: round-half-up shift, then saturate — the R1CS image of
//! `zkw_model::ops::requantize`.
//!
//! `acc + 2^(s-1) = q · 2^s + r` with `r ∈ [0, 2^s)` (s bits) and `q` range-checked in `K` bits,
//! where `K` comes from the static bounds, so an accepted model's quotient always fits. When
//! `K ≤ b` saturation can never happen and `y = q`. Otherwise, with `u = q + 2^(K-1)`'s bits,
//! `q` is in the `b`-bit range iff the "middle" bits `b-1 .. K-2` are all 0 (for `q ≥ 0`) or all
//! 1 (for `q < 0`); products over those bits give `in_range` with every intermediate fixed by the
//! bits, and `(q - sat) · in_range = y - sat` selects `y`. Cost: `s + K` bits plus
//! `2(K - b) + 1` constraints.
//!
//! The witness comes in a [`RequantizeHint`] (the remainder's and the quotient's bits, and
//! `y`): [`RequantizeHint::honest`] computes it from the trace; the adversarial tests hand
//! [`requantize_with`] the values a cheating prover would pick.

use ark_relations::gr1cs::SynthesisError;
use zkw_model::bounds::{Interval, quotient_interval};
use zkw_model::ir::signed_range;
use zkw_model::ops::Requantize;

use crate::Fr;
use crate::lin::{Cs, Lin, Val, enforce, enforce_equal, fr, not, product, witness};
use crate::range::{alloc_bits, bit_values, from_bits, signed_bit_values, signed_from_bits};

/// Width of the range-checked quotient for accumulators in `acc`.
pub fn quotient_width(acc: Interval, r: &Requantize) -> u32 {
    quotient_interval(acc, r.shift).signed_width()
}

/// `Π (1 - b)` when `want_one` is false, `Π b` otherwise: 1 iff every bit equals `want_one`.
fn all_equal(cs: &Cs, bits: &[Lin], want_one: bool) -> Result<Lin, SynthesisError> {
    let lit = |b: &Lin| if want_one { b.clone() } else { not(b) };
    let mut acc = lit(&bits[0]);
    for b in &bits[1..] {
        acc = product(cs, &acc, &lit(b))?;
    }
    Ok(acc)
}

/// The witness of one requantization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequantizeHint {
    /// The remainder `r`'s `s` bits, least significant first.
    pub rem_bits: Vec<Fr>,
    /// The quotient `q`'s `K` offset-binary bits.
    pub q_bits: Vec<Fr>,
    /// The saturated result (used only when `K > b`, where it is a witness of its own).
    pub y: Fr,
}

impl RequantizeHint {
    /// The honest witness for accumulator `acc_value` and the trace's result `y_value`, with a
    /// `k`-bit quotient.
    pub fn honest(r: &Requantize, k: u32, acc_value: i64, y_value: i64) -> Self {
        let s = r.shift;
        // `zkw_model::ops::requantize::round_shift` in i128: a trace from another executor is untrusted and may hold any
        // i64 (the constraints then fail; the witness generator must not overflow first).
        let rounding = if s == 0 { 0 } else { 1i128 << (s - 1) };
        let n = acc_value as i128 + rounding;
        // q = floor(n / 2^s); the remainder n - q·2^s is n's low s bits (two's complement).
        let q = (n >> s) as i64;
        RequantizeHint {
            rem_bits: bit_values(n as u64 & ((1u64 << s) - 1), s),
            q_bits: signed_bit_values(q, k),
            y: fr(y_value),
        }
    }
}

/// Requantizes one accumulator. `acc_value` is the trace's accumulator, `y_value` the trace's
/// requantized value; both are checked, not trusted.
pub fn requantize(
    cs: &Cs,
    r: &Requantize,
    acc: &Lin,
    acc_value: i64,
    acc_bounds: Interval,
    y_value: i64,
) -> Result<Val, SynthesisError> {
    let k = quotient_width(acc_bounds, r);
    requantize_with(
        cs,
        r,
        acc,
        &RequantizeHint::honest(r, k, acc_value, y_value),
    )
}

/// The constraints of one requantization over a given witness (`hint.q_bits.len()` is `K`).
pub fn requantize_with(
    cs: &Cs,
    r: &Requantize,
    acc: &Lin,
    hint: &RequantizeHint,
) -> Result<Val, SynthesisError> {
    let s = r.shift;
    let k = hint.q_bits.len() as u32;
    let rounding = if s == 0 { 0 } else { 1i64 << (s - 1) };
    let r_bits = alloc_bits(cs, &hint.rem_bits)?;
    let quotient = signed_from_bits(alloc_bits(cs, &hint.q_bits)?);
    // acc + 2^(s-1) = q · 2^s + r
    let rhs = quotient
        .value
        .scale(Fr::from(1u64 << s))
        .add(&from_bits(&r_bits));
    enforce_equal(cs, &acc.add_const(fr(rounding)), &rhs)?;
    let sign = quotient.non_negative().clone();

    if k <= r.bits {
        return Ok(Val {
            lin: quotient.value,
            non_negative: Some(sign),
        });
    }
    let middle = &quotient.bits[(r.bits - 1) as usize..(k - 1) as usize];
    let pos_ok = all_equal(cs, middle, false)?;
    let neg_ok = all_equal(cs, middle, true)?;
    let a = product(cs, &sign, &pos_ok)?;
    let c = product(cs, &not(&sign), &neg_ok)?;
    let in_range = a.add(&c);
    let (lo, hi) = signed_range(r.bits);
    // sat = sign ? hi : lo
    let sat = sign.scale(fr(hi - lo)).add_const(fr(lo));
    let y = witness(cs, hint.y)?;
    enforce(cs, &quotient.value.sub(&sat), &in_range, &y.sub(&sat))?;
    Ok(Val {
        lin: y,
        non_negative: Some(sign),
    })
}
