//! A model on the GPU: its constants uploaded once, and per batch size an arena — one buffer
//! per tensor, the node's bind groups and grids, staging buffers for readback — kept in a pool
//! and reused across jobs.
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
        let max_batch = (limit / (widest.0 * 4)).min(MAX_BATCH);
        if max_batch == 0 {
            return Err(GpuError::TooLarge {
                what: widest.1,
                bytes: widest.0 * 4,
                limit,
            });
        }
        let constants = model
            .nodes
            .iter()
            .map(|n| {
                let lens: Vec<u64> = n.inputs.iter().map(|&t| infos[t].len() as u64).collect();
                kernels::constants(gpu, &n.name, &n.op, &lens)
            })
            .collect::<Result<Vec<_>, _>>()?;
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
            return Ok(pool.swap_remove(k));
        }
        drop(pool);
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
    /// the model's input format), in one submission.
    pub(crate) fn run_chunk(&self, gpu: &Gpu, inputs: &[&[i64]]) -> Result<Vec<Trace>, GpuError> {
        let batch = inputs.len() as u64;
        let arena = self.arena(gpu, batch)?;
        let result = self.run_in(gpu, &arena, inputs);
        if result.is_ok() {
            self.arenas
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(arena);
        }
        result
    }

    fn run_in(&self, gpu: &Gpu, arena: &Arena, inputs: &[&[i64]]) -> Result<Vec<Trace>, GpuError> {
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
        gpu.submit_and_wait(|encoder| {
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
        // Map every readback buffer, wait once, read.
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
        gpu.wait(None)?;
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
