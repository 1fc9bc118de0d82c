//! The registry record a model owner publishes, and verifiers trust.
//!
//! A verifier never trusts a key or commitment that arrives inside a receipt: it checks the
//! receipt against this record (model id, weight mode, commitment, verifying key id, formats).
//! A record is validated whole before anything reads it ([`ModelRecord::validate`]): ids are
//! 32-byte hex digests, widths lie in `1..=32` (the type [`Width`] holds no other), shapes are
//! non-empty with at most [`MAX_ELEMENTS`] values, so no field of a hostile record can make the
//! verifier divide by zero, shift too far or allocate without bound.

use serde::{Deserialize, Serialize};

use crate::Fr;
use crate::error::VerificationError;
use crate::field::fr_from_hex;
use crate::statement::fixed_model_commitment;
use crate::width::Width;

/// Current record version (2: input digests absorb the client's salt; 3: outputs are packed
/// several to a public input, so a version-2 key proves another statement).
pub const RECORD_VERSION: u32 = 3;

/// The most values a tensor of a record or receipt may have.
pub const MAX_ELEMENTS: usize = 1 << 24;

/// The largest scale exponent a tensor format may declare (`|frac_bits|`).
pub const MAX_FRAC_BITS: i32 = 256;

/// The most bytes a record may have, checked before it is parsed. A record lists two shapes
/// and a few ids (under 1 KiB as setup writes it); the cap leaves room for shapes of hundreds
/// of dimensions, and bounds what a hostile one costs to parse.
pub const MAX_RECORD_BYTES: usize = 64 << 10;

/// Shape and fixed-point format of a tensor (batch excluded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TensorFormat {
    /// Dimensions.
    pub shape: Vec<usize>,
    /// Values stand for `v · 2^-frac_bits`.
    pub frac_bits: i32,
    /// Signed width of every value.
    pub bits: Width,
}

/// The most dimensions a tensor of a record or receipt may have (a shape of millions of
/// dimensions of 1 would hold one value in megabytes of JSON).
pub const MAX_RANK: usize = 16;

/// The number of values of a shape, if it is non-empty, has at most [`MAX_RANK`] dimensions,
/// none of them zero, and holds at most [`MAX_ELEMENTS`] values; otherwise what is wrong with
/// it.
pub fn checked_len(shape: &[usize]) -> Result<usize, String> {
    if shape.is_empty() {
        return Err("the shape has no dimension".into());
    }
    if shape.len() > MAX_RANK {
        return Err(format!(
            "the shape has {} dimensions, at most {MAX_RANK}",
            shape.len()
        ));
    }
    let mut n: usize = 1;
    for (i, &d) in shape.iter().enumerate() {
        if d == 0 {
            return Err(format!("dimension {i} of shape {shape:?} is zero"));
        }
        n = n
            .checked_mul(d)
            .filter(|&n| n <= MAX_ELEMENTS)
            .ok_or_else(|| format!("shape {shape:?} has more than {MAX_ELEMENTS} values"))?;
    }
    Ok(n)
}

impl TensorFormat {
    /// The real value a quantized value of this format stands for, `v · 2^-frac_bits`: what a
    /// receipt shows beside each quantized output value, spelled exactly so (verification
    /// compares the two bit for bit).
    pub fn dequantize(&self, v: i64) -> f64 {
        v as f64 * (-(self.frac_bits as f64)).exp2()
    }

    /// Refuses a claimed output of `shape` unless it is this (the record's) output shape. The
    /// proof does not bind the count of packed output values (a trailing `-2^(bits-1)` packs
    /// to zero), so the record's shape must.
    pub fn check_output_shape(&self, shape: &[usize]) -> Result<(), VerificationError> {
        if shape == self.shape {
            Ok(())
        } else {
            Err(VerificationError::OutputMismatch(format!(
                "shape {shape:?}, the model outputs shape {:?}",
                self.shape
            )))
        }
    }

    /// Number of elements (saturating: a shape too large for `usize` reads as `usize::MAX`;
    /// a validated format never is).
    pub fn len(&self) -> usize {
        self.shape
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .unwrap_or(usize::MAX)
    }

