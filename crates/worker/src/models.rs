//! The models a worker serves, keyed by model id, loaded once and shared by every job.
//!
//! The models directory holds key directories as `zkw model setup` writes them (the record,
//! the keys and `model.zkm`): either the directory itself is one, or each of its
//! subdirectories is (`DIR/<model_id>/…` or any other names). Models are loaded at start;
//! [`ModelStore::reload`] (SIGHUP, or the ReloadModels call) loads the directories added since.
//! A directory that fails to load is reported and skipped, never half-served.
//!
//! With a registry ([`ModelStore::with_registry`]), a directory is served only if it holds what
//! its model's owner registered: the same record, and key files whose blake3 digests are the
//! registration's. A worker serving other keys would sign receipts that settle against nothing
//! (or, with a wrong proving key, false receipts it is penalised for); it leaves them out
//! (as any directory that fails to load) and says which file differs. A registered model it
//! holds no valid licence for is served (the licence may come later) but named
//! ([`ModelStore::unlicensed`]): its receipts would verify and not be paid.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use zkw_prover::{KeyDir, LocalProver, Prover};
use zkw_settlement::Registry;
use zkw_verifier::ClientRequest;

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
    /// Models loaded now whose receipts, signed by this worker, would verify but not settle
    /// (with a registry only): the model id and why. Filled by the worker, which knows its id.
    pub unlicensed: Vec<(String, String)>,
}

/// The served models.
pub struct ModelStore {
    dir: PathBuf,
    registry: Option<Registry>,
    models: RwLock<BTreeMap<String, Arc<ServedModel>>>,
    /// One reload at a time: two would load the same (large) keys twice.
    reloading: std::sync::Mutex<()>,
}

