//! The public half of a keys directory: what an owner publishes so anyone can verify.
//!
//! `zkw model setup` writes one model's keys into a directory (the prover's `KeyDir` names
//! every file). Two of them are all a verifier needs — `record.json` (the registry record:
//! model id, commitment, verifying-key id, tensor formats) and `<vk_id>.vk` (the verifying
//! key) — plus, when the owner signed the setup, `setup.dsse.json`. [`PublishedKeys`] reads
//! exactly those, as plain files under the caps of their types ([`read_capped_regular`]),
//! because a published directory comes from someone else. Reading them here rather than in the prover is what lets
//! a settlement service or `zkw verify` embed the verifier without linking the prover.

use std::path::{Path, PathBuf};

use crate::commitment::CommitmentKey;
use crate::file::read_capped_regular;
use crate::key::{MAX_VK_BYTES, VerifierKey};
use crate::opening::{Opening, OpeningContext};
use crate::range::RangeProof;
use crate::record::{MAX_RECORD_BYTES, ModelRecord};

/// The registry record's file name in a keys directory.
pub const RECORD_FILE: &str = "record.json";

/// The owner's setup statement in a keys directory: a DSSE envelope (JSON, one line).
pub const SETUP_STATEMENT_FILE: &str = "setup.dsse.json";

