//! Ownership bound at setup: the owner's signed setup statement, with a proof that the signer
//! holds the model's proving key.
//!
//! A registry that let the first signer of a record claim a model could be squatted by
//! anyone holding the published record and verifying key: copy them, sign, register first.
//! A signature alone cannot stop that — the squatter signs an edited record naming itself,
//! and a verifying key carries no owner. What a third party with published artifacts does
//! not have is the **proving key**. So setup (or registration, from the keys directory)
//! proves one job with it: the model on the all-zero input, for the job
//! [`ownership_job`]`(model, owner)`, whose job binding names the owner. That *possession
//! receipt* is a real Groth16 proof under the model's verifying key; nobody without the
//! proving key can make one, and one made for owner A is no proof for owner B (the binding
//! differs). The owner then signs, as an in-toto Statement v1 in a DSSE envelope, that it set
//! the model up: its subjects are the model, the verifying key and the record (by digest), its
//! predicate the owner and the possession receipt.
//!
//! A registry accepts a registration only when its setup statement checks
//! ([`check_setup`]): signed by the registering owner, about exactly the registered record and
//! key, its possession receipt signed by that owner, for that owner's ownership job, verifying
//! under the registered key. Publishing the record and key before registering is therefore
//! safe. What stays trusted: whoever holds the proving key — the owner, and the workers it
//! hands keys to — could make a possession receipt of its own; an owner registers before it
//! licenses anyone.
//!
//! The ownership job's id has its own prefix, [`OWNERSHIP_JOB_PREFIX`], which no worker mints:
//! a possession receipt is never a job, and settlement refuses it.

use serde::{Deserialize, Serialize};

use crate::dsse::Envelope;
use crate::ed25519::KeyPair;
use crate::error::VerificationError;
use crate::intoto::{Statement, Subject};
use crate::key::VerifierKey;
use crate::receipt::Receipt;
use crate::record::ModelRecord;
use crate::signature::{Signer, check_signature};
use crate::verify::{Check, Expected, verify_possession};

/// The predicate type of a setup statement.
pub const SETUP_PREDICATE: &str = "https://zkworker.dev/model-setup/v1";

pub use crate::job::{OWNERSHIP_JOB_PREFIX, is_ownership_job, ownership_job};

/// What a setup statement says besides its subjects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetupPredicate {
    /// The model.
    pub model_id: String,
    /// Its verifying key's id.
    pub vk_id: String,
    /// The record's digest ([`ModelRecord::digest`]), hex.
    pub record_digest: String,
    /// The owner: its ed25519 public key, hex.
    pub owner: String,
    /// The owner's proof of holding the proving key: a receipt of [`ownership_job`], signed by
    /// the owner's key.
    pub possession: Receipt,
}

fn refused(reason: String) -> VerificationError {
    VerificationError::BadOwnerSignature {
        what: "model setup statement",
        reason,
    }
}

fn subjects(record: &ModelRecord) -> Result<Vec<Subject>, VerificationError> {
    let digest = |what: &str, hex_id: &str| -> Result<[u8; 32], VerificationError> {
        hex::decode(hex_id)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| VerificationError::Malformed {
                what: "model record",
                reason: format!("{what} is not a 32-byte hex digest"),
            })
    };
    Ok(vec![
        Subject::blake3("model", &digest("model_id", &record.model_id)?),
        Subject::blake3("verifying-key", &digest("vk_id", &record.vk_id)?),
        Subject::blake3("record", &record.digest()),
    ])
}

/// The owner's setup statement for `record`, carrying `possession` (a receipt of
/// [`ownership_job`] for this owner, made with the proving key and signed by `owner`).
pub fn sign_setup(
    record: &ModelRecord,
    possession: Receipt,
    owner: &KeyPair,
) -> Result<Envelope, VerificationError> {
    let predicate = SetupPredicate {
        model_id: record.model_id.clone(),
        vk_id: record.vk_id.clone(),
        record_digest: hex::encode(record.digest()),
        owner: owner.public_hex(),
        possession,
    };
    let statement = Statement {
        subject: subjects(record)?,
        predicate_type: SETUP_PREDICATE.into(),
        predicate: match serde_json::to_value(&predicate) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => unreachable!("a setup predicate serializes to an object"),
        },
    };
    Ok(statement.sign(owner))
}

/// Checks that `envelope` is `owner`'s setup statement of exactly `record` and `key`, and that
/// its possession receipt proves `owner` holds the proving key: signed by `owner`, for
/// `owner`'s ownership job of this model, verifying under `key`.
pub fn check_setup(
    envelope: &Envelope,
    record: &ModelRecord,
    key: &VerifierKey,
    owner: &str,
) -> Result<SetupPredicate, VerificationError> {
    let statement = Statement::open(envelope, owner).map_err(|e| match e {
        VerificationError::BadOwnerSignature { reason, .. } => refused(format!(
            "it is not signed by the registering owner {owner} ({reason})"
        )),
        other => other,
    })?;
    let p: SetupPredicate = statement.predicate_as(SETUP_PREDICATE)?;
    if statement.subject != subjects(record)? {
        return Err(refused(
            "its subjects are not this registration's model, verifying key and record".into(),
        ));
    }
    let record_digest = hex::encode(record.digest());
    for (what, stated, registered) in [
        ("model", &p.model_id, &record.model_id),
        ("verifying key", &p.vk_id, &record.vk_id),
        ("record digest", &p.record_digest, &record_digest),
        ("owner", &p.owner, &owner.to_string()),
    ] {
        if stated != registered {
            return Err(refused(format!(
                "it states {what} {stated}, the registration has {registered}"
            )));
        }
    }
    let r = &p.possession;
    let job = ownership_job(&record.model_id, owner);
    if r.worker_id != owner || r.job_id != job.job_id || !r.client_nonce.is_empty() {
        return Err(refused(format!(
            "its possession receipt is for job {:?} of worker {}, not the ownership job of \
             owner {owner}",
            r.job_id, r.worker_id
        )));
    }
    // Signed by the key its worker id names — the owner's, compared just above.
    if check_signature(r)? == Signer::Unsigned {
        return Err(refused(
            "its possession receipt is not signed by the owner".into(),
        ));
    }
    let expected = Expected {
        record,
        model: Check::Equals(&record.model_id),
        input_digest: Check::Skip,
        job_id: Check::Equals(&job.job_id),
        worker_id: Check::Equals(owner),
        client_nonce: Check::Equals(""),
        venue: Check::Skip,
    };
    if r.request.is_some() {
        return Err(refused(
            "its possession receipt carries a client request: no client asks for it".into(),
        ));
    }
    verify_possession(r, key, &expected).map_err(|e| {
        refused(format!(
            "its possession receipt does not prove the proving key is held: {e}"
        ))
    })?;
    Ok(p)
}