impl ModelStore {
    /// An empty store over `dir`; call [`ModelStore::reload`] to load it.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ModelStore {
            dir: dir.into(),
            registry: None,
            models: RwLock::default(),
            reloading: std::sync::Mutex::new(()),
        }
    }

    /// With a registry, serves only key directories that match their registration there;
    /// with `None`, every directory that loads.
    pub fn with_registry(mut self, registry: Option<PathBuf>) -> Self {
        self.registry = registry.map(Registry::new);
        self
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
                        let registered = match &self.registry {
                            Some(registry) => check_registered(registry, dir),
                            None => Ok(()),
                        };
                        let r = registered
                            .and_then(|()| LocalProver::open(dir).map_err(|e| e.to_string()))
                            .map(|p| ServedModel {
                                prover: Arc::new(p),
                                dir: dir.clone(),
                                load_time: t.elapsed(),
                            });
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

    /// Why `worker_id` would not be paid for `model_id`'s receipts at `now` (seconds since
    /// the Unix epoch) under the registry: `None` without a registry, or with a licence that
    /// permits it. Served models are registered (checked on load), but the registry may have
    /// changed since; a lookup that fails is a reason too.
    pub fn unlicensed(&self, model_id: &str, worker_id: &str, now: u64) -> Option<String> {
        let registry = self.registry.as_ref()?;
        let refused = match registry.model(model_id) {
            Ok(model) => registry.licensed(&model, worker_id, now).err()?.to_string(),
            Err(e) => e.to_string(),
        };
        Some(refused)
    }

    /// Why no venue would pay a receipt answering `request` for `model_id`, as the registry's
    /// current registration of the model tells: a venue it does not list, a fee below the
    /// model's. `None` without a registry (the worker cannot know the terms), or when the
    /// request meets them. (Whether the client funded the request — a ledger deposit, a
    /// contract's `request` call — no worker can see from here.)
    pub fn unpayable(&self, model_id: &str, request: &ClientRequest) -> Option<String> {
        let registry = self.registry.as_ref()?;
        let reg = match registry.model(model_id) {
            Ok(m) => m.registration,
            Err(e) => return Some(e.to_string()),
        };
        if !reg.venues.contains(&request.venue()) {
            let listed: Vec<String> = reg.venues.iter().map(|v| v.to_string()).collect();
            return Some(format!(
                "names venue {}, which model {model_id}'s registration does not list ({})",
                request.venue(),
                if listed.is_empty() {
                    "it lists none".to_string()
                } else {
                    listed.join(", ")
                }
            ));
        }
        if request.fee() < reg.reward.fee {
            return Some(format!(
                "pays {}, below model {model_id}'s fee {}",
                request.fee(),
                reg.reward.fee
            ));
        }
        None
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

/// Whether the key directory `dir` holds what its model's owner registered: the registration
/// (owner-signed, checked by the registry) has the directory's record, and each key file it
/// names has the digest it gives. `Err` says what differs.
fn check_registered(registry: &Registry, dir: &Path) -> Result<(), String> {
    let keys = KeyDir::new(dir);
    let record = keys.read_record().map_err(|e| e.to_string())?;
    let registered = registry
        .model(&record.model_id)
        .map_err(|e| e.to_string())?;
    if registered.record() != &record {
        return Err(format!(
            "its record is not the one registered for model {} (vk {} here, {} registered)",
            record.model_id,
            record.vk_id,
            registered.record().vk_id
        ));
    }
    let here = keys.file_digests(&record).map_err(|e| e.to_string())?;
    let files = &registered.registration.key_files;
    if files.is_empty() {
        return Err(format!(
            "the registration of model {} names no key files to check",
            record.model_id
        ));
    }
    for (name, digest) in files {
        match here.get(name) {
            Some(d) if d == digest => {}
            Some(d) => {
                return Err(format!(
                    "key file {name} is not the registered one (blake3 {d}, registered {digest})"
                ));
            }
            None => {
                return Err(format!(
                    "the registration names key file {name}, which this directory does not have"
                ));
            }
        }
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use zkw_model::WeightMode;
    use zkw_model::testing::mlp;
    use zkw_verifier::{KeyPair, Licence, Registration, Reward, WorkerKey};

    use super::*;

    /// A models directory with the tiny MLP's key directory in `models/tiny`, and a registry.
    fn setup() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let m = mlp(WeightMode::Fixed);
        let id = zkw_model::model_id(&m);
        let keys = dir.path().join("models/tiny");
        // Registrable keys: set up by the owner that `register` signs with.
        let owner = KeyPair::from_seed(&[3; 32]).public_hex();
        zkw_prover::setup_owned(&m, &id, &owner, &keys, &|_| {}).unwrap();
        let registry = dir.path().join("registry");
        (dir, keys, registry)
    }

    /// Registers the key directory `keys` as its files are now, with `edit` applied.
    fn register(keys: &Path, registry: &Path, edit: impl FnOnce(&mut Registration)) {
        let keys = KeyDir::new(keys);
        let record = keys.read_record().unwrap();
        let key = keys.read_vk(&record).unwrap();
        let digests = keys.file_digests(&record).unwrap();
        let reward = Reward {
            fee: 10,
            worker_share_bps: 5000,
            penalty: 1,
        };
        let owner = KeyPair::from_seed(&[3; 32]);
        // The owner's proof of holding the proving key, stated for the (edited) record.
        let prover = zkw_prover::LocalProver::open(&keys.dir).unwrap();
        let honest = zkw_prover::ownership::prove_ownership(&prover, &owner).unwrap();
        let possession = zkw_verifier::intoto::Statement::open(&honest, &owner.public_hex())
            .unwrap()
            .predicate_as::<zkw_verifier::ownership::SetupPredicate>(
                zkw_verifier::ownership::SETUP_PREDICATE,
            )
            .unwrap()
            .possession;
        let mut registration = Registration::new(record, &key, reward, digests);
        edit(&mut registration);
        registration.setup = Some(
            zkw_verifier::ownership::sign_setup(&registration.record, possession, &owner).unwrap(),
        );
        registration.sign(&owner);
        Registry::new(registry)
            .register(&registration, &owner)
            .unwrap();
    }

    /// What loading the models directory of `keys` with `registry` says: the model ids
    /// served, and each refused directory's reason.
    fn load(keys: &Path, registry: &Path) -> (Vec<String>, Vec<String>) {
        let store =
            ModelStore::new(keys.parent().unwrap()).with_registry(Some(registry.to_path_buf()));
        let report = store.reload().unwrap();
        let failed = report.failed.into_iter().map(|(_, why)| why).collect();
        (report.added, failed)
    }

    #[test]
    fn a_registered_model_is_served() {
        let (_dir, keys, registry) = setup();
        register(&keys, &registry, |_| {});
        let (added, failed) = load(&keys, &registry);
        assert_eq!(failed, Vec::<String>::new());
        assert_eq!(added.len(), 1);
        // Without a registry the same directory loads as before.
        let plain = ModelStore::new(keys.parent().unwrap()).reload().unwrap();
        assert_eq!(plain.added, added);
    }

    #[test]
    fn an_unregistered_model_is_not_served() {
        let (_dir, keys, registry) = setup();
        let (added, failed) = load(&keys, &registry);
        assert!(added.is_empty());
        let id = KeyDir::new(&keys).read_record().unwrap().model_id;
        assert_eq!(failed.len(), 1);
        assert!(
            failed[0].ends_with(&format!("model {id} is not registered")),
            "{}",
            failed[0]
        );
    }

    #[test]
    fn a_model_the_worker_holds_no_valid_licence_for_is_named() {
        let (_dir, keys, registry) = setup();
        register(&keys, &registry, |_| {});
        let id = KeyDir::new(&keys).read_record().unwrap().model_id;
        let worker = WorkerKey::from_seed(&[4; 32]).worker_id();
        let store =
            ModelStore::new(keys.parent().unwrap()).with_registry(Some(registry.to_path_buf()));
        store.reload().unwrap();
        let unlicensed = |now| store.unlicensed(&id, &worker, now);
        assert_eq!(
            unlicensed(100).as_deref(),
            Some(
                format!(
                    "worker {worker} is not licensed for model {id}: it holds no licence for it"
                )
                .as_str()
            )
        );

        let owner = KeyPair::from_seed(&[3; 32]);
        let reg = Registry::new(&registry);
        reg.add_licence(&Licence::issue(&owner, &id, &worker, Some(200)))
            .unwrap();
        assert_eq!(unlicensed(199), None);
        assert_eq!(
            unlicensed(200).as_deref(),
            Some(format!("worker {worker} is not licensed for model {id}: the licence expired at 200 (Unix time)").as_str())
        );
        // Another worker's licence is not this one's.
        assert!(
            store
                .unlicensed(&id, &WorkerKey::from_seed(&[5; 32]).worker_id(), 100)
                .is_some()
        );

        // A licence file that no longer parses is a reason, not a pass.
        let path = reg.licence_path(&id, &worker).unwrap();
        std::fs::write(&path, b"{").unwrap();
        let why = unlicensed(100).unwrap();
        assert!(why.contains(&path.display().to_string()), "{why}");

        // A model the registry no longer holds.
        std::fs::remove_dir_all(reg.history_dir(&id).unwrap()).unwrap();
        assert!(unlicensed(100).unwrap().ends_with("is not registered"));

        // Without a registry there is nothing to settle against: no warning.
        let plain = ModelStore::new(keys.parent().unwrap());
        assert_eq!(plain.unlicensed(&id, &worker, 100), None);
    }

    #[test]
    fn a_key_file_other_than_the_registered_one_is_named() {
        let (_dir, keys, registry) = setup();
        register(&keys, &registry, |_| {});
        let record = KeyDir::new(&keys).read_record().unwrap();
        let baseline = KeyDir::new(&keys).baseline_path(&record.vk_id);
        let mut bytes = std::fs::read(&baseline).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        std::fs::write(&baseline, bytes).unwrap();
        let name = baseline.file_name().unwrap().to_str().unwrap().to_string();
        let now = KeyDir::new(&keys).file_digests(&record).unwrap()[&name].clone();
        let (added, failed) = load(&keys, &registry);
        assert!(added.is_empty());
        assert_eq!(failed.len(), 1);
        assert!(
            failed[0].starts_with(&format!(
                "key file {name} is not the registered one (blake3 {now}, registered "
            )),
            "{}",
            failed[0]
        );
    }

    #[test]
    fn a_registration_of_another_record_or_other_files_is_refused() {
        // The record registered differs from the directory's (another name).
        let (_dir, keys, registry) = setup();
        register(&keys, &registry, |r| r.record.name = "renamed".into());
        let (added, failed) = load(&keys, &registry);
        assert!(added.is_empty());
        assert!(
            failed[0].starts_with("its record is not the one registered for model"),
            "{}",
            failed[0]
        );

        // A file the registration names and the directory lacks.
        let (_dir, keys, registry) = setup();
        register(&keys, &registry, |r| {
            r.key_files.insert("extra.bin".into(), "00".repeat(32));
        });
        let (added, failed) = load(&keys, &registry);
        assert!(added.is_empty());
        assert_eq!(
            failed,
            ["the registration names key file extra.bin, which this directory does not have"]
        );

        // A registration that names no file leaves nothing to check.
        let (_dir, keys, registry) = setup();
        register(&keys, &registry, |r| r.key_files.clear());
        let (added, failed) = load(&keys, &registry);
        assert!(added.is_empty());
        assert!(
            failed[0].ends_with("names no key files to check"),
            "{}",
            failed[0]
        );
    }
}
