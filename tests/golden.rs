//! Golden files: the serialized formats pinned byte for byte, so a refactor or a rename can
//! prove it changed no bytes that leave the process (model files and ids, records,
//! registrations, licences, requests, receipts, their signing digests, the statement encoding,
//! the settlement contract and its calldata).
//!
//! Every value is built deterministically — fixed ed25519 seeds, fixed times, the seed
//! models, a verifying key and proof made of fixed multiples of the generators — with the
//! crates' own constructors, serialized, and compared with `tests/golden/`. No proving, no
//! circuit setup: the proofs are well-formed curve points that verify nothing, which every
//! format here carries as opaque bytes.
//!
//! `ZKW_REGENERATE_GOLDEN=1` writes the files instead of comparing them: only for a
//! deliberate format change, with its version bumped (`tests/golden/README.md`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use ark_bn254::{Bn254, Fr, G1Affine, G2Affine};
use ark_ec::{AffineRepr, CurveGroup};
use ark_groth16::{Proof, VerifyingKey};
use zkw_evm::{EvmModel, settle_calldata, solidity};
use zkw_model::Model;
use zkw_model::file::{from_bytes, model_id, to_canonical_bytes};
use zkw_model::seeds::seed_models;
use zkw_prover::receipt::build_receipt;
use zkw_prover::setup::make_record;
use zkw_prover::{KeyDir, owned_id};
use zkw_verifier::digest::input_digest;
use zkw_verifier::field::fr_to_hex;
use zkw_verifier::key::vk_id;
use zkw_verifier::ownership::{ownership_job, sign_setup};
use zkw_verifier::signature::receipt_digest;
use zkw_verifier::{
    ClientRequest, InputSalt, Job, KeyPair, Licence, ModelRecord, Receipt, RegisteredModel,
    Registration, Reward, Statement, Venue, VerifierKey, WorkerKey, job_binding,
};

/// Set to `1` to write the golden files instead of comparing with them.
const REGENERATE: &str = "ZKW_REGENERATE_GOLDEN";

/// The seed model the signed documents are about: private weights, so its record pins the
/// Poseidon weight commitment too.
const MODEL: &str = "mlp_private";

/// The owner's, the worker's and the client's ed25519 seeds.
const OWNER_SEED: [u8; 32] = [0x0a; 32];
const WORKER_SEED: [u8; 32] = [0x77; 32];
const CLIENT_SEED: [u8; 32] = [0x0c; 32];

/// The licence's expiry: 2030-03-17T17:46:40Z.
const EXPIRES_AT: u64 = 1_900_000_000;

/// The client's input (the model's `[1, 2]` input at scale 2^-4) and salt.
const INPUT: [i64; 2] = [5, -3];
const SALT: InputSalt = InputSalt::from_bytes([0x5a; 31]);

/// The venue the client's request names: a contract on a local chain.
const VENUE: Venue = Venue::Evm {
    chain_id: 31_337,
    contract: [0x5e; 20],
};

const REWARD: Reward = Reward {
    fee: 1001,
    worker_share_bps: 7000,
    penalty: 5000,
};

/// The R1CS size written into the record: a stand-in, since counting it needs the circuit.
const CONSTRAINTS: usize = 1234;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn regenerating() -> bool {
    std::env::var(REGENERATE).is_ok_and(|v| v == "1")
}

/// A line on stderr past the test harness's capture, so a regeneration is never silent.
fn say(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Compares `bytes` with the golden file `rel` (under `tests/golden/`), or writes it when
/// regenerating. Panics naming the file, where it differs, and how to regenerate.
fn golden(rel: &str, bytes: &[u8]) {
    let path = golden_dir().join(rel);
    if regenerating() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        if std::fs::read(&path).ok().as_deref() != Some(bytes) {
            std::fs::write(&path, bytes).unwrap();
            say(&format!("{REGENERATE}=1: wrote tests/golden/{rel}"));
        }
        return;
    }
    let how = format!(
        "Serialized bytes must not change in a refactor or a rename. If this format change is \
         deliberate, bump the format's version, then regenerate with `{REGENERATE}=1 cargo test \
         -p zkworker --test golden` and commit the diff (tests/golden/README.md)."
    );
    let expected = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => panic!("golden file tests/golden/{rel} cannot be read ({e}). {how}"),
    };
    if expected == bytes {
        return;
    }
    let at = expected
        .iter()
        .zip(bytes)
        .position(|(a, b)| a != b)
        .unwrap_or(expected.len().min(bytes.len()));
    let mut detail = format!(
        "first difference at byte {at} (golden file {} bytes, now {} bytes)",
        expected.len(),
        bytes.len()
    );
    if let (Ok(old), Ok(new)) = (std::str::from_utf8(&expected), std::str::from_utf8(bytes)) {
        let line = old[..at.min(old.len())].matches('\n').count();
        let pick = |s: &str| s.lines().nth(line).unwrap_or("<none>").to_string();
        let _ = write!(
            detail,
            ", line {}:\n  golden: {}\n  now:    {}",
            line + 1,
            pick(old),
            pick(new)
        );
    }
    panic!(
        "golden file tests/golden/{rel} differs from what the code now produces: {detail}\n{how}"
    );
}

