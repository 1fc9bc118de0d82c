//! Fault injection for tests of the worker's failure paths, through one environment variable.
//!
//! `ZKW_FAULT` names a fault the worker injects into itself; unset (as in every real
//! deployment), nothing happens. The tests of a supervisor's view of the daemon — does it exit
//! non-zero, in time, after reporting NOT_SERVING? — need faults at moments no outside action
//! can hit reliably (right as it starts, while it serves), and they drive the real binary, so
//! a compile-time feature would not reach it.
//!
//! | value | fault |
//! |---|---|
//! | `fatal-at-start` | a fatal error as the worker finishes starting, before anyone waits for one |
//! | `fatal-after-ms:N` | a fatal error N milliseconds after the start, while it serves |
//! | `abort-in-inference:V` | the process aborts when it runs the model on an input whose first quantized value is V (alone or in a batch): a poison job |
//! | `disk-full-while:PATH` | every write to the job store fails as on a full disk while the file PATH exists (the soak script's disk-full round where it cannot mount a small file system) |

use std::time::Duration;

use crate::error::WorkerError;

/// The environment variable.
pub const FAULT_VAR: &str = "ZKW_FAULT";

/// Injects the fatal error `ZKW_FAULT` asks for, if any, through `fail_fatally` (the worker's
/// own); an unknown value is a configuration error (a test that misspells its fault must not
/// pass by testing nothing).
pub(crate) fn inject_fatal(
    fail_fatally: impl FnOnce(String) + Send + 'static,
) -> Result<(), WorkerError> {
    // Set but empty is unset, as for most variables (`ZKW_FAULT= zkw worker`).
    let Some(fault) = std::env::var(FAULT_VAR).ok().filter(|f| !f.is_empty()) else {
        return Ok(());
    };
    if fault == "fatal-at-start" {
        fail_fatally(format!("an injected fault ({FAULT_VAR}={fault})"));
        return Ok(());
    }
    if fault.starts_with("abort-in-inference:") {
        // Checked when the model runs ([`abort_in_inference`]); read now so a typo fails here.
        poison()
            .ok_or_else(|| WorkerError::Config(format!("{FAULT_VAR}={fault}: not a number")))?;
        return Ok(());
    }
    if fault.starts_with("disk-full-while:") {
        // Checked at each store write ([`disk_full`]).
        return Ok(());
    }
    if let Some(ms) = fault.strip_prefix("fatal-after-ms:") {
        let ms: u64 = ms
            .parse()
            .map_err(|_| WorkerError::Config(format!("{FAULT_VAR}={fault}: not a number")))?;
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            fail_fatally(format!("an injected fault ({FAULT_VAR}={fault})"));
        });
        return Ok(());
    }
    Err(WorkerError::Config(format!(
        "{FAULT_VAR}={fault}: no such fault (fatal-at-start, fatal-after-ms:N, \
         abort-in-inference:V, disk-full-while:PATH)"
    )))
}

/// The poison input value `abort-in-inference:V` names, if that is the fault.
fn poison() -> Option<i64> {
    static POISON: std::sync::OnceLock<Option<i64>> = std::sync::OnceLock::new();
    *POISON.get_or_init(|| {
        std::env::var(FAULT_VAR)
            .ok()?
            .strip_prefix("abort-in-inference:")?
            .parse()
            .ok()
    })
}

/// Aborts the process, as a crashing executor would, when one of `inputs` (about to run) is
/// the poison input of `ZKW_FAULT=abort-in-inference:V`; nothing otherwise.
pub(crate) fn abort_in_inference<'a>(mut inputs: impl Iterator<Item = &'a [i64]>) {
    if let Some(v) = poison()
        && inputs.any(|x| x.first() == Some(&v))
    {
        eprintln!("{FAULT_VAR}: aborting in inference on an input starting with {v}");
        std::process::abort();
    }
}

/// The error a job store write meets while `ZKW_FAULT=disk-full-while:PATH` holds and PATH
/// exists: what a full disk gives; `Ok` otherwise.
pub(crate) fn disk_full() -> Result<(), WorkerError> {
    static PATH: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();
    let path = PATH.get_or_init(|| {
        let fault = std::env::var(FAULT_VAR).ok()?;
        Some(fault.strip_prefix("disk-full-while:")?.into())
    });
    match path {
        Some(p) if p.exists() => Err(WorkerError::Store(format!(
            "No space left on device (os error 28) ({FAULT_VAR}: {} exists)",
            p.display()
        ))),
        _ => Ok(()),
    }
}
