//! `zkw prove`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use zkw_model::input::{quantize_input, read_client_input};
use zkw_model::load_model;
use zkw_prover::LocalProver;
use zkw_verifier::digest::input_digest;
use zkw_verifier::field::fr_to_hex;
use zkw_verifier::file::read_capped;
use zkw_verifier::request::MAX_REQUEST_BYTES;
use zkw_verifier::{ClientRequest, InputSalt, Job};

use crate::out::{dur, spinner};

/// `zkw prove`.
#[derive(Args)]
pub struct ProveArgs {
    /// The .zkm model file.
    pub model: PathBuf,
    /// The keys directory made by `zkw model setup`.
    #[arg(long)]
    pub keys: PathBuf,
    /// The input (EZKL format, with the client's "salt").
    #[arg(long)]
    pub input: PathBuf,
    /// The input's salt (62 hex digits), when the input file does not carry it.
    #[arg(long, value_name = "HEX", conflicts_with = "unsalted")]
    pub input_salt: Option<String>,
    /// Digest the input without a salt: anyone who sees the receipt can then test guessed
    /// inputs against its digest, and link jobs that used the same input.
    #[arg(long)]
    pub unsalted: bool,
    /// Where to write the receipt.
    #[arg(short, long)]
    pub output: PathBuf,
    /// The job's id (default: a fresh random id).
    #[arg(long)]
    pub job_id: Option<String>,
    /// The worker's id (unsigned receipts).
    #[arg(long, default_value = "local", conflicts_with = "worker_key")]
    pub worker_id: String,
    /// Sign the receipt with this worker key (`zkw keys new`, or a worker's `worker.key`):
    /// the worker id becomes its public key. Settlement pays signed receipts only.
    #[arg(long, value_name = "FILE")]
    pub worker_key: Option<PathBuf>,
    /// The client's nonce.
    #[arg(long, default_value = "", conflicts_with = "request")]
    pub nonce: String,
    /// The client's signed request for this job (`zkw request`): its digest is bound into the
    /// proof and the receipt carries it, so the receipt settles in the venue it names. Its
    /// model, nonce and input digest must be this job's.
    #[arg(long, value_name = "FILE")]
    pub request: Option<PathBuf>,
    /// Which executor runs the model: auto (a GPU if there is one), gpu, or cpu.
    #[arg(long, default_value = "auto")]
    pub backend: zkw_gpu::Backend,
}

/// A random job id (16 bytes from the OS, hex).
pub fn fresh_job_id() -> Result<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("no OS randomness: {e}"))?;
    Ok(hex::encode(b))
}

/// A fresh random input salt.
pub fn fresh_salt() -> Result<InputSalt> {
    let mut b = [0u8; 31];
    getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("no OS randomness: {e}"))?;
    Ok(InputSalt::from_bytes(b))
}

/// The input's salt: the flag, else the input file's, else none only when asked for.
fn input_salt(a: &ProveArgs, from_file: Option<[u8; 31]>) -> Result<InputSalt> {
    match (&a.input_salt, from_file, a.unsalted) {
        (Some(hex), _, _) => InputSalt::from_hex(hex).map_err(anyhow::Error::msg),
        (None, Some(_), true) => bail!(
            "--unsalted contradicts the \"salt\" in {}: remove one of them",
            a.input.display()
        ),
        (None, Some(bytes), false) => Ok(InputSalt::from_bytes(bytes)),
        (None, None, true) => Ok(InputSalt::UNSALTED),
        (None, None, false) => bail!(
            "{} has no \"salt\": add one (31 random bytes as 62 hex digits, e.g. from \
             `openssl rand -hex 31`) or pass --input-salt HEX, so that the receipt neither \
             reveals nor links the input; or pass --unsalted to digest it without one",
            a.input.display()
        ),
    }
}

/// Reads a client's signed request (signature checked) and checks it is for this model and
/// input: the worker's check at submit, done by hand.
fn read_request(
    path: &Path,
    prover: &LocalProver,
    q: &[i64],
    salt: &InputSalt,
) -> Result<ClientRequest> {
    let bytes = read_capped(path, MAX_REQUEST_BYTES, "client request")
        .with_context(|| format!("reading {}", path.display()))?;
    let rq = ClientRequest::from_json(&bytes).with_context(|| format!("{}", path.display()))?;
    let record = prover.record();
    if rq.model_id() != record.model_id {
        bail!(
            "{}: the request is for model {}, these keys are model {}",
            path.display(),
            rq.model_id(),
            record.model_id
        );
    }
    let digest = input_digest(q, record.input.bits, salt)?;
    if rq.input_digest() != digest {
        bail!(
            "{}: the request signs input digest {}, this input and salt digest to {}",
            path.display(),
            fr_to_hex(&rq.input_digest()),
            fr_to_hex(&digest)
        );
    }
    Ok(rq)
}

/// Proves one input and writes the receipt.
pub fn prove(a: ProveArgs) -> Result<()> {
    let (model, id) = load_model(&a.model)?;
    let input = read_client_input(&a.input)?;
    let x = input.values;
    let q = quantize_input(&model.input_info(), &x)?;
    let salt = input_salt(&a, input.salt)?;
    crate::cmd::model::warn_saturation(&model.input_info(), &x);
    let executor = crate::cmd::model::executor(a.backend)?;
    let pb = spinner("prove");
    pb.set_message("loading keys");
    let prover = LocalProver::load(model, &id, &a.keys)?;
    let signer = a
        .worker_key
        .as_deref()
        .map(crate::cmd::keys::read_key)
        .transpose()?
        .map(|k| zkw_verifier::WorkerKey::from_seed(&k.seed()));
    let request = match &a.request {
        Some(path) => Some(read_request(path, &prover, &q, &salt)?),
        None => None,
    };
    let job = Job {
        job_id: match a.job_id {
            Some(id) => id,
            None => fresh_job_id()?,
        },
        worker_id: match &signer {
            Some(k) => k.worker_id(),
            None => a.worker_id,
        },
        client_nonce: match &request {
            Some(r) => r.client_nonce().to_string(),
            None => a.nonce,
        },
        request,
    };
    pb.set_message("running the model");
    let trace = executor.run(prover.model(), &q)?;
    pb.set_message("proving");
    let mut proved = prover.prove_trace(trace, &salt, &job)?;
    if let Some(k) = &signer {
        k.sign(&mut proved.receipt);
    }
    pb.finish_and_clear();
    super::write_output(&a.output, proved.receipt.to_json())?;
    let total: std::time::Duration = proved.timings.iter().map(|(_, d)| *d).sum();
    outln!(
        "proved job {} in {} → {}",
        job.job_id,
        dur(total),
        a.output.display()
    );
    for (phase, d) in &proved.timings {
        outln!("  {phase:<12} {}", dur(*d));
    }
    outln!("  output       {:?}", proved.receipt.output.values);
    if salt.is_unsalted() {
        outln!("  input digest unsalted (--unsalted): anyone may test guessed inputs against it");
    }
    Ok(())
}
