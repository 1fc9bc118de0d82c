//! The GPU under test: [`zkw_gpu::testing::executor`] (lavapipe in CI, a failure rather than
//! a skip under `ZKW_REQUIRE_GPU=1`).

pub use zkw_gpu::testing::executor as gpu;
