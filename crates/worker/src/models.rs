//! The models a worker serves, keyed by model id, loaded once and shared by every job.
//!
//! The models directory holds key directories as `zkw model setup` writes them (the record,
//! the keys and `model.zkm`): either the directory itself is one, or each of its
//! subdirectories is (`DIR/<model_id>/…` or any other names). Models are loaded at start;
//! [`ModelStore::reload`] (SIGHUP, or the ReloadModels call) loads the directories added since.
//! A directory that fails to load is reported and skipped, never half-served.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use zkw_prover::{LocalProver, Prover};

use crate::error::WorkerError;

/// A model being served.
pub struct ServedModel {
    /// Its prover (model, keys, matrices, record).
    pub prover: Arc<dyn Prover>,
    /// The key directory it came from.
    pub dir: PathBuf,
    /// How long loading took.
    pub load_time: Duration,
}

impl ServedModel {
    /// The model id.
    pub fn id(&self) -> &str {
        &self.prover.record().model_id
    }
}

/// What a load or reload did.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// Model ids loaded now.
    pub added: Vec<String>,
    /// Directories that failed, with why.
    pub failed: Vec<(PathBuf, String)>,
}

/// The served models.
pub struct ModelStore {
    dir: PathBuf,
    models: RwLock<BTreeMap<String, Arc<ServedModel>>>,
    /// One reload at a time: two would load the same (large) keys twice.
    reloading: std::sync::Mutex<()>,
}

impl ModelStore {
    /// An empty store over `dir`; call [`ModelStore::reload`] to load it.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ModelStore {
            dir: dir.into(),
            models: RwLock::default(),
            reloading: std::sync::Mutex::new(()),
        }
    }

    /// Loads every key directory not loaded yet.
    pub fn reload(&self) -> Result<LoadReport, WorkerError> {
        let _one_at_a_time = self.reloading.lock().unwrap_or_else(|p| p.into_inner());
        let dirs = key_dirs(&self.dir)?;
        let loaded: Vec<PathBuf> = self.list().iter().map(|m| m.dir.clone()).collect();
        let todo: Vec<PathBuf> = dirs.into_iter().filter(|d| !loaded.contains(d)).collect();
        // Each load reads large files and rebuilds a baseline: in parallel.
        let results: Vec<(PathBuf, Result<ServedModel, String>)> = std::thread::scope(|s| {
            let handles: Vec<_> = todo
                .iter()
                .map(|dir| {
                    s.spawn(move || {
                        let t = Instant::now();
                        let r = LocalProver::open(dir)
                            .map(|p| ServedModel {
                                prover: Arc::new(p),
                                dir: dir.clone(),
                                load_time: t.elapsed(),
                            })
                            .map_err(|e| e.to_string());
                        (dir.clone(), r)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| (PathBuf::new(), Err("loading panicked".into())))
                })
                .collect()
        });
        let mut report = LoadReport::default();
        let mut models = self.models.write().unwrap_or_else(|p| p.into_inner());
        for (dir, r) in results {
            match r {
                Ok(m) => {
                    let id = m.id().to_string();
                    if let Some(other) = models.get(&id) {
                        report.failed.push((
                            dir,
                            format!("model {id} is already served from {}", other.dir.display()),
                        ));
                        continue;
                    }
                    report.added.push(id.clone());
                    models.insert(id, Arc::new(m));
                }
                Err(e) => report.failed.push((dir, e)),
            }
        }
        Ok(report)
    }

    /// Serves a model loaded elsewhere (another [`Prover`] implementation); refused when its
    /// id is served already.
    pub fn insert(&self, model: ServedModel) -> Result<(), WorkerError> {
        let mut models = self.models.write().unwrap_or_else(|p| p.into_inner());
        let id = model.id().to_string();
        if models.contains_key(&id) {
            return Err(WorkerError::Config(format!("model {id} is already served")));
        }
        models.insert(id, Arc::new(model));
        Ok(())
    }

    /// A served model.
    pub fn get(&self, model_id: &str) -> Option<Arc<ServedModel>> {
        self.models
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(model_id)
            .cloned()
    }

    /// Every served model, by id.
    pub fn list(&self) -> Vec<Arc<ServedModel>> {
        self.models
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }
}

/// The key directories under `dir`: itself if it is one, else its subdirectories that are.
fn key_dirs(dir: &Path) -> Result<Vec<PathBuf>, WorkerError> {
    let is_key_dir = |d: &Path| d.join("record.json").is_file();
    if is_key_dir(dir) {
        return Ok(vec![dir.to_path_buf()]);
    }
    let entries = std::fs::read_dir(dir).map_err(|e| WorkerError::io(dir, e))?;
    let mut out = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| WorkerError::io(dir, e))?.path();
        if path.is_dir() && is_key_dir(&path) {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}
