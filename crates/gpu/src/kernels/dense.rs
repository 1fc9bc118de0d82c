//! Dense: a workgroup per 64 outputs of one sample, numbered flat over the grid; weights and
//! biases uploaded once per model.

use zkw_model::ops::Dense;

use super::{NodeIo, Step, WG, dispatch, flat_grid, kernel_source, narrow, storage, word};
use crate::context::Gpu;
use crate::error::GpuError;

pub(super) const SOURCE: &str = kernel_source!("dense.wgsl");

pub(super) fn constants(gpu: &Gpu, name: &str, d: &Dense) -> Result<Vec<wgpu::Buffer>, GpuError> {
    Ok(vec![
        storage(gpu, &format!("{name}: weights"), &narrow(&d.weights))?,
        storage(gpu, &format!("{name}: biases"), &narrow(&d.bias))?,
    ])
}

pub(super) fn steps(gpu: &Gpu, d: &Dense, io: &NodeIo<'_>) -> Result<Vec<Step>, GpuError> {
    let tiles = (d.out_features as u64).div_ceil(WG);
    let params = [
        word(d.in_features as u64, "dense")?,
        word(d.out_features as u64, "dense")?,
        word(tiles, "dense")?,
        word(io.batch, "dense")?,
    ];
    let grid = flat_grid(gpu, "dense", tiles * io.batch * WG)?;
    let buffers = [io.output, io.inputs[0], &io.constants[0], &io.constants[1]];
    Ok(vec![dispatch(
        gpu, "dense", SOURCE, &params, &buffers, grid,
    )?])
}
