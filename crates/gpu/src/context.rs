//! The GPU context: one adapter, one device with the limits the executor needs asked for
//! explicitly, and the compiled kernels (one pipeline per kernel, built on first use).
//!
//! Adapter choice: `ZKW_ADAPTER` picks by a case-insensitive substring of the adapter's name;
//! otherwise a discrete GPU is preferred over an integrated one, a virtual one, then a CPU
//! driver (lavapipe: correct, never fast).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::GpuError;

/// How long one submission may run before the executor gives up on it (a hung driver must not
/// hang the worker), unless `ZKW_GPU_TIMEOUT` gives another number of seconds.
pub const SUBMISSION_TIMEOUT: Duration = Duration::from_secs(120);

fn submission_timeout() -> Duration {
    std::env::var("ZKW_GPU_TIMEOUT")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|&s| s > 0)
        .map_or(SUBMISSION_TIMEOUT, Duration::from_secs)
}

/// What the executor runs on, for logs and the `auto` backend's notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdapterSummary {
    /// The adapter's name.
    pub name: String,
    /// The API (Vulkan, Metal, DX12, GL).
    pub backend: String,
    /// Discrete, integrated, virtual or CPU.
    pub device_type: String,
}

impl std::fmt::Display for AdapterSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}, {})", self.name, self.backend, self.device_type)
    }
}

/// One device and its compiled kernels.
pub struct Gpu {
    pub(crate) device: wgpu::Device,
    pub(crate) queue: wgpu::Queue,
    pub(crate) limits: wgpu::Limits,
    summary: AdapterSummary,
    pipelines: Mutex<HashMap<&'static str, Arc<wgpu::ComputePipeline>>>,
    lost: Arc<Mutex<Option<String>>>,
    lost_flag: Arc<AtomicBool>,
    /// Errors wgpu raised outside an error scope (which would otherwise panic), reported by
    /// the next submission.
    uncaptured: Arc<Mutex<Vec<String>>>,
    /// A cap on one binding below the device's (a smaller memory budget; tests).
    binding_cap: Option<u64>,
}

