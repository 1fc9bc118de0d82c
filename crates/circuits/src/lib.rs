//! `zkw-circuits`: the R1CS for *"output y is what model M computes on input x, for job J"*.
//!
//! One gadget file per op under [`ops`], each the R1CS image of the matching op module of
//! `zkw_model::ops`, tested equal to it (the op-completeness test holds every op to its
//! gadget, its kernel and its adversarial witnesses); plus the pieces every circuit needs: [`range`]
//! (bit decomposition), [`lookup`] (table lookup), [`divide`] (exact division), [`digest`]
//! (Poseidon over packed values) and [`commitment`] (the model commitment, native and
//! in-circuit). [`circuit::InferenceCircuit`] walks the model's graph with them and takes its
//! witness from a `zkw_model::Trace` alone, so any executor that produces the same trace can
//! feed the prover. Every witness value is constrained: the soundness tests change each one in
//! turn and expect the system to fail.
//!
//! Besides the inference circuit: [`range_slice`], the one-time range proof's circuit over a
//! slice of committed weights.
//!
//! Also: [`lin`], the linear-combination values every gadget passes around (a `Val` is a
//! circuit combination and its trace value), and [`error`], the circuit's errors.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod circuit;
pub mod commitment;
pub mod digest;
pub mod divide;
pub mod error;
pub mod lin;
pub mod lookup;
pub mod ops;
pub mod range;
pub mod range_slice;

pub use circuit::InferenceCircuit;
pub use commitment::model_commitment;
pub use error::CircuitError;
pub use zkw_verifier::Fr;
