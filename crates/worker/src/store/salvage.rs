//! Reading a damaged job store: [`scan`] reports what a store holds and what is wrong with it
//! (`zkw worker store check`), and [`salvage`] copies what can be read into a fresh store
//! (`zkw worker store salvage`).
//!
//! Both work on a copy: a damaged store is evidence, and redb's check repairs what it can in
//! the file it opens. When redb opens the copy, every table is read entry by entry (a damaged
//! record is named and skipped, the rest is kept) and the indexes are checked against the
//! records. When it cannot — both of its commit slots damaged, say, as a kill -9 at the wrong
//! moment on a broken disk can leave it — the sealed records are carved out of the raw bytes
//! (see [`super::record`]): each says which table and key it belongs to. Carving also finds
//! older versions of a record that redb had freed; for each job the one with the longest
//! history is kept, which is the newest, since a history only grows.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use redb::{ReadableDatabase, ReadableTable};

use super::record::{self, Tag};
use super::{
    FINISHED, IDEMPOTENCY, INPUTS, JOBS, JobStore, META, QUARANTINE, Quarantined, RECEIPTS,
    UNFINISHED, count_key, decode_input, decode_job, decode_keyed, decode_receipt, split_keyed,
    store_err,
};
use crate::error::WorkerError;
use crate::job::{JobRecord, JobState};

/// What a store holds, read as far as it can be.
#[derive(Debug, Default)]
pub struct Report {
    /// Why redb could not open the store (its records were carved out of the bytes then);
    /// `None` when its pages are sound, or were repaired in the copy.
    pub unopenable: Option<String>,
    /// Every job record that reads, by job id.
    pub jobs: BTreeMap<String, JobRecord>,
    /// Every input that reads, by job id.
    pub inputs: BTreeMap<String, Vec<i64>>,
    /// Every receipt that reads, by job id.
    pub receipts: BTreeMap<String, String>,
    /// Every idempotency entry that reads: key → (job id, request fingerprint).
    pub keys: BTreeMap<String, (String, String)>,
    /// The records the worker had kept aside.
    pub quarantined: Vec<Quarantined>,
    /// Everything found wrong, one line each, naming the record.
    pub problems: Vec<String>,
}

impl Report {
    /// Whether nothing is wrong.
    pub fn is_sound(&self) -> bool {
        self.unopenable.is_none() && self.problems.is_empty()
    }

    /// How many readable jobs are in each state.
    pub fn counts(&self) -> BTreeMap<JobState, usize> {
        let mut counts = BTreeMap::new();
        for job in self.jobs.values() {
            *counts.entry(job.state).or_default() += 1;
        }
        counts
    }
}

/// Reads the store at `path` (a copy of it: the file is not changed) and reports what it
/// holds and what is wrong.
pub fn scan(path: &Path) -> Result<Report, WorkerError> {
    let bytes = std::fs::read(path).map_err(|e| WorkerError::io(path, e))?;
    let mut report = Report::default();
    if bytes.is_empty() {
        report.unopenable = Some("the file is empty (0 bytes)".into());
        return Ok(report);
    }
    let dir = tempfile::tempdir().map_err(|e| store_err(format!("a scratch directory: {e}")))?;
    let copy = dir.path().join("jobs.redb");
    std::fs::write(&copy, &bytes).map_err(|e| WorkerError::io(&copy, e))?;
    let opened = std::panic::catch_unwind(|| JobStore::open(&copy, usize::MAX));
    match opened {
        Ok(Ok(store)) => {
            if !read_tables(&store, &mut report) {
                let next_seq = next_seq(&store).ok();
                carve_into(&bytes, &mut report, next_seq);
            }
        }
        Ok(Err(e)) => {
            report.unopenable = Some(e.to_string());
            carve_into(&bytes, &mut report, None);
        }
        Err(_) => {
            report.unopenable = Some("redb panicked opening it".into());
            carve_into(&bytes, &mut report, None);
        }
    }
    Ok(report)
}

/// Reads every table entry by entry, then checks the indexes against the records; false
/// when a table could not be read through (its structure is damaged: carve then).
fn read_tables(store: &JobStore, report: &mut Report) -> bool {
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_tables_inner(store, report)
    }));
    match read {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            report
                .problems
                .push(format!("a table cannot be read through: {e}"));
            false
        }
        Err(_) => {
            report
                .problems
                .push("a table cannot be read through: redb panicked".into());
            false
        }
    }
}

