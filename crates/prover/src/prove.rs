//! Proving: per job, only the assignment and the proof.
//!
//! A [`Prover`] holds one model's proving key, constraint matrices and baseline, loaded once.
//! For each job it runs (or is given) the trace, synthesizes the assignment
//! ([`crate::witness`]) and proves it ([`crate::groth16`]). Every proof is verified before it
//! leaves, so a worker never hands out a receipt that fails; when one does fail, the assignment
//! is checked against the matrices to name the constraint a wrong trace breaks. (Checking every
//! assignment up front would cost a pass over the matrices on every job to catch what the
//! self-check catches anyway.)

use std::path::Path;
use std::time::{Duration, Instant};

use ark_bn254::Bn254;
use ark_ff::UniformRand;
use ark_groth16::ProvingKey;
use ark_poly::{EvaluationDomain, GeneralEvaluationDomain};
use ark_std::rand::rngs::OsRng;
use zkw_circuits::commitment::committed_wires;
use zkw_circuits::{Fr, InferenceCircuit, model_commitment};
use zkw_model::{Model, ModelId, Trace};
use zkw_verifier::{
    Expected, InputSalt, Job, ModelRecord, Receipt, Statement, VerifierKey, verify,
};

use crate::baseline::{Baseline, BaselineFile};
use crate::error::ProverError;
use crate::groth16::create_proof;
use crate::keys::{BASELINE_MAGIC, KeyDir, PK_MAGIC, R1CS_MAGIC, read_digested};
use crate::matrices::R1csMatrices;
use crate::receipt::build_receipt;
use crate::witness;

/// A proved job.
#[derive(Debug, Clone)]
pub struct Proved {
    /// The receipt for the client.
    pub receipt: Receipt,
    /// What the proof binds.
    pub statement: Statement,
    /// The trace it was made from.
    pub trace: Trace,
    /// Time of each phase.
    pub timings: Vec<(&'static str, Duration)>,
}

/// Proves jobs of one model: what a worker calls, whatever does the proving behind it.
///
/// The trace comes from any executor (the reference or the GPU); the prover checks it against
/// the circuit, never trusts it. [`LocalProver`] proves on this machine; a remote or
/// accelerated prover is another implementation.
pub trait Prover: Send + Sync {
    /// The model the prover proves.
    fn model(&self) -> &Model;

    /// The registry record of its keys.
    fn record(&self) -> &ModelRecord;

    /// The verifying key.
    fn verifier_key(&self) -> &VerifierKey;

    /// Proves a trace for a job; the receipt it returns has verified.
    fn prove_trace(&self, trace: Trace, salt: &InputSalt, job: &Job)
    -> Result<Proved, ProverError>;
}

/// One model's prover on this machine: keys and matrices in memory.
pub struct LocalProver {
    keys: KeyDir,
    model: Model,
    record: ModelRecord,
    key: VerifierKey,
    pk: ProvingKey<Bn254>,
    r1cs: R1csMatrices,
    baseline: Baseline,
    commitment: Fr,
}

/// The proving key's queries must have the sizes the matrices imply; the prover's MSMs and
/// the QAP reduction rely on it. The L-query covers the witness less the `committed` wires:
/// a key with a point for a committed wire there is refused (condition S2), whatever made it.
fn check_sizes(pk: &ProvingKey<Bn254>, m: &R1csMatrices, committed: usize) -> Result<(), String> {
    let n = m.num_variables();
    let domain = GeneralEvaluationDomain::<Fr>::new(
        m.num_constraints.saturating_add(m.num_instance_variables),
    )
    .ok_or("the constraint system is too large for a BN254 evaluation domain")?
    .size();
    let sizes = [
        ("a_query", pk.a_query.len(), n),
        ("b_g1_query", pk.b_g1_query.len(), n),
        ("b_g2_query", pk.b_g2_query.len(), n),
        (
            "l_query",
            pk.l_query.len(),
            m.num_witness_variables.saturating_sub(committed),
        ),
        ("h_query", pk.h_query.len(), domain - 1),
        (
            "the verifying key's gamma_abc_g1",
            pk.vk.gamma_abc_g1.len(),
            m.num_instance_variables,
        ),
    ];
    match sizes.iter().find(|(_, got, want)| got != want) {
        Some((name, got, want)) => Err(format!(
            "{name} has {got} points, the matrices need {want} (keys and matrices from different setups?)"
        )),
        None => Ok(()),
    }
}

impl LocalProver {
    /// Opens a keys directory as a worker serves it: the model file it holds (`model.zkm`,
    /// which must be the record's model) and its keys.
    pub fn open(dir: &Path) -> Result<Self, ProverError> {
        let keys = KeyDir::new(dir);
        let (model, id) = zkw_model::load_model(&keys.model_path())?;
        Self::load(model, &id, dir)
    }

