//! One WGSL kernel per IR op, each `<op>.wgsl` next to the `<op>.rs` that owns its parameters,
//! its bindings and its dispatch arithmetic.
//!
//! Every value on the GPU is an `i32`: the bounds analysis (`zkw_model::bounds`) refuses any
//! model with a tensor, an accumulator, a product or a rounding add that could leave `i32`, so
//! plain `i32` arithmetic computes the reference's `i64` results exactly. A tensor of a batch
//! is laid out `[sample][value]`.
//!
//! Binding convention: 0 the op's parameters (a uniform), 1 the output, then the inputs, then
//! the op's constants (weights, tables, index maps), in the order each kernel declares them.

use std::sync::Arc;

use wgpu::util::DeviceExt;
use zkw_model::ops::Op;

use crate::context::Gpu;
use crate::error::GpuError;

mod add;
mod conv;
mod dense;
mod max_pool;
mod mul;
mod relu;
mod requantize;
mod scale;
mod select;
mod softmax;
mod sum;
mod table;

/// Threads per workgroup, as every kernel declares it.
pub(crate) const WG: u64 = 64;

/// The shared prelude every kernel source starts with.
macro_rules! kernel_source {
    ($file:literal) => {
        concat!(include_str!("common.wgsl"), "\n", include_str!($file))
    };
}
pub(crate) use kernel_source;

/// Every kernel's name and full WGSL source, for validation.
pub const SOURCES: &[(&str, &str)] = &[
    ("add", add::SOURCE),
    ("conv", conv::SOURCE),
    ("dense", dense::SOURCE),
    ("max_pool", max_pool::SOURCE),
    ("mul", mul::SOURCE),
    ("relu", relu::SOURCE),
    ("requantize", requantize::SOURCE),
    ("scale", scale::SOURCE),
    ("select", select::SOURCE),
    ("softmax", softmax::SOURCE),
    ("sum", sum::SOURCE),
    ("table", table::SOURCE),
];

/// One node's GPU work for one batch size.
pub(crate) enum Step {
    /// A kernel launch.
    Dispatch {
        /// Its pipeline.
        pipeline: Arc<wgpu::ComputePipeline>,
        /// Its bindings.
        bind_group: wgpu::BindGroup,
        /// Workgroups along x, y, z.
        grid: [u32; 3],
    },
    /// A buffer copy (gathering a Select's operands into one buffer).
    Copy {
        /// Source buffer.
        from: wgpu::Buffer,
        /// Destination buffer.
        to: wgpu::Buffer,
        /// Byte offset in the destination.
        at: u64,
        /// Bytes.
        size: u64,
    },
}

/// What a node's kernel reads and writes for one batch size.
pub(crate) struct NodeIo<'a> {
    /// Its operands' buffers.
    pub inputs: Vec<&'a wgpu::Buffer>,
    /// Its operands' values per sample.
    pub input_lens: Vec<u64>,
    /// Its output buffer.
    pub output: &'a wgpu::Buffer,
    /// Its output's values per sample.
    pub output_len: u64,
    /// Samples.
    pub batch: u64,
    /// Its constants, as [`constants`] uploaded them.
    pub constants: &'a [wgpu::Buffer],
}

/// Uploads a node's constants (weights, biases, tables, index maps) once per model.
pub(crate) fn constants(
    gpu: &Gpu,
    name: &str,
    op: &Op,
    input_lens: &[u64],
) -> Result<Vec<wgpu::Buffer>, GpuError> {
    match op {
        Op::Dense(d) => dense::constants(gpu, name, d),
        Op::Conv(c) => conv::constants(gpu, name, c),
        Op::Table(t) => table::constants(gpu, name, t),
        Op::Softmax(s) => softmax::constants(gpu, name, s),
        Op::Select(s) => select::constants(gpu, name, s, input_lens),
        Op::Scale(s) => scale::constants(gpu, name, s),
        Op::Requantize(_)
        | Op::Relu(_)
        | Op::Reshape(_)
        | Op::Add(_)
        | Op::MaxPool(_)
        | Op::Mul(_)
        | Op::Sum(_) => Ok(Vec::new()),
    }
}

/// The steps that compute a node for one batch size (none for a reshape: its output shares its
/// input's buffer).
pub(crate) fn steps(gpu: &Gpu, op: &Op, io: &NodeIo<'_>) -> Result<Vec<Step>, GpuError> {
    match op {
        Op::Dense(d) => dense::steps(gpu, d, io),
        Op::Requantize(r) => requantize::steps(gpu, r, io),
        Op::Relu(_) => relu::steps(gpu, io),
        Op::Reshape(_) => Ok(Vec::new()),
        Op::Add(_) => add::steps(gpu, io),
        Op::Conv(c) => conv::steps(gpu, c, io),
        Op::MaxPool(m) => max_pool::steps(gpu, m, io),
        Op::Table(t) => table::steps(gpu, t, io),
        Op::Softmax(s) => softmax::steps(gpu, s, io),
        Op::Select(s) => select::steps(gpu, s, io),
        Op::Mul(_) => mul::steps(gpu, io),
        Op::Sum(s) => sum::steps(gpu, s, io),
        Op::Scale(_) => scale::steps(gpu, io),
    }
}

