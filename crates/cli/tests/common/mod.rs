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

/// `zkw worker` on a free loopback port with the CPU backend, `data` and `models`, the flags
/// in `extra` and the environment in `env`; stdout piped (its first line is the address),
/// stderr as given.
pub fn worker_command(data: &Path, models: &Path, extra: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_zkw"));
    c.args([
        "worker",
        "--listen",
        "127.0.0.1:0",
        "--backend",
        "cpu",
        "--data",
    ])
    .arg(data)
    .arg("--models")
    .arg(models)
    .args(extra)
    .env("XDG_RUNTIME_DIR", "/tmp")
    .envs(env.iter().copied())
    .stdout(std::process::Stdio::piped());
    c
}

/// The address a worker prints on its first stdout line, once it listens; `None` when it
/// ended before.
pub fn listening_url(stdout: impl std::io::Read) -> Option<String> {
    use std::io::BufRead;
    let mut line = String::new();
    std::io::BufReader::new(stdout).read_line(&mut line).ok()?;
    line.split_whitespace()
        .find(|w| w.starts_with("http"))
        .map(str::to_string)
}

/// A path as a command-line argument.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `examples/digits`: the bundled model, its input and calibration.
pub fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/digits")
}

/// `zkw`'s stdout, after asserting it exited 0 (its output in the message otherwise).
pub fn succeeded(o: Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The digits example imported with `weights` (`fixed`, `private`) into `dir/<name>.zkm` and
/// set up into `dir/<name>-keys` by the owner whose secret key is `owner_key`: the model file
/// and the keys directory.
pub fn owned_digits(dir: &Path, name: &str, weights: &str, owner_key: &Path) -> (PathBuf, PathBuf) {
    let (zkm, keys) = (
        dir.join(format!("{name}.zkm")),
        dir.join(format!("{name}-keys")),
    );
    succeeded(zkw(&[
        "model",
        "import",
        s(&examples().join("digits.onnx")),
        "-o",
        s(&zkm),
        "--calibration",
        s(&examples().join("calibration.json")),
        "--weights",
        weights,
    ]));
    succeeded(zkw(&[
        "model",
        "setup",
        s(&zkm),
        "-o",
        s(&keys),
        "--owner-key",
        s(owner_key),
    ]));
    (zkm, keys)
}

/// The digits example with fixed weights, owned by a new key in `dir`, set up into
/// `dir/m-keys`: its record, its keys directory, and the example input's values.
pub fn digits_for_a_worker(dir: &Path) -> (zkw_verifier::ModelRecord, PathBuf, Vec<f64>) {
    let owner = dir.join("owner.key");
    succeeded(zkw(&["keys", "new", "-o", s(&owner)]));
    let (_zkm, keys) = owned_digits(dir, "m", "fixed", &owner);
    let record = serde_json::from_slice(&std::fs::read(keys.join("record.json")).unwrap()).unwrap();
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(examples().join("input.json")).unwrap()).unwrap();
    let input = doc["input_data"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    (record, keys, input)
}

/// `zkw model register KEYS --owner-key OWNER --registry REGISTRY EXTRA…`; the model id it
/// registered.
pub fn register(keys: &Path, owner_key: &Path, registry: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "model",
        "register",
        s(keys),
        "--owner-key",
        s(owner_key),
        "--registry",
        s(registry),
    ];
    args.extend_from_slice(extra);
    let out = succeeded(zkw(&args));
    out.lines()
        .next()
        .and_then(|l| l.strip_prefix("registered model "))
        .and_then(|l| l.split_whitespace().next())
        .expect("`registered model ID` first")
        .to_string()
}
