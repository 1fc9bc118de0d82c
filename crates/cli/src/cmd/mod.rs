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

/// Writes a command's output file (a receipt, a request, a contract, an export) whole or not
/// at all, replacing an older one: the one durability contract of every file zkworker writes
/// ([`zkw_verifier::fs::write_atomic`]), so an interrupted `zkw prove -o r.json` never leaves
/// half a receipt under the name.
pub fn write_output(path: &std::path::Path, bytes: impl AsRef<[u8]>) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use zkw_verifier::fs::{Access, Existing, write_atomic};
    write_atomic(path, bytes.as_ref(), Existing::Replace, Access::Public)
        .with_context(|| format!("writing {}", path.display()))
}
