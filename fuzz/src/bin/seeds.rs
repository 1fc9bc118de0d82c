//! Writes the seed corpora, `corpus/<target>/`: small valid documents of every kind, built with
//! the libraries' own APIs so that signatures, ids, commitments and canonical bytes are right
//! (the fuzzer cannot forge a signature; it needs a signed seed to mutate). Not a fuzz target.
//!
//! `cargo run --release --bin seeds [-- DIR]` (default `corpus`). Deterministic: fixed seeds
//! for every key, so the files are the same on every run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ark_bn254::{Bn254, G1Affine, G2Affine};
use ark_ec::{AffineRepr, CurveGroup};
use ark_groth16::{Proof, VerifyingKey};
use zkw_model::file::{model_id, to_canonical_bytes};
use zkw_model::seeds::seed_models;
use zkw_model::{Model, WeightMode};
use zkw_verifier::field::{fr_from_i64, fr_to_hex};
use zkw_verifier::receipt::{RECEIPT_VERSION, encode_proof};
use zkw_verifier::record::RECORD_VERSION;
use zkw_verifier::statement::fixed_model_commitment;
use zkw_verifier::{
    KeyPair, Licence, ModelRecord, Receipt, ReceiptOutput, Registration, Reward, TensorFormat,
    VerifierKey, Width, WorkerKey,
};

fn write(dir: &Path, target: &str, name: &str, bytes: &[u8]) {
    let d = dir.join(target);
    std::fs::create_dir_all(&d).expect("create the corpus directory");
    std::fs::write(d.join(name), bytes).expect("write a seed");
}

/// A verifying key from small multiples of the generators, with `inputs + 1` points in
/// `gamma_abc_g1` (a real key has one per public input, plus one).
fn key(inputs: usize) -> VerifierKey {
    let g1 = |k: u64| (G1Affine::generator() * ark_bn254::Fr::from(k)).into_affine();
    let g2 = |k: u64| (G2Affine::generator() * ark_bn254::Fr::from(k)).into_affine();
    VerifierKey::new(VerifyingKey::<Bn254> {
        alpha_g1: g1(2),
        beta_g2: g2(3),
        gamma_g2: g2(5),
        delta_g2: g2(7),
        gamma_abc_g1: (0..=inputs as u64).map(|k| g1(11 + k)).collect(),
    })
}

fn format(shape: Vec<usize>, frac_bits: i32, bits: u32) -> TensorFormat {
    TensorFormat {
        shape,
        frac_bits,
        bits: Width::new(bits).expect("a valid width"),
    }
}

