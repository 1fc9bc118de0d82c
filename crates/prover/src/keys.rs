//! Key files: content-addressed, digest-checked, fast to load.
//!
//! A keys directory holds one model's keys, named by the verifying key's id
//! (blake3 of its compressed bytes):
//!
//! ```text
//! record.json     the registry record (model id, commitment, vk id, formats)   public
//! <vk_id>.vk      verifying key, compressed and validated on load (it is small) public
//! <vk_id>.pk      proving key, uncompressed                                     worker
//! <vk_id>.r1cs    constraint matrices                                           worker
//! <vk_id>.base    the baseline: reference assignment and its MSMs (see `baseline`) worker
//!                 (committed weights: secret, it holds the blinding's term)
//! <vk_id>.ck      committed weights only: the commitment key                    public
//! <vk_id>.opening committed weights only: proof of knowledge of D_reg's opening public
//! <vk_id>.range   committed weights only: the weights' one-time range proof     public
//! model.zkm       the model file (for private weights: the weights and salt)    worker, secret
//! ```
//!
//! A keys directory is what a worker serves (`zkw worker --models`); verifiers need only the
//! record and the verifying key, which may come from anyone: `zkw-verifier` reads them, under
//! their caps ([`PublishedKeys`]), and this type delegates to it. The worker's own large files are trusted local files,
//! read whole behind their digests.
//!
//! Curve-point validation of a large proving key takes tens of seconds, so `.pk`, `.r1cs` and
//! `.base` carry a blake3 digest of their payload: points are validated once, at setup, when the key is
//! made; later loads check the digest (catching corruption and truncation) and skip validation.
//! These are the worker's own files; a digest mismatch is refused, never "repaired". Of the key
//! files, none holds a private model's weights (the baseline keeps points and a digest, not the
//! assignment they come from); `model.zkm` does, and is checked against the record's model id
//! when loaded.

use std::path::{Path, PathBuf};

use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use zkw_model::{Model, ModelId};
use zkw_verifier::fs::{self, Access, Existing};
use zkw_verifier::published::PublishedKeys;
use zkw_verifier::{ModelRecord, VerifierKey};

use crate::error::ProverError;

/// Magic of a proving-key file.
pub const PK_MAGIC: &[u8; 8] = b"ZKWPK\0v1";
/// Magic of a matrices file.
pub const R1CS_MAGIC: &[u8; 8] = b"ZKWR1\0v1";
/// Magic of a baseline file.
pub const BASELINE_MAGIC: &[u8; 8] = b"ZKWBL\0v1";

/// The owner's setup statement in a keys directory: a DSSE envelope (JSON, one line).
pub use zkw_verifier::published::SETUP_STATEMENT_FILE;

/// A keys directory.
#[derive(Debug, Clone)]
pub struct KeyDir {
    /// Its path.
    pub dir: PathBuf,
}

