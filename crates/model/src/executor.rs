//! Executors: what runs a model and hands the prover its trace.
//!
//! The reference semantics ([`crate::exec`]) define every op to the bit; an executor is
//! anything that computes them — the reference itself ([`Reference`]), or the GPU. The prover
//! checks any executor's trace against the circuit and never trusts it, so a faulty executor
//! can make a job fail but never a receipt lie.

use crate::error::ModelError;
use crate::exec::{Trace, run};
use crate::ir::Model;

/// Runs a model on a quantized input and returns the full trace.
pub trait Executor: Send + Sync {
    /// What runs the model, for logs and metrics (`"cpu reference"`, a GPU adapter's name).
    fn name(&self) -> String;

    /// The trace of one input: the input and the output of every op.
    fn run(&self, model: &Model, input: &[i64]) -> Result<Trace, ModelError>;

    /// The traces of many inputs of one model, in order. Executors that run a batch in one
    /// dispatch (the GPU) override this; the default runs them one by one.
    fn run_batch(&self, model: &Model, inputs: &[Vec<i64>]) -> Result<Vec<Trace>, ModelError> {
        inputs.iter().map(|x| self.run(model, x)).collect()
    }
}

/// The reference executor: [`crate::exec::run`] on the CPU.
#[derive(Debug, Clone, Copy, Default)]
pub struct Reference;

impl Executor for Reference {
    fn name(&self) -> String {
        "cpu reference".into()
    }

    fn run(&self, model: &Model, input: &[i64]) -> Result<Trace, ModelError> {
        run(model, input)
    }
}
