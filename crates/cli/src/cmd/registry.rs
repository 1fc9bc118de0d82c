//! `zkw model register | license | history`: publish a model in a registry, signed by its
//! owner with its proof of ownership, grant workers licences, and show what a model was
//! registered as over time.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use zkw_prover::KeyDir;
use zkw_settlement::Registry;
use zkw_verifier::registration::BPS;
use zkw_verifier::{Licence, Registration, Reward, Venue};

use crate::cmd::keys::read_key;

/// The reward terms of a registration.
#[derive(Args, Clone, Copy)]
pub struct RewardArgs {
    /// Units paid per settled job.
    #[arg(long, default_value_t = 1000)]
    pub fee: u64,
    /// The worker's share of the fee, in basis points (the owner gets the rest).
    #[arg(long, default_value_t = 7000)]
    pub worker_share_bps: u16,
    /// Units charged to a worker per signed receipt that fails verification.
    #[arg(long, default_value_t = 1000)]
    pub penalty: u64,
}

/// `zkw model register`.
#[derive(Args)]
pub struct RegisterArgs {
    /// The model's keys directory (`zkw model setup -o`).
    pub keys: PathBuf,
    /// The owner's secret key (`zkw keys new`): it signs the registration.
    #[arg(long)]
    pub owner_key: PathBuf,
    /// The registry directory.
    #[arg(long)]
    pub registry: PathBuf,
    #[command(flatten)]
    pub reward: RewardArgs,
    /// A venue where receipts of the model settle: `ledger:<id>` (`zkw ledger id`) or
    /// `evm:<chain id>:0x<address>` (the deployed contract); repeat for several. Clients name
    /// one in their signed requests; no other venue pays for the model.
    #[arg(long = "venue", value_name = "VENUE")]
    pub venues: Vec<Venue>,
}

/// Signs a keys directory's record with the owner's key and adds it to the registry.
pub fn register(a: RegisterArgs) -> Result<()> {
    let owner = read_key(&a.owner_key)?;
    let registration = register_keys(
        &KeyDir::new(&a.keys),
        &owner,
        a.reward,
        &a.venues,
        &a.registry,
    )?;
    let (w, o) = registration.reward.split();
    outln!(
        "registered model {} in {}",
        registration.record.model_id,
        a.registry.display()
    );
    outln!("  owner         {}", registration.owner);
    outln!("  vk id         {}", registration.record.vk_id);
    outln!(
        "  reward        fee {} per job: worker {w}, owner {o}; penalty {}",
        registration.reward.fee,
        registration.reward.penalty
    );
    if registration.venues.is_empty() {
        outln!("  venues        none: receipts of this model settle nowhere yet (--venue)");
    }
    for v in &registration.venues {
        outln!("  venue         {v}");
    }
    Ok(())
}

/// The registration of a keys directory, signed by `owner`, added to `registry`
/// (`zkw_prover::registration` reads the directory, the registry numbers, signs and appends).
pub fn register_keys(
    keys: &KeyDir,
    owner: &zkw_verifier::KeyPair,
    reward: RewardArgs,
    venues: &[Venue],
    registry: &std::path::Path,
) -> Result<Registration> {
    if reward.worker_share_bps > BPS {
        bail!(
            "--worker-share-bps {} is more than the whole fee ({BPS})",
            reward.worker_share_bps
        );
    }
    let reward = Reward {
        fee: reward.fee,
        worker_share_bps: reward.worker_share_bps,
        penalty: reward.penalty,
    };
    let registration = zkw_prover::registration::registration(keys, owner, reward, venues)?;
    let registry = Registry::new(registry);
    registry.add_commitment(&keys.published(), &registration.record)?;
    Ok(registry.publish(registration, owner)?)
}

/// `zkw model license`.
#[derive(Args)]
pub struct LicenseArgs {
    /// The model's id.
    pub model_id: String,
    /// The worker's public key (its worker id, 64 hex digits).
    #[arg(long)]
    pub worker_key: String,
    /// The model owner's secret key: it signs the licence.
    #[arg(long)]
    pub owner_key: PathBuf,
    /// The registry directory.
    #[arg(long)]
    pub registry: PathBuf,
    /// When the licence ends: a date (`2027-01-31`, midnight UTC) or an RFC 3339 time.
    #[arg(long)]
    pub expires: Option<String>,
}