fn read_tables_inner(store: &JobStore, report: &mut Report) -> Result<(), WorkerError> {
    let txn = store.db.begin_read().map_err(store_err)?;
    let jobs = txn.open_table(JOBS).map_err(store_err)?;
    for entry in jobs.iter().map_err(store_err)? {
        let (k, v) = entry.map_err(store_err)?;
        match decode_job(k.value(), v.value()) {
            Ok(job) => {
                report.jobs.insert(k.value().to_string(), job);
            }
            Err(e) => report.problems.push(damage_line(e)),
        }
    }
    let inputs = txn.open_table(INPUTS).map_err(store_err)?;
    for entry in inputs.iter().map_err(store_err)? {
        let (k, v) = entry.map_err(store_err)?;
        match decode_input(k.value(), v.value()) {
            Ok(input) => {
                report.inputs.insert(k.value().to_string(), input);
            }
            Err(e) => report.problems.push(damage_line(e)),
        }
    }
    let receipts = txn.open_table(RECEIPTS).map_err(store_err)?;
    for entry in receipts.iter().map_err(store_err)? {
        let (k, v) = entry.map_err(store_err)?;
        match decode_receipt(k.value(), v.value()) {
            Ok(r) => {
                report.receipts.insert(k.value().to_string(), r);
            }
            Err(e) => report.problems.push(damage_line(e)),
        }
    }
    let keys = txn.open_table(IDEMPOTENCY).map_err(store_err)?;
    for entry in keys.iter().map_err(store_err)? {
        let (k, v) = entry.map_err(store_err)?;
        match decode_keyed(k.value(), v.value()) {
            Ok(named) => {
                report.keys.insert(k.value().to_string(), named);
            }
            Err(e) => report.problems.push(damage_line(e)),
        }
    }
    let quarantine = txn.open_table(QUARANTINE).map_err(store_err)?;
    for entry in quarantine.iter().map_err(store_err)? {
        let (k, v) = entry.map_err(store_err)?;
        match serde_json::from_slice(v.value()) {
            Ok(q) => report.quarantined.push(q),
            Err(e) => report.problems.push(format!(
                "the quarantined record of job {} does not read: {e}",
                k.value()
            )),
        }
    }
    // The indexes and counts, against the records.
    let mut unfinished = BTreeMap::new();
    for entry in txn
        .open_table(UNFINISHED)
        .map_err(store_err)?
        .iter()
        .map_err(store_err)?
    {
        let (k, v) = entry.map_err(store_err)?;
        unfinished.insert(k.value().to_string(), v.value());
    }
    let mut finished = BTreeSet::new();
    for entry in txn
        .open_table(FINISHED)
        .map_err(store_err)?
        .iter()
        .map_err(store_err)?
    {
        let (_, v) = entry.map_err(store_err)?;
        finished.insert(v.value().to_string());
    }
    for (id, job) in &report.jobs {
        if job.state.is_terminal() {
            if !finished.contains(id) {
                report
                    .problems
                    .push(format!("job {id} has ended but is not indexed as finished"));
            }
            if job.state == JobState::Succeeded
                && !report.receipts.contains_key(id)
                && !problem_names(report, id)
            {
                report
                    .problems
                    .push(format!("job {id} succeeded but its receipt is missing"));
            }
        } else {
            if unfinished.get(id) != Some(&job.seq) {
                report
                    .problems
                    .push(format!("job {id} is unfinished but not indexed as such"));
            }
            if !report.inputs.contains_key(id) && !problem_names(report, id) {
                report
                    .problems
                    .push(format!("the stored input of job {id} is missing"));
            }
        }
    }
    for id in unfinished.keys() {
        if !report.jobs.contains_key(id) && !problem_names(report, id) {
            report.problems.push(format!(
                "job {id} is indexed as unfinished but its record is missing"
            ));
        }
    }
    for (key, (id, _)) in &report.keys {
        if !report.jobs.contains_key(id) && !problem_names(report, id) {
            report
                .problems
                .push(format!("idempotency key `{key}` names missing job {id}"));
        }
    }
    let meta = txn.open_table(META).map_err(store_err)?;
    let counted = report.counts();
    // Damaged records skew the counts: a mismatch is news only when all records read.
    let all_read = report.problems.is_empty();
    for state in JobState::ALL {
        let kept = meta
            .get(count_key(state).as_str())
            .map_err(store_err)?
            .map_or(0, |v| v.value()) as usize;
        let counted = counted.get(&state).copied().unwrap_or(0);
        if kept != counted && all_read {
            report.problems.push(format!(
                "the count of {state} jobs is {kept}, but {counted} are stored"
            ));
        }
    }
    Ok(())
}

