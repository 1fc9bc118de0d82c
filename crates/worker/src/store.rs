//! The job store: every job, its history and its receipt, in an embedded redb database.
//!
//! Each change is one redb write transaction, committed (fsync'd) before the caller goes on:
//! a job is acknowledged only after it is stored, a state change is visible only after it is
//! durable, and a job's receipt and its `Succeeded` state are written together — so after a
//! crash the store says exactly which jobs finished (those never run again) and which must
//! resume.

use std::collections::BTreeMap;
use std::path::Path;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};

use crate::error::WorkerError;
use crate::job::{JobRecord, JobState};

/// job id → the job (JSON).
const JOBS: TableDefinition<&str, &[u8]> = TableDefinition::new("jobs");
/// idempotency key → job id.
const IDEMPOTENCY: TableDefinition<&str, &str> = TableDefinition::new("idempotency");
/// job id → receipt (JSON).
const RECEIPTS: TableDefinition<&str, &str> = TableDefinition::new("receipts");
/// Counters (the next submission sequence number).
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

fn store_err(e: impl std::fmt::Display) -> WorkerError {
    WorkerError::Store(e.to_string())
}

fn decode(bytes: &[u8]) -> Result<JobRecord, WorkerError> {
    serde_json::from_slice(bytes).map_err(|e| store_err(format!("a stored job is corrupt: {e}")))
}

