//! A model's registration: the record a verifier trusts, signed by the model's owner.
//!
//! `zkw model setup` writes the technical record ([`ModelRecord`]: model id, weight mode,
//! commitment, vk id, formats). `zkw model register --owner-key K` wraps it with everything
//! settlement needs — the verifying key itself, the owner's public key, the reward split
//! between worker and owner, digests of the worker's key files — and the owner's ed25519
//! signature over all of it. A verifier takes the verifying key and the commitment from here,
//! never from a receipt, and refuses a registration that is unsigned or whose signature is not
//! its owner's ([`Registration::check`]): nobody without the owner's key can swap the key,
//! the commitment or the split of a registered model.
//!
//! The signature covers the canonical JSON of every field but itself: fields in declaration
//! order, maps sorted, no floats, hex in lower case, so one registration has one signed form
//! whatever whitespace or field order its file uses.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::dsse::Envelope;
use crate::ed25519::KeyPair;
use crate::error::VerificationError;
use crate::key::VerifierKey;
use crate::ownership::check_setup;
use crate::record::{ModelRecord, is_digest_hex, is_lower_hex};
use crate::venue::Venue;

/// Current registration format version.
pub const REGISTRATION_VERSION: u32 = 1;

/// Basis points in a whole: a worker share of 10,000 pays the worker the whole fee.
pub const BPS: u16 = 10_000;

/// The most venues a registration may list.
pub const MAX_VENUES: usize = 64;

/// The most key files a registration may list.
pub const MAX_KEY_FILES: usize = 16;

/// The most bytes a registration may have, checked before it is parsed and before a registry
/// writes one: a record (at most [`MAX_RECORD_BYTES`](crate::record::MAX_RECORD_BYTES)), a
/// verifying key in hex (under 1 KiB: a statement has at most 5 public inputs),
/// [`MAX_KEY_FILES`] names and digests, a signature — and the owner's setup statement, whose
/// possession receipt carries the model's output on the zero input (16 MiB holds about half
/// a million 8-bit output values; a model with more cannot be registered).
pub const MAX_REGISTRATION_BYTES: usize = 16 << 20;

/// What one settled job pays, and what a false claim costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reward {
    /// Units paid per settled job, split between worker and owner.
    pub fee: u64,
    /// The worker's share of the fee in basis points (`0..=10000`); the owner gets the rest.
    pub worker_share_bps: u16,
    /// Units charged to a worker for each signed receipt that fails verification.
    pub penalty: u64,
}

impl Reward {
    /// `(worker, owner)` credits of one settled job: the worker's share rounds down, the
    /// owner gets the remainder, so the two always add up to the fee.
    pub fn split(&self) -> (u64, u64) {
        let worker =
            (self.fee as u128 * self.worker_share_bps.min(BPS) as u128 / BPS as u128) as u64;
        (worker, self.fee - worker)
    }
}

/// A model's registration as published in a registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    /// Format version.
    pub version: u32,
    /// Its place among the owner's registrations of this model: each re-registration has a
    /// higher one, so an older registration put back cannot pass for the current one.
    pub sequence: u64,
    /// The technical record (`zkw model setup`).
    pub record: ModelRecord,
    /// The verifying key, compressed, hex; its blake3 is `record.vk_id`.
    pub vk: String,
    /// The owner's ed25519 public key (hex): it signs this registration and the licences.
    pub owner: String,
    /// Fee, split and penalty.
    pub reward: Reward,
    /// blake3 (hex) of each of the worker's key files, by file name, so a worker can check it
    /// serves the keys that were registered.
    pub key_files: BTreeMap<String, String>,
    /// Where receipts of this model settle ([`crate::venue`]): a client's request names one
    /// of them, and a venue not listed here pays nothing for the model. Empty: nowhere yet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub venues: Vec<Venue>,
    /// The owner's setup statement ([`crate::ownership`]): an in-toto statement in a DSSE
    /// envelope, signed by the owner, naming this record and key and carrying a proof that the
    /// owner holds the proving key. A registry requires it ([`Registration::check_owned`]), so
    /// published artifacts cannot be registered by anyone but their owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup: Option<Envelope>,
    /// The owner's signature over every other field (hex); a registration without one is
    /// refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// A registration whose signature and contents were checked, with its verifying key parsed.
#[derive(Clone, Debug)]
pub struct RegisteredModel {
    /// The registration.
    pub registration: Registration,
    /// Its verifying key, ready to check proofs.
    pub key: VerifierKey,
}