    /// Loads the keys of `model` (whose file digest is `id`) from a keys directory. The keys'
    /// model id is the file's digest, or, for an owner's setup, the owned id of that digest
    /// (the record names both).
    pub fn load(model: Model, id: &ModelId, dir: &Path) -> Result<Self, ProverError> {
        let keys = KeyDir::new(dir);
        let record = keys.read_record()?;
        let effective = match (&record.content_id, &record.owner) {
            (Some(content), Some(owner)) if *content == id.to_hex() => {
                crate::setup::owned_id(id, owner)
            }
            _ => *id,
        };
        if record.model_id != effective.to_hex() {
            return Err(ProverError::WrongModel {
                dir: dir.to_path_buf(),
                keys_model: record.model_id,
                model: id.to_hex(),
            });
        }
        let id = &effective;
        let key = keys.read_vk(&record)?;
        let commitment = model_commitment(&model, id)?;
        let base_path = keys.baseline_path(&record.vk_id);
        // The proving key, the matrices and the baseline (its reference assignment synthesized
        // again) are independent: loaded side by side, a worker starts in the time of the
        // slowest instead of the sum.
        let (pk, r1cs, baseline) = std::thread::scope(|s| {
            let pk = s.spawn(|| {
                read_digested::<ProvingKey<Bn254>>(
                    &keys.pk_path(&record.vk_id),
                    PK_MAGIC,
                    "proving key",
                )
            });
            let r1cs = s.spawn(|| {
                read_digested::<R1csMatrices>(
                    &keys.r1cs_path(&record.vk_id),
                    R1CS_MAGIC,
                    "matrices",
                )
            });
            let baseline = s.spawn(|| {
                let file: BaselineFile = read_digested(&base_path, BASELINE_MAGIC, "baseline")?;
                Baseline::from_file(&file, &base_path, &model, commitment)
            });
            let join = |what: &str| ProverError::BadKeyFile {
                path: dir.to_path_buf(),
                reason: format!("loading the {what} panicked"),
            };
            Ok::<_, ProverError>((
                pk.join().map_err(|_| join("proving key"))??,
                r1cs.join().map_err(|_| join("matrices"))??,
                baseline.join().map_err(|_| join("baseline"))??,
            ))
        })?;
        if &pk.vk != key.vk() {
            return Err(ProverError::BadKeyFile {
                path: keys.pk_path(&record.vk_id),
                reason: "the proving key does not belong to the verifying key".into(),
            });
        }
        r1cs.validate().map_err(|reason| ProverError::BadKeyFile {
            path: keys.r1cs_path(&record.vk_id),
            reason,
        })?;
        if let Some(i) = r1cs.unpivoted(committed_wires(&model)) {
            return Err(ProverError::BadKeyFile {
                path: keys.r1cs_path(&record.vk_id),
                reason: format!("committed wire {i} has no pivot row (condition S3)"),
            });
        }
        check_sizes(&pk, &r1cs, committed_wires(&model)).map_err(|reason| {
            ProverError::BadKeyFile {
                path: keys.pk_path(&record.vk_id),
                reason,
            }
        })?;
        // The baseline's L-sum and the proving key's L-query start at the same wire.
        if baseline.l_start != r1cs.num_instance_variables + committed_wires(&model) {
            return Err(ProverError::BadKeyFile {
                path: base_path.clone(),
                reason: "its L-sum starts at another wire than the matrices' L-query".into(),
            });
        }
        if baseline.z.len() != r1cs.num_variables() {
            return Err(ProverError::BadKeyFile {
                path: keys.r1cs_path(&record.vk_id),
                reason: format!(
                    "the matrices have {} variables, the circuit {}",
                    r1cs.num_variables(),
                    baseline.z.len()
                ),
            });
        }
        Ok(LocalProver {
            keys,
            model,
            record,
            key,
            pk,
            r1cs,
            baseline,
            commitment,
        })
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The registry record of the keys.
    pub fn record(&self) -> &ModelRecord {
        &self.record
    }

    /// The verifying key.
    pub fn verifier_key(&self) -> &VerifierKey {
        &self.key
    }

    /// The cached constraint matrices.
    pub fn matrices(&self) -> &R1csMatrices {
        &self.r1cs
    }

    /// The proving key.
    pub fn proving_key(&self) -> &ProvingKey<Bn254> {
        &self.pk
    }

    /// The baseline.
    pub fn baseline(&self) -> &Baseline {
        &self.baseline
    }

    /// Runs the reference executor on a quantized input and proves the result; `salt` is the
    /// client's input salt (see [`InputSalt`]).
    pub fn prove(&self, input: &[i64], salt: &InputSalt, job: &Job) -> Result<Proved, ProverError> {
        let trace = zkw_model::run(&self.model, input)?;
        self.prove_trace(trace, salt, job)
    }

    /// The circuit of a trace for a job.
    pub fn circuit(
        &self,
        trace: Trace,
        salt: &InputSalt,
        job: &Job,
    ) -> Result<InferenceCircuit<'_>, ProverError> {
        Ok(InferenceCircuit::new(
            &self.model,
            self.commitment,
            trace,
            salt,
            job.binding(),
        )?)
    }

