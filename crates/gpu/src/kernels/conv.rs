//! Conv: a workgroup per 64 positions of one output channel of one sample, numbered flat over
//! the grid; a 1-D convolution runs as a 2-D one of height 1, as the
//! reference's taps do.

use zkw_model::ops::{Conv, ConvGeometry};

use super::{NodeIo, Step, WG, dispatch, flat_grid, kernel_source, narrow, storage, word};
use crate::context::Gpu;
use crate::error::GpuError;

pub(super) const SOURCE: &str = kernel_source!("conv.wgsl");

/// A geometry as 2-D: (in, kernel, strides, dilations, pads top/left, out), each `[h, w]`.
pub(super) struct Planar {
    pub input: [u64; 2],
    pub kernel: [u64; 2],
    pub strides: [u64; 2],
    pub dilations: [u64; 2],
    pub pads: [u64; 2],
    pub output: [u64; 2],
}

impl Planar {
    pub fn of(g: &ConvGeometry) -> Result<Self, GpuError> {
        let out = g
            .out_spatial()
            .map_err(|e| GpuError::Model(zkw_model::ModelError::Invalid(e)))?;
        let two = |v: &[usize], one: u64| -> [u64; 2] {
            if v.len() == 1 {
                [one, v[0] as u64]
            } else {
                [v[0] as u64, v[1] as u64]
            }
        };
        Ok(Planar {
            input: two(&g.in_spatial, 1),
            kernel: two(&g.kernel, 1),
            strides: two(&g.strides, 1),
            dilations: two(&g.dilations, 1),
            pads: if g.in_spatial.len() == 1 {
                [0, g.pads[0] as u64]
            } else {
                [g.pads[0] as u64, g.pads[1] as u64]
            },
            output: two(&out, 1),
        })
    }

    /// The twelve words every windowed kernel reads: in h/w, out h/w, kernel h/w, strides,
    /// dilations, pads top/left.
    pub fn words(&self, what: &str) -> Result<[u32; 12], GpuError> {
        let v = [
            self.input[0],
            self.input[1],
            self.output[0],
            self.output[1],
            self.kernel[0],
            self.kernel[1],
            self.strides[0],
            self.strides[1],
            self.dilations[0],
            self.dilations[1],
            self.pads[0],
            self.pads[1],
        ];
        let mut out = [0u32; 12];
        for (o, v) in out.iter_mut().zip(v) {
            *o = word(v, what)?;
        }
        Ok(out)
    }
}

pub(super) fn constants(gpu: &Gpu, name: &str, c: &Conv) -> Result<Vec<wgpu::Buffer>, GpuError> {
    Ok(vec![
        storage(gpu, &format!("{name}: weights"), &narrow(&c.weights))?,
        storage(gpu, &format!("{name}: biases"), &narrow(&c.bias))?,
    ])
}

pub(super) fn steps(gpu: &Gpu, c: &Conv, io: &NodeIo<'_>) -> Result<Vec<Step>, GpuError> {
    let g = &c.geometry;
    let p = Planar::of(g)?;
    let [ih, iw, oh, ow, kh, kw, sh, sw, dh, dw, pt, pl] = p.words("conv")?;
    let mut params = vec![
        word(g.in_channels as u64, "conv")?,
        word(g.out_channels as u64, "conv")?,
        word(g.groups as u64, "conv")?,
        ih,
        iw,
        oh,
        ow,
        kh,
        kw,
        sh,
        sw,
        dh,
        dw,
        pt,
        pl,
    ];
    let tiles = (p.output[0] * p.output[1]).div_ceil(WG);
    params.extend([word(tiles, "conv")?, word(io.batch, "conv")?]);
    let grid = flat_grid(gpu, "conv", tiles * g.out_channels as u64 * io.batch * WG)?;
    let buffers = [io.output, io.inputs[0], &io.constants[0], &io.constants[1]];
    Ok(vec![dispatch(
        gpu, "conv", SOURCE, &params, &buffers, grid,
    )?])
}
