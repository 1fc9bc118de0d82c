//! What an outside attack review found, each as the attack it described: a receipt large enough
//! to exhaust memory, a closed stdout, secret keys others could read. Each test fails on the
//! code before the fix (an abort on a failed allocation, death by SIGPIPE or a "Broken pipe"
//! panic, a 0644 key).

mod common;

use common::{s, zkw, zkw_closed_stdout};
use zkw_verifier::receipt::MAX_RECEIPT_BYTES;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The address space `zkw settle` runs in below. The binary refusing a receipt needs under
/// 128 MiB, and a receipt at the cap (64 MiB of `,0`) peaks at about 340 MB; a 256 MB receipt
/// parsed into a JSON tree, as before, peaked at 4.5 GB, and even parsed straight into its
/// type (the cap alone removed) at 1.3 GB: each aborts here.
const ADDRESS_SPACE: u64 = 1 << 30;

/// Runs `zkw` with its address space limited to `limit` bytes.
#[allow(unsafe_code)]
fn zkw_limited(args: &[&str], limit: u64) -> Output {
    use std::os::unix::process::CommandExt;
    let mut c = Command::new(env!("CARGO_BIN_EXE_zkw"));
    c.args(args).env("XDG_RUNTIME_DIR", "/tmp");
    // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        c.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    c.output().expect("run zkw")
}

/// A receipt-shaped JSON file of exactly `size` bytes: a valid receipt's fields around an
/// output of zeros long enough to fill it.
fn write_receipt_of_size(path: &Path, size: usize) {
    let id = "1a".repeat(32);
    let head = format!(
        "{{\"version\":{},\"job_id\":\"j\",\"worker_id\":\"w\",\"client_nonce\":\"n\",\
         \"model_id\":\"{id}\",\"vk_id\":\"{id}\",\"input_digest\":\"07{}\",\
         \"output\":{{\"shape\":[1],\"frac_bits\":0,\"values\":[0.0],\"quantized\":[0",
        zkw_verifier::receipt::RECEIPT_VERSION,
        "00".repeat(31)
    );
    let tail = format!("]}},\"proof\":\"{}\"}}", "00".repeat(128));
    let zeros = size - head.len() - tail.len();
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    f.write_all(head.as_bytes()).unwrap();
    // `,0` pairs, and one space when the rest is odd.
    f.write_all(&b" "[..zeros % 2]).unwrap();
    let chunk = ",0".repeat(1 << 19);
    let mut left = zeros - zeros % 2;
    while left > 0 {
        let n = left.min(chunk.len());
        f.write_all(&chunk.as_bytes()[..n]).unwrap();
        left -= n;
    }
    f.write_all(tail.as_bytes()).unwrap();
    f.into_inner().unwrap().sync_all().unwrap();
    assert_eq!(std::fs::metadata(path).unwrap().len(), size as u64);
}

/// A 256 MB receipt made `zkw settle` abort on a failed allocation: it read the file whole
/// and built a JSON tree of it first. It is now refused unread, as a rejected receipt (exit
/// 1), naming its size and the cap, in an address space of 1 GiB.
#[test]
fn a_256_mb_receipt_is_rejected_unread_not_an_abort() {
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("huge.json");
    write_receipt_of_size(&huge, 256 << 20);
    let o = zkw_limited(
        &[
            "settle",
            "--registry",
            s(&dir.path().join("registry")),
            "--ledger",
            s(&dir.path().join("ledger")),
            s(&huge),
        ],
        ADDRESS_SPACE,
    );
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert!(
        !err.contains("memory allocation") && !err.contains("panicked"),
        "{err}"
    );
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(
        out.contains(&format!(
            "{}: rejected: too large for a receipt: 268435456 bytes, the cap is 64 MiB \
             (67108864 bytes)",
            huge.display()
        )),
        "{out}"
    );

    // One at the cap, its most costly spelling (every value `,0`): parsed in the same
    // address space, and rejected for what it says.
    let at_cap = dir.path().join("at-cap.json");
    write_receipt_of_size(&at_cap, MAX_RECEIPT_BYTES);
    std::fs::remove_file(&huge).unwrap();
    let o = zkw_limited(
        &[
            "settle",
            "--registry",
            s(&dir.path().join("registry")),
            "--ledger",
            s(&dir.path().join("ledger")),
            s(&at_cap),
        ],
        ADDRESS_SPACE,
    );
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(
        out.contains("rejected: malformed receipt: the output's shape [1] holds 1 values"),
        "{out}"
    );
}

/// A closed stdout stops the printing, not the command: no panic, and the command's own
/// exit code (with Rust's default, `println!` panicked with exit 101; with SIGPIPE restored
/// for printing commands, they died of the signal, with no exit code at all).
#[test]
fn a_closed_stdout_is_no_panic_and_keeps_the_exit_code() {
    let o = zkw_closed_stdout(&["model", "ops"]);
    let err = text(&o.stderr);
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
        "{err}"
    );
    assert_eq!(o.status.code(), Some(0), "{err}");

    // A command that fails still says so, on stderr, with its code.
    let o = zkw_closed_stdout(&["keys", "show", "/nonexistent/key"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("/nonexistent/key"));

    // Any other write error loses the output: no panic either, but exit 2, saying why.
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_zkw"))
        .args(["model", "ops"])
        .stdout(full)
        .output()
        .unwrap();
    let err = text(&o.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("error: writing to stdout: No space left on device"),
        "{err}"
    );
}

/// `zkw keys new` writes the secret key mode 0600, refuses to overwrite it, and a key that
/// others may read is refused by every command that reads one.
#[test]
fn secret_keys_are_0600_and_exposed_ones_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("owner.key");
    let o = zkw(&["keys", "new", "-o", s(&key)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let public = text(&o.stdout).trim().to_string();
    assert_eq!(public.len(), 64);
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    let o = zkw(&["keys", "new", "-o", s(&key)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("a key is never overwritten"));

    let o = zkw(&["keys", "show", s(&key)]);
    assert_eq!(text(&o.stdout).trim(), public);
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = zkw(&["keys", "show", s(&key)]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains("readable by others (mode 644)") && err.contains("chmod 600"),
        "{err}"
    );
}