/// One `name value` line each.
fn lines(entries: &[(&str, String)]) -> String {
    entries.iter().map(|(k, v)| format!("{k} {v}\n")).collect()
}

fn g1(k: u64) -> G1Affine {
    (G1Affine::generator() * Fr::from(k)).into_affine()
}

fn g2(k: u64) -> G2Affine {
    (G2Affine::generator() * Fr::from(k)).into_affine()
}

/// A verifying key for `public_inputs` public inputs, made of fixed multiples of the
/// generators: a well-formed key of the right size, no setup.
fn fixed_vk(public_inputs: usize) -> VerifyingKey<Bn254> {
    VerifyingKey {
        alpha_g1: g1(2),
        beta_g2: g2(3),
        gamma_g2: g2(5),
        delta_g2: g2(7),
        gamma_abc_g1: (0..=public_inputs as u64).map(|k| g1(11 + k)).collect(),
    }
}

/// A well-formed proof that proves nothing (receipts carry it as opaque bytes).
fn fixed_proof() -> Proof<Bn254> {
    Proof {
        a: g1(13),
        b: g2(17),
        c: g1(19),
    }
}

fn seed(name: &str) -> Model {
    seed_models()
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no seed model {name}"))
        .1
}

/// Everything the signed documents are: one owner's model, registered, licensed to one worker,
/// asked for by one client, and the worker's receipt.
struct Documents {
    vk: VerifyingKey<Bn254>,
    record: ModelRecord,
    registration: Registration,
    licence: Licence,
    request: ClientRequest,
    job: Job,
    statement: Statement,
    receipt: Receipt,
}

/// The statement a worker proves for `job` on `input`.
fn statement(
    model: &Model,
    record: &ModelRecord,
    input: &[i64],
    salt: &InputSalt,
    job: &Job,
) -> Statement {
    Statement {
        model_commitment: record.commitment().unwrap(),
        input_digest: input_digest(input, record.input.bits, salt).unwrap(),
        output: zkw_model::run(model, input).unwrap().output(),
        output_width: record.output.bits,
        job_binding: job.binding(),
    }
}

fn documents() -> Documents {
    let owner = KeyPair::from_seed(&OWNER_SEED);
    let worker = WorkerKey::from_seed(&WORKER_SEED);
    let client = KeyPair::from_seed(&CLIENT_SEED);
    let model = seed(MODEL);
    let content = model_id(&model);
    let id = owned_id(&content, &owner.public_hex());
    let output = model.output_info().unwrap();
    let inputs = zkw_verifier::statement::public_input_count(
        output.len(),
        zkw_verifier::Width::new(output.bits).unwrap(),
    );
    let vk = fixed_vk(inputs);
    let record = make_record(
        &model,
        &id,
        Some((&content, &owner.public_hex())),
        vk_id(&vk),
        CONSTRAINTS,
        None,
    )
    .unwrap();

    // The owner's setup statement: its possession receipt answers the ownership job on the
    // all-zero input, unsalted, signed by the owner as its worker.
    let zeros = vec![0; model.input_info().len()];
    let own = ownership_job(&record.model_id, &owner.public_hex());
    let mut possession = build_receipt(
        &record,
        &own,
        &statement(&model, &record, &zeros, &InputSalt::UNSALTED, &own),
        &fixed_proof(),
    );
    WorkerKey::from_seed(&owner.seed()).sign(&mut possession);
    let setup = sign_setup(&record, possession, &owner).unwrap();

    // The key files a setup writes, by their real names; the digests stand in (the files
    // themselves need a setup).
    let dir = KeyDir::new("");
    let key_files: BTreeMap<String, String> = [
        dir.vk_path(&record.vk_id),
        dir.pk_path(&record.vk_id),
        dir.r1cs_path(&record.vk_id),
        dir.baseline_path(&record.vk_id),
    ]
    .iter()
    .enumerate()
    .map(|(k, path)| {
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        (name, hex::encode([0x11 * (k as u8 + 1); 32]))
    })
    .collect();
    let mut registration = Registration::new(
        record.clone(),
        &VerifierKey::new(vk.clone()),
        REWARD,
        key_files,
    );
    registration.venues = vec![VENUE];
    let mut registration = registration.with_setup(setup);
    registration.sign(&owner);

    let licence = Licence::issue(
        &owner,
        &record.model_id,
        &worker.worker_id(),
        Some(EXPIRES_AT),
    );

    let digest = input_digest(&INPUT, record.input.bits, &SALT).unwrap();
    let request = ClientRequest::sign(
        &client,
        &record.model_id,
        digest,
        "nonce-1",
        VENUE,
        REWARD.fee,
    )
    .unwrap();
    let job = Job {
        job_id: "golden-job-1".into(),
        worker_id: worker.worker_id(),
        client_nonce: "nonce-1".into(),
        request: Some(request.clone()),
    };
    let statement = statement(&model, &record, &INPUT, &SALT, &job);
    let mut receipt = build_receipt(&record, &job, &statement, &fixed_proof());
    worker.sign(&mut receipt);
    Documents {
        vk,
        record,
        registration,
        licence,
        request,
        job,
        statement,
        receipt,
    }
}

