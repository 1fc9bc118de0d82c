//! Table: one thread per value; the table uploaded once per model.

use zkw_model::ops::Table;

use super::{NodeIo, Step, dispatch, flat_grid, kernel_source, narrow, storage, word};
use crate::context::Gpu;
use crate::error::GpuError;

pub(super) const SOURCE: &str = kernel_source!("table.wgsl");

pub(super) fn constants(gpu: &Gpu, name: &str, t: &Table) -> Result<Vec<wgpu::Buffer>, GpuError> {
    Ok(vec![storage(
        gpu,
        &format!("{name}: table"),
        &narrow(&t.table),
    )?])
}

pub(super) fn steps(gpu: &Gpu, t: &Table, io: &NodeIo<'_>) -> Result<Vec<Step>, GpuError> {
    let total = io.output_len * io.batch;
    // The reference's index: v + 2^(in_bits - 1), clamped to the table.
    let offset = (1i64 << (t.in_bits - 1)) as i32;
    let last = t.table.len() as i32 - 1;
    let params = [word(total, "table")?, 0, offset as u32, last as u32];
    let grid = flat_grid(gpu, "table", total)?;
    let buffers = [io.output, io.inputs[0], &io.constants[0]];
    Ok(vec![dispatch(
        gpu, "table", SOURCE, &params, &buffers, grid,
    )?])
}
