//! `zkw-settlement`: what happens to a receipt after it verifies.
//!
//! The platform pays model owners and workers for proved jobs and penalises false claims.
//! This crate holds the three nouns of that, on top of the light verifier and nothing heavier:
//!
//! - [`registry`]: a directory of owner-signed model registrations ([`zkw_verifier::Registration`])
//!   and the licences owners grant workers. A verifier takes a model's verifying key and
//!   commitment from here, never from a receipt.
//! - [`ledger`]: an embedded redb database of settlements, penalties and balances. One job of
//!   one model is credited once — whatever copy, re-randomization or re-spelling of its
//!   receipt arrives later — and several processes may settle into one ledger at once.
//! - [`settle`](mod@settle): the decision for each receipt — batch-verified under its model's registered
//!   key, then credited (licensed, signed, valid), penalised (signed by its worker but false),
//!   left unpaid with the reason (unsigned, unlicensed) or rejected.
//! - [`history`]: a model's registry history, an append-only hash chain of owner-signed
//!   in-toto statements; [`pins`]: a verifier's memory of each model's newest entry, so a
//!   rolled-back registry is noticed.
//! - [`error`]: every failure, named.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod error;
pub mod history;
pub mod ledger;
pub mod pins;
pub mod registry;
pub mod settle;

pub use error::SettlementError;
pub use ledger::{Balance, Dispute, Ledger, Penalty, Settlement};
pub use registry::Registry;
pub use settle::{Outcome, settle};
