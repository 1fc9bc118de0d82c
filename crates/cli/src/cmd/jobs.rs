//! The worker's client commands: `zkw submit`, `status`, `watch`, `cancel`, `receipt`,
//! `models`. Each connects to a worker daemon over gRPC (`--worker`, `--token`, `--ca`) and
//! prints for people, or JSON with `--json`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use zkw_client::proto as pb;
use zkw_client::{Client, connect, wait};
use zkw_model::input::read_client_input;
use zkw_verifier::{InputSalt, Receipt, Venue};

/// How to reach the worker (shared by every client command).
#[derive(Args, Clone)]
pub struct Conn {
    /// The worker's address.
    #[arg(long, default_value = "http://127.0.0.1:7700", env = "ZKW_WORKER")]
    pub worker: String,
    /// The worker's bearer token.
    #[arg(long, env = "ZKW_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The CA certificate (PEM) of a worker served over TLS with a private CA.
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

impl Conn {
    async fn client(&self) -> Result<Client> {
        let local = ["http://127.0.0.1", "http://localhost", "http://[::1]"];
        if self.token.is_some()
            && self.worker.starts_with("http://")
            && !local.iter().any(|l| self.worker.starts_with(l))
        {
            eprintln!(
                "warning: the token goes in clear text to {} (serve the worker with TLS)",
                self.worker
            );
        }
        if self.ca.is_some() && !self.worker.starts_with("https://") {
            bail!("--ca is for a worker served with TLS (an https:// address)");
        }
        Ok(connect(&self.worker, self.token.as_deref(), self.ca.as_deref()).await?)
    }
}

/// A string the worker sent, safe to print: control characters escaped (no terminal escape
/// sequence from a worker reaches the user's terminal).
fn clean(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// Seconds between two worker timestamps (saturating: the worker's clock is not trusted).
fn secs_between(a: i64, b: i64) -> f64 {
    b.saturating_sub(a) as f64 / 1e3
}

/// A gRPC status as a message: the code in words, then the worker's reason.
fn status(e: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("{:?}: {}", e.code(), clean(e.message()))
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// A job state's name.
pub fn state_name(s: i32) -> &'static str {
    match pb::JobState::try_from(s).unwrap_or(pb::JobState::Unspecified) {
        pb::JobState::Unspecified => "unspecified",
        pb::JobState::Queued => "queued",
        pb::JobState::Running => "running",
        pb::JobState::Proving => "proving",
        pb::JobState::Succeeded => "succeeded",
        pb::JobState::Failed => "failed",
        pb::JobState::Cancelled => "cancelled",
    }
}

fn is_terminal(s: i32) -> bool {
    matches!(state_name(s), "succeeded" | "failed" | "cancelled")
}

fn job_json(j: &pb::Job) -> serde_json::Value {
    json!({
        "job_id": j.job_id,
        "model_id": j.model_id,
        "state": state_name(j.state),
        "error": j.error,
        "attempts": j.attempts,
        "worker_id": j.worker_id,
        "client_nonce": j.client_nonce,
        "input_digest": j.input_digest,
        "history": j.history.iter().map(|t| json!({
            "state": state_name(t.state), "at_unix_ms": t.at_unix_ms, "detail": t.detail
        })).collect::<Vec<_>>(),
    })
}

fn print_job(j: &pb::Job) {
    outln!(
        "job {} on model {}: {}",
        clean(&j.job_id),
        clean(&j.model_id),
        state_name(j.state)
    );
    if !j.error.is_empty() {
        outln!("  error: {}", clean(&j.error));
    }
    let start = j.history.first().map_or(0, |t| t.at_unix_ms);
    for t in &j.history {
        let detail = if t.detail.is_empty() {
            String::new()
        } else {
            format!("  ({})", clean(&t.detail))
        };
        outln!(
            "  +{:>8.3} s  {}{detail}",
            secs_between(start, t.at_unix_ms),
            state_name(t.state)
        );
    }
}

/// `zkw submit`.
#[derive(Args)]
pub struct SubmitArgs {
    /// The model's id (see `zkw models`).
    pub model_id: String,
    /// The input file (EZKL format, with the client's "salt").
    #[arg(long)]
    pub input: PathBuf,
    /// The client's nonce (default: random).
    #[arg(long)]
    pub nonce: Option<String>,
    /// Submitting again with the same key returns the same job.
    #[arg(long)]
    pub idempotency_key: Option<String>,
    /// Digest the input without a salt (anyone may then test guesses against the digest).
    #[arg(long)]
    pub unsalted: bool,
    /// Wait for the job to end, showing its progress.
    #[arg(long)]
    pub wait: bool,
    /// With --wait: write the receipt here.
    #[arg(short, long, requires = "wait")]
    pub output: Option<PathBuf>,
    /// The client's secret key (`zkw keys new`): sign a request for the job — model, input
    /// digest, nonce, venue, fee — which is bound into the proof. Only receipts of signed
    /// requests settle, and the venue debits this key's account.
    #[arg(long, requires = "registry")]
    pub client_key: Option<PathBuf>,
    /// The registry holding the model's registration: its input format, its fee and the
    /// venues where it settles.
    #[arg(long, requires = "client_key")]
    pub registry: Option<PathBuf>,
    /// Where the job may settle: one of the venues the model's registration lists (default:
    /// its only one).
    #[arg(long, requires = "client_key")]
    pub venue: Option<Venue>,
    /// What the client pays for the job, at least the model's fee (default: the model's
    /// registered fee).
    #[arg(long, requires = "client_key")]
    pub fee: Option<u64>,
    #[command(flatten)]
    pub conn: Conn,
}

/// Submits a job.
pub fn submit(a: SubmitArgs) -> Result<()> {
    let input = read_client_input(&a.input)?;
    let mut salt = input.salt.map(|s| s.to_vec()).unwrap_or_default();
    let mut drawn = false;
    if salt.is_empty() && !a.unsalted {
        // The client's secret: drawn here, not by the worker, and shown to the user.
        salt = crate::cmd::prove::fresh_salt()?.to_bytes().to_vec();
        drawn = true;
    }
    if a.unsalted && input.salt.is_some() {
        bail!(
            "--unsalted contradicts the \"salt\" in {}: remove one of them",
            a.input.display()
        );
    }
    let nonce = match a.nonce.clone() {
        Some(n) => n,
        None => crate::cmd::prove::fresh_job_id()?,
    };
    let request = match &a.client_key {
        Some(k) => {
            let terms = crate::cmd::request::Terms {
                model_id: &a.model_id,
                registry: a
                    .registry
                    .as_deref()
                    .context("--client-key needs --registry")?,
                venue: a.venue,
                fee: a.fee,
                nonce: &nonce,
            };
            let salt = if salt.is_empty() {
                InputSalt::UNSALTED
            } else {
                InputSalt::from_bytes(
                    salt.as_slice()
                        .try_into()
                        .context("the input salt is not 31 bytes")?,
                )
            };
            Some(crate::cmd::request::sign(k, &terms, &input.values, &salt)?)
        }
        None => None,
    };
    let req = pb::SubmitJobRequest {
        model_id: a.model_id.clone(),
        input: input.values,
        client_nonce: nonce.clone(),
        input_salt: salt,
        unsalted: a.unsalted,
        idempotency_key: a.idempotency_key.clone().unwrap_or_default(),
        client_request: request.as_ref().map(|r| r.to_json()).unwrap_or_default(),
    };
    runtime()?.block_on(async {
        let mut client = a.conn.client().await?;
        let r = client.submit_job(req).await.map_err(status)?.into_inner();
        let salt_hex = hex::encode(&r.input_salt);
        if a.conn.json {
            outln!(
                "{}",
                json!({
                    "job_id": r.job_id, "worker_id": r.worker_id, "client_nonce": nonce,
                    "input_salt": salt_hex, "input_digest": r.input_digest, "existing": r.existing,
                })
            );
        } else {
            let again = if r.existing { " (already submitted with this key)" } else { "" };
            outln!("submitted job {}{again}", clean(&r.job_id));
            outln!("  worker {}", clean(&r.worker_id));
            outln!("  nonce  {nonce}");
            match &request {
                Some(rq) => outln!(
                    "  request signed by client {}: venue {}, fee {}",
                    rq.client(),
                    rq.venue(),
                    rq.fee()
                ),
                None => outln!(
                    "  no client request (--client-key): the receipt will settle nowhere"
                ),
            }
            if drawn {
                outln!(
                    "  input salt {salt_hex} (drawn now: keep it, `zkw verify` needs it as --input-salt)"
                );
            }
        }
        if a.wait {
            let job = follow(&mut client, &r.job_id, a.conn.json).await?;
            if job.state != pb::JobState::Succeeded as i32 {
                bail!(
                    "job {} {}: {}",
                    clean(&job.job_id),
                    state_name(job.state),
                    if job.error.is_empty() {
                        "no receipt".to_string()
                    } else {
                        clean(&job.error)
                    }
                );
            }
            if let Some(out) = &a.output {
                let asked = Asked {
                    model_id: &a.model_id,
                    job_id: &r.job_id,
                    client_nonce: Some(&nonce),
                    request: request.as_ref().map(|r| r.digest()),
                };
                write_receipt(&mut client, &asked, out, a.conn.json).await?;
            }
        }
        Ok(())
    })
}

/// Follows a job to its end with a progress line; returns it as it ended.
async fn follow(client: &mut Client, job_id: &str, quiet: bool) -> Result<pb::Job> {
    let pb_bar = if quiet {
        ProgressBar::hidden()
    } else {
        let pb = ProgressBar::new(100);
        pb.set_style(
            ProgressStyle::with_template("{spinner} job {prefix}: {msg} [{bar:20}] {elapsed}")
                .expect("static template")
                .progress_chars("=> "),
        );
        pb.set_prefix(clean(&job_id.chars().take(12).collect::<String>()));
        pb.enable_steady_tick(Duration::from_millis(100));
        pb
    };
    let job = wait(client, job_id, |ev| {
        pb_bar.set_position((ev.progress * 100.0) as u64);
        let detail = if ev.detail.is_empty() {
            String::new()
        } else {
            format!(" ({})", clean(&ev.detail))
        };
        pb_bar.set_message(format!("{}{detail}", state_name(ev.state)));
    })
    .await
    .map_err(status)?;
    pb_bar.finish_and_clear();
    if !quiet {
        let took = match (job.history.first(), job.history.last()) {
            (Some(a), Some(b)) => {
                format!(" in {:.2} s", secs_between(a.at_unix_ms, b.at_unix_ms))
            }
            _ => String::new(),
        };
        outln!("job {} {}{took}", clean(&job.job_id), state_name(job.state));
    }
    Ok(job)
}

/// What the client asked for, as far as a fetched receipt must match it.
struct Asked<'a> {
    model_id: &'a str,
    job_id: &'a str,
    client_nonce: Option<&'a str>,
    /// The digest of the request the client signed, when it signed one.
    request: Option<[u8; 32]>,
}

/// Refuses a receipt that is not for the model, job and nonce the client asked for: the
/// worker reports the job's model itself, and a dishonest one could prove another registered
/// model with the same input format (the proof would be valid — for that model).
fn check_asked(receipt: &Receipt, asked: &Asked<'_>) -> Result<()> {
    if receipt.model_id != asked.model_id {
        bail!(
            "model mismatch: the worker returned a receipt for model {}, not the model asked \
             for ({}); nothing written",
            clean(&receipt.model_id),
            asked.model_id
        );
    }
    if receipt.job_id != asked.job_id {
        bail!(
            "job mismatch: the worker returned a receipt for job {}, not job {}; nothing written",
            clean(&receipt.job_id),
            asked.job_id
        );
    }
    if let Some(n) = asked.client_nonce
        && receipt.client_nonce != n
    {
        bail!(
            "job mismatch: the worker returned a receipt with nonce {}, not {n}; nothing written",
            clean(&receipt.client_nonce)
        );
    }
    if let Some(d) = asked.request
        && receipt.request.as_ref().map(|r| r.digest()) != Some(d)
    {
        bail!(
            "request mismatch: the worker returned a receipt that does not answer the request \
             the client signed (so it settles nowhere the client agreed to pay); nothing written"
        );
    }
    Ok(())
}

async fn write_receipt(
    client: &mut Client,
    asked: &Asked<'_>,
    out: &Path,
    quiet: bool,
) -> Result<()> {
    let r = client
        .get_receipt(pb::GetReceiptRequest {
            job_id: asked.job_id.into(),
        })
        .await
        .map_err(status)?
        .into_inner();
    let receipt = Receipt::from_json(r.receipt_json.as_bytes())
        .with_context(|| format!("the worker's receipt for job {}", asked.job_id))?;
    check_asked(&receipt, asked)?;
    super::write_output(out, &r.receipt_json)?;
    if !quiet {
        outln!("receipt → {}", out.display());
    }
    Ok(())
}

/// `zkw status`, `zkw watch`, `zkw cancel`.
#[derive(Args)]
pub struct JobArgs {
    /// The job's id.
    pub job_id: String,
    #[command(flatten)]
    pub conn: Conn,
}

/// Prints a job's state and history.
pub fn job_status(a: JobArgs) -> Result<()> {
    runtime()?.block_on(async {
        let mut client = a.conn.client().await?;
        let j = client
            .get_job(pb::GetJobRequest { job_id: a.job_id })
            .await
            .map_err(status)?
            .into_inner();
        if a.conn.json {
            outln!("{}", job_json(&j));
        } else {
            print_job(&j);
        }
        Ok(())
    })
}

/// Follows a job to its end; fails unless it succeeded.
pub fn watch(a: JobArgs) -> Result<()> {
    runtime()?.block_on(async {
        let mut client = a.conn.client().await?;
        let j = follow(&mut client, &a.job_id, a.conn.json).await?;
        if a.conn.json {
            outln!("{}", job_json(&j));
        }
        if j.state != pb::JobState::Succeeded as i32 {
            bail!(
                "job {} {}: {}",
                clean(&j.job_id),
                state_name(j.state),
                clean(&j.error)
            );
        }
        Ok(())
    })
}

/// Cancels a job.
pub fn cancel(a: JobArgs) -> Result<()> {
    runtime()?.block_on(async {
        let mut client = a.conn.client().await?;
        let j = client
            .cancel_job(pb::CancelJobRequest { job_id: a.job_id })
            .await
            .map_err(status)?
            .into_inner();
        if a.conn.json {
            outln!("{}", job_json(&j));
        } else if is_terminal(j.state) {
            outln!("job {} {}", clean(&j.job_id), state_name(j.state));
        } else {
            outln!(
                "job {} is {}: it will be cancelled when its current step ends",
                clean(&j.job_id),
                state_name(j.state)
            );
        }
        Ok(())
    })
}

/// `zkw receipt`.
#[derive(Args)]
pub struct ReceiptArgs {
    /// The job's id.
    #[arg(required = true)]
    pub job_id: Option<String>,
    /// Where to write the receipt.
    #[arg(short, long, required = true)]
    pub output: Option<PathBuf>,
    /// The model the job was submitted for: a receipt for any other model is refused (the
    /// worker's word on the job's model is not trusted).
    #[arg(long, required = true)]
    pub model: Option<String>,
    /// The client nonce the job was submitted with, when known: checked too.
    #[arg(long)]
    pub nonce: Option<String>,
    #[command(flatten)]
    pub conn: Conn,
}

/// Fetches a job's receipt.
pub fn receipt(a: ReceiptArgs) -> Result<()> {
    let (Some(job_id), Some(output), Some(model)) = (&a.job_id, &a.output, &a.model) else {
        anyhow::bail!(
            "give a job id, --model ID and -o FILE, or a subcommand (zkw receipt --help)"
        );
    };
    let asked = Asked {
        model_id: model,
        job_id,
        client_nonce: a.nonce.as_deref(),
        request: None,
    };
    runtime()?.block_on(async {
        let mut client = a.conn.client().await?;
        write_receipt(&mut client, &asked, output, a.conn.json).await
    })
}

/// `zkw receipt`: fetch a job's receipt, or work on a receipt file.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct ReceiptCmd {
    /// What to do with a receipt file.
    #[command(subcommand)]
    pub command: Option<crate::cmd::evm::ReceiptSub>,
    #[command(flatten)]
    pub fetch: ReceiptArgs,
}

