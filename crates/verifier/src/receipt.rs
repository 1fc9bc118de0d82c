//! The receipt a worker returns: the job, the claim (model, input digest, output) and the proof.
//!
//! Versioned JSON, so it can be read by people and by any language; the proof is the 128-byte
//! compressed Groth16 proof (A ∈ G1, B ∈ G2, C ∈ G1), hex-encoded. A receipt is validated on
//! its own when parsed ([`Receipt::validate`]: ids, digests, shape against value counts, sizes
//! bounded) and against the model's record when verified.

use ark_bn254::Bn254;
use ark_groth16::Proof;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use serde::{Deserialize, Serialize};

use crate::ed25519::SIGNATURE_BYTES;
use crate::error::VerificationError;
use crate::field::fr_from_hex;
use crate::file::TooLarge;
use crate::record::{check_id, checked_len, is_digest_hex, is_lower_hex};
use crate::request::ClientRequest;

/// Current receipt version (3: the worker signs the whole receipt, proof included, and the
/// job binding is SHA-256; 4: outputs are packed several to a public input, so a version-3
/// proof is about another statement; 5: the client's signed request, naming the venue, is
/// carried and bound into the job binding, and the worker's signature covers it under a new
/// domain).
pub const RECEIPT_VERSION: u32 = 5;

pub use crate::record::MAX_ID_BYTES;

/// Size of a compressed BN254 Groth16 proof.
pub const PROOF_BYTES: usize = 128;

/// The most bytes a receipt may have, checked before it is parsed ([`Receipt::from_json`])
/// and before it is read from a file ([`crate::file::read_capped`]).
///
/// This cap, not [`MAX_ELEMENTS`](crate::record::MAX_ELEMENTS), is what bounds a receipt's
/// output in practice: each output value is written twice (quantized and dequantized), so
/// 2^20 values of 32-bit width, pretty-printed as workers write them, take about 50 MB and
/// fit (tested), while a receipt of `MAX_ELEMENTS` values would take 16 times that. Models a
/// worker proves have outputs far smaller than 2^20 values. Parsed straight into [`Receipt`],
/// the most a receipt of this size makes its reader hold is its two value arrays, 8 bytes
/// per value of at least 2 bytes of JSON: about 340 MB at the cap (measured), never the
/// 17-fold or more of a JSON tree.
pub const MAX_RECEIPT_BYTES: usize = 64 << 20;

/// The output as proved and as shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptOutput {
    /// Shape, batch excluded.
    pub shape: Vec<usize>,
    /// The quantized values (what the proof binds).
    pub quantized: Vec<i64>,
    /// Values stand for `v · 2^-frac_bits`.
    pub frac_bits: i32,
    /// `quantized[i] · 2^-frac_bits`, for display.
    pub values: Vec<f64>,
}

/// A proof of one inference job. One receipt has one JSON form up to whitespace and field
/// order: unknown fields are refused, hex is lower case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// Receipt format version.
    pub version: u32,
    /// The job's id.
    pub job_id: String,
    /// The worker that ran and proved it.
    pub worker_id: String,
    /// The client's nonce.
    pub client_nonce: String,
    /// blake3 of the model file (hex).
    pub model_id: String,
    /// blake3 of the verifying key (hex).
    pub vk_id: String,
    /// Poseidon digest of the quantized input (hex field element).
    pub input_digest: String,
    /// The output.
    pub output: ReceiptOutput,
    /// Compressed Groth16 proof, hex.
    pub proof: String,
    /// The client's signed request ([`crate::request`]), whose digest the job binding
    /// absorbs; absent for a job no client signed for (`zkw prove`, a submit without a client
    /// key): such a receipt verifies but settles nowhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<ClientRequest>,
    /// The worker's ed25519 signature over the receipt ([`crate::signature`]), hex; absent when
    /// the receipt was made outside a worker daemon (`zkw prove`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

impl Receipt {
    /// Parses a receipt, naming what is wrong with a malformed one: one of more than
    /// [`MAX_RECEIPT_BYTES`] is refused unparsed, one of another version says so before any
    /// field is read, and the rest is parsed straight into the type (no JSON tree of it).
    pub fn from_json(bytes: &[u8]) -> Result<Self, VerificationError> {
        if bytes.len() > MAX_RECEIPT_BYTES {
            return Err(VerificationError::TooLarge(TooLarge {
                what: "receipt",
                size: Some(bytes.len() as u64),
                cap: MAX_RECEIPT_BYTES,
            }));
        }
        let malformed = |e: serde_json::Error| VerificationError::Malformed {
            what: "receipt",
            reason: if e.is_eof() {
                format!("truncated ({e})")
            } else {
                e.to_string()
            },
        };
        match crate::json::version(bytes).map_err(malformed)? {
            Some(v) if v == RECEIPT_VERSION as u64 => {}
            Some(v) => {
                return Err(VerificationError::UnsupportedVersion {
                    found: v,
                    supported: RECEIPT_VERSION,
                });
            }
            None => {
                return Err(VerificationError::Malformed {
                    what: "receipt",
                    reason: "no version".into(),
                });
            }
        }
        let receipt: Receipt = serde_json::from_slice(bytes).map_err(malformed)?;
        receipt.validate()?;
        Ok(receipt)
    }

