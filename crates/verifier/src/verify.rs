//! Verification: a receipt against the registry record and the verifying key.
//!
//! Strict by default. A proof binds a statement — model, input digest, output, job — but a
//! receipt only means something to a verifier who compares that statement with what it
//! expects: without the client's input digest, a worker could have proved the model on any
//! input of its choosing; without the job id, any job's receipt would do. [`Expected`] holds
//! one [`Check`] per field, so skipping a check is a visible choice at the call site
//! ([`Check::Skip`], or [`Expected::model_only`]), and [`Verified::unchecked`] lists every
//! field that was not compared, for the caller to report.

use ark_bn254::Bn254;

use crate::Fr;
use crate::error::VerificationError;
use crate::field::{fr_from_hex, fr_to_hex};
use crate::key::VerifierKey;
use crate::receipt::Receipt;
use crate::record::ModelRecord;
use crate::request::ClientRequest;
use crate::signature::{Signer, check_signature};
use crate::statement::{Statement, job_binding};
use crate::venue::Venue;
use crate::width::OutOfRange;

/// Whether the verifier compares one field of a receipt with an expected value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check<T> {
    /// The receipt must carry exactly this.
    Equals(T),
    /// Not compared; [`Verified::unchecked`] says so.
    Skip,
}

/// A field of the statement that a verification did not compare with an expectation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Unchecked {
    /// The model: the record was picked by the receipt's own model id, not named by the
    /// caller, so a receipt of any registered model (with the same input format) passes.
    Model,
    /// The input digest: the proof may be about any input of the model.
    Input,
    /// The job id: the receipt may be another job's.
    JobId,
    /// The worker id: the receipt names a worker (the proof binds it) that nobody compared.
    WorkerId,
    /// The client nonce.
    ClientNonce,
    /// The venue: the receipt may be payable elsewhere than the caller settles, or nowhere.
    Venue,
}

impl std::fmt::Display for Unchecked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Unchecked::Model => "model",
            Unchecked::Input => "input",
            Unchecked::JobId => "job id",
            Unchecked::WorkerId => "worker id",
            Unchecked::ClientNonce => "client nonce",
            Unchecked::Venue => "venue",
        })
    }
}

/// What the verifier expects: the registered model, and one [`Check`] per field of the job.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The registry record of the model.
    pub record: &'a ModelRecord,
    /// The model the caller asked for. `Equals(id)`: the record is that model's, and so must
    /// the receipt be. `Skip`: the record was looked up by the receipt's own model id, which
    /// proves nothing about what the client asked for (a worker could have proved another
    /// registered model with the same input format).
    pub model: Check<&'a str>,
    /// The digest of the client's own input (a client who knows `x` and its salt recomputes
    /// it with [`crate::digest::input_digest`]).
    pub input_digest: Check<Fr>,
    /// The job id the client submitted.
    pub job_id: Check<&'a str>,
    /// The worker the job was assigned to.
    pub worker_id: Check<&'a str>,
    /// The client's nonce.
    pub client_nonce: Check<&'a str>,
    /// The venue the receipt's client request names: `Equals(v)` refuses a receipt without a
    /// request or with another venue.
    pub venue: Check<Venue>,
}

impl<'a> Expected<'a> {
    /// The strict expectation: this model (the record is the one the client asked for), the
    /// client's input digest and the job id. Add the worker and the nonce with
    /// [`Expected::worker`] and [`Expected::nonce`] when known.
    pub fn new(record: &'a ModelRecord, input_digest: Fr, job_id: &'a str) -> Self {
        Expected {
            record,
            model: Check::Equals(&record.model_id),
            input_digest: Check::Equals(input_digest),
            job_id: Check::Equals(job_id),
            worker_id: Check::Skip,
            client_nonce: Check::Skip,
            venue: Check::Skip,
        }
    }

    /// Only the model: a proof about *any* input of the model, for *any* job, verifies. For
    /// callers that check nothing else on purpose (a worker's self-check of its own proof).
    pub fn model_only(record: &'a ModelRecord) -> Self {
        Expected {
            record,
            model: Check::Equals(&record.model_id),
            input_digest: Check::Skip,
            job_id: Check::Skip,
            worker_id: Check::Skip,
            client_nonce: Check::Skip,
            venue: Check::Skip,
        }
    }

    /// The record was looked up by the receipt's own model id (a settler that knows no
    /// client, or a caller who said `--unchecked model`): [`Unchecked::Model`] is reported.
    pub fn model_from_receipt(self) -> Self {
        Expected {
            model: Check::Skip,
            ..self
        }
    }

    /// Also expect this worker.
    pub fn worker(self, worker_id: &'a str) -> Self {
        Expected {
            worker_id: Check::Equals(worker_id),
            ..self
        }
    }

