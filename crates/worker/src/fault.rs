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

use std::time::Duration;

use crate::error::WorkerError;
use crate::worker::Worker;

/// The environment variable.
pub const FAULT_VAR: &str = "ZKW_FAULT";

/// Injects the fatal error `ZKW_FAULT` asks for, if any; an unknown value is a configuration
/// error (a test that misspells its fault must not pass by testing nothing).
pub(crate) fn inject_fatal(worker: &std::sync::Arc<Worker>) -> Result<(), WorkerError> {
    let Ok(fault) = std::env::var(FAULT_VAR) else {
        return Ok(());
    };
    if fault == "fatal-at-start" {
        worker.fail_fatally(format!("an injected fault ({FAULT_VAR}={fault})"));
        return Ok(());
    }
    if let Some(ms) = fault.strip_prefix("fatal-after-ms:") {
        let ms: u64 = ms
            .parse()
            .map_err(|_| WorkerError::Config(format!("{FAULT_VAR}={fault}: not a number")))?;
        let w = worker.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            w.fail_fatally(format!("an injected fault ({FAULT_VAR}={fault})"));
        });
        return Ok(());
    }
    Err(WorkerError::Config(format!(
        "{FAULT_VAR}={fault}: no such fault (fatal-at-start, fatal-after-ms:N)"
    )))
}