impl KeyDir {
    /// Wraps a path.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        KeyDir { dir: dir.into() }
    }

    /// The public half: the record and verifying key anyone may read.
    pub fn published(&self) -> PublishedKeys {
        PublishedKeys::new(&self.dir)
    }

    /// `record.json`.
    pub fn record_path(&self) -> PathBuf {
        self.published().record_path()
    }

    /// `<vk_id>.vk`.
    pub fn vk_path(&self, vk_id: &str) -> PathBuf {
        self.published().vk_path(vk_id)
    }

    /// `<vk_id>.pk`.
    pub fn pk_path(&self, vk_id: &str) -> PathBuf {
        self.dir.join(format!("{vk_id}.pk"))
    }

    /// `<vk_id>.r1cs`.
    pub fn r1cs_path(&self, vk_id: &str) -> PathBuf {
        self.dir.join(format!("{vk_id}.r1cs"))
    }

    /// `model.zkm`: the model the keys were made for.
    pub fn model_path(&self) -> PathBuf {
        self.dir.join("model.zkm")
    }

    /// `<vk_id>.base`.
    pub fn baseline_path(&self, vk_id: &str) -> PathBuf {
        self.dir.join(format!("{vk_id}.base"))
    }

    /// `<vk_id>.ck`: committed weights' commitment key (public).
    pub fn commitment_key_path(&self, vk_id: &str) -> PathBuf {
        self.published().commitment_key_path(vk_id)
    }

    /// `<vk_id>.opening`: the owner's proof of knowledge of the opening of its commitment to
    /// committed weights (public).
    pub fn opening_path(&self, vk_id: &str) -> PathBuf {
        self.published().opening_path(vk_id)
    }

    /// `<vk_id>.range`: the one-time proof that the committed weights lie within their widths
    /// (public).
    pub fn range_path(&self, vk_id: &str) -> PathBuf {
        self.published().range_path(vk_id)
    }

    /// The owner's setup statement (`zkw model setup --owner-key`), when there is one.
    pub fn setup_statement_path(&self) -> PathBuf {
        self.published().setup_statement_path()
    }

    /// Reads the registry record.
    pub fn read_record(&self) -> Result<ModelRecord, ProverError> {
        Ok(self.published().read_record()?)
    }

    /// Reads the verifying key the record names, checking its id.
    pub fn read_vk(&self, record: &ModelRecord) -> Result<VerifierKey, ProverError> {
        Ok(self.published().read_vk(record)?)
    }
}

impl KeyDir {
    /// blake3 (hex) of each key file the record names — verifying key, proving key, matrices,
    /// baseline, and for committed weights the commitment key and opening — by file name: what a registration lists so a worker can check it serves the
    /// registered keys. Streamed, so a large proving key is never read into memory whole.
    pub fn file_digests(
        &self,
        record: &ModelRecord,
    ) -> Result<std::collections::BTreeMap<String, String>, ProverError> {
        let id = &record.vk_id;
        let mut out = std::collections::BTreeMap::new();
        let mut paths = vec![
            self.vk_path(id),
            self.pk_path(id),
            self.r1cs_path(id),
            self.baseline_path(id),
        ];
        // Committed weights: the commitment key and the opening a registry checks.
        if record.weight_commitment.is_some() {
            paths.extend([
                self.commitment_key_path(id),
                self.opening_path(id),
                self.range_path(id),
            ]);
        }
        for path in paths {
            let file = std::fs::File::open(&path).map_err(|e| ProverError::io(&path, e))?;
            let mut h = blake3::Hasher::new();
            h.update_reader(file)
                .map_err(|e| ProverError::io(&path, e))?;
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .expect("key file names are ASCII")
                .to_string();
            out.insert(name, h.finalize().to_hex().to_string());
        }
        Ok(out)
    }
}

/// Writes a published key file whole or not at all, replacing an older one
/// ([`zkw_verifier::fs::write_atomic`]: the one durability contract).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ProverError> {
    fs::write_atomic(path, bytes, Existing::Replace, Access::Public)
        .map_err(|e| ProverError::io(path, e))
}

/// Validates a model and writes its file whole or not at all — a secret file (0600) when it
/// holds private weights, a published one otherwise — and returns its id. The one writer of
/// model files: a keys directory's `model.zkm` and `zkw model import`'s output alike.
pub fn save_model(model: &Model, path: &Path) -> Result<ModelId, ProverError> {
    let (bytes, id) = zkw_model::file::encode(model)?;
    let access = match model.weight_mode.is_private() {
        true => Access::Secret,
        false => Access::Public,
    };
    fs::write_atomic(path, &bytes, Existing::Replace, access)
        .map_err(|e| ProverError::io(path, e))?;
    Ok(id)
}

/// Writes `magic ‖ blake3(payload) ‖ payload` where payload is `value` uncompressed.
pub fn write_digested<T: CanonicalSerialize>(
    path: &Path,
    magic: &[u8; 8],
    value: &T,
) -> Result<u64, ProverError> {
    write_digested_as(path, magic, value, Access::Public)
}

