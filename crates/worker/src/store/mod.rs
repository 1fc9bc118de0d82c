//! The job store: every job, its input, its history and its receipt, in an embedded redb
//! database.
//!
//! Each change is one redb write transaction, committed (fsync'd) before the caller goes on:
//! a job is acknowledged only after it is stored, a state change is visible only after it is
//! durable, and a job's receipt and its `Succeeded` state are written together — so after a
//! crash the store says exactly which jobs finished (those never run again) and which must
//! resume.
//!
//! The store stays small where it is read often: a job's record holds its state and history,
//! not its input (written once, in its own table, and dropped when the job ends); unfinished
//! jobs are indexed, and the count of jobs in each state is kept, so a restart reads neither
//! the finished jobs nor any input it does not resume. Finished jobs are kept up to a bound
//! (oldest dropped first, with their receipts and idempotency keys).

use std::collections::BTreeMap;
use std::path::Path;

use redb::{
    Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition, TableHandle,
    WriteTransaction,
};

use crate::error::WorkerError;
use crate::job::{JobRecord, JobState, Transition, now_ms};

pub mod record;
pub mod salvage;

use record::Tag;

/// job id → the job (sealed JSON): state and history.
pub(crate) const JOBS: TableDefinition<&str, &[u8]> = TableDefinition::new("jobs");
/// job id → its quantized input (sealed JSON), while the job has not ended.
pub(crate) const INPUTS: TableDefinition<&str, &[u8]> = TableDefinition::new("inputs");
/// idempotency key → sealed "<job id> <request fingerprint>".
pub(crate) const IDEMPOTENCY: TableDefinition<&str, &[u8]> = TableDefinition::new("idempotency.v2");
/// job id → its receipt (sealed JSON).
pub(crate) const RECEIPTS: TableDefinition<&str, &[u8]> = TableDefinition::new("receipts.v2");
/// job id → submission sequence number, for every job that has not ended.
pub(crate) const UNFINISHED: TableDefinition<&str, u64> = TableDefinition::new("unfinished");
/// submission sequence number → job id, for every job that has ended (oldest first).
pub(crate) const FINISHED: TableDefinition<u64, &str> = TableDefinition::new("finished");
/// Counters: the next sequence number, and `count:<state>`.
pub(crate) const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// job id → a damaged record kept aside (JSON [`Quarantined`]).
pub(crate) const QUARANTINE: TableDefinition<&str, &[u8]> = TableDefinition::new("quarantine");
/// The tables of stores written before values were sealed (moved to the tables above when
/// such a store is opened).
const IDEMPOTENCY_V1: TableDefinition<&str, &str> = TableDefinition::new("idempotency");
const RECEIPTS_V1: TableDefinition<&str, &str> = TableDefinition::new("receipts");
/// The `meta` key set once every value of the store is sealed.
const SEALED: &str = "sealed";

/// The value of a job record or input stored before values were sealed, checked as it was
/// then: plain JSON, or a job record as `zkc1 ‖ blake3(json) ‖ json`.
fn legacy_value(tag: Tag, bytes: &[u8]) -> Option<&[u8]> {
    let json = match bytes.strip_prefix(b"zkc1".as_slice()) {
        Some(rest) if tag == Tag::Job => {
            let (sum, json) = rest.split_at_checked(32)?;
            (blake3::hash(json).as_bytes() == sum).then_some(json)?
        }
        Some(_) => return None,
        None if bytes.starts_with(record::MAGIC) => return None,
        None => bytes,
    };
    serde_json::from_slice::<serde::de::IgnoredAny>(json).ok()?;
    Some(json)
}

fn store_err(e: impl std::fmt::Display) -> WorkerError {
    WorkerError::Store(e.to_string())
}

/// The error for a stored value that does not read: it names the record.
pub(crate) fn damaged(tag: Tag, key: &str, why: impl std::fmt::Display) -> WorkerError {
    let what = match tag {
        Tag::Idempotency => format!("the stored entry of idempotency key `{key}`"),
        tag => format!("the stored {} of job {key}", tag.noun()),
    };
    WorkerError::Damaged(format!("{what} is corrupt: {why}"))
}

/// A stored value, its seal checked.
fn unseal<'a>(tag: Tag, key: &str, bytes: &'a [u8]) -> Result<&'a [u8], WorkerError> {
    record::open(tag, key, bytes).map_err(|d| damaged(tag, key, d))
}

/// A stored job record, checked: a flipped bit is an error naming the job, never a job served
/// wrong.
pub(crate) fn decode_job(job_id: &str, bytes: &[u8]) -> Result<JobRecord, WorkerError> {
    let json = unseal(Tag::Job, job_id, bytes)?;
    serde_json::from_slice(json).map_err(|e| damaged(Tag::Job, job_id, e))
}

/// A stored input, checked.
pub(crate) fn decode_input(job_id: &str, bytes: &[u8]) -> Result<Vec<i64>, WorkerError> {
    let json = unseal(Tag::Input, job_id, bytes)?;
    serde_json::from_slice(json).map_err(|e| damaged(Tag::Input, job_id, e))
}

/// A stored receipt, checked.
pub(crate) fn decode_receipt(job_id: &str, bytes: &[u8]) -> Result<String, WorkerError> {
    let json = unseal(Tag::Receipt, job_id, bytes)?;
    String::from_utf8(json.to_vec()).map_err(|e| damaged(Tag::Receipt, job_id, e))
}

/// A stored idempotency entry, checked: the job it names and the request's fingerprint.
pub(crate) fn decode_keyed(key: &str, bytes: &[u8]) -> Result<(String, String), WorkerError> {
    split_keyed(key, unseal(Tag::Idempotency, key, bytes)?)
}

/// An idempotency entry's value: "<job id> <request fingerprint>".
pub(crate) fn split_keyed(key: &str, entry: &[u8]) -> Result<(String, String), WorkerError> {
    let entry = std::str::from_utf8(entry).map_err(|e| damaged(Tag::Idempotency, key, e))?;
    let (id, fingerprint) = entry.split_once(' ').unwrap_or((entry, ""));
    Ok((id.to_string(), fingerprint.to_string()))
}

