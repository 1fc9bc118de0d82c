//! The owner's proof of holding a model's proving key, and its signed setup statement
//! ([`zkw_verifier::ownership`] says why a registry requires one).
//!
//! Made at setup (`zkw model setup --owner-key`) or, for a setup made without an owner key, at
//! registration from the keys directory: the model proved on the all-zero input for the
//! owner's ownership job, the receipt signed with the owner's key, wrapped in the owner's
//! setup statement. It costs one proof.

use zkw_verifier::dsse::Envelope;
use zkw_verifier::ownership::{ownership_job, sign_setup};
use zkw_verifier::{InputSalt, KeyPair, WorkerKey};

use crate::error::ProverError;
use crate::prove::LocalProver;

/// The setup statement of `prover`'s model by `owner`, with its possession receipt.
pub fn prove_ownership(prover: &LocalProver, owner: &KeyPair) -> Result<Envelope, ProverError> {
    let record = prover.record();
    let zeros = vec![0i64; prover.model().input_info().len()];
    let job = ownership_job(&record.model_id, &owner.public_hex());
    let mut receipt = prover.prove(&zeros, &InputSalt::UNSALTED, &job)?.receipt;
    // The owner signs as the "worker" of its ownership job: the receipt's worker id is its
    // public key.
    WorkerKey::from_seed(&owner.seed()).sign(&mut receipt);
    Ok(sign_setup(record, receipt, owner)?)
}
