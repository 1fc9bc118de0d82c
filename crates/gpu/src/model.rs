//! A model on the GPU: its constants uploaded once, and per batch size an arena — one buffer
//! per tensor, the node's bind groups and grids, staging buffers for readback — kept in a small
//! pool and reused across jobs. Arenas come in powers of two (a batch of 5 runs in the arena for
//! 8, padded with zero inputs), so a worker whose batches vary keeps a handful, not hundreds.
//!
//! A reshape's output shares its input's buffer (same values, same order), so it costs
//! nothing; every other tensor has its own buffer, because the prover needs the whole trace.

use std::sync::Mutex;

use zkw_model::ops::Op;
use zkw_model::{Model, ModelError, TensorInfo, Trace};

use crate::context::Gpu;
use crate::error::GpuError;
use crate::kernels::{self, NodeIo, Step};

/// The most samples one dispatch carries: beyond it a batch is split.
pub const MAX_BATCH: u64 = 1024;

/// The most bytes one arena (a batch's tensors and their readback copies) may take: batches are
/// split to stay below it.
pub const ARENA_BUDGET: u64 = 1 << 30;

/// Arenas kept per model between jobs.
const POOLED: usize = 4;

/// A model uploaded to one device.
pub struct GpuModel {
    model: Model,
    infos: Vec<TensorInfo>,
    constants: Vec<Vec<wgpu::Buffer>>,
    /// Tensor → buffer slot (a reshape's output shares its input's slot).
    slot_of: Vec<usize>,
    /// Values per sample of each slot.
    slot_lens: Vec<u64>,
    /// The largest batch every buffer of the model fits at once.
    max_batch: u64,
    arenas: Mutex<Vec<Arena>>,
}

/// One batch size's buffers and steps.
struct Arena {
    batch: u64,
    buffers: Vec<wgpu::Buffer>,
    staging: Vec<wgpu::Buffer>,
    steps: Vec<Step>,
}

