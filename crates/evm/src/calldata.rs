//! A receipt as the `settle(...)` call of its model's contract.
//!
//! The contract takes the statement's parts, not its public inputs: it holds the model
//! commitment itself and recomputes the client's request digest (from its own venue) and the
//! job binding from the strings, so a caller can change neither. What remains to encode is the input digest, the output elements and the proof.
//! The output elements are taken from [`output_inputs`] — the output's part of the one
//! statement encoding the circuit uses too — so packed outputs and digested ones (those that would pack into more
//! than [`zkw_verifier::statement::MAX_OUTPUT_ELEMENTS`] elements) reach the chain exactly as
//! proved.
//!
//! Field elements cross as `uint256` integers, big-endian in the ABI, whereas the receipt's
//! hex is little-endian ([`zkw_verifier::field::fr_to_hex`]); the conversions here are the
//! only place that difference is handled.

use alloy_primitives::U256;
use alloy_sol_types::SolCall;
use ark_bn254::{Bn254, Fq, Fr};
use ark_ec::AffineRepr;
use ark_ff::{BigInteger, PrimeField};
use ark_groth16::Proof;

use zkw_verifier::statement::output_inputs;
use zkw_verifier::{ClientRequest, Receipt, TensorFormat, Venue};

use crate::abi::{Ask, reclaimCall, requestCall, settleCall, verifyProofCall};
use crate::error::EvmError;

/// A scalar-field element as the integer the contract reads.
pub fn fr_word(f: &Fr) -> U256 {
    U256::from_be_slice(&f.into_bigint().to_bytes_be())
}

fn fq_word(f: &Fq) -> U256 {
    U256::from_be_slice(&f.into_bigint().to_bytes_be())
}

/// A proof as the contract's `uint256[8]`: A.x, A.y, B.x.c1, B.x.c0, B.y.c1, B.y.c0, C.x,
/// C.y — G2 in the order of EIP-197, a point at infinity as zeros.
pub fn proof_words(proof: &Proof<Bn254>) -> [U256; 8] {
    let (ax, ay) = proof.a.xy().unwrap_or_default();
    let (bx, by) = proof.b.xy().unwrap_or_default();
    let (cx, cy) = proof.c.xy().unwrap_or_default();
    [ax, ay, bx.c1, bx.c0, by.c1, by.c0, cx, cy].map(|f| fq_word(&f))
}

/// The `settle(...)` call for `receipt`, as a value (to inspect or alter before encoding).
/// `output` is the record's output format: an output of another shape, or with a value
/// outside its width, is refused, as verification refuses it (the packed elements bind
/// neither the count nor the width; the contract would only revert).
pub fn settle_call(receipt: &Receipt, output: &TensorFormat) -> Result<settleCall, EvmError> {
    receipt.validate()?;
    let request = onchain_request(receipt)?;
    output.check_output_shape(&receipt.output.shape)?;
    let proof = receipt.decode_proof()?;
    // The contract holds or recomputes every other public input (module docs); it is handed
    // the output's.
    let outputs = output_inputs(&receipt.output.quantized, output.bits)?
        .iter()
        .map(fr_word)
        .collect();
    Ok(settleCall {
        jobId: receipt.job_id.clone(),
        workerId: receipt.worker_id.clone(),
        ask: ask(request),
        outputs,
        proof: proof_words(&proof),
    })
}

/// The receipt's client request, when it names an EVM venue: a receipt without one, or for a
/// ledger, settles on no contract.
fn onchain_request(receipt: &Receipt) -> Result<&ClientRequest, EvmError> {
    let Some(request) = &receipt.request else {
        return Err(EvmError::NotPayable(
            "the receipt has no client request: no client asked for the job, so it settles \
             nowhere"
                .into(),
        ));
    };
    if !matches!(request.venue(), Venue::Evm { .. }) {
        return Err(EvmError::NotPayable(format!(
            "the client's request names venue {}, not a contract",
            request.venue()
        )));
    }
    Ok(request)
}

/// The `request(...)` call that opens `request` on its contract (send the request's fee with
/// it).
pub fn request_call(request: &ClientRequest) -> Result<requestCall, EvmError> {
    if !matches!(request.venue(), Venue::Evm { .. }) {
        return Err(EvmError::NotPayable(format!(
            "the request names venue {}, not a contract",
            request.venue()
        )));
    }
    Ok(requestCall { ask: ask(request) })
}

/// The `reclaim(...)` call that gives `request`'s deposit back to its payer after the
/// contract's `REQUEST_TTL`.
pub fn reclaim_call(request: &ClientRequest) -> Result<reclaimCall, EvmError> {
    Ok(reclaimCall {
        ask: request_call(request)?.ask,
    })
}

/// A request as the contract's `Ask`: what it cannot know itself (the model and the venue
/// are its own).
pub fn ask(request: &ClientRequest) -> Ask {
    Ask {
        client: request.client_key().into(),
        clientNonce: request.client_nonce().to_string(),
        inputDigest: fr_word(&request.input_digest()),
        fee: U256::from(request.fee()),
    }
}

/// The ABI-encoded `request(...)` call (selector included) that opens `request` on its
/// contract; send the request's fee with it.
pub fn request_calldata(request: &ClientRequest) -> Result<Vec<u8>, EvmError> {
    Ok(request_call(request)?.abi_encode())
}

/// The ABI-encoded `settle(...)` call (selector included) that settles `receipt`.
pub fn settle_calldata(receipt: &Receipt, output: &TensorFormat) -> Result<Vec<u8>, EvmError> {
    Ok(settle_call(receipt, output)?.abi_encode())
}

/// The ABI-encoded `verifyProof(proof, inputs)` call: the Groth16 check alone, for any
/// public inputs (input 0 must be the contract's model commitment).
pub fn verify_calldata(proof: &Proof<Bn254>, inputs: &[Fr]) -> Vec<u8> {
    verifyProofCall {
        proof: proof_words(proof),
        inputs: inputs.iter().map(fr_word).collect(),
    }
    .abi_encode()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_big_endian_integers() {
        assert_eq!(fr_word(&Fr::from(258u64)), U256::from(258u64));
        // r - 1, the largest scalar.
        let r_minus_1 = U256::from_str_radix(
            "30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000000",
            16,
        )
        .unwrap();
        assert_eq!(fr_word(&-Fr::from(1u64)), r_minus_1);
    }
}