    /// The full assignment (instance with its leading 1, then witness) of a circuit.
    pub fn assignment(&self, circuit: InferenceCircuit<'_>) -> Result<Vec<Fr>, ProverError> {
        let z = witness::assignment(circuit)?;
        if z.len() != self.r1cs.num_variables() {
            return Err(ProverError::BadKeyFile {
                path: self.keys.r1cs_path(&self.record.vk_id),
                reason: format!(
                    "the matrices have {} variables, the circuit {}",
                    self.r1cs.num_variables(),
                    z.len()
                ),
            });
        }
        Ok(z)
    }

    /// Proves a trace produced by any executor (checked against the circuit, not trusted).
    pub fn prove_trace(
        &self,
        trace: Trace,
        salt: &InputSalt,
        job: &Job,
    ) -> Result<Proved, ProverError> {
        let mut timings = Vec::new();
        let t = Instant::now();
        let circuit = self.circuit(trace.clone(), salt, job)?;
        let statement = circuit.statement().clone();
        let z = self.assignment(circuit)?;
        timings.push(("witness", t.elapsed()));

        let t = Instant::now();
        let (r, s) = (Fr::rand(&mut OsRng), Fr::rand(&mut OsRng));
        let proof = create_proof(&self.pk, &self.r1cs, &self.baseline, &z, r, s)?;
        timings.push(("prove", t.elapsed()));

        let t = Instant::now();
        let receipt = build_receipt(&self.record, job, &statement, &proof);
        // The statement is our own: check the proof against exactly it.
        let expected = Expected::new(&self.record, statement.input_digest, &job.job_id)
            .worker(&job.worker_id)
            .nonce(&job.client_nonce);
        // An owner's proof of holding the proving key is the one receipt `verify` refuses as
        // no client's job.
        let checked = if zkw_verifier::ownership::is_ownership_job(&job.job_id) {
            zkw_verifier::verify::verify_possession(&receipt, &self.key, &expected)
        } else {
            verify(&receipt, &self.key, &expected)
        };
        if let Err(e) = checked {
            // A wrong trace is the one expected cause: name the constraint it breaks.
            self.r1cs.check(&z).map_err(ProverError::Unsatisfied)?;
            return Err(e.into());
        }
        timings.push(("self-verify", t.elapsed()));
        Ok(Proved {
            receipt,
            statement,
            trace,
            timings,
        })
    }
}

impl Prover for LocalProver {
    fn model(&self) -> &Model {
        LocalProver::model(self)
    }

    fn record(&self) -> &ModelRecord {
        LocalProver::record(self)
    }

    fn verifier_key(&self) -> &VerifierKey {
        LocalProver::verifier_key(self)
    }

    fn prove_trace(
        &self,
        trace: Trace,
        salt: &InputSalt,
        job: &Job,
    ) -> Result<Proved, ProverError> {
        LocalProver::prove_trace(self, trace, salt, job)
    }
}
