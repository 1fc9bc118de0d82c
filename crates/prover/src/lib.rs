//! `zkw-prover`: Groth16 setup, key files and proving, for the circuits of `zkw-circuits`.
//!
//! Laid out like ark-groth16, one file per phase: [`setup`] draws the keys and writes them,
//! [`keys`] stores and loads them (content-addressed, digest-checked), [`matrices`] holds the
//! constraint matrices synthesized once per model, and [`prove`] computes, per job, only the
//! assignment and the proof. [`receipt`] wraps a proof into the receipt a client gets.
#![deny(missing_docs)]

pub mod error;
pub mod keys;
pub mod matrices;
pub mod prove;
pub mod receipt;
pub mod setup;

pub use error::ProverError;
pub use keys::KeyDir;
pub use prove::{Job, Proved, Prover};
pub use setup::{SetupReport, setup};
