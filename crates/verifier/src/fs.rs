//! Writing a file whole or not at all: the one durability contract of every file zkworker
//! writes for keeps (keys, records, registrations, licences, pins, secret keys, model files).
//!
//! [`write_atomic`] always does the same five things, in order:
//!
//! 1. **create new**: a temporary file beside the target, under a random name, created
//!    exclusively (`O_EXCL`), so a file or link planted under a guessable name is never
//!    followed or reused; a secret file is created mode 0600 and never had looser rights;
//! 2. write the bytes and **fsync** the file;
//! 3. put it under its name: **rename** over an existing file ([`Existing::Replace`]), or
//!    link it only if the name is free ([`Existing::Keep`]: an existing file is an
//!    [`ErrorKind::AlreadyExists`] error and stays untouched);
//! 4. **fsync the directory**, since the new name is durable only once the directory is;
//! 5. on any failure, remove the temporary file.
//!
//! So a crash or a full disk leaves either the old file or the new one, never half of one,
//! and a reader never sees a file being written. Reading outside bytes under a size cap is
//! the sibling module [`crate::file`]. The helper lives in the light verifier crate because
//! it is the one crate every writer (prover, settlement, worker, CLI) already depends on.

use std::io::{self, ErrorKind, Write};
use std::path::Path;

/// What to do when the target name already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Replace it (atomically: readers see the old file or the new one).
    Replace,
    /// Keep it and fail with [`ErrorKind::AlreadyExists`]: for files that are never
    /// overwritten (secret keys, history entries).
    Keep,
}

/// Who may read the new file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The usual rights (0644 less the umask): published files.
    Public,
    /// Exactly 0600 on Unix, from the moment the file exists: secret keys and private weights.
    Secret,
}

/// Writes `bytes` to `path` whole or not at all; see the module docs for the contract. The
/// directory must exist.
pub fn write_atomic(
    path: &Path,
    bytes: &[u8],
    existing: Existing,
    access: Access,
) -> io::Result<()> {
    let dir = directory_of(path);
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(ErrorKind::InvalidInput, "no file name to write to"))?;
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(name);
    prefix.push(".");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(match access {
            Access::Public => 0o644,
            Access::Secret => 0o600,
        }));
    }
    // Dropping the temporary file on any early return removes it.
    let mut tmp = builder.tempfile_in(dir)?;
    #[cfg(unix)]
    if access == Access::Secret {
        // Exactly 0600, whatever the umask did to the mode asked for at creation.
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    match existing {
        Existing::Replace => tmp.persist(path).map(drop),
        Existing::Keep => tmp.persist_noclobber(path).map(drop),
    }
    .map_err(|e| e.error)?;
    std::fs::File::open(dir)?.sync_all()
}

/// The directory a file's name lives in, the one to put its temporary file in and to fsync:
/// its parent, or the working directory for a bare name.
fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leftovers(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect()
    }

    #[test]
    fn replace_puts_the_new_bytes_under_the_name_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("record.json");
        write_atomic(&p, b"one", Existing::Replace, Access::Public).unwrap();
        write_atomic(&p, b"two", Existing::Replace, Access::Public).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn keep_refuses_an_existing_name_and_leaves_it_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("owner.key");
        write_atomic(&p, b"first", Existing::Keep, Access::Secret).unwrap();
        let err = write_atomic(&p, b"second", Existing::Keep, Access::Secret).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");
        assert_eq!(std::fs::read(&p).unwrap(), b"first");
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn the_temporary_file_lives_beside_the_target() {
        assert_eq!(directory_of(Path::new("owner.key")), Path::new("."));
        assert_eq!(directory_of(Path::new("keys/owner.key")), Path::new("keys"));
        assert_eq!(
            directory_of(Path::new("/etc/zkw/owner.key")),
            Path::new("/etc/zkw")
        );
    }

    #[test]
    fn a_missing_directory_or_name_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("no/such/dir/f");
        let err = write_atomic(&p, b"x", Existing::Replace, Access::Public).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
        let err =
            write_atomic(Path::new("/"), b"x", Existing::Replace, Access::Public).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn secret_files_are_0600_and_public_ones_readable() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let s = dir.path().join("secret");
        write_atomic(&s, b"k", Existing::Keep, Access::Secret).unwrap();
        assert_eq!(mode(&s), 0o600);
        // Replacing a public file with a secret one leaves no trace of the public rights.
        let p = dir.path().join("model.zkm");
        write_atomic(&p, b"m", Existing::Replace, Access::Public).unwrap();
        assert_eq!(mode(&p) & 0o044, 0o044 & !umask());
        write_atomic(&p, b"w", Existing::Replace, Access::Secret).unwrap();
        assert_eq!(mode(&p), 0o600);
    }

    /// The process umask, read from /proc (Linux) or assumed 022.
    #[cfg(unix)]
    fn umask() -> u32 {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("Umask:"))
                    .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
            })
            .unwrap_or(0o022)
    }
}