/// Parses `--expires` into seconds since the Unix epoch.
pub fn parse_expiry(s: &str) -> Result<u64> {
    let ts = if let Ok(t) = s.parse::<jiff::Timestamp>() {
        t
    } else {
        let date: jiff::civil::Date = s.parse().with_context(|| {
            format!("--expires {s:?}: neither a date (2027-01-31) nor an RFC 3339 time")
        })?;
        date.to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .with_context(|| format!("--expires {s:?}"))?
            .timestamp()
    };
    u64::try_from(ts.as_second()).with_context(|| format!("--expires {s:?} is before 1970"))
}

/// Grants a licence and stores it in the registry.
pub fn license(a: LicenseArgs) -> Result<()> {
    let owner = read_key(&a.owner_key)?;
    let expires_at = a.expires.as_deref().map(parse_expiry).transpose()?;
    let licence = Licence::issue(&owner, &a.model_id, &a.worker_key, expires_at);
    let path = Registry::new(&a.registry).add_licence(&licence)?;
    outln!(
        "licensed worker {} for model {}{}",
        a.worker_key,
        a.model_id,
        match expires_at {
            Some(t) => format!(" until {}", jiff::Timestamp::from_second(t as i64)?),
            None => " (no expiry)".into(),
        }
    );
    outln!("  wrote {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_dates_and_times() {
        assert_eq!(parse_expiry("1970-01-02").unwrap(), 86_400);
        assert_eq!(parse_expiry("2027-01-01T00:00:10Z").unwrap(), 1_798_761_610);
        let e = parse_expiry("tomorrow").unwrap_err().to_string();
        assert!(e.contains("neither a date"), "{e}");
        assert!(
            parse_expiry("1969-12-31")
                .unwrap_err()
                .to_string()
                .contains("before 1970")
        );
    }
}

/// `zkw model history`.
#[derive(Args)]
pub struct HistoryArgs {
    /// The model's id.
    pub model_id: String,
    /// The registry directory.
    #[arg(long)]
    pub registry: PathBuf,
    /// Print JSON (one object per entry, the owner-signed envelope included).
    #[arg(long)]
    pub json: bool,
}

/// Prints every registration of a model, oldest first, after checking the chain.
pub fn history(a: HistoryArgs) -> Result<()> {
    let registry = Registry::new(&a.registry);
    let entries = registry.history(&a.model_id)?;
    if entries.is_empty() {
        bail!(
            "model {} is not registered in {}",
            a.model_id,
            a.registry.display()
        );
    }
    // The newest entry is checked whole, as every verifier checks it (key, proof of ownership).
    registry.head(&a.model_id, &entries)?;
    for e in &entries {
        let p = &e.predicate;
        let r = &p.registration;
        if a.json {
            outln!(
                "{}",
                serde_json::json!({
                    "registry": p.registry,
                    "index": p.index,
                    "digest": hex::encode(e.digest()),
                    "previous": p.previous,
                    "sequence": r.sequence,
                    "owner": r.owner,
                    "vk_id": r.record.vk_id,
                    "record_digest": hex::encode(r.record.digest()),
                    "reward": r.reward,
                    "venues": r.venues,
                    "envelope": serde_json::from_str::<serde_json::Value>(&e.to_json())?,
                })
            );
        } else {
            outln!(
                "entry {} ({}) registration {}: vk {} record {} fee {} worker {} bps penalty {}",
                p.index,
                hex::encode(e.digest()),
                r.sequence,
                r.record.vk_id,
                hex::encode(r.record.digest()),
                r.reward.fee,
                r.reward.worker_share_bps,
                r.reward.penalty
            );
            for v in &r.venues {
                outln!("  venue {v}");
            }
        }
    }
    if !a.json {
        let owner = &entries[0].predicate.registration.owner;
        eprintln!(
            "{} entries, one chain, every entry signed by owner {owner}",
            entries.len()
        );
    }
    Ok(())
}