/// Why a published file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PublishedKeysError {
    /// The file could not be read (missing, unreadable, or over its type's cap).
    // The OS error is part of the message, not a `source`: a report walking the chain would
    // print it twice.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        error: std::io::Error,
    },
    /// The file was read but is not what it should be.
    #[error("bad key file {path}: {reason}")]
    Bad {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// The published (public) files of a keys directory.
#[derive(Debug, Clone)]
pub struct PublishedKeys {
    /// The directory.
    pub dir: PathBuf,
}

impl PublishedKeys {
    /// Wraps a path.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        PublishedKeys { dir: dir.into() }
    }

    /// `record.json`.
    pub fn record_path(&self) -> PathBuf {
        self.dir.join(RECORD_FILE)
    }

    /// `<vk_id>.vk`.
    pub fn vk_path(&self, vk_id: &str) -> PathBuf {
        self.dir.join(format!("{vk_id}.vk"))
    }

    /// `<vk_id>.ck`: a committed-weights model's commitment key.
    pub fn commitment_key_path(&self, vk_id: &str) -> PathBuf {
        self.dir.join(format!("{vk_id}.ck"))
    }

    /// `<vk_id>.opening`: the owner's proof of knowledge of the opening of its commitment.
    pub fn opening_path(&self, vk_id: &str) -> PathBuf {
        self.dir.join(format!("{vk_id}.opening"))
    }

    /// `<vk_id>.range`: the one-time proof that the committed weights lie within their widths.
    pub fn range_path(&self, vk_id: &str) -> PathBuf {
        self.dir.join(format!("{vk_id}.range"))
    }

    /// The owner's setup statement (`zkw model setup --owner-key`), when there is one.
    pub fn setup_statement_path(&self) -> PathBuf {
        self.dir.join(SETUP_STATEMENT_FILE)
    }

    /// Reads the registry record.
    pub fn read_record(&self) -> Result<ModelRecord, PublishedKeysError> {
        let path = self.record_path();
        let bytes = read(&path, MAX_RECORD_BYTES, "model record")?;
        ModelRecord::from_json(&bytes).map_err(|e| PublishedKeysError::Bad {
            path,
            reason: e.to_string(),
        })
    }

    /// Reads the verifying key the record names, checking that its id is the record's.
    pub fn read_vk(&self, record: &ModelRecord) -> Result<VerifierKey, PublishedKeysError> {
        let path = self.vk_path(&record.vk_id);
        let bytes = read(&path, MAX_VK_BYTES, "verifying key")?;
        let bad = |reason: String| PublishedKeysError::Bad {
            path: path.clone(),
            reason,
        };
        let key = VerifierKey::from_bytes(&bytes).map_err(|e| bad(e.to_string()))?;
        if key.id() != record.vk_id {
            return Err(bad(format!(
                "its digest is {}, the record names {}",
                key.id(),
                record.vk_id
            )));
        }
        Ok(key)
    }

    /// Checks a committed-weights record's commitment once (condition S1): reads the
    /// commitment key, which must be the one the record names by digest, the opening and the
    /// range proof, and verifies the opening of the record's `D_reg` for its model, key and
    /// owner, linked to the range proof. With `listed` (a registration's key-file digests),
    /// each file must also be the one listed under its name — compared on the very bytes that
    /// are then parsed and checked. Records of the other modes have nothing to check.
    pub fn check_commitment(
        &self,
        record: &ModelRecord,
        listed: Option<&std::collections::BTreeMap<String, String>>,
    ) -> Result<(), PublishedKeysError> {
        let Some(d_reg) = record.weights().map_err(|e| PublishedKeysError::Bad {
            path: self.record_path(),
            reason: e.to_string(),
        })?
        else {
            return Ok(());
        };
        let read = |path: &Path, cap: usize, what: &'static str| {
            let bytes = read(path, cap, what)?;
            if let Some(listed) = listed {
                let name = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default();
                let bad = |reason: String| PublishedKeysError::Bad {
                    path: path.to_path_buf(),
                    reason,
                };
                match listed.get(name) {
                    None => return Err(bad("the registration lists no digest of it".into())),
                    Some(d) if *d != blake3::hash(&bytes).to_hex().as_str() => {
                        return Err(bad("not the file the registration lists".into()));
                    }
                    Some(_) => {}
                }
            }
            Ok::<_, PublishedKeysError>(bytes)
        };
        let ck_path = self.commitment_key_path(&record.vk_id);
        let bytes = read(&ck_path, MAX_COMMITMENT_KEY_BYTES, "commitment key")?;
        let bad = |path: &Path, reason: String| PublishedKeysError::Bad {
            path: path.to_path_buf(),
            reason,
        };
        let ck = CommitmentKey::from_bytes(&bytes).map_err(|e| bad(&ck_path, e.to_string()))?;
        let digest = hex::encode(ck.digest());
        if record.commitment_key.as_deref() != Some(digest.as_str()) {
            return Err(bad(
                &ck_path,
                format!(
                    "its digest is {digest}, the record names {}",
                    record.commitment_key.as_deref().unwrap_or("none")
                ),
            ));
        }
        let opening_path = self.opening_path(&record.vk_id);
        let bytes = read(&opening_path, MAX_OPENING_BYTES, "commitment opening")?;
        let opening = Opening::from_bytes(&bytes).map_err(|e| bad(&opening_path, e.to_string()))?;
        let range_path = self.range_path(&record.vk_id);
        let bytes = read(&range_path, MAX_RANGE_BYTES, "range proof")?;
        let range = RangeProof::from_bytes(&bytes).map_err(|e| bad(&range_path, e.to_string()))?;
        let ctx = OpeningContext {
            model_id: &record.model_id,
            vk_id: &record.vk_id,
            owner: record.owner.as_deref(),
        };
        opening
            .verify(&ck, &d_reg, &range, &ctx)
            .map_err(|e| bad(&opening_path, e.to_string()))
    }
}

/// The most bytes a commitment key may have: 64 bytes per committed weight, so 8 Mi weights.
pub const MAX_COMMITMENT_KEY_BYTES: usize = 512 << 20;

/// The most bytes an opening may have: 32 bytes per committed weight, so 8 Mi weights.
pub const MAX_OPENING_BYTES: usize = 256 << 20;

/// The most bytes a range proof may have: a commitment key of one slice per width (64 bytes
/// per value of a slice) and a few hundred bytes per slice.
pub const MAX_RANGE_BYTES: usize = 256 << 20;

