//! Add: one thread per value of the batch.

use super::{NodeIo, Step, dispatch, flat_grid, kernel_source, word};
use crate::context::Gpu;
use crate::error::GpuError;

pub(super) const SOURCE: &str = kernel_source!("add.wgsl");

pub(super) fn steps(gpu: &Gpu, io: &NodeIo<'_>) -> Result<Vec<Step>, GpuError> {
    let total = io.output_len * io.batch;
    let params = [word(total, "add")?];
    let grid = flat_grid(gpu, "add", total)?;
    let buffers = [io.output, io.inputs[0], io.inputs[1]];
    Ok(vec![dispatch(gpu, "add", SOURCE, &params, &buffers, grid)?])
}
