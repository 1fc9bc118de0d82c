//! Verification: a receipt against the registry record and the verifying key.

use ark_bn254::Bn254;
use ark_groth16::Groth16;

use crate::Fr;
use crate::error::VerificationError;
use crate::field::{fr_from_hex, fr_to_hex};
use crate::key::VerifierKey;
use crate::receipt::{RECEIPT_VERSION, Receipt};
use crate::record::ModelRecord;
use crate::statement::{Statement, job_binding};

/// What the verifier expects: the registered model, and optionally the job it paid for.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The registry record of the model.
    pub record: &'a ModelRecord,
    /// The job id the client submitted.
    pub job_id: Option<&'a str>,
    /// The worker the job was assigned to.
    pub worker_id: Option<&'a str>,
    /// The client's nonce.
    pub client_nonce: Option<&'a str>,
    /// The digest of the client's own input (a client who knows `x` recomputes it).
    pub input_digest: Option<Fr>,
}

impl<'a> Expected<'a> {
    /// Expect only the model.
    pub fn model(record: &'a ModelRecord) -> Self {
        Expected {
            record,
            job_id: None,
            worker_id: None,
            client_nonce: None,
            input_digest: None,
        }
    }
}

/// A receipt that verified: what it proves.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// The model.
    pub model_id: String,
    /// The job.
    pub job_id: String,
    /// The worker.
    pub worker_id: String,
    /// The dequantized output.
    pub output: Vec<f64>,
}

fn check_eq(
    expected: Option<&str>,
    received: &str,
    err: impl Fn(String, String) -> VerificationError,
) -> Result<(), VerificationError> {
    match expected {
        Some(e) if e != received => Err(err(e.to_string(), received.to_string())),
        _ => Ok(()),
    }
}

/// Verifies a receipt; every rejection says why.
pub fn verify(
    receipt: &Receipt,
    key: &VerifierKey,
    expected: &Expected<'_>,
) -> Result<Verified, VerificationError> {
    let record = expected.record;
    if receipt.version != RECEIPT_VERSION {
        return Err(VerificationError::UnsupportedVersion {
            found: receipt.version,
            supported: RECEIPT_VERSION,
        });
    }
    if receipt.model_id != record.model_id {
        return Err(VerificationError::ModelMismatch {
            expected: record.model_id.clone(),
            received: receipt.model_id.clone(),
        });
    }
    if key.id != record.vk_id {
        return Err(VerificationError::KeyMismatch {
            expected: record.vk_id.clone(),
            received: key.id.clone(),
        });
    }
    if receipt.vk_id != record.vk_id {
        return Err(VerificationError::KeyMismatch {
            expected: record.vk_id.clone(),
            received: receipt.vk_id.clone(),
        });
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
    if out.shape != format.shape || out.quantized.len() != format.len() {
        return Err(VerificationError::OutputMismatch(format!(
            "shape {:?} with {} values, the model outputs shape {:?}",
            out.shape,
            out.quantized.len(),
            format.shape
        )));
    }
    if out.frac_bits != format.frac_bits {
        return Err(VerificationError::OutputMismatch(format!(
            "scale 2^-{}, the model's output scale is 2^-{}",
            out.frac_bits, format.frac_bits
        )));
    }
    let step = (-(format.frac_bits as f64)).exp2();
    if out.values.len() != out.quantized.len()
        || out
            .values
            .iter()
            .zip(&out.quantized)
            .any(|(v, q)| *v != *q as f64 * step)
    {
        return Err(VerificationError::OutputMismatch(
            "the dequantized values do not match the quantized output".into(),
        ));
    }

    let input_digest =
        fr_from_hex(&receipt.input_digest).map_err(|reason| VerificationError::Malformed {
            what: "receipt input digest",
            reason,
        })?;
    if let Some(e) = expected.input_digest
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
        output_bits: format.bits,
        job_binding: job_binding(&receipt.job_id, &receipt.worker_id, &receipt.client_nonce),
    };
    let inputs = statement.public_inputs();
    if inputs.len() + 1 != key.vk.gamma_abc_g1.len() {
        return Err(VerificationError::KeyMismatch {
            expected: format!("a key for {} public inputs", inputs.len()),
            received: format!("a key for {}", key.vk.gamma_abc_g1.len() - 1),
        });
    }
    match Groth16::<Bn254>::verify_proof(&key.pvk, &proof, &inputs) {
        Ok(true) => Ok(Verified {
            model_id: receipt.model_id.clone(),
            job_id: receipt.job_id.clone(),
            worker_id: receipt.worker_id.clone(),
            output: out.values.clone(),
        }),
        Ok(false) => Err(VerificationError::BadProof),
        Err(e) => Err(VerificationError::Malformed {
            what: "proof",
            reason: e.to_string(),
        }),
    }
}
