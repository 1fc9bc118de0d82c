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
    Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition,
    WriteTransaction,
};

use crate::error::WorkerError;
use crate::job::{JobRecord, JobState};

/// job id → the job (JSON): state and history.
const JOBS: TableDefinition<&str, &[u8]> = TableDefinition::new("jobs");
/// job id → its quantized input (JSON), while the job has not ended.
const INPUTS: TableDefinition<&str, &[u8]> = TableDefinition::new("inputs");
/// idempotency key → "<job id> <request fingerprint>".
const IDEMPOTENCY: TableDefinition<&str, &str> = TableDefinition::new("idempotency");
/// job id → receipt (JSON).
const RECEIPTS: TableDefinition<&str, &str> = TableDefinition::new("receipts");
/// job id → submission sequence number, for every job that has not ended.
const UNFINISHED: TableDefinition<&str, u64> = TableDefinition::new("unfinished");
/// submission sequence number → job id, for every job that has ended (oldest first).
const FINISHED: TableDefinition<u64, &str> = TableDefinition::new("finished");
/// Counters: the next sequence number, and `count:<state>`.
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

fn store_err(e: impl std::fmt::Display) -> WorkerError {
    WorkerError::Store(e.to_string())
}

/// The first bytes of a job record written with its checksum.
const CHECKED: &[u8] = b"zkc1";

/// A stored job record, checked: `zkc1 ‖ blake3(json) ‖ json`, the checksum verified (a
/// flipped bit is an error naming the job, never a job served wrong); a record written before
/// checksums (plain JSON) reads as it is and gains one at its next write.
fn decode(job_id: &str, bytes: &[u8]) -> Result<JobRecord, WorkerError> {
    let corrupt = |why: String| {
        store_err(format!(
            "the stored record of job {job_id} is corrupt: {why}"
        ))
    };
    let json = match bytes.strip_prefix(CHECKED) {
        Some(rest) if rest.len() >= 32 => {
            let (sum, json) = rest.split_at(32);
            if blake3::hash(json).as_bytes() != sum {
                return Err(corrupt("its checksum does not match".into()));
            }
            json
        }
        Some(_) => return Err(corrupt("it is cut short".into())),
        None => bytes,
    };
    serde_json::from_slice(json).map_err(|e| corrupt(e.to_string()))
}

fn encode(job: &JobRecord) -> Result<Vec<u8>, WorkerError> {
    let json = serde_json::to_vec(job).map_err(store_err)?;
    let mut out = Vec::with_capacity(CHECKED.len() + 32 + json.len());
    out.extend_from_slice(CHECKED);
    out.extend_from_slice(blake3::hash(&json).as_bytes());
    out.extend_from_slice(&json);
    Ok(out)
}