pub(crate) fn encode_job(job: &JobRecord) -> Result<Vec<u8>, WorkerError> {
    let json = serde_json::to_vec(job).map_err(store_err)?;
    Ok(record::seal(Tag::Job, &job.job_id, &json))
}

pub(crate) fn encode_input(job_id: &str, input: &[i64]) -> Result<Vec<u8>, WorkerError> {
    let json = serde_json::to_vec(input).map_err(store_err)?;
    Ok(record::seal(Tag::Input, job_id, &json))
}

fn count_key(state: JobState) -> String {
    format!("count:{}", state.as_str())
}

/// A damaged record kept aside: its job was failed with the reason, and its bytes are kept
/// for whoever wants to look (`zkw worker store check`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Quarantined {
    /// The job.
    pub job_id: String,
    /// What was wrong.
    pub reason: String,
    /// When it was put aside, in milliseconds since the Unix epoch.
    pub at_unix_ms: i64,
    /// The job record's bytes as they were found, hex (empty when it was missing).
    pub record: String,
    /// The input's bytes as they were found, hex (empty when it was missing).
    pub input: String,
}

/// A failed record standing in for a job whose own record was lost: its id, its submission
/// number and why are all that is known.
pub(crate) fn stand_in(job_id: &str, seq: u64, reason: &str) -> JobRecord {
    JobRecord {
        job_id: job_id.to_string(),
        model_id: String::new(),
        seq,
        input_salt: String::new(),
        input_digest: String::new(),
        client_nonce: String::new(),
        worker_id: String::new(),
        request: None,
        idempotency_key: None,
        state: JobState::Failed,
        history: vec![Transition {
            state: JobState::Failed,
            at_unix_ms: now_ms(),
            detail: reason.to_string(),
        }],
        attempts: 0,
        error: Some(reason.to_string()),
        cancel_requested: false,
        charged: false,
        batched: false,
        alone: false,
    }
}

/// What [`JobStore::recover`] found.
#[derive(Debug, Default)]
pub struct Recovered {
    /// Every unfinished job whose record and input read, in submission order.
    pub jobs: Vec<JobRecord>,
    /// The jobs quarantined instead, with the reason each was failed.
    pub quarantined: Vec<(String, String)>,
}

/// What [`JobStore::finish`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    /// The job succeeded; the receipt is stored.
    Succeeded(JobRecord),
    /// A client cancelled the job while it was proving: the receipt is dropped.
    Cancelled(JobRecord),
    /// The job had already ended (it never finishes twice).
    AlreadyEnded(JobRecord),
}

/// What [`JobStore::submit`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submitted {
    /// Stored as a new job.
    New(JobRecord),
    /// The idempotency key names this job, submitted with the same request.
    Existing(JobRecord),
}

/// The worker's jobs, persisted.
pub struct JobStore {
    db: Database,
    retain_finished: usize,
}

/// Opens a redb file with its pages checked: every page checksum of the committed trees is
/// verified (a file altered since redb wrote it is refused, where a plain open may trust it or
/// panic), and a panic inside redb on a damaged file becomes an error.
pub(crate) fn open_checked(path: &Path, create: bool) -> Result<Database, String> {
    let opened = std::panic::catch_unwind(|| {
        let mut builder = redb::Builder::new();
        builder.set_check_integrity_on_open(true);
        if create {
            builder.create(path)
        } else {
            builder.open(path)
        }
    });
    match opened {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(e)) => Err(e.to_string()),
        Err(panic) => Err(format!(
            "redb panicked reading it: {}",
            panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)")
        )),
    }
}

impl JobStore {
    /// Opens (or creates) the store at `path`, keeping at most `retain_finished` ended jobs.
    /// redb's pages are checked on open (see BENCHMARKS.md for what it costs), and a store
    /// written before values were sealed is converted.
    pub fn open(path: &Path, retain_finished: usize) -> Result<Self, WorkerError> {
        let db = open_checked(path, true).map_err(|e| {
            WorkerError::Damaged(format!(
                "{} cannot be opened: {e} — see what it holds with `zkw worker store check`, \
                 copy out what can be read with `zkw worker store salvage`",
                path.display()
            ))
        })?;
        #[cfg(unix)]
        {
            // It holds the clients' inputs and salts.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| WorkerError::io(path, e))?;
        }
        crate::fault::disk_full()?;
        let mut txn = db.begin_write().map_err(store_err)?;
        txn.set_two_phase_commit(true);
        {
            txn.open_table(JOBS).map_err(store_err)?;
            txn.open_table(INPUTS).map_err(store_err)?;
            txn.open_table(IDEMPOTENCY).map_err(store_err)?;
            txn.open_table(RECEIPTS).map_err(store_err)?;
            txn.open_table(UNFINISHED).map_err(store_err)?;
            txn.open_table(FINISHED).map_err(store_err)?;
            txn.open_table(META).map_err(store_err)?;
            txn.open_table(QUARANTINE).map_err(store_err)?;
            Self::migrate(&txn)?;
        }
        txn.commit().map_err(store_err)?;
        Ok(JobStore {
            db,
            retain_finished: retain_finished.max(1),
        })
    }

    /// Seals every value of a store written before values were sealed (once: `meta`
    /// remembers it). A legacy value that does not read is left as it is — and is then found
    /// damaged like any unsealed value.
    fn migrate(txn: &WriteTransaction) -> Result<(), WorkerError> {
        let mut meta = txn.open_table(META).map_err(store_err)?;
        if meta.get(SEALED).map_err(store_err)?.is_some() {
            return Ok(());
        }
        meta.insert(SEALED, 1).map_err(store_err)?;
        drop(meta);
        let names: Vec<String> = txn
            .list_tables()
            .map_err(store_err)?
            .map(|t| t.name().to_string())
            .collect();
        for (table, tag) in [(JOBS, Tag::Job), (INPUTS, Tag::Input)] {
            let mut t = txn.open_table(table).map_err(store_err)?;
            let mut sealed = Vec::new();
            for entry in t.iter().map_err(store_err)? {
                let (k, v) = entry.map_err(store_err)?;
                if let Some(value) = legacy_value(tag, v.value()) {
                    sealed.push((k.value().to_string(), record::seal(tag, k.value(), value)));
                }
            }
            for (k, v) in sealed {
                t.insert(k.as_str(), v.as_slice()).map_err(store_err)?;
            }
        }
        for (old, new, tag) in [
            (RECEIPTS_V1, RECEIPTS, Tag::Receipt),
            (IDEMPOTENCY_V1, IDEMPOTENCY, Tag::Idempotency),
        ] {
            if !names.iter().any(|n| n == old.name()) {
                continue;
            }
            let from = txn.open_table(old).map_err(store_err)?;
            let mut to = txn.open_table(new).map_err(store_err)?;
            for entry in from.iter().map_err(store_err)? {
                let (k, v) = entry.map_err(store_err)?;
                let sealed = record::seal(tag, k.value(), v.value().as_bytes());
                to.insert(k.value(), sealed.as_slice()).map_err(store_err)?;
            }
            drop((from, to));
            txn.delete_table(old).map_err(store_err)?;
        }
        Ok(())
    }

