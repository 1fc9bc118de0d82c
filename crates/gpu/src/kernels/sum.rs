//! Sum: one thread per row of the batch.

use zkw_model::ops::Sum;

use super::{NodeIo, Step, dispatch, flat_grid, kernel_source, word};
use crate::context::Gpu;
use crate::error::GpuError;

pub(super) const SOURCE: &str = kernel_source!("sum.wgsl");

pub(super) fn steps(gpu: &Gpu, s: &Sum, io: &NodeIo<'_>) -> Result<Vec<Step>, GpuError> {
    let rows = io.output_len * io.batch;
    let params = [word(rows, "sum")?, word(s.axis_len as u64, "sum")?];
    let grid = flat_grid(gpu, "sum", rows)?;
    let buffers = [io.output, io.inputs[0]];
    Ok(vec![dispatch(gpu, "sum", SOURCE, &params, &buffers, grid)?])
}