    /// Also expect the client's request to name this venue.
    pub fn venue(self, venue: Venue) -> Self {
        Expected {
            venue: Check::Equals(venue),
            ..self
        }
    }

    /// Also expect this client nonce.
    pub fn nonce(self, client_nonce: &'a str) -> Self {
        Expected {
            client_nonce: Check::Equals(client_nonce),
            ..self
        }
    }

    /// The fields this expectation does not compare, in [`Unchecked`] order.
    pub fn unchecked(&self) -> Vec<Unchecked> {
        let skipped = [
            (self.model == Check::Skip, Unchecked::Model),
            (self.input_digest == Check::Skip, Unchecked::Input),
            (self.job_id == Check::Skip, Unchecked::JobId),
            (self.worker_id == Check::Skip, Unchecked::WorkerId),
            (self.client_nonce == Check::Skip, Unchecked::ClientNonce),
            (self.venue == Check::Skip, Unchecked::Venue),
        ];
        skipped
            .into_iter()
            .filter_map(|(skip, what)| skip.then_some(what))
            .collect()
    }
}

/// A receipt that verified: what it proves, and what was not compared.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// The model.
    pub model_id: String,
    /// The job.
    pub job_id: String,
    /// The worker.
    pub worker_id: String,
    /// The quantized output (what the proof binds).
    pub quantized: Vec<i64>,
    /// The dequantized output.
    pub output: Vec<f64>,
    /// The fields of the statement that were not compared with an expectation; empty when
    /// everything was.
    pub unchecked: Vec<Unchecked>,
    /// Who signed the receipt's claim.
    pub signer: Signer,
    /// The client's signed request the receipt answers (its signature checked), if any.
    pub request: Option<ClientRequest>,
}

impl Verified {
    /// True when the model, the input and the job id were all checked: the receipt is about
    /// the model the client asked for, on the client's own input, for its job.
    pub fn is_strict(&self) -> bool {
        ![Unchecked::Model, Unchecked::Input, Unchecked::JobId]
            .iter()
            .any(|u| self.unchecked.contains(u))
    }
}

fn check_eq(
    expected: Check<&str>,
    received: &str,
    err: impl Fn(String, String) -> VerificationError,
) -> Result<(), VerificationError> {
    match expected {
        Check::Equals(e) if e != received => Err(err(e.to_string(), received.to_string())),
        _ => Ok(()),
    }
}

fn output_out_of_range(e: OutOfRange) -> VerificationError {
    VerificationError::OutOfRange {
        what: "output",
        index: e.index,
        value: e.value,
        bits: e.bits,
    }
}

/// A receipt that passed every check but the proof's pairing equation: the proof, its public
/// inputs, and what verification reports once the pairing holds.
pub(crate) struct Prepared {
    pub proof: ark_groth16::Proof<Bn254>,
    pub inputs: Vec<Fr>,
    /// A committed-weights model's `D_reg` (from the record).
    pub weights: Option<ark_bn254::G1Affine>,
    pub verified: Verified,
}

/// Verifies a receipt; every rejection says why.
pub fn verify(
    receipt: &Receipt,
    key: &VerifierKey,
    expected: &Expected<'_>,
) -> Result<Verified, VerificationError> {
    let p = prepare(receipt, key, expected)?;
    crate::pairing::exact(key, &p.proof, &p.inputs, p.weights)?;
    Ok(p.verified)
}

/// [`verify`] of an owner's possession receipt, the one receipt whose job is an ownership job
/// ([`crate::ownership`]), which [`verify`] refuses: for the setup statement's check and the
/// prover's check of the receipt it just made, nothing else.
pub fn verify_possession(
    receipt: &Receipt,
    key: &VerifierKey,
    expected: &Expected<'_>,
) -> Result<Verified, VerificationError> {
    let p = prepare_any(receipt, key, expected, true)?;
    crate::pairing::exact(key, &p.proof, &p.inputs, p.weights)?;
    Ok(p.verified)
}

/// Every check of [`verify`] but the pairing equation: the record, the receipt's fields and
/// signature against the expectation and the key, the output's widths; the statement's public
/// inputs built.
pub(crate) fn prepare(
    receipt: &Receipt,
    key: &VerifierKey,
    expected: &Expected<'_>,
) -> Result<Prepared, VerificationError> {
    prepare_any(receipt, key, expected, false)
}