/// [`write_digested`], as a secret file (0600) when `access` says so: a committed-weights
/// baseline, which holds `-v·[η/δ]₁`.
pub fn write_digested_as<T: CanonicalSerialize>(
    path: &Path,
    magic: &[u8; 8],
    value: &T,
    access: Access,
) -> Result<u64, ProverError> {
    let mut payload = Vec::with_capacity(value.uncompressed_size() + 40);
    value
        .serialize_uncompressed(&mut payload)
        .expect("writing to a Vec cannot fail");
    let mut bytes = Vec::with_capacity(payload.len() + 40);
    bytes.extend_from_slice(magic);
    bytes.extend_from_slice(blake3::hash(&payload).as_bytes());
    bytes.extend_from_slice(&payload);
    fs::write_atomic(path, &bytes, Existing::Replace, access)
        .map_err(|e| ProverError::io(path, e))?;
    Ok(bytes.len() as u64)
}

/// Reads a file written by [`write_digested`]: checks magic and digest, then deserializes
/// without curve-point validation (the points were validated when the file was made).
pub fn read_digested<T: CanonicalDeserialize>(
    path: &Path,
    magic: &[u8; 8],
    what: &str,
) -> Result<T, ProverError> {
    let bytes = std::fs::read(path).map_err(|e| ProverError::io(path, e))?;
    let bad = |reason: String| ProverError::BadKeyFile {
        path: path.to_path_buf(),
        reason,
    };
    if bytes.len() < 40 {
        return Err(bad(format!("truncated ({} bytes)", bytes.len())));
    }
    if &bytes[..8] != magic {
        return Err(bad(format!("not a zkworker {what} file")));
    }
    let payload = &bytes[40..];
    if blake3::hash(payload).as_bytes() != &bytes[8..40] {
        return Err(bad(
            "digest mismatch: the file is truncated, corrupt or altered".into(),
        ));
    }
    T::deserialize_uncompressed_unchecked(payload).map_err(|e| bad(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn private_weights_are_written_as_a_secret_file() {
        use std::os::unix::fs::PermissionsExt;
        use zkw_model::WeightMode;
        use zkw_model::ops::{Op, Relu};
        let dir = tempfile::tempdir().unwrap();
        let model = |mode| {
            let input = zkw_model::TensorInfo {
                shape: vec![2],
                frac_bits: 0,
                bits: 8,
            };
            Model::chain("m", mode, input, vec![Op::Relu(Relu)], None)
        };
        let mode_of = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let p = dir.path().join("model.zkm");
        let id = save_model(&model(WeightMode::Fixed), &p).unwrap();
        assert_eq!(id, zkw_model::model_id(&model(WeightMode::Fixed)));
        assert_ne!(mode_of(&p) & 0o044, 0, "a public model file is readable");
        save_model(&model(WeightMode::Private), &p).unwrap();
        assert_eq!(mode_of(&p), 0o600);
        assert_eq!(
            zkw_model::load_model(&p).unwrap().0,
            model(WeightMode::Private)
        );
    }

    #[test]
    fn digested_files_reject_corruption_truncation_and_foreign_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.pk");
        write_digested(&p, PK_MAGIC, &vec![1u64, 2, 3]).unwrap();
        let back: Vec<u64> = read_digested(&p, PK_MAGIC, "proving key").unwrap();
        assert_eq!(back, vec![1, 2, 3]);

        let mut bytes = std::fs::read(&p).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&p, &bytes).unwrap();
        let err = read_digested::<Vec<u64>>(&p, PK_MAGIC, "proving key").unwrap_err();
        assert!(err.to_string().contains("digest mismatch"), "{err}");

        std::fs::write(&p, &bytes[..20]).unwrap();
        let err = read_digested::<Vec<u64>>(&p, PK_MAGIC, "proving key").unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");

        std::fs::write(&p, vec![7u8; 64]).unwrap();
        let err = read_digested::<Vec<u64>>(&p, PK_MAGIC, "proving key").unwrap_err();
        assert!(
            err.to_string().contains("not a zkworker proving key"),
            "{err}"
        );
    }
}