/// `zkw models`.
#[derive(Args)]
pub struct ModelsArgs {
    /// Also show each model's registration in this registry: the fee and the venues where its
    /// receipts settle (a client's request names one of them).
    #[arg(long)]
    pub registry: Option<PathBuf>,
    #[command(flatten)]
    pub conn: Conn,
}

/// What a registry says of a model: its fee and venues, or why it has none.
fn registered_terms(
    registry: Option<&zkw_settlement::Registry>,
    model_id: &str,
) -> Option<std::result::Result<(u64, Vec<Venue>), String>> {
    let registry = registry?;
    Some(
        registry
            .model(model_id)
            .map(|m| (m.registration.reward.fee, m.registration.venues))
            .map_err(|e| e.to_string()),
    )
}

/// Lists the worker's models.
pub fn models(a: ModelsArgs) -> Result<()> {
    runtime()?.block_on(async {
        let mut client = a.conn.client().await?;
        let r = client
            .list_models(pb::ListModelsRequest {})
            .await
            .map_err(status)?
            .into_inner();
        let registry = a.registry.as_deref().map(zkw_settlement::Registry::new);
        if a.conn.json {
            let models: Vec<_> = r
                .models
                .iter()
                .map(|m| {
                    let mut j = json!({
                        "model_id": m.model_id, "name": m.name, "weight_mode": m.weight_mode,
                        "input_shape": m.input_shape, "output_shape": m.output_shape, "vk_id": m.vk_id,
                    });
                    match registered_terms(registry.as_ref(), &m.model_id) {
                        Some(Ok((fee, venues))) => {
                            j["fee"] = json!(fee);
                            j["venues"] = json!(venues);
                        }
                        Some(Err(reason)) => j["registry"] = json!(reason),
                        None => {}
                    }
                    j
                })
                .collect();
            outln!(
                "{}",
                json!({"worker_id": r.worker_id, "backend": r.backend, "models": models})
            );
        } else {
            outln!("worker {} ({})", clean(&r.worker_id), clean(&r.backend));
            if r.models.is_empty() {
                outln!("  no models: add key directories to its models directory and reload");
            }
            for m in &r.models {
                outln!(
                    "  {}  {:<8} {:?} → {:?}  {}",
                    clean(&m.model_id), clean(&m.weight_mode), m.input_shape, m.output_shape, clean(&m.name)
                );
                match registered_terms(registry.as_ref(), &m.model_id) {
                    Some(Ok((fee, venues))) if venues.is_empty() => {
                        outln!("      fee {fee}; no venue: its receipts settle nowhere yet")
                    }
                    Some(Ok((fee, venues))) => {
                        for v in venues {
                            outln!("      fee {fee} in venue {v}");
                        }
                    }
                    Some(Err(reason)) => outln!("      {reason}"),
                    None => {}
                }
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_strings_print_without_terminal_escapes() {
        assert_eq!(clean("ok-123"), "ok-123");
        assert_eq!(clean("a\nb\u{1b}[8m"), "a\\nb\\u{1b}[8m");
        assert_eq!(secs_between(i64::MIN, i64::MAX), i64::MAX as f64 / 1e3);
        assert_eq!(secs_between(1000, 3500), 2.5);
    }
}
