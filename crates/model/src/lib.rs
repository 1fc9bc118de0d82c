//! `zkw-model`: zkworker's quantized model IR and **the** reference integer semantics.
//!
//! Everything that is later proved is defined here, once, in integers: each op's module under
//! [`ops`] defines its parameters, shape rule, exact integer function, static bounds and
//! committed parameters; [`executor::run`] walks the graph with them, and every other producer of a
//! [`Trace`] (the wgpu kernels, the R1CS gadgets) is tested *equal* to it, bit for bit. Floats
//! appear only at the edges: in the ONNX importer (the `zkw-onnx` crate: quantization and
//! calibration), in [`input`] (a client's float input quantized, an output shown to a person).
//!
//! The crate is layered like tract: [`ir`] is the core (a graph of nodes over tensors, shapes,
//! scales) and knows nothing of ONNX; the `zkw-onnx` crate turns an ONNX graph into that IR. [`bounds`] proves statically that no value can overflow an `i32` on a GPU or wrap in the
//! proof's field, and a model that fails it is rejected before it can be mis-proved. [`file`](mod@file)
//! gives the model its canonical bytes and content id.
//!
//! Files: [`tensor`] is the bottom, the vocabulary every op is written in (a tensor's format,
//! the limits a file must keep, [`Interval`]); [`ops`] builds on it alone, [`ir`] and
//! [`bounds`] on both; [`executor`] walks a graph; [`input`] is the float edge; [`error`]
//! names every failure. Behind features: `testing` (proptest strategies shared by every
//! executor's and the circuits' tests) and `seeds` (one small model per op kind, the fuzzers'
//! and golden files' seeds).
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod bounds;
pub mod error;
pub mod executor;
pub mod file;
pub mod input;
pub mod ir;
pub mod ops;
#[cfg(feature = "seeds")]
pub mod seeds;
pub mod tensor;
#[cfg(feature = "testing")]
pub mod testing;

pub use bounds::Bounds;
pub use error::ModelError;
pub use executor::{Executor, Reference, Trace, run};
pub use file::{ModelId, load_model, model_id, to_canonical_bytes};
pub use ir::{Model, Node, TensorId, WeightMode};
pub use ops::{Op, OpKind, OpSemantics, Parameter};
pub use tensor::{Interval, TensorInfo};