    /// Checks the receipt on its own: version, ids and digests well-formed, the output's shape
    /// consistent with its value counts, every size bounded. (The output's range and format
    /// are checked against the model's record by [`crate::verify()`].)
    pub fn validate(&self) -> Result<(), VerificationError> {
        let malformed = |reason: String| VerificationError::Malformed {
            what: "receipt",
            reason,
        };
        if self.version != RECEIPT_VERSION {
            return Err(VerificationError::UnsupportedVersion {
                found: self.version.into(),
                supported: RECEIPT_VERSION,
            });
        }
        for (name, id) in [
            ("job_id", &self.job_id),
            ("worker_id", &self.worker_id),
            ("client_nonce", &self.client_nonce),
        ] {
            check_id(name, id).map_err(malformed)?;
        }
        for (name, id) in [("model_id", &self.model_id), ("vk_id", &self.vk_id)] {
            if !is_digest_hex(id) {
                return Err(malformed(format!("{name} is not 64 lower-case hex digits")));
            }
        }
        let input_digest =
            fr_from_hex(&self.input_digest).map_err(|e| malformed(format!("input_digest: {e}")))?;
        if let Some(rq) = &self.request {
            // The request is what the client signed; the receipt must answer exactly it.
            let differs = |what: &str, asked: &str, here: &str| VerificationError::BadRequest {
                reason: format!("the client asked for {what} {asked}, the receipt has {here}"),
            };
            if rq.model_id() != self.model_id {
                return Err(differs("model", &rq.model_id(), &self.model_id));
            }
            if rq.input_digest() != input_digest {
                return Err(differs(
                    "the input with digest",
                    &crate::field::fr_to_hex(&rq.input_digest()),
                    &self.input_digest,
                ));
            }
            if rq.client_nonce() != self.client_nonce {
                return Err(differs("nonce", rq.client_nonce(), &self.client_nonce));
            }
        }
        let out = &self.output;
        let n = checked_len(&out.shape).map_err(|e| malformed(format!("output: {e}")))?;
        if out.quantized.len() != n || out.values.len() != n {
            return Err(malformed(format!(
                "the output's shape {:?} holds {n} values, the receipt has {} quantized and {} \
                 dequantized values",
                out.shape,
                out.quantized.len(),
                out.values.len()
            )));
        }
        if let Some(sig) = &self.signature
            && (sig.len() != 2 * SIGNATURE_BYTES || !is_lower_hex(sig))
        {
            return Err(VerificationError::BadSignature {
                reason: format!("not {} lower-case hex digits", 2 * SIGNATURE_BYTES),
            });
        }
        if !is_lower_hex(&self.proof) {
            return Err(VerificationError::Malformed {
                what: "proof",
                reason: "not lower-case hex".into(),
            });
        }
        if self.proof.len() != 2 * PROOF_BYTES {
            return Err(VerificationError::Malformed {
                what: "proof",
                reason: format!(
                    "{} hex digits, expected {}",
                    self.proof.len(),
                    2 * PROOF_BYTES
                ),
            });
        }
        Ok(())
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a receipt always serializes")
    }

    /// Decodes the proof, validating its points.
    pub fn decode_proof(&self) -> Result<Proof<Bn254>, VerificationError> {
        let bad = |reason: String| VerificationError::Malformed {
            what: "proof",
            reason,
        };
        let bytes = hex::decode(&self.proof).map_err(|e| bad(format!("not hex: {e}")))?;
        if bytes.len() != PROOF_BYTES {
            return Err(bad(format!(
                "{} bytes, expected {PROOF_BYTES}",
                bytes.len()
            )));
        }
        Proof::<Bn254>::deserialize_compressed(bytes.as_slice()).map_err(|e| bad(e.to_string()))
    }
}

/// Hex of a proof's compressed bytes.
pub fn encode_proof(proof: &Proof<Bn254>) -> String {
    let mut out = Vec::with_capacity(PROOF_BYTES);
    proof
        .serialize_compressed(&mut out)
        .expect("writing to a Vec cannot fail");
    hex::encode(out)
}