fn encode(job: &JobRecord) -> Result<Vec<u8>, WorkerError> {
    serde_json::to_vec(job).map_err(store_err)
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

/// The worker's jobs, persisted.
pub struct JobStore {
    db: Database,
}

impl JobStore {
    /// Opens (or creates) the store at `path`.
    pub fn open(path: &Path) -> Result<Self, WorkerError> {
        let db = Database::create(path)
            .map_err(|e| store_err(format!("opening {}: {e}", path.display())))?;
        let txn = db.begin_write().map_err(store_err)?;
        {
            txn.open_table(JOBS).map_err(store_err)?;
            txn.open_table(IDEMPOTENCY).map_err(store_err)?;
            txn.open_table(RECEIPTS).map_err(store_err)?;
            txn.open_table(META).map_err(store_err)?;
        }
        txn.commit().map_err(store_err)?;
        Ok(JobStore { db })
    }

    /// Stores a new job, or — when its idempotency key is already known — returns the job that
    /// key named. `true` when the job already existed. Assigns the submission sequence number.
    pub fn submit(&self, mut job: JobRecord) -> Result<(JobRecord, bool), WorkerError> {
        let txn = self.db.begin_write().map_err(store_err)?;
        let result = {
            let mut jobs = txn.open_table(JOBS).map_err(store_err)?;
            let mut idem = txn.open_table(IDEMPOTENCY).map_err(store_err)?;
            let existing = match &job.idempotency_key {
                Some(key) => idem
                    .get(key.as_str())
                    .map_err(store_err)?
                    .map(|id| id.value().to_string()),
                None => None,
            };
            match existing {
                Some(id) => {
                    let bytes = jobs.get(id.as_str()).map_err(store_err)?.ok_or_else(|| {
                        store_err(format!("idempotency key names missing job {id}"))
                    })?;
                    (decode(bytes.value())?, true)
                }
                None => {
                    let mut meta = txn.open_table(META).map_err(store_err)?;
                    let seq = meta.get("seq").map_err(store_err)?.map_or(0, |v| v.value());
                    meta.insert("seq", seq + 1).map_err(store_err)?;
                    job.seq = seq;
                    jobs.insert(job.job_id.as_str(), encode(&job)?.as_slice())
                        .map_err(store_err)?;
                    if let Some(key) = &job.idempotency_key {
                        idem.insert(key.as_str(), job.job_id.as_str())
                            .map_err(store_err)?;
                    }
                    (job, false)
                }
            }
        };
        txn.commit().map_err(store_err)?;
        Ok(result)
    }

    /// The job an idempotency key names, if any.
    pub fn by_idempotency_key(&self, key: &str) -> Result<Option<JobRecord>, WorkerError> {
        let id = {
            let txn = self.db.begin_read().map_err(store_err)?;
            let idem = txn.open_table(IDEMPOTENCY).map_err(store_err)?;
            let id = idem.get(key).map_err(store_err)?;
            id.map(|v| v.value().to_string())
        };
        match id {
            Some(id) => self.get(&id),
            None => Ok(None),
        }
    }

    /// A job, if it exists.
    pub fn get(&self, job_id: &str) -> Result<Option<JobRecord>, WorkerError> {
        let txn = self.db.begin_read().map_err(store_err)?;
        let jobs = txn.open_table(JOBS).map_err(store_err)?;
        let job = jobs.get(job_id).map_err(store_err)?;
        job.map(|b| decode(b.value())).transpose()
    }

    /// Changes a job in one transaction: `change` sees the stored job and returns whether to
    /// write it back. Returns the job as it is afterwards.
    pub fn update(
        &self,
        job_id: &str,
        change: impl FnOnce(&mut JobRecord) -> bool,
    ) -> Result<JobRecord, WorkerError> {
        let txn = self.db.begin_write().map_err(store_err)?;
        let job = {
            let mut jobs = txn.open_table(JOBS).map_err(store_err)?;
            let mut job = match jobs.get(job_id).map_err(store_err)? {
                Some(b) => decode(b.value())?,
                None => return Err(WorkerError::UnknownJob(job_id.to_string())),
            };
            if change(&mut job) {
                jobs.insert(job_id, encode(&job)?.as_slice())
                    .map_err(store_err)?;
            }
            job
        };
        txn.commit().map_err(store_err)?;
        Ok(job)
    }

    /// Ends a proved job: stores the receipt and `Succeeded` together — unless the job already
    /// ended (never twice) or a client cancelled it meanwhile.
    pub fn finish(&self, job_id: &str, receipt_json: &str) -> Result<Finish, WorkerError> {
        let txn = self.db.begin_write().map_err(store_err)?;
        let finish = {
            let mut jobs = txn.open_table(JOBS).map_err(store_err)?;
            let mut job = match jobs.get(job_id).map_err(store_err)? {
                Some(b) => decode(b.value())?,
                None => return Err(WorkerError::UnknownJob(job_id.to_string())),
            };
            if job.state.is_terminal() {
                Finish::AlreadyEnded(job)
            } else if job.cancel_requested {
                job.transition(JobState::Cancelled, "cancelled while proving");
                jobs.insert(job_id, encode(&job)?.as_slice())
                    .map_err(store_err)?;
                Finish::Cancelled(job)
            } else {
                job.transition(JobState::Succeeded, "");
                job.error = None;
                jobs.insert(job_id, encode(&job)?.as_slice())
                    .map_err(store_err)?;
                let mut receipts = txn.open_table(RECEIPTS).map_err(store_err)?;
                receipts.insert(job_id, receipt_json).map_err(store_err)?;
                Finish::Succeeded(job)
            }
        };
        txn.commit().map_err(store_err)?;
        Ok(finish)
    }

    /// A job's receipt, if it succeeded.
    pub fn receipt(&self, job_id: &str) -> Result<Option<String>, WorkerError> {
        let txn = self.db.begin_read().map_err(store_err)?;
        let receipts = txn.open_table(RECEIPTS).map_err(store_err)?;
        let r = receipts.get(job_id).map_err(store_err)?;
        Ok(r.map(|v| v.value().to_string()))
    }

    /// Every job that has not ended, in submission order.
    pub fn unfinished(&self) -> Result<Vec<JobRecord>, WorkerError> {
        let mut out = Vec::new();
        for job in self.all()? {
            if !job.state.is_terminal() {
                out.push(job);
            }
        }
        out.sort_by_key(|j| j.seq);
        Ok(out)
    }

    /// How many jobs are in each state.
    pub fn counts(&self) -> Result<BTreeMap<JobState, usize>, WorkerError> {
        let mut counts = BTreeMap::new();
        for job in self.all()? {
            *counts.entry(job.state).or_insert(0) += 1;
        }
        Ok(counts)
    }

    fn all(&self) -> Result<Vec<JobRecord>, WorkerError> {
        let txn = self.db.begin_read().map_err(store_err)?;
        let jobs = txn.open_table(JOBS).map_err(store_err)?;
        let mut out = Vec::new();
        for entry in jobs.iter().map_err(store_err)? {
            let (_, v) = entry.map_err(store_err)?;
            out.push(decode(v.value())?);
        }
        Ok(out)
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
            input: vec![1, 2],
            input_salt: "00".repeat(31),
            input_digest: "d".into(),
            client_nonce: "n".into(),
            worker_id: "w".into(),
            idempotency_key: key.map(String::from),
            state: JobState::Queued,
            history: vec![],
            attempts: 0,
            error: None,
            cancel_requested: false,
        };
        j.transition(JobState::Queued, "");
        j
    }

    #[test]
    fn jobs_survive_reopening_and_finish_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.redb");
        {
            let s = JobStore::open(&path).unwrap();
            let (a, existing) = s.submit(job("a", Some("k1"))).unwrap();
            assert!(!existing);
            assert_eq!(a.seq, 0);
            let (b, _) = s.submit(job("b", None)).unwrap();
            assert_eq!(b.seq, 1);
            // The same key: the same job, not a new one.
            assert_eq!(s.by_idempotency_key("k1").unwrap().unwrap().job_id, "a");
            assert!(s.by_idempotency_key("k2").unwrap().is_none());
            let (again, existing) = s.submit(job("c", Some("k1"))).unwrap();
            assert!(existing);
            assert_eq!(again.job_id, "a");
            assert!(s.get("c").unwrap().is_none());
            s.update("a", |j| {
                j.transition(JobState::Proving, "");
                true
            })
            .unwrap();
        }
        let s = JobStore::open(&path).unwrap();
        assert_eq!(s.get("a").unwrap().unwrap().state, JobState::Proving);
        let ids: Vec<_> = s
            .unfinished()
            .unwrap()
            .into_iter()
            .map(|j| j.job_id)
            .collect();
        assert_eq!(ids, ["a", "b"]);
        assert!(matches!(s.finish("a", "{}").unwrap(), Finish::Succeeded(_)));
        assert!(matches!(
            s.finish("a", "{2}").unwrap(),
            Finish::AlreadyEnded(_)
        ));
        assert_eq!(s.receipt("a").unwrap().as_deref(), Some("{}"));
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
}
