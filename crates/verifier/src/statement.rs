//! The statement a proof is about, and its one encoding as Groth16 public inputs.
//!
//! *Output `y` is what model `M` computes on input `x`, for job `J`, by worker `W`* becomes, in
//! this order:
//!
//! | index | public input |
//! |---|---|
//! | 0 | model commitment (private weights: Poseidon commitment; fixed: the model id in the field) |
//! | 1 | input digest (Poseidon over the client's salt and the packed quantized input) |
//! | 2 .. 2+k | the quantized output values packed [`Width::per_element`] to a field element (offset-binary, little-endian, as [`pack`] packs them), or one output digest when they would take more than [`MAX_OUTPUT_ELEMENTS`] elements |
//! | last | job binding: SHA-256(job id, worker id, client nonce), big-endian, reduced into the field |
//!
//! Packed, because every public input costs the verifier a scalar multiplication and an EVM
//! contract ~7,300 gas (an ecMul, an ecAdd, a range check): ten 8-bit outputs are one public
//! input, not ten, and no statement has more than five. The circuit allocates its instance variables from [`Statement::public_inputs`], so
//! prover and verifier cannot disagree on the layout. The encoding refuses an output value
//! outside the output's width: packing is injective only in range (a value `2^bits` too high
//! beside one a unit too low packs to the same element).

use crate::Fr;
use crate::digest::{DOMAIN_OUTPUT, pack, tensor_digest};
use ark_ff::PrimeField;

use crate::field::fr_from_digest;
use crate::width::{OutOfRange, Width};

/// Outputs that pack into at most this many field elements are public inputs themselves;
/// larger ones are digested, so no statement has more than 5 public inputs (62 8-bit or 14
/// 32-bit outputs are the most that stay public).
pub const MAX_OUTPUT_ELEMENTS: usize = 2;

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

/// Whether an output of `len` values of `width` is bound through a digest rather than as
/// its packed elements.
pub fn output_is_digested(len: usize, width: Width) -> bool {
    len.div_ceil(width.per_element()) > MAX_OUTPUT_ELEMENTS
}

/// Number of public inputs that carry an output of `len` values of `width`: its packed
/// elements, or one digest.
pub fn output_elements(len: usize, width: Width) -> usize {
    if output_is_digested(len, width) {
        1
    } else {
        len.div_ceil(width.per_element())
    }
}

/// The public inputs that carry an output, as [`Statement::public_inputs`] lays them out (from
/// [`OUTPUT_START`]): its packed elements, or its digest when it has more than
/// [`MAX_OUTPUT_ELEMENTS`]. What an EVM contract is handed beside the proof, which computes
/// the other public inputs itself.
pub fn output_inputs(output: &[i64], width: Width) -> Result<Vec<Fr>, OutOfRange> {
    if output_is_digested(output.len(), width) {
        Ok(vec![tensor_digest(DOMAIN_OUTPUT, output, width)?])
    } else {
        pack(output, width)
    }
}

/// Number of public inputs (without the constant 1) for an output of `len` values of `width`.
pub fn public_input_count(output_len: usize, width: Width) -> usize {
    OUTPUT_START + output_elements(output_len, width) + 1
}

impl Statement {
    /// The public inputs, in the order the circuit allocates them; an output value outside
    /// [`Statement::output_width`] is refused, whether the output is digested or not (both
    /// [`pack`] and [`tensor_digest`] check every value before packing it).
    pub fn public_inputs(&self) -> Result<Vec<Fr>, OutOfRange> {
        let mut v = Vec::with_capacity(public_input_count(self.output.len(), self.output_width));
        v.push(self.model_commitment);
        v.push(self.input_digest);
        v.extend(output_inputs(&self.output, self.output_width)?);
        v.push(self.job_binding);
        Ok(v)
    }

    /// Index of the job binding among the public inputs.
    pub fn job_binding_index(&self) -> usize {
        public_input_count(self.output.len(), self.output_width) - 1
    }
}

/// Domain tag of the job binding's hash (v3: the client's request digest is absorbed).
pub const JOB_BINDING_DOMAIN: &[u8] = b"zkworker job binding v3";