/// Whether a problem already names this job (one cause is reported once).
fn problem_names(report: &Report, job_id: &str) -> bool {
    let named = format!("job {job_id} ");
    report.problems.iter().any(|p| p.contains(&named))
}

fn damage_line(e: WorkerError) -> String {
    match e {
        WorkerError::Damaged(why) => why,
        other => other.to_string(),
    }
}

/// The submission number the store would give next.
fn next_seq(store: &JobStore) -> Result<u64, WorkerError> {
    let txn = store.db.begin_read().map_err(store_err)?;
    let meta = txn.open_table(META).map_err(store_err)?;
    let seq = meta.get("seq").map_err(store_err)?;
    Ok(seq.map_or(0, |v| v.value()))
}

/// Fills in, from the sealed records found in the raw bytes, what the database did not give:
/// a newer version of a job it gave, and a job it did not — when the database's own
/// submission counter (`next_seq`) is known, only a job submitted after it, since an older
/// job missing from the database was dropped by retention and must not come back.
fn carve_into(bytes: &[u8], report: &mut Report, next_seq: Option<u64>) {
    let mut carved_jobs = 0;
    for sealed in record::carve(bytes) {
        let key = sealed.key.to_string();
        match sealed.tag {
            Tag::Job => {
                let Ok(job) = serde_json::from_slice::<JobRecord>(sealed.value) else {
                    continue;
                };
                if job.job_id != key {
                    continue;
                }
                let newer = |old: &JobRecord| {
                    let last = |j: &JobRecord| j.history.last().map(|t| t.at_unix_ms);
                    (job.history.len(), last(&job)) > (old.history.len(), last(old))
                };
                match report.jobs.get(&key) {
                    Some(old) if !newer(old) => {}
                    None if next_seq.is_some_and(|n| job.seq < n) => {}
                    _ => {
                        carved_jobs += 1;
                        report.jobs.insert(key, job);
                    }
                }
            }
            Tag::Input => {
                if let Ok(input) = serde_json::from_slice(sealed.value) {
                    report.inputs.entry(key).or_insert(input);
                }
            }
            Tag::Receipt => {
                if let Ok(r) = std::str::from_utf8(sealed.value) {
                    report.receipts.entry(key).or_insert_with(|| r.to_string());
                }
            }
            Tag::Idempotency => {
                if let Ok(named) = split_keyed(&key, sealed.value) {
                    report.keys.entry(key).or_insert(named);
                }
            }
        }
    }
    report.problems.push(format!(
        "records were carved out of the file's bytes ({carved_jobs} job versions): a job may \
         be restored in an older state than it reached"
    ));
}

/// What [`salvage`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Salvaged {
    /// Jobs written, by state.
    pub counts: BTreeMap<JobState, usize>,
    /// Unfinished jobs whose input could not be read: written as failed.
    pub inputs_lost: usize,
    /// Succeeded jobs whose receipt could not be read.
    pub receipts_lost: usize,
}

/// Copies what can be read from the store at `from` into a new store at `to` (which must not
/// exist), its indexes and counts rebuilt from the records. An unfinished job whose input is
/// lost is written as failed with the reason; it never runs on a wrong input.
pub fn salvage(from: &Path, to: &Path) -> Result<(Report, Salvaged), WorkerError> {
    if to.exists() {
        return Err(WorkerError::Config(format!(
            "{} exists: salvage writes a new store, it does not overwrite one",
            to.display()
        )));
    }
    let report = scan(from)?;
    let store = JobStore::open(to, usize::MAX)?;
    let salvaged = store.restore(&report)?;
    Ok((report, salvaged))
}

