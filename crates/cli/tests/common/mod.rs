//! What every test of the `zkw` binary needs: running it, paths as arguments, the bundled
//! digits example.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `zkw` with `args` to completion.
pub fn zkw(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zkw"))
        .args(args)
        .env("XDG_RUNTIME_DIR", "/tmp")
        .output()
        .expect("run zkw")
}

/// Runs `zkw` with `args`, its stdout a pipe nobody reads (closed before `zkw` starts, as
/// `zkw … | head -n1` closes it after one line); returns its stderr and exit status.
pub fn zkw_closed_stdout(args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    Command::new(env!("CARGO_BIN_EXE_zkw"))
        .args(args)
        .env("XDG_RUNTIME_DIR", "/tmp")
        .stdout(writer)
        .output()
        .expect("run zkw")
}

/// A path as a command-line argument.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `examples/digits`: the bundled model, its input and calibration.
pub fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/digits")
}