    /// A write transaction, committed in two phases: redb then never falls back to the commit
    /// before the last on its own (which with one-phase commits it does when the last one does
    /// not verify — after a torn write, or after damage, where it would silently drop an
    /// acknowledged job). A damaged last commit is refused instead, and `store salvage` reads
    /// what can be read.
    fn begin(&self) -> Result<WriteTransaction, WorkerError> {
        crate::fault::disk_full()?;
        let mut txn = self.db.begin_write().map_err(store_err)?;
        txn.set_two_phase_commit(true);
        Ok(txn)
    }

    /// Stores a new job with its input — or, when its idempotency key is known, returns the
    /// job the key names if the request's `fingerprint` is the same, and refuses it otherwise.
    /// Assigns the submission sequence number.
    pub fn submit(
        &self,
        mut job: JobRecord,
        input: &[i64],
        fingerprint: &str,
    ) -> Result<Submitted, WorkerError> {
        let txn = self.begin()?;
        let result = {
            if let Some(key) = &job.idempotency_key
                && let Some(existing) = Self::keyed(&txn, key, fingerprint)?
            {
                Submitted::Existing(existing)
            } else {
                let mut meta = txn.open_table(META).map_err(store_err)?;
                let seq = meta.get("seq").map_err(store_err)?.map_or(0, |v| v.value());
                meta.insert("seq", seq + 1).map_err(store_err)?;
                drop(meta);
                job.seq = seq;
                let id = job.job_id.as_str();
                let mut jobs = txn.open_table(JOBS).map_err(store_err)?;
                jobs.insert(id, encode_job(&job)?.as_slice())
                    .map_err(store_err)?;
                let mut inputs = txn.open_table(INPUTS).map_err(store_err)?;
                inputs
                    .insert(id, encode_input(id, input)?.as_slice())
                    .map_err(store_err)?;
                let mut unfinished = txn.open_table(UNFINISHED).map_err(store_err)?;
                unfinished.insert(id, seq).map_err(store_err)?;
                if let Some(key) = &job.idempotency_key {
                    let mut idem = txn.open_table(IDEMPOTENCY).map_err(store_err)?;
                    let entry = format!("{id} {fingerprint}");
                    let sealed = record::seal(Tag::Idempotency, key, entry.as_bytes());
                    idem.insert(key.as_str(), sealed.as_slice())
                        .map_err(store_err)?;
                }
                drop((jobs, inputs, unfinished));
                Self::add_count(&txn, job.state, 1)?;
                Submitted::New(job)
            }
        };
        txn.commit().map_err(store_err)?;
        Ok(result)
    }

    /// The job an idempotency key names, when the request is the same one (`None` for an
    /// unknown key; an error for a key used with another request).
    fn keyed(
        txn: &WriteTransaction,
        key: &str,
        fingerprint: &str,
    ) -> Result<Option<JobRecord>, WorkerError> {
        let idem = txn.open_table(IDEMPOTENCY).map_err(store_err)?;
        let Some(entry) = idem.get(key).map_err(store_err)? else {
            return Ok(None);
        };
        let (id, stored) = decode_keyed(key, entry.value())?;
        if stored != fingerprint {
            return Err(WorkerError::IdempotencyConflict(key.to_string()));
        }
        let jobs = txn.open_table(JOBS).map_err(store_err)?;
        let Some(bytes) = jobs.get(id.as_str()).map_err(store_err)? else {
            // Its job is gone (a damaged record dropped): the key is free again.
            tracing::warn!(key, job_id = %id, "an idempotency key named a missing job: freed");
            return Ok(None);
        };
        let job = decode_job(&id, bytes.value())?;
        if job.idempotency_key.as_deref() != Some(key) {
            // The key names a job submitted without it (a record rebuilt after damage, or a
            // salvaged entry gone wrong): never answered with another request's job.
            tracing::warn!(key, job_id = %id, "an idempotency key named a job of another key: freed");
            return Ok(None);
        }
        Ok(Some(job))
    }

    /// The job an idempotency key names, if the request is the same one (see
    /// [`JobStore::submit`]).
    pub fn by_idempotency_key(
        &self,
        key: &str,
        fingerprint: &str,
    ) -> Result<Option<JobRecord>, WorkerError> {
        let txn = self.begin()?;
        let job = Self::keyed(&txn, key, fingerprint)?;
        txn.abort().map_err(store_err)?;
        Ok(job)
    }

    /// A job, if it exists.
    pub fn get(&self, job_id: &str) -> Result<Option<JobRecord>, WorkerError> {
        let txn = self.db.begin_read().map_err(store_err)?;
        let jobs = txn.open_table(JOBS).map_err(store_err)?;
        let job = jobs.get(job_id).map_err(store_err)?;
        job.map(|b| decode_job(job_id, b.value())).transpose()
    }

    /// A job's quantized input, while the job has not ended.
    pub fn input(&self, job_id: &str) -> Result<Option<Vec<i64>>, WorkerError> {
        let txn = self.db.begin_read().map_err(store_err)?;
        let inputs = txn.open_table(INPUTS).map_err(store_err)?;
        let input = inputs.get(job_id).map_err(store_err)?;
        input.map(|b| decode_input(job_id, b.value())).transpose()
    }

