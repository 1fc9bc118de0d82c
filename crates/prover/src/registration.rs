//! A keys directory made into its owner's registration, ready for a registry to sign in.
//!
//! What goes in is read from the directory alone: the record (which must name this owner:
//! the model id is the file's digest bound to the owner's key, so no one else can register
//! it), the verifying key, the digest of every key file (so a worker can check it serves the
//! registered keys) and the owner's setup statement — the one `zkw model setup --owner-key`
//! wrote, which must be signed by this owner, or, for a setup made without one, a statement
//! made now with the directory's proving key (one proof: [`crate::ownership`]). The registry
//! (`zkw-settlement`) then numbers, signs and appends it; this crate links no registry.

use std::path::PathBuf;

use zkw_verifier::dsse::Envelope;
use zkw_verifier::registration::MAX_REGISTRATION_BYTES;
use zkw_verifier::{KeyPair, Registration, Reward, Venue};

use crate::error::ProverError;
use crate::keys::{KeyDir, write_atomic};
use crate::ownership::prove_ownership;
use crate::prove::LocalProver;

/// The unsigned registration of `keys` by `owner`, with its reward split and the venues where
/// its receipts settle (sorted, each once).
pub fn registration(
    keys: &KeyDir,
    owner: &KeyPair,
    reward: Reward,
    venues: &[Venue],
) -> Result<Registration, ProverError> {
    let record = keys.read_record()?;
    let refused = |reason: String| ProverError::NotOwner {
        dir: keys.dir.clone(),
        reason,
    };
    match &record.owner {
        Some(o) if *o == owner.public_hex() => {}
        Some(o) => {
            return Err(refused(format!(
                "this model was set up by owner {o} (its id includes that key); only that owner \
                 can register it"
            )));
        }
        None => {
            return Err(refused(
                "this setup names no owner, so its model id is not bound to one and anyone \
                 holding its record could claim it: run `zkw model setup --owner-key` to register"
                    .into(),
            ));
        }
    }
    let key = keys.read_vk(&record)?;
    // Committed weights: the commitment must open (a registry checks it again).
    keys.published()
        .check_commitment(&record, None)
        .map_err(|e| ProverError::Commitment(e.to_string()))?;
    // Ownership first: a directory of published files (no proving key) is refused for what
    // it is, not for a missing key file.
    let setup = setup_statement(keys, owner)?;
    let digests = keys.file_digests(&record)?;
    let mut registration = Registration::new(record, &key, reward, digests).with_setup(setup);
    registration.venues = venues.to_vec();
    registration.venues.sort();
    registration.venues.dedup();
    Ok(registration)
}

/// Proves ownership with the directory's proving key and writes the owner's setup statement
/// there (`setup.dsse.json`); returns its path.
pub fn write_setup_statement(keys: &KeyDir, owner: &KeyPair) -> Result<PathBuf, ProverError> {
    let prover = LocalProver::open(&keys.dir)?;
    let envelope = prove_ownership(&prover, owner)?;
    let path = keys.setup_statement_path();
    write_atomic(&path, envelope.to_json().as_bytes())?;
    Ok(path)
}

/// The owner's setup statement of a keys directory: the one setup wrote, which must be this
/// owner's; or, when there is none, one made now with the directory's proving key.
fn setup_statement(keys: &KeyDir, owner: &KeyPair) -> Result<Envelope, ProverError> {
    let path = keys.setup_statement_path();
    if !path.exists() {
        // A directory of published files alone (no proving key) is refused for what it is.
        write_setup_statement(keys, owner).map_err(|e| ProverError::NotOwner {
            dir: keys.dir.clone(),
            reason: format!(
                "no setup statement, and proving ownership with the directory's proving key \
                 failed: {e}"
            ),
        })?;
    }
    let bytes = zkw_verifier::file::read_capped(&path, MAX_REGISTRATION_BYTES, "setup statement")
        .map_err(|e| ProverError::io(&path, e))?;
    let envelope = Envelope::from_json_capped(&bytes, MAX_REGISTRATION_BYTES).map_err(|e| {
        ProverError::BadKeyFile {
            path: path.clone(),
            reason: e.to_string(),
        }
    })?;
    let signers = envelope.signers();
    if !signers.contains(&owner.public_hex().as_str()) {
        return Err(ProverError::NotOwner {
            dir: keys.dir.clone(),
            reason: format!(
                "the setup statement is signed by {}, not by this owner ({}): only the owner \
                 who set the model up can register it",
                if signers.is_empty() {
                    "nobody".to_string()
                } else {
                    signers.join(", ")
                },
                owner.public_hex()
            ),
        });
    }
    Ok(envelope)
}
