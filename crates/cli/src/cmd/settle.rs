//! `zkw settle` and `zkw ledger`: receipts into the ledger, exactly once, and what the ledger
//! holds.
//!
//! `zkw settle` exits 0 when every receipt was settled by this call, 1 when any was refused,
//! left unpaid or penalised (each with its reason), 2 when settlement could not run.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use serde_json::json;
use zkw_settlement::{Ledger, Outcome, Registry, settle as settle_receipts};
use zkw_verifier::file::{read_capped, too_large};
use zkw_verifier::receipt::MAX_RECEIPT_BYTES;
use zkw_verifier::{Receipt, VerificationError};

use crate::out::dur;

/// `zkw settle`.
#[derive(Args)]
pub struct SettleArgs {
    /// Receipts to settle (verified together, one batch per model).
    #[arg(required = true)]
    pub receipts: Vec<PathBuf>,
    /// The registry: the models' owner-signed registrations and licences.
    #[arg(long)]
    pub registry: PathBuf,
    /// The ledger directory (created if missing; shared safely between processes).
    #[arg(long)]
    pub ledger: PathBuf,
    /// Print one JSON object per receipt.
    #[arg(long)]
    pub json: bool,
}

/// Seconds since the Unix epoch; a clock before it is an error (licence expiry depends on it).
pub fn now() -> Result<u64> {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .context("the system clock is before 1970: licence expiry cannot be judged")
}

/// Settles the receipts; the exit code says whether all were.
pub fn settle(a: SettleArgs) -> ExitCode {
    match run(&a) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(a: &SettleArgs) -> Result<bool> {
    let t = Instant::now();
    let registry = Registry::new(&a.registry);
    // A receipt that does not parse is reported and left out; the others go on.
    let mut receipts = Vec::new();
    let mut lines: Vec<(usize, String, serde_json::Value)> = Vec::new();
    let mut all = true;
    for (k, path) in a.receipts.iter().enumerate() {
        // Too large is the receipt's fault, not the run's: rejected like a malformed one.
        let parsed = match read_capped(path, MAX_RECEIPT_BYTES, "receipt") {
            Ok(bytes) => Receipt::from_json(&bytes),
            Err(e) => match too_large(&e) {
                Some(t) => Err(VerificationError::TooLarge(*t)),
                None => Err(e).with_context(|| format!("reading {}", path.display()))?,
            },
        };
        match parsed {
            Ok(r) => receipts.push((k, r)),
            Err(e) => {
                all = false;
                lines.push((
                    k,
                    format!("{}: rejected: {e}", path.display()),
                    json!({
                        "receipt": path, "outcome": "rejected", "settled": false,
                        "reason": e.to_string(),
                    }),
                ));
            }
        }
    }
    let ledger = Ledger::open(&a.ledger)?;
    let parsed: Vec<Receipt> = receipts.iter().map(|(_, r)| r.clone()).collect();
    let outcomes = settle_receipts(&registry, &ledger, &parsed, now()?)?;
    let (mut settled, mut penalised) = (0, 0);
    for ((k, r), outcome) in receipts.iter().zip(&outcomes) {
        let path = &a.receipts[*k];
        settled += usize::from(outcome.is_settled());
        penalised += usize::from(matches!(outcome, Outcome::Penalized { .. }));
        all &= outcome.is_settled();
        lines.push((
            *k,
            format!("{}: {outcome}", path.display()),
            json!({
                "receipt": path,
                "model_id": r.model_id,
                "job_id": r.job_id,
                "worker_id": r.worker_id,
                "outcome": kind(outcome),
                "settled": outcome.is_settled(),
                "reason": outcome.to_string(),
            }),
        ));
    }
    lines.sort_by_key(|(k, _, _)| *k);
    for (_, text, value) in &lines {
        if a.json {
            outln!("{value}");
        } else {
            outln!("{text}");
        }
    }
    if !a.json {
        eprintln!(
            "{settled} of {} settled, {penalised} penalised, in {}",
            a.receipts.len(),
            dur(t.elapsed())
        );
    }
    Ok(all)
}

fn kind(o: &Outcome) -> &'static str {
    match o {
        Outcome::Settled(_) => "settled",
        Outcome::AlreadySettled { .. } => "already_settled",
        Outcome::Penalized { .. } => "penalized",
        Outcome::AlreadyPenalized { .. } => "already_penalized",
        Outcome::Disputed { .. } => "disputed",
        Outcome::Unsigned(_) => "unsigned",
        Outcome::Unlicensed(_) => "unlicensed",
        Outcome::NotPayable { .. } => "not_payable",
        Outcome::Unfunded { .. } => "unfunded",
        Outcome::UnknownModel { .. } => "unknown_model",
        Outcome::Rejected(_) => "rejected",
    }
}