    /// True when the tensor has no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a model owner publishes about a model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelRecord {
    /// Record format version.
    pub version: u32,
    /// blake3 of the canonical model file (hex).
    pub model_id: String,
    /// Human-readable name.
    pub name: String,
    /// `fixed`, `private` or `committed`.
    pub weight_mode: String,
    /// Public input 0 of every proof of this model (hex field element).
    pub model_commitment: String,
    /// blake3 of the verifying key (hex).
    pub vk_id: String,
    /// Input format.
    pub input: TensorFormat,
    /// Output format.
    pub output: TensorFormat,
    /// R1CS constraints of the model's circuit.
    pub constraints: usize,
    /// For a model set up by an owner: blake3 of the canonical model file (hex). The model id
    /// is then [`owned_model_id`] of it and [`ModelRecord::owner`], not the file's digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_id: Option<String>,
    /// For a model set up by an owner: the owner's ed25519 public key (hex), part of the model
    /// id — so nobody else can claim a model under this id, and a fixed-weights circuit, which
    /// pins its first public input to the id, is the owner's alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Committed weights only: the owner's commitment `D_reg` to the weights (compressed G1,
    /// hex), added to every proof's public-input term ([`crate::commitment`]). Absent in the
    /// other modes, so their records (and digests) are what they were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_commitment: Option<String>,
    /// Committed weights only: blake3 (hex, [`crate::commitment::CommitmentKey::digest`]) of
    /// the commitment key setup made with the verifying key — the one key the opening of
    /// `weight_commitment` must be over. Setup's honesty covers it as it covers the verifying
    /// key; the digest pins it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commitment_key: Option<String>,
}

/// The id of a model set up by `owner` (an ed25519 public key, hex): blake3 (own derivation
/// context) of the model file's digest and the owner's key. Anyone can recompute it from a
/// record; nobody can find another (file, owner) pair with the same id.
pub fn owned_model_id(content_id: &[u8; 32], owner: &str) -> [u8; 32] {
    let mut h = blake3::Hasher::new_derive_key("zkworker 2026-12 owned model id");
    h.update(content_id);
    h.update(owner.as_bytes());
    *h.finalize().as_bytes()
}

impl ModelRecord {
    /// Parses and validates a record (at most [`MAX_RECORD_BYTES`], straight into the type).
    pub fn from_json(bytes: &[u8]) -> Result<Self, VerificationError> {
        let malformed = |reason: String| VerificationError::Malformed {
            what: "model record",
            reason,
        };
        if bytes.len() > MAX_RECORD_BYTES {
            return Err(VerificationError::TooLarge(crate::file::TooLarge {
                what: "model record",
                size: Some(bytes.len() as u64),
                cap: MAX_RECORD_BYTES,
            }));
        }
        // The version first, so an old record says so instead of failing on a changed field.
        match crate::json::version(bytes).map_err(|e| malformed(e.to_string()))? {
            Some(v) if v == RECORD_VERSION as u64 => {}
            Some(v) => {
                return Err(malformed(format!(
                    "version {v} is not supported (this build reads version {RECORD_VERSION}; \
                     run `zkw model setup` again to make a current record)"
                )));
            }
            None => return Err(malformed("no version".into())),
        }
        let r: ModelRecord = serde_json::from_slice(bytes).map_err(|e| malformed(e.to_string()))?;
        r.validate()?;
        Ok(r)
    }

