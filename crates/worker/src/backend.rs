//! The backend switch: which executor runs the models.
//!
//! `cpu` is the reference executor. `gpu` needs the wgpu executor, which this build does not
//! have yet, and says so; `auto` uses a GPU when there is one and otherwise the reference, with
//! a one-line notice. The prover checks every trace, so the choice changes speed, never what a
//! receipt proves.

use std::sync::Arc;

use zkw_model::{Executor, Reference};

use crate::error::WorkerError;

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

/// The executor for `backend`, and the notice to print when `auto` fell back to the CPU.
pub fn select(backend: Backend) -> Result<(Arc<dyn Executor>, Option<String>), WorkerError> {
    match backend {
        Backend::Cpu => Ok((Arc::new(Reference), None)),
        Backend::Auto => Ok((
            Arc::new(Reference),
            Some("no GPU executor in this build: running the CPU reference executor".into()),
        )),
        Backend::Gpu => Err(WorkerError::Config(
            "--backend gpu: this build has no GPU executor yet; use --backend cpu or auto".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_falls_back_with_a_notice_and_gpu_fails_clearly() {
        let (e, notice) = select(Backend::Auto).unwrap();
        assert_eq!(e.name(), "cpu reference");
        assert!(notice.unwrap().contains("CPU reference"));
        let (_, notice) = select(Backend::Cpu).unwrap();
        assert!(notice.is_none());
        let err = select(Backend::Gpu).err().unwrap().to_string();
        assert!(err.contains("no GPU executor"), "{err}");
        assert_eq!("cpu".parse::<Backend>(), Ok(Backend::Cpu));
        assert!(
            "tpu"
                .parse::<Backend>()
                .unwrap_err()
                .contains("auto, gpu or cpu")
        );
    }
}
