//! The registry: a directory of owner-signed model registrations and the licences their owners
//! grant.
//!
//! ```text
//! models/<model_id>.json                    Registration (record, vk, owner, reward, key digests)
//! licences/<model_id>/<worker_id>.json      Licence
//! ```
//!
//! Every read checks the entry whole — the owner's signature, the verifying key against the
//! record's vk id, and the file's name against the model id inside — so a registry directory
//! is trusted only as far as its owners' keys: a record copied under another model's name, a
//! swapped key or an edited split is refused on read. When adding a registration the registry
//! also enforces:
//!
//! - a model, once registered, is re-registered only by the same owner (the first claims it),
//!   with a higher sequence number;
//! - a re-registration that keeps the verifying key keeps the record too: a receipt proved
//!   under a key is judged against that key's record, so an owner cannot turn honest receipts
//!   into failing ones (and their workers' signatures into penalties) by editing the output's
//!   format under the same key;
//! - no two models share a commitment or a verifying key: one proof is about one model.
//!
//! These rules hold for writes through this API. Whoever can write the directory itself can
//! delete or put back files; the ledger therefore pins each model to its owner and newest
//! registration (see [`crate::ledger`]). Writes go through a temporary file and a rename, so a
//! reader never sees half an entry.

use std::io::Write;
use std::path::{Path, PathBuf};

use zkw_verifier::record::is_digest_hex;
use zkw_verifier::{Licence, RegisteredModel, Registration, VerificationError};

use crate::error::SettlementError;

/// A registry directory.
#[derive(Debug, Clone)]
pub struct Registry {
    dir: PathBuf,
}

