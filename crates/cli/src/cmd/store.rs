//! `zkw worker store check|salvage DATA`: what a worker's job store holds, and a copy of what
//! can be read from a damaged one. Both read a copy of the store and never change it; stop the
//! worker first — a copy taken while it writes can look damaged where it is not.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};
use zkw_worker::job::JobState;
use zkw_worker::server::STORE_FILE;
use zkw_worker::store::salvage::{self, Report};

/// `zkw worker store …`.
#[derive(Subcommand)]
pub enum StoreCmd {
    /// Report what the job store in DATA holds and every damaged record, by job. Exit 0 when
    /// it is sound, 1 when something is damaged.
    Check(CheckArgs),
    /// Copy what can be read from the job store in DATA into a new store (its indexes
    /// rebuilt); a job whose input is lost is written as failed. Then swap the files.
    Salvage(SalvageArgs),
}

/// `zkw worker store check`.
#[derive(Args)]
pub struct CheckArgs {
    /// The worker's data directory.
    pub data: PathBuf,
}

/// `zkw worker store salvage`.
#[derive(Args)]
pub struct SalvageArgs {
    /// The worker's data directory.
    pub data: PathBuf,
    /// Where to write the new store (default: DATA/jobs.salvaged.redb; never overwritten).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Runs a store command; the exit code as documented on each.
pub fn store(cmd: StoreCmd) -> Result<ExitCode> {
    match cmd {
        StoreCmd::Check(a) => {
            let path = a.data.join(STORE_FILE);
            // Its errors name the file.
            let report = salvage::scan(&path)?;
            print_report(&path, &report);
            Ok(if report.is_sound() {
                outln!("sound");
                ExitCode::SUCCESS
            } else {
                outln!(
                    "damaged: `zkw worker store salvage {}` copies out what can be read",
                    a.data.display()
                );
                ExitCode::from(1)
            })
        }
        StoreCmd::Salvage(a) => {
            let path = a.data.join(STORE_FILE);
            let out = a.out.unwrap_or_else(|| salvage::default_target(&path));
            let (report, salvaged) = salvage::salvage(&path, &out)?;
            print_report(&path, &report);
            outln!(
                "wrote {}: {}{}{}",
                out.display(),
                by_state(&salvaged.counts),
                lost(salvaged.inputs_lost, "input"),
                lost(salvaged.receipts_lost, "receipt"),
            );
            if salvaged.carved_unfinished > 0 {
                outln!(
                    "{} unfinished jobs came out of the file's bytes: they run again, though \
                     some may have ended before (their history says so)",
                    salvaged.carved_unfinished
                );
            }
            outln!(
                "to use it, with the worker stopped: mv {p} {p}.damaged && mv {o} {p}",
                p = path.display(),
                o = out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn lost(n: usize, what: &str) -> String {
    match n {
        0 => String::new(),
        1 => format!("; 1 {what} lost"),
        n => format!("; {n} {what}s lost"),
    }
}

fn by_state(counts: &BTreeMap<JobState, usize>) -> String {
    let total: usize = counts.values().sum();
    let parts: Vec<String> = JobState::ALL
        .iter()
        .filter_map(|s| {
            let n = counts.get(s).copied().unwrap_or(0);
            (n > 0).then(|| format!("{n} {}", s.as_str().to_lowercase()))
        })
        .collect();
    if parts.is_empty() {
        "0 jobs".into()
    } else {
        format!("{total} jobs ({})", parts.join(", "))
    }
}

fn print_report(path: &std::path::Path, r: &Report) {
    outln!("{}", path.display());
    if let Some(why) = &r.unopenable {
        outln!("  redb cannot open it: {why}");
    }
    outln!("  {}", by_state(&r.counts()));
    outln!(
        "  {} inputs, {} receipts, {} idempotency keys",
        r.inputs.len(),
        r.receipts.len(),
        r.keys.len()
    );
    for q in &r.quarantined {
        outln!("  quarantined: job {}: {}", q.job_id, q.reason);
    }
    for p in &r.problems {
        outln!("  damaged: {p}");
    }
}
