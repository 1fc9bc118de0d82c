//! The worker's signature over a receipt.
//!
//! A worker daemon's id is its ed25519 public key (64 hex digits); it signs every receipt it
//! hands out — every field but the signature itself: the claim (model, verifying key, input
//! digest, output as quantized and as shown), the job binding (job id, worker id, client
//! nonce, the client's signed request) and the proof bytes. A signed receipt is therefore evidence of exactly what that
//! worker handed out: if it fails verification, the worker made a false claim, and settlement
//! records a penalty. The proof is signed too because a penalty must never be something a
//! third party can cause: with the proof unsigned, anyone could flip a byte of an honest
//! worker's proof and present a "signed receipt that fails". (A Groth16 proof re-randomized
//! by someone else therefore no longer carries its worker's signature.)

use crate::ed25519::KeyPair;

use crate::error::VerificationError;
use crate::receipt::Receipt;

pub use crate::ed25519::SIGNATURE_BYTES;

/// The message a worker signs: a blake3 digest (with its own derivation context) of every
/// field of the receipt but the signature, every variable-length part length-prefixed. Two
/// receipts with the same digest are the same receipt, whatever their JSON spelling.
pub fn receipt_digest(r: &Receipt) -> [u8; 32] {
    let mut h = blake3::Hasher::new_derive_key("zkworker 2026-12 signed receipt v5");
    let mut field = |bytes: &[u8]| {
        h.update(&(bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    field(&r.version.to_le_bytes());
    for s in [
        &r.model_id,
        &r.vk_id,
        &r.input_digest,
        &r.job_id,
        &r.worker_id,
        &r.client_nonce,
        &r.proof,
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
    let shown: Vec<u8> = r
        .output
        .values
        .iter()
        .flat_map(|v| v.to_bits().to_le_bytes())
        .collect();
    field(&shown);
    // The client's request as signed: its digest and the client's signature.
    let request: Vec<u8> = r
        .request
        .as_ref()
        .map(|rq| [&rq.digest()[..], &rq.signature()[..]].concat())
        .unwrap_or_default();
    field(&request);
    *h.finalize().as_bytes()
}

/// A worker's identity: its signing key. The worker id is the hex of the public key.
pub struct WorkerKey(KeyPair);

impl WorkerKey {
    /// The key from its 32-byte secret seed.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        WorkerKey(KeyPair::from_seed(seed))
    }

    /// The secret seed (to store it).
    pub fn seed(&self) -> [u8; 32] {
        self.0.seed()
    }

    /// The worker id: the public key, 64 lower-case hex digits.
    pub fn worker_id(&self) -> String {
        self.0.public_hex()
    }

    /// Signs a receipt (every field but the signature); the receipt's `worker_id` must be
    /// this key's.
    pub fn sign(&self, receipt: &mut Receipt) {
        receipt.signature = Some(self.0.sign_hex(&receipt_digest(receipt)));
    }
}

impl From<KeyPair> for WorkerKey {
    fn from(key: KeyPair) -> Self {
        WorkerKey(key)
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
    crate::ed25519::check(&r.worker_id, &receipt_digest(r), sig_hex).map_err(|reason| {
        VerificationError::BadSignature {
            reason: if reason.contains("public key") {
                format!("the worker id is {reason}")
            } else if reason.contains("does not verify") {
                "it is not the worker's signature of this receipt".into()
            } else {
                reason
            },
        }
    })?;
    Ok(Signer::Worker(r.worker_id.clone()))
}