    fn add_count(txn: &WriteTransaction, state: JobState, delta: i64) -> Result<(), WorkerError> {
        let mut meta = txn.open_table(META).map_err(store_err)?;
        let key = count_key(state);
        let n = meta
            .get(key.as_str())
            .map_err(store_err)?
            .map_or(0, |v| v.value());
        meta.insert(key.as_str(), n.saturating_add_signed(delta))
            .map_err(store_err)?;
        Ok(())
    }

    /// Writes a changed job and keeps the indexes, counts and retention true.
    fn write(
        &self,
        txn: &WriteTransaction,
        before: JobState,
        job: &JobRecord,
    ) -> Result<(), WorkerError> {
        let id = job.job_id.as_str();
        let mut jobs = txn.open_table(JOBS).map_err(store_err)?;
        jobs.insert(id, encode_job(job)?.as_slice())
            .map_err(store_err)?;
        drop(jobs);
        if before == job.state {
            return Ok(());
        }
        Self::add_count(txn, before, -1)?;
        Self::add_count(txn, job.state, 1)?;
        if job.state.is_terminal() && !before.is_terminal() {
            Self::index_ended(txn, job)?;
            self.prune(txn)?;
        }
        Ok(())
    }

    /// Moves an ended job from the unfinished index to the finished one, dropping its input.
    fn index_ended(txn: &WriteTransaction, job: &JobRecord) -> Result<(), WorkerError> {
        let id = job.job_id.as_str();
        let mut unfinished = txn.open_table(UNFINISHED).map_err(store_err)?;
        unfinished.remove(id).map_err(store_err)?;
        let mut inputs = txn.open_table(INPUTS).map_err(store_err)?;
        inputs.remove(id).map_err(store_err)?;
        let mut finished = txn.open_table(FINISHED).map_err(store_err)?;
        finished.insert(job.seq, id).map_err(store_err)?;
        Ok(())
    }

    /// Drops the oldest ended jobs beyond the bound, with their receipts and keys.
    fn prune(&self, txn: &WriteTransaction) -> Result<(), WorkerError> {
        let mut finished = txn.open_table(FINISHED).map_err(store_err)?;
        let mut jobs = txn.open_table(JOBS).map_err(store_err)?;
        let mut receipts = txn.open_table(RECEIPTS).map_err(store_err)?;
        let mut idem = txn.open_table(IDEMPOTENCY).map_err(store_err)?;
        while finished.len().map_err(store_err)? > self.retain_finished as u64 {
            let Some((_, id)) = finished.pop_first().map_err(store_err)? else {
                break;
            };
            let id = id.value().to_string();
            let job = jobs.remove(id.as_str()).map_err(store_err)?;
            // A damaged old record is dropped all the same: its key and count cannot be
            // known, and retention must not stop on it.
            if let Some(job) = job
                && let Ok(job) = decode_job(&id, job.value())
            {
                if let Some(key) = &job.idempotency_key {
                    idem.remove(key.as_str()).map_err(store_err)?;
                }
                Self::add_count(txn, job.state, -1)?;
            }
            receipts.remove(id.as_str()).map_err(store_err)?;
        }
        Ok(())
    }

    /// A job, read inside a write transaction.
    fn load(txn: &WriteTransaction, job_id: &str) -> Result<JobRecord, WorkerError> {
        let jobs = txn.open_table(JOBS).map_err(store_err)?;
        let job = jobs.get(job_id).map_err(store_err)?;
        match job {
            Some(b) => decode_job(job_id, b.value()),
            None => Err(WorkerError::UnknownJob(job_id.to_string())),
        }
    }

    /// Changes a job in one transaction: `change` sees the stored job and returns whether to
    /// write it back. Returns the job as it is afterwards.
    pub fn update(
        &self,
        job_id: &str,
        change: impl FnOnce(&mut JobRecord) -> bool,
    ) -> Result<JobRecord, WorkerError> {
        let txn = self.begin()?;
        let mut job = Self::load(&txn, job_id)?;
        let before = job.state;
        if change(&mut job) {
            self.write(&txn, before, &job)?;
        }
        txn.commit().map_err(store_err)?;
        Ok(job)
    }

    /// Ends a proved job: stores the receipt and `Succeeded` together — unless the job already
    /// ended (never twice) or a client cancelled it meanwhile.
    pub fn finish(&self, job_id: &str, receipt_json: &str) -> Result<Finish, WorkerError> {
        let txn = self.begin()?;
        let mut job = Self::load(&txn, job_id)?;
        let before = job.state;
        let finish = if job.state.is_terminal() {
            Finish::AlreadyEnded(job)
        } else if !job.succeed() {
            // A client cancelled it meanwhile.
            self.write(&txn, before, &job)?;
            Finish::Cancelled(job)
        } else {
            let mut receipts = txn.open_table(RECEIPTS).map_err(store_err)?;
            let sealed = record::seal(Tag::Receipt, job_id, receipt_json.as_bytes());
            receipts
                .insert(job_id, sealed.as_slice())
                .map_err(store_err)?;
            drop(receipts);
            self.write(&txn, before, &job)?;
            Finish::Succeeded(job)
        };
        txn.commit().map_err(store_err)?;
        Ok(finish)
    }

    /// A job's receipt, if it succeeded (and is still kept).
    pub fn receipt(&self, job_id: &str) -> Result<Option<String>, WorkerError> {
        let txn = self.db.begin_read().map_err(store_err)?;
        let receipts = txn.open_table(RECEIPTS).map_err(store_err)?;
        let r = receipts.get(job_id).map_err(store_err)?;
        r.map(|v| decode_receipt(job_id, v.value())).transpose()
    }

