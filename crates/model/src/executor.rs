//! THE reference integer semantics and the executors that compute them.
//!
//! [`run`] walks the graph node by node, each op applying the function its module defines
//! (`crate::ops::*`, `OpSemantics::eval`), and returns a [`Trace`]: every tensor of the graph.
//! The wgpu kernels and the R1CS gadgets are tested equal to these functions. They operate on
//! `i64` so that they can never wrap themselves; [`crate::bounds`] guarantees statically that
//! every value of an accepted model also fits the narrower types other executors use.
//!
//! An [`Executor`] is anything that computes them — the reference itself ([`Reference`]), or
//! the GPU. The circuit's witness is built from a trace alone, so any executor that produces
//! the same trace can feed the prover; the prover checks it against the circuit and never
//! trusts it, so a faulty executor can make a job fail but never a receipt lie.

use serde::{Deserialize, Serialize};

use crate::error::ModelError;
use crate::ir::{Model, TensorId, signed_range};

/// Every tensor of one inference, indexed by [`TensorId`]: the graph inputs, then each node's
/// output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    /// `tensors[t]` holds tensor `t`'s values.
    pub tensors: Vec<Vec<i64>>,
    /// How many of the first tensors are graph inputs.
    pub inputs: usize,
    /// The tensors that make the output, in order.
    pub outputs: Vec<TensorId>,
}

impl Trace {
    /// The client's input: the graph inputs' values concatenated.
    pub fn input(&self) -> Vec<i64> {
        self.tensors[..self.inputs].concat()
    }

    /// The model's output: the output tensors' values concatenated.
    pub fn output(&self) -> Vec<i64> {
        self.outputs
            .iter()
            .flat_map(|&t| self.tensors[t].iter().copied())
            .collect()
    }

    /// Tensor `t`'s values.
    pub fn tensor(&self, t: TensorId) -> &[i64] {
        &self.tensors[t]
    }
}

/// Checks that `input` fits the model's input length and bit width.
pub fn check_input(model: &Model, input: &[i64]) -> Result<(), ModelError> {
    let info = model.input_info();
    if input.len() != info.len() {
        return Err(ModelError::InputLength {
            expected: info.len(),
            got: input.len(),
            shape: info.shape.clone(),
        });
    }
    let (lo, hi) = signed_range(info.bits);
    if let Some((index, &value)) = input.iter().enumerate().find(|(_, v)| **v < lo || **v > hi) {
        return Err(ModelError::InputOutOfRange {
            index,
            value,
            bits: info.bits,
        });
    }
    Ok(())
}

/// Runs the model on a quantized input (the graph inputs concatenated) and returns the trace.
pub fn run(model: &Model, input: &[i64]) -> Result<Trace, ModelError> {
    // The bounds analysis, not just the structure: the ops' `eval` may assume every value
    // stays inside its static interval (no i64 overflow).
    crate::bounds::analyze(model)?;
    check_input(model, input)?;
    let mut tensors: Vec<Vec<i64>> = Vec::with_capacity(model.tensor_count());
    let mut rest = input;
    for info in &model.inputs {
        let (head, tail) = rest.split_at(info.len());
        tensors.push(head.to_vec());
        rest = tail;
    }
    for node in &model.nodes {
        let operands: Vec<&[i64]> = node.inputs.iter().map(|&t| tensors[t].as_slice()).collect();
        let out = node.op.semantics().eval(&operands);
        tensors.push(out);
    }
    Ok(Trace {
        tensors,
        inputs: model.inputs.len(),
        outputs: model.outputs.clone(),
    })
}

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

/// The reference executor: [`run`] on the CPU.
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
