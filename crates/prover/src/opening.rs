//! The owner's commitment to committed weights and the proof of knowledge of its opening
//! ([`zkw_verifier::commitment`] checks it and says why a registry requires it).
//!
//! Made once, at setup, by whoever holds the weights: `D_reg = ck·W + v·h` with a fresh
//! non-zero `v`, then the Σ-protocol — masks `t`, `ρ`; `T = ck·t + ρ·h`; the challenge `c`
//! over the key, `D_reg`, `T` and the model, key and owner; responses `z = t + c·W`,
//! `z_v = ρ + c·v`. The masks and `v` are dropped when it returns (`v` lives on only inside
//! the baseline's `-v·[η/δ]₁`).

use ark_bn254::{Fr, G1Affine};
use ark_ec::CurveGroup;
use ark_ff::{UniformRand, Zero};
use ark_std::rand::Rng;
use zkw_verifier::commitment::{CommitmentKey, Opening, OpeningContext, challenge};

use crate::error::ProverError;

/// A fresh blinding `v`: uniform and non-zero (`v = 0` would make the commitment a function of
/// the weights alone, which anyone could test guesses against).
pub fn draw_blinding(rng: &mut impl Rng) -> Fr {
    loop {
        let v = Fr::rand(rng);
        if !v.is_zero() {
            return v;
        }
    }
}

/// `D_reg = ck·w + v·h` and the proof of knowledge of its opening for `ctx`. Refused: `v = 0`
/// and weights of another count than the key's.
pub fn commit_and_open(
    ck: &CommitmentKey,
    w: &[Fr],
    v: Fr,
    ctx: &OpeningContext<'_>,
    rng: &mut impl Rng,
) -> Result<(G1Affine, Opening), ProverError> {
    if v.is_zero() {
        return Err(ProverError::Commitment(
            "the blinding v is zero: the commitment would not hide the weights".into(),
        ));
    }
    let wrong_count = || {
        ProverError::Commitment(format!(
            "{} weights for a commitment key of {}",
            w.len(),
            ck.bases.len()
        ))
    };
    let d_reg = ck.commit(w, v).ok_or_else(wrong_count)?.into_affine();
    let masks: Vec<Fr> = (0..w.len()).map(|_| Fr::rand(rng)).collect();
    let rho = Fr::rand(rng);
    let t = ck
        .commit(&masks, rho)
        .ok_or_else(wrong_count)?
        .into_affine();
    let c = challenge(&ck.digest(), ck.bases.len(), &d_reg, &t, ctx);
    let z = masks.iter().zip(w).map(|(m, w)| *m + c * w).collect();
    Ok((
        d_reg,
        Opening {
            t,
            z,
            z_v: rho + c * v,
        },
    ))
}
