//! `zkw conformance DIR`: run a folder of external ONNX cases end to end — import (calibrated
//! on the case's input), run, compare with the float reference (`zkw_onnx::conformance`: the
//! case format and the tolerance rule), set up, prove, verify — and print one row per case
//! and `N passed, M failed`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use zkw_model::model_id;
use zkw_onnx::conformance;
use zkw_prover::{LocalProver, setup};
use zkw_verifier::digest::input_digest;
use zkw_verifier::{Expected, InputSalt, Job, verify};

/// Which cases of the manifest to run.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Tier {
    /// Cases made of the core op set.
    Core,
    /// Everything else.
    Extended,
    /// Both.
    All,
}

/// `zkw conformance`.
#[derive(Args)]
pub struct ConformanceArgs {
    /// The folder of case folders (e.g. tests/conformance/ezkl).
    pub dir: PathBuf,
    /// Which tier of MANIFEST.tsv to run (cases without a manifest row run under `all`).
    #[arg(long, value_enum, default_value = "all")]
    pub tier: Tier,
    /// Only cases whose name contains this.
    #[arg(long)]
    pub filter: Option<String>,
    /// Import, run and compare only: no setup, proof or verification.
    #[arg(long)]
    pub no_prove: bool,
}

/// The outcome of one case.
struct Row {
    name: String,
    passed: bool,
    /// Largest absolute error and that error relative to the output range.
    error: Option<(f64, f64)>,
    constraints: Option<usize>,
    prove_s: Option<f64>,
    reason: String,
}

/// Runs one case — the accuracy check (`zkw_onnx::conformance::check`), then, unless told
/// not to, setup, proof and verification; `Err` is the reason it failed.
fn check(name: &str, dir: &Path, prove: bool, row: &mut Row) -> Result<()> {
    let checked = conformance::check(dir)?;
    let e = &checked.error;
    row.error = Some((e.max_abs, e.relative()));
    if !e.within_tolerance() {
        bail!(
            "error {:.4} beyond the tolerance (5% of range {:.4} + 2 steps of {})",
            e.max_abs,
            e.float_range,
            e.step
        );
    }
    if prove {
        let (model, q) = (checked.model, checked.input);
        let id = model_id(&model);
        let keys = tempfile::tempdir()?;
        let report = setup(&model, &id, keys.path(), &|_| {})?;
        row.constraints = Some(report.record.constraints);
        let prover = LocalProver::load(model, &id, keys.path())?;
        let job = Job {
            job_id: name.into(),
            worker_id: "conformance".into(),
            client_nonce: String::new(),
            request: None,
        };
        let salt = InputSalt::from_bytes([0x17; 31]);
        let t = Instant::now();
        let proved = prover.prove(&q, &salt, &job)?;
        row.prove_s = Some(t.elapsed().as_secs_f64());
        let digest = input_digest(&q, report.record.input.bits, &salt)?;
        verify(
            &proved.receipt,
            prover.verifier_key(),
            &Expected::new(&report.record, digest, &job.job_id),
        )?;
    }
    Ok(())
}

/// `zkw conformance`: exit 0 when every selected case passed.
pub fn conformance(a: ConformanceArgs) -> Result<bool> {
    let selected: Vec<String> = conformance::cases(&a.dir)?
        .into_iter()
        .filter(|c| match (a.tier, c.tier.as_deref()) {
            (Tier::All, _) => true,
            (Tier::Core, Some(t)) => t == "core",
            (Tier::Extended, Some(t)) => t == "extended",
            (_, None) => false,
        })
        .map(|c| c.name)
        .filter(|name| a.filter.as_ref().is_none_or(|f| name.contains(f.as_str())))
        .collect();
    if selected.is_empty() {
        bail!("no case in {} matches", a.dir.display());
    }
    let pb = ProgressBar::new(selected.len() as u64);
    pb.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} ({elapsed})")
            .expect("static template"),
    );
    let mut rows = Vec::new();
    for name in &selected {
        pb.set_message(name.clone());
        let mut row = Row {
            name: name.clone(),
            passed: false,
            error: None,
            constraints: None,
            prove_s: None,
            reason: String::new(),
        };
        match check(name, &a.dir.join(name), !a.no_prove, &mut row) {
            Ok(()) => row.passed = true,
            Err(e) => row.reason = format!("{e:#}"),
        }
        rows.push(row);
        pb.inc(1);
    }
    pb.finish_and_clear();
    outln!("| case | status | max abs error | of range | constraints | prove | reason |");
    outln!("|---|---|---|---|---|---|---|");
    for r in &rows {
        let opt = |v: Option<String>| v.unwrap_or_else(|| "—".into());
        outln!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.name,
            if r.passed { "pass" } else { "FAIL" },
            opt(r.error.map(|(e, _)| format!("{e:.4}"))),
            opt(r.error.map(|(_, rel)| format!("{:.2}%", 100.0 * rel))),
            opt(r.constraints.map(crate::out::count)),
            opt(r.prove_s.map(|s| format!("{s:.2} s"))),
            r.reason.replace('|', "\\|"),
        );
    }
    let passed = rows.iter().filter(|r| r.passed).count();
    outln!("{passed} passed, {} failed", rows.len() - passed);
    Ok(passed == rows.len())
}
