//! Reading a file of outside bytes under a size cap, so that its size cannot choose how much
//! memory its reader allocates.
//!
//! Receipts, registrations, licences, records and keys come from others — a worker, a registry
//! directory others can write to, a file someone was sent — and `std::fs::read` reads a file
//! whole, however large: a 256 MB receipt was enough to abort `zkw settle` on a failed
//! allocation. Every such file is read through [`read_capped`], with the cap its type declares
//! (`MAX_RECEIPT_BYTES` and the like, each beside its type), which the type's `from_json` checks
//! again for bytes that arrive another way:
//!
//! - the open file's length is checked first, so an oversized file is refused unread;
//! - the read itself stops one byte past the cap ([`Read::take`]), so a file that grows after
//!   the check, a FIFO or a device whose length reads as zero cannot exceed it either.
//!
//! An oversized file is an [`std::io::Error`] of kind [`ErrorKind::FileTooLarge`] carrying a
//! [`TooLarge`] (what the file was read as, its size, the cap), so every caller's existing
//! I/O error path — which names the file — reports it, and one that treats an oversized
//! document as a rejected one rather than a failure can tell it apart ([`too_large`]).

use std::fmt;
use std::fs::File;
use std::io::{self, ErrorKind, Read};
use std::path::Path;

/// A document over the size cap of its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge {
    /// What it was read as (`receipt`, `model registration`, …).
    pub what: &'static str,
    /// Its size in bytes, when known (a file read past the cap has more than `cap`).
    pub size: Option<u64>,
    /// The most bytes a `what` may have.
    pub cap: usize,
}

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.size {
            Some(size) => write!(f, "too large for a {}: {size} bytes", self.what)?,
            None => write!(f, "too large for a {}: more bytes than the cap", self.what)?,
        }
        let cap = human(self.cap);
        if cap.ends_with(" bytes") {
            write!(f, ", the cap is {cap}")
        } else {
            write!(f, ", the cap is {cap} ({} bytes)", self.cap)
        }
    }
}

impl std::error::Error for TooLarge {}

/// `64 MiB`, `16 KiB`, `900 bytes`: a cap as people read it.
fn human(bytes: usize) -> String {
    const MIB: usize = 1 << 20;
    const KIB: usize = 1 << 10;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// Reads the file at `path` whole, refusing one of more than `cap` bytes without reading it
/// (see the module docs). `what` names the document in the error (`receipt`); the caller
/// names the file, as it does for every I/O error.
pub fn read_capped(path: &Path, cap: usize, what: &'static str) -> io::Result<Vec<u8>> {
    let file = File::open(path)?;
    read_open(file, cap, what)
}

/// [`read_capped`] for files that must be plain files — a registry's entries and licences,
/// a pin file: opened without following a final symbolic link and without blocking (a FIFO
/// planted in their place would otherwise hang every reader), and refused unless a regular
/// file.
pub fn read_capped_regular(path: &Path, cap: usize, what: &'static str) -> io::Result<Vec<u8>> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            ErrorKind::InvalidInput,
            format!("not a regular file (a {what} is one)"),
        ));
    }
    read_open(file, cap, what)
}

/// [`read_capped`] of a file already open (so that a caller can check its metadata on the
/// same descriptor it reads).
pub(crate) fn read_open(file: File, cap: usize, what: &'static str) -> io::Result<Vec<u8>> {
    let meta = file.metadata()?;
    // A regular file's length is known before reading; anything else (a FIFO, a device)
    // reports 0 or a guess, and only the bounded read below limits it.
    let known = meta.is_file().then_some(meta.len());
    if let Some(len) = known
        && len > cap as u64
    {
        return Err(too_large_error(TooLarge {
            what,
            size: Some(len),
            cap,
        }));
    }
    let hint = known.map_or(8 * 1024, |len| len as usize + 1).min(cap + 1);
    let mut bytes = Vec::with_capacity(hint);
    file.take(cap as u64 + 1).read_to_end(&mut bytes)?;
    if bytes.len() > cap {
        return Err(too_large_error(TooLarge {
            what,
            size: None,
            cap,
        }));
    }
    Ok(bytes)
}

fn too_large_error(e: TooLarge) -> io::Error {
    io::Error::new(ErrorKind::FileTooLarge, e)
}

/// The [`TooLarge`] inside an error from [`read_capped`], if that is why it failed.
pub fn too_large(e: &io::Error) -> Option<&TooLarge> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<TooLarge>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_up_to_the_cap_are_read_and_larger_ones_refused_unread() {
        let dir = std::env::temp_dir().join(format!("zkw-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("f");
        std::fs::write(&p, [7u8; 100]).unwrap();
        assert_eq!(read_capped(&p, 100, "receipt").unwrap(), vec![7u8; 100]);
        let e = read_capped(&p, 99, "receipt").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::FileTooLarge);
        assert_eq!(
            too_large(&e),
            Some(&TooLarge {
                what: "receipt",
                size: Some(100),
                cap: 99
            })
        );
        assert_eq!(
            e.to_string(),
            "too large for a receipt: 100 bytes, the cap is 99 bytes"
        );
        let missing = read_capped(&dir.join("missing"), 10, "receipt").unwrap_err();
        assert_eq!(missing.kind(), ErrorKind::NotFound);
        assert_eq!(too_large(&missing), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_stream_with_no_length_is_cut_at_the_cap() {
        // /dev/zero has no end and reads as length 0: only the bounded read stops it.
        let e = read_capped(Path::new("/dev/zero"), 1 << 20, "licence").unwrap_err();
        assert_eq!(
            too_large(&e),
            Some(&TooLarge {
                what: "licence",
                size: None,
                cap: 1 << 20
            })
        );
        assert_eq!(
            e.to_string(),
            "too large for a licence: more bytes than the cap, the cap is 1 MiB (1048576 bytes)"
        );
    }

    #[test]
    fn caps_read_as_people_write_them() {
        assert_eq!(human(64 << 20), "64 MiB");
        assert_eq!(human(16 << 10), "16 KiB");
        assert_eq!(human(1000), "1000 bytes");
    }
}
