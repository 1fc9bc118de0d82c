//! Turning a proof into the receipt a client receives.

use ark_bn254::Bn254;
use ark_groth16::Proof;
use zkw_verifier::field::fr_to_hex;
use zkw_verifier::receipt::{RECEIPT_VERSION, encode_proof};
use zkw_verifier::{ModelRecord, Receipt, ReceiptOutput, Statement};

use zkw_verifier::Job;

/// The receipt of `job` proving `statement` with `proof`.
pub fn build_receipt(
    record: &ModelRecord,
    job: &Job,
    statement: &Statement,
    proof: &Proof<Bn254>,
) -> Receipt {
    Receipt {
        version: RECEIPT_VERSION,
        job_id: job.job_id.clone(),
        worker_id: job.worker_id.clone(),
        client_nonce: job.client_nonce.clone(),
        model_id: record.model_id.clone(),
        vk_id: record.vk_id.clone(),
        input_digest: fr_to_hex(&statement.input_digest),
        output: ReceiptOutput {
            shape: record.output.shape.clone(),
            quantized: statement.output.clone(),
            frac_bits: record.output.frac_bits,
            values: statement
                .output
                .iter()
                .map(|&q| record.output.dequantize(q))
                .collect(),
        },
        proof: encode_proof(proof),
        request: job.request.clone(),
        signature: None,
    }
}
