//! The ledger: settlements, penalties and balances in an embedded redb database.
//!
//! ```text
//! identity          "id"                           → 32 bytes           this ledger's venue id: its public key
//! settled           client request digest (hex)    → Settlement (JSON)  one per request, ever
//! settled_receipts  receipt digest (hex)           → job key            which receipts settled
//! penalties         receipt digest (hex)           → Penalty (JSON)     one per signed false receipt
//! disputes          receipt digest (hex)           → Dispute (JSON)     a settled job's receipt failing later
//! balances          account (public key)           → Balance (JSON)     workers, owners, clients
//! models            model id                       → Pin (JSON)         owner and newest registration seen
//! records           "<model id>/<vk id>"           → record digest      the record first seen under a key
//! ```
//!
//! **A ledger is a venue** ([`zkw_verifier::venue`]): it makes an ed25519 key when it is
//! created (`ledger.key` beside the database, mode 0600); its public key is its id, and it
//! signs the ledger's statements — disputes ([`zkw_verifier::dispute`]) — which anyone checks
//! against the venue a request names. It pays only receipts whose client request names
//! `ledger:<that id>` — the
//! request's digest is inside the proof's job binding, so no other ledger or contract can pay
//! the same receipt, and this one pays no receipt made for another.
//!
//! Exactly once is a property of the key, not of the receipt. What is paid is a client's
//! signed request (model, input digest, nonce, venue, fee, client), keyed by its digest: the
//! first valid receipt for it — whichever worker proved it — settles it, debiting the client
//! the model's fee and crediting worker and owner. A second receipt for it — the same one
//! again, re-spelled JSON, a re-randomized proof, another worker's proof of the same request
//! — finds the key taken and is refused with the settlement that took it. A client is debited
//! only from what it holds ([`Ledger::deposit`], and credits it earned); a request it cannot
//! pay settles nothing. The check and the insert happen inside one write transaction,
//! together with the balance updates, so a settlement is all there or not at all. Balances
//! are 128-bit: no sequence of 64-bit fees and penalties can overflow them.
//!
//! The ledger also pins each model to the first owner it settled for and to the newest
//! registration it has seen (its sequence number), so a registry directory whose file was
//! replaced by another owner's registration, or by an older one of the same owner, is refused
//! for that model instead of trusted; and it pins each (model, verifying key) pair to the
//! digest of the record it first saw with it, so no re-registration can change how receipts
//! proved under a key are judged.
//!
//! **A settled job is never penalised.** Whatever a registry says later, a receipt whose job
//! (or whose very bytes) this ledger credited is not turned into a penalty: a receipt that
//! verified once and fails now shows that the terms it was judged by changed, not that its
//! worker lied. Such a receipt is recorded as a [`Dispute`], charging no one.
//!
//! Schema version 2 added `settled_receipts`, `disputes` and `records`; version 3 the ledger's
//! id (its venue), settlements keyed by client request and client balances. An older ledger
//! is refused by name until [`Ledger::migrate`] (`zkw ledger migrate`) converts it (its old
//! settlements stay, under their old keys: receipts of version 4 have no request and can
//! never settle again anyway).
//!
//! Several processes may settle into one ledger at once: the database is opened in redb's
//! multi-writer mode (byte-range file locks), where write transactions of different
//! processes run one after the other. Verification — the expensive part — happens before the
//! transaction, so a process holds the write lock only for a few table updates.

use std::path::{Path, PathBuf};

use redb::{
    ConcurrencyMode, Database, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction,
};
use serde::{Deserialize, Serialize};
use zkw_verifier::dispute::{DisputePredicate, sign_dispute};
use zkw_verifier::ed25519::{read_secret_key, write_secret_key};
use zkw_verifier::{Envelope, KeyPair, Registration, Venue};

use crate::error::SettlementError;