impl Registry {
    /// The registry at `dir` (created on the first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Registry { dir: dir.into() }
    }

    /// Its directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where a model's registration lives; `None` for a string that is no model id (so no
    /// path can be built from a hostile one).
    pub fn model_path(&self, model_id: &str) -> Option<PathBuf> {
        is_digest_hex(model_id).then(|| self.dir.join("models").join(format!("{model_id}.json")))
    }

    /// Where a licence lives; `None` unless both ids are 64 lower-case hex digits.
    pub fn licence_path(&self, model_id: &str, worker_id: &str) -> Option<PathBuf> {
        (is_digest_hex(model_id) && is_digest_hex(worker_id)).then(|| {
            self.dir
                .join("licences")
                .join(model_id)
                .join(format!("{worker_id}.json"))
        })
    }

    /// Adds (or, by its owner, replaces) a model's registration, after checking it whole and
    /// against the registry (see the module docs for the rules).
    pub fn register(&self, registration: &Registration) -> Result<(), SettlementError> {
        registration.check().map_err(SettlementError::Refused)?;
        let refuse = |reason: String| {
            SettlementError::Refused(VerificationError::BadOwnerSignature {
                what: "model registration",
                reason,
            })
        };
        let record = &registration.record;
        let model_id = &record.model_id;
        let path = self
            .model_path(model_id)
            .expect("a checked record has a model id");
        if path.exists() {
            let current = self.model(model_id)?.registration;
            if current.owner != registration.owner {
                return Err(refuse(format!(
                    "model {model_id} is registered by owner {}; only that owner may register \
                     it again",
                    current.owner
                )));
            }
            if registration.sequence <= current.sequence {
                return Err(refuse(format!(
                    "model {model_id} is at registration {}; a new one needs a higher sequence \
                     number than {}",
                    current.sequence, registration.sequence
                )));
            }
            if current.record.vk_id == record.vk_id && current.record != *record {
                return Err(refuse(format!(
                    "the record of model {model_id} changed under the same verifying key {}: \
                     receipts proved under that key would fail against it; run setup again \
                     for a new key",
                    record.vk_id
                )));
            }
        }
        for other in self.model_ids()? {
            if other == *model_id {
                continue;
            }
            let o = self.model(&other)?.registration;
            if o.record.model_commitment == record.model_commitment
                || o.record.vk_id == record.vk_id
            {
                return Err(refuse(format!(
                    "model {other} is registered with the same {}: one proof must be about \
                     one model",
                    if o.record.vk_id == record.vk_id {
                        "verifying key"
                    } else {
                        "commitment"
                    }
                )));
            }
        }
        write_atomic(&path, registration.to_json().as_bytes())
    }

    /// The sequence number the next registration of a model takes: one more than the current
    /// registration's, or 1.
    pub fn next_sequence(&self, model_id: &str) -> Result<u64, SettlementError> {
        match self.model_path(model_id) {
            Some(p) if p.exists() => Ok(self.model(model_id)?.registration.sequence + 1),
            _ => Ok(1),
        }
    }

    /// A registered model, checked: its owner's signature, its key, and that the file is the
    /// model's own.
    pub fn model(&self, model_id: &str) -> Result<RegisteredModel, SettlementError> {
        let path = self
            .model_path(model_id)
            .ok_or_else(|| SettlementError::Registry {
                path: self.dir.clone(),
                reason: format!("{model_id:?} is not a model id (64 lower-case hex digits)"),
            })?;
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(SettlementError::Registry {
                    path,
                    reason: format!("model {model_id} is not registered"),
                });
            }
            Err(e) => return Err(SettlementError::io(&path, e)),
        };
        let bad = |reason: String| SettlementError::Registry {
            path: path.clone(),
            reason,
        };
        let model = Registration::from_json(&bytes).map_err(|e| bad(e.to_string()))?;
        if model.record().model_id != model_id {
            return Err(bad(format!(
                "the file holds the registration of model {}",
                model.record().model_id
            )));
        }
        Ok(model)
    }

    /// The ids of every registered model, sorted.
    pub fn model_ids(&self) -> Result<Vec<String>, SettlementError> {
        let dir = self.dir.join("models");
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(SettlementError::io(&dir, e)),
        };
        let mut ids = Vec::new();
        for entry in entries {
            let name = entry.map_err(|e| SettlementError::io(&dir, e))?.file_name();
            if let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".json"))
                && is_digest_hex(id)
            {
                ids.push(id.to_string());
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// Stores a licence after checking it is signed by the registered owner of its model.
    pub fn add_licence(&self, licence: &Licence) -> Result<PathBuf, SettlementError> {
        licence.check().map_err(SettlementError::Refused)?;
        let model = self.model(&licence.model_id)?;
        if licence.owner != model.registration.owner {
            return Err(SettlementError::Refused(
                VerificationError::BadOwnerSignature {
                    what: "licence",
                    reason: format!(
                        "signed by {}, but model {} is owned by {}",
                        licence.owner, licence.model_id, model.registration.owner
                    ),
                },
            ));
        }
        let path = self
            .licence_path(&licence.model_id, &licence.worker_id)
            .expect("a checked licence has both ids");
        write_atomic(&path, licence.to_json().as_bytes())?;
        Ok(path)
    }

    /// The licence stored for a worker and a model, if any, parsed and signature-checked
    /// (whether it permits settlement now is [`Licence::permits`]'s question).
    pub fn licence(
        &self,
        model_id: &str,
        worker_id: &str,
    ) -> Result<Option<Licence>, SettlementError> {
        let Some(path) = self.licence_path(model_id, worker_id) else {
            return Ok(None);
        };
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(SettlementError::io(&path, e)),
        };
        Licence::from_json(&bytes)
            .map(Some)
            .map_err(|e| SettlementError::Registry {
                path,
                reason: e.to_string(),
            })
    }

    /// Whether `worker_id` may be paid for `model`'s receipts at `now` (seconds since the Unix
    /// epoch): it holds a licence here that the model's owner signed, for this model and
    /// worker, not expired. `Unlicensed` says why not; a licence file that cannot be read or
    /// parsed is a reason too.
    pub fn licensed(
        &self,
        model: &RegisteredModel,
        worker_id: &str,
        now: u64,
    ) -> Result<(), VerificationError> {
        let model_id = &model.registration.record.model_id;
        match self.licence(model_id, worker_id) {
            Ok(Some(licence)) => licence.permits(&model.registration, worker_id, now),
            found => Err(VerificationError::Unlicensed {
                worker: worker_id.into(),
                model: model_id.clone(),
                reason: match found {
                    Err(e) => e.to_string(),
                    _ => "it holds no licence for it".into(),
                },
            }),
        }
    }
}

/// Writes `bytes` to `path` whole or not at all: a fresh temporary file beside it (created
/// exclusively, so no planted link is followed), synced, renamed over the name.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SettlementError> {
    let dir = path.parent().expect("registry paths have a parent");
    std::fs::create_dir_all(dir).map_err(|e| SettlementError::io(dir, e))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| SettlementError::io(dir, e))?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| SettlementError::io(tmp.path(), e))?;
    tmp.persist(path)
        .map_err(|e| SettlementError::io(path, e.error))?;
    Ok(())
}