impl RegisteredModel {
    /// The model record.
    pub fn record(&self) -> &ModelRecord {
        &self.registration.record
    }
}

fn malformed(reason: String) -> VerificationError {
    VerificationError::Malformed {
        what: "model registration",
        reason,
    }
}

impl Registration {
    /// An unsigned registration of `record` with its key, sequence 1; [`Registration::sign`]
    /// completes it.
    pub fn new(
        record: ModelRecord,
        key: &VerifierKey,
        reward: Reward,
        key_files: BTreeMap<String, String>,
    ) -> Self {
        Registration {
            version: REGISTRATION_VERSION,
            sequence: 1,
            record,
            vk: hex::encode(key.to_bytes()),
            owner: String::new(),
            reward,
            key_files,
            venues: Vec::new(),
            setup: None,
            signature: None,
        }
    }

    /// With the owner's setup statement ([`crate::ownership::sign_setup`]).
    pub fn with_setup(self, setup: Envelope) -> Self {
        Registration {
            setup: Some(setup),
            ..self
        }
    }

    /// The digest the owner signs: blake3 (own derivation context) of the canonical JSON of
    /// every field but the signature.
    pub fn signing_digest(&self) -> [u8; 32] {
        let unsigned = Registration {
            signature: None,
            ..self.clone()
        };
        let json = serde_json::to_vec(&unsigned).expect("a registration always serializes");
        let mut h = blake3::Hasher::new_derive_key("zkworker 2026-11 model registration v1");
        h.update(&json);
        *h.finalize().as_bytes()
    }

    /// Makes `owner` the registration's owner and signs it.
    pub fn sign(&mut self, owner: &KeyPair) {
        self.owner = owner.public_hex();
        self.signature = Some(owner.sign_hex(&self.signing_digest()));
    }

    /// Parses a registration (at most [`MAX_REGISTRATION_BYTES`], straight into the type) and
    /// checks it whole, ownership included ([`Registration::check_owned`]): what a settler
    /// trusts. A registration whose record names no owner, or that carries no setup statement,
    /// is refused — anyone could have signed it for any model id.
    pub fn from_json(bytes: &[u8]) -> Result<RegisteredModel, VerificationError> {
        let r = Self::parse(bytes)?;
        let key = r.check_owned()?;
        Ok(RegisteredModel {
            registration: r,
            key,
        })
    }

    /// Parses a registration (at most [`MAX_REGISTRATION_BYTES`], its version first, straight
    /// into the type) and checks nothing else: [`Registration::from_json`] is what to trust.
    pub fn parse(bytes: &[u8]) -> Result<Registration, VerificationError> {
        if bytes.len() > MAX_REGISTRATION_BYTES {
            return Err(VerificationError::TooLarge(crate::file::TooLarge {
                what: "model registration",
                size: Some(bytes.len() as u64),
                cap: MAX_REGISTRATION_BYTES,
            }));
        }
        match crate::json::version(bytes).map_err(|e| malformed(e.to_string()))? {
            Some(v) if v == REGISTRATION_VERSION as u64 => {}
            Some(v) => {
                return Err(malformed(format!(
                    "version {v} is not supported (this build reads version \
                     {REGISTRATION_VERSION})"
                )));
            }
            None => return Err(malformed("no version".into())),
        }
        serde_json::from_slice(bytes).map_err(|e| malformed(e.to_string()))
    }

    /// Checks everything a verifier relies on — the record, the split, the key files' names
    /// and digests, the owner's key and signature, then the verifying key against the
    /// record's vk id; returns the parsed verifying key.
    pub fn check(&self) -> Result<VerifierKey, VerificationError> {
        self.check_signature()?;
        // The key last: parsing it validates curve points and costs a pairing, which an
        // unsigned file should not get to make a reader spend.
        if !is_lower_hex(&self.vk) {
            return Err(malformed("the verifying key is not lower-case hex".into()));
        }
        let vk_bytes = hex::decode(&self.vk)
            .map_err(|e| malformed(format!("the verifying key is not hex: {e}")))?;
        let key = VerifierKey::from_bytes(&vk_bytes)?;
        if key.id() != self.record.vk_id {
            return Err(VerificationError::KeyMismatch {
                expected: self.record.vk_id.clone(),
                received: key.id().to_string(),
            });
        }
        if let Some(setup) = &self.setup {
            check_setup(setup, &self.record, &key, &self.owner)?;
        }
        Ok(key)
    }

