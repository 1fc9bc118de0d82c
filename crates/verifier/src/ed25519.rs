//! ed25519 keys as zkworker writes them: 64 lower-case hex digits for a public key (which is
//! also the holder's id), 128 for a signature, over a 32-byte blake3 digest of what is signed.
//! One parser and one check for workers' and owners' signatures alike, `verify_strict` always
//! (it refuses small-order keys and non-canonical signatures, so one message has one
//! signature per key).
//!
//! A secret key file — a worker's `worker.key`, an owner's key from `zkw keys new` or the
//! demo's `owner.key` — is the 32-byte seed as 64 hex digits and a newline, written and read
//! only by [`write_secret_key`] and [`read_secret_key`], so every key has one set of
//! guarantees:
//!
//! - it is written by [`crate::fs::write_atomic`] as a secret file that keeps an existing
//!   name: mode 0600 whatever the umask, a crash leaves no key or the whole key, and an
//!   existing key is never replaced (one that signed registrations, licences or receipts
//!   is an identity: losing it loses the identity);
//! - a key file that its group or others may read is refused, not merely warned about: such
//!   a key may already have been copied, so a signature under it no longer shows who made it,
//!   and a library has no log that someone is sure to read (`ssh` refuses such keys too).
//!   `chmod 600` it, or make a new key if others could have read it.

use crate::fs::{Access, Existing};
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

/// Bytes of a signature (hex in a receipt: twice as many digits).
pub const SIGNATURE_BYTES: usize = 64;

/// The most bytes a secret key file may have (64 hex digits and a newline, with room for
/// whitespace around them).
pub const MAX_SECRET_KEY_BYTES: usize = 1024;

/// An ed25519 key pair from its 32-byte secret seed.
pub struct KeyPair(SigningKey);

impl KeyPair {
    /// The key from its secret seed.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        KeyPair(SigningKey::from_bytes(seed))
    }

    /// A new key from the operating system's randomness.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed)?;
        Ok(Self::from_seed(&seed))
    }

    /// The secret seed (to store it).
    pub fn seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The public key: 64 lower-case hex digits.
    pub fn public_hex(&self) -> String {
        hex::encode(self.0.verifying_key().to_bytes())
    }

    /// The public key's 32 bytes.
    pub fn public(&self) -> [u8; 32] {
        self.0.verifying_key().to_bytes()
    }

    /// Signs a digest.
    pub fn sign(&self, digest: &[u8; 32]) -> [u8; 64] {
        self.0.sign(digest).to_bytes()
    }

    /// Signs a digest; the signature in hex.
    pub fn sign_hex(&self, digest: &[u8; 32]) -> String {
        hex::encode(self.sign(digest))
    }
}

impl std::fmt::Debug for KeyPair {
    // The seed is a secret: never in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyPair({})", self.public_hex())
    }
}

/// Why a secret key file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretKeyError {
    /// The file could not be read (missing: [`std::io::ErrorKind::NotFound`]), or is larger
    /// than [`MAX_SECRET_KEY_BYTES`].
    // The OS error is part of the message, not a `source`: a report that walks the chain
    // would print it twice.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS (or the cap) said.
        error: std::io::Error,
    },
    /// The file holds no key.
    #[error("{}: not a secret key file (64 hex digits; `zkw keys new` makes one)", path.display())]
    NotAKey {
        /// The file.
        path: PathBuf,
    },
    /// Its group or others may read the file: refused (see the module docs).
    #[error(
        "{}: the secret key is readable by others (mode {mode:03o}); refused: `chmod 600` it, \
         or make a new key if others could have read it",
        path.display()
    )]
    Exposed {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
}

/// Reads a secret key file written by [`write_secret_key`] (64 hex digits, whitespace around
/// them ignored); refuses one its group or others may read, on Unix.
pub fn read_secret_key(path: &Path) -> Result<KeyPair, SecretKeyError> {
    let io = |error| SecretKeyError::Io {
        path: path.to_path_buf(),
        error,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The descriptor that is read is the one checked: no swap between check and read.
        let mode = file.metadata().map_err(io)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(SecretKeyError::Exposed {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    let bytes = crate::file::read_open(file, MAX_SECRET_KEY_BYTES, "secret key").map_err(io)?;
    let seed: [u8; 32] = std::str::from_utf8(&bytes)
        .ok()
        .and_then(|text| hex::decode(text.trim()).ok())
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| SecretKeyError::NotAKey {
            path: path.to_path_buf(),
        })?;
    Ok(KeyPair::from_seed(&seed))
}

/// Writes `key` as a new secret key file at `path`, mode 0600, whole or not at all, never
/// replacing a file (an existing one is [`std::io::ErrorKind::AlreadyExists`]); see the
/// module docs. The directory must exist.
pub fn write_secret_key(path: &Path, key: &KeyPair) -> std::io::Result<()> {
    let text = format!("{}\n", hex::encode(key.seed()));
    crate::fs::write_atomic(path, text.as_bytes(), Existing::Keep, Access::Secret)
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

    #[cfg(unix)]
    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn secret_keys_are_written_0600_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("owner.key");
        let k = KeyPair::generate().unwrap();
        write_secret_key(&p, &k).unwrap();
        #[cfg(unix)]
        assert_eq!(mode(&p), 0o600);
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            format!("{}\n", hex::encode(k.seed()))
        );
        assert_eq!(read_secret_key(&p).unwrap().public_hex(), k.public_hex());
        // Never replaced, and nothing left beside it.
        let other = KeyPair::from_seed(&[1; 32]);
        let e = write_secret_key(&p, &other).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(read_secret_key(&p).unwrap().public_hex(), k.public_hex());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["owner.key"]);
        // A relative path in the current directory has a parent of "".
        assert!(write_secret_key(Path::new(""), &k).is_err());
    }

    #[test]
    fn exposed_foreign_and_oversized_key_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        write_secret_key(&p, &KeyPair::from_seed(&[3; 32])).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for loose in [0o644, 0o640, 0o604, 0o660] {
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(loose)).unwrap();
                let e = read_secret_key(&p).unwrap_err();
                assert!(
                    matches!(e, SecretKeyError::Exposed { mode, .. } if mode == loose),
                    "{e}"
                );
                assert!(e.to_string().contains("chmod 600"), "{e}");
            }
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o400)).unwrap();
            read_secret_key(&p).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        std::fs::write(&p, "nonsense\n").unwrap();
        let e = read_secret_key(&p).unwrap_err();
        assert!(e.to_string().contains("not a secret key file"), "{e}");
        std::fs::write(&p, vec![b' '; MAX_SECRET_KEY_BYTES + 1]).unwrap();
        let e = read_secret_key(&p).unwrap_err().to_string();
        assert!(e.contains("too large for a secret key"), "{e}");
        let e = read_secret_key(&dir.path().join("missing")).unwrap_err();
        assert!(
            matches!(&e, SecretKeyError::Io { error, .. } if error.kind() == std::io::ErrorKind::NotFound),
            "{e}"
        );
    }
}
