//! A registry with two registered models (fixed and private weights), an owner, licensed and
//! unlicensed workers, and signed receipts of real proofs.

#![allow(dead_code)]

use std::collections::BTreeMap;

use ark_std::rand::SeedableRng;
use zkw_model::{Dense, Model, Op, Requantize, TensorInfo, WeightMode, model_id};
use zkw_prover::{KeyDir, LocalProver, setup};
use zkw_settlement::{Ledger, Registry};
use zkw_verifier::{InputSalt, Job, KeyPair, Licence, Receipt, Registration, Reward, WorkerKey};

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
        (mode == WeightMode::Private).then(|| "ab".repeat(31)),
    )
}

pub struct Registered {
    pub prover: LocalProver,
    pub registration: Registration,
    pub keys: tempfile::TempDir,
}

impl Registered {
    pub fn model_id(&self) -> &str {
        &self.registration.record.model_id
    }

    /// A receipt for `job_id` by `worker`, signed by it.
    pub fn receipt(&self, worker: &WorkerKey, job_id: &str, x: [i64; 3]) -> Receipt {
        let job = Job {
            job_id: job_id.into(),
            worker_id: worker.worker_id(),
            client_nonce: format!("nonce-{job_id}"),
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

pub fn register(mode: WeightMode, bias: i64, owner: &KeyPair, registry: &Registry) -> Registered {
    let model = model(mode, bias);
    let id = model_id(&model);
    let keys = tempfile::tempdir().unwrap();
    let report = setup(&model, &id, keys.path(), &|_| {}).unwrap();
    let kd = KeyDir::new(keys.path());
    let key = kd.read_vk(&report.record).unwrap();
    let mut registration = Registration::new(
        report.record,
        &key,
        REWARD,
        kd.file_digests(&kd.read_record().unwrap()).unwrap(),
    );
    registration.sign(owner);
    registry.register(&registration).unwrap();
    let prover = LocalProver::load(model, &id, keys.path()).unwrap();
    Registered {
        prover,
        registration,
        keys,
    }
}

pub fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::new(dir.path().join("registry"));
    let ledger = Ledger::open(&dir.path().join("ledger")).unwrap();
    let owner = KeyPair::from_seed(&[1; 32]);
    let fixed = register(WeightMode::Fixed, 300, &owner, &registry);
    let private = register(WeightMode::Private, 500, &owner, &registry);
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
