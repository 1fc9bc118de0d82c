//! The backend switch, as the worker uses it: [`zkw_gpu::backend`], with its errors as the
//! worker's configuration errors.

pub use zkw_gpu::Backend;
use zkw_gpu::Selected;

use crate::error::WorkerError;

/// The executor for `backend`, with the line that says which.
pub fn select(backend: Backend) -> Result<Selected, WorkerError> {
    zkw_gpu::select(backend).map_err(|e| WorkerError::Config(format!("--backend gpu: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cpu` is the reference; `gpu` opens an adapter exactly when there is one (and fails
    /// naming why when not); `auto` never fails and says what it chose.
    #[test]
    fn the_switch_does_what_it_says() {
        let cpu = select(Backend::Cpu).unwrap();
        assert_eq!(cpu.executor.name(), "cpu reference");
        let there_is_one = zkw_gpu::Gpu::new().is_ok();
        match select(Backend::Gpu) {
            Ok(s) => {
                assert!(there_is_one);
                assert!(
                    s.executor.name().starts_with("gpu "),
                    "{}",
                    s.executor.name()
                );
                assert!(s.notice.starts_with("executor: GPU "), "{}", s.notice);
            }
            Err(e) => {
                assert!(!there_is_one);
                assert!(
                    e.to_string().contains("--backend gpu: no GPU adapter"),
                    "{e}"
                );
            }
        }
        let auto = select(Backend::Auto).unwrap();
        if auto.fell_back {
            assert_eq!(auto.executor.name(), "cpu reference");
            assert!(
                auto.notice.ends_with("running the CPU reference executor")
                    || auto.notice.contains("only a CPU driver"),
                "{}",
                auto.notice
            );
        } else {
            assert!(auto.executor.name().starts_with("gpu "));
        }
        assert_eq!("cpu".parse::<Backend>(), Ok(Backend::Cpu));
        assert!(
            "tpu"
                .parse::<Backend>()
                .unwrap_err()
                .contains("auto, gpu or cpu")
        );
    }
}
