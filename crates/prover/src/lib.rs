//! `zkw-prover`: Groth16 setup, key files and proving, for the circuits of `zkw-circuits`.
//!
//! Laid out like ark-groth16, one file per phase: [`setup`](mod@setup) runs [`keygen`] (keys
//! from the cached matrices, committed weights' wires on the commitment key's side) and, for
//! committed weights, [`range_proof`] (the weights' one-time range proof) and [`opening`]
//! (the owner's commitment and its proof of knowledge, linked to the range proof), and writes
//! them,
//! [`keys`] stores and loads them (content-addressed, digest-checked), [`matrices`] holds the
//! constraint matrices synthesized once per model, [`baseline`] the share of every proof that
//! does not change from job to job, [`witness`] synthesizes a job's assignment, [`groth16`]
//! turns it into a proof, and [`prove`] drives a job through them. [`receipt`] wraps a proof
//! into the receipt a client gets; [`ownership`] proves the owner holds the proving key, and
//! [`registration`] makes a keys directory into its owner's registration.
//! [`msm`] holds the multi-scalar multiplications both the baseline and each proof run, and
//! [`error`] names every failure.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod baseline;
pub mod error;
pub mod groth16;
pub mod keygen;
pub mod keys;
pub mod matrices;
pub mod msm;
pub mod opening;
pub mod ownership;
pub mod prove;
pub mod range_proof;
pub mod receipt;
pub mod registration;
pub mod setup;
pub mod witness;

pub use error::ProverError;
pub use keys::{KeyDir, save_model};
pub use prove::{LocalProver, Proved, Prover};
pub use setup::{SetupReport, owned_id, setup, setup_owned};
