//! Softmax: one thread per row; the exponential table uploaded once per model.

use zkw_model::ops::Softmax;

use super::{NodeIo, Step, dispatch, flat_grid, kernel_source, narrow, storage, word};
use crate::context::Gpu;
use crate::error::GpuError;

pub(super) const SOURCE: &str = kernel_source!("softmax.wgsl");

pub(super) fn constants(gpu: &Gpu, name: &str, s: &Softmax) -> Result<Vec<wgpu::Buffer>, GpuError> {
    Ok(vec![storage(
        gpu,
        &format!("{name}: exponentials"),
        &narrow(&s.exp),
    )?])
}

pub(super) fn steps(gpu: &Gpu, s: &Softmax, io: &NodeIo<'_>) -> Result<Vec<Step>, GpuError> {
    let rows = io.output_len / s.axis_len as u64 * io.batch;
    let top = s.exp.len() as i32 - 1;
    let params = [
        word(rows, "softmax")?,
        word(s.axis_len as u64, "softmax")?,
        top as u32,
        s.frac_bits,
    ];
    let grid = flat_grid(gpu, "softmax", rows)?;
    let buffers = [io.output, io.inputs[0], &io.constants[0]];
    Ok(vec![dispatch(
        gpu, "softmax", SOURCE, &params, &buffers, grid,
    )?])
}
