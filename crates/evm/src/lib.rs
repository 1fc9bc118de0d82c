//! `zkw-evm`: settle zkworker receipts on an EVM chain.
//!
//! A receipt is worth paying for only when its Groth16 proof verifies against the registered
//! model, and only once. On a chain nobody runs our Rust verifier, so this crate produces the
//! two halves that let a contract do it:
//!
//! - [`solidity()`] renders, for one registered model, a Solidity source with its verifying
//!   key and settlement terms baked in as constants ([`EvmModel`]): a Groth16 verifier over the
//!   BN254 precompiles and a ledger that settles each job once, crediting worker and owner.
//!   One contract per model, so nothing a caller sends can swap the key or the terms.
//! - [`settle_calldata`] encodes a receipt as the `settle(...)` call that contract takes; the
//!   public inputs come from [`zkw_verifier::Statement::public_inputs`], the one statement
//!   encoding, so the contract and the Rust verifier check the same statement.
//!
//! [`compile()`] runs `solcjs` on a rendered source, for tests and tools that deploy it.
//!
//! The contract recomputes the job binding (SHA-256, a precompile on every EVM chain) from
//! the job id, worker id and nonce it is given; a binding passed in as a number could belong
//! to any job.
//!
//! Files: [`solidity`](mod@solidity) renders the contract from its template, [`calldata`] encodes a
//! receipt and a request as calls, [`abi`] declares the contract's interface for them,
//! [`compile`](mod@compile) runs solcjs, [`error`] names what can go wrong.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod abi;
pub mod calldata;
pub mod compile;
pub mod error;
pub mod solidity;

pub use calldata::{
    fr_word, proof_words, reclaim_call, request_call, request_calldata, settle_call,
    settle_calldata, verify_calldata,
};
pub use compile::{Compiled, SOLC_ENV, compile, solc_from_env};
pub use error::EvmError;
pub use solidity::{CONTRACT_NAME, EvmModel, solidity};
