//! One file per command family.

pub mod conformance;
pub mod demo;
pub mod jobs;
pub mod model;
pub mod prove;
pub mod verify;
pub mod worker;
