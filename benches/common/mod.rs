//! What the benches that measure in child processes share: each phase runs in a fresh process
//! (the bench binary again, told its phase by environment variables), so that the peak memory
//! it reports is its own.

use std::process::Command;

/// This process's peak resident memory (VmHWM), in MiB; NaN where /proc does not say.
pub fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Runs this bench binary again with `vars` set; returns the JSON the child printed after
/// `marker` (one line). Panics with the child's stderr when it fails.
pub fn run_child(vars: &[(&str, &std::ffi::OsStr)], marker: &str) -> serde_json::Value {
    let mut command = Command::new(std::env::current_exe().unwrap());
    for (k, v) in vars {
        command.env(k, v);
    }
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{vars:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix(marker))
        .expect("child result");
    serde_json::from_str(line).unwrap()
}