/// The job binding: ties a proof to one job of one client, served by one worker, payable in
/// the one venue the client's request names.
///
/// `sha256(domain ‖ u64be(|job|) ‖ job ‖ u64be(|worker|) ‖ worker ‖ u64be(|nonce|) ‖ nonce
/// ‖ u64be(|request|) ‖ request)`, where `request` is the client's request digest
/// ([`crate::request`], 32 bytes) or nothing, read as a big-endian integer and reduced into
/// the field. SHA-256, not blake3, because an EVM settlement contract must recompute it from
/// the job's strings (the EVM has SHA-256 as a precompile): a contract that took the binding
/// as given could not tell which job, worker and request a proof is for. The lengths make the
/// encoding injective.
pub fn job_binding(
    job_id: &str,
    worker_id: &str,
    client_nonce: &str,
    request: Option<&[u8; 32]>,
) -> Fr {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    h.update(JOB_BINDING_DOMAIN);
    let request: &[u8] = request.map_or(&[], |r| &r[..]);
    for part in [
        job_id.as_bytes(),
        worker_id.as_bytes(),
        client_nonce.as_bytes(),
        request,
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
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
        assert_eq!(p.len(), 4);
        assert_eq!(p[MODEL_COMMITMENT], Fr::from(7u64));
        assert_eq!(p[INPUT_DIGEST], Fr::from(8u64));
        // -1 and 2, offset by 128, little-endian bytes: 127 + 130 * 256.
        assert_eq!(p[OUTPUT_START], Fr::from(127u64 + 130 * 256));
        assert_eq!(s.job_binding_index(), 3);
        assert_eq!(p[3], Fr::from(9u64));
    }

    #[test]
    fn outputs_are_packed_per_element_of_their_width() {
        let statement = |len: usize, bits: u32| Statement {
            model_commitment: Fr::from(0u64),
            input_digest: Fr::from(0u64),
            output: (0..len as i64).map(|i| -(i % 2)).collect(),
            output_width: Width::new(bits).unwrap(),
            job_binding: Fr::from(5u64),
        };
        // (values, bits) → output elements: 31 bytes of 8-bit values to an element, 7 of 32.
        for (len, bits, elements) in [
            (1, 8, 1),
            (31, 8, 1),
            (32, 8, 2),
            (62, 8, 2),
            (7, 32, 1),
            (8, 32, 2),
            (14, 32, 2),
            (248, 1, 1),
            (496, 1, 2),
        ] {
            assert!(!output_is_digested(len, Width::new(bits).unwrap()));
            let s = statement(len, bits);
            let p = s.public_inputs().unwrap();
            let w = Width::new(bits).unwrap();
            assert_eq!(output_elements(len, w), elements, "{len} x {bits} bits");
            assert_eq!(p.len(), public_input_count(len, w));
            assert_eq!(p.len(), OUTPUT_START + elements + 1);
            assert_eq!(
                &p[OUTPUT_START..OUTPUT_START + elements],
                &pack(&s.output, w).unwrap()[..]
            );
            assert_eq!(p[s.job_binding_index()], Fr::from(5u64));
        }
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
    fn outputs_beyond_two_elements_are_digested() {
        let (w1, w8, w32) = (
            Width::new(1).unwrap(),
            Width::new(8).unwrap(),
            Width::new(32).unwrap(),
        );
        assert!(!output_is_digested(62, w8));
        assert!(output_is_digested(63, w8));
        assert!(!output_is_digested(14, w32));
        assert!(output_is_digested(15, w32));
        assert!(!output_is_digested(496, w1));
        assert!(output_is_digested(497, w1));
        assert_eq!(public_input_count(1, w8), 4);
        assert_eq!(public_input_count(62, w8), 5);
        assert_eq!(public_input_count(63, w8), 4);
        assert_eq!(public_input_count(1000, w32), 4);
        // No statement has more than five public inputs.
        for bits in 1..=32 {
            let w = Width::new(bits).unwrap();
            for len in 0..2000 {
                assert!(public_input_count(len, w) <= 5, "{len} x {bits} bits");
            }
        }
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
        assert_ne!(
            job_binding("ab", "c", "", None),
            job_binding("a", "bc", "", None)
        );
        assert_ne!(
            job_binding("j", "w1", "n", None),
            job_binding("j", "w2", "n", None)
        );
        assert_ne!(
            job_binding("j", "w", "n", None),
            job_binding("j", "w", "n", Some(&[0; 32]))
        );
        assert_ne!(
            job_binding("j", "w", "n", Some(&[0; 32])),
            job_binding("j", "w", "n", Some(&[1; 32]))
        );
    }

    #[test]
    fn job_binding_is_the_sha256_an_evm_contract_recomputes() {
        // sha256("zkworker job binding v3" ‖ 00..01 "j" ‖ 00..01 "w" ‖ 00..00 ‖ 00..20 ‖
        // 32 x 0x07), computed with Python's hashlib, reduced mod r.
        let expected = Fr::from_be_bytes_mod_order(
            &hex::decode("1a3e14a447883f363b1a26ff320a841c6fe3f7a0ace8d6878d95fb93380387b6")
                .unwrap(),
        );
        assert_eq!(job_binding("j", "w", "", Some(&[7; 32])), expected);
    }
}
