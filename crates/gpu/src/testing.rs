//! The GPU tests run on (feature `testing`): one executor per test process, on the adapter
//! there is — lavapipe in CI — or a visible skip; with `ZKW_REQUIRE_GPU=1` (CI sets it) a
//! missing adapter fails the test instead, so CI can never pass by testing nothing.
//!
//! Shared by this crate's tests and the op-completeness test of `zkw-circuits`, which holds
//! every op's kernel to the reference beside its gadget.

use std::sync::{Arc, OnceLock};

use crate::{Gpu, GpuExecutor};

/// The process's GPU executor, or `None` (with a message on stderr) when there is no adapter
/// and `ZKW_REQUIRE_GPU` is not `1`.
///
/// # Panics
///
/// When `ZKW_REQUIRE_GPU=1` and no adapter opens.
pub fn executor() -> Option<&'static GpuExecutor> {
    // Opening a device is slow on lavapipe: once per process.
    static GPU: OnceLock<Option<GpuExecutor>> = OnceLock::new();
    GPU.get_or_init(|| match Gpu::new() {
        Ok(gpu) => {
            eprintln!("GPU tests on {}", gpu.adapter());
            Some(GpuExecutor::on(Arc::new(gpu)))
        }
        Err(e) if std::env::var("ZKW_REQUIRE_GPU").is_ok_and(|v| v == "1") => {
            panic!("ZKW_REQUIRE_GPU=1 but {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED: GPU tests need an adapter ({e}); install mesa-vulkan-drivers");
            None
        }
    })
    .as_ref()
}
