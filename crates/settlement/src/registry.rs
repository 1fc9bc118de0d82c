//! The registry: a directory of owner-signed model registrations, the history of each
//! model's registrations, and the licences their owners grant.
//!
//! ```text
//! history/<model_id>/<index>.json           history entry: an owner-signed DSSE envelope
//!                                           holding one registration (record, vk, owner,
//!                                           reward, key digests) and the previous entry's digest
//! licences/<model_id>/<worker_id>.json      Licence
//! commitments/<vk_id>.ck, .opening, .range  committed weights: the commitment key, the
//!                                           owner's proof of knowledge of its commitment's
//!                                           opening and the weights' range proof, checked
//!                                           once, when the model registers
//! registry-id                               64 hex digits: the id every entry names
//! lock                                      held exclusively by every write
//! ```
//!
//! A model's current registration is the newest entry of its history ([`crate::history`]).
//! Every read checks the whole chain — each entry signed by the owner it names, naming the
//! digest of the one before, one owner throughout, sequences rising — and the newest entry's
//! registration whole (its verifying key against the record's vk id, the directory's name
//! against the model id inside). When adding a registration the registry also enforces:
//!
//! - a model, once registered, is re-registered only by the same owner (the first claims it),
//!   with a higher sequence number;
//! - the record of a (model, verifying key) pair never changes, compared with **every**
//!   registration the model ever had, not only the current one: a receipt proved under a key
//!   is judged against that key's record, so an owner cannot turn honest receipts into
//!   failing ones (and their workers' signatures into penalties) by registering another key
//!   and then the old key again with an edited record;
//!
//! Two models may share a commitment or a verifying key (a holder of a private model's proving
//! key can register them under an id of its own): a model id names its owner, so sharing takes
//! nobody's model, and the ledger keys a job by its commitment, so one proof settles once
//! whatever id it is settled under. (Refusing a second model with a commitment any model ever
//! had made a registry first-come: anyone could block an owner with its published
//! commitment.)
//!
//! Writes take an exclusive lock on `lock` (an OS file lock, released when the process ends),
//! so the checks and the write are one critical section across processes; an entry file is
//! written beside its name and linked into place without replacing one. Whoever can write the
//! directory itself can still delete files; the ledger therefore pins each model to its owner,
//! its newest registration and each key's record (see [`crate::ledger`]).
//!
//! A committed-weights model registers only with its commitment checked (condition S1 of
//! SECURITY.md's "Committed weights"): its commitment key and opening, copied into
//! `commitments/` first ([`Registry::add_commitment`]), must be the files the registration
//! lists by digest, the key the one its record names, and the opening must open the record's
//! `D_reg` for this model, key and owner. A shifted commitment would otherwise turn every
//! honest receipt of the model into a receipt of another output.
//!
//! Only the owner can register a model: a registration must carry the owner's setup
//! statement with its proof of holding the proving key ([`zkw_verifier::ownership`]), so
//! publishing the record and verifying key before registering is safe.
//!
//! A registry written by an earlier version (`models/<id>.json`, no history) is refused by
//! name: its registrations carry no proof of ownership, which only the owner's keys directory
//! can make, so each model is registered again.

use std::fs::File;
use std::path::{Path, PathBuf};

use zkw_verifier::published::{
    MAX_COMMITMENT_KEY_BYTES, MAX_OPENING_BYTES, MAX_RANGE_BYTES, PublishedKeysError,
};
use zkw_verifier::record::is_digest_hex;
use zkw_verifier::{
    KeyPair, Licence, PublishedKeys, RegisteredModel, Registration, VerificationError,
};

use crate::error::SettlementError;
use crate::history::{Entry, MAX_ENTRY_BYTES, check_chain};
use zkw_verifier::fs::{Access, Existing, write_atomic};

/// The file holding a registry's id.
pub const REGISTRY_ID_FILE: &str = "registry-id";

/// A registry directory.
#[derive(Debug, Clone)]
pub struct Registry {
    dir: PathBuf,
}

