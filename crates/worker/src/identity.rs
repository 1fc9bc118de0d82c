//! The worker's identity: an ed25519 key pair made on first start and kept in the data
//! directory (`worker.key`, the 32-byte secret seed in hex, readable by the owner only). The
//! worker id is the public key: it goes into every job binding, and it signs every receipt.

use std::io::Write;
use std::path::Path;

use zkw_verifier::WorkerKey;

use crate::error::WorkerError;

/// The key file's name in the data directory.
pub const KEY_FILE: &str = "worker.key";

/// Loads the worker's key from `data`, or makes one (and says so) on first start.
pub fn load_or_create(data: &Path) -> Result<(WorkerKey, bool), WorkerError> {
    let path = data.join(KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(&path)
                    .map_err(|e| WorkerError::io(&path, e))?
                    .permissions()
                    .mode();
                if mode & 0o077 != 0 {
                    tracing::warn!(
                        path = %path.display(),
                        "the worker key is readable by others (mode {:o}): chmod 600 it",
                        mode & 0o777
                    );
                }
            }
            let seed: [u8; 32] = hex::decode(text.trim())
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| {
                    WorkerError::Config(format!(
                        "{}: not a worker key (64 hex digits expected)",
                        path.display()
                    ))
                })?;
            Ok((WorkerKey::from_seed(&seed), false))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed)
                .map_err(|e| WorkerError::Internal(format!("no OS randomness: {e}")))?;
            write_secret(&path, format!("{}\n", hex::encode(seed)).as_bytes())?;
            Ok((WorkerKey::from_seed(&seed), true))
        }
        Err(e) => Err(WorkerError::io(&path, e)),
    }
}

/// Writes a file only its owner can read, whole or not at all: a temporary file, synced, then
/// linked under its name (never replacing one) and the directory synced — so a crash leaves
/// either no key (made again on the next start, before any job is accepted) or the whole key.
fn write_secret(path: &Path, bytes: &[u8]) -> Result<(), WorkerError> {
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(&tmp).map_err(|e| WorkerError::io(&tmp, e))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| WorkerError::io(&tmp, e))?;
    drop(f);
    std::fs::hard_link(&tmp, path).map_err(|e| WorkerError::io(path, e))?;
    let _ = std::fs::remove_file(&tmp);
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| WorkerError::io(dir, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_once_then_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (a, created) = load_or_create(dir.path()).unwrap();
        assert!(created);
        let (b, created) = load_or_create(dir.path()).unwrap();
        assert!(!created);
        assert_eq!(a.worker_id(), b.worker_id());
        assert_eq!(a.worker_id().len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(dir.path().join(KEY_FILE), "nonsense").unwrap();
        let err = load_or_create(dir.path()).unwrap_err().to_string();
        assert!(err.contains("not a worker key"), "{err}");
    }
}
