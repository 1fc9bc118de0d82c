//! A registry with two registered models (fixed and private weights) that settle in the
//! world's ledger, an owner, licensed and unlicensed workers, a client with funds, and signed
//! receipts of real proofs answering the client's signed requests.

#![allow(dead_code)]

use std::collections::BTreeMap;

use ark_std::rand::SeedableRng;
use zkw_model::ops::{Dense, Requantize};
use zkw_model::{Model, Op, TensorInfo, WeightMode, model_id};
use zkw_prover::ownership::prove_ownership;
use zkw_prover::{KeyDir, LocalProver, setup_owned};
use zkw_settlement::{Ledger, Registry};
use zkw_verifier::{
    ClientRequest, InputSalt, Job, KeyPair, Licence, Receipt, Registration, Reward, Venue,
    WorkerKey,
};

pub const SALT: InputSalt = InputSalt::from_bytes([0x5a; 31]);
pub const NOW: u64 = 1_800_000_000;
pub const REWARD: Reward = Reward {
    fee: 1000,
    worker_share_bps: 7000,
    penalty: 250,
};

/// 3 → 2, one dense layer and a requantization.
pub fn model(mode: WeightMode, bias: i64) -> Model {
    Model::chain(
        "settle",
        mode,
        TensorInfo {
            shape: vec![3],
            frac_bits: 4,
            bits: 8,
        },
        vec![
            Op::Dense(Dense {
                name: "fc".into(),
                in_features: 3,
                out_features: 2,
                weights: vec![17, -40, 3, 90, 8, -127],
                weight_bits: 8,
                weight_frac_bits: 6,
                bias: vec![bias, -bias],
                bias_bits: 12,
            }),
            Op::Requantize(Requantize { shift: 6, bits: 8 }),
        ],
        mode.is_private().then(|| "ab".repeat(31)),
    )
}

/// `account`'s balance in `ledger` (an empty one if it has none).
pub fn account(ledger: &Ledger, account: &str) -> zkw_settlement::ledger::Balance {
    ledger
        .balances()
        .unwrap()
        .into_iter()
        .find(|b| b.account == account)
        .unwrap_or_default()
}

/// What the world's client deposits in its ledger.
pub const DEPOSIT: u64 = 1_000_000;

/// The client whose requests the receipts answer.
pub fn client() -> KeyPair {
    KeyPair::from_seed(&[4; 32])
}

/// `client`'s request for `model` on input `x` under `nonce`, for `venue` and `fee`.
pub fn request(
    client: &KeyPair,
    model: &Registration,
    x: &[i64],
    nonce: &str,
    venue: Venue,
    fee: u64,
) -> ClientRequest {
    let digest = zkw_verifier::digest::input_digest(x, model.record.input.bits, &SALT).unwrap();
    ClientRequest::sign(client, &model.record.model_id, digest, nonce, venue, fee).unwrap()
}

pub struct Registered {
    pub prover: LocalProver,
    pub registration: Registration,
    pub keys: tempfile::TempDir,
    /// Where its receipts' requests ask to settle: the world's ledger.
    pub venue: Venue,
}

impl Registered {
    pub fn model_id(&self) -> &str {
        &self.registration.record.model_id
    }

    /// A receipt for `job_id` by `worker`, signed by it, answering the world's client's
    /// request (nonce `nonce-<job_id>`, this model's venue and fee).
    pub fn receipt(&self, worker: &WorkerKey, job_id: &str, x: [i64; 3]) -> Receipt {
        let nonce = format!("nonce-{job_id}");
        let rq = request(
            &client(),
            &self.registration,
            &x,
            &nonce,
            self.venue,
            self.registration.reward.fee,
        );
        self.answer(worker, job_id, x, Some(rq))
    }

    /// A receipt for `job_id` by `worker`, signed by it, answering `request` (or none).
    pub fn answer(
        &self,
        worker: &WorkerKey,
        job_id: &str,
        x: [i64; 3],
        request: Option<ClientRequest>,
    ) -> Receipt {
        let job = Job {
            job_id: job_id.into(),
            worker_id: worker.worker_id(),
            client_nonce: request
                .as_ref()
                .map_or(format!("nonce-{job_id}"), |r| r.client_nonce().to_string()),
            request,
        };
        let mut r = self.prover.prove(&x, &SALT, &job).unwrap().receipt;
        worker.sign(&mut r);
        r
    }
}

pub struct World {
    pub dir: tempfile::TempDir,
    pub registry: Registry,
    pub ledger: Ledger,
    pub owner: KeyPair,
    pub fixed: Registered,
    pub private: Registered,
    /// Licensed for both models, without expiry.
    pub worker: WorkerKey,
    /// Licensed for nothing.
    pub stranger: WorkerKey,
}

/// `owner`'s setup of the test model: its registration (unsigned, sequence 1, with the
/// owner's setup statement and the key files' digests), its prover and its keys directory.
pub fn owned_setup(
    mode: WeightMode,
    bias: i64,
    owner: &KeyPair,
) -> (Registration, LocalProver, tempfile::TempDir) {
    let model = model(mode, bias);
    let id = model_id(&model);
    let keys = tempfile::tempdir().unwrap();
    let report = setup_owned(&model, &id, &owner.public_hex(), keys.path(), &|_| {}).unwrap();
    let kd = KeyDir::new(keys.path());
    let key = kd.read_vk(&report.record).unwrap();
    let prover = LocalProver::load(model, &id, keys.path()).unwrap();
    let files = kd.file_digests(&report.record).unwrap();
    let registration = Registration::new(report.record, &key, REWARD, files)
        .with_setup(prove_ownership(&prover, owner).unwrap());
    (registration, prover, keys)
}