const SETTLED: TableDefinition<&str, &[u8]> = TableDefinition::new("settled");
const PENALTIES: TableDefinition<&str, &[u8]> = TableDefinition::new("penalties");
const BALANCES: TableDefinition<&str, &[u8]> = TableDefinition::new("balances");
const MODELS: TableDefinition<&str, &[u8]> = TableDefinition::new("models");
const SETTLED_RECEIPTS: TableDefinition<&str, &str> = TableDefinition::new("settled_receipts");
const DISPUTES: TableDefinition<&str, &[u8]> = TableDefinition::new("disputes");
const RECORDS: TableDefinition<&str, &str> = TableDefinition::new("records");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const IDENTITY: TableDefinition<&str, &[u8]> = TableDefinition::new("identity");

/// The ledger's schema version (2: settled receipts indexed, disputes, record pins; 3: the
/// ledger's venue id, settlements keyed by client request, client deposits and debits).
pub const LEDGER_VERSION: u64 = 3;

/// The database file inside a ledger directory.
pub const LEDGER_FILE: &str = "ledger.redb";

/// The ledger's secret key inside a ledger directory: its public key is the ledger's venue id.
pub const LEDGER_KEY_FILE: &str = "ledger.key";

/// One settled job: a client's request paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settlement {
    /// The client's request digest (hex): what was paid, once. Empty in settlements written
    /// before schema 3.
    #[serde(default)]
    pub request: String,
    /// The client debited (its public key). Empty before schema 3.
    #[serde(default)]
    pub client: String,
    /// Units debited from the client (the model's fee).
    #[serde(default)]
    pub debited: u64,
    /// The model.
    pub model_id: String,
    /// Its commitment (hex field element): what the proof is about.
    pub commitment: String,
    /// The job.
    pub job_id: String,
    /// The worker paid.
    pub worker_id: String,
    /// The model's owner paid.
    pub owner: String,
    /// Units credited to the worker.
    pub worker_credit: u64,
    /// Units credited to the owner.
    pub owner_credit: u64,
    /// The signed receipt's digest (what its worker signed), hex.
    pub receipt_digest: String,
    /// Seconds since the Unix epoch.
    pub settled_at: u64,
    /// The receipt as settled (JSON).
    pub receipt: String,
}

/// A signed receipt that failed verification: the worker's false claim, kept as evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Penalty {
    /// The model.
    pub model_id: String,
    /// The job the receipt names.
    pub job_id: String,
    /// The worker who signed it.
    pub worker_id: String,
    /// Units charged.
    pub amount: u64,
    /// Why it failed verification.
    pub reason: String,
    /// The signed receipt's digest, hex.
    pub receipt_digest: String,
    /// Seconds since the Unix epoch.
    pub recorded_at: u64,
    /// The receipt, signature included (JSON): the evidence.
    pub receipt: String,
}

/// A signed receipt that fails verification now, for a job this ledger settled before: the
/// terms it is judged by changed (or its worker signed two answers to one job, one of them
/// paid). Kept as a record of the disagreement; nobody is charged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dispute {
    /// The model.
    pub model_id: String,
    /// The job the receipt names.
    pub job_id: String,
    /// The worker who signed it.
    pub worker_id: String,
    /// Why it fails verification now.
    pub reason: String,
    /// The disputed receipt's digest, hex.
    pub receipt_digest: String,
    /// The digest of the receipt that settled the job (the same one when a settled receipt
    /// itself fails now).
    pub settled_receipt: String,
    /// Seconds since the Unix epoch.
    pub recorded_at: u64,
    /// The receipt (JSON).
    pub receipt: String,
}

/// What an account has been credited, charged, deposited and debited.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    /// The account: a worker id, an owner's or a client's public key.
    pub account: String,
    /// Units credited for settled jobs.
    pub credited: u128,
    /// Units charged for penalties.
    pub charged: u128,
    /// Settled jobs that credited this account.
    pub jobs: u64,
    /// Penalties charged to this account.
    pub penalties: u64,
    /// Units deposited (a client's funds, `zkw ledger deposit`).
    #[serde(default)]
    pub deposited: u128,
    /// Units debited for the account's requests that settled.
    #[serde(default)]
    pub debited: u128,
    /// The account's requests that settled.
    #[serde(default)]
    pub requests: u64,
}

