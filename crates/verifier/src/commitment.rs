//! Committed weights: the commitment key, the owner's commitment `D_reg` and the proof of
//! knowledge of its opening (SECURITY.md, "Committed weights").
//!
//! Setup gives every weight and bias wire `i` a base `[K_i/γ]₁` and adds a hiding base
//! `h = [η/γ]₁`: the commitment key. The owner commits once, `D_reg = Σ W_i·[K_i/γ]₁ + v·h`,
//! and every proof of the model is checked with `D_reg` added to its public inputs' term, so
//! every accepted proof computes with the committed `W`. That holds only if the owner knows an
//! opening of `D_reg` over exactly these bases (condition S1): a `D_reg` shifted by another
//! base of the verifying key (an output's, the constant wire's) would turn honest proofs into
//! proofs of other outputs. [`Opening`] is that proof of knowledge — a Schnorr-style
//! Σ-protocol made non-interactive by Fiat–Shamir, its challenge binding every value the check
//! uses and the model, the verifying key and the owner it is for — checked once, when the
//! model is registered, never per receipt. The same responses open every slice of the
//! one-time range proof ([`crate::range`]), so the values proved in range are the committed
//! ones.

use ark_bn254::{Fr, G1Affine, G1Projective};
use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::PrimeField;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};

use crate::error::VerificationError;
use crate::range::RangeProof;

/// The commitment key of a committed-weights circuit: one base per committed wire, in wire
/// order, and the hiding base. Public: anyone who checks an opening needs it.
#[derive(Debug, Clone, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct CommitmentKey {
    /// `[K_i/γ]₁` for each committed wire (weights and biases, in `Model::parameters` order).
    pub bases: Vec<G1Affine>,
    /// `h = [η/γ]₁`.
    pub hiding: G1Affine,
}

impl CommitmentKey {
    /// `Σ w_i·bases[i] + v·h`; `None` when `w` has another length than the key.
    pub fn commit(&self, w: &[Fr], v: Fr) -> Option<G1Projective> {
        (w.len() == self.bases.len()).then(|| msm(&self.bases, w) + self.hiding * v)
    }

    /// blake3 (own derivation context) of the key's uncompressed bytes: what an opening's
    /// transcript binds.
    pub fn digest(&self) -> [u8; 32] {
        let mut h = blake3::Hasher::new_derive_key("zkworker 2026-12 commitment key");
        let mut bytes = Vec::with_capacity(self.uncompressed_size());
        self.serialize_uncompressed(&mut bytes)
            .expect("writing to a Vec cannot fail");
        h.update(&bytes);
        *h.finalize().as_bytes()
    }

    /// Parses a key's uncompressed bytes, every point checked on the curve; nothing may follow.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, VerificationError> {
        let malformed = |reason: String| VerificationError::Malformed {
            what: "commitment key",
            reason,
        };
        let mut reader = bytes;
        let ck = CommitmentKey::deserialize_with_mode(&mut reader, Compress::No, Validate::Yes)
            .map_err(|e| malformed(e.to_string()))?;
        if !reader.is_empty() {
            return Err(malformed(format!("{} bytes after the key", reader.len())));
        }
        ck.check().map_err(malformed)?;
        Ok(ck)
    }

    /// A key commits to something: at least one base, none of them the identity. A zero base
    /// commits to nothing, so its wire would be free in every proof; keygen gives every
    /// committed wire a constraint of its own (condition S3), so none is zero.
    pub fn check(&self) -> Result<(), String> {
        if self.bases.is_empty() {
            return Err("no committed wire".into());
        }
        if let Some(i) = self.bases.iter().position(|b| b.is_zero()) {
            return Err(format!("base {i} is the identity"));
        }
        if self.hiding.is_zero() {
            return Err("the hiding base is the identity".into());
        }
        Ok(())
    }

    /// The key's uncompressed bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(self.uncompressed_size());
        self.serialize_uncompressed(&mut bytes)
            .expect("writing to a Vec cannot fail");
        bytes
    }
}

/// `Σ s_i·p_i` (arkworks' MSM; lengths checked by the callers).
fn msm(points: &[G1Affine], scalars: &[Fr]) -> G1Projective {
    let scalars: Vec<_> = scalars.iter().map(|s| s.into_bigint()).collect();
    G1Projective::msm_bigint(points, &scalars)
}

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

/// A commitment as the record spells it: compressed G1, 64 lower-case hex digits.
pub fn point_to_hex(p: &G1Affine) -> String {
    let mut bytes = Vec::with_capacity(32);
    p.serialize_compressed(&mut bytes)
        .expect("writing to a Vec cannot fail");
    hex::encode(bytes)
}

/// Parses a record's commitment: 64 lower-case hex digits, a canonical compressed point on the
/// curve, not the identity (the identity is what `v = 0` and no weights would give; BN254's
/// G1 has cofactor 1, so on the curve is in the group).
pub fn point_from_hex(s: &str) -> Result<G1Affine, String> {
    if !crate::record::is_digest_hex(s) {
        return Err("not 64 lower-case hex digits".into());
    }
    let bytes = hex::decode(s).map_err(|e| e.to_string())?;
    let p = G1Affine::deserialize_compressed(bytes.as_slice()).map_err(|e| e.to_string())?;
    if p.is_zero() {
        return Err("the identity commits to nothing".into());
    }
    if point_to_hex(&p) != s {
        return Err("not the point's canonical encoding".into());
    }
    Ok(p)
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
        let malformed = |reason: String| VerificationError::Malformed {
            what: "commitment opening",
            reason,
        };
        let mut reader = bytes;
        let o = Opening::deserialize_with_mode(&mut reader, Compress::No, Validate::Yes)
            .map_err(|e| malformed(e.to_string()))?;
        if !reader.is_empty() {
            return Err(malformed(format!(
                "{} bytes after the opening",
                reader.len()
            )));
        }
        Ok(o)
    }

    /// The opening's uncompressed bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(self.uncompressed_size());
        self.serialize_uncompressed(&mut bytes)
            .expect("writing to a Vec cannot fail");
        bytes
    }
}
