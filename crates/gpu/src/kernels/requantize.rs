//! Requantize: one thread per value; the shift and the saturation bounds as parameters.

use zkw_model::ir::signed_range;
use zkw_model::ops::Requantize;

use super::{NodeIo, Step, dispatch, flat_grid, kernel_source, word};
use crate::context::Gpu;
use crate::error::GpuError;

pub(super) const SOURCE: &str = kernel_source!("requantize.wgsl");

pub(super) fn steps(gpu: &Gpu, r: &Requantize, io: &NodeIo<'_>) -> Result<Vec<Step>, GpuError> {
    let total = io.output_len * io.batch;
    let (lo, hi) = signed_range(r.bits);
    let params = [
        word(total, "requantize")?,
        r.shift,
        lo as i32 as u32,
        hi as i32 as u32,
    ];
    let grid = flat_grid(gpu, "requantize", total)?;
    let buffers = [io.output, io.inputs[0]];
    Ok(vec![dispatch(
        gpu,
        "requantize",
        SOURCE,
        &params,
        &buffers,
        grid,
    )?])
}
