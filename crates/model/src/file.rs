//! The versioned model file and the model's content id.
//!
//! A model file is canonical JSON (a fixed field order, no whitespace) wrapped in a small
//! envelope naming the format and its version. The **model id** is the blake3 digest of those
//! exact bytes, so a registry record, a receipt and a file on disk can always be matched byte for
//! byte. Loading refuses a file whose bytes are not canonical, so two files with one id are
//! always identical.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::ModelError;
use crate::ir::Model;

/// Name in the file envelope.
pub const FORMAT: &str = "zkw-model";
/// Current file version.
pub const VERSION: u32 = 2;

/// A model's content id: blake3 of its canonical file bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ModelId(pub [u8; 32]);

impl ModelId {
    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl std::fmt::Display for ModelId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

#[derive(Serialize, Deserialize)]
struct Envelope<M> {
    format: String,
    version: u32,
    model: M,
}

/// The canonical bytes of a model file.
pub fn to_canonical_bytes(model: &Model) -> Vec<u8> {
    serde_json::to_vec(&Envelope {
        format: FORMAT.to_string(),
        version: VERSION,
        model,
    })
    .expect("a model always serializes")
}

/// The model's content id.
pub fn model_id(model: &Model) -> ModelId {
    ModelId(*blake3::hash(&to_canonical_bytes(model)).as_bytes())
}

/// Validates a model (structure and bounds) and returns its file's bytes and id: what is
/// written to disk, by the writer that gives every file one durability contract
/// (`zkw_verifier::fs::write_atomic`; private weights as a secret file).
pub fn encode(model: &Model) -> Result<(Vec<u8>, ModelId), ModelError> {
    crate::bounds::analyze(model)?;
    let bytes = to_canonical_bytes(model);
    let id = ModelId(*blake3::hash(&bytes).as_bytes());
    Ok((bytes, id))
}

/// Parses model file bytes, checking format, version, canonical form, structure and bounds.
pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<(Model, ModelId), ModelError> {
    let bad = |reason: String| ModelError::BadModelFile {
        path: path.to_path_buf(),
        reason,
    };
    let envelope: Envelope<serde_json::Value> = serde_json::from_slice(bytes).map_err(|e| {
        if e.is_eof() {
            bad(format!("truncated ({e})"))
        } else {
            bad(format!("not a zkw model file ({e})"))
        }
    })?;
    if envelope.format != FORMAT {
        return Err(bad(format!(
            "format is `{}`, expected `{FORMAT}`",
            envelope.format
        )));
    }
    if envelope.version == 1 {
        return Err(bad(
            "file version 1 holds a chain of ops, and this build reads graphs (version 2): \
             import the ONNX file again with `zkw model import`"
                .into(),
        ));
    }
    if envelope.version != VERSION {
        return Err(bad(format!(
            "file version {} is not supported (this build reads version {VERSION})",
            envelope.version
        )));
    }
    let model: Model =
        serde_json::from_value(envelope.model).map_err(|e| bad(format!("corrupt model: {e}")))?;
    let canonical = to_canonical_bytes(&model);
    if canonical != bytes {
        return Err(bad(
            "bytes are not canonical (was the file edited?); re-import the model".into(),
        ));
    }
    crate::bounds::analyze(&model)?;
    Ok((model, ModelId(*blake3::hash(bytes).as_bytes())))
}

/// Reads and validates a model file.
pub fn load_model(path: &Path) -> Result<(Model, ModelId), ModelError> {
    let bytes = std::fs::read(path).map_err(|e| ModelError::io(path, e))?;
    from_bytes(&bytes, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{TensorInfo, WeightMode};
    use crate::ops::{Op, Relu};

    fn m() -> Model {
        Model::chain(
            "m",
            WeightMode::Fixed,
            TensorInfo {
                shape: vec![2],
                frac_bits: 0,
                bits: 8,
            },
            vec![Op::Relu(Relu)],
            None,
        )
    }

    #[test]
    fn round_trip_keeps_the_id() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.zkm");
        let (bytes, id) = encode(&m()).unwrap();
        std::fs::write(&p, bytes).unwrap();
        let (back, id2) = load_model(&p).unwrap();
        assert_eq!(back, m());
        assert_eq!(id, id2);
        assert_eq!(id, model_id(&m()));
    }

    #[test]
    fn truncated_file_says_truncated() {
        let bytes = to_canonical_bytes(&m());
        let err = from_bytes(&bytes[..bytes.len() - 5], Path::new("x.zkm")).unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");
    }

    #[test]
    fn corrupt_and_foreign_files_are_named() {
        let err = from_bytes(b"\x00\x01garbage", Path::new("x.zkm")).unwrap_err();
        assert!(err.to_string().contains("not a zkw model file"), "{err}");
        let other = br#"{"format":"onnx","version":1,"model":{}}"#;
        let err = from_bytes(other, Path::new("x.zkm")).unwrap_err();
        assert!(err.to_string().contains("format is `onnx`"), "{err}");
        let newer = String::from_utf8(to_canonical_bytes(&m()))
            .unwrap()
            .replace("\"version\":2", "\"version\":9");
        let err = from_bytes(newer.as_bytes(), Path::new("x.zkm")).unwrap_err();
        assert!(
            err.to_string().contains("version 9 is not supported"),
            "{err}"
        );
    }

    #[test]
    fn a_version_1_chain_asks_for_a_new_import() {
        let old = String::from_utf8(to_canonical_bytes(&m()))
            .unwrap()
            .replace("\"version\":2", "\"version\":1");
        let err = from_bytes(old.as_bytes(), Path::new("x.zkm")).unwrap_err();
        assert!(
            err.to_string().contains("import the ONNX file again"),
            "{err}"
        );
    }

    #[test]
    fn edited_file_is_not_canonical() {
        let s = String::from_utf8(to_canonical_bytes(&m())).unwrap();
        let edited = s.replacen("{", "{ ", 1);
        let err = from_bytes(edited.as_bytes(), Path::new("x.zkm")).unwrap_err();
        assert!(err.to_string().contains("not canonical"), "{err}");
    }
}
