//! The statement a proof is about, and its one encoding as Groth16 public inputs.
//!
//! *Output `y` is what model `M` computes on input `x`, for job `J`, by worker `W`* becomes, in
//! this order:
//!
//! | index | public input |
//! |---|---|
//! | 0 | model commitment (private weights: Poseidon commitment; fixed: the model id in the field) |
//! | 1 | input digest (Poseidon over the client's salt and the packed quantized input) |
//! | 2 .. 2+k | the quantized output values, or one output digest when there are more than [`MAX_PUBLIC_OUTPUTS`] |
//! | last | job binding: SHA-256(job id, worker id, client nonce), big-endian, reduced into the field |
//!
//! The circuit allocates its instance variables from [`Statement::public_inputs`], so prover
//! and verifier cannot disagree on the layout. The encoding refuses an output value outside
//! the output's width: digested outputs are packed, and packing is injective only in range.

use crate::Fr;
use crate::digest::{DOMAIN_OUTPUT, tensor_digest};
use ark_ff::PrimeField;

use crate::field::{fr_from_digest, fr_from_i64};
use crate::width::{OutOfRange, Width};

/// Outputs up to this many values are public inputs themselves; larger ones are digested.
pub const MAX_PUBLIC_OUTPUTS: usize = 64;

/// Index of the model commitment among the public inputs.
pub const MODEL_COMMITMENT: usize = 0;
/// Index of the input digest among the public inputs.
pub const INPUT_DIGEST: usize = 1;
/// Index of the first output public input.
pub const OUTPUT_START: usize = 2;

/// Everything a proof binds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Public input 0.
    pub model_commitment: Fr,
    /// Public input 1.
    pub input_digest: Fr,
    /// The quantized output.
    pub output: Vec<i64>,
    /// Signed width of every output value.
    pub output_width: Width,
    /// The last public input.
    pub job_binding: Fr,
}

/// Whether an output of `len` values is bound through a digest rather than value by value.
pub fn output_is_digested(len: usize) -> bool {
    len > MAX_PUBLIC_OUTPUTS
}

/// Number of public inputs (without the constant 1) for an output of `len` values.
pub fn public_input_count(output_len: usize) -> usize {
    OUTPUT_START
        + if output_is_digested(output_len) {
            1
        } else {
            output_len
        }
        + 1
}

impl Statement {
    /// The public inputs, in the order the circuit allocates them; an output value outside
    /// [`Statement::output_width`] is refused, whether the output is digested or not.
    pub fn public_inputs(&self) -> Result<Vec<Fr>, OutOfRange> {
        self.output_width.check(&self.output)?;
        let mut v = Vec::with_capacity(public_input_count(self.output.len()));
        v.push(self.model_commitment);
        v.push(self.input_digest);
        if output_is_digested(self.output.len()) {
            v.push(tensor_digest(
                DOMAIN_OUTPUT,
                &self.output,
                self.output_width,
            )?);
        } else {
            v.extend(self.output.iter().map(|&y| fr_from_i64(y)));
        }
        v.push(self.job_binding);
        Ok(v)
    }

    /// Index of the job binding among the public inputs.
    pub fn job_binding_index(&self) -> usize {
        public_input_count(self.output.len()) - 1
    }
}

/// Domain tag of the job binding's hash.
pub const JOB_BINDING_DOMAIN: &[u8] = b"zkworker job binding v2";

/// The job binding: ties a proof to one job of one client, served by one worker.
///
/// `sha256(domain ‖ u64be(|job|) ‖ job ‖ u64be(|worker|) ‖ worker ‖ u64be(|nonce|) ‖ nonce)`
/// read as a big-endian integer and reduced into the field. SHA-256, not blake3, because an
/// EVM settlement contract must recompute it from the job's strings (the EVM has SHA-256 as
/// a precompile): a contract that took the binding as given could not tell which job and
/// worker a proof is for. The lengths make the encoding injective.
pub fn job_binding(job_id: &str, worker_id: &str, client_nonce: &str) -> Fr {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    h.update(JOB_BINDING_DOMAIN);
    for part in [job_id, worker_id, client_nonce] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    Fr::from_be_bytes_mod_order(&h.finalize())
}

/// A fixed-weights model's commitment: its id reduced into the field (the circuit fixes it).
pub fn fixed_model_commitment(model_id: &[u8; 32]) -> Fr {
    fr_from_digest(model_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_stable() {
        let s = Statement {
            model_commitment: Fr::from(7u64),
            input_digest: Fr::from(8u64),
            output: vec![-1, 2],
            output_width: Width::new(8).unwrap(),
            job_binding: Fr::from(9u64),
        };
        let p = s.public_inputs().unwrap();
        assert_eq!(p.len(), 5);
        assert_eq!(p[MODEL_COMMITMENT], Fr::from(7u64));
        assert_eq!(p[INPUT_DIGEST], Fr::from(8u64));
        assert_eq!(p[OUTPUT_START], -Fr::from(1u64));
        assert_eq!(p[s.job_binding_index()], Fr::from(9u64));
    }

    #[test]
    fn large_outputs_are_digested() {
        let s = Statement {
            model_commitment: Fr::from(0u64),
            input_digest: Fr::from(0u64),
            output: vec![1; 100],
            output_width: Width::new(8).unwrap(),
            job_binding: Fr::from(0u64),
        };
        assert_eq!(s.public_inputs().unwrap().len(), 4);
    }

    #[test]
    fn out_of_range_outputs_have_no_encoding() {
        for len in [3, 70] {
            let mut s = Statement {
                model_commitment: Fr::from(0u64),
                input_digest: Fr::from(0u64),
                output: vec![1; len],
                output_width: Width::new(8).unwrap(),
                job_binding: Fr::from(0u64),
            };
            // The carry forgery: +2^8 here, -1 next door.
            s.output[1] += 256;
            s.output[2] -= 1;
            let e = s.public_inputs().unwrap_err();
            assert_eq!((e.index, e.value, e.bits), (1, 257, 8), "{len} outputs");
            s.output[1] = i64::MIN;
            assert_eq!(s.public_inputs().unwrap_err().value, i64::MIN);
        }
    }

    #[test]
    fn outputs_beyond_64_values_are_digested() {
        assert!(!output_is_digested(64));
        assert!(output_is_digested(65));
        assert_eq!(public_input_count(1), 4);
        assert_eq!(public_input_count(64), 67);
        assert_eq!(public_input_count(65), 4);
    }

    #[test]
    fn a_fixed_models_commitment_is_its_id_in_the_field() {
        let mut id = [0u8; 32];
        id[0] = 7;
        id[1] = 1;
        assert_eq!(fixed_model_commitment(&id), Fr::from(263u64));
    }

    #[test]
    fn job_binding_separates_fields() {
        assert_ne!(job_binding("ab", "c", ""), job_binding("a", "bc", ""));
        assert_ne!(job_binding("j", "w1", "n"), job_binding("j", "w2", "n"));
    }

    #[test]
    fn job_binding_is_the_sha256_an_evm_contract_recomputes() {
        // sha256("zkworker job binding v2" ‖ 00..01 "j" ‖ 00..01 "w" ‖ 00..00), computed
        // with Python's hashlib, reduced mod r.
        let expected = Fr::from_be_bytes_mod_order(
            &hex::decode("95c2b2dcfcebef478cd1494ea3e6ad5e82c44b616f9dd99cbaa48919201bd679")
                .unwrap(),
        );
        assert_eq!(job_binding("j", "w", ""), expected);
    }
}