fn read(path: &Path, cap: usize, what: &'static str) -> Result<Vec<u8>, PublishedKeysError> {
    // Not following a final link, never blocking: a FIFO planted as record.json must not hang
    // a verifier.
    read_capped_regular(path, cap, what).map_err(|error| PublishedKeysError::Io {
        path: path.to_path_buf(),
        error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_files_are_named_as_setup_writes_them() {
        let keys = PublishedKeys::new("/k");
        assert_eq!(keys.record_path(), Path::new("/k/record.json"));
        assert_eq!(keys.vk_path("ab"), Path::new("/k/ab.vk"));
        assert_eq!(keys.setup_statement_path(), Path::new("/k/setup.dsse.json"));
    }

    #[test]
    fn missing_files_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let keys = PublishedKeys::new(dir.path());
        let err = keys.read_record().unwrap_err();
        assert!(
            matches!(err, PublishedKeysError::Io { ref path, .. } if path.ends_with(RECORD_FILE))
        );
        assert!(
            err.to_string()
                .starts_with(&format!("{}: ", keys.record_path().display())),
            "{err}"
        );
    }

    #[test]
    fn a_record_that_is_not_json_is_a_bad_key_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(RECORD_FILE), b"{not json").unwrap();
        let err = PublishedKeys::new(dir.path()).read_record().unwrap_err();
        assert!(matches!(err, PublishedKeysError::Bad { .. }), "{err:?}");
        assert!(err.to_string().starts_with("bad key file "), "{err}");
    }

    // The repository's golden record names the golden verifying key (tests/golden/README.md).
    const RECORD: &[u8] = include_bytes!("../../../tests/golden/record.json");
    const VK: &[u8] = include_bytes!("../../../tests/golden/vk.bin");

    #[test]
    fn reads_the_record_and_the_key_it_names() {
        let dir = tempfile::tempdir().unwrap();
        let keys = PublishedKeys::new(dir.path());
        std::fs::write(keys.record_path(), RECORD).unwrap();
        let record = keys.read_record().unwrap();
        std::fs::write(keys.vk_path(&record.vk_id), VK).unwrap();
        assert_eq!(keys.read_vk(&record).unwrap().id(), record.vk_id);
    }

    #[test]
    fn a_key_under_another_keys_name_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let keys = PublishedKeys::new(dir.path());
        std::fs::write(keys.record_path(), RECORD).unwrap();
        let record = keys.read_record().unwrap();
        // A valid key, but not the one the record names.
        let (g1, g2) = (
            <ark_bn254::G1Affine as ark_ec::AffineRepr>::generator(),
            <ark_bn254::G2Affine as ark_ec::AffineRepr>::generator(),
        );
        let other = VerifierKey::new(ark_groth16::VerifyingKey {
            alpha_g1: g1,
            beta_g2: g2,
            gamma_g2: g2,
            delta_g2: g2,
            gamma_abc_g1: vec![g1; 2],
        });
        std::fs::write(keys.vk_path(&record.vk_id), other.to_bytes()).unwrap();
        let err = keys.read_vk(&record).unwrap_err();
        assert!(matches!(err, PublishedKeysError::Bad { .. }), "{err:?}");
        assert!(
            err.to_string().ends_with(&format!(
                "its digest is {}, the record names {}",
                other.id(),
                record.vk_id
            )),
            "{err}"
        );
        // Bytes that are no key at all.
        std::fs::write(keys.vk_path(&record.vk_id), b"not a key").unwrap();
        let err = keys.read_vk(&record).unwrap_err();
        assert!(matches!(err, PublishedKeysError::Bad { .. }), "{err:?}");
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_planted_as_the_record_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let keys = PublishedKeys::new(dir.path());
        let made = std::process::Command::new("mkfifo")
            .arg(keys.record_path())
            .status()
            .unwrap();
        assert!(made.success());
        let err = keys.read_record().unwrap_err();
        assert!(matches!(err, PublishedKeysError::Io { .. }), "{err:?}");
    }

    #[test]
    fn an_oversized_record_is_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(RECORD_FILE);
        std::fs::write(&path, vec![b' '; MAX_RECORD_BYTES + 1]).unwrap();
        let err = PublishedKeys::new(dir.path()).read_record().unwrap_err();
        let PublishedKeysError::Io { error, .. } = &err else {
            panic!("{err:?}")
        };
        assert!(crate::file::too_large(error).is_some(), "{err}");
    }
}
