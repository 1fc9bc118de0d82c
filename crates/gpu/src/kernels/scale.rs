//! Scale: one thread per value; the per-element factors and offsets uploaded once per model.

use zkw_model::ops::Scale;

use super::{NodeIo, Step, dispatch, flat_grid, kernel_source, narrow, storage, word};
use crate::context::Gpu;
use crate::error::GpuError;

pub(super) const SOURCE: &str = kernel_source!("scale.wgsl");

pub(super) fn constants(gpu: &Gpu, name: &str, s: &Scale) -> Result<Vec<wgpu::Buffer>, GpuError> {
    Ok(vec![
        storage(gpu, &format!("{name}: factors"), &narrow(&s.scale))?,
        storage(gpu, &format!("{name}: offsets"), &narrow(&s.offset))?,
    ])
}

pub(super) fn steps(gpu: &Gpu, io: &NodeIo<'_>) -> Result<Vec<Step>, GpuError> {
    let total = io.output_len * io.batch;
    let params = [word(total, "scale")?, word(io.output_len, "scale")?];
    let grid = flat_grid(gpu, "scale", total)?;
    let buffers = [io.output, io.inputs[0], &io.constants[0], &io.constants[1]];
    Ok(vec![dispatch(
        gpu, "scale", SOURCE, &params, &buffers, grid,
    )?])
}
