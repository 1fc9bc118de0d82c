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
    stand_in, store_err,
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
    /// The jobs whose record does not read: their submission number (when an index gives it)
    /// and why. Salvage writes each as failed with the reason, unless carving found it.
    pub damaged_jobs: BTreeMap<String, (Option<u64>, String)>,
    /// The jobs whose record came out of the raw bytes (carved), not out of the database: an
    /// unfinished one may have ended before, since what ended it can be lost.
    pub carved: BTreeSet<String>,
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
    // redb's own verdict first (its message, not one naming the scratch copy).
    if let Err(why) = super::open_checked(&copy, false) {
        report.unopenable = Some(why);
        carve_into(&bytes, &mut report);
        return Ok(report);
    }
    match std::panic::catch_unwind(|| JobStore::open(&copy, usize::MAX)) {
        Ok(Ok(store)) => {
            if !read_tables(&store, &mut report) {
                carve_into(&bytes, &mut report);
            }
        }
        Ok(Err(e)) => {
            report.unopenable = Some(e.to_string());
            carve_into(&bytes, &mut report);
        }
        Err(_) => {
            report.unopenable = Some("redb panicked opening it".into());
            carve_into(&bytes, &mut report);
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
            Err(e) => {
                let why = damage_line(e);
                report
                    .damaged_jobs
                    .insert(k.value().to_string(), (None, why.clone()));
                report.problems.push(why);
            }
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
    let mut finished = BTreeMap::new();
    for entry in txn
        .open_table(FINISHED)
        .map_err(store_err)?
        .iter()
        .map_err(store_err)?
    {
        let (k, v) = entry.map_err(store_err)?;
        finished.insert(v.value().to_string(), k.value());
    }
    // A damaged record's submission number, from whichever index holds it.
    for (id, (seq, _)) in report.damaged_jobs.iter_mut() {
        *seq = unfinished.get(id).or(finished.get(id)).copied();
    }
    for (id, job) in &report.jobs {
        if job.state.is_terminal() {
            if !finished.contains_key(id) {
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

/// Fills in, from the sealed records found in the raw bytes, what the database did not give.
/// Of a job's versions, an ended one wins, then the longest history, then the latest change;
/// an idempotency entry is kept only for the job that carries its key (the newest such job).
fn carve_into(bytes: &[u8], report: &mut Report) {
    let carved = record::carve(bytes);
    let mut versions = 0;
    let mut keys: Vec<(String, String, String)> = Vec::new();
    for sealed in &carved.records {
        let key = sealed.key.to_string();
        match sealed.tag {
            Tag::Job => {
                let Ok(job) = serde_json::from_slice::<JobRecord>(sealed.value) else {
                    continue;
                };
                if job.job_id != key {
                    continue;
                }
                versions += 1;
                let rank = |j: &JobRecord| {
                    let last = j.history.last().map(|t| t.at_unix_ms);
                    (j.state.is_terminal(), j.history.len(), last)
                };
                let better = report
                    .jobs
                    .get(&key)
                    .is_none_or(|old| rank(&job) > rank(old));
                if better {
                    report.carved.insert(key.clone());
                    report.jobs.insert(key, job);
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
                if let Ok((id, fingerprint)) = split_keyed(&key, sealed.value) {
                    keys.push((key, id, fingerprint));
                }
            }
        }
    }
    for (key, id, fingerprint) in keys {
        let Some(job) = report.jobs.get(&id) else {
            continue;
        };
        if job.idempotency_key.as_deref() != Some(key.as_str()) {
            continue;
        }
        let newer = report
            .keys
            .get(&key)
            .and_then(|(old, _)| report.jobs.get(old))
            .is_none_or(|old| job.seq > old.seq);
        if newer {
            report.keys.insert(key, (id, fingerprint));
        }
    }
    for id in report.carved.iter() {
        report.damaged_jobs.remove(id);
    }
    report.problems.push(format!(
        "records were carved out of the file's bytes ({versions} job versions{}): a job may \
         be restored in an older state than it reached",
        if carved.complete {
            ""
        } else {
            "; carving stopped at its work bound"
        }
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
    /// Unfinished jobs restored from carved bytes: they run again, though they may have ended.
    pub carved_unfinished: usize,
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
            carved_unfinished: 0,
        };
        // Every job to write: the records read, then a failed stand-in for each record that
        // did not read (so its client learns why, instead of NOT_FOUND).
        let mut all: Vec<JobRecord> = report.jobs.values().cloned().collect();
        for (id, (seq, why)) in &report.damaged_jobs {
            if report.jobs.contains_key(id) {
                continue;
            }
            let reason = format!("{why} (salvaged: its record was lost)");
            let mut job = stand_in(id, seq.unwrap_or(u64::MAX), &reason);
            // The key that named it still does: a retry finds why, not a second job.
            job.idempotency_key = report
                .keys
                .iter()
                .find(|(_, (named, _))| named == id)
                .map(|(k, _)| k.clone());
            all.push(job);
        }
        // Submission numbers must stay unique (carving can find a number reused by a write
        // that never committed): a repeated or unknown one gets a new number after the rest.
        let mut next_seq = all
            .iter()
            .map(|j| j.seq)
            .filter(|&s| s != u64::MAX)
            .max()
            .map_or(0, |s| s + 1);
        let mut used = BTreeSet::new();
        all.sort_by_key(|j| j.seq);
        for job in &mut all {
            if job.seq == u64::MAX || !used.insert(job.seq) {
                job.seq = next_seq;
                used.insert(next_seq);
                next_seq += 1;
            }
        }
        let txn = self.begin()?;
        {
            let mut jobs = txn.open_table(JOBS).map_err(store_err)?;
            let mut inputs = txn.open_table(INPUTS).map_err(store_err)?;
            let mut receipts = txn.open_table(RECEIPTS).map_err(store_err)?;
            let mut keys = txn.open_table(IDEMPOTENCY).map_err(store_err)?;
            let mut unfinished = txn.open_table(UNFINISHED).map_err(store_err)?;
            let mut finished = txn.open_table(FINISHED).map_err(store_err)?;
            let mut quarantine = txn.open_table(QUARANTINE).map_err(store_err)?;
            for mut job in all {
                let id = job.job_id.clone();
                let receipt = report.receipts.get(&id);
                if !job.state.is_terminal() && receipt.is_some() {
                    // Its receipt was stored with SUCCEEDED in one transaction: it ended so.
                    job.restore_succeeded();
                } else if !job.state.is_terminal() {
                    match report.inputs.get(&id) {
                        Some(input) => {
                            inputs
                                .insert(id.as_str(), super::encode_input(&id, input)?.as_slice())
                                .map_err(store_err)?;
                            if report.carved.contains(&id) {
                                out.carved_unfinished += 1;
                                job.restore_carved();
                            }
                        }
                        None => {
                            out.inputs_lost += 1;
                            let why = "its input was lost with the damaged store (salvaged)";
                            job.abandon(why);
                        }
                    }
                }
                if job.state == JobState::Succeeded {
                    match receipt {
                        Some(r) => {
                            let sealed = record::seal(Tag::Receipt, &id, r.as_bytes());
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
                if let Some(key) = &job.idempotency_key
                    && let Some((named, fingerprint)) = report.keys.get(key)
                    && *named == id
                {
                    let entry = format!("{id} {fingerprint}");
                    let sealed = record::seal(Tag::Idempotency, key, entry.as_bytes());
                    keys.insert(key.as_str(), sealed.as_slice())
                        .map_err(store_err)?;
                }
                jobs.insert(id.as_str(), super::encode_job(&job)?.as_slice())
                    .map_err(store_err)?;
                *out.counts.entry(job.state).or_default() += 1;
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
    use crate::store::tests::{job, resumed};
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
            j.abandon("no");
            true
        })
        .unwrap();
        s.update("d", |j| {
            j.start(u32::MAX);
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
        assert_eq!(resumed(&s), ["d", "e"]);
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
                let mut jobs = txn.open_table(JOBS).unwrap();
                let mut bad = jobs.get("e").unwrap().unwrap().value().to_vec();
                *bad.last_mut().unwrap() ^= 1;
                jobs.insert("e", bad.as_slice()).unwrap();
            }
            txn.commit().unwrap();
        }
        let r = scan(&path).unwrap();
        assert!(!r.is_sound());
        assert_eq!(
            r.problems,
            [
                "the stored record of job e is corrupt: its checksum does not match",
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
        // e's record did not read: a failed stand-in says why, at its number, and its key
        // still names it (a retry learns why instead of starting a second job).
        let e = s.get("e").unwrap().unwrap();
        assert_eq!((e.state, e.seq), (JobState::Failed, 4));
        assert!(
            e.error
                .unwrap()
                .contains("the stored record of job e is corrupt")
        );
        assert_eq!(
            s.by_idempotency_key("ke", "f").unwrap().unwrap().job_id,
            "e"
        );
        assert_eq!(
            scan(&to).unwrap().problems.len(),
            1,
            "a's receipt stays missing"
        );
    }

    /// Carving picks, of each job's versions, an ended one first; a receipt found makes its
    /// job succeeded whatever version survived; an idempotency entry is kept only for the job
    /// carrying its key; a number two carved jobs share is made unique.
    #[test]
    fn carving_prefers_what_ended_and_keys_that_match() {
        use crate::store::encode_job;
        let mut running = job("a", Some("k"));
        running.start(u32::MAX);
        running.take_for_proving();
        let mut failed = crate::store::stand_in("a", 0, "damaged");
        failed.idempotency_key = Some("k".into());
        let mut b = job("b", None);
        b.start(u32::MAX);
        let mut c = job("c", None);
        c.start(u32::MAX);
        let mut file = b"redb junk".to_vec();
        for j in [&running, &failed, &b, &c] {
            file.extend(encode_job(j).unwrap());
        }
        file.extend(record::seal(Tag::Receipt, "b", b"{\"r\":1}"));
        file.extend(record::seal(Tag::Input, "c", b"[1,2]"));
        // "k" names a (which carries it) and, in a stale copy, b (which does not).
        file.extend(record::seal(Tag::Idempotency, "k", b"b f"));
        file.extend(record::seal(Tag::Idempotency, "k", b"a f"));
        let mut r = Report::default();
        carve_into(&file, &mut r);
        assert_eq!(
            r.jobs["a"].state,
            JobState::Failed,
            "the ended version wins"
        );
        assert_eq!(r.keys["k"], ("a".to_string(), "f".to_string()));
        let dir = tempfile::tempdir().unwrap();
        let s = JobStore::open(&dir.path().join("out.redb"), 100).unwrap();
        let out = s.restore(&r).unwrap();
        assert_eq!(out.carved_unfinished, 1, "c runs again");
        let b = s.get("b").unwrap().unwrap();
        assert_eq!(b.state, JobState::Succeeded, "its receipt was found");
        assert_eq!(s.receipt("b").unwrap().unwrap(), "{\"r\":1}");
        let c = s.get("c").unwrap().unwrap();
        assert!(
            c.history
                .last()
                .unwrap()
                .detail
                .contains("it may have ended before")
        );
        // The three carved jobs all had number 0: now each has its own.
        let mut seqs: Vec<u64> = ["a", "b", "c"]
            .iter()
            .map(|id| s.get(id).unwrap().unwrap().seq)
            .collect();
        seqs.sort();
        seqs.dedup();
        assert_eq!(seqs.len(), 3);
        let Submitted::New(next) = s.submit(job("d", None), &[1], "f").unwrap() else {
            panic!()
        };
        assert!(next.seq > *seqs.last().unwrap());
        assert_eq!(s.by_idempotency_key("k", "f").unwrap().unwrap().job_id, "a");
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
