//! `zkw request`: a client signs its request for a job — the model, its input's digest, its
//! nonce, the venue where the job may settle and the fee it pays — from the model's
//! registration. `zkw submit --client-key` does the same and sends it with the job; this
//! command writes it to a file, for a prover run by hand (`zkw prove --request`) or a contract
//! (it prints the `request(...)` call that opens it on chain, with the deposit to send).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use zkw_model::input::read_client_input;
use zkw_verifier::{ClientRequest, InputSalt, Venue};

/// `zkw request`.
#[derive(Args)]
pub struct RequestArgs {
    /// The model's id.
    pub model_id: String,
    /// The input file (EZKL format, with the client's "salt", which the digest absorbs).
    #[arg(long)]
    pub input: PathBuf,
    /// The client's secret key (`zkw keys new`): it signs, and the venue debits its account.
    #[arg(long)]
    pub client_key: PathBuf,
    /// The registry holding the model's registration.
    #[arg(long)]
    pub registry: PathBuf,
    /// Where the job may settle (default: the registration's only venue).
    #[arg(long)]
    pub venue: Option<Venue>,
    /// What the client pays, at least the model's fee (default: the model's fee).
    #[arg(long)]
    pub fee: Option<u64>,
    /// The client's nonce (default: random).
    #[arg(long)]
    pub nonce: Option<String>,
    /// Where to write the signed request (JSON).
    #[arg(short, long)]
    pub output: PathBuf,
}

/// What a request is signed for, beside the client's key.
pub struct Terms<'a> {
    /// The model.
    pub model_id: &'a str,
    /// The registry that holds its registration.
    pub registry: &'a Path,
    /// The venue asked for, if any.
    pub venue: Option<Venue>,
    /// The fee accepted, if given.
    pub fee: Option<u64>,
    /// The nonce.
    pub nonce: &'a str,
}

/// The client's signed request for `values` under `salt`, on the model's registered terms:
/// the venue must be one the registration lists (default: its only one), the fee at least
/// the model's (default: the model's).
pub fn sign(
    key_path: &Path,
    terms: &Terms<'_>,
    values: &[f64],
    salt: &InputSalt,
) -> Result<ClientRequest> {
    let key = crate::cmd::keys::read_key(key_path)?;
    let model = zkw_settlement::Registry::new(terms.registry).model(terms.model_id)?;
    let reg = &model.registration;
    let venue = match (terms.venue, reg.venues.as_slice()) {
        (Some(v), listed) if listed.contains(&v) => v,
        (Some(v), listed) => bail!(
            "model {} does not settle in venue {v}; its registration lists {}",
            terms.model_id,
            list_venues(listed)
        ),
        (None, [only]) => *only,
        (None, listed) => bail!(
            "--venue is required: model {}'s registration lists {}",
            terms.model_id,
            list_venues(listed)
        ),
    };
    let fee = terms.fee.unwrap_or(reg.reward.fee);
    if fee < reg.reward.fee {
        bail!(
            "--fee {fee} is below the model's fee {}: no venue would pay the job",
            reg.reward.fee
        );
    }
    let digest = crate::cmd::verify::client_digest(&reg.record, values, salt)?;
    Ok(ClientRequest::sign(
        &key,
        terms.model_id,
        digest,
        terms.nonce,
        venue,
        fee,
    )?)
}

fn list_venues(v: &[Venue]) -> String {
    if v.is_empty() {
        "none (it settles nowhere yet)".into()
    } else {
        v.iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Signs a request and writes it.
pub fn request(a: RequestArgs) -> Result<()> {
    let input = read_client_input(&a.input)?;
    let salt = input.salt.map(InputSalt::from_bytes).with_context(|| {
        format!(
            "{} has no \"salt\": a request signs the input's salted digest (add one, e.g. \
             `openssl rand -hex 31`)",
            a.input.display()
        )
    })?;
    let nonce = match &a.nonce {
        Some(n) => n.clone(),
        None => crate::cmd::prove::fresh_job_id()?,
    };
    let terms = Terms {
        model_id: &a.model_id,
        registry: &a.registry,
        venue: a.venue,
        fee: a.fee,
        nonce: &nonce,
    };
    let rq = sign(&a.client_key, &terms, &input.values, &salt)?;
    super::write_output(&a.output, rq.to_json())?;
    outln!(
        "signed request {} → {}",
        hex::encode(rq.digest()),
        a.output.display()
    );
    outln!("  client {}", rq.client());
    outln!("  venue  {}, fee {}, nonce {nonce}", rq.venue(), rq.fee());
    if let Venue::Evm { .. } = rq.venue() {
        outln!(
            "  open it on chain: send {} wei with calldata 0x{}",
            rq.fee(),
            hex::encode(zkw_evm::request_calldata(&rq)?)
        );
    }
    Ok(())
}