pub fn register(
    mode: WeightMode,
    bias: i64,
    owner: &KeyPair,
    registry: &Registry,
    venue: Venue,
) -> Registered {
    let (mut registration, prover, keys) = owned_setup(mode, bias, owner);
    registration.venues = vec![venue];
    registration.sign(owner);
    registry.register(&registration, owner).unwrap();
    Registered {
        prover,
        registration,
        keys,
        venue,
    }
}

pub fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::new(dir.path().join("registry"));
    let ledger = Ledger::open(&dir.path().join("ledger")).unwrap();
    let owner = KeyPair::from_seed(&[1; 32]);
    let venue = ledger.venue();
    ledger.deposit(&client().public_hex(), DEPOSIT).unwrap();
    let fixed = register(WeightMode::Fixed, 300, &owner, &registry, venue);
    let private = register(WeightMode::Private, 500, &owner, &registry, venue);
    let worker = WorkerKey::from_seed(&[2; 32]);
    let stranger = WorkerKey::from_seed(&[3; 32]);
    for m in [&fixed, &private] {
        registry
            .add_licence(&Licence::issue(
                &owner,
                m.model_id(),
                &worker.worker_id(),
                None,
            ))
            .unwrap();
    }
    World {
        dir,
        registry,
        ledger,
        owner,
        fixed,
        private,
        worker,
        stranger,
    }
}

/// An unsigned copy of the key-file digests (for registrations made by hand in tests).
pub fn no_files() -> BTreeMap<String, String> {
    BTreeMap::new()
}

/// A proof re-randomized by a third party: the same statement, other bytes.
pub fn rerandomized(world: &Registered, r: &Receipt) -> Receipt {
    use ark_groth16::Groth16;
    let proof = r.decode_proof().unwrap();
    let mut rng = ark_std::rand::rngs::StdRng::seed_from_u64(9);
    let vk = &world.prover.verifier_key().vk();
    let other = Groth16::<ark_bn254::Bn254>::rerandomize_proof(vk, &proof, &mut rng);
    let mut out = r.clone();
    out.proof = zkw_verifier::receipt::encode_proof(&other);
    assert_ne!(out.proof, r.proof);
    out
}

/// Replaces a model's whole history with entries of these registrations, each signed by the
/// key given with it — what anyone who can write the registry's directory can do, bypassing
/// every rule `Registry::register` enforces.
pub fn write_history(registry: &Registry, model_id: &str, regs: &[(&Registration, &KeyPair)]) {
    let dir = registry.history_dir(model_id).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut before: Option<zkw_settlement::history::Entry> = None;
    for (reg, key) in regs {
        let registry_id = registry
            .id()
            .unwrap()
            .expect("the world registered its models");
        let entry =
            zkw_settlement::history::Entry::new(reg, before.as_ref(), key, &registry_id).unwrap();
        std::fs::write(
            registry
                .entry_path(model_id, entry.predicate.index)
                .unwrap(),
            entry.to_json(),
        )
        .unwrap();
        before = Some(entry);
    }
}

/// A second setup of the model `register(mode, bias, ..)` registered: the same model id and
/// commitment under a new verifying key, as a registration with sequence 1 carrying `owner`'s
/// setup statement (unsigned), and its prover.
pub fn another_key(mode: WeightMode, bias: i64, owner: &KeyPair) -> (Registration, LocalProver) {
    let (registration, prover, _keys) = owned_setup(mode, bias, owner);
    (registration, prover)
}

/// `owner`'s setup statement for `record` (which may be an edited copy of the prover's),
/// carrying the possession receipt the prover makes for `owner`: what an owner holding the
/// proving key can sign for any record it likes.
pub fn setup_for(
    record: &zkw_verifier::ModelRecord,
    prover: &LocalProver,
    owner: &KeyPair,
) -> zkw_verifier::Envelope {
    use zkw_verifier::intoto::Statement;
    use zkw_verifier::ownership::{SETUP_PREDICATE, SetupPredicate, sign_setup};
    let honest = prove_ownership(prover, owner).unwrap();
    let p: SetupPredicate = Statement::open(&honest, &owner.public_hex())
        .unwrap()
        .predicate_as(SETUP_PREDICATE)
        .unwrap();
    sign_setup(record, p.possession, owner).unwrap()
}

/// `reg` of a private-weights model under another model id — `owner`'s id of another content
/// digest `content` — with a valid proof of ownership for that id, signed by `owner`: the
/// model id is not in a private model's statement, so the proving key's holder can make one —
/// what the registry's uniqueness rules are for.
pub fn private_under_id(
    reg: &Registration,
    prover: &LocalProver,
    content: [u8; 32],
    owner: &KeyPair,
) -> Registration {
    use zkw_verifier::ownership::{ownership_job, sign_setup};
    let mut reg = reg.clone();
    let model_id = hex::encode(zkw_verifier::record::owned_model_id(
        &content,
        &owner.public_hex(),
    ));
    let model_id = model_id.as_str();
    reg.record.content_id = Some(hex::encode(content));
    reg.record.owner = Some(owner.public_hex());
    reg.record.model_id = model_id.to_string();
    let job = ownership_job(model_id, &owner.public_hex());
    let zeros = vec![0i64; prover.model().input_info().len()];
    let mut possession = prover
        .prove(&zeros, &InputSalt::UNSALTED, &job)
        .unwrap()
        .receipt;
    possession.model_id = model_id.to_string();
    WorkerKey::from_seed(&owner.seed()).sign(&mut possession);
    reg.setup = Some(sign_setup(&reg.record, possession, owner).unwrap());
    reg.sign(owner);
    reg.check_owned().unwrap();
    reg
}
