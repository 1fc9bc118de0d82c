//! The worker's signature over a receipt's claim.
//!
//! A worker daemon's id is its ed25519 public key (64 hex digits); it signs the claim of every
//! receipt it hands out — model, verifying key, input digest, output, and the job binding
//! (job id, worker id, client nonce) — so a receipt is evidence of what that worker claimed,
//! whether or not the proof verifies (a signed false claim is the basis of a penalty). The
//! proof bytes are not signed: Groth16 proofs can be re-randomized by anyone, and the claim is
//! what the worker answers for.

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

use crate::error::VerificationError;
use crate::receipt::Receipt;

/// Bytes of a signature (hex in a receipt: twice as many digits).
pub const SIGNATURE_BYTES: usize = 64;

/// The message a worker signs: a blake3 digest (with its own derivation context) of the
/// receipt's claim, every variable-length part length-prefixed.
pub fn claim_digest(r: &Receipt) -> [u8; 32] {
    let mut h = blake3::Hasher::new_derive_key("zkworker 2026-11 receipt claim v1");
    let mut field = |bytes: &[u8]| {
        h.update(&(bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    for s in [
        &r.model_id,
        &r.vk_id,
        &r.input_digest,
        &r.job_id,
        &r.worker_id,
        &r.client_nonce,
    ] {
        field(s.as_bytes());
    }
    let shape: Vec<u8> = r
        .output
        .shape
        .iter()
        .flat_map(|d| (*d as u64).to_le_bytes())
        .collect();
    field(&shape);
    field(&r.output.frac_bits.to_le_bytes());
    let values: Vec<u8> = r
        .output
        .quantized
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    field(&values);
    *h.finalize().as_bytes()
}

/// A worker's identity: its signing key. The worker id is the hex of the public key.
pub struct WorkerKey(SigningKey);

impl WorkerKey {
    /// The key from its 32-byte secret seed.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        WorkerKey(SigningKey::from_bytes(seed))
    }

    /// The secret seed (to store it).
    pub fn seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The worker id: the public key, 64 lower-case hex digits.
    pub fn worker_id(&self) -> String {
        hex::encode(self.0.verifying_key().to_bytes())
    }

    /// Signs a receipt's claim; the receipt's `worker_id` must be this key's.
    pub fn sign(&self, receipt: &mut Receipt) {
        let sig = self.0.sign(&claim_digest(receipt));
        receipt.signature = Some(hex::encode(sig.to_bytes()));
    }
}

impl std::fmt::Debug for WorkerKey {
    // The seed is the worker's secret: never in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WorkerKey({})", self.worker_id())
    }
}

/// Who signed a receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signer {
    /// Signed by the worker its `worker_id` names (the id is that public key).
    Worker(String),
    /// No signature.
    Unsigned,
}

/// Checks a receipt's signature, if it has one, against the key its worker id names.
pub fn check_signature(r: &Receipt) -> Result<Signer, VerificationError> {
    let Some(sig_hex) = &r.signature else {
        return Ok(Signer::Unsigned);
    };
    let bad = |reason: String| VerificationError::BadSignature { reason };
    let key_bytes: [u8; 32] = hex::decode(&r.worker_id)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| bad("the worker id is not an ed25519 public key (64 hex digits)".into()))?;
    let key = VerifyingKey::from_bytes(&key_bytes)
        .map_err(|_| bad("the worker id is not a valid ed25519 public key".into()))?;
    let sig_bytes: [u8; SIGNATURE_BYTES] = hex::decode(sig_hex)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| bad(format!("not {} hex digits", 2 * SIGNATURE_BYTES)))?;
    let sig = Signature::from_bytes(&sig_bytes);
    key.verify_strict(&claim_digest(r), &sig)
        .map_err(|_| bad("it is not the worker's signature of this receipt's claim".into()))?;
    Ok(Signer::Worker(r.worker_id.clone()))
}
