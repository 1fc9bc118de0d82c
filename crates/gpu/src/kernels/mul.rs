//! Mul: one thread per value of the batch.

use super::{NodeIo, Step, dispatch, flat_grid, kernel_source, word};
use crate::context::Gpu;
use crate::error::GpuError;

pub(super) const SOURCE: &str = kernel_source!("mul.wgsl");

pub(super) fn steps(gpu: &Gpu, io: &NodeIo<'_>) -> Result<Vec<Step>, GpuError> {
    let total = io.output_len * io.batch;
    let params = [word(total, "mul")?];
    let grid = flat_grid(gpu, "mul", total)?;
    let buffers = [io.output, io.inputs[0], io.inputs[1]];
    Ok(vec![dispatch(gpu, "mul", SOURCE, &params, &buffers, grid)?])
}
