//! Errors of circuit construction.

use ark_relations::gr1cs::SynthesisError;
use zkw_model::ModelError;
use zkw_verifier::width::{BadWidth, OutOfRange};

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
    /// A tensor's declared width is not one a statement can pack.
    #[error("{what}: {err}")]
    Width {
        /// Which tensor.
        what: String,
        /// The width.
        err: BadWidth,
    },
    /// A value the circuit packs lies outside its declared width (a trace or model that no
    /// accepted model produces).
    #[error("{what}: {err}")]
    OutOfRange {
        /// Which tensor.
        what: String,
        /// The value.
        err: OutOfRange,
    },
    /// The output's static bounds exceed its declared width (packing it would not be
    /// injective).
    #[error("the output can reach [{lo}, {hi}], beyond its declared {bits}-bit width")]
    OutputWidth {
        /// Lowest possible output value.
        lo: i64,
        /// Highest possible output value.
        hi: i64,
        /// The declared width.
        bits: u32,
    },
    /// arkworks failed to synthesize.
    #[error("constraint synthesis failed: {0}")]
    Synthesis(SynthesisError),
}

// By hand rather than `#[from]`, which would also make the inner error the `source`: the
// message already prints it, and a chain-walking report would print it twice.
impl From<SynthesisError> for CircuitError {
    fn from(e: SynthesisError) -> Self {
        CircuitError::Synthesis(e)
    }
}
