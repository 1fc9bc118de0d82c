//! The GPU under test: the adapter there is (lavapipe in CI), or a visible skip — and with
//! `ZKW_REQUIRE_GPU=1` (CI sets it) a missing adapter fails the test instead.

use std::sync::{Arc, OnceLock};

use zkw_gpu::{Gpu, GpuExecutor};

/// One executor per test binary (opening a device is slow on lavapipe).
pub fn gpu() -> Option<&'static GpuExecutor> {
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