    /// [`Registration::check`], and the registration must carry its owner's setup statement:
    /// what a registry requires, so that only the owner can register a model.
    pub fn check_owned(&self) -> Result<VerifierKey, VerificationError> {
        if self.record.owner.is_none() {
            return Err(VerificationError::BadOwnerSignature {
                what: "model registration",
                reason: "its record names no owner, so its model id is not bound to one: set the \
                         model up with `zkw model setup --owner-key`"
                    .into(),
            });
        }
        if self.setup.is_none() {
            return Err(VerificationError::BadOwnerSignature {
                what: "model registration",
                reason: "it carries no setup statement by its owner: make one with `zkw model \
                         setup --owner-key` (or let `zkw model register` make it from the keys \
                         directory)"
                    .into(),
            });
        }
        self.check()
    }

    /// Every check of [`Registration::check`] but the verifying key's: the fields and the
    /// owner's signature (for reading a history, whose older entries' keys nobody uses).
    pub fn check_signature(&self) -> Result<(), VerificationError> {
        let size = serde_json::to_vec(self)
            .expect("a registration always serializes")
            .len();
        if size > MAX_REGISTRATION_BYTES {
            return Err(VerificationError::TooLarge(crate::file::TooLarge {
                what: "model registration",
                size: Some(size as u64),
                cap: MAX_REGISTRATION_BYTES,
            }));
        }
        if self.version != REGISTRATION_VERSION {
            return Err(malformed(format!(
                "version {} is not supported (this build reads version {REGISTRATION_VERSION})",
                self.version
            )));
        }
        self.record.validate()?;
        if self.reward.worker_share_bps > BPS {
            return Err(malformed(format!(
                "the worker's share is {} basis points, more than the whole ({BPS})",
                self.reward.worker_share_bps
            )));
        }
        if self.key_files.len() > MAX_KEY_FILES {
            return Err(malformed(format!(
                "{} key files listed, at most {MAX_KEY_FILES}",
                self.key_files.len()
            )));
        }
        if self.venues.len() > MAX_VENUES {
            return Err(malformed(format!(
                "{} venues listed, at most {MAX_VENUES}",
                self.venues.len()
            )));
        }
        if self.venues.windows(2).any(|w| w[0] >= w[1]) {
            return Err(malformed(
                "the venues are not listed in order, once each".into(),
            ));
        }
        for (name, digest) in &self.key_files {
            let plain = !name.is_empty()
                && name.len() <= 128
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
                && !name.starts_with('.');
            if !plain {
                return Err(malformed(format!(
                    "key file name {name:?} is not a plain file name"
                )));
            }
            if !is_digest_hex(digest) {
                return Err(malformed(format!(
                    "the digest of key file {name} is not 64 lower-case hex digits"
                )));
            }
        }
        if let Some(named) = &self.record.owner
            && *named != self.owner
        {
            return Err(VerificationError::BadOwnerSignature {
                what: "model registration",
                reason: format!(
                    "its record's model belongs to owner {named} (the owner is part of the model \
                     id); the registration is {}'s",
                    self.owner
                ),
            });
        }
        crate::ed25519::public_key(&self.owner).map_err(|reason| {
            VerificationError::BadOwnerSignature {
                what: "model registration",
                reason: format!("the owner is {reason}"),
            }
        })?;
        let Some(sig) = &self.signature else {
            return Err(VerificationError::Unsigned {
                what: "model registration",
            });
        };
        crate::ed25519::check(&self.owner, &self.signing_digest(), sig).map_err(|reason| {
            VerificationError::BadOwnerSignature {
                what: "model registration",
                reason: if reason.contains("does not verify") {
                    "it is not the owner's signature of this registration".into()
                } else {
                    reason
                },
            }
        })?;
        Ok(())
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a registration always serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_adds_up_and_rounds_for_the_owner() {
        let r = |fee, bps| Reward {
            fee,
            worker_share_bps: bps,
            penalty: 0,
        };
        assert_eq!(r(1000, 7000).split(), (700, 300));
        assert_eq!(r(999, 3333).split(), (332, 667));
        assert_eq!(r(u64::MAX, 10_000).split(), (u64::MAX, 0));
        assert_eq!(r(u64::MAX, 1).split().0, u64::MAX / 10_000);
        assert_eq!(r(7, 0).split(), (0, 7));
    }
}