/// The exclusive write lock of a registry, held until dropped.
struct WriteLock(#[allow(dead_code)] File);

impl Registry {
    /// The registry at `dir` (created on the first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Registry { dir: dir.into() }
    }

    /// Its directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn lock(&self) -> Result<WriteLock, SettlementError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| SettlementError::io(&self.dir, e))?;
        let path = self.dir.join("lock");
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| SettlementError::io(&path, e))?;
        f.lock().map_err(|e| SettlementError::io(&path, e))?;
        Ok(WriteLock(f))
    }

    /// Where a model's history lives; `None` for a string that is no model id (so no path can
    /// be built from a hostile one).
    pub fn history_dir(&self, model_id: &str) -> Option<PathBuf> {
        is_digest_hex(model_id).then(|| self.dir.join("history").join(model_id))
    }

    /// Where entry `index` (from 1) of a model's history lives.
    pub fn entry_path(&self, model_id: &str, index: u64) -> Option<PathBuf> {
        self.history_dir(model_id)
            .map(|d| d.join(format!("{index:08}.json")))
    }

    /// The registry's id, which every history entry names: `None` before its first
    /// registration (the first write draws it). A copy of the directory, a mirror, keeps it.
    pub fn id(&self) -> Result<Option<[u8; 32]>, SettlementError> {
        let path = self.dir.join(REGISTRY_ID_FILE);
        let bytes = match zkw_verifier::file::read_capped_regular(&path, 128, "registry id") {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(SettlementError::io(&path, e)),
        };
        let id = std::str::from_utf8(&bytes)
            .ok()
            .map(str::trim)
            .filter(|t| is_digest_hex(t))
            .and_then(|t| hex::decode(t).ok())
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| SettlementError::Registry {
                path: path.clone(),
                reason: "not a registry id (64 lower-case hex digits)".into(),
            })?;
        Ok(Some(id))
    }

    /// The registry's id, drawn and written now if it has none (under the write lock).
    fn ensure_id(&self, _lock: &WriteLock) -> Result<[u8; 32], SettlementError> {
        if let Some(id) = self.id()? {
            return Ok(id);
        }
        let mut id = [0u8; 32];
        getrandom::fill(&mut id).map_err(|e| SettlementError::Registry {
            path: self.dir.clone(),
            reason: format!("no OS randomness for the registry's id: {e}"),
        })?;
        write_file(
            &self.dir.join(REGISTRY_ID_FILE),
            format!("{}\n", hex::encode(id)).as_bytes(),
            false,
        )?;
        Ok(id)
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

    /// The error for a registry an earlier version wrote (`models/`, no history), if this is
    /// one.
    fn refuse_legacy(&self) -> Result<(), SettlementError> {
        let legacy = self.dir.join("models");
        let has_files = std::fs::read_dir(&legacy)
            .map(|mut d| d.next().is_some())
            .unwrap_or(false);
        if has_files {
            return Err(SettlementError::Registry {
                path: legacy,
                reason: "this registry was written by an earlier zkw (registrations without a \
                         history or a proof of ownership): register each model again into a new \
                         registry with `zkw model register KEYS_DIR --owner-key KEY`, which \
                         proves ownership with the keys directory's proving key"
                    .into(),
            });
        }
        Ok(())
    }

    /// Adds a registration (the model's first, or by its owner a newer one) as the next
    /// entry of the model's history, signed by `owner` (the registration's owner), after
    /// checking it whole and against the whole registry (see the module docs for the rules).
    /// Returns the entry written.
    pub fn register(
        &self,
        registration: &Registration,
        owner: &KeyPair,
    ) -> Result<Entry, SettlementError> {
        registration
            .check_owned()
            .map_err(SettlementError::Refused)?;
        let lock = self.lock()?;
        self.refuse_legacy()?;
        let registry_id = self.ensure_id(&lock)?;
        let refuse = |reason: String| {
            SettlementError::Refused(VerificationError::BadOwnerSignature {
                what: "model registration",
                reason,
            })
        };
        let record = &registration.record;
        let model_id = &record.model_id;
        self.check_commitment(registration)?;
        let history = self.history(model_id)?;
        if let Some(head) = history.last() {
            let current = &head.predicate.registration;
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
        }
        for e in &history {
            let seen = &e.predicate.registration.record;
            if seen.vk_id == record.vk_id && seen != record {
                return Err(refuse(format!(
                    "the record of model {model_id} changed under the same verifying key {} \
                     (registration {} had another): receipts proved under that key would be \
                     judged by another record; run setup again for a new key",
                    record.vk_id, e.predicate.registration.sequence
                )));
            }
        }
        let entry = Entry::new(registration, history.last(), owner, &registry_id)
            .map_err(SettlementError::Refused)?;
        let path = self
            .entry_path(model_id, entry.predicate.index)
            .expect("a checked record has a model id");
        let json = entry.to_json();
        if json.len() > MAX_ENTRY_BYTES {
            // Never write what no reader would read back.
            return Err(SettlementError::Refused(VerificationError::TooLarge(
                zkw_verifier::file::TooLarge {
                    what: "registry history entry",
                    size: Some(json.len() as u64),
                    cap: MAX_ENTRY_BYTES,
                },
            )));
        }
        write_file(&path, json.as_bytes(), false)?;
        Ok(entry)
    }

    /// Where the registry keeps committed weights' commitment files.
    pub fn commitments(&self) -> PublishedKeys {
        PublishedKeys::new(self.dir.join("commitments"))
    }

    /// Copies a committed-weights model's commitment key and opening from its published keys
    /// into the registry, for [`Registry::register`] to check (a record of another mode has
    /// none). They replace files of the same name: the registration pins their digests, which
    /// [`Registry::register`] checks.
    pub fn add_commitment(
        &self,
        keys: &PublishedKeys,
        record: &zkw_verifier::ModelRecord,
    ) -> Result<(), SettlementError> {
        if record.weight_commitment.is_none() {
            return Ok(());
        }
        // Plain files under their caps, never a link followed, and no write beside a
        // registration's check.
        let _lock = self.lock()?;
        let into = self.commitments();
        std::fs::create_dir_all(&into.dir).map_err(|e| SettlementError::io(&into.dir, e))?;
        for (from, to, cap, what) in [
            (
                keys.commitment_key_path(&record.vk_id),
                into.commitment_key_path(&record.vk_id),
                MAX_COMMITMENT_KEY_BYTES,
                "commitment key",
            ),
            (
                keys.opening_path(&record.vk_id),
                into.opening_path(&record.vk_id),
                MAX_OPENING_BYTES,
                "commitment opening",
            ),
            (
                keys.range_path(&record.vk_id),
                into.range_path(&record.vk_id),
                MAX_RANGE_BYTES,
                "range proof",
            ),
        ] {
            let bytes = zkw_verifier::file::read_capped_regular(&from, cap, what)
                .map_err(|e| SettlementError::io(&from, e))?;
            write_atomic(&to, &bytes, Existing::Replace, Access::Public)
                .map_err(|e| SettlementError::io(&to, e))?;
        }
        Ok(())
    }

    /// A committed-weights registration's commitment, checked against the files in
    /// `commitments/`: those the registration lists by digest, the key the record names, the
    /// opening valid for the record's commitment, model, key and owner.
    fn check_commitment(&self, registration: &Registration) -> Result<(), SettlementError> {
        let record = &registration.record;
        if record.weight_commitment.is_none() {
            return Ok(());
        }
        let refuse = |reason: String| {
            SettlementError::Refused(VerificationError::BadOpening(format!(
                "model {}: {reason}",
                record.model_id
            )))
        };
        self.commitments()
            .check_commitment(record, Some(&registration.key_files))
            .map_err(|e| match e {
                PublishedKeysError::Io { path, error } => refuse(format!(
                    "{}: {error} (copy the keys directory's commitment files in first: `zkw \
                     model register` does)",
                    path.display()
                )),
                other => refuse(other.to_string()),
            })
    }

    /// Numbers `registration` after the model's last entry, signs it with `owner`'s key and
    /// appends it ([`Registry::register`]); returns it as registered.
    pub fn publish(
        &self,
        mut registration: Registration,
        owner: &KeyPair,
    ) -> Result<Registration, SettlementError> {
        registration.sequence = self.next_sequence(&registration.record.model_id)?;
        registration.sign(owner);
        self.register(&registration, owner)?;
        Ok(registration)
    }

    /// The sequence number the next registration of a model takes: one more than the current
    /// registration's, or 1.
    pub fn next_sequence(&self, model_id: &str) -> Result<u64, SettlementError> {
        Ok(self
            .history(model_id)?
            .last()
            .map_or(1, |e| e.predicate.registration.sequence + 1))
    }

    /// A model's history, oldest first, its chain checked (empty when the model is not
    /// registered).
    pub fn history(&self, model_id: &str) -> Result<Vec<Entry>, SettlementError> {
        let dir = self
            .history_dir(model_id)
            .ok_or_else(|| SettlementError::Registry {
                path: self.dir.clone(),
                reason: format!("{model_id:?} is not a model id (64 lower-case hex digits)"),
            })?;
        let names = match std::fs::read_dir(&dir) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if self
                    .dir
                    .join("models")
                    .join(format!("{model_id}.json"))
                    .exists()
                {
                    self.refuse_legacy()?;
                }
                return Ok(Vec::new());
            }
            Err(e) => return Err(SettlementError::io(&dir, e)),
        };
        let mut indexes = Vec::new();
        for name in names {
            let name = name.map_err(|e| SettlementError::io(&dir, e))?.file_name();
            let parsed = name
                .to_str()
                .and_then(|n| n.strip_suffix(".json"))
                .filter(|n| n.len() == 8 && n.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|n| n.parse::<u64>().ok());
            match parsed {
                Some(i) => indexes.push(i),
                // Temporary files of a write in progress; anything else is not ours to judge.
                None => continue,
            }
        }
        indexes.sort_unstable();
        let mut entries = Vec::with_capacity(indexes.len());
        for i in indexes {
            let path = self.entry_path(model_id, i).expect("checked above");
            let bad = |reason: String| SettlementError::Registry {
                path: path.clone(),
                reason,
            };
            let bytes = zkw_verifier::file::read_capped_regular(
                &path,
                MAX_ENTRY_BYTES,
                "registry history entry",
            )
            .map_err(|e| SettlementError::io(&path, e))?;
            let entry = Entry::from_json(&bytes).map_err(|e| bad(e.to_string()))?;
            if entry.predicate.index != i {
                return Err(bad(format!(
                    "the file holds entry {} of the history",
                    entry.predicate.index
                )));
            }
            entries.push(entry);
        }
        if entries.is_empty() {
            return Ok(entries);
        }
        let Some(registry_id) = self.id()? else {
            return Err(SettlementError::Registry {
                path: self.dir.join(REGISTRY_ID_FILE),
                reason: "the registry has history entries but no id: its entries cannot be \
                         told from another registry's"
                    .into(),
            });
        };
        check_chain(model_id, &registry_id, &entries).map_err(|reason| {
            SettlementError::Registry {
                path: dir.clone(),
                reason,
            }
        })?;
        Ok(entries)
    }

    /// A registered model — the newest entry of its history — checked: its owner's
    /// signature, the chain before it, its key, and that the directory is the model's own.
    pub fn model(&self, model_id: &str) -> Result<RegisteredModel, SettlementError> {
        let history = self.history(model_id)?;
        self.head(model_id, &history)
    }

    /// The registered model a history read by [`Registry::history`] ends with, checked whole
    /// (so a caller that also judges the history — pins — uses the registration it judged).
    pub fn head(
        &self,
        model_id: &str,
        history: &[Entry],
    ) -> Result<RegisteredModel, SettlementError> {
        let Some(head) = history.last() else {
            return Err(SettlementError::Registry {
                path: self
                    .history_dir(model_id)
                    .expect("history() checked the id"),
                reason: format!("model {model_id} is not registered"),
            });
        };
        let registered = head.registered().map_err(|e| SettlementError::Registry {
            path: self
                .entry_path(model_id, head.predicate.index)
                .expect("checked id"),
            reason: e.to_string(),
        })?;
        Ok(registered)
    }

    /// The ids of every registered model, sorted.
    pub fn model_ids(&self) -> Result<Vec<String>, SettlementError> {
        self.refuse_legacy()?;
        let dir = self.dir.join("history");
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(SettlementError::io(&dir, e)),
        };
        let mut ids = Vec::new();
        for entry in entries {
            let name = entry.map_err(|e| SettlementError::io(&dir, e))?.file_name();
            if let Some(id) = name.to_str()
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
        let _lock = self.lock()?;
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
        write_file(&path, licence.to_json().as_bytes(), true)?;
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
        let bytes = match zkw_verifier::file::read_capped_regular(
            &path,
            zkw_verifier::licence::MAX_LICENCE_BYTES,
            "licence",
        ) {
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

/// Writes a file whole or not at all ([`zkw_verifier::fs::write_atomic`]): a history entry
/// never replaces an existing file (`replace: false`: an existing name is an error); a licence
/// replaces the older one.
fn write_file(path: &Path, bytes: &[u8], replace: bool) -> Result<(), SettlementError> {
    let dir = path.parent().expect("registry paths have a parent");
    std::fs::create_dir_all(dir).map_err(|e| SettlementError::io(dir, e))?;
    let existing = if replace {
        Existing::Replace
    } else {
        Existing::Keep
    };
    write_atomic(path, bytes, existing, Access::Public).map_err(|e| SettlementError::io(path, e))
}
