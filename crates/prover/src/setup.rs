//! Circuit-specific Groth16 setup for one model.
//!
//! Trust assumption: the toxic waste (α, β, γ, δ, τ) is drawn from the operating system's
//! randomness inside this process and dropped when setup returns; whoever runs setup must be
//! trusted not to have kept it. A multi-party phase-2 ceremony is a later goal.

use std::path::Path;
use std::time::{Duration, Instant};

use ark_bn254::G1Affine;
use ark_std::rand::rngs::OsRng;
use zkw_circuits::commitment::committed_wires;
use zkw_circuits::{CircuitError, InferenceCircuit, model_commitment};
use zkw_model::{Model, ModelId};
use zkw_verifier::commitment::point_to_hex;
use zkw_verifier::field::fr_to_hex;
use zkw_verifier::fs::Access;
use zkw_verifier::key::vk_bytes;
use zkw_verifier::opening::OpeningContext;
use zkw_verifier::record::{RECORD_VERSION, owned_model_id};
use zkw_verifier::{ModelRecord, TensorFormat, VerifierKey, Width};

use crate::baseline::Baseline;
use crate::error::ProverError;
use crate::keygen::{self, Keys};
use crate::keys::{
    BASELINE_MAGIC, KeyDir, PK_MAGIC, R1CS_MAGIC, save_model, write_atomic, write_digested,
    write_digested_as,
};
use crate::matrices::R1csMatrices;
use crate::opening::{commit_and_open, draw_blinding};
use crate::range_proof::prove_ranges;