impl Balance {
    /// Credited and deposited, minus charged and debited (saturating at the ends of `i128`,
    /// which no ledger reaches).
    pub fn net(&self) -> i128 {
        let i = |v: u128| i128::try_from(v).unwrap_or(i128::MAX);
        i(self.credited)
            .saturating_add(i(self.deposited))
            .saturating_sub(i(self.charged))
            .saturating_sub(i(self.debited))
    }
}

/// The registration an entry was decided under: the ledger pins a model to its owner,
/// refuses an older registration than one it has seen, and pins the record of each
/// (model, verifying key) pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pin {
    /// The model.
    pub model_id: String,
    /// The owner who signed the registration.
    pub owner: String,
    /// The registration's sequence number.
    pub sequence: u64,
    /// The registration's verifying key id.
    pub vk_id: String,
    /// The digest of its record ([`zkw_verifier::ModelRecord::digest`]), hex.
    pub record_digest: String,
}

impl Pin {
    /// The pin a registration asks for.
    pub fn of(registration: &Registration) -> Pin {
        Pin {
            model_id: registration.record.model_id.clone(),
            owner: registration.owner.clone(),
            sequence: registration.sequence,
            vk_id: registration.record.vk_id.clone(),
            record_digest: hex::encode(registration.record.digest()),
        }
    }
}

/// The part of a [`Pin`] stored per model (the record pin has its own table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct ModelPin {
    model_id: String,
    owner: String,
    sequence: u64,
}

/// What to write for one receipt.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The registration it was decided under.
    pub pin: Pin,
    /// The client request the receipt answers (its digest, hex), if it carries one.
    pub request: Option<String>,
    /// What to do.
    pub action: Action,
}

/// What an [`Entry`] asks of the ledger.
#[derive(Debug, Clone)]
pub enum Action {
    /// Debit the client and credit worker and owner for the request, unless it is settled
    /// already or the client cannot pay.
    Credit(Settlement),
    /// Charge a worker for a signed false receipt, unless that receipt was charged already.
    Penalize(Penalty),
    /// Nothing to write; only report whether the job is settled already.
    Nothing,
}

/// What the ledger did with an [`Entry`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// The job was credited.
    Settled(Settlement),
    /// The penalty was recorded.
    Penalized(Penalty),
    /// The job was settled before (by this settlement); nothing was written.
    AlreadySettled(Settlement),
    /// This receipt was charged before; nothing was written.
    AlreadyPenalized(Penalty),
    /// A penalty was asked for a receipt of a job this ledger settled: recorded as a dispute,
    /// nobody charged.
    Disputed(Dispute),
    /// Nothing was written, and the job is not settled.
    Nothing,
    /// Nothing was written: the registration is not the one this ledger has pinned.
    Unpinned(String),
    /// Nothing was written: the client holds less than the fee.
    Unfunded {
        /// The client.
        client: String,
        /// The fee.
        needed: u64,
        /// What the client holds.
        available: i128,
    },
}

/// An open ledger.
pub struct Ledger {
    db: Database,
    path: PathBuf,
    dir: PathBuf,
    venue: Venue,
}

impl Ledger {
    /// Opens (or creates) the ledger in directory `dir`, shareable with other processes.
    pub fn open(dir: &Path) -> Result<Self, SettlementError> {
        std::fs::create_dir_all(dir).map_err(|e| SettlementError::io(dir, e))?;
        let path = dir.join(LEDGER_FILE);
        let err = |reason: String| SettlementError::Ledger {
            path: path.clone(),
            reason,
        };
        let db = Database::builder()
            .set_concurrency_mode(ConcurrencyMode::MultiWriter)
            .create(&path)
            .map_err(|e| err(e.to_string()))?;
        let mut ledger = Ledger {
            db,
            path,
            dir: dir.to_path_buf(),
            venue: Venue::Ledger([0; 32]),
        };
        let txn = ledger.begin()?;
        {
            let mut meta = txn.open_table(META).map_err(|e| ledger.err(e))?;
            let version = meta
                .get("version")
                .map_err(|e| ledger.err(e))?
                .map(|v| v.value());
            match version {
                None => {
                    meta.insert("version", LEDGER_VERSION)
                        .map_err(|e| ledger.err(e))?;
                    ledger.draw_id(&txn)?;
                }
                Some(LEDGER_VERSION) => {}
                Some(v @ (1 | 2)) => {
                    return Err(ledger.err(format!(
                        "schema version {v}, written by an earlier zkw; this build reads version \
                         {LEDGER_VERSION}: convert it with `zkw ledger migrate {}`",
                        dir.display()
                    )));
                }
                Some(v) => {
                    return Err(ledger.err(format!(
                        "schema version {v}, this build reads version {LEDGER_VERSION}"
                    )));
                }
            }
            ledger.open_tables(&txn)?;
        }
        ledger.venue = ledger.read_id(&txn)?;
        txn.commit().map_err(|e| ledger.err(e))?;
        Ok(ledger)
    }

