//! The verifying key as a verifier holds it: parsed, prepared and named by its digest.

use ark_bn254::Bn254;
use ark_groth16::{PreparedVerifyingKey, VerifyingKey, prepare_verifying_key};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};

use crate::error::VerificationError;

/// The most bytes a verifying key file may have, checked before it is read or parsed. A key
/// holds one G1 point per public input plus one, and a statement has at most 5 public inputs
/// ([`crate::statement`]): 424 bytes; the cap leaves room for any circuit, and bounds what a
/// hostile file costs.
pub const MAX_VK_BYTES: usize = 64 << 10;

/// A verifying key ready to check proofs, with its id (blake3 of its compressed bytes).
///
/// Its parts are read through accessors and made only by [`VerifierKey::new`] (or
/// [`VerifierKey::from_bytes`]): the key, its prepared form and its id always belong together,
/// so a check that counts the key's inputs and the pairing that uses them see one key.
#[derive(Clone)]
pub struct VerifierKey {
    /// The pairing-prepared key; `pvk.vk` is the key itself.
    pvk: PreparedVerifyingKey<Bn254>,
    /// Lower-case hex blake3 of [`VerifierKey::to_bytes`].
    id: String,
}

impl std::fmt::Debug for VerifierKey {
    // The id names the key; its points say nothing to a reader.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VerifierKey({})", self.id)
    }
}

impl VerifierKey {
    /// Wraps a key.
    pub fn new(vk: VerifyingKey<Bn254>) -> Self {
        let id = vk_id(&vk);
        VerifierKey {
            pvk: prepare_verifying_key(&vk),
            id,
        }
    }

    /// The key.
    pub fn vk(&self) -> &VerifyingKey<Bn254> {
        &self.pvk.vk
    }

    /// Its pairing-prepared form.
    pub fn prepared(&self) -> &PreparedVerifyingKey<Bn254> {
        &self.pvk
    }

    /// Its id: lower-case hex blake3 of [`VerifierKey::to_bytes`].
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Parses compressed key bytes, validating every curve point (keys are small). The bytes
    /// must be the key's canonical encoding, nothing after it: one key has one spelling, so
    /// its id and a signature over it name one thing. At most [`MAX_VK_BYTES`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, VerificationError> {
        let malformed = |reason: String| VerificationError::Malformed {
            what: "verifying key",
            reason,
        };
        if bytes.len() > MAX_VK_BYTES {
            return Err(VerificationError::TooLarge(crate::file::TooLarge {
                what: "verifying key",
                size: Some(bytes.len() as u64),
                cap: MAX_VK_BYTES,
            }));
        }
        let mut reader = bytes;
        let vk = VerifyingKey::<Bn254>::deserialize_compressed(&mut reader)
            .map_err(|e| malformed(e.to_string()))?;
        if !reader.is_empty() {
            return Err(malformed(format!(
                "{} bytes after the key's {}",
                reader.len(),
                bytes.len() - reader.len()
            )));
        }
        // Compressed points have spellings arkworks reads but never writes (a point at
        // infinity with x bytes left set): only the canonical encoding is the key.
        if vk_bytes(&vk) != bytes {
            return Err(malformed(
                "not the key's canonical encoding (a point is spelled as arkworks never writes it)"
                    .into(),
            ));
        }
        Ok(Self::new(vk))
    }

    /// The key's canonical bytes (compressed).
    pub fn to_bytes(&self) -> Vec<u8> {
        vk_bytes(&self.pvk.vk)
    }
}

/// Canonical compressed bytes of a verifying key.
pub fn vk_bytes(vk: &VerifyingKey<Bn254>) -> Vec<u8> {
    let mut out = Vec::new();
    vk.serialize_compressed(&mut out)
        .expect("writing to a Vec cannot fail");
    out
}

/// A verifying key's id.
pub fn vk_id(vk: &VerifyingKey<Bn254>) -> String {
    blake3::hash(&vk_bytes(vk)).to_hex().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{G1Affine, G2Affine};
    use ark_ec::AffineRepr;

    fn key() -> VerifierKey {
        let (g1, g2) = (G1Affine::generator(), G2Affine::generator());
        VerifierKey::new(VerifyingKey {
            alpha_g1: g1,
            beta_g2: g2,
            gamma_g2: g2,
            delta_g2: g2,
            gamma_abc_g1: vec![g1; 3],
        })
    }

    #[test]
    fn bytes_round_trip_and_name_the_key() {
        let k = key();
        let bytes = k.to_bytes();
        // 32 (G1) + 3·64 (G2) + 8 (length) + 3·32 (G1 each).
        assert_eq!(bytes.len(), 32 + 3 * 64 + 8 + 3 * 32);
        assert_eq!(k.id, blake3::hash(&bytes).to_hex().to_string());
        let back = VerifierKey::from_bytes(&bytes).unwrap();
        assert_eq!(back.vk(), k.vk());
        assert_eq!(back.id, k.id);
        let mut longer = bytes.clone();
        longer.push(0);
        let err = VerifierKey::from_bytes(&longer).err().unwrap().to_string();
        assert!(err.contains("1 bytes after the key's"), "{err}");
        let err = VerifierKey::from_bytes(&bytes[..40]).err().unwrap();
        assert!(matches!(
            err,
            VerificationError::Malformed {
                what: "verifying key",
                ..
            }
        ));
    }
}
