//! MaxPool: one thread per output value of the batch; the window geometry as parameters.

use zkw_model::ops::MaxPool;

use super::conv::Planar;
use super::{NodeIo, Step, dispatch, flat_grid, kernel_source, word};
use crate::context::Gpu;
use crate::error::GpuError;

pub(super) const SOURCE: &str = kernel_source!("max_pool.wgsl");

pub(super) fn steps(gpu: &Gpu, m: &MaxPool, io: &NodeIo<'_>) -> Result<Vec<Step>, GpuError> {
    let total = io.output_len * io.batch;
    let p = Planar::of(&m.geometry)?;
    let mut params = vec![
        word(total, "max pool")?,
        word(m.geometry.in_channels as u64, "max pool")?,
    ];
    params.extend(p.words("max pool")?);
    let grid = flat_grid(gpu, "max pool", total)?;
    let buffers = [io.output, io.inputs[0]];
    Ok(vec![dispatch(
        gpu, "max_pool", SOURCE, &params, &buffers, grid,
    )?])
}