    /// Checks every field a verifier relies on: version, ids, weight mode, commitment, and
    /// both tensor formats.
    pub fn validate(&self) -> Result<(), VerificationError> {
        let malformed = |reason: String| VerificationError::Malformed {
            what: "model record",
            reason,
        };
        if self.version != RECORD_VERSION {
            return Err(malformed(format!(
                "version {} is not supported (this build reads version {RECORD_VERSION})",
                self.version
            )));
        }
        for (name, id) in [("model_id", &self.model_id), ("vk_id", &self.vk_id)] {
            if !is_digest_hex(id) {
                return Err(malformed(format!("{name} is not 64 lower-case hex digits")));
            }
        }
        match (&self.content_id, &self.owner) {
            (None, None) => {}
            (Some(content), Some(owner)) => {
                if !is_digest_hex(content) || !is_digest_hex(owner) {
                    return Err(malformed(
                        "content_id and owner are not 64 lower-case hex digits each".into(),
                    ));
                }
                let content: [u8; 32] = hex::decode(content)
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .expect("checked: 64 hex digits");
                if hex::encode(owned_model_id(&content, owner)) != self.model_id {
                    return Err(malformed(format!(
                        "model_id is not the id of content {} owned by {owner}",
                        hex::encode(content)
                    )));
                }
            }
            _ => {
                return Err(malformed(
                    "content_id and owner come together, or not at all".into(),
                ));
            }
        }
        if !matches!(self.weight_mode.as_str(), "fixed" | "private" | "committed") {
            return Err(malformed(format!(
                "weight mode `{}` is none of fixed, private and committed",
                self.weight_mode
            )));
        }
        // Committed weights, and they alone, carry the owner's commitment to them.
        let committed = self.weight_commitment.is_some() || self.commitment_key.is_some();
        match (self.weight_mode.as_str(), committed) {
            ("committed", _) => {
                if self.weight_commitment.is_none() || self.commitment_key.is_none() {
                    return Err(malformed(
                        "a committed-weights record needs weight_commitment and commitment_key"
                            .into(),
                    ));
                }
                self.weights()?;
                if !self.commitment_key.as_deref().is_some_and(is_digest_hex) {
                    return Err(malformed(
                        "commitment_key is not 64 lower-case hex digits".into(),
                    ));
                }
            }
            (mode, true) => {
                return Err(malformed(format!(
                    "a {mode}-weights record carries a weight commitment: only committed weights \
                     have one"
                )));
            }
            (_, false) => {}
        }
        // Fixed and committed weights are identified by the model id itself (the circuit pins
        // public input 0 to it); private weights by a Poseidon commitment, which is never that
        // value. A record whose mode and commitment disagree misstates what its proofs show.
        let commitment = self.commitment()?;
        let id_element = hex::decode(&self.model_id)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .map(|id| fixed_model_commitment(&id));
        let is_id = Some(commitment) == id_element;
        match (self.weight_mode.as_str(), is_id) {
            (mode @ ("fixed" | "committed"), false) => {
                return Err(malformed(format!(
                    "a {mode}-weights record's commitment must be its model id in the field"
                )));
            }
            ("private", true) => {
                return Err(malformed(
                    "a private-weights record's commitment is its model id: the weights are not \
                     committed"
                        .into(),
                ));
            }
            _ => {}
        }
        for (name, f) in [("input", &self.input), ("output", &self.output)] {
            checked_len(&f.shape).map_err(|e| malformed(format!("{name}: {e}")))?;
            if f.frac_bits.unsigned_abs() > MAX_FRAC_BITS as u32 {
                return Err(malformed(format!(
                    "{name}: scale exponent {} is beyond ±{MAX_FRAC_BITS}",
                    f.frac_bits
                )));
            }
        }
        Ok(())
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a record always serializes")
    }

    /// The record's digest: blake3 (own derivation context) of its canonical JSON (fields in
    /// declaration order, no maps, no floats), so one record has one digest whatever its
    /// file's spelling. Registries and ledgers pin a (model, verifying key) pair to it.
    pub fn digest(&self) -> [u8; 32] {
        let json = serde_json::to_vec(self).expect("a record always serializes");
        let mut h = blake3::Hasher::new_derive_key("zkworker 2026-12 model record");
        h.update(&json);
        *h.finalize().as_bytes()
    }

    /// The owner's commitment to committed weights, `D_reg`, as a point (validated: on the
    /// curve, not the identity); `None` for the other modes.
    pub fn weights(&self) -> Result<Option<ark_bn254::G1Affine>, VerificationError> {
        self.weight_commitment
            .as_deref()
            .map(|hex| {
                crate::commitment::point_from_hex(hex).map_err(|reason| {
                    VerificationError::Malformed {
                        what: "model record weight commitment",
                        reason,
                    }
                })
            })
            .transpose()
    }

    /// The model commitment as a field element.
    pub fn commitment(&self) -> Result<Fr, VerificationError> {
        fr_from_hex(&self.model_commitment).map_err(|reason| VerificationError::Malformed {
            what: "model record commitment",
            reason,
        })
    }
}

