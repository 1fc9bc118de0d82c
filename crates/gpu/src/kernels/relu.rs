//! Relu: one thread per value of the batch.

use super::{NodeIo, Step, dispatch, flat_grid, kernel_source, word};
use crate::context::Gpu;
use crate::error::GpuError;

pub(super) const SOURCE: &str = kernel_source!("relu.wgsl");

pub(super) fn steps(gpu: &Gpu, io: &NodeIo<'_>) -> Result<Vec<Step>, GpuError> {
    let total = io.output_len * io.batch;
    let params = [word(total, "relu")?];
    let grid = flat_grid(gpu, "relu", total)?;
    let buffers = [io.output, io.inputs[0]];
    Ok(vec![dispatch(
        gpu, "relu", SOURCE, &params, &buffers, grid,
    )?])
}