fn record(m: &Model, key: &VerifierKey) -> ModelRecord {
    let id = model_id(m).0;
    let private = m.weight_mode == WeightMode::Private;
    let input = m.input_info();
    let output = m.output_info().expect("a valid model");
    ModelRecord {
        version: RECORD_VERSION,
        model_id: hex::encode(id),
        name: m.name.clone(),
        weight_mode: m.weight_mode.as_str().into(),
        model_commitment: if private {
            fr_to_hex(&fr_from_i64(0x5eed_c0de))
        } else {
            fr_to_hex(&fixed_model_commitment(&id))
        },
        vk_id: key.id().to_string(),
        input: format(input.shape, input.frac_bits, input.bits.clamp(1, 32)),
        output: format(output.shape, output.frac_bits, output.bits.clamp(1, 32)),
        constraints: 1234,
        content_id: None,
        owner: None,
        weight_commitment: None,
        commitment_key: None,
    }
}

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "corpus".into()));
    let owner = KeyPair::from_seed(&[0x0a; 32]);
    let worker = WorkerKey::from_seed(&[0x0b; 32]);

    // Model files.
    let models = seed_models();
    for (name, m) in &models {
        write(
            &dir,
            "model_file",
            &format!("{name}.zkm"),
            &to_canonical_bytes(m),
        );
    }

    // Verifying keys: a receipt's key has 1 + public inputs points in gamma_abc_g1.
    for inputs in [1, 3, 6] {
        write(
            &dir,
            "verifying_key",
            &format!("vk_{inputs}_inputs.vk"),
            &key(inputs).to_bytes(),
        );
    }

    // Records and registrations, of a fixed-weights and a private-weights model.
    let fixed = &models
        .iter()
        .find(|(n, _)| n == "op_dense")
        .expect("a dense seed")
        .1;
    let private = &models
        .iter()
        .find(|(n, _)| n == "mlp_private")
        .expect("an mlp seed")
        .1;
    let vk = key(3);
    for (name, m) in [("fixed", fixed), ("private", private)] {
        let r = record(m, &vk);
        write(
            &dir,
            "registration",
            &format!("record_{name}.json"),
            r.to_json().as_bytes(),
        );
        let key_files = BTreeMap::from([
            ("proving.key".to_string(), "0c".repeat(32)),
            // The key file's digest is its blake3, which is the key's id.
            (format!("{}.vk", vk.id()), vk.id().to_string()),
        ]);
        let reward = Reward {
            fee: 1000,
            worker_share_bps: 7000,
            penalty: 50,
        };
        let mut reg = Registration::new(r.clone(), &vk, reward, key_files);
        reg.sign(&owner);
        let json = reg.to_json();
        Registration::from_json(json.as_bytes()).expect("the seed registration is valid");
        write(
            &dir,
            "registration",
            &format!("registration_{name}.json"),
            json.as_bytes(),
        );
        // Compact form too: the fuzzer's edits on one line.
        let compact = serde_json::to_vec(&reg).expect("serializes");
        write(
            &dir,
            "registration",
            &format!("registration_{name}_compact.json"),
            &compact,
        );
        if name == "fixed" {
            // Unsigned: refused, but every check before the signature passes.
            let unsigned = Registration::new(r, &vk, reward, BTreeMap::new());
            write(
                &dir,
                "registration",
                "registration_unsigned.json",
                unsigned.to_json().as_bytes(),
            );
        }
    }

    // Licences: with and without an expiry.
    let model = hex::encode(model_id(fixed).0);
    for (name, expires) in [("no_expiry", None), ("expires", Some(1_800_000_000u64))] {
        let l = Licence::issue(&owner, &model, &worker.worker_id(), expires);
        Licence::from_json(l.to_json().as_bytes()).expect("the seed licence is valid");
        write(
            &dir,
            "licence",
            &format!("licence_{name}.json"),
            l.to_json().as_bytes(),
        );
    }

    // Receipts: signed by the worker and unsigned, with a proof of valid points.
    let g1 = G1Affine::generator();
    let g2 = G2Affine::generator();
    let proof = Proof::<Bn254> {
        a: g1,
        b: g2,
        c: (g1 * ark_bn254::Fr::from(3u64)).into_affine(),
    };
    let mut r = Receipt {
        version: RECEIPT_VERSION,
        job_id: "job-1".into(),
        worker_id: worker.worker_id(),
        client_nonce: "n-123".into(),
        model_id: model.clone(),
        vk_id: vk.id().to_string(),
        input_digest: fr_to_hex(&fr_from_i64(7)),
        output: ReceiptOutput {
            shape: vec![2],
            quantized: vec![5, -3],
            frac_bits: 3,
            values: vec![0.625, -0.375],
        },
        proof: encode_proof(&proof),
        request: None,
        signature: None,
    };
    write(
        &dir,
        "receipt",
        "receipt_unsigned.json",
        r.to_json().as_bytes(),
    );
    worker.sign(&mut r);
    assert!(
        zkw_verifier::check_signature(&Receipt::from_json(r.to_json().as_bytes()).unwrap()).is_ok()
    );
    write(
        &dir,
        "receipt",
        "receipt_signed.json",
        r.to_json().as_bytes(),
    );
    let compact = serde_json::to_vec(&r).expect("serializes");
    write(&dir, "receipt", "receipt_signed_compact.json", &compact);

    // Input documents.
    let salt = "5a".repeat(31);
    let inputs = [
        (
            "plain.json",
            r#"{"input_data": [[0.5, -1.0, 2.0]]}"#.to_string(),
        ),
        (
            "salted.json",
            format!(r#"{{"input_data": [[0.0625, 1, -3.5e2]], "salt": "{salt}"}}"#),
        ),
        (
            "two_inputs.json",
            r#"{"input_data": [[1.0], [2.0, 3.0]]}"#.into(),
        ),
        ("bools.json", r#"{"input_data": [[true, false, 0]]}"#.into()),
        (
            "infinity.json",
            r#"{"input_data": [[1.0, "Infinity"]]}"#.into(),
        ),
        ("empty.json", r#"{"input_data": []}"#.into()),
    ];
    for (name, text) in inputs {
        write(&dir, "input", name, text.as_bytes());
    }
    let digits = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/digits/input.json");
    if let Ok(bytes) = std::fs::read(&digits) {
        write(&dir, "input", "digits.json", &bytes);
    }

    println!("seeds written under {}", dir.display());
}
