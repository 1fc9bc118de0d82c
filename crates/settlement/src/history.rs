//! A model's registry history: every registration ever accepted, append-only and hash-chained.
//!
//! Each entry is an in-toto Statement v1 in a DSSE envelope signed by the model's owner
//! (keyid = the owner's public key): its subject is the registration (by the digest its owner
//! signed), its predicate the whole registration, its sequence number and the digest of the
//! entry before it. So the history is evidence of its own: a registry that dropped, reordered
//! or rewrote an entry breaks the chain, and only the owner can add one. Each entry also names
//! the registry it was written for (the registry's random id), so an owner's entries from one
//! registry cannot be replayed as another registry's history by whoever can write its
//! directory.
//!
//! Why a history at all: a rule like "the record of a (model, verifying key) pair never
//! changes" cannot be enforced against the current registration alone — register key A, then
//! key B, then key A again with an edited record, and the comparison with B sees nothing
//! wrong, while every receipt already judged under A's record is now judged under another.
//! With the history, a registration is compared with every record the model ever had.

use serde::{Deserialize, Serialize};
use zkw_verifier::dsse::Envelope;
use zkw_verifier::intoto::{Statement, Subject};
use zkw_verifier::{KeyPair, RegisteredModel, Registration, VerificationError};

/// The predicate type of a registry history entry.
pub const ENTRY_PREDICATE: &str = "https://zkworker.dev/registry-entry/v1";

/// The largest history entry file read or written, in bytes: a registration (at most
/// [`zkw_verifier::registration::MAX_REGISTRATION_BYTES`]) in base64 inside an envelope.
pub const MAX_ENTRY_BYTES: usize =
    zkw_verifier::registration::MAX_REGISTRATION_BYTES / 3 * 4 + (1 << 20);

/// What one history entry says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryPredicate {
    /// The registry it was written for: its id (hex, [`crate::registry::Registry::id`]).
    pub registry: String,
    /// Its place in the model's history: 1 for the first registration, then one more each.
    pub index: u64,
    /// The digest (hex) of the entry before it ([`Entry::digest`]); `None` for the first.
    pub previous: Option<String>,
    /// The registration accepted.
    pub registration: Registration,
}

/// One entry of a model's history, its envelope checked.
#[derive(Debug, Clone)]
pub struct Entry {
    /// What it says.
    pub predicate: EntryPredicate,
    /// The envelope as stored.
    pub envelope: Envelope,
    /// blake3 of the signed payload: what the next entry names.
    digest: [u8; 32],
}

fn refused(reason: String) -> VerificationError {
    VerificationError::BadOwnerSignature {
        what: "registry history entry",
        reason,
    }
}

impl Entry {
    /// The entry that appends `registration` after `previous` (none: the first) in the
    /// registry with id `registry`, signed by `owner`, who must be the registration's owner.
    pub fn new(
        registration: &Registration,
        previous: Option<&Entry>,
        owner: &KeyPair,
        registry: &[u8; 32],
    ) -> Result<Entry, VerificationError> {
        if owner.public_hex() != registration.owner {
            return Err(refused(format!(
                "the key {} is not the registration's owner {}",
                owner.public_hex(),
                registration.owner
            )));
        }
        let predicate = EntryPredicate {
            registry: hex::encode(registry),
            index: previous.map_or(1, |p| p.predicate.index + 1),
            previous: previous.map(|p| hex::encode(p.digest())),
            registration: registration.clone(),
        };
        let statement = Statement {
            subject: vec![Subject::blake3(
                &format!("registration/{}", registration.record.model_id),
                &registration.signing_digest(),
            )],
            predicate_type: ENTRY_PREDICATE.into(),
            predicate: match serde_json::to_value(&predicate) {
                Ok(serde_json::Value::Object(m)) => m,
                _ => unreachable!("a predicate serializes to an object"),
            },
        };
        let envelope = statement.sign(owner);
        let digest = *blake3::hash(&statement.to_json()).as_bytes();
        Ok(Entry {
            predicate,
            envelope,
            digest,
        })
    }

