//! Committed weights: the commitment key and the owner's commitment `D_reg` (SECURITY.md,
//! "Committed weights"); [`crate::opening`] proves knowledge of its opening.
//!
//! Setup gives every weight and bias wire `i` a base `[K_i/γ]₁` and adds a hiding base
//! `h = [η/γ]₁`: the commitment key. The owner commits once, `D_reg = Σ W_i·[K_i/γ]₁ + v·h`,
//! and every proof of the model is checked with `D_reg` added to its public inputs' term, so
//! every accepted proof computes with the committed `W`. That holds only if the owner knows an
//! opening of `D_reg` over exactly these bases (condition S1): a `D_reg` shifted by another
//! base of the verifying key (an output's, the constant wire's) would turn honest proofs into
//! proofs of other outputs. [`crate::opening::Opening`] is that proof of knowledge — a Schnorr-style
//! Σ-protocol made non-interactive by Fiat–Shamir, its challenge binding every value the check
//! uses and the model, the verifying key and the owner it is for — checked once, when the
//! model is registered, never per receipt. The same responses open every slice of the
//! one-time range proof ([`crate::range`]), so the values proved in range are the committed
//! ones.

use ark_bn254::{Fr, G1Affine, G1Projective};
use ark_ec::{AffineRepr, VariableBaseMSM};
use ark_ff::PrimeField;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};

use crate::error::VerificationError;

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
        h.update(&canonical_bytes(self));
        *h.finalize().as_bytes()
    }

    /// Parses a key's uncompressed bytes, every point checked on the curve; nothing may follow.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, VerificationError> {
        let ck: CommitmentKey = from_canonical_bytes(bytes, "commitment key")?;
        ck.check().map_err(|reason| VerificationError::Malformed {
            what: "commitment key",
            reason,
        })?;
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
        canonical_bytes(self)
    }
}

/// A value's uncompressed bytes: the one spelling of a published commitment file.
pub fn canonical_bytes<T: CanonicalSerialize>(value: &T) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(value.uncompressed_size());
    value
        .serialize_uncompressed(&mut bytes)
        .expect("writing to a Vec cannot fail");
    bytes
}

/// Parses a published commitment file (`what` names it in errors): uncompressed, every point
/// checked on its curve, nothing after the value, and only its canonical spelling —
/// uncompressed points carry flags arkworks reads but ignores, and one value must have one
/// digest.
pub fn from_canonical_bytes<T: CanonicalSerialize + CanonicalDeserialize>(
    bytes: &[u8],
    what: &'static str,
) -> Result<T, VerificationError> {
    let malformed = |reason: String| VerificationError::Malformed { what, reason };
    let mut reader = bytes;
    let value = T::deserialize_with_mode(&mut reader, Compress::No, Validate::Yes)
        .map_err(|e| malformed(e.to_string()))?;
    if !reader.is_empty() {
        return Err(malformed(format!(
            "{} bytes after the {what}",
            reader.len()
        )));
    }
    if canonical_bytes(&value) != bytes {
        return Err(malformed(format!("not the {what}'s canonical encoding")));
    }
    Ok(value)
}

/// `Σ s_i·p_i` (arkworks' MSM; lengths checked by the callers).
pub(crate) fn msm(points: &[G1Affine], scalars: &[Fr]) -> G1Projective {
    let scalars: Vec<_> = scalars.iter().map(|s| s.into_bigint()).collect();
    G1Projective::msm_bigint(points, &scalars)
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
    let bytes = hex::decode(s).map_err(|_| "not 64 lower-case hex digits".to_string())?;
    if bytes.len() != 32 {
        return Err("not 64 lower-case hex digits".into());
    }
    let p = G1Affine::deserialize_compressed(bytes.as_slice()).map_err(|e| e.to_string())?;
    if p.is_zero() {
        return Err("the identity commits to nothing".into());
    }
    if point_to_hex(&p) != s {
        return Err("not the point's canonical encoding (64 lower-case hex digits)".into());
    }
    Ok(p)
}
