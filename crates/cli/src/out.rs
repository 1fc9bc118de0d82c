//! Printing helpers: every line a command prints (`outln!`), spinners for long
//! phases, sizes and durations for people.
//!
//! `println!` panics when stdout is gone — `zkw verify … | head -n1` died with "Broken pipe"
//! and exit 101 on a verified receipt. Every command prints through `outln!` instead, which
//! treats a closed pipe as "stop printing": the command finishes its work (a registration, a
//! settlement, a key written) and exits with its own code, so a pipeline's exit status still
//! says whether a receipt verified. Rust leaves SIGPIPE ignored, so a closed pipe is this
//! error, never a signal, for every command alike (the daemon and clients need that for their
//! sockets anyway). Any other write error (a full disk) also stops printing, and makes the
//! command exit 2 ([`finish`]): its output was lost.

use std::fmt;
use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// `println!` that never panics: writes a line to stdout unless stdout is gone (see the
/// module docs).
macro_rules! outln {
    () => {
        $crate::out::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::out::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Set by the first failed write to stdout: nothing more is printed.
static STDOUT_GONE: AtomicBool = AtomicBool::new(false);

/// The first write error other than a closed pipe, reported by [`finish`].
static STDOUT_ERROR: OnceLock<io::Error> = OnceLock::new();

/// What `outln!` calls: writes `args` to stdout; a failure stops all later printing and is
/// remembered, never a panic.
pub fn write_stdout(args: fmt::Arguments) {
    if STDOUT_GONE.load(Ordering::Relaxed) {
        return;
    }
    let mut stdout = io::stdout().lock();
    if let Err(e) = stdout.write_fmt(args) {
        gone(e);
    }
}

fn gone(e: io::Error) {
    STDOUT_GONE.store(true, Ordering::Relaxed);
    if e.kind() != io::ErrorKind::BrokenPipe {
        let _ = STDOUT_ERROR.set(e);
    }
}

/// The process's exit code: `code`, unless printing failed for another reason than a closed
/// pipe (then 2, with the error on stderr). Flushes stdout first, so that a write error of
/// the last buffered bytes is caught too.
pub fn finish(code: ExitCode) -> ExitCode {
    if !STDOUT_GONE.load(Ordering::Relaxed)
        && let Err(e) = io::stdout().lock().flush()
    {
        gone(e);
    }
    match STDOUT_ERROR.get() {
        Some(e) => {
            eprintln!("error: writing to stdout: {e}");
            ExitCode::from(2)
        }
        None => code,
    }
}

/// A spinner that shows the current phase of a long operation (hidden when not a terminal).
pub fn spinner(prefix: &str) -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("{spinner} {prefix}: {msg} ({elapsed})")
            .expect("static template"),
    );
    pb.set_prefix(prefix.to_string());
    pb.enable_steady_tick(Duration::from_millis(100));
    pb
}

/// `1.23 s`, `45.6 ms`.
pub fn dur(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else {
        format!("{:.1} ms", s * 1e3)
    }
}

/// `3.9 MiB`.
pub fn size(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", b / (1024.0 * 1024.0))
    } else if b >= 1024.0 {
        format!("{:.1} KiB", b / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

/// `9,606`.
pub fn count(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
