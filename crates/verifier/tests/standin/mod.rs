//! The stand-in fixture of the verifier's tests and bench: a circuit whose public inputs are
//! exactly a statement's encoding (each bound by `x · 1 = x`) proves any statement, so a
//! receipt made from it carries a real Groth16 proof — and verifying it costs what verifying
//! a real model's receipt with as many outputs costs, since Groth16 verification depends on
//! the public inputs, not on the circuit's size.

#![allow(dead_code)] // Each user (a test file, the bench) takes what it needs.

use ark_bn254::Bn254;
use ark_groth16::Groth16;
use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystemRef, LinearCombination, SynthesisError, Variable,
};
use ark_snark::SNARK;
use ark_std::rand::SeedableRng;
use ark_std::rand::rngs::StdRng;
use zkw_verifier::field::fr_to_hex;
use zkw_verifier::receipt::{RECEIPT_VERSION, encode_proof};
use zkw_verifier::record::RECORD_VERSION;
use zkw_verifier::statement::{Statement, fixed_model_commitment, job_binding, public_input_count};
use zkw_verifier::{Fr, ModelRecord, Receipt, ReceiptOutput, TensorFormat, VerifierKey, Width};

pub const MODEL: [u8; 32] = [0x1a; 32];

/// Public inputs, each bound by one constraint.
pub struct Publics(Vec<Fr>);

impl ConstraintSynthesizer<Fr> for Publics {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        for v in self.0 {
            let x = cs.new_input_variable(|| Ok(v))?;
            cs.enforce_r1cs_constraint(
                || LinearCombination::from(x),
                || LinearCombination::from(Variable::one()),
                || LinearCombination::from(x),
            )?;
        }
        Ok(())
    }
}

pub struct Fixture {
    pub record: ModelRecord,
    pub key: VerifierKey,
    pub receipt: Receipt,
    pub input_digest: Fr,
}

pub fn width(bits: u32) -> Width {
    Width::new(bits).unwrap()
}

/// A model record, a key and a receipt whose proof is valid, for an output of `n` values.
pub fn fixture(n: usize, seed: u64) -> Fixture {
    fixture_by(n, seed, "worker-a")
}

/// The same, for a given worker id.
pub fn fixture_by(n: usize, seed: u64, worker: &str) -> Fixture {
    let mut many = fixtures_by(n, seed, worker, 1);
    Fixture {
        receipt: many.receipts.remove(0),
        record: many.record,
        key: many.key,
        input_digest: many.input_digest,
    }
}

/// A stand-in key for `n` outputs, and the fixed-weights record of model `id` under it (3
/// 8-bit outputs at scale 2^-2, 4 inputs at 2^-4).
fn stand_in(
    id: &[u8; 32],
    n: usize,
    name: &str,
    rng: &mut StdRng,
) -> (ModelRecord, VerifierKey, ark_groth16::ProvingKey<Bn254>) {
    let inputs = public_input_count(n, width(8));
    let (pk, vk) =
        Groth16::<Bn254>::circuit_specific_setup(Publics(vec![Fr::from(0u64); inputs]), rng)
            .unwrap();
    let key = VerifierKey::new(vk);
    let record = ModelRecord {
        version: RECORD_VERSION,
        model_id: hex::encode(id),
        name: name.into(),
        weight_mode: "fixed".into(),
        model_commitment: fr_to_hex(&fixed_model_commitment(id)),
        vk_id: key.id().to_string(),
        input: TensorFormat {
            shape: vec![4],
            frac_bits: 4,
            bits: width(8),
        },
        output: TensorFormat {
            shape: vec![n],
            frac_bits: 2,
            bits: width(8),
        },
        constraints: n,
        content_id: None,
        owner: None,
        weight_commitment: None,
        commitment_key: None,
    };
    (record, key, pk)
}

/// Receipts of one model under one key: same input and output, job ids `job-1`, `job-2`, ...
pub struct Fixtures {
    pub record: ModelRecord,
    pub key: VerifierKey,
    pub receipts: Vec<Receipt>,
    pub input_digest: Fr,
}