    /// Every job that has not ended, in submission order, with its input checked (read
    /// through the index: ended jobs cost nothing here). A job whose record or input is
    /// damaged or missing is quarantined — kept aside, its job failed with the reason — so
    /// that one bad record never stops the worker from starting.
    pub fn recover(&self) -> Result<Recovered, WorkerError> {
        let mut found = Recovered::default();
        // (job id, seq, what was wrong, the record if it read, raw record, raw input)
        type Bad = (String, u64, String, Option<JobRecord>, Vec<u8>, Vec<u8>);
        let mut bad: Vec<Bad> = Vec::new();
        {
            let txn = self.db.begin_read().map_err(store_err)?;
            let index = txn.open_table(UNFINISHED).map_err(store_err)?;
            let jobs = txn.open_table(JOBS).map_err(store_err)?;
            let inputs = txn.open_table(INPUTS).map_err(store_err)?;
            for entry in index.iter().map_err(store_err)? {
                let (id, seq) = entry.map_err(store_err)?;
                let (id, seq) = (id.value().to_string(), seq.value());
                let raw_job = jobs.get(id.as_str()).map_err(store_err)?;
                let raw_job = raw_job.map(|b| b.value().to_vec());
                let raw_input = inputs.get(id.as_str()).map_err(store_err)?;
                let raw_input = raw_input.map(|b| b.value().to_vec());
                let job = raw_job.as_deref().map(|b| decode_job(&id, b));
                let input = raw_input.as_deref().map(|b| decode_input(&id, b));
                let why = match (&job, &input) {
                    (None, _) => Some(format!("the stored record of job {id} is missing")),
                    (Some(Err(e)), _) => Some(e.to_string()),
                    (Some(Ok(j)), _) if j.state.is_terminal() => {
                        // Ended, but still indexed as unfinished: only the index is wrong.
                        Some(format!("job {id} is indexed as unfinished but has ended"))
                    }
                    (_, None) => Some(format!("the stored input of job {id} is missing")),
                    (_, Some(Err(e))) => Some(e.to_string()),
                    (Some(Ok(_)), Some(Ok(_))) => None,
                };
                match why {
                    None => found.jobs.push(job.and_then(Result::ok).expect("read")),
                    Some(why) => bad.push((
                        id,
                        seq,
                        why,
                        job.and_then(Result::ok),
                        raw_job.unwrap_or_default(),
                        raw_input.unwrap_or_default(),
                    )),
                }
            }
        }
        if !bad.is_empty() {
            let txn = self.begin()?;
            for (id, seq, why, job, raw_job, raw_input) in bad {
                self.quarantine_in(&txn, &id, seq, &why, job, &raw_job, &raw_input)?;
                found.quarantined.push((id, why));
            }
            txn.commit().map_err(store_err)?;
            // A record that did not read had a state that cannot be known.
            self.recount_unfinished()?;
        }
        found.jobs.sort_by_key(|j| j.seq);
        Ok(found)
    }

    /// Quarantines a job whose input turned out damaged while it ran: the bytes are kept
    /// aside and the job fails with the reason. Returns the job as it is afterwards.
    pub fn quarantine(&self, job_id: &str, why: &str) -> Result<JobRecord, WorkerError> {
        let txn = self.begin()?;
        let raw = |table: TableDefinition<&str, &[u8]>| -> Result<Vec<u8>, WorkerError> {
            let t = txn.open_table(table).map_err(store_err)?;
            let raw = t.get(job_id).map_err(store_err)?;
            Ok(raw.map(|b| b.value().to_vec()).unwrap_or_default())
        };
        let (raw_job, raw_input) = (raw(JOBS)?, raw(INPUTS)?);
        let (job, seq) = match Self::load(&txn, job_id) {
            Ok(job) => {
                let seq = job.seq;
                (Some(job), seq)
            }
            // Its record is the damaged part: the index knows its number, if it had not ended.
            Err(WorkerError::Damaged(_)) => {
                let index = txn.open_table(UNFINISHED).map_err(store_err)?;
                let seq = index.get(job_id).map_err(store_err)?.map(|v| v.value());
                drop(index);
                match seq {
                    Some(seq) => (None, seq),
                    None => return Err(WorkerError::UnknownJob(job_id.to_string())),
                }
            }
            Err(e) => return Err(e),
        };
        let job = self.quarantine_in(&txn, job_id, seq, why, job, &raw_job, &raw_input)?;
        txn.commit().map_err(store_err)?;
        if job.state == JobState::Failed {
            // The unfinished counts may have held it in a state that cannot be known now.
            self.recount_unfinished()?;
        }
        Ok(job)
    }

    /// Counts the unfinished states again from the unfinished jobs.
    fn recount_unfinished(&self) -> Result<(), WorkerError> {
        let txn = self.begin()?;
        let mut counts: BTreeMap<JobState, u64> = BTreeMap::new();
        {
            let index = txn.open_table(UNFINISHED).map_err(store_err)?;
            let jobs = txn.open_table(JOBS).map_err(store_err)?;
            for entry in index.iter().map_err(store_err)? {
                let (id, _) = entry.map_err(store_err)?;
                if let Some(b) = jobs.get(id.value()).map_err(store_err)?
                    && let Ok(job) = decode_job(id.value(), b.value())
                {
                    *counts.entry(job.state).or_default() += 1;
                }
            }
            let mut meta = txn.open_table(META).map_err(store_err)?;
            for state in JobState::ALL.into_iter().filter(|s| !s.is_terminal()) {
                let n = counts.get(&state).copied().unwrap_or(0);
                meta.insert(count_key(state).as_str(), n)
                    .map_err(store_err)?;
            }
        }
        txn.commit().map_err(store_err)?;
        Ok(())
    }

    /// Keeps a damaged job's bytes aside and fails the job with the reason: the record itself
    /// when it read (its input was the damaged part), else a record rebuilt from what the
    /// index knows (its id and submission number).
    #[allow(clippy::too_many_arguments)]
    fn quarantine_in(
        &self,
        txn: &WriteTransaction,
        job_id: &str,
        seq: u64,
        why: &str,
        job: Option<JobRecord>,
        raw_job: &[u8],
        raw_input: &[u8],
    ) -> Result<JobRecord, WorkerError> {
        let kept = Quarantined {
            job_id: job_id.to_string(),
            reason: why.to_string(),
            at_unix_ms: now_ms(),
            record: hex::encode(raw_job),
            input: hex::encode(raw_input),
        };
        let mut q = txn.open_table(QUARANTINE).map_err(store_err)?;
        q.insert(
            job_id,
            serde_json::to_vec(&kept).map_err(store_err)?.as_slice(),
        )
        .map_err(store_err)?;
        drop(q);
        let reason = format!("{why} (its bytes are kept aside: zkw worker store check)");
        match job {
            Some(mut job) if !job.state.is_terminal() => {
                let before = job.state;
                job.abandon(&reason);
                self.write(txn, before, &job)?;
                Ok(job)
            }
            Some(job) => {
                // Ended already: only the index was wrong.
                Self::index_ended(txn, &job)?;
                Ok(job)
            }
            None => {
                let job = stand_in(job_id, seq, &reason);
                let mut jobs = txn.open_table(JOBS).map_err(store_err)?;
                jobs.insert(job_id, encode_job(&job)?.as_slice())
                    .map_err(store_err)?;
                drop(jobs);
                Self::add_count(txn, JobState::Failed, 1)?;
                Self::index_ended(txn, &job)?;
                self.prune(txn)?;
                Ok(job)
            }
        }
    }

