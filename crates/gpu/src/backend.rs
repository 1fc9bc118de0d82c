//! The backend switch (`--backend auto|gpu|cpu`): which executor runs the models.
//!
//! `cpu` is the reference executor. `gpu` opens a GPU adapter (any, a CPU Vulkan driver such
//! as lavapipe included) or fails clearly. `auto` uses a real GPU when there is one and names
//! it; with none — or only a CPU driver, which would be slower than the reference — it runs the
//! reference and says why in one line. The prover checks every trace, so the choice changes
//! speed, never what a receipt proves.

use std::sync::Arc;

use zkw_model::{Executor, Reference};

use crate::context::Gpu;
use crate::error::GpuError;
use crate::executor::GpuExecutor;

/// Which executor the operator asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// A GPU when there is one, else the reference.
    #[default]
    Auto,
    /// A GPU, or fail.
    Gpu,
    /// The CPU reference executor.
    Cpu,
}

impl std::str::FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Backend::Auto),
            "gpu" => Ok(Backend::Gpu),
            "cpu" => Ok(Backend::Cpu),
            other => Err(format!("unknown backend `{other}` (auto, gpu or cpu)")),
        }
    }
}

/// The executor chosen, and one line saying which (and why, when `auto` fell back).
pub struct Selected {
    /// The executor.
    pub executor: Arc<dyn Executor>,
    /// What runs the models, for the operator.
    pub notice: String,
    /// Whether `auto` wanted a GPU and fell back to the reference.
    pub fell_back: bool,
}

/// The executor for `backend`.
pub fn select(backend: Backend) -> Result<Selected, GpuError> {
    let reference = |notice: String, fell_back| Selected {
        executor: Arc::new(Reference),
        notice,
        fell_back,
    };
    let gpu = |gpu: Gpu| {
        let notice = format!("executor: GPU {}", gpu.adapter());
        Selected {
            executor: Arc::new(GpuExecutor::on(Arc::new(gpu))),
            notice,
            fell_back: false,
        }
    };
    match backend {
        Backend::Cpu => Ok(reference("executor: the CPU reference".into(), false)),
        Backend::Gpu => Gpu::new().map(gpu),
        Backend::Auto => match Gpu::new() {
            Ok(g) if g.adapter().device_type != "Cpu" => Ok(gpu(g)),
            Ok(g) => Ok(reference(
                format!(
                    "only a CPU driver ({}): running the CPU reference executor (--backend gpu \
                     forces it)",
                    g.adapter()
                ),
                true,
            )),
            Err(e) => Ok(reference(
                format!("{e}: running the CPU reference executor"),
                true,
            )),
        },
    }
}
