//! The GPU executor: [`zkw_model::Executor`] over a [`Gpu`], with each model uploaded once
//! (found again by comparing the model itself: cheaper per job than hashing it for its id, and
//! exact) and batches split to what the device holds.

use std::sync::{Arc, Mutex};

use zkw_model::executor::check_input;
use zkw_model::{Executor, Model, ModelError, Trace};

use crate::context::{AdapterSummary, Gpu};
use crate::error::GpuError;
use crate::model::GpuModel;

/// Models kept uploaded; the least recently loaded goes first.
const CACHED_MODELS: usize = 16;

/// Runs models on one GPU.
pub struct GpuExecutor {
    gpu: Arc<Gpu>,
    models: Mutex<Vec<Arc<GpuModel>>>,
}

impl GpuExecutor {
    /// An executor on the adapter `ZKW_ADAPTER` names, or the best one there is.
    pub fn new() -> Result<Self, GpuError> {
        Ok(Self::on(Arc::new(Gpu::new()?)))
    }

    /// An executor on an opened device.
    pub fn on(gpu: Arc<Gpu>) -> Self {
        GpuExecutor {
            gpu,
            models: Mutex::new(Vec::new()),
        }
    }

    /// The adapter it runs on.
    pub fn adapter(&self) -> &AdapterSummary {
        self.gpu.adapter()
    }

    /// The model uploaded (once; later calls reuse the upload).
    pub fn load(&self, model: &Model) -> Result<Arc<GpuModel>, GpuError> {
        if let Some(m) = self
            .models
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .find(|m| m.model() == model)
        {
            return Ok(m.clone());
        }
        let loaded = Arc::new(GpuModel::load(&self.gpu, model)?);
        let mut models = self.models.lock().unwrap_or_else(|p| p.into_inner());
        if models.len() >= CACHED_MODELS {
            models.remove(0);
        }
        models.push(loaded.clone());
        Ok(loaded)
    }

    /// The traces of many inputs of one model, in order: as many per submission as the device
    /// holds.
    pub fn traces(&self, model: &Model, inputs: &[Vec<i64>]) -> Result<Vec<Trace>, GpuError> {
        let loaded = self.load(model)?;
        for x in inputs {
            check_input(model, x)?;
        }
        let mut out = Vec::with_capacity(inputs.len());
        for chunk in inputs.chunks(loaded.max_batch() as usize) {
            let refs: Vec<&[i64]> = chunk.iter().map(Vec::as_slice).collect();
            let traces = loaded.run_chunk(&self.gpu, &refs)?;
            // The statement's input digest is computed from the trace: a trace must carry
            // exactly the input it was asked to run, whatever the driver did.
            if let Some(k) = traces.iter().zip(chunk).position(|(t, x)| &t.input() != x) {
                return Err(GpuError::Gpu(format!(
                    "the input read back for sample {k} differs from the input written"
                )));
            }
            out.extend(traces);
        }
        Ok(out)
    }
}

impl Executor for GpuExecutor {
    fn name(&self) -> String {
        format!("gpu {}", self.gpu.adapter())
    }

    fn run(&self, model: &Model, input: &[i64]) -> Result<Trace, ModelError> {
        let mut traces = self.traces(model, &[input.to_vec()])?;
        traces.pop().ok_or_else(|| ModelError::Executor {
            executor: "GPU".into(),
            reason: "no trace came back".into(),
        })
    }

    fn run_batch(&self, model: &Model, inputs: &[Vec<i64>]) -> Result<Vec<Trace>, ModelError> {
        Ok(self.traces(model, inputs)?)
    }
}