fn prepare_any(
    receipt: &Receipt,
    key: &VerifierKey,
    expected: &Expected<'_>,
    possession: bool,
) -> Result<Prepared, VerificationError> {
    // An owner's possession receipt is published in its setup statement: it proves the owner
    // holds the proving key, and is no client's job, whatever a caller expects.
    if !possession && crate::job::is_ownership_job(&receipt.job_id) {
        return Err(VerificationError::JobMismatch {
            expected: "a client's job".into(),
            received: format!("the ownership proof {} (never a job)", receipt.job_id),
        });
    }
    let record = expected.record;
    record.validate()?;
    receipt.validate()?;
    let signer = check_signature(receipt)?;
    if let Some(rq) = &receipt.request {
        rq.check_signature()?;
    }
    if let Check::Equals(v) = expected.venue {
        let here = receipt.request.as_ref().map(|r| r.venue());
        if here != Some(v) {
            return Err(VerificationError::VenueMismatch {
                expected: v.to_string(),
                received: here.map_or("no venue (the job has no client request)".into(), |h| {
                    h.to_string()
                }),
            });
        }
    }
    if let Check::Equals(asked) = expected.model
        && asked != record.model_id
    {
        // The caller's record is not the model it names: a lookup gone wrong, never a pass.
        return Err(VerificationError::ModelMismatch {
            expected: asked.to_string(),
            received: format!(
                "another model (the record given is model {})",
                record.model_id
            ),
        });
    }
    if receipt.model_id != record.model_id {
        return Err(VerificationError::ModelMismatch {
            expected: record.model_id.clone(),
            received: receipt.model_id.clone(),
        });
    }
    for received in [key.id(), receipt.vk_id.as_str()] {
        if received != record.vk_id {
            return Err(VerificationError::KeyMismatch {
                expected: record.vk_id.clone(),
                received: received.to_string(),
            });
        }
    }
    check_eq(expected.job_id, &receipt.job_id, |expected, received| {
        VerificationError::JobMismatch { expected, received }
    })?;
    check_eq(expected.client_nonce, &receipt.client_nonce, |e, r| {
        VerificationError::JobMismatch {
            expected: format!("client nonce {e}"),
            received: format!("client nonce {r}"),
        }
    })?;
    check_eq(
        expected.worker_id,
        &receipt.worker_id,
        |expected, received| VerificationError::WorkerMismatch { expected, received },
    )?;

    let out = &receipt.output;
    let format = &record.output;
    format.check_output_shape(&out.shape)?;
    if out.frac_bits != format.frac_bits {
        return Err(VerificationError::OutputMismatch(format!(
            "scale 2^-{}, the model's output scale is 2^-{}",
            out.frac_bits, format.frac_bits
        )));
    }
    // Before anything packs the output: a value outside the declared width could carry into
    // its neighbour inside a packed element and leave the digest unchanged.
    format
        .bits
        .check(&out.quantized)
        .map_err(output_out_of_range)?;
    // Compared bit for bit: a displayed value has one spelling (no -0.0 for 0).
    if let Some(i) = (0..out.quantized.len())
        .find(|&i| out.values[i].to_bits() != format.dequantize(out.quantized[i]).to_bits())
    {
        return Err(VerificationError::OutputMismatch(format!(
            "dequantized value #{i} = {} is not quantized value {} at scale 2^-{}",
            out.values[i], out.quantized[i], format.frac_bits
        )));
    }

    let input_digest =
        fr_from_hex(&receipt.input_digest).map_err(|reason| VerificationError::Malformed {
            what: "receipt input digest",
            reason,
        })?;
    if let Check::Equals(e) = expected.input_digest
        && e != input_digest
    {
        return Err(VerificationError::InputMismatch {
            expected: fr_to_hex(&e),
            received: receipt.input_digest.clone(),
        });
    }

    let proof = receipt.decode_proof()?;
    let statement = Statement {
        model_commitment: record.commitment()?,
        input_digest,
        output: out.quantized.clone(),
        output_width: format.bits,
        job_binding: job_binding(
            &receipt.job_id,
            &receipt.worker_id,
            &receipt.client_nonce,
            receipt.request.as_ref().map(|r| r.digest()).as_ref(),
        ),
    };
    let inputs = statement.public_inputs().map_err(output_out_of_range)?;
    if inputs.len() + 1 != key.vk().gamma_abc_g1.len() {
        return Err(VerificationError::KeyMismatch {
            expected: format!("a key for {} public inputs", inputs.len()),
            received: format!(
                "a key for {}",
                key.vk().gamma_abc_g1.len().saturating_sub(1)
            ),
        });
    }
    Ok(Prepared {
        proof,
        inputs,
        weights: record.weights()?,
        verified: Verified {
            model_id: receipt.model_id.clone(),
            job_id: receipt.job_id.clone(),
            worker_id: receipt.worker_id.clone(),
            quantized: out.quantized.clone(),
            output: out.values.clone(),
            unchecked: expected.unchecked(),
            signer,
            request: receipt.request.clone(),
        },
    })
}