    /// The records kept aside, by job.
    pub fn quarantined(&self) -> Result<Vec<Quarantined>, WorkerError> {
        let txn = self.db.begin_read().map_err(store_err)?;
        let q = txn.open_table(QUARANTINE).map_err(store_err)?;
        let mut out = Vec::new();
        for entry in q.iter().map_err(store_err)? {
            let (_, v) = entry.map_err(store_err)?;
            out.push(serde_json::from_slice(v.value()).map_err(store_err)?);
        }
        Ok(out)
    }

    /// How many kept jobs are in each state.
    pub fn counts(&self) -> Result<BTreeMap<JobState, usize>, WorkerError> {
        let txn = self.db.begin_read().map_err(store_err)?;
        let meta = txn.open_table(META).map_err(store_err)?;
        let mut counts = BTreeMap::new();
        for state in JobState::ALL {
            let n = meta
                .get(count_key(state).as_str())
                .map_err(store_err)?
                .map_or(0, |v| v.value());
            counts.insert(state, n as usize);
        }
        Ok(counts)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The jobs a start would resume, by id.
    pub(super) fn resumed(s: &JobStore) -> Vec<String> {
        s.recover()
            .unwrap()
            .jobs
            .into_iter()
            .map(|j| j.job_id)
            .collect()
    }

    /// A queued job of model `m`, worker `w`: the record every worker unit test builds on.
    pub(crate) fn job(id: &str, key: Option<&str>) -> JobRecord {
        JobRecord {
            job_id: id.into(),
            model_id: "m".into(),
            seq: 0,
            input_salt: "00".repeat(31),
            input_digest: "d".into(),
            client_nonce: "n".into(),
            worker_id: "w".into(),
            idempotency_key: key.map(String::from),
            request: None,
            state: JobState::Queued,
            history: vec![],
            attempts: 0,
            error: None,
            cancel_requested: false,
            charged: false,
            batched: false,
            alone: false,
        }
        .accept()
    }

    fn new(s: Submitted) -> JobRecord {
        match s {
            Submitted::New(j) => j,
            other => panic!("not new: {other:?}"),
        }
    }

    fn raw(s: &JobStore, table: TableDefinition<&str, &[u8]>, key: &str) -> Vec<u8> {
        let txn = s.db.begin_read().unwrap();
        let t = txn.open_table(table).unwrap();
        t.get(key).unwrap().unwrap().value().to_vec()
    }

    fn put(s: &JobStore, table: TableDefinition<&str, &[u8]>, key: &str, bytes: &[u8]) {
        let txn = s.db.begin_write().unwrap();
        txn.open_table(table).unwrap().insert(key, bytes).unwrap();
        txn.commit().unwrap();
    }

    /// Every stored value is sealed: one flipped bit anywhere in a job record — inside a
    /// string, where the JSON would still parse — or in an input, a receipt or an idempotency
    /// entry is an error naming it (DATA_LOSS), never data served; a record moved under
    /// another job's key does not read there either.
    #[test]
    fn a_flipped_bit_in_any_stored_value_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let s = JobStore::open(&dir.path().join("jobs.redb"), 100).unwrap();
        new(s.submit(job("a", Some("k")), &[1], "f").unwrap());
        new(s.submit(job("b", None), &[2], "f").unwrap());
        let stored = raw(&s, JOBS, "a");
        assert!(stored.starts_with(record::MAGIC));
        // The client nonce "n" changed to "o": valid JSON, another job.
        let at = stored.windows(5).position(|w| w == b"\"n\",\"").unwrap() + 1;
        let mut flipped = stored.clone();
        flipped[at] ^= 0x01;
        put(&s, JOBS, "a", &flipped);
        let e = s.get("a").unwrap_err();
        assert!(matches!(e, WorkerError::Damaged(_)));
        assert_eq!(
            e.to_string(),
            "job store: the stored record of job a is corrupt: its checksum does not match"
        );
        put(&s, JOBS, "a", &stored[..10]);
        assert!(s.get("a").unwrap_err().to_string().contains("cut short"));
        // b's record under a's key.
        put(&s, JOBS, "a", &raw(&s, JOBS, "b"));
        assert_eq!(
            s.get("a").unwrap_err().to_string(),
            "job store: the stored record of job a is corrupt: it was sealed as the record of `b`"
        );
        put(&s, JOBS, "a", &stored);
        assert_eq!(s.get("a").unwrap().unwrap().client_nonce, "n");

        let input = raw(&s, INPUTS, "a");
        let mut bad = input.clone();
        *bad.last_mut().unwrap() ^= 0x02;
        put(&s, INPUTS, "a", &bad);
        assert_eq!(
            s.input("a").unwrap_err().to_string(),
            "job store: the stored input of job a is corrupt: its checksum does not match"
        );
        put(&s, INPUTS, "a", b"[1]");
        assert_eq!(
            s.input("a").unwrap_err().to_string(),
            "job store: the stored input of job a is corrupt: it carries no seal"
        );
        put(&s, INPUTS, "a", &input);

        let entry = raw(&s, IDEMPOTENCY, "k");
        let mut bad = entry.clone();
        *bad.last_mut().unwrap() ^= 0x01;
        put(&s, IDEMPOTENCY, "k", &bad);
        assert_eq!(
            s.by_idempotency_key("k", "f").unwrap_err().to_string(),
            "job store: the stored entry of idempotency key `k` is corrupt: its checksum does \
             not match"
        );
        put(&s, IDEMPOTENCY, "k", &entry);

        assert!(matches!(
            s.finish("a", "{\"r\":1}").unwrap(),
            Finish::Succeeded(_)
        ));
        let receipt = raw(&s, RECEIPTS, "a");
        let mut bad = receipt.clone();
        let n = bad.len();
        bad[n - 2] ^= 0x04;
        put(&s, RECEIPTS, "a", &bad);
        assert_eq!(
            s.receipt("a").unwrap_err().to_string(),
            "job store: the stored receipt of job a is corrupt: its checksum does not match"
        );
    }