/// `zkw ledger`.
#[derive(Args)]
pub struct LedgerArgs {
    #[command(subcommand)]
    pub command: LedgerCmd,
    /// The ledger directory.
    #[arg(long, global = true)]
    pub ledger: Option<PathBuf>,
    /// Print JSON.
    #[arg(long, global = true)]
    pub json: bool,
}

/// What to show.
#[derive(Subcommand)]
pub enum LedgerCmd {
    /// Every settlement and penalty.
    List,
    /// The settlements and penalties of one job id.
    Show {
        /// The job id.
        job_id: String,
    },
    /// Every account's credits, charges, deposits, debits and net balance.
    Balances,
    /// Every dispute as a statement signed by the ledger's key (an in-toto statement in a DSSE
    /// envelope, one JSON document per line): evidence a worker or owner carries elsewhere,
    /// checked against the ledger's venue (`zkw_verifier::dispute::check_dispute`).
    Disputes,
    /// Print this ledger's venue (`ledger:<id>`), creating the ledger if there is none: the
    /// owner lists it at registration (`zkw model register --venue`), clients name it when
    /// they submit (`zkw submit --venue`).
    Id,
    /// Record a client's deposit: what its settled requests are debited from.
    Deposit {
        /// The client's public key (64 hex digits, `zkw keys show`).
        #[arg(long)]
        client: String,
        /// Units deposited.
        #[arg(long)]
        amount: u64,
    },
    /// Convert a ledger written by an earlier zkw to this build's schema (in place, in one
    /// transaction; a current ledger is left as it is).
    Migrate,
}

