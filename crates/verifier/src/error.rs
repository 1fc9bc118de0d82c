//! Why a receipt was rejected.

/// A specific reason for every rejection, so a settlement service can act on it (and keep the
/// receipt as evidence) instead of seeing a bare `false`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerificationError {
    /// The receipt, key or record could not be parsed, or is inconsistent with itself.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// Which artifact.
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The document is larger than its type's cap: refused before it is parsed (see
    /// [`crate::file`]).
    #[error("{0}")]
    TooLarge(crate::file::TooLarge),
    /// A committed-weights model's proof of knowledge of the opening of its commitment does
    /// not verify: the commitment may hide a shift by another base, so the model's receipts
    /// would prove nothing.
    #[error("the weight commitment's opening proof fails: {0}")]
    BadOpening(String),
    /// The receipt's format version is not one this verifier reads.
    #[error("receipt version {found} is not supported (this verifier reads version {supported})")]
    UnsupportedVersion {
        /// Version in the receipt.
        found: u64,
        /// Version this build reads.
        supported: u32,
    },
    /// The receipt claims another model than the one it is checked against.
    #[error("model mismatch: expected model {expected}, the receipt is for {received}")]
    ModelMismatch {
        /// The registry's model id.
        expected: String,
        /// The receipt's model id.
        received: String,
    },
    /// The verifying key is not the registered one, or the receipt names another key.
    #[error("verifying key mismatch: expected key {expected}, got {received}")]
    KeyMismatch {
        /// The registry's vk id.
        expected: String,
        /// The key id found.
        received: String,
    },
    /// The receipt is for another job (id or client nonce) than expected.
    #[error("job mismatch: expected {expected}, the receipt is for {received}")]
    JobMismatch {
        /// Expected job id / nonce.
        expected: String,
        /// The receipt's.
        received: String,
    },
    /// The receipt was produced by another worker than expected.
    #[error("worker mismatch: expected worker {expected}, the receipt names {received}")]
    WorkerMismatch {
        /// Expected worker id.
        expected: String,
        /// The receipt's.
        received: String,
    },
    /// The receipt's input digest is not the digest of the client's input.
    #[error(
        "input mismatch: the receipt's input digest {received} is not the input's digest {expected}"
    )]
    InputMismatch {
        /// Digest of the client's input.
        expected: String,
        /// The receipt's.
        received: String,
    },
    /// The receipt's output is inconsistent with the model's output format.
    #[error("output mismatch: {0}")]
    OutputMismatch(String),
    /// A claimed value lies outside the signed range of its declared width: no honest proof
    /// can carry it, and packing it would let value carry into a neighbour.
    #[error(
        "{what} value #{index} = {value} is outside the signed {bits}-bit range the model declares"
    )]
    OutOfRange {
        /// Which tensor (`output`).
        what: &'static str,
        /// Position in the flattened tensor.
        index: usize,
        /// The claimed value.
        value: i64,
        /// The declared width.
        bits: u32,
    },
    /// The receipt carries a signature that is not its worker's over its claim.
    #[error("bad worker signature: {reason}")]
    BadSignature {
        /// What is wrong.
        reason: String,
    },
    /// The receipt's client request is not signed by the client it names, or does not match
    /// the receipt.
    #[error("bad client request: {reason}")]
    BadRequest {
        /// What is wrong.
        reason: String,
    },
    /// The receipt may settle in another venue than expected, or in none.
    #[error("venue mismatch: expected venue {expected}, the receipt's request names {received}")]
    VenueMismatch {
        /// The venue expected.
        expected: String,
        /// The receipt's venue (or that it has no request).
        received: String,
    },
    /// A registration or licence carries no owner signature: unsigned ones are refused.
    #[error("the {what} is not signed by its owner: unsigned ones are refused")]
    Unsigned {
        /// `model registration` or `licence`.
        what: &'static str,
    },
    /// A registration or licence carries a signature that is not its owner's.
    #[error("bad owner signature on the {what}: {reason}")]
    BadOwnerSignature {
        /// `model registration` or `licence`.
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The worker holds no valid licence for the model: its receipt is not settled.
    #[error("worker {worker} is not licensed for model {model}: {reason}")]
    Unlicensed {
        /// The worker.
        worker: String,
        /// The model.
        model: String,
        /// Why no licence holds.
        reason: String,
    },
    /// The Groth16 proof does not verify for this statement.
    #[error("the proof does not verify for this statement (model, input, output and job)")]
    BadProof,
}