/// A model record, a key and `count` receipts whose proofs are valid, for an output of `n`
/// values, served by `worker` (unsigned).
pub fn fixtures_by(n: usize, seed: u64, worker: &str, count: usize) -> Fixtures {
    let mut rng = StdRng::seed_from_u64(seed);
    let output: Vec<i64> = (0..n as i64).map(|i| (i * 37 % 256) - 128).collect();
    let input_digest = Fr::from(1234u64 + seed);
    let nonce = "nonce-x";
    let statement = |job: &str| Statement {
        model_commitment: fixed_model_commitment(&MODEL),
        input_digest,
        output: output.clone(),
        output_width: width(8),
        job_binding: job_binding(job, worker, nonce, None),
    };
    let inputs = public_input_count(n, width(8));
    let (record, key, pk) = stand_in(&MODEL, n, "stand-in", &mut rng);
    let receipts = (1..=count)
        .map(|k| {
            let job = format!("job-{k}");
            let publics = statement(&job).public_inputs().unwrap();
            assert_eq!(publics.len(), inputs);
            let proof = Groth16::<Bn254>::prove(&pk, Publics(publics), &mut rng).unwrap();
            Receipt {
                version: RECEIPT_VERSION,
                job_id: job,
                worker_id: worker.into(),
                client_nonce: nonce.into(),
                model_id: record.model_id.clone(),
                vk_id: key.id().to_string(),
                input_digest: fr_to_hex(&input_digest),
                output: ReceiptOutput {
                    shape: vec![n],
                    values: output.iter().map(|&v| v as f64 / 4.0).collect(),
                    quantized: output.clone(),
                    frac_bits: 2,
                },
                proof: encode_proof(&proof),
                request: None,
                signature: None,
            }
        })
        .collect();
    Fixtures {
        record,
        key,
        receipts,
        input_digest,
    }
}

/// An owner's stand-in model: a record whose id is the owner's (content `[0x11; 32]`), its
/// key, and the proving key to make receipts of any job with.
pub struct Owned {
    pub record: ModelRecord,
    pub key: VerifierKey,
    pk: ark_groth16::ProvingKey<Bn254>,
}

/// The stand-in model owned by `owner` (a public key, hex), with 3 outputs.
pub fn owned(owner: &str, seed: u64) -> Owned {
    let mut rng = StdRng::seed_from_u64(seed);
    let content = [0x11u8; 32];
    let id = zkw_verifier::record::owned_model_id(&content, owner);
    let (mut record, key, pk) = stand_in(&id, 3, "owned stand-in", &mut rng);
    record.content_id = Some(hex::encode(content));
    record.owner = Some(owner.to_string());
    record.validate().unwrap();
    Owned { record, key, pk }
}

impl Owned {
    /// A receipt (unsigned) of the input with digest 77 for this job, with a valid proof.
    pub fn receipt(&self, job_id: &str, worker_id: &str, client_nonce: &str) -> Receipt {
        self.answer(job_id, worker_id, client_nonce, None)
    }

    /// The digest of the input [`Owned::receipt`] proves the model on.
    pub const INPUT: u64 = 77;

    /// A receipt (unsigned) of the input with digest 77 for this job, answering `request`
    /// (bound into the proof as a worker binds it), with a valid proof.
    pub fn answer(
        &self,
        job_id: &str,
        worker_id: &str,
        client_nonce: &str,
        request: Option<zkw_verifier::ClientRequest>,
    ) -> Receipt {
        let output = vec![1i64, -2, 3];
        let statement = Statement {
            model_commitment: self.record.commitment().unwrap(),
            input_digest: Fr::from(Self::INPUT),
            output: output.clone(),
            output_width: width(8),
            job_binding: job_binding(
                job_id,
                worker_id,
                client_nonce,
                request.as_ref().map(|r| r.digest()).as_ref(),
            ),
        };
        let mut rng = StdRng::seed_from_u64(5);
        let proof = Groth16::<Bn254>::prove(
            &self.pk,
            Publics(statement.public_inputs().unwrap()),
            &mut rng,
        )
        .unwrap();
        Receipt {
            version: RECEIPT_VERSION,
            job_id: job_id.into(),
            worker_id: worker_id.into(),
            client_nonce: client_nonce.into(),
            model_id: self.record.model_id.clone(),
            vk_id: self.key.id().to_string(),
            input_digest: fr_to_hex(&Fr::from(77u64)),
            output: ReceiptOutput {
                shape: vec![3],
                values: output.iter().map(|&v| v as f64 / 4.0).collect(),
                quantized: output,
                frac_bits: 2,
            },
            proof: encode_proof(&proof),
            request,
            signature: None,
        }
    }
}