/// A read-only storage buffer holding `values` (at least one value: WebGPU has no empty
/// bindings), refused when larger than the device allows.
pub(crate) fn storage(gpu: &Gpu, label: &str, values: &[i32]) -> Result<wgpu::Buffer, GpuError> {
    let bytes = (values.len().max(1) * 4) as u64;
    if bytes > gpu.max_binding() {
        return Err(GpuError::TooLarge {
            what: label.to_string(),
            bytes,
            limit: gpu.max_binding(),
        });
    }
    let padded;
    let values = if values.is_empty() {
        padded = [0i32];
        &padded[..]
    } else {
        values
    };
    Ok(gpu
        .device
        .create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(label),
            contents: bytemuck::cast_slice(values),
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
        }))
}

/// Values of a model's constants as `i32`: the model's validation bounds every weight, bias,
/// table entry and index by its declared width (at most 32 bits), and indices by the tensor
/// sizes, so none is cut.
pub(crate) fn narrow(values: &[i64]) -> Vec<i32> {
    values.iter().map(|&v| v as i32).collect()
}

/// A dispatch of kernel `name` with `params` (32-bit words, padded to a multiple of four) and
/// the storage `buffers` at bindings 1, 2, …
pub(crate) fn dispatch(
    gpu: &Gpu,
    name: &'static str,
    source: &'static str,
    params: &[u32],
    buffers: &[&wgpu::Buffer],
    grid: [u32; 3],
) -> Result<Step, GpuError> {
    let pipeline = gpu.pipeline(name, source)?;
    let mut words = params.to_vec();
    words.resize(params.len().div_ceil(4).max(1) * 4, 0);
    let uniform = gpu
        .device
        .create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(name),
            contents: bytemuck::cast_slice(&words),
            usage: wgpu::BufferUsages::UNIFORM,
        });
    let mut entries = vec![wgpu::BindGroupEntry {
        binding: 0,
        resource: uniform.as_entire_binding(),
    }];
    entries.extend(
        buffers
            .iter()
            .enumerate()
            .map(|(k, b)| wgpu::BindGroupEntry {
                binding: k as u32 + 1,
                resource: b.as_entire_binding(),
            }),
    );
    let bind_group = gpu.device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some(name),
        layout: &pipeline.get_bind_group_layout(0),
        entries: &entries,
    });
    Ok(Step::Dispatch {
        pipeline,
        bind_group,
        grid,
    })
}

/// A count as a 32-bit kernel parameter: every count a validated model has is far below 2^32
/// (tensors hold at most `MAX_ELEMENTS` values; buffers are bounded by the device).
pub(crate) fn word(n: u64, what: &str) -> Result<u32, GpuError> {
    u32::try_from(n).map_err(|_| GpuError::Count {
        what: what.to_string(),
        count: n,
    })
}

/// Checks one grid dimension against the device's limit.
pub(crate) fn dimension(gpu: &Gpu, what: &str, count: u64) -> Result<u32, GpuError> {
    let limit = gpu.limits.max_compute_workgroups_per_dimension;
    u32::try_from(count)
        .ok()
        .filter(|&c| c <= limit)
        .ok_or_else(|| GpuError::TooManyWorkgroups {
            what: what.to_string(),
            count,
            limit,
        })
}

/// A grid of `threads` threads for the element-wise kernels (`flat_index` in common.wgsl):
/// workgroups along x up to the device's limit, the rest along y.
pub(crate) fn flat_grid(gpu: &Gpu, what: &str, threads: u64) -> Result<[u32; 3], GpuError> {
    let groups = threads.div_ceil(WG).max(1);
    let limit = u64::from(gpu.limits.max_compute_workgroups_per_dimension);
    let x = groups.min(limit);
    let y = groups.div_ceil(x);
    Ok([dimension(gpu, what, x)?, dimension(gpu, what, y)?, 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kernel parses and validates with naga (the WGSL front end wgpu itself uses), so
    /// a broken shader fails here, on any machine, not only where a GPU runs it.
    #[test]
    fn every_kernel_validates_with_naga() {
        for (name, source) in SOURCES {
            let module = naga::front::wgsl::parse_str(source)
                .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(source)));
            naga::valid::Validator::new(
                naga::valid::ValidationFlags::all(),
                naga::valid::Capabilities::empty(),
            )
            .validate(&module)
            .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(source)));
            assert!(
                module.entry_points.iter().any(|e| e.name == "main"),
                "{name} has no `main`"
            );
        }
    }

    /// Every IR op has its kernel listed (a reshape needs none: it shares its input's buffer).
    #[test]
    fn every_kernel_file_is_listed() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/kernels");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter_map(|f| f.strip_suffix(".wgsl").map(str::to_string))
            .filter(|f| f != "common")
            .collect();
        files.sort();
        let listed: Vec<String> = SOURCES.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(files, listed);
    }
}