    /// A store written before values were sealed (plain JSON, a `zkc1` job record, the v1
    /// receipt and idempotency tables) is sealed when opened, once; a legacy value that does
    /// not read stays as it is and is then found damaged.
    #[test]
    fn an_unsealed_store_is_sealed_when_opened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.redb");
        let a = serde_json::to_vec(&job("a", Some("k"))).unwrap();
        let mut b_zkc1 = b"zkc1".to_vec();
        let b = serde_json::to_vec(&job("b", None)).unwrap();
        b_zkc1.extend_from_slice(blake3::hash(&b).as_bytes());
        b_zkc1.extend_from_slice(&b);
        let mut c_bad = b_zkc1.clone();
        *c_bad.last_mut().unwrap() ^= 1;
        {
            let db = Database::create(&path).unwrap();
            let txn = db.begin_write().unwrap();
            {
                let mut jobs = txn.open_table(JOBS).unwrap();
                jobs.insert("a", a.as_slice()).unwrap();
                jobs.insert("b", b_zkc1.as_slice()).unwrap();
                jobs.insert("c", c_bad.as_slice()).unwrap();
                let mut inputs = txn.open_table(INPUTS).unwrap();
                inputs.insert("a", b"[7,8]".as_slice()).unwrap();
                let mut receipts = txn.open_table(RECEIPTS_V1).unwrap();
                receipts.insert("a", "{\"receipt\":1}").unwrap();
                let mut keys = txn.open_table(IDEMPOTENCY_V1).unwrap();
                keys.insert("k", "a f").unwrap();
            }
            txn.commit().unwrap();
        }
        let s = JobStore::open(&path, 100).unwrap();
        assert_eq!(s.get("a").unwrap().unwrap().job_id, "a");
        assert_eq!(s.get("b").unwrap().unwrap().job_id, "b");
        assert!(s.get("c").unwrap_err().to_string().contains("job c"));
        assert_eq!(s.input("a").unwrap(), Some(vec![7, 8]));
        assert_eq!(s.receipt("a").unwrap().as_deref(), Some("{\"receipt\":1}"));
        assert_eq!(s.by_idempotency_key("k", "f").unwrap().unwrap().job_id, "a");
        for (t, k) in [(JOBS, "a"), (JOBS, "b"), (INPUTS, "a"), (RECEIPTS, "a")] {
            assert!(raw(&s, t, k).starts_with(record::MAGIC), "{k}");
        }
        drop(s);
        // Sealed once: a value that reads as plain JSON later is damage, not a legacy value.
        let s = JobStore::open(&path, 100).unwrap();
        put(&s, INPUTS, "a", b"[7,8]");
        assert!(matches!(s.input("a"), Err(WorkerError::Damaged(_))));
    }

    /// Recovery quarantines what does not read — a damaged record, a damaged input, a missing
    /// input, a missing record — fails each such job with the reason, keeps its bytes, and
    /// resumes the rest; the counts stay true.
    #[test]
    fn recovery_quarantines_damaged_jobs_and_resumes_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let s = JobStore::open(&dir.path().join("jobs.redb"), 100).unwrap();
        for id in ["a", "b", "c", "d", "e"] {
            new(s.submit(job(id, None), &[1], "f").unwrap());
        }
        s.update("a", |j| {
            j.start(u32::MAX);
            true
        })
        .unwrap();
        let mut bad = raw(&s, JOBS, "a");
        *bad.last_mut().unwrap() ^= 1;
        put(&s, JOBS, "a", &bad);
        let mut bad_input = raw(&s, INPUTS, "b");
        *bad_input.last_mut().unwrap() ^= 1;
        put(&s, INPUTS, "b", &bad_input);
        {
            let txn = s.db.begin_write().unwrap();
            txn.open_table(INPUTS).unwrap().remove("c").unwrap();
            txn.open_table(JOBS).unwrap().remove("d").unwrap();
            txn.commit().unwrap();
        }
        let r = s.recover().unwrap();
        let resumed: Vec<_> = r.jobs.iter().map(|j| j.job_id.as_str()).collect();
        assert_eq!(resumed, ["e"]);
        let reasons: BTreeMap<_, _> = r.quarantined.into_iter().collect();
        assert_eq!(
            reasons["a"],
            "job store: the stored record of job a is corrupt: its checksum does not match"
        );
        assert_eq!(
            reasons["b"],
            "job store: the stored input of job b is corrupt: its checksum does not match"
        );
        assert_eq!(reasons["c"], "the stored input of job c is missing");
        assert_eq!(reasons["d"], "the stored record of job d is missing");
        for id in ["a", "b", "c", "d"] {
            let j = s.get(id).unwrap().unwrap();
            assert_eq!(j.state, JobState::Failed, "{id}");
            assert!(j.error.unwrap().starts_with(&reasons[id]), "{id}");
        }
        // b's own record was kept (only its input was bad).
        assert_eq!(s.get("b").unwrap().unwrap().model_id, "m");
        let kept = s.quarantined().unwrap();
        assert_eq!(kept.len(), 4);
        let a = kept.iter().find(|q| q.job_id == "a").unwrap();
        assert_eq!(hex::decode(&a.record).unwrap(), bad);
        let counts = s.counts().unwrap();
        assert_eq!(counts[&JobState::Failed], 4);
        assert_eq!(counts[&JobState::Queued], 1);
        assert_eq!(counts[&JobState::Running], 0);
        // Nothing left to quarantine on the next start.
        let again = s.recover().unwrap();
        assert!(again.quarantined.is_empty());
        assert_eq!(again.jobs.len(), 1);
    }

    /// A job whose record is damaged while the worker runs is quarantined on the spot: a
    /// failed stand-in at its number, the unfinished counts recounted; and an idempotency key
    /// naming a job that does not carry it (or no job) is free again, never answered with
    /// that job.
    #[test]
    fn a_record_damaged_while_running_is_quarantined_and_stale_keys_are_freed() {
        let dir = tempfile::tempdir().unwrap();
        let s = JobStore::open(&dir.path().join("jobs.redb"), 100).unwrap();
        new(s.submit(job("a", Some("k")), &[1], "f").unwrap());
        new(s.submit(job("b", None), &[2], "f").unwrap());
        let mut bad = raw(&s, JOBS, "b");
        *bad.last_mut().unwrap() ^= 1;
        put(&s, JOBS, "b", &bad);
        assert!(matches!(
            s.update("b", |_| true),
            Err(WorkerError::Damaged(_))
        ));
        let q = s.quarantine("b", "damaged").unwrap();
        assert_eq!((q.state, q.seq), (JobState::Failed, 1));
        assert_eq!(s.quarantined().unwrap()[0].record, hex::encode(&bad));
        let counts = s.counts().unwrap();
        assert_eq!(
            (counts[&JobState::Queued], counts[&JobState::Failed]),
            (1, 1)
        );
        assert!(matches!(
            s.quarantine("zz", "x"),
            Err(WorkerError::UnknownJob(_))
        ));
        // "k" pointed at b (which does not carry it), then at no job: free either way, and a
        // submit with it is a new job.
        put(
            &s,
            IDEMPOTENCY,
            "k",
            &record::seal(Tag::Idempotency, "k", b"b f"),
        );
        assert!(s.by_idempotency_key("k", "f").unwrap().is_none());
        put(
            &s,
            IDEMPOTENCY,
            "k",
            &record::seal(Tag::Idempotency, "k", b"gone f"),
        );
        assert!(s.by_idempotency_key("k", "f").unwrap().is_none());
        assert!(matches!(
            s.submit(job("c", Some("k")), &[3], "f").unwrap(),
            Submitted::New(_)
        ));
        assert_eq!(s.by_idempotency_key("k", "f").unwrap().unwrap().job_id, "c");
    }

    #[test]
    fn jobs_survive_reopening_and_finish_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.redb");
        {
            let s = JobStore::open(&path, 100).unwrap();
            let a = new(s.submit(job("a", Some("k1")), &[1, 2], "f1").unwrap());
            assert_eq!(a.seq, 0);
            let b = new(s.submit(job("b", None), &[3], "f2").unwrap());
            assert_eq!(b.seq, 1);
            // The same key and request: the same job, not a new one.
            assert_eq!(
                s.by_idempotency_key("k1", "f1").unwrap().unwrap().job_id,
                "a"
            );
            assert!(s.by_idempotency_key("k2", "f1").unwrap().is_none());
            match s.submit(job("c", Some("k1")), &[9], "f1").unwrap() {
                Submitted::Existing(j) => assert_eq!(j.job_id, "a"),
                other => panic!("{other:?}"),
            }
            assert!(s.get("c").unwrap().is_none());
            // The same key with another request: refused.
            assert!(matches!(
                s.submit(job("d", Some("k1")), &[9], "other"),
                Err(WorkerError::IdempotencyConflict(_))
            ));
            assert!(matches!(
                s.by_idempotency_key("k1", "other"),
                Err(WorkerError::IdempotencyConflict(_))
            ));
            s.update("a", |j| {
                j.start(u32::MAX);
                j.take_for_proving()
            })
            .unwrap();
        }
        let s = JobStore::open(&path, 100).unwrap();
        assert_eq!(s.get("a").unwrap().unwrap().state, JobState::Proving);
        assert_eq!(s.input("a").unwrap(), Some(vec![1, 2]));
        assert_eq!(resumed(&s), ["a", "b"]);
        let counts = s.counts().unwrap();
        assert_eq!(
            (counts[&JobState::Queued], counts[&JobState::Proving]),
            (1, 1)
        );
        assert!(matches!(s.finish("a", "{}").unwrap(), Finish::Succeeded(_)));
        assert!(matches!(
            s.finish("a", "{2}").unwrap(),
            Finish::AlreadyEnded(_)
        ));
        assert_eq!(s.receipt("a").unwrap().as_deref(), Some("{}"));
        assert_eq!(
            s.input("a").unwrap(),
            None,
            "an ended job's input is dropped"
        );
        assert_eq!(s.recover().unwrap().jobs.len(), 1);
        s.update("b", |j| {
            j.cancel_requested = true;
            true
        })
        .unwrap();
        assert!(matches!(s.finish("b", "{}").unwrap(), Finish::Cancelled(_)));
        assert!(s.receipt("b").unwrap().is_none());
        let counts = s.counts().unwrap();
        assert_eq!(counts[&JobState::Succeeded], 1);
        assert_eq!(counts[&JobState::Cancelled], 1);
        assert_eq!(counts[&JobState::Queued] + counts[&JobState::Proving], 0);
        assert!(matches!(
            s.update("zz", |_| true),
            Err(WorkerError::UnknownJob(_))
        ));
        assert!(
            s.get("a")
                .unwrap()
                .unwrap()
                .history
                .last()
                .unwrap()
                .at_unix_ms
                <= now_ms()
        );
    }

    #[test]
    fn ended_jobs_are_kept_up_to_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let s = JobStore::open(&dir.path().join("jobs.redb"), 2).unwrap();
        for (i, id) in ["a", "b", "c", "d"].iter().enumerate() {
            let key = format!("k{i}");
            new(s.submit(job(id, Some(&key)), &[i as i64], "f").unwrap());
            assert!(matches!(s.finish(id, "{}").unwrap(), Finish::Succeeded(_)));
        }
        // The two oldest are gone with their receipts and keys; the two newest are kept.
        for id in ["a", "b"] {
            assert!(s.get(id).unwrap().is_none(), "{id}");
            assert!(s.receipt(id).unwrap().is_none(), "{id}");
        }
        assert!(s.by_idempotency_key("k0", "f").unwrap().is_none());
        for id in ["c", "d"] {
            assert!(s.receipt(id).unwrap().is_some(), "{id}");
        }
        assert_eq!(s.counts().unwrap()[&JobState::Succeeded], 2);
    }
}