    /// Parses an entry and checks it on its own: the envelope signed by the owner the
    /// registration inside names, the statement's subject that registration, the
    /// registration signed by that owner. (The verifying key inside is checked by
    /// [`Entry::registered`], which only the newest entry needs.)
    pub fn from_json(bytes: &[u8]) -> Result<Entry, VerificationError> {
        let envelope = Envelope::from_json_capped(bytes, MAX_ENTRY_BYTES)?;
        // The entry must be signed by the owner its registration names. The owner is read
        // from the payload as claimed, then that one signature is checked (every listed one
        // would cost a verification each), and only the verified payload is trusted.
        #[derive(serde::Deserialize)]
        struct Claimed {
            predicate: ClaimedPredicate,
        }
        #[derive(serde::Deserialize)]
        struct ClaimedPredicate {
            registration: ClaimedRegistration,
        }
        #[derive(serde::Deserialize)]
        struct ClaimedRegistration {
            owner: String,
        }
        let owner = serde_json::from_slice::<Claimed>(envelope.claimed_payload())
            .map_err(|e| refused(format!("it names no owner: {e}")))?
            .predicate
            .registration
            .owner;
        let statement = Statement::open(&envelope, &owner).map_err(|e| match e {
            VerificationError::BadOwnerSignature { reason, .. } => refused(format!(
                "it is not signed by the owner its registration names ({reason})"
            )),
            other => other,
        })?;
        let predicate: EntryPredicate = statement.predicate_as(ENTRY_PREDICATE)?;
        if predicate.registration.owner != owner {
            return Err(refused(
                "it is not signed by the owner its registration names".into(),
            ));
        }
        // Verified by `open` above.
        let digest = *blake3::hash(envelope.claimed_payload()).as_bytes();
        let reg = &predicate.registration;
        let subject = Subject::blake3(
            &format!("registration/{}", reg.record.model_id),
            &reg.signing_digest(),
        );
        if statement.subject != [subject] {
            return Err(refused(
                "its subject is not the registration it carries".into(),
            ));
        }
        reg.check_signature()?;
        if predicate.index == 0 || predicate.previous.is_some() != (predicate.index > 1) {
            return Err(refused(format!(
                "entry {} {} a previous entry",
                predicate.index,
                if predicate.previous.is_some() {
                    "names"
                } else {
                    "does not name"
                }
            )));
        }
        Ok(Entry {
            predicate,
            envelope,
            digest,
        })
    }

    /// The entry's digest: blake3 of its signed payload, which the next entry names.
    pub fn digest(&self) -> [u8; 32] {
        self.digest
    }

    /// The registration with its verifying key parsed and checked against the record, and its
    /// owner's setup statement checked (the proof that the owner holds the proving key).
    pub fn registered(&self) -> Result<RegisteredModel, VerificationError> {
        let key = self.predicate.registration.check_owned()?;
        Ok(RegisteredModel {
            registration: self.predicate.registration.clone(),
            key,
        })
    }

    /// Pretty JSON of the envelope.
    pub fn to_json(&self) -> String {
        self.envelope.to_json()
    }
}

/// Checks that `entries` (in index order) form one chain for `model_id` in the registry with
/// id `registry`: each written for it, indexes 1, 2, …, each naming the digest of the one
/// before, all of one owner, sequences rising.
pub fn check_chain(model_id: &str, registry: &[u8; 32], entries: &[Entry]) -> Result<(), String> {
    let mut before: Option<&Entry> = None;
    for (k, e) in entries.iter().enumerate() {
        let p = &e.predicate;
        let reg = &p.registration;
        if p.registry != hex::encode(registry) {
            return Err(format!(
                "entry {} was written for registry {}, this registry is {}: an entry replayed \
                 from another registry",
                p.index,
                p.registry,
                hex::encode(registry)
            ));
        }
        if reg.record.model_id != model_id {
            return Err(format!(
                "entry {} holds a registration of model {}",
                p.index, reg.record.model_id
            ));
        }
        if p.index != k as u64 + 1 {
            return Err(format!(
                "entry {} stands at place {} of the history",
                p.index,
                k + 1
            ));
        }
        if let Some(b) = before {
            let expected = hex::encode(b.digest());
            if p.previous.as_deref() != Some(expected.as_str()) {
                return Err(format!(
                    "entry {} does not name entry {} before it (the history was rewritten)",
                    p.index, b.predicate.index
                ));
            }
            if reg.owner != b.predicate.registration.owner {
                return Err(format!(
                    "entry {} is signed by {}, the model's owner is {}",
                    p.index, reg.owner, b.predicate.registration.owner
                ));
            }
            if reg.sequence <= b.predicate.registration.sequence {
                return Err(format!(
                    "entry {} has registration sequence {}, not above {}",
                    p.index, reg.sequence, b.predicate.registration.sequence
                ));
            }
        }
        before = Some(e);
    }
    Ok(())
}