/// 64 lower-case hex digits: a blake3 digest as ids are written.
pub fn is_digest_hex(s: &str) -> bool {
    s.len() == 64 && is_lower_hex(s)
}

/// The longest job id, worker id or client nonce a receipt or request may carry, in bytes.
pub const MAX_ID_BYTES: usize = 1024;

/// Checks an id a receipt or request carries: at most [`MAX_ID_BYTES`], printable ASCII.
pub(crate) fn check_id(name: &str, id: &str) -> Result<(), String> {
    check_printable(name, id, MAX_ID_BYTES)
}

/// Checks a string that others choose and verifiers or operators print (an id, a nonce, an
/// idempotency key): at most `max` bytes, printable ASCII only. A newline or an escape
/// sequence could otherwise draw a fake "verified" line or hide a warning.
pub fn check_printable(what: &str, s: &str, max: usize) -> Result<(), String> {
    if s.len() > max {
        return Err(format!(
            "{what} has {} bytes, at most {max} are allowed",
            s.len()
        ));
    }
    if let Some(at) = s.bytes().position(|b| !(b' '..=b'~').contains(&b)) {
        return Err(format!(
            "{what} has a byte outside printable ASCII at offset {at}"
        ));
    }
    Ok(())
}

/// Only lower-case hex digits (so that one value has one spelling).
pub fn is_lower_hex(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(shape: Vec<usize>) -> TensorFormat {
        TensorFormat {
            shape,
            frac_bits: 0,
            bits: Width::new(8).unwrap(),
        }
    }

    #[test]
    fn lengths_saturate_instead_of_overflowing() {
        assert_eq!(format(vec![2, 3]).len(), 6);
        assert!(!format(vec![2, 3]).is_empty());
        assert!(format(vec![2, 0]).is_empty());
        assert_eq!(format(vec![usize::MAX, 2]).len(), usize::MAX);
        assert_eq!(checked_len(&[2, 3]), Ok(6));
        assert_eq!(checked_len(&[MAX_ELEMENTS]), Ok(MAX_ELEMENTS));
        assert!(checked_len(&[MAX_ELEMENTS + 1]).is_err());
        assert!(checked_len(&[MAX_ELEMENTS, 2]).is_err());
        // A shape of many dimensions of 1 holds one value in a long list: refused past
        // MAX_RANK, whatever its product.
        assert_eq!(checked_len(&[1; MAX_RANK]), Ok(1));
        assert_eq!(
            checked_len(&[1; MAX_RANK + 1]),
            Err(format!(
                "the shape has {} dimensions, at most {MAX_RANK}",
                MAX_RANK + 1
            ))
        );
    }

    #[test]
    fn digest_hex_is_64_lower_case_hex_digits() {
        assert!(is_digest_hex(&"0a".repeat(32)));
        assert!(!is_digest_hex(&"0A".repeat(32)));
        assert!(!is_digest_hex(&"0a".repeat(31)));
        assert!(!is_digest_hex(&"0g".repeat(32)));
        assert!(!is_digest_hex(""));
    }

    #[test]
    fn json_round_trips() {
        let id = [7u8; 32];
        let r = ModelRecord {
            version: RECORD_VERSION,
            model_id: hex::encode(id),
            name: "m".into(),
            weight_mode: "fixed".into(),
            model_commitment: crate::field::fr_to_hex(&fixed_model_commitment(&id)),
            vk_id: "ab".repeat(32),
            input: format(vec![4]),
            output: format(vec![1, 2]),
            constraints: 9,
            content_id: None,
            owner: None,
            weight_commitment: None,
            commitment_key: None,
        };
        assert_eq!(ModelRecord::from_json(r.to_json().as_bytes()).unwrap(), r);
        // One digest per record, whatever the spelling; any change moves it.
        let compact = serde_json::to_vec(&r).unwrap();
        assert_eq!(
            ModelRecord::from_json(&compact).unwrap().digest(),
            r.digest()
        );
        let mut edited = r.clone();
        edited.output.frac_bits += 1;
        assert_ne!(edited.digest(), r.digest());
        assert!(r.to_json().contains("\"bits\": 8"));
    }
}