/// Every seed model's canonical file bytes and model id.
#[test]
fn seed_model_files_and_ids() {
    let seeds = seed_models();
    let mut ids = Vec::new();
    for (name, model) in &seeds {
        let bytes = to_canonical_bytes(model);
        // The file reads back as the same model, so the bytes are a loadable file.
        let (back, id) = from_bytes(&bytes, Path::new(name)).unwrap();
        assert_eq!(&back, model, "{name} does not read back");
        assert_eq!(id, model_id(model));
        golden(&format!("models/{name}.zkm"), &bytes);
        ids.push((name.as_str(), id.to_hex()));
    }
    golden("model_ids.txt", lines(&ids).as_bytes());
    // No golden model file is left over from a seed that is gone.
    let dir = golden_dir().join("models");
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "{} cannot be read ({e}): generate it with `{REGENERATE}=1 cargo test -p zkworker \
             --test golden`",
            dir.display()
        )
    });
    for entry in entries {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        if !seeds.iter().any(|(n, _)| *n == stem) {
            if regenerating() {
                std::fs::remove_file(&path).unwrap();
                say(&format!("{REGENERATE}=1: removed {}", path.display()));
            } else {
                panic!(
                    "golden file {} has no seed model: remove it with `{REGENERATE}=1 cargo \
                     test -p zkworker --test golden`",
                    path.display()
                );
            }
        }
    }
}

/// The signed documents' JSON and the digests signed over them or bound into proofs.
#[test]
fn signed_documents_and_digests() {
    let d = documents();
    // Each JSON reads back as the value it was made from.
    assert_eq!(
        ModelRecord::from_json(d.record.to_json().as_bytes()).unwrap(),
        d.record
    );
    assert_eq!(
        Registration::parse(d.registration.to_json().as_bytes()).unwrap(),
        d.registration
    );
    d.registration.check_signature().unwrap();
    assert_eq!(
        Licence::from_json(d.licence.to_json().as_bytes()).unwrap(),
        d.licence
    );
    assert_eq!(
        ClientRequest::from_json(d.request.to_json().as_bytes()).unwrap(),
        d.request
    );
    assert_eq!(
        Receipt::from_json(d.receipt.to_json().as_bytes()).unwrap(),
        d.receipt
    );

    golden("record.json", d.record.to_json().as_bytes());
    golden("vk.bin", &VerifierKey::new(d.vk.clone()).to_bytes());
    golden("registration.json", d.registration.to_json().as_bytes());
    golden("licence.json", d.licence.to_json().as_bytes());
    golden("request.json", d.request.to_json().as_bytes());
    golden("receipt.json", d.receipt.to_json().as_bytes());

    let r = &d.receipt;
    let unbound = job_binding(&r.job_id, &r.worker_id, &r.client_nonce, None);
    let mut entries = vec![
        ("model.content_id", d.record.content_id.clone().unwrap()),
        ("model.id", d.record.model_id.clone()),
        ("record.model_commitment", d.record.model_commitment.clone()),
        ("record.digest", hex::encode(d.record.digest())),
        ("vk.id", d.record.vk_id.clone()),
        (
            "registration.signing_digest",
            hex::encode(d.registration.signing_digest()),
        ),
        (
            "licence.signing_digest",
            hex::encode(d.licence.signing_digest()),
        ),
        ("request.digest", hex::encode(d.request.digest())),
        ("receipt.input_digest", r.input_digest.clone()),
        ("receipt.signing_digest", hex::encode(receipt_digest(r))),
        ("job.binding", fr_to_hex(&d.job.binding())),
        ("job.binding_without_request", fr_to_hex(&unbound)),
    ];
    let publics = d.statement.public_inputs().unwrap();
    let names: Vec<String> = (0..publics.len())
        .map(|k| format!("statement.public_input.{k}"))
        .collect();
    for (name, p) in names.iter().zip(&publics) {
        entries.push((name, fr_to_hex(p)));
    }
    golden("digests.txt", lines(&entries).as_bytes());
}

/// The settlement contract rendered for the registered model, and the calldata that settles
/// its receipt.
#[test]
fn settlement_contract_and_calldata() {
    let d = documents();
    let registered = RegisteredModel {
        registration: d.registration.clone(),
        key: VerifierKey::new(d.vk.clone()),
    };
    let source = solidity(&EvmModel::from_registered(&registered).unwrap()).unwrap();
    golden("Settlement.sol", source.as_bytes());
    let calldata = settle_calldata(&d.receipt, &d.record.output).unwrap();
    golden(
        "settle_calldata.hex",
        format!("{}\n", hex::encode(calldata)).as_bytes(),
    );
}
