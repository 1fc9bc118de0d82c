//! The proof of knowledge of the opening of a committed-weights model's commitment `D_reg`,
//! linked to its one-time range proof (SECURITY.md, "Committed weights", condition S1).
//!
//! A Schnorr-style Σ-protocol made non-interactive by Fiat–Shamir: the owner shows it knows
//! `(W, v)` with `D_reg = ck·W + v·h` ([`crate::commitment`]), and with the same responses for
//! `W` an opening of every range slice's commitment ([`crate::range`]) to its slice of `W`, so
//! the values proved in range are the committed ones. Its challenge binds every value the check
//! uses and the model, the verifying key and the owner it is for; it is checked once, when the
//! model is registered, never per receipt.

use ark_bn254::{Fr, G1Affine};
use ark_ec::CurveGroup;
use ark_ff::PrimeField;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};

use crate::commitment::{CommitmentKey, canonical_bytes, from_canonical_bytes, msm, point_to_hex};
use crate::error::VerificationError;
use crate::range::RangeProof;

/// What an opening is for, besides the key and the commitment: the model, its verifying key
/// and its owner, all bound into the challenge so an opening proves nothing for anything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpeningContext<'a> {
    /// The model id (hex).
    pub model_id: &'a str,
    /// The verifying key id (hex).
    pub vk_id: &'a str,
    /// The owner's public key (hex), or `None` for a setup without owner.
    pub owner: Option<&'a str>,
}

/// The proof that whoever made `D_reg` knows `(W, v)` with `D_reg = ck·W + v·h` — and, with
/// the same responses for `W`, an opening of every range slice's commitment `D'_k` to its
/// slice of `W` (and its padding): the link that makes the range-checked values the
/// committed ones.
#[derive(Debug, Clone, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct Opening {
    /// The commitment of the masks, `T = ck·t + ρ·h`.
    pub t: G1Affine,
    /// `z = t + c·W`, one per committed wire.
    pub z: Vec<Fr>,
    /// `z_v = ρ + c·v`.
    pub z_v: Fr,
    /// One per range slice, in the range proof's order.
    pub links: Vec<SliceLink>,
}

/// The opening of one range slice's commitment, sharing the model opening's responses for
/// the slice's wires.
#[derive(Debug, Clone, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct SliceLink {
    /// `T'_k = ck'·(t_slice ‖ t_pad) + ρ'_k·h'`.
    pub t: G1Affine,
    /// Responses for the padding values, `t_pad + c·pad`.
    pub z_pad: Vec<Fr>,
    /// `ρ'_k + c·v'_k`.
    pub z_v: Fr,
}

/// What an opening's challenge binds besides the context.
#[derive(Debug, Clone, Copy)]
pub struct Transcript<'a> {
    /// The commitment key's digest.
    pub ck_digest: &'a [u8; 32],
    /// Its number of committed wires.
    pub wires: usize,
    /// The commitment.
    pub d_reg: &'a G1Affine,
    /// The range proof's digest ([`crate::range::RangeProof::digest`]): its slices'
    /// commitments, keys and proofs.
    pub range: &'a [u8; 32],
    /// The masks' commitments: the model's `T`, then each slice's `T'_k`.
    pub t: &'a [G1Affine],
}

/// The Fiat–Shamir challenge: blake3 (own derivation context) over everything the check uses —
/// the key's digest, its length, the commitment, the range proof, every `T` — and the context,
/// each length-prefixed; 64 output bytes reduced into the field.
pub fn challenge(tr: &Transcript<'_>, ctx: &OpeningContext<'_>) -> Fr {
    let mut h = blake3::Hasher::new_derive_key("zkworker 2026-12 weight commitment opening");
    let mut field = |bytes: &[u8]| {
        h.update(&(bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    field(ctx.model_id.as_bytes());
    field(ctx.vk_id.as_bytes());
    field(ctx.owner.unwrap_or("").as_bytes());
    field(&[u8::from(ctx.owner.is_some())]);
    field(tr.ck_digest);
    field(&(tr.wires as u64).to_le_bytes());
    field(point_to_hex(tr.d_reg).as_bytes());
    field(tr.range);
    field(&(tr.t.len() as u64).to_le_bytes());
    for t in tr.t {
        field(point_to_hex(t).as_bytes());
    }
    let mut out = [0u8; 64];
    h.finalize_xof().fill(&mut out);
    Fr::from_le_bytes_mod_order(&out)
}

impl Opening {
    /// The challenge of this opening of `d_reg` over `ck` with `range`, for `ctx`.
    pub fn challenge(
        &self,
        ck: &CommitmentKey,
        d_reg: &G1Affine,
        range: &RangeProof,
        ctx: &OpeningContext<'_>,
    ) -> Fr {
        let t: Vec<G1Affine> = std::iter::once(self.t)
            .chain(self.links.iter().map(|l| l.t))
            .collect();
        challenge(
            &Transcript {
                ck_digest: &ck.digest(),
                wires: ck.bases.len(),
                d_reg,
                range: &range.digest(),
                t: &t,
            },
            ctx,
        )
    }

    /// Checks the opening of `d_reg` over `ck` for `ctx`, and through it the range of every
    /// committed value: `ck·z + z_v·h = T + c·D_reg`; for each slice,
    /// `ck'·(z_slice ‖ z_pad) + z'_v·h' = T'_k + c·D'_k`; and each slice's range proof.
    pub fn verify(
        &self,
        ck: &CommitmentKey,
        d_reg: &G1Affine,
        range: &RangeProof,
        ctx: &OpeningContext<'_>,
    ) -> Result<(), VerificationError> {
        let bad = |reason: String| VerificationError::BadOpening(reason);
        if self.z.len() != ck.bases.len() {
            return Err(bad(format!(
                "{} responses for a key of {} committed values",
                self.z.len(),
                ck.bases.len()
            )));
        }
        let layout = range.layout(ck.bases.len())?;
        if self.links.len() != layout.len() {
            return Err(bad(format!(
                "{} slice links for {} range slices",
                self.links.len(),
                layout.len()
            )));
        }
        let c = self.challenge(ck, d_reg, range, ctx);
        let lhs = msm(&ck.bases, &self.z) + ck.hiding * self.z_v;
        if lhs.into_affine() != (self.t + *d_reg * c).into_affine() {
            return Err(bad(
                "the responses do not open the commitment over this key (another commitment, \
                 key, range proof, model, verifying key or owner than the one it was made for)"
                    .into(),
            ));
        }
        for (k, ((slice, link), proof)) in layout
            .iter()
            .zip(&self.links)
            .zip(&range.slices)
            .enumerate()
        {
            let class = &range.classes[slice.class];
            if link.z_pad.len() != slice.pads {
                return Err(bad(format!(
                    "slice {k} has {} padding responses, its layout {}",
                    link.z_pad.len(),
                    slice.pads
                )));
            }
            let z: Vec<Fr> = slice
                .wires
                .iter()
                .map(|&w| self.z[w])
                .chain(link.z_pad.iter().copied())
                .collect();
            let lhs = msm(&class.ck.bases, &z) + class.ck.hiding * link.z_v;
            if lhs.into_affine() != (link.t + proof.d * c).into_affine() {
                return Err(bad(format!(
                    "range slice {k} does not open to the committed values"
                )));
            }
        }
        range.verify_slices()
    }

    /// Parses an opening's uncompressed bytes (points checked on the curve); nothing may follow.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, VerificationError> {
        from_canonical_bytes(bytes, "commitment opening")
    }

    /// The opening's uncompressed bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        canonical_bytes(self)
    }
}