impl GpuModel {
    /// Checks the model (structure and static bounds: every value fits an `i32`), checks that
    /// one sample of every tensor fits the device, and uploads the constants.
    pub fn load(gpu: &Gpu, model: &Model) -> Result<Self, GpuError> {
        let infos = model.tensor_infos()?;
        zkw_model::bounds::analyze(model)?;
        let mut slot_of: Vec<usize> = Vec::with_capacity(infos.len());
        let mut slot_lens: Vec<u64> = Vec::new();
        for (t, info) in infos.iter().enumerate() {
            let shared = t
                .checked_sub(model.inputs.len())
                .map(|k| &model.nodes[k])
                .filter(|n| matches!(n.op, Op::Reshape(_)))
                .map(|n| slot_of[n.inputs[0]]);
            match shared {
                Some(slot) => slot_of.push(slot),
                None => {
                    slot_of.push(slot_lens.len());
                    slot_lens.push(info.len() as u64);
                }
            }
        }
        let limit = gpu.max_binding();
        // Every buffer of a batch must fit one binding; so must a Select's gathered operands.
        let mut widest: (u64, String) = (1, String::new());
        for (t, info) in infos.iter().enumerate() {
            let len = (info.len() as u64).max(1);
            if len > widest.0 {
                widest = (len, format!("tensor #{t} {:?}", info.shape));
            }
        }
        for node in &model.nodes {
            if let Op::Select(_) = node.op
                && node.inputs.len() > 1
            {
                let len: u64 = node.inputs.iter().map(|&t| infos[t].len() as u64).sum();
                if len > widest.0 {
                    widest = (len, format!("the operands of `{}`", node.name));
                }
            }
        }
        if widest.0 * 4 > limit {
            return Err(GpuError::TooLarge {
                what: widest.1,
                bytes: widest.0 * 4,
                limit,
            });
        }
        // One sample's arena: every buffer and its readback copy.
        let per_sample = slot_lens.iter().map(|&l| l.max(1)).sum::<u64>() * 4 * 2;
        let max_batch = (limit / (widest.0 * 4))
            .min(ARENA_BUDGET / per_sample)
            .clamp(1, MAX_BATCH);
        let constants = gpu.scoped(|| {
            model
                .nodes
                .iter()
                .map(|n| {
                    let lens: Vec<u64> = n.inputs.iter().map(|&t| infos[t].len() as u64).collect();
                    kernels::constants(gpu, &n.name, &n.op, &lens)
                })
                .collect::<Result<Vec<_>, _>>()
        })?;
        Ok(GpuModel {
            model: model.clone(),
            infos,
            constants,
            slot_of,
            slot_lens,
            max_batch,
            arenas: Mutex::new(Vec::new()),
        })
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The largest batch one dispatch carries for this model on this device.
    pub fn max_batch(&self) -> u64 {
        self.max_batch
    }

    fn arena(&self, gpu: &Gpu, batch: u64) -> Result<Arena, GpuError> {
        let mut pool = self.arenas.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(k) = pool.iter().position(|a| a.batch == batch) {
            return Ok(pool.remove(k));
        }
        drop(pool);
        gpu.scoped(|| self.make_arena(gpu, batch))
    }

    fn make_arena(&self, gpu: &Gpu, batch: u64) -> Result<Arena, GpuError> {
        let buffer = |len: u64, usage: wgpu::BufferUsages, label: &str| {
            gpu.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: len.max(1) * batch * 4,
                usage,
                mapped_at_creation: false,
            })
        };
        let storage = wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::COPY_DST
            | wgpu::BufferUsages::COPY_SRC;
        let readback = wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST;
        let buffers: Vec<wgpu::Buffer> = self
            .slot_lens
            .iter()
            .map(|&len| buffer(len, storage, "tensor"))
            .collect();
        let staging: Vec<wgpu::Buffer> = self
            .slot_lens
            .iter()
            .map(|&len| buffer(len, readback, "readback"))
            .collect();
        let n_in = self.model.inputs.len();
        let mut steps = Vec::new();
        for (k, node) in self.model.nodes.iter().enumerate() {
            let io = NodeIo {
                inputs: node
                    .inputs
                    .iter()
                    .map(|&t| &buffers[self.slot_of[t]])
                    .collect(),
                input_lens: node
                    .inputs
                    .iter()
                    .map(|&t| self.infos[t].len() as u64)
                    .collect(),
                output: &buffers[self.slot_of[n_in + k]],
                output_len: self.infos[n_in + k].len() as u64,
                batch,
                constants: &self.constants[k],
            };
            steps.extend(kernels::steps(gpu, &node.op, &io)?);
        }
        Ok(Arena {
            batch,
            buffers,
            staging,
            steps,
        })
    }

    /// The traces of `inputs` (at most [`GpuModel::max_batch`] of them, already checked against
    /// the model's input format), in one submission: in the arena of the next power of two,
    /// the rest of it fed zeros and its traces dropped.
    pub(crate) fn run_chunk(&self, gpu: &Gpu, inputs: &[&[i64]]) -> Result<Vec<Trace>, GpuError> {
        let n = inputs.len() as u64;
        let batch = n.next_power_of_two().min(self.max_batch).max(n);
        let arena = self.arena(gpu, batch)?;
        let zeros = vec![0i64; inputs.first().map_or(0, |x| x.len())];
        let padded: Vec<&[i64]> = inputs
            .iter()
            .copied()
            .chain(std::iter::repeat_n(zeros.as_slice(), (batch - n) as usize))
            .collect();
        let mut result = self.run_in(gpu, &arena, &padded);
        if let Ok(traces) = &mut result {
            traces.truncate(inputs.len());
            let mut pool = self.arenas.lock().unwrap_or_else(|p| p.into_inner());
            if pool.len() >= POOLED {
                pool.remove(0);
            }
            pool.push(arena);
        }
        result
    }

    fn run_in(&self, gpu: &Gpu, arena: &Arena, inputs: &[&[i64]]) -> Result<Vec<Trace>, GpuError> {
        let want: usize = self.model.inputs.iter().map(TensorInfo::len).sum();
        if let Some(x) = inputs.iter().find(|x| x.len() != want) {
            return Err(GpuError::Model(ModelError::InputLength {
                expected: want,
                got: x.len(),
                shape: vec![want],
            }));
        }
        // Each graph input's values for the whole batch, sample after sample.
        let mut at = 0;
        for (t, info) in self.model.inputs.iter().enumerate() {
            let len = info.len();
            let values: Vec<i32> = inputs
                .iter()
                .flat_map(|x| x[at..at + len].iter().map(|&v| v as i32))
                .collect();
            at += len;
            gpu.queue.write_buffer(
                &arena.buffers[self.slot_of[t]],
                0,
                bytemuck::cast_slice(&values),
            );
        }
        let index = gpu.submit(|encoder| {
            let mut k = 0;
            while k < arena.steps.len() {
                if let Step::Copy { from, to, at, size } = &arena.steps[k] {
                    encoder.copy_buffer_to_buffer(from, 0, to, *at, *size);
                    k += 1;
                    continue;
                }
                let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("model"),
                    timestamp_writes: None,
                });
                while let Some(Step::Dispatch {
                    pipeline,
                    bind_group,
                    grid,
                    ..
                }) = arena.steps.get(k)
                {
                    pass.set_pipeline(pipeline);
                    pass.set_bind_group(0, bind_group, &[]);
                    pass.dispatch_workgroups(grid[0], grid[1], grid[2]);
                    k += 1;
                }
            }
            for (buffer, staging) in arena.buffers.iter().zip(&arena.staging) {
                encoder.copy_buffer_to_buffer(buffer, 0, staging, 0, buffer.size());
            }
            Ok(())
        })?;
        // Map every readback buffer; they resolve when this submission completes.
        let mapped: Vec<std::sync::mpsc::Receiver<Result<(), wgpu::BufferAsyncError>>> = arena
            .staging
            .iter()
            .map(|s| {
                let (tx, rx) = std::sync::mpsc::channel();
                s.map_async(wgpu::MapMode::Read, .., move |r| {
                    let _ = tx.send(r);
                });
                rx
            })
            .collect();
        gpu.wait(index)?;
        let mut slots: Vec<Vec<i32>> = Vec::with_capacity(arena.staging.len());
        for (staging, rx) in arena.staging.iter().zip(mapped) {
            rx.recv()
                .map_err(|_| GpuError::Gpu("a readback was dropped".into()))?
                .map_err(|e| GpuError::Gpu(format!("readback: {e}")))?;
            let view = staging
                .get_mapped_range(..)
                .map_err(|e| GpuError::Gpu(format!("readback: {e}")))?;
            slots.push(bytemuck::cast_slice::<u8, i32>(&view).to_vec());
            drop(view);
            staging.unmap();
        }
        let n_t = self.infos.len();
        Ok((0..inputs.len())
            .map(|s| Trace {
                tensors: (0..n_t)
                    .map(|t| {
                        let len = self.infos[t].len();
                        slots[self.slot_of[t]][s * len..(s + 1) * len]
                            .iter()
                            .map(|&v| i64::from(v))
                            .collect()
                    })
                    .collect(),
                inputs: self.model.inputs.len(),
                outputs: self.model.outputs.clone(),
            })
            .collect())
    }
}

impl From<GpuError> for ModelError {
    fn from(e: GpuError) -> Self {
        match e {
            GpuError::Model(e) => e,
            other => ModelError::Executor {
                executor: "GPU".into(),
                reason: other.to_string(),
            },
        }
    }
}
