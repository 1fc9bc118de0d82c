//! zkw-gpu: the model IR run in wgpu compute shaders, bit-exact with the reference executor.
//!
//! The GPU is an executor like any other ([`zkw_model::Executor`]): it returns the full trace
//! and the prover builds its witness from it, so a proof from a GPU trace verifies exactly
//! like one from the reference — and a wrong GPU result makes the proof fail, never lie.
//!
//! - [`context`]: adapter choice (`ZKW_ADAPTER`, else discrete first), the device with its
//!   limits asked for explicitly, compiled kernels, error capture, lost devices, timeouts.
//! - [`kernels`]: one WGSL kernel per IR op (`kernels/<op>.wgsl` next to `<op>.rs`). All
//!   arithmetic is `i32`, which the bounds analysis proves exact for an accepted model.
//! - [`model`]: a model's constants uploaded once; per batch size an arena of buffers reused
//!   across jobs.
//! - [`executor`]: [`GpuExecutor`], many inputs per submission.
//! - [`backend`]: the `--backend auto|gpu|cpu` switch the CLI and the worker share.
//! - [`error`]: [`GpuError`], each failure of the device or a kernel named.
//! - `testing` (feature `testing`): the one GPU executor of a test process, which fails
//!   instead of skipping under `ZKW_REQUIRE_GPU=1`.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod backend;
pub mod context;
pub mod error;
pub mod executor;
pub mod kernels;
pub mod model;
#[cfg(feature = "testing")]
pub mod testing;

pub use backend::{Backend, Selected, select};
pub use context::{AdapterSummary, Gpu};
pub use error::GpuError;
pub use executor::GpuExecutor;
pub use model::GpuModel;
