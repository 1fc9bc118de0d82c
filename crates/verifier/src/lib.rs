//! `zkw-verifier`: check a zkworker receipt before settling it.
//!
//! This crate is deliberately light — arkworks, blake3 and serde, never wgpu, tokio or tonic — so
//! a settlement service can embed it. It owns the pieces that both sides of a proof must agree
//! on, so they exist exactly once:
//!
//! - [`statement`]: *(model commitment, input digest, output, job binding) → public inputs*, the
//!   one statement encoding; the circuit allocates its public inputs from this same function.
//! - [`digest`]: the packing of quantized integers into field elements and the Poseidon digests
//!   (salted input digest, weight commitment, output digest), native side; [`width`]: the
//!   signed widths packing accepts, and the range check every packed value passes first.
//! - [`receipt`] and [`record`]: the receipt a worker returns and the record a model's setup
//!   writes; [`registration`]: that record signed by the model's owner with its key and
//!   reward split, what settlement trusts; [`licence`]: an owner's permission for a worker;
//!   [`job`]: the job a receipt is for; [`signature`]: the worker's ed25519 signature over a
//!   receipt; [`ed25519`]: the one key and signature format of workers and owners.
//! - [`verify()`]: `Result<Verified, VerificationError>` with a specific reason for every
//!   rejection, never a bare `false`. Strict by default: [`Expected`] says for each field of
//!   the job whether it is checked, and [`Verified`] reports what was not.
#![deny(missing_docs)]

pub mod batch;
pub mod digest;
pub mod ed25519;
pub mod error;
pub mod field;
pub mod job;
pub mod key;
pub mod licence;
pub mod receipt;
pub mod record;
pub mod registration;
pub mod signature;
pub mod statement;
pub mod verify;
pub mod width;

pub use batch::verify_batch;
pub use digest::InputSalt;
pub use ed25519::KeyPair;
pub use error::VerificationError;
pub use job::Job;
pub use key::VerifierKey;
pub use licence::Licence;
pub use receipt::{Receipt, ReceiptOutput};
pub use record::{ModelRecord, TensorFormat};
pub use registration::{RegisteredModel, Registration, Reward};
pub use signature::{Signer, WorkerKey, check_signature};
pub use statement::{Statement, job_binding};
pub use verify::{Check, Expected, Unchecked, Verified, verify};
pub use width::Width;

/// The field every statement lives in: BN254's scalar field.
pub type Fr = ark_bn254::Fr;
