//! The registry record a model owner publishes, and verifiers trust.
//!
//! A verifier never trusts a key or commitment that arrives inside a receipt: it checks the
//! receipt against this record (model id, weight mode, commitment, verifying key id, formats).

use serde::{Deserialize, Serialize};

use crate::Fr;
use crate::error::VerificationError;
use crate::field::fr_from_hex;

/// Current record version.
pub const RECORD_VERSION: u32 = 1;

/// Shape and fixed-point format of a tensor (batch excluded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TensorFormat {
    /// Dimensions.
    pub shape: Vec<usize>,
    /// Values stand for `v · 2^-frac_bits`.
    pub frac_bits: i32,
    /// Signed width of every value.
    pub bits: u32,
}

impl TensorFormat {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// True when the tensor has no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a model owner publishes about a model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelRecord {
    /// Record format version.
    pub version: u32,
    /// blake3 of the canonical model file (hex).
    pub model_id: String,
    /// Human-readable name.
    pub name: String,
    /// `fixed` or `private`.
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
}

impl ModelRecord {
    /// Parses a record.
    pub fn from_json(bytes: &[u8]) -> Result<Self, VerificationError> {
        let r: ModelRecord =
            serde_json::from_slice(bytes).map_err(|e| VerificationError::Malformed {
                what: "model record",
                reason: e.to_string(),
            })?;
        if r.version != RECORD_VERSION {
            return Err(VerificationError::Malformed {
                what: "model record",
                reason: format!("version {} is not supported", r.version),
            });
        }
        r.commitment()?;
        Ok(r)
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a record always serializes")
    }

    /// The model commitment as a field element.
    pub fn commitment(&self) -> Result<Fr, VerificationError> {
        fr_from_hex(&self.model_commitment).map_err(|reason| VerificationError::Malformed {
            what: "model record commitment",
            reason,
        })
    }
}