impl JobStore {
    /// Writes a scanned store's records into this (new, empty) store in one transaction, its
    /// indexes and counts rebuilt from the records (what [`salvage`] does; the store bench
    /// builds its large stores this way).
    pub fn restore(&self, report: &Report) -> Result<Salvaged, WorkerError> {
        let mut out = Salvaged {
            counts: BTreeMap::new(),
            inputs_lost: 0,
            receipts_lost: 0,
        };
        let txn = self.begin()?;
        {
            let mut jobs = txn.open_table(JOBS).map_err(store_err)?;
            let mut inputs = txn.open_table(INPUTS).map_err(store_err)?;
            let mut receipts = txn.open_table(RECEIPTS).map_err(store_err)?;
            let mut keys = txn.open_table(IDEMPOTENCY).map_err(store_err)?;
            let mut unfinished = txn.open_table(UNFINISHED).map_err(store_err)?;
            let mut finished = txn.open_table(FINISHED).map_err(store_err)?;
            let mut quarantine = txn.open_table(QUARANTINE).map_err(store_err)?;
            let mut next_seq = 0;
            for (id, job) in &report.jobs {
                let mut job = job.clone();
                next_seq = next_seq.max(job.seq + 1);
                if !job.state.is_terminal() {
                    match report.inputs.get(id) {
                        Some(input) => {
                            inputs
                                .insert(id.as_str(), super::encode_input(id, input)?.as_slice())
                                .map_err(store_err)?;
                        }
                        None => {
                            out.inputs_lost += 1;
                            let why = "its input was lost with the damaged store (salvaged)";
                            job.error = Some(why.into());
                            job.transition(JobState::Failed, why);
                        }
                    }
                }
                if job.state == JobState::Succeeded {
                    match report.receipts.get(id) {
                        Some(r) => {
                            let sealed = record::seal(Tag::Receipt, id, r.as_bytes());
                            receipts
                                .insert(id.as_str(), sealed.as_slice())
                                .map_err(store_err)?;
                        }
                        None => {
                            out.receipts_lost += 1;
                            job.error = Some(
                                "its receipt was lost with the damaged store (salvaged)".into(),
                            );
                        }
                    }
                }
                if job.state.is_terminal() {
                    finished.insert(job.seq, id.as_str()).map_err(store_err)?;
                } else {
                    unfinished.insert(id.as_str(), job.seq).map_err(store_err)?;
                }
                jobs.insert(id.as_str(), super::encode_job(&job)?.as_slice())
                    .map_err(store_err)?;
                *out.counts.entry(job.state).or_default() += 1;
            }
            for (key, (id, fingerprint)) in &report.keys {
                if report.jobs.contains_key(id) {
                    let entry = format!("{id} {fingerprint}");
                    let sealed = record::seal(Tag::Idempotency, key, entry.as_bytes());
                    keys.insert(key.as_str(), sealed.as_slice())
                        .map_err(store_err)?;
                }
            }
            for q in &report.quarantined {
                let bytes = serde_json::to_vec(q).map_err(store_err)?;
                quarantine
                    .insert(q.job_id.as_str(), bytes.as_slice())
                    .map_err(store_err)?;
            }
            let mut meta = txn.open_table(META).map_err(store_err)?;
            meta.insert("seq", next_seq).map_err(store_err)?;
            for state in JobState::ALL {
                let n = out.counts.get(&state).copied().unwrap_or(0) as u64;
                meta.insert(count_key(state).as_str(), n)
                    .map_err(store_err)?;
            }
        }
        txn.commit().map_err(store_err)?;
        Ok(out)
    }
}

