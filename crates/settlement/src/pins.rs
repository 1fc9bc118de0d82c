//! A verifier's pins: the newest history entry it has seen of each model, so that a registry
//! put back to an older state, or rewritten, is refused instead of trusted.
//!
//! A client that verifies against a registry directory someone else serves trusts that
//! directory to be current. The history makes a rollback or a rewrite visible — but only to a
//! reader that remembers what it saw. `zkw verify --registry R --pins FILE` keeps that memory
//! in a small JSON file:
//!
//! ```json
//! {
//!   "version": 1,
//!   "models": {
//!     "<model id, 64 hex>": { "owner": "<ed25519 public key, 64 hex>", "index": 2,
//!                             "entry": "<blake3 of history entry 2's signed payload, 64 hex>" }
//!   }
//! }
//! ```
//!
//! On each check, for the model checked: a registry whose history is shorter than the pinned
//! index (an older registration put back), whose entry at the pinned index is not the pinned
//! digest (the history rewritten), or whose owner is another is refused; otherwise the pin
//! moves to the newest entry. A model seen for the first time is pinned as it is (trust on
//! first use). The file is rewritten whole through a temporary file and a rename.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use zkw_verifier::record::is_digest_hex;

use crate::error::SettlementError;
use crate::history::Entry;
use zkw_verifier::fs::{Access, Existing, write_atomic};

/// The pin file's format version.
pub const PINS_VERSION: u32 = 1;

/// The largest pin file read, in bytes.
pub const MAX_PINS_BYTES: usize = 16 << 20;

/// What is pinned of one model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pin {
    /// The model's owner.
    pub owner: String,
    /// The index of the newest history entry seen (from 1).
    pub index: u64,
    /// That entry's digest ([`Entry::digest`]), hex.
    pub entry: String,
}

/// A pin file's contents.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pins {
    /// Format version ([`PINS_VERSION`]).
    pub version: u32,
    /// Pins by model id.
    pub models: BTreeMap<String, Pin>,
}

fn bad(path: &Path, reason: String) -> SettlementError {
    SettlementError::Registry {
        path: path.to_path_buf(),
        reason,
    }
}

impl Pins {
    /// Reads a pin file; a missing file is no pins yet.
    pub fn load(path: &Path) -> Result<Pins, SettlementError> {
        let bytes = match zkw_verifier::file::read_capped_regular(path, MAX_PINS_BYTES, "pin file")
        {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Pins {
                    version: PINS_VERSION,
                    models: BTreeMap::new(),
                });
            }
            Err(e) => return Err(SettlementError::io(path, e)),
        };
        let pins: Pins = serde_json::from_slice(&bytes)
            .map_err(|e| bad(path, format!("not a pin file: {e}")))?;
        if pins.version != PINS_VERSION {
            return Err(bad(
                path,
                format!(
                    "pin file version {}, this build reads version {PINS_VERSION}",
                    pins.version
                ),
            ));
        }
        for (id, p) in &pins.models {
            if !(is_digest_hex(id) && is_digest_hex(&p.owner) && is_digest_hex(&p.entry))
                || p.index == 0
            {
                return Err(bad(path, format!("the pin of model {id:?} is malformed")));
            }
        }
        Ok(pins)
    }

    /// Checks a model's history (oldest first, its chain checked) against the pin, and moves
    /// the pin to its newest entry; the reason when the registry is older than, or rewritten
    /// since, what was pinned.
    pub fn check(&mut self, model_id: &str, history: &[Entry]) -> Result<(), String> {
        let Some(head) = history.last() else {
            return Err(format!("model {model_id} is not registered"));
        };
        if let Some(p) = self.models.get(model_id) {
            let owner = &head.predicate.registration.owner;
            if *owner != p.owner {
                return Err(format!(
                    "the registry has model {model_id} owned by {owner}; the pins have it owned \
                     by {}",
                    p.owner
                ));
            }
            if head.predicate.index < p.index {
                return Err(format!(
                    "the registry holds {} entries of model {model_id}'s history, but entry {} \
                     was seen before: an older registration was put back",
                    head.predicate.index, p.index
                ));
            }
            let seen = hex::encode(history[p.index as usize - 1].digest());
            if seen != p.entry {
                return Err(format!(
                    "entry {} of model {model_id}'s history is not the one seen before (digest \
                     {seen}, pinned {}): the history was rewritten",
                    p.index, p.entry
                ));
            }
        }
        self.models.insert(
            model_id.to_string(),
            Pin {
                owner: head.predicate.registration.owner.clone(),
                index: head.predicate.index,
                entry: hex::encode(head.digest()),
            },
        );
        Ok(())
    }

    /// Writes the pin file whole or not at all.
    pub fn save(&self, path: &Path) -> Result<(), SettlementError> {
        let json = serde_json::to_vec_pretty(self).expect("pins serialize");
        write_atomic(path, &json, Existing::Replace, Access::Public)
            .map_err(|e| SettlementError::io(path, e))
    }
}