fn count_key(state: JobState) -> String {
    format!("count:{}", state.as_str())
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

impl JobStore {
    /// Opens (or creates) the store at `path`, keeping at most `retain_finished` ended jobs.
    pub fn open(path: &Path, retain_finished: usize) -> Result<Self, WorkerError> {
        let db = Database::create(path)
            .map_err(|e| store_err(format!("opening {}: {e}", path.display())))?;
        #[cfg(unix)]
        {
            // It holds the clients' inputs and salts.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| WorkerError::io(path, e))?;
        }
        let txn = db.begin_write().map_err(store_err)?;
        {
            txn.open_table(JOBS).map_err(store_err)?;
            txn.open_table(INPUTS).map_err(store_err)?;
            txn.open_table(IDEMPOTENCY).map_err(store_err)?;
            txn.open_table(RECEIPTS).map_err(store_err)?;
            txn.open_table(UNFINISHED).map_err(store_err)?;
            txn.open_table(FINISHED).map_err(store_err)?;
            txn.open_table(META).map_err(store_err)?;
        }
        txn.commit().map_err(store_err)?;
        Ok(JobStore {
            db,
            retain_finished: retain_finished.max(1),
        })
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
        let txn = self.db.begin_write().map_err(store_err)?;
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
                jobs.insert(id, encode(&job)?.as_slice())
                    .map_err(store_err)?;
                let input = serde_json::to_vec(input).map_err(store_err)?;
                let mut inputs = txn.open_table(INPUTS).map_err(store_err)?;
                inputs.insert(id, input.as_slice()).map_err(store_err)?;
                let mut unfinished = txn.open_table(UNFINISHED).map_err(store_err)?;
                unfinished.insert(id, seq).map_err(store_err)?;
                if let Some(key) = &job.idempotency_key {
                    let mut idem = txn.open_table(IDEMPOTENCY).map_err(store_err)?;
                    idem.insert(key.as_str(), format!("{id} {fingerprint}").as_str())
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
        let entry = entry.value().to_string();
        let (id, stored) = entry.split_once(' ').unwrap_or((entry.as_str(), ""));
        if stored != fingerprint {
            return Err(WorkerError::IdempotencyConflict(key.to_string()));
        }
        let jobs = txn.open_table(JOBS).map_err(store_err)?;
        let bytes = jobs
            .get(id)
            .map_err(store_err)?
            .ok_or_else(|| store_err(format!("idempotency key names missing job {id}")))?;
        Ok(Some(decode(id, bytes.value())?))
    }

    /// The job an idempotency key names, if the request is the same one (see
    /// [`JobStore::submit`]).
    pub fn by_idempotency_key(
        &self,
        key: &str,
        fingerprint: &str,
    ) -> Result<Option<JobRecord>, WorkerError> {
        let txn = self.db.begin_write().map_err(store_err)?;
        let job = Self::keyed(&txn, key, fingerprint)?;
        txn.abort().map_err(store_err)?;
        Ok(job)
    }

    /// A job, if it exists.
    pub fn get(&self, job_id: &str) -> Result<Option<JobRecord>, WorkerError> {
        let txn = self.db.begin_read().map_err(store_err)?;
        let jobs = txn.open_table(JOBS).map_err(store_err)?;
        let job = jobs.get(job_id).map_err(store_err)?;
        job.map(|b| decode(job_id, b.value())).transpose()
    }

    /// A job's quantized input, while the job has not ended.
    pub fn input(&self, job_id: &str) -> Result<Option<Vec<i64>>, WorkerError> {
        let txn = self.db.begin_read().map_err(store_err)?;
        let inputs = txn.open_table(INPUTS).map_err(store_err)?;
        let input = inputs.get(job_id).map_err(store_err)?;
        input
            .map(|b| {
                serde_json::from_slice(b.value())
                    .map_err(|e| store_err(format!("a stored input is corrupt: {e}")))
            })
            .transpose()
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
        jobs.insert(id, encode(job)?.as_slice())
            .map_err(store_err)?;
        drop(jobs);
        if before == job.state {
            return Ok(());
        }
        Self::add_count(txn, before, -1)?;
        Self::add_count(txn, job.state, 1)?;
        if job.state.is_terminal() && !before.is_terminal() {
            let mut unfinished = txn.open_table(UNFINISHED).map_err(store_err)?;
            unfinished.remove(id).map_err(store_err)?;
            let mut inputs = txn.open_table(INPUTS).map_err(store_err)?;
            inputs.remove(id).map_err(store_err)?;
            let mut finished = txn.open_table(FINISHED).map_err(store_err)?;
            finished.insert(job.seq, id).map_err(store_err)?;
            drop((unfinished, inputs, finished));
            self.prune(txn)?;
        }
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
            if let Some(job) = job {
                let job = decode(&id, job.value())?;
                if let Some(key) = &job.idempotency_key {
                    idem.remove(key.as_str()).map_err(store_err)?;
                }
                let mut meta = txn.open_table(META).map_err(store_err)?;
                let key = count_key(job.state);
                let n = meta
                    .get(key.as_str())
                    .map_err(store_err)?
                    .map_or(0, |v| v.value());
                meta.insert(key.as_str(), n.saturating_sub(1))
                    .map_err(store_err)?;
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
            Some(b) => decode(job_id, b.value()),
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
        let txn = self.db.begin_write().map_err(store_err)?;
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
        let txn = self.db.begin_write().map_err(store_err)?;
        let mut job = Self::load(&txn, job_id)?;
        let before = job.state;
        let finish = if job.state.is_terminal() {
            Finish::AlreadyEnded(job)
        } else if job.cancel_requested {
            job.transition(JobState::Cancelled, "cancelled by the client");
            self.write(&txn, before, &job)?;
            Finish::Cancelled(job)
        } else {
            job.transition(JobState::Succeeded, "");
            job.error = None;
            let mut receipts = txn.open_table(RECEIPTS).map_err(store_err)?;
            receipts.insert(job_id, receipt_json).map_err(store_err)?;
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
        Ok(r.map(|v| v.value().to_string()))
    }

    /// Every job that has not ended, in submission order (read through the index: ended jobs
    /// cost nothing here).
    pub fn unfinished(&self) -> Result<Vec<JobRecord>, WorkerError> {
        let txn = self.db.begin_read().map_err(store_err)?;
        let index = txn.open_table(UNFINISHED).map_err(store_err)?;
        let jobs = txn.open_table(JOBS).map_err(store_err)?;
        let mut out = Vec::new();
        for entry in index.iter().map_err(store_err)? {
            let (id, _) = entry.map_err(store_err)?;
            if let Some(b) = jobs.get(id.value()).map_err(store_err)? {
                out.push(decode(id.value(), b.value())?);
            }
        }
        out.sort_by_key(|j| j.seq);
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
mod tests {
    use super::*;
    use crate::job::now_ms;

    fn job(id: &str, key: Option<&str>) -> JobRecord {
        let mut j = JobRecord {
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
        };
        j.transition(JobState::Queued, "");
        j
    }

    fn new(s: Submitted) -> JobRecord {
        match s {
            Submitted::New(j) => j,
            other => panic!("not new: {other:?}"),
        }
    }

    /// A stored record carries a checksum: one flipped bit anywhere in it — inside a string,
    /// where the JSON would still parse — is an error naming the job, never a job served
    /// wrong; a record written before checksums (plain JSON) still reads.
    #[test]
    fn a_flipped_bit_in_a_stored_job_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let s = JobStore::open(&dir.path().join("jobs.redb"), 100).unwrap();
        new(s.submit(job("a", None), &[1], "f").unwrap());
        let raw = |s: &JobStore| -> Vec<u8> {
            let txn = s.db.begin_read().unwrap();
            let jobs = txn.open_table(JOBS).unwrap();
            jobs.get("a").unwrap().unwrap().value().to_vec()
        };
        let put = |s: &JobStore, bytes: &[u8]| {
            let txn = s.db.begin_write().unwrap();
            txn.open_table(JOBS).unwrap().insert("a", bytes).unwrap();
            txn.commit().unwrap();
        };
        let stored = raw(&s);
        assert!(stored.starts_with(CHECKED));
        // The client nonce "n" changed to "o": valid JSON, another job.
        let at = stored.windows(5).position(|w| w == b"\"n\",\"").unwrap() + 1;
        let mut flipped = stored.clone();
        flipped[at] ^= 0x01;
        put(&s, &flipped);
        let e = s.get("a").unwrap_err().to_string();
        assert_eq!(
            e,
            "job store: the stored record of job a is corrupt: its checksum does not match"
        );
        assert!(s.unfinished().unwrap_err().to_string().contains("job a"));
        put(&s, &stored[..10]);
        assert!(s.get("a").unwrap_err().to_string().contains("cut short"));
        // A record from before checksums: read, and written back with one.
        put(&s, &stored[CHECKED.len() + 32..]);
        assert_eq!(s.get("a").unwrap().unwrap().client_nonce, "n");
        s.update("a", |_| true).unwrap();
        assert!(raw(&s).starts_with(CHECKED));
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
                j.transition(JobState::Proving, "");
                true
            })
            .unwrap();
        }
        let s = JobStore::open(&path, 100).unwrap();
        assert_eq!(s.get("a").unwrap().unwrap().state, JobState::Proving);
        assert_eq!(s.input("a").unwrap(), Some(vec![1, 2]));
        let ids: Vec<_> = s
            .unfinished()
            .unwrap()
            .into_iter()
            .map(|j| j.job_id)
            .collect();
        assert_eq!(ids, ["a", "b"]);
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
        assert_eq!(s.unfinished().unwrap().len(), 1);
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
