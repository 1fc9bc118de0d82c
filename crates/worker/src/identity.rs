//! The worker's identity: an ed25519 key pair made on first start and kept in the data
//! directory (`worker.key`, the 32-byte secret seed in hex, mode 0600). The worker id is the
//! public key: it goes into every job binding, and it signs every receipt.
//!
//! The file is written and read by [`zkw_verifier::ed25519::write_secret_key`] and
//! [`zkw_verifier::ed25519::read_secret_key`], the helpers every secret key of zkworker goes
//! through: made whole or not at all and never replacing a key, so a crash leaves either no
//! key (made again on the next start, before any job is accepted) or the whole key; and a key
//! its group or others may read is refused at start, since whoever read it can sign receipts
//! as this worker.

use std::path::Path;

use zkw_verifier::WorkerKey;
use zkw_verifier::ed25519::{KeyPair, SecretKeyError, read_secret_key, write_secret_key};

use crate::error::WorkerError;

/// The key file's name in the data directory.
pub const KEY_FILE: &str = "worker.key";

/// Loads the worker's key from `data`, or makes one (and says so) on first start.
pub fn load_or_create(data: &Path) -> Result<(WorkerKey, bool), WorkerError> {
    let path = data.join(KEY_FILE);
    match read_secret_key(&path) {
        Ok(key) => Ok((key.into(), false)),
        Err(SecretKeyError::Io { error, .. }) if error.kind() == std::io::ErrorKind::NotFound => {
            let key = KeyPair::generate()
                .map_err(|e| WorkerError::Internal(format!("no OS randomness: {e}")))?;
            write_secret_key(&path, &key).map_err(|e| WorkerError::io(&path, e))?;
            Ok((key.into(), true))
        }
        Err(SecretKeyError::Io { path, error }) => Err(WorkerError::io(path, error)),
        Err(e) => Err(WorkerError::Config(format!("the worker key: {e}"))),
    }
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
        #[cfg(unix)]
        {
            // Readable by others: refused, not served.
            use std::os::unix::fs::PermissionsExt;
            let p = dir.path().join(KEY_FILE);
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
            let err = load_or_create(dir.path()).unwrap_err().to_string();
            assert!(err.contains("readable by others (mode 644)"), "{err}");
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        std::fs::write(dir.path().join(KEY_FILE), "nonsense").unwrap();
        let err = load_or_create(dir.path()).unwrap_err().to_string();
        assert!(err.contains("not a secret key file"), "{err}");
    }
}