fn rank(t: wgpu::DeviceType) -> u8 {
    match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

impl Gpu {
    /// Opens the adapter `ZKW_ADAPTER` names, or the best one there is.
    pub fn new() -> Result<Self, GpuError> {
        let wanted = std::env::var("ZKW_ADAPTER").ok().filter(|s| !s.is_empty());
        Self::with_adapter(wanted.as_deref())
    }

    /// Opens the adapter whose name contains `wanted` (any case), or the best one there is.
    pub fn with_adapter(wanted: Option<&str>) -> Result<Self, GpuError> {
        let instance =
            wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
        let adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
        let adapter = adapters
            .into_iter()
            .filter(|a| {
                wanted.is_none_or(|w| a.get_info().name.to_lowercase().contains(&w.to_lowercase()))
            })
            .min_by_key(|a| {
                let info = a.get_info();
                // Vulkan/Metal/DX12 before GL: compute on GL is a fallback.
                let api = u8::from(info.backend == wgpu::Backend::Gl);
                (rank(info.device_type), api)
            })
            .ok_or_else(|| GpuError::NoAdapter(wanted.map(str::to_string)))?;
        let info = adapter.get_info();
        let summary = AdapterSummary {
            name: info.name.clone(),
            backend: format!("{:?}", info.backend),
            device_type: format!("{:?}", info.device_type),
        };
        let offered = adapter.limits();
        // WebGPU's downlevel defaults, with the buffer sizes raised to what the adapter offers
        // (a model's tensors are limited by the device, not by the portable minimum) and the
        // five storage buffers the widest kernel (select) binds.
        let limits = wgpu::Limits {
            max_storage_buffer_binding_size: offered.max_storage_buffer_binding_size,
            max_buffer_size: offered.max_buffer_size,
            max_storage_buffers_per_shader_stage: 5,
            max_compute_workgroups_per_dimension: offered.max_compute_workgroups_per_dimension,
            ..wgpu::Limits::downlevel_defaults()
        }
        .using_alignment(offered.clone());
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("zkw"),
            required_features: wgpu::Features::empty(),
            required_limits: limits.clone(),
            experimental_features: wgpu::ExperimentalFeatures::disabled(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        }))
        .map_err(|e| GpuError::Device {
            adapter: summary.name.clone(),
            reason: e.to_string(),
        })?;
        let lost = Arc::new(Mutex::new(None));
        let lost_flag = Arc::new(AtomicBool::new(false));
        {
            let (lost, flag) = (lost.clone(), lost_flag.clone());
            device.set_device_lost_callback(move |reason, message| {
                *lost.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some(format!("{reason:?}: {message}"));
                flag.store(true, Ordering::SeqCst);
            });
        }
        let uncaptured = Arc::new(Mutex::new(Vec::new()));
        {
            let uncaptured = uncaptured.clone();
            device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
                uncaptured
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(e.to_string());
            }));
        }
        tracing::info!(adapter = %summary, "GPU device opened");
        Ok(Gpu {
            device,
            queue,
            limits,
            summary,
            pipelines: Mutex::new(HashMap::new()),
            lost,
            lost_flag,
            uncaptured,
            binding_cap: None,
        })
    }

    /// Caps every buffer binding at `bytes` (below the device's own limit): a memory budget
    /// for the models this context runs. Models whose tensors do not fit are refused at load,
    /// and batches are split to fit.
    pub fn cap_binding(&mut self, bytes: u64) {
        self.binding_cap = Some(bytes);
    }

    /// The wgpu device, for sharing it with other GPU work (or destroying it).
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// The adapter this context runs on.
    pub fn adapter(&self) -> &AdapterSummary {
        &self.summary
    }

    /// The largest storage buffer one binding may see: the device's limit, the memory cap, and
    /// never beyond 2^31 bytes, so that every index a kernel computes (in `u32`) stays below
    /// 2^29.
    pub fn max_binding(&self) -> u64 {
        self.limits
            .max_storage_buffer_binding_size
            .min(self.limits.max_buffer_size)
            .min(self.binding_cap.unwrap_or(u64::MAX))
            .min(1 << 31)
    }

    /// An error when the device has been lost.
    pub(crate) fn check_alive(&self) -> Result<(), GpuError> {
        if self.lost_flag.load(Ordering::SeqCst) {
            let why = self
                .lost
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
                .unwrap_or_default();
            return Err(GpuError::DeviceLost(why));
        }
        let errors: Vec<String> =
            std::mem::take(&mut *self.uncaptured.lock().unwrap_or_else(|p| p.into_inner()));
        if !errors.is_empty() {
            return Err(GpuError::Gpu(errors.join("; ")));
        }
        Ok(())
    }

    /// The pipeline of kernel `name` from WGSL `source`, compiled on first use.
    pub(crate) fn pipeline(
        &self,
        name: &'static str,
        source: &'static str,
    ) -> Result<Arc<wgpu::ComputePipeline>, GpuError> {
        let mut cache = self.pipelines.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = cache.get(name) {
            return Ok(p.clone());
        }
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = self
            .device
            .create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(name),
                source: wgpu::ShaderSource::Wgsl(source.into()),
            });
        let pipeline = self
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(name),
                layout: None,
                module: &module,
                entry_point: Some("main"),
                compilation_options: Default::default(),
                cache: None,
            });
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(GpuError::Gpu(format!("kernel `{name}`: {e}")));
        }
        let pipeline = Arc::new(pipeline);
        cache.insert(name, pipeline.clone());
        Ok(pipeline)
    }

    /// Runs `f` (resource creation) and reports any validation or out-of-memory error it
    /// raised, instead of leaving it to whichever call comes next.
    pub(crate) fn scoped<T>(&self, f: impl FnOnce() -> Result<T, GpuError>) -> Result<T, GpuError> {
        self.check_alive()?;
        let validation = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let memory = self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let made = f();
        let memory = pollster::block_on(memory.pop());
        let validation = pollster::block_on(validation.pop());
        let made = made?;
        if let Some(e) = memory.or(validation) {
            return Err(GpuError::Gpu(e.to_string()));
        }
        Ok(made)
    }

    /// Encodes and submits one command buffer, with every validation or memory error of it
    /// reported; the submission's index, to wait on.
    pub(crate) fn submit(
        &self,
        encode: impl FnOnce(&mut wgpu::CommandEncoder) -> Result<(), GpuError>,
    ) -> Result<wgpu::SubmissionIndex, GpuError> {
        self.scoped(|| {
            let mut encoder = self
                .device
                .create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("job") });
            encode(&mut encoder)?;
            Ok(self.queue.submit([encoder.finish()]))
        })
    }

    /// Waits for submission `index` (and the callbacks, such as buffer maps, it resolves), bounded
    /// by the submission timeout ([`SUBMISSION_TIMEOUT`], or `ZKW_GPU_TIMEOUT`); a lost device
    /// is [`GpuError::DeviceLost`].
    pub(crate) fn wait(&self, index: wgpu::SubmissionIndex) -> Result<(), GpuError> {
        let timeout = submission_timeout();
        let polled = self.device.poll(wgpu::PollType::Wait {
            submission_index: Some(index),
            timeout: Some(timeout),
        });
        // A lost device explains any failure that follows it: say that first.
        self.check_alive()?;
        match polled {
            Ok(_) => Ok(()),
            Err(wgpu::PollError::Timeout) => Err(GpuError::Timeout(timeout.as_secs())),
            Err(wgpu::PollError::WrongSubmissionIndex(..)) => Err(GpuError::DeviceLost(
                "the device accepted no more work (destroyed or reset)".into(),
            )),
        }
    }
}