    /// This ledger as a settlement venue: `ledger:<its public key>`. Clients name it in their
    /// requests; the owner's registration lists it among the model's venues; its key signs
    /// its statements.
    pub fn venue(&self) -> Venue {
        self.venue
    }

    /// Gives the ledger its key and id (a new ledger, or one migrated from before ids): the
    /// key file's, when an interrupted first open left one, else a new key written 0600. An
    /// id it has already is kept.
    fn draw_id(&self, txn: &WriteTransaction) -> Result<(), SettlementError> {
        let mut t = txn.open_table(IDENTITY).map_err(|e| self.err(e))?;
        if t.get("id").map_err(|e| self.err(e))?.is_some() {
            return Ok(());
        }
        let key_path = self.dir.join(LEDGER_KEY_FILE);
        let key = if key_path.exists() {
            self.key()?
        } else {
            let key = KeyPair::generate()
                .map_err(|e| self.err(format!("no OS randomness for the ledger's key: {e}")))?;
            write_secret_key(&key_path, &key).map_err(|e| SettlementError::io(&key_path, e))?;
            key
        };
        t.insert("id", key.public().as_slice())
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// The ledger's secret key (its file), refused unless it is the key of the ledger's id.
    fn key(&self) -> Result<KeyPair, SettlementError> {
        let path = self.dir.join(LEDGER_KEY_FILE);
        let key = read_secret_key(&path).map_err(|e| self.err(e))?;
        Ok(key)
    }

    /// The ledger's dispute `d` as a statement signed by the ledger's key
    /// ([`zkw_verifier::dispute`]): what a worker or an owner carries elsewhere, checked
    /// against this ledger's venue without its database.
    pub fn dispute_statement(&self, d: &Dispute) -> Result<Envelope, SettlementError> {
        let key = self.key()?;
        if Venue::Ledger(key.public()) != self.venue {
            return Err(self.err(format!(
                "{} is the key of ledger:{}, not of this ledger ({}): it signs nothing here",
                self.dir.join(LEDGER_KEY_FILE).display(),
                key.public_hex(),
                self.venue
            )));
        }
        let receipt = zkw_verifier::Receipt::from_json(d.receipt.as_bytes())
            .map_err(|e| self.err(format!("a corrupt entry: dispute receipt: {e}")))?;
        let p = DisputePredicate {
            venue: self.venue,
            model_id: d.model_id.clone(),
            job_id: d.job_id.clone(),
            worker_id: d.worker_id.clone(),
            reason: d.reason.clone(),
            settled_receipt: d.settled_receipt.clone(),
            recorded_at: d.recorded_at,
            receipt,
        };
        sign_dispute(&p, &key).map_err(|e| self.err(e))
    }

    fn read_id(&self, txn: &WriteTransaction) -> Result<Venue, SettlementError> {
        let t = txn.open_table(IDENTITY).map_err(|e| self.err(e))?;
        let id = t.get("id").map_err(|e| self.err(e))?;
        let id: [u8; 32] = id
            .and_then(|v| v.value().try_into().ok())
            .ok_or_else(|| self.err("a corrupt entry: the ledger's id is missing"))?;
        Ok(Venue::Ledger(id))
    }

    fn open_tables(&self, txn: &WriteTransaction) -> Result<(), SettlementError> {
        txn.open_table(SETTLED).map_err(|e| self.err(e))?;
        txn.open_table(SETTLED_RECEIPTS).map_err(|e| self.err(e))?;
        txn.open_table(PENALTIES).map_err(|e| self.err(e))?;
        txn.open_table(DISPUTES).map_err(|e| self.err(e))?;
        txn.open_table(BALANCES).map_err(|e| self.err(e))?;
        txn.open_table(MODELS).map_err(|e| self.err(e))?;
        txn.open_table(RECORDS).map_err(|e| self.err(e))?;
        txn.open_table(IDENTITY).map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Converts the ledger in `dir` to the current schema, in one transaction: a version-1
    /// ledger gets the index of settled receipts (built from its settlements), the disputes
    /// table and the record pins (empty: version 1 did not keep records, so each pair is
    /// pinned at its next sight); a version-1 or -2 ledger makes its key, whose public key is its venue id. Returns the
    /// version it found; a current ledger is left as it is.
    pub fn migrate(dir: &Path) -> Result<u64, SettlementError> {
        let path = dir.join(LEDGER_FILE);
        if !path.exists() {
            return Err(SettlementError::Ledger {
                path,
                reason: "no ledger here".into(),
            });
        }
        let db = Database::builder()
            .set_concurrency_mode(ConcurrencyMode::MultiWriter)
            .create(&path)
            .map_err(|e| SettlementError::Ledger {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        let ledger = Ledger {
            db,
            path,
            dir: dir.to_path_buf(),
            venue: Venue::Ledger([0; 32]),
        };
        let txn = ledger.begin()?;
        let found = {
            let mut meta = txn.open_table(META).map_err(|e| ledger.err(e))?;
            let found = meta
                .get("version")
                .map_err(|e| ledger.err(e))?
                .map(|v| v.value());
            let found = match found {
                Some(v @ (1 | 2)) => v,
                Some(LEDGER_VERSION) => return Ok(LEDGER_VERSION),
                other => {
                    return Err(ledger.err(format!(
                        "schema version {}, this build migrates versions 1 and 2 to \
                         {LEDGER_VERSION}",
                        other.map_or("none".to_string(), |v| v.to_string())
                    )));
                }
            };
            ledger.open_tables(&txn)?;
            if found == 1 {
                let settled = txn.open_table(SETTLED).map_err(|e| ledger.err(e))?;
                let mut index = txn
                    .open_table(SETTLED_RECEIPTS)
                    .map_err(|e| ledger.err(e))?;
                for item in settled.iter().map_err(|e| ledger.err(e))? {
                    let (k, v) = item.map_err(|e| ledger.err(e))?;
                    let s: Settlement = ledger.decode(v.value())?;
                    index
                        .insert(s.receipt_digest.as_str(), k.value())
                        .map_err(|e| ledger.err(e))?;
                }
            }
            // Version-1 pins had no record fields, older balances and settlements no client
            // fields; they read as they are.
            ledger.draw_id(&txn)?;
            meta.insert("version", LEDGER_VERSION)
                .map_err(|e| ledger.err(e))?;
            found
        };
        txn.commit().map_err(|e| ledger.err(e))?;
        Ok(found)
    }

    fn err(&self, e: impl std::fmt::Display) -> SettlementError {
        SettlementError::Ledger {
            path: self.path.clone(),
            reason: e.to_string(),
        }
    }

    fn begin(&self) -> Result<WriteTransaction, SettlementError> {
        self.db.begin_write().map_err(|e| self.err(e))
    }

    /// Writes the entries in one transaction (all of them or none), in order: an entry sees
    /// the ones before it, so two receipts of one job in one call settle it once.
    pub fn record(&self, entries: Vec<Entry>) -> Result<Vec<Recorded>, SettlementError> {
        let txn = self.begin()?;
        let mut out = Vec::with_capacity(entries.len());
        {
            let mut settled = txn.open_table(SETTLED).map_err(|e| self.err(e))?;
            let mut settled_receipts = txn.open_table(SETTLED_RECEIPTS).map_err(|e| self.err(e))?;
            let mut penalties = txn.open_table(PENALTIES).map_err(|e| self.err(e))?;
            let mut disputes = txn.open_table(DISPUTES).map_err(|e| self.err(e))?;
            let mut balances = txn.open_table(BALANCES).map_err(|e| self.err(e))?;
            let mut models = txn.open_table(MODELS).map_err(|e| self.err(e))?;
            let mut records = txn.open_table(RECORDS).map_err(|e| self.err(e))?;
            for Entry {
                pin,
                request,
                action,
            } in entries
            {
                if let Some(refused) = self.check_pin(&mut models, &mut records, &pin)? {
                    out.push(Recorded::Unpinned(refused));
                    continue;
                }
                let previous = |settled: &redb::Table<&str, &[u8]>| match &request {
                    Some(key) => settled
                        .get(key.as_str())
                        .map_err(|e| self.err(e))?
                        .map(|v| self.decode::<Settlement>(v.value()))
                        .transpose(),
                    None => Ok(None),
                };
                let recorded = match action {
                    Action::Credit(s) => {
                        let client = self.balance(&balances, &s.client)?;
                        if let Some(prev) = previous(&settled)? {
                            Recorded::AlreadySettled(prev)
                        } else if client.net() < i128::from(s.debited) {
                            Recorded::Unfunded {
                                client: s.client.clone(),
                                needed: s.debited,
                                available: client.net(),
                            }
                        } else {
                            let bytes = serde_json::to_vec(&s).expect("serializes");
                            settled
                                .insert(s.request.as_str(), bytes.as_slice())
                                .map_err(|e| self.err(e))?;
                            settled_receipts
                                .insert(s.receipt_digest.as_str(), s.request.as_str())
                                .map_err(|e| self.err(e))?;
                            self.update(&mut balances, &s.client, |b| {
                                b.debited = b.debited.saturating_add(s.debited.into());
                                b.requests += 1;
                            })?;
                            for (account, credit) in
                                [(&s.worker_id, s.worker_credit), (&s.owner, s.owner_credit)]
                            {
                                self.update(&mut balances, account, |b| {
                                    b.credited = b.credited.saturating_add(credit.into());
                                    b.jobs += 1;
                                })?;
                            }
                            Recorded::Settled(s)
                        }
                    }
                    Action::Penalize(p) => {
                        let digest = p.receipt_digest.as_str();
                        // The receipt itself settled here, or its job did: never a penalty.
                        let settled_by: Option<Settlement> =
                            match settled_receipts.get(digest).map_err(|e| self.err(e))? {
                                Some(k) => settled
                                    .get(k.value())
                                    .map_err(|e| self.err(e))?
                                    .map(|v| self.decode(v.value()))
                                    .transpose()?,
                                None => previous(&settled)?,
                            };
                        if let Some(prev) = penalties.get(digest).map_err(|e| self.err(e))? {
                            Recorded::AlreadyPenalized(self.decode(prev.value())?)
                        } else if let Some(by) = settled_by {
                            let prev: Option<Dispute> =
                                match disputes.get(digest).map_err(|e| self.err(e))? {
                                    Some(v) => Some(self.decode(v.value())?),
                                    None => None,
                                };
                            let d = match prev {
                                Some(prev) => prev,
                                None => {
                                    let d = Dispute {
                                        model_id: p.model_id,
                                        job_id: p.job_id,
                                        worker_id: p.worker_id,
                                        reason: p.reason,
                                        receipt_digest: p.receipt_digest.clone(),
                                        settled_receipt: by.receipt_digest,
                                        recorded_at: p.recorded_at,
                                        receipt: p.receipt,
                                    };
                                    let bytes = serde_json::to_vec(&d).expect("serializes");
                                    disputes
                                        .insert(p.receipt_digest.as_str(), bytes.as_slice())
                                        .map_err(|e| self.err(e))?;
                                    d
                                }
                            };
                            Recorded::Disputed(d)
                        } else {
                            let bytes = serde_json::to_vec(&p).expect("serializes");
                            penalties
                                .insert(digest, bytes.as_slice())
                                .map_err(|e| self.err(e))?;
                            self.update(&mut balances, &p.worker_id, |b| {
                                b.charged = b.charged.saturating_add(p.amount.into());
                                b.penalties += 1;
                            })?;
                            Recorded::Penalized(p)
                        }
                    }
                    Action::Nothing => match previous(&settled)? {
                        Some(prev) => Recorded::AlreadySettled(prev),
                        None => Recorded::Nothing,
                    },
                };
                out.push(recorded);
            }
        }
        txn.commit().map_err(|e| self.err(e))?;
        Ok(out)
    }

    /// Pins the model to the registration's owner on first sight and moves the pin to newer
    /// registrations, and pins the record of each (model, key) pair on first sight; the
    /// reason when the registration is another owner's, older than the pinned one, or
    /// carries another record under a key seen before.
    fn check_pin(
        &self,
        models: &mut redb::Table<&str, &[u8]>,
        records: &mut redb::Table<&str, &str>,
        pin: &Pin,
    ) -> Result<Option<String>, SettlementError> {
        let current: Option<ModelPin> =
            match models.get(pin.model_id.as_str()).map_err(|e| self.err(e))? {
                Some(v) => Some(self.decode(v.value())?),
                None => None,
            };
        let pair = format!("{}/{}", pin.model_id, pin.vk_id);
        let seen = records
            .get(pair.as_str())
            .map_err(|e| self.err(e))?
            .map(|v| v.value().to_string());
        if let Some(reason) = refusal(current.as_ref(), seen.as_deref(), pin) {
            return Ok(Some(reason));
        }
        if seen.is_none() {
            records
                .insert(pair.as_str(), pin.record_digest.as_str())
                .map_err(|e| self.err(e))?;
        }
        if current.is_some_and(|c| c.sequence == pin.sequence) {
            return Ok(None);
        }
        let bytes = serde_json::to_vec(&ModelPin {
            model_id: pin.model_id.clone(),
            owner: pin.owner.clone(),
            sequence: pin.sequence,
        })
        .expect("serializes");
        models
            .insert(pin.model_id.as_str(), bytes.as_slice())
            .map_err(|e| self.err(e))?;
        Ok(None)
    }

    /// Why this ledger would refuse to settle under `registration` — another owner than the
    /// one it pinned, an older registration than one it has seen, another record than the one
    /// it first saw under the key — or `None`. Reads only: for a verifier that trusts this
    /// ledger's memory of the registry (`zkw verify --registry R --ledger L`).
    pub fn judge(&self, registration: &Registration) -> Result<Option<String>, SettlementError> {
        let pin = Pin::of(registration);
        let txn = self.db.begin_read().map_err(|e| self.err(e))?;
        let models = txn.open_table(MODELS).map_err(|e| self.err(e))?;
        let records = txn.open_table(RECORDS).map_err(|e| self.err(e))?;
        let current: Option<ModelPin> =
            match models.get(pin.model_id.as_str()).map_err(|e| self.err(e))? {
                Some(v) => Some(self.decode(v.value())?),
                None => None,
            };
        let seen = records
            .get(format!("{}/{}", pin.model_id, pin.vk_id).as_str())
            .map_err(|e| self.err(e))?
            .map(|v| v.value().to_string());
        Ok(refusal(current.as_ref(), seen.as_deref(), &pin))
    }

    fn balance(
        &self,
        balances: &redb::Table<&str, &[u8]>,
        account: &str,
    ) -> Result<Balance, SettlementError> {
        Ok(match balances.get(account).map_err(|e| self.err(e))? {
            Some(v) => self.decode(v.value())?,
            None => Balance {
                account: account.into(),
                ..Balance::default()
            },
        })
    }

    fn update(
        &self,
        balances: &mut redb::Table<&str, &[u8]>,
        account: &str,
        change: impl FnOnce(&mut Balance),
    ) -> Result<(), SettlementError> {
        let mut b = self.balance(balances, account)?;
        change(&mut b);
        let bytes = serde_json::to_vec(&b).expect("serializes");
        balances
            .insert(account, bytes.as_slice())
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    fn decode<T: serde::de::DeserializeOwned>(&self, bytes: &[u8]) -> Result<T, SettlementError> {
        serde_json::from_slice(bytes).map_err(|e| self.err(format!("a corrupt entry: {e}")))
    }

    fn all<T: serde::de::DeserializeOwned>(
        &self,
        table: TableDefinition<&str, &[u8]>,
    ) -> Result<Vec<T>, SettlementError> {
        let txn = self.db.begin_read().map_err(|e| self.err(e))?;
        let t = txn.open_table(table).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for item in t.iter().map_err(|e| self.err(e))? {
            let (_, v) = item.map_err(|e| self.err(e))?;
            out.push(self.decode(v.value())?);
        }
        Ok(out)
    }

    /// Every settlement, by model and job id.
    pub fn settlements(&self) -> Result<Vec<Settlement>, SettlementError> {
        self.all(SETTLED)
    }

    /// Every penalty, by receipt digest.
    pub fn penalties(&self) -> Result<Vec<Penalty>, SettlementError> {
        self.all(PENALTIES)
    }

    /// Every dispute, by receipt digest.
    pub fn disputes(&self) -> Result<Vec<Dispute>, SettlementError> {
        self.all(DISPUTES)
    }

    /// Every account's balance, by account.
    pub fn balances(&self) -> Result<Vec<Balance>, SettlementError> {
        self.all(BALANCES)
    }

    /// The settlement a receipt made (by the receipt's digest, hex), if it settled here.
    pub fn settled_by_receipt(
        &self,
        receipt_digest: &str,
    ) -> Result<Option<Settlement>, SettlementError> {
        let txn = self.db.begin_read().map_err(|e| self.err(e))?;
        let index = txn.open_table(SETTLED_RECEIPTS).map_err(|e| self.err(e))?;
        let Some(key) = index.get(receipt_digest).map_err(|e| self.err(e))? else {
            return Ok(None);
        };
        let settled = txn.open_table(SETTLED).map_err(|e| self.err(e))?;
        let v = settled.get(key.value()).map_err(|e| self.err(e))?;
        v.map(|v| self.decode(v.value())).transpose()
    }

    /// The settlement of one client request (its digest, hex), if it is settled.
    pub fn settlement(&self, request: &str) -> Result<Option<Settlement>, SettlementError> {
        let txn = self.db.begin_read().map_err(|e| self.err(e))?;
        let t = txn.open_table(SETTLED).map_err(|e| self.err(e))?;
        let v = t.get(request).map_err(|e| self.err(e))?;
        v.map(|v| self.decode(v.value())).transpose()
    }

    /// Records `amount` units deposited by `account` (a client paying in, off-ledger); its
    /// balance after.
    pub fn deposit(&self, account: &str, amount: u64) -> Result<Balance, SettlementError> {
        zkw_verifier::ed25519::public_key(account)
            .map_err(|e| self.err(format!("account {account:?}: {e}")))?;
        let txn = self.begin()?;
        let balance = {
            let mut balances = txn.open_table(BALANCES).map_err(|e| self.err(e))?;
            self.update(&mut balances, account, |b| {
                b.deposited = b.deposited.saturating_add(amount.into());
            })?;
            self.balance(&balances, account)?
        };
        txn.commit().map_err(|e| self.err(e))?;
        Ok(balance)
    }
}

/// The one rule of [`Ledger::record`]'s pins and [`Ledger::judge`]: why a registration
/// described by `pin` is refused, given the model's pin (`current`) and the record digest
/// first seen under its key (`seen`).
fn refusal(current: Option<&ModelPin>, seen: Option<&str>, pin: &Pin) -> Option<String> {
    if let Some(c) = current {
        if c.owner != pin.owner {
            return Some(format!(
                "this ledger has model {} registered by owner {}; the registry's registration \
                 is signed by {}",
                pin.model_id, c.owner, pin.owner
            ));
        }
        if pin.sequence < c.sequence {
            return Some(format!(
                "the registry holds registration {} of model {}, but this ledger has seen \
                 registration {}: an older registration was put back",
                pin.sequence, pin.model_id, c.sequence
            ));
        }
    }
    match seen {
        Some(seen) if seen != pin.record_digest => Some(format!(
            "the registry's record of model {} under verifying key {} (digest {}) is not the \
             one this ledger first saw with that key (digest {seen}): a record never changes \
             under a key",
            pin.model_id, pin.vk_id, pin.record_digest
        )),
        _ => None,
    }
}
