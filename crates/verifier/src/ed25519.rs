//! ed25519 keys as zkworker writes them: 64 lower-case hex digits for a public key (which is
//! also the holder's id), 128 for a signature, over a 32-byte blake3 digest of what is signed.
//! One parser and one check for workers' and owners' signatures alike, `verify_strict` always
//! (it refuses small-order keys and non-canonical signatures, so one message has one
//! signature per key).

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

use crate::signature::SIGNATURE_BYTES;

/// An ed25519 key pair from its 32-byte secret seed.
pub struct KeyPair(SigningKey);

impl KeyPair {
    /// The key from its secret seed.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        KeyPair(SigningKey::from_bytes(seed))
    }

    /// The secret seed (to store it).
    pub fn seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The public key: 64 lower-case hex digits.
    pub fn public_hex(&self) -> String {
        hex::encode(self.0.verifying_key().to_bytes())
    }

    /// Signs a digest; the signature in hex.
    pub fn sign_hex(&self, digest: &[u8; 32]) -> String {
        hex::encode(self.0.sign(digest).to_bytes())
    }
}

impl std::fmt::Debug for KeyPair {
    // The seed is a secret: never in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyPair({})", self.public_hex())
    }
}

/// Parses a public key written as 64 hex digits.
pub fn public_key(hex_key: &str) -> Result<VerifyingKey, String> {
    let bytes: [u8; 32] = hex::decode(hex_key)
        .ok()
        .filter(|_| crate::record::is_lower_hex(hex_key))
        .and_then(|b| b.try_into().ok())
        .ok_or("not an ed25519 public key (64 lower-case hex digits)")?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| "not a valid ed25519 public key".to_string())
}

/// Checks `sig_hex` is `hex_key`'s signature of `digest`; the reason when it is not.
pub fn check(hex_key: &str, digest: &[u8; 32], sig_hex: &str) -> Result<(), String> {
    let key = public_key(hex_key)?;
    let sig: [u8; SIGNATURE_BYTES] = hex::decode(sig_hex)
        .ok()
        .filter(|_| crate::record::is_lower_hex(sig_hex))
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| format!("not {} lower-case hex digits", 2 * SIGNATURE_BYTES))?;
    key.verify_strict(digest, &Signature::from_bytes(&sig))
        .map_err(|_| "the signature does not verify".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_checks() {
        let k = KeyPair::from_seed(&[5; 32]);
        let d = [9u8; 32];
        let sig = k.sign_hex(&d);
        assert_eq!(check(&k.public_hex(), &d, &sig), Ok(()));
        let mut other = d;
        other[0] ^= 1;
        assert_eq!(
            check(&k.public_hex(), &other, &sig),
            Err("the signature does not verify".into())
        );
        let stranger = KeyPair::from_seed(&[6; 32]).public_hex();
        assert!(check(&stranger, &d, &sig).is_err());
        assert_eq!(
            check(&k.public_hex().to_uppercase(), &d, &sig),
            Err("not an ed25519 public key (64 lower-case hex digits)".into())
        );
        assert!(
            check(&k.public_hex(), &d, &sig[2..])
                .unwrap_err()
                .contains("128")
        );
        assert!(format!("{k:?}").contains(&k.public_hex()));
    }
}
