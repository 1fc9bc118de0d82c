//! The owner's commitment to committed weights and the proof of knowledge of its opening
//! ([`zkw_verifier::commitment`] checks it and says why a registry requires it).
//!
//! Made once, at setup, by whoever holds the weights: `D_reg = ck·W + v·h` with a fresh
//! non-zero `v`, then the Σ-protocol — masks `t`, `ρ`; `T = ck·t + ρ·h`, and for each range
//! slice `T'_k` over the slice's key with the same masks for its wires; the challenge `c` over
//! the key, `D_reg`, the range proof, every `T` and the model, key and owner; responses
//! `z = t + c·W`, `z_v = ρ + c·v` and each slice's padding and blinding responses. Sharing `z`
//! is what links the range-checked values to the committed ones. The masks and `v` are
//! dropped when it returns (`v` lives on only inside the baseline's `-v·[η/δ]₁`).

use ark_bn254::{Fr, G1Affine};
use ark_ec::CurveGroup;
use ark_ff::{UniformRand, Zero};
use ark_std::rand::Rng;
use zkw_verifier::commitment::CommitmentKey;
use zkw_verifier::opening::{Opening, OpeningContext, SliceLink, Transcript, challenge};
use zkw_verifier::range::RangeProof;

use crate::error::ProverError;

/// What linking a range slice to the model's commitment needs: its padding values and its
/// commitment's blinding (`crate::range_proof` makes both).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SliceSecret {
    /// The padding values after the slice's wires (zeros).
    pub pads: Vec<Fr>,
    /// The slice commitment's blinding `v'_k`.
    pub v: Fr,
}

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

/// `D_reg = ck·w + v·h` and the proof of knowledge of its opening for `ctx`, linked to every
/// slice of `range` (whose secrets are `slices`). Refused: `v = 0`, weights of another count
/// than the key's, a range proof of another layout.
pub fn commit_and_open(
    ck: &CommitmentKey,
    w: &[Fr],
    v: Fr,
    (range, slices): (&RangeProof, &[SliceSecret]),
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
    let layout = range
        .layout(ck.bases.len())
        .map_err(|e| ProverError::Commitment(e.to_string()))?;
    if layout.len() != slices.len() {
        return Err(ProverError::Commitment(format!(
            "{} slice secrets for {} range slices",
            slices.len(),
            layout.len()
        )));
    }
    let d_reg = ck.commit(w, v).ok_or_else(wrong_count)?.into_affine();
    let masks: Vec<Fr> = (0..w.len()).map(|_| Fr::rand(rng)).collect();
    let rho = Fr::rand(rng);
    let mut ts = vec![
        ck.commit(&masks, rho)
            .ok_or_else(wrong_count)?
            .into_affine(),
    ];
    // Each slice: masks for its padding and blinding, its wires' masks shared.
    let mut slice_masks = Vec::with_capacity(layout.len());
    for (slice, secret) in layout.iter().zip(slices) {
        if secret.pads.len() != slice.pads {
            return Err(ProverError::Commitment(
                "a slice secret does not fit its slice".into(),
            ));
        }
        let pad_masks: Vec<Fr> = (0..slice.pads).map(|_| Fr::rand(rng)).collect();
        let rho_k = Fr::rand(rng);
        let all: Vec<Fr> = slice
            .wires
            .iter()
            .map(|&i| masks[i])
            .chain(pad_masks.iter().copied())
            .collect();
        let key = &range.classes[slice.class].ck;
        let t = key
            .commit(&all, rho_k)
            .ok_or_else(|| ProverError::Commitment("a slice key of another length".into()))?;
        ts.push(t.into_affine());
        slice_masks.push((pad_masks, rho_k));
    }
    let c = challenge(
        &Transcript {
            ck_digest: &ck.digest(),
            wires: ck.bases.len(),
            d_reg: &d_reg,
            range: &range.digest(),
            t: &ts,
        },
        ctx,
    );
    let links = slices
        .iter()
        .zip(slice_masks)
        .zip(&ts[1..])
        .map(|((secret, (pad_masks, rho_k)), t)| SliceLink {
            t: *t,
            z_pad: pad_masks
                .iter()
                .zip(&secret.pads)
                .map(|(m, p)| *m + c * p)
                .collect(),
            z_v: rho_k + c * secret.v,
        })
        .collect();
    Ok((
        d_reg,
        Opening {
            t: ts[0],
            z: masks.iter().zip(w).map(|(m, w)| *m + c * w).collect(),
            z_v: rho + c * v,
            links,
        },
    ))
}
