//! `zkw-verifier`: check a zkworker receipt before settling it.
//!
//! This crate is deliberately light — arkworks, blake3 and serde, never wgpu, tokio or tonic — so
//! a settlement service can embed it. It owns the pieces that both sides of a proof must agree
//! on, so they exist exactly once:
//!
//! - [`statement`]: *(model commitment, input digest, output, job binding) → public inputs*, the
//!   one statement encoding; the circuit allocates its public inputs from this same function.
//!   [`commitment`]: committed weights' commitment key and the owner's commitment `D_reg` that
//!   every such proof is checked with; [`opening`]: the proof of knowledge of its opening,
//!   linked to [`range`], the one-time proof that the committed values lie within their widths.
//! - [`digest`]: the packing of quantized integers into field elements and the Poseidon digests
//!   (salted input digest, weight commitment, output digest), native side; [`width`]: the
//!   signed widths packing accepts, and the range check every packed value passes first.
//! - [`receipt`] and [`record`]: the receipt a worker returns and the record a model's setup
//!   writes; [`registration`]: that record signed by the model's owner with its key and
//!   reward split, what settlement trusts; [`licence`]: an owner's permission for a worker;
//!   [`job`]: the job a receipt is for; [`request`]: the client's signed request, naming the
//!   [`venue`] where the job may settle, whose digest the job binding absorbs;
//!   [`signature`]: the worker's ed25519 signature over a receipt; [`ed25519`]: the one key
//!   and signature format of workers, owners and clients.
//! - [`dsse`]: DSSE envelopes, a payload signed with those keys in the ecosystem's format;
//!   [`intoto`]: in-toto Statements v1 carried in them, subjects named by blake3 digest.
//! - [`dispute`]: a ledger's dispute, signed by the ledger's key (its venue id), as an
//!   in-toto statement anyone checks without the ledger.
//! - [`ownership`]: the owner's setup statement, with a proof that the owner holds the proving
//!   key: what stops anyone else registering a published model.
//! - [`file`](mod@file): every file of outside bytes is read under its type's size cap
//!   ([`receipt::MAX_RECEIPT_BYTES`] and the like), and parsed straight into its type.
//! - [`verify()`]: `Result<Verified, VerificationError>` with a specific reason for every
//!   rejection, never a bare `false`. Strict by default: [`Expected`] says for each field of
//!   the job whether it is checked, and [`Verified`] reports what was not.
//!
//! Also: [`key`] (a verifying key with its prepared form and id), [`published`] (the public
//! half of a keys directory), [`batch`] ([`verify_batch`]: many receipts, one pairing product)
//! and [`verify`](mod@verify) over one proof's pairing equation (`pairing.rs`), [`field`]
//! (field elements as hex), [`snarkjs`] (the export other tools verify), [`fs`] (the one
//! atomic writer), `json.rs` (strict JSON reading) and [`error`].
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod batch;
pub mod commitment;
pub mod digest;
pub mod dispute;
pub mod dsse;
pub mod ed25519;
pub mod error;
pub mod field;
pub mod file;
pub mod fs;
pub mod intoto;
pub mod job;
mod json;
pub mod key;
pub mod licence;
pub mod opening;
pub mod ownership;
mod pairing;
pub mod published;
pub mod range;
pub mod receipt;
pub mod record;
pub mod registration;
pub mod request;
pub mod signature;
pub mod snarkjs;
pub mod statement;
pub mod venue;
pub mod verify;
pub mod width;

pub use batch::verify_batch;
pub use digest::InputSalt;
pub use dsse::Envelope;
pub use ed25519::KeyPair;
pub use error::VerificationError;
pub use job::Job;
pub use key::VerifierKey;
pub use licence::Licence;
pub use published::PublishedKeys;
pub use receipt::{Receipt, ReceiptOutput};
pub use record::{ModelRecord, TensorFormat};
pub use registration::{RegisteredModel, Registration, Reward};
pub use request::ClientRequest;
pub use signature::{Signer, WorkerKey, check_signature};
pub use statement::{Statement, job_binding};
pub use venue::Venue;
pub use verify::{Check, Expected, Unchecked, Verified, verify};
pub use width::Width;

/// The field every statement lives in: BN254's scalar field.
pub type Fr = ark_bn254::Fr;
