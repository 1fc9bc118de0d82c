//! The ledger: settlements, penalties and balances in an embedded redb database.
//!
//! ```text
//! settled    "<model_id>/<job_id>"  → Settlement (JSON)   one per job of a model, ever
//! penalties  receipt digest (hex)   → Penalty (JSON)      one per signed false receipt
//! balances   account (public key)   → Balance (JSON)
//! ```
//!
//! Exactly once is a property of the key, not of the receipt: a job is identified by its model
//! and its job id, so a second receipt for it — the same one again, re-spelled JSON, a
//! re-randomized proof, another worker's — finds the key taken and is refused with the
//! settlement that took it. The check and the insert happen inside one write transaction,
//! together with the balance updates, so a settlement is all there or not at all.
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

use crate::error::SettlementError;

const SETTLED: TableDefinition<&str, &[u8]> = TableDefinition::new("settled");
const PENALTIES: TableDefinition<&str, &[u8]> = TableDefinition::new("penalties");
const BALANCES: TableDefinition<&str, &[u8]> = TableDefinition::new("balances");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// The ledger's schema version.
pub const LEDGER_VERSION: u64 = 1;

/// The database file inside a ledger directory.
pub const LEDGER_FILE: &str = "ledger.redb";

/// One settled job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settlement {
    /// The model.
    pub model_id: String,
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

/// What an account has been credited and charged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    /// The account: a worker id or an owner's public key.
    pub account: String,
    /// Units credited for settled jobs.
    pub credited: u64,
    /// Units charged for penalties.
    pub charged: u64,
    /// Settled jobs that credited this account.
    pub jobs: u64,
    /// Penalties charged to this account.
    pub penalties: u64,
}

impl Balance {
    /// Credited minus charged.
    pub fn net(&self) -> i128 {
        self.credited as i128 - self.charged as i128
    }
}

/// What to write for one receipt.
#[derive(Debug, Clone)]
pub enum Entry {
    /// Credit worker and owner for a job, unless the job is settled already.
    Credit(Settlement),
    /// Charge a worker for a signed false receipt, unless that receipt was charged already.
    Penalize(Penalty),
    /// Nothing to write; only report whether the job is settled already.
    Nothing {
        /// The model.
        model_id: String,
        /// The job.
        job_id: String,
    },
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
    /// Nothing was written, and the job is not settled.
    Nothing,
}

/// An open ledger.
pub struct Ledger {
    db: Database,
    path: PathBuf,
}

fn job_key(model_id: &str, job_id: &str) -> String {
    format!("{model_id}/{job_id}")
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
        let ledger = Ledger { db, path };
        let txn = ledger.begin()?;
        {
            let mut meta = txn.open_table(META).map_err(|e| ledger.err(e))?;
            let version = meta.get("version").map_err(|e| ledger.err(e))?.map(|v| v.value());
            match version {
                None => {
                    meta.insert("version", LEDGER_VERSION).map_err(|e| ledger.err(e))?;
                }
                Some(LEDGER_VERSION) => {}
                Some(v) => {
                    return Err(ledger.err(format!(
                        "schema version {v}, this build reads version {LEDGER_VERSION}"
                    )));
                }
            }
            txn.open_table(SETTLED).map_err(|e| ledger.err(e))?;
            txn.open_table(PENALTIES).map_err(|e| ledger.err(e))?;
            txn.open_table(BALANCES).map_err(|e| ledger.err(e))?;
        }
        txn.commit().map_err(|e| ledger.err(e))?;
        Ok(ledger)
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
            let mut penalties = txn.open_table(PENALTIES).map_err(|e| self.err(e))?;
            let mut balances = txn.open_table(BALANCES).map_err(|e| self.err(e))?;
            for entry in entries {
                let recorded = match entry {
                    Entry::Credit(s) => {
                        let key = job_key(&s.model_id, &s.job_id);
                        if let Some(prev) = settled.get(key.as_str()).map_err(|e| self.err(e))? {
                            Recorded::AlreadySettled(self.decode(prev.value())?)
                        } else {
                            let bytes = serde_json::to_vec(&s).expect("serializes");
                            settled
                                .insert(key.as_str(), bytes.as_slice())
                                .map_err(|e| self.err(e))?;
                            for (account, credit) in
                                [(&s.worker_id, s.worker_credit), (&s.owner, s.owner_credit)]
                            {
                                self.update(&mut balances, account, |b| {
                                    b.credited = b.credited.checked_add(credit)?;
                                    b.jobs += 1;
                                    Some(())
                                })?;
                            }
                            Recorded::Settled(s)
                        }
                    }
                    Entry::Penalize(p) => {
                        let key = p.receipt_digest.as_str();
                        if let Some(prev) = penalties.get(key).map_err(|e| self.err(e))? {
                            Recorded::AlreadyPenalized(self.decode(prev.value())?)
                        } else {
                            let bytes = serde_json::to_vec(&p).expect("serializes");
                            penalties
                                .insert(key, bytes.as_slice())
                                .map_err(|e| self.err(e))?;
                            self.update(&mut balances, &p.worker_id, |b| {
                                b.charged = b.charged.checked_add(p.amount)?;
                                b.penalties += 1;
                                Some(())
                            })?;
                            Recorded::Penalized(p)
                        }
                    }
                    Entry::Nothing { model_id, job_id } => {
                        let key = job_key(&model_id, &job_id);
                        match settled.get(key.as_str()).map_err(|e| self.err(e))? {
                            Some(prev) => Recorded::AlreadySettled(self.decode(prev.value())?),
                            None => Recorded::Nothing,
                        }
                    }
                };
                out.push(recorded);
            }
        }
        txn.commit().map_err(|e| self.err(e))?;
        Ok(out)
    }

    fn update(
        &self,
        balances: &mut redb::Table<&str, &[u8]>,
        account: &str,
        change: impl FnOnce(&mut Balance) -> Option<()>,
    ) -> Result<(), SettlementError> {
        let mut b: Balance = match balances.get(account).map_err(|e| self.err(e))? {
            Some(v) => self.decode(v.value())?,
            None => Balance {
                account: account.into(),
                ..Balance::default()
            },
        };
        change(&mut b).ok_or_else(|| {
            self.err(format!("the balance of {account} would overflow 64 bits"))
        })?;
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

    /// Every account's balance, by account.
    pub fn balances(&self) -> Result<Vec<Balance>, SettlementError> {
        self.all(BALANCES)
    }

    /// The settlement of one job of one model, if it is settled.
    pub fn settlement(
        &self,
        model_id: &str,
        job_id: &str,
    ) -> Result<Option<Settlement>, SettlementError> {
        let txn = self.db.begin_read().map_err(|e| self.err(e))?;
        let t = txn.open_table(SETTLED).map_err(|e| self.err(e))?;
        let v = t
            .get(job_key(model_id, job_id).as_str())
            .map_err(|e| self.err(e))?;
        v.map(|v| self.decode(v.value())).transpose()
    }
}
