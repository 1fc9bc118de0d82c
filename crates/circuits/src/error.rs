//! Errors of circuit construction.

use ark_relations::gr1cs::SynthesisError;
use zkw_model::ModelError;

/// Why a circuit could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CircuitError {
    /// The model itself is invalid or could overflow.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The trace does not have the model's shape.
    #[error("trace does not match the model: {0}")]
    TraceShape(String),
    /// The model's salt is malformed.
    #[error("model salt: {0}")]
    Salt(String),
    /// arkworks failed to synthesize.
    #[error("constraint synthesis failed: {0}")]
    Synthesis(#[from] SynthesisError),
}
