//! What can go wrong on the GPU, each with what the operator can do about it.

use thiserror::Error;
use zkw_model::ModelError;

/// A GPU executor error.
#[derive(Debug, Error)]
pub enum GpuError {
    /// No adapter at all, or none matching `ZKW_ADAPTER`.
    #[error("no GPU adapter{}", .0.as_deref().map(|w| format!(" matching `{w}`")).unwrap_or_default())]
    NoAdapter(Option<String>),
    /// The adapter refused a device with the limits this executor asks for.
    #[error("the adapter `{adapter}` refused a device: {reason}")]
    Device {
        /// The adapter's name.
        adapter: String,
        /// wgpu's reason.
        reason: String,
    },
    /// The device was lost (driver reset, GPU removed); a new executor must be made.
    #[error("the GPU device was lost: {0}")]
    DeviceLost(String),
    /// A buffer the model needs is larger than the device allows.
    #[error("{what} needs {bytes} bytes, more than the device's {limit}-byte limit")]
    TooLarge {
        /// What the buffer holds.
        what: String,
        /// Its size.
        bytes: u64,
        /// The device's limit.
        limit: u64,
    },
    /// A dispatch grid the device cannot launch.
    #[error("{what}: {count} workgroups along one dimension, more than the device's {limit}")]
    TooManyWorkgroups {
        /// The kernel and its dimension.
        what: String,
        /// Workgroups asked for.
        count: u64,
        /// The device's limit.
        limit: u32,
    },
    /// A count a kernel takes as a 32-bit parameter is beyond it.
    #[error("{what}: {count} does not fit a kernel's 32-bit parameter")]
    Count {
        /// The kernel and the count.
        what: String,
        /// The count.
        count: u64,
    },
    /// wgpu reported an error for work this executor submitted (validation, out of memory).
    #[error("the GPU rejected the work: {0}")]
    Gpu(String),
    /// The GPU did not finish within the time allowed.
    #[error("the GPU did not finish within {0} s")]
    Timeout(u64),
    /// The model or its input is not valid for execution.
    #[error(transparent)]
    Model(#[from] ModelError),
}
