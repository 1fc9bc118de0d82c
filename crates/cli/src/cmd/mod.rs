//! One file per command family.

pub mod conformance;
pub mod demo;
pub mod evm;
pub mod export;
pub mod jobs;
pub mod keys;
pub mod model;
pub mod prove;
pub mod registry;
pub mod request;
pub mod settle;
pub mod store;
pub mod verify;
pub mod worker;
