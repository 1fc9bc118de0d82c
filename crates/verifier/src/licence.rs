//! A licence: a model owner's signed permission for one worker to serve one model, until an
//! optional expiry.
//!
//! Settlement pays a worker for a model only under a valid licence: issued for that model and
//! that worker, signed by the owner the model's registration names, not expired at settlement
//! time. A receipt without one still verifies as a proof — the statement is true — but is not
//! settled, and [`Licence::permits`] says why.

use serde::{Deserialize, Serialize};

use crate::ed25519::KeyPair;
use crate::error::VerificationError;
use crate::record::is_digest_hex;
use crate::registration::Registration;

/// Current licence format version.
pub const LICENCE_VERSION: u32 = 1;

/// The most bytes a licence may have, checked before it is parsed (one is under 1 KiB: two
/// ids, an owner key, an expiry and a signature).
pub const MAX_LICENCE_BYTES: usize = 16 << 10;

/// An owner's permission for a worker to serve a model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Licence {
    /// Format version.
    pub version: u32,
    /// The model.
    pub model_id: String,
    /// The worker's id (its ed25519 public key, hex).
    pub worker_id: String,
    /// The owner who grants it (ed25519 public key, hex).
    pub owner: String,
    /// Seconds since the Unix epoch after which the licence no longer holds; none: no expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// The owner's signature over every other field (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

fn malformed(reason: String) -> VerificationError {
    VerificationError::Malformed {
        what: "licence",
        reason,
    }
}

impl Licence {
    /// A licence for `worker_id` to serve `model_id`, signed by `owner`.
    pub fn issue(
        owner: &KeyPair,
        model_id: &str,
        worker_id: &str,
        expires_at: Option<u64>,
    ) -> Self {
        let mut l = Licence {
            version: LICENCE_VERSION,
            model_id: model_id.into(),
            worker_id: worker_id.into(),
            owner: owner.public_hex(),
            expires_at,
            signature: None,
        };
        l.signature = Some(owner.sign_hex(&l.signing_digest()));
        l
    }

    /// The digest the owner signs: blake3 (own derivation context) of the canonical JSON of
    /// every field but the signature.
    pub fn signing_digest(&self) -> [u8; 32] {
        let unsigned = Licence {
            signature: None,
            ..self.clone()
        };
        let json = serde_json::to_vec(&unsigned).expect("a licence always serializes");
        let mut h = blake3::Hasher::new_derive_key("zkworker 2026-11 licence v1");
        h.update(&json);
        *h.finalize().as_bytes()
    }

    /// Parses a licence (at most [`MAX_LICENCE_BYTES`], straight into the type) and checks its
    /// form and its signature by the owner it names.
    pub fn from_json(bytes: &[u8]) -> Result<Self, VerificationError> {
        if bytes.len() > MAX_LICENCE_BYTES {
            return Err(VerificationError::TooLarge(crate::file::TooLarge {
                what: "licence",
                size: Some(bytes.len() as u64),
                cap: MAX_LICENCE_BYTES,
            }));
        }
        match crate::json::version(bytes).map_err(|e| malformed(e.to_string()))? {
            Some(v) if v == LICENCE_VERSION as u64 => {}
            Some(v) => {
                return Err(malformed(format!(
                    "version {v} is not supported (this build reads version {LICENCE_VERSION})"
                )));
            }
            None => return Err(malformed("no version".into())),
        }
        let l: Licence = serde_json::from_slice(bytes).map_err(|e| malformed(e.to_string()))?;
        l.check()?;
        Ok(l)
    }

    /// Checks the licence's form and that its owner signed it.
    pub fn check(&self) -> Result<(), VerificationError> {
        if self.version != LICENCE_VERSION {
            return Err(malformed(format!(
                "version {} is not supported (this build reads version {LICENCE_VERSION})",
                self.version
            )));
        }
        if !is_digest_hex(&self.model_id) {
            return Err(malformed("model_id is not 64 lower-case hex digits".into()));
        }
        crate::ed25519::public_key(&self.worker_id)
            .map_err(|reason| malformed(format!("the worker id is {reason}")))?;
        let Some(sig) = &self.signature else {
            return Err(VerificationError::Unsigned { what: "licence" });
        };
        crate::ed25519::check(&self.owner, &self.signing_digest(), sig).map_err(|reason| {
            VerificationError::BadOwnerSignature {
                what: "licence",
                reason: if reason.contains("does not verify") {
                    "it is not the owner's signature of this licence".into()
                } else {
                    reason
                },
            }
        })
    }

    /// Whether this licence lets `worker_id` be paid for `registration`'s model at time `now`
    /// (seconds since the Unix epoch); the reason when it does not.
    pub fn permits(
        &self,
        registration: &Registration,
        worker_id: &str,
        now: u64,
    ) -> Result<(), VerificationError> {
        let refuse = |reason: String| VerificationError::Unlicensed {
            worker: worker_id.into(),
            model: registration.record.model_id.clone(),
            reason,
        };
        self.check().map_err(|e| refuse(e.to_string()))?;
        if self.model_id != registration.record.model_id {
            return Err(refuse(format!(
                "the licence is for model {}",
                self.model_id
            )));
        }
        if self.worker_id != worker_id {
            return Err(refuse(format!(
                "the licence is for worker {}",
                self.worker_id
            )));
        }
        if self.owner != registration.owner {
            return Err(refuse(format!(
                "the licence is signed by {}, not by the model's owner {}",
                self.owner, registration.owner
            )));
        }
        if let Some(t) = self.expires_at
            && now >= t
        {
            return Err(refuse(format!("the licence expired at {t} (Unix time)")));
        }
        Ok(())
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a licence always serializes")
    }
}