/// Prints what the ledger holds.
pub fn ledger(a: LedgerArgs) -> Result<()> {
    let dir = a
        .ledger
        .context("--ledger DIR is required: the ledger directory `zkw settle` wrote")?;
    if let LedgerCmd::Id = a.command {
        let ledger = Ledger::open(&dir)?;
        outln!("{}", ledger.venue());
        return Ok(());
    }
    if !dir.join(zkw_settlement::ledger::LEDGER_FILE).exists() {
        anyhow::bail!(
            "{}: no ledger here (`zkw settle --ledger` makes one)",
            dir.display()
        );
    }
    if let LedgerCmd::Migrate = a.command {
        let found = Ledger::migrate(&dir)?;
        if found == zkw_settlement::ledger::LEDGER_VERSION {
            outln!("{}: already schema version {found}", dir.display());
        } else {
            outln!(
                "{}: migrated schema version {found} to {}",
                dir.display(),
                zkw_settlement::ledger::LEDGER_VERSION
            );
        }
        return Ok(());
    }
    let ledger = Ledger::open(&dir)?;
    match a.command {
        LedgerCmd::Migrate | LedgerCmd::Id => unreachable!("handled above"),
        LedgerCmd::Disputes => {
            let disputes = ledger.disputes()?;
            for d in &disputes {
                outln!("{}", ledger.dispute_statement(d)?.to_json());
            }
            eprintln!("{} disputes, signed by {}", disputes.len(), ledger.venue());
        }
        LedgerCmd::Deposit { client, amount } => {
            let b = ledger.deposit(&client, amount)?;
            outln!(
                "deposited {amount} for client {client}: it holds {} ({} deposited, {} debited)",
                b.net(),
                b.deposited,
                b.debited
            );
        }
        LedgerCmd::List | LedgerCmd::Show { .. } => {
            let job = match &a.command {
                LedgerCmd::Show { job_id } => Some(job_id.as_str()),
                _ => None,
            };
            let settlements: Vec<_> = ledger
                .settlements()?
                .into_iter()
                .filter(|s| job.is_none_or(|j| s.job_id == j))
                .collect();
            let penalties: Vec<_> = ledger
                .penalties()?
                .into_iter()
                .filter(|p| job.is_none_or(|j| p.job_id == j))
                .collect();
            let disputes: Vec<_> = ledger
                .disputes()?
                .into_iter()
                .filter(|d| job.is_none_or(|j| d.job_id == j))
                .collect();
            if let Some(j) = job
                && settlements.is_empty()
                && penalties.is_empty()
                && disputes.is_empty()
            {
                anyhow::bail!("job {j:?} is not in the ledger");
            }
            if a.json {
                let detail = job.is_some();
                let strip = |mut v: serde_json::Value| {
                    if !detail && let Some(o) = v.as_object_mut() {
                        o.remove("receipt");
                    }
                    v
                };
                let out = json!({
                    "settlements": settlements.iter().map(|s| strip(json!(s))).collect::<Vec<_>>(),
                    "penalties": penalties.iter().map(|p| strip(json!(p))).collect::<Vec<_>>(),
                    "disputes": disputes.iter().map(|d| strip(json!(d))).collect::<Vec<_>>(),
                });
                outln!("{}", serde_json::to_string_pretty(&out)?);
                return Ok(());
            }
            for s in &settlements {
                outln!(
                    "settled   job {} model {} at {}: worker {} +{}, owner {} +{}",
                    s.job_id,
                    s.model_id,
                    s.settled_at,
                    s.worker_id,
                    s.worker_credit,
                    s.owner,
                    s.owner_credit
                );
                if job.is_some() {
                    outln!("  receipt {}\n  {}", s.receipt_digest, s.receipt);
                }
            }
            for p in &penalties {
                outln!(
                    "penalty   job {} model {} at {}: worker {} -{} ({})",
                    p.job_id,
                    p.model_id,
                    p.recorded_at,
                    p.worker_id,
                    p.amount,
                    p.reason
                );
                if job.is_some() {
                    outln!("  evidence {}\n  {}", p.receipt_digest, p.receipt);
                }
            }
            for d in &disputes {
                outln!(
                    "dispute   job {} model {} at {}: worker {}, settled by receipt {}, fails \
                     now ({})",
                    d.job_id,
                    d.model_id,
                    d.recorded_at,
                    d.worker_id,
                    d.settled_receipt,
                    d.reason
                );
                if job.is_some() {
                    outln!("  receipt {}\n  {}", d.receipt_digest, d.receipt);
                }
            }
            if job.is_none() {
                eprintln!(
                    "{} settlements, {} penalties, {} disputes",
                    settlements.len(),
                    penalties.len(),
                    disputes.len()
                );
            }
        }
        LedgerCmd::Balances => {
            let balances = ledger.balances()?;
            if a.json {
                let out: Vec<_> = balances
                    .iter()
                    .map(|b| {
                        // 128-bit amounts as decimal strings: JSON numbers lose precision
                        // beyond 2^53 in most readers.
                        json!({
                            "account": b.account, "credited": b.credited.to_string(),
                            "charged": b.charged.to_string(), "net": b.net().to_string(),
                            "deposited": b.deposited.to_string(), "debited": b.debited.to_string(),
                            "jobs": b.jobs, "penalties": b.penalties, "requests": b.requests,
                        })
                    })
                    .collect();
                outln!("{}", serde_json::to_string_pretty(&out)?);
                return Ok(());
            }
            outln!(
                "{:<64}  {:>12}  {:>12}  {:>12}  {:>12}  {:>13}  {:>6}  {:>9}",
                "account",
                "credited",
                "charged",
                "deposited",
                "debited",
                "net",
                "jobs",
                "penalties"
            );
            for b in &balances {
                outln!(
                    "{:<64}  {:>12}  {:>12}  {:>12}  {:>12}  {:>13}  {:>6}  {:>9}",
                    b.account,
                    b.credited,
                    b.charged,
                    b.deposited,
                    b.debited,
                    b.net(),
                    b.jobs,
                    b.penalties
                );
            }
        }
    }
    Ok(())
}