/// Where `salvage` writes by default: next to the damaged store.
pub fn default_target(store: &Path) -> PathBuf {
    store.with_file_name("jobs.salvaged.redb")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::job;
    use crate::store::{Finish, Submitted};

    /// A store with a job in each of these states: a and b succeeded (receipts), c failed,
    /// d running, e queued (keyed "ke").
    fn filled(path: &Path) -> JobStore {
        let s = JobStore::open(path, 100).unwrap();
        for (i, id) in ["a", "b", "c", "d", "e"].iter().enumerate() {
            let key = (*id == "e").then_some("ke");
            assert!(matches!(
                s.submit(job(id, key), &[i as i64, 7], "f").unwrap(),
                Submitted::New(_)
            ));
        }
        for id in ["a", "b"] {
            let receipt = format!("{{\"receipt\":\"{id}\"}}");
            assert!(matches!(
                s.finish(id, &receipt).unwrap(),
                Finish::Succeeded(_)
            ));
        }
        s.update("c", |j| {
            j.transition(JobState::Failed, "no");
            true
        })
        .unwrap();
        s.update("d", |j| {
            j.transition(JobState::Running, "");
            true
        })
        .unwrap();
        s
    }

    fn states(s: &JobStore) -> Vec<(String, JobState)> {
        ["a", "b", "c", "d", "e"]
            .iter()
            .filter_map(|id| s.get(id).unwrap().map(|j| (j.job_id, j.state)))
            .collect()
    }

    #[test]
    fn a_sound_store_checks_clean_and_salvages_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.redb");
        let before = states(&filled(&path));
        let original = std::fs::read(&path).unwrap();
        let r = scan(&path).unwrap();
        assert!(r.is_sound(), "{:?}", r.problems);
        assert_eq!(r.jobs.len(), 5);
        assert_eq!(
            std::fs::read(&path).unwrap(),
            original,
            "check leaves it as it is"
        );
        let to = default_target(&path);
        let (_, salvaged) = salvage(&path, &to).unwrap();
        assert_eq!((salvaged.inputs_lost, salvaged.receipts_lost), (0, 0));
        let s = JobStore::open(&to, 100).unwrap();
        assert_eq!(states(&s), before);
        assert_eq!(s.receipt("b").unwrap().unwrap(), "{\"receipt\":\"b\"}");
        assert_eq!(s.input("d").unwrap(), Some(vec![3, 7]));
        assert_eq!(
            s.by_idempotency_key("ke", "f").unwrap().unwrap().job_id,
            "e"
        );
        let resumed: Vec<_> = s
            .recover()
            .unwrap()
            .jobs
            .into_iter()
            .map(|j| j.job_id)
            .collect();
        assert_eq!(resumed, ["d", "e"]);
        let counts = s.counts().unwrap();
        assert_eq!(counts[&JobState::Succeeded], 2);
        assert_eq!(counts[&JobState::Queued], 1);
        // The next job gets a new number.
        let Submitted::New(f) = s.submit(job("f", None), &[1], "f").unwrap() else {
            panic!()
        };
        assert_eq!(f.seq, 5);
        assert!(
            salvage(&path, &to)
                .unwrap_err()
                .to_string()
                .contains("exists"),
            "never overwrites"
        );
    }

    /// Damaged values inside sound pages are named, one line each, and salvage keeps the
    /// rest: a job whose input is lost is written as failed, never run on a wrong input.
    #[test]
    fn damaged_records_are_named_and_the_rest_salvaged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.redb");
        {
            let s = filled(&path);
            let txn = s.db.begin_write().unwrap();
            {
                let mut inputs = txn.open_table(INPUTS).unwrap();
                let mut bad = inputs.get("d").unwrap().unwrap().value().to_vec();
                *bad.last_mut().unwrap() ^= 1;
                inputs.insert("d", bad.as_slice()).unwrap();
                let mut receipts = txn.open_table(RECEIPTS).unwrap();
                receipts.insert("a", b"{}".as_slice()).unwrap();
            }
            txn.commit().unwrap();
        }
        let r = scan(&path).unwrap();
        assert!(!r.is_sound());
        assert_eq!(
            r.problems,
            [
                "the stored input of job d is corrupt: its checksum does not match",
                "the stored receipt of job a is corrupt: it carries no seal",
            ]
        );
        let to = dir.path().join("out.redb");
        let (_, salvaged) = salvage(&path, &to).unwrap();
        assert_eq!((salvaged.inputs_lost, salvaged.receipts_lost), (1, 1));
        let s = JobStore::open(&to, 100).unwrap();
        let d = s.get("d").unwrap().unwrap();
        assert_eq!(d.state, JobState::Failed);
        assert!(d.error.unwrap().contains("input was lost"));
        assert!(
            s.get("a")
                .unwrap()
                .unwrap()
                .error
                .unwrap()
                .contains("receipt was lost")
        );
        assert_eq!(
            scan(&to).unwrap().problems.len(),
            1,
            "a's receipt stays missing"
        );
    }

    /// A file redb cannot open at all (its header destroyed): the sealed records are carved
    /// out of the bytes, each job at its newest version, and salvaged.
    #[test]
    fn records_are_carved_from_a_store_redb_cannot_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.redb");
        let before = states(&filled(&path));
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[..1024].fill(0);
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(
            JobStore::open(&path, 100),
            Err(WorkerError::Damaged(m)) if m.contains("zkw worker store salvage")
        ));
        let r = scan(&path).unwrap();
        assert!(r.unopenable.is_some());
        assert!(r.problems[0].contains("carved"), "{:?}", r.problems);
        let to = dir.path().join("out.redb");
        salvage(&path, &to).unwrap();
        let s = JobStore::open(&to, 100).unwrap();
        assert_eq!(states(&s), before);
        assert_eq!(s.receipt("a").unwrap().unwrap(), "{\"receipt\":\"a\"}");
        assert_eq!(s.input("e").unwrap(), Some(vec![4, 7]));
    }
}