/// What setup made.
#[derive(Debug, Clone)]
pub struct SetupReport {
    /// The registry record (also written as `record.json`).
    pub record: ModelRecord,
    /// Witness variables.
    pub witness_variables: usize,
    /// Public inputs (the constant 1 excluded).
    pub public_inputs: usize,
    /// Bytes of the verifying key file.
    pub vk_bytes: u64,
    /// Bytes of the proving key file.
    pub pk_bytes: u64,
    /// Bytes of the matrices file.
    pub r1cs_bytes: u64,
    /// Bytes of the baseline file.
    pub baseline_bytes: u64,
    /// Time of each phase.
    pub timings: Vec<(&'static str, Duration)>,
}

/// The registry record of a model whose key has id `vk_id`; `owned` is the model file's digest
/// and the owner's public key of an owner's setup (then `id` is their [`owned_model_id`]);
/// `committed`, for committed weights, the owner's commitment `D_reg` and the digest of the
/// commitment key.
pub fn make_record(
    model: &Model,
    id: &ModelId,
    owned: Option<(&ModelId, &str)>,
    vk_id: String,
    constraints: usize,
    committed: Option<(&G1Affine, [u8; 32])>,
) -> Result<ModelRecord, ProverError> {
    let out = model.output_info()?;
    let input = model.input_info();
    let width = |what: &str, bits: u32| {
        Width::new(bits).map_err(|err| CircuitError::Width {
            what: what.into(),
            err,
        })
    };
    Ok(ModelRecord {
        version: RECORD_VERSION,
        model_id: id.to_hex(),
        name: model.name.clone(),
        weight_mode: model.weight_mode.as_str().to_string(),
        model_commitment: fr_to_hex(&model_commitment(model, id)?),
        vk_id,
        input: TensorFormat {
            shape: input.shape,
            frac_bits: input.frac_bits,
            bits: width("the input", input.bits)?,
        },
        output: TensorFormat {
            shape: out.shape,
            frac_bits: out.frac_bits,
            bits: width("the output", out.bits)?,
        },
        constraints,
        content_id: owned.map(|(content, _)| content.to_hex()),
        owner: owned.map(|(_, owner)| owner.to_string()),
        weight_commitment: committed.map(|(d, _)| point_to_hex(d)),
        commitment_key: committed.map(|(_, ck)| hex::encode(ck)),
    })
}

/// The model id of `owner`'s setup of a model file with digest `content`.
pub fn owned_id(content: &ModelId, owner: &str) -> ModelId {
    ModelId(owned_model_id(&content.0, owner))
}

/// Setup for an owner (`owner`: its ed25519 public key, hex): the model id is
/// [`owned_id`]`(content, owner)` — in the record with the file's digest and the owner, and, for
/// fixed weights, in the circuit itself — so the model and its keys are the owner's alone.
pub fn setup_owned(
    model: &Model,
    content: &ModelId,
    owner: &str,
    dir: &Path,
    progress: &dyn Fn(&str),
) -> Result<SetupReport, ProverError> {
    setup_as(
        model,
        &owned_id(content, owner),
        Some((content, owner)),
        dir,
        progress,
    )
}

/// Runs setup and writes the keys directory, for a model of no owner (its id is the model
/// file's digest; the keys serve `zkw prove` and `zkw verify --keys`, and cannot be
/// registered). `progress` is told each phase as it starts.
pub fn setup(
    model: &Model,
    id: &ModelId,
    dir: &Path,
    progress: &dyn Fn(&str),
) -> Result<SetupReport, ProverError> {
    setup_as(model, id, None, dir, progress)
}

fn setup_as(
    model: &Model,
    id: &ModelId,
    owned: Option<(&ModelId, &str)>,
    dir: &Path,
    progress: &dyn Fn(&str),
) -> Result<SetupReport, ProverError> {
    let mut timings = Vec::new();
    let commitment = model_commitment(model, id)?;

    progress("synthesizing constraints");
    let t = Instant::now();
    let circuit = InferenceCircuit::for_setup(model, commitment)?;
    let cs = circuit.synthesize_for_matrices()?;
    let mut matrices = R1csMatrices::from_cs(&cs).ok_or_else(|| ProverError::BadKeyFile {
        path: dir.to_path_buf(),
        reason: "the circuit produced no R1CS matrices".into(),
    })?;
    drop(cs);
    // Committed weights: every committed wire gets a pivot row (condition S3).
    let committed = committed_wires(model);
    matrices.pin_committed(committed);
    timings.push(("synthesize", t.elapsed()));

    progress("generating Groth16 keys");
    let t = Instant::now();
    let Keys { pk, committing } = keygen::generate(&matrices, committed, &mut OsRng)?;
    let key = VerifierKey::new(pk.vk.clone());
    timings.push(("keygen", t.elapsed()));

    progress("precomputing the baseline");
    let t = Instant::now();
    let mut baseline = Baseline::compute(model, commitment, &pk)?;
    timings.push(("baseline", t.elapsed()));

    // Committed weights: the owner's commitment and the proof of knowledge of its opening,
    // made now by whoever holds the weights; the blinding `v` lives on only in the baseline.
    let opened = match &committing {
        None => None,
        Some(c) => {
            progress("committing to the weights and proving their range");
            let t = Instant::now();
            let v = draw_blinding(&mut OsRng);
            let first = matrices.num_instance_variables;
            let model_id = id.to_hex();
            let ctx = OpeningContext {
                model_id: &model_id,
                vk_id: key.id(),
                owner: owned.map(|(_, owner)| owner),
            };
            let values: Vec<(i64, u32)> = model
                .parameters()
                .flat_map(|(_, p)| p.values.iter().map(move |&v| (v, p.bits)))
                .collect();
            let (range, slices) = prove_ranges(&values, &mut OsRng)?;
            timings.push(("range proof", t.elapsed()));
            let t = Instant::now();
            let w = &baseline.z[first..first + committed];
            let (d_reg, opening) =
                commit_and_open(&c.ck, w, v, (&range, &slices), &ctx, &mut OsRng)?;
            baseline.blind(&c.eta_delta, v);
            timings.push(("commit", t.elapsed()));
            Some((d_reg, opening, range))
        }
    };

    progress("writing keys");
    let t = Instant::now();
    std::fs::create_dir_all(dir).map_err(|e| ProverError::io(dir, e))?;
    let keys = KeyDir::new(dir);
    let vk = vk_bytes(&pk.vk);
    write_atomic(&keys.vk_path(key.id()), &vk)?;
    let pk_bytes = write_digested(&keys.pk_path(key.id()), PK_MAGIC, &pk)?;
    let r1cs_bytes = write_digested(&keys.r1cs_path(key.id()), R1CS_MAGIC, &matrices)?;
    let baseline_access = match committing {
        Some(_) => Access::Secret,
        None => Access::Public,
    };
    let baseline_bytes = write_digested_as(
        &keys.baseline_path(key.id()),
        BASELINE_MAGIC,
        &baseline.file(),
        baseline_access,
    )?;
    let mut committed_record = None;
    if let (Some(c), Some((d_reg, opening, range))) = (&committing, &opened) {
        write_atomic(&keys.commitment_key_path(key.id()), &c.ck.to_bytes())?;
        write_atomic(&keys.opening_path(key.id()), &opening.to_bytes())?;
        write_atomic(&keys.range_path(key.id()), &range.to_bytes())?;
        committed_record = Some((d_reg, c.ck.digest()));
    }
    save_model(model, &keys.model_path())?;
    let record = make_record(
        model,
        id,
        owned,
        key.id().to_string(),
        matrices.num_constraints,
        committed_record,
    )?;
    write_atomic(&keys.record_path(), record.to_json().as_bytes())?;
    timings.push(("write", t.elapsed()));

    Ok(SetupReport {
        record,
        witness_variables: matrices.num_witness_variables,
        public_inputs: matrices.num_instance_variables - 1,
        vk_bytes: vk.len() as u64,
        pk_bytes,
        r1cs_bytes,
        baseline_bytes,
        timings,
    })
}
