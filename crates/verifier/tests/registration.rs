//! Owner-signed registrations and licences: what `check` and `permits` accept and refuse, each
//! with its reason — so that the settlement built on them trusts only what an owner signed.

use std::collections::BTreeMap;

use ark_bn254::{G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_groth16::VerifyingKey;
use zkw_verifier::field::fr_to_hex;
use zkw_verifier::file::TooLarge;
use zkw_verifier::licence::MAX_LICENCE_BYTES;
use zkw_verifier::record::RECORD_VERSION;
use zkw_verifier::registration::{
    BPS, MAX_KEY_FILES, MAX_REGISTRATION_BYTES, REGISTRATION_VERSION,
};
use zkw_verifier::statement::fixed_model_commitment;
use zkw_verifier::{
    KeyPair, Licence, ModelRecord, Registration, Reward, TensorFormat, VerificationError,
    VerifierKey, Width,
};

/// A registration parsed and checked as far as its owner's signature and key go
/// ([`Registration::check`]); `from_json` also requires ownership, which these registrations
/// (over a made-up key) cannot carry.
fn read_signed(bytes: &[u8]) -> Result<zkw_verifier::RegisteredModel, VerificationError> {
    let registration = Registration::parse(bytes)?;
    let key = registration.check()?;
    Ok(zkw_verifier::RegisteredModel { registration, key })
}

const MODEL: [u8; 32] = [0x1a; 32];

fn key(n: usize) -> VerifierKey {
    let (g1, g2) = (G1Affine::generator(), G2Affine::generator());
    VerifierKey::new(VerifyingKey {
        alpha_g1: g1,
        beta_g2: g2,
        gamma_g2: g2,
        delta_g2: g2,
        gamma_abc_g1: vec![g1; n],
    })
}

fn registration(owner: &KeyPair) -> Registration {
    let k = key(5);
    let record = ModelRecord {
        version: RECORD_VERSION,
        model_id: hex::encode(MODEL),
        name: "m".into(),
        weight_mode: "fixed".into(),
        model_commitment: fr_to_hex(&fixed_model_commitment(&MODEL)),
        vk_id: k.id().to_string(),
        input: TensorFormat {
            shape: vec![4],
            frac_bits: 3,
            bits: Width::new(8).unwrap(),
        },
        output: TensorFormat {
            shape: vec![2],
            frac_bits: 3,
            bits: Width::new(8).unwrap(),
        },
        constraints: 10,
        content_id: None,
        owner: None,
        weight_commitment: None,
        commitment_key: None,
    };
    let files = BTreeMap::from([(format!("{}.pk", k.id()), "ab".repeat(32))]);
    let mut r = Registration::new(
        record,
        &k,
        Reward {
            fee: 100,
            worker_share_bps: 2500,
            penalty: 7,
        },
        files,
    );
    r.sign(owner);
    r
}

fn owner() -> KeyPair {
    KeyPair::from_seed(&[4; 32])
}

fn check(r: &Registration) -> Result<VerifierKey, VerificationError> {
    let checked = r.check();
    // The JSON path agrees with the struct path.
    let parsed = read_signed(r.to_json().as_bytes());
    assert_eq!(checked.is_ok(), parsed.is_ok());
    checked
}

#[test]
fn a_signed_registration_checks_and_round_trips() {
    let r = registration(&owner());
    let k = check(&r).unwrap();
    assert_eq!(k.id(), r.record.vk_id);
    let back = read_signed(r.to_json().as_bytes()).unwrap();
    assert_eq!(back.registration, r);
    assert_eq!(back.record().model_id, hex::encode(MODEL));
    // Re-spelled (compact, keys sorted): the same registration, the same signature holds.
    let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    assert!(read_signed(serde_json::to_string(&v).unwrap().as_bytes()).is_ok());
    assert_eq!(r.reward.split(), (25, 75));
}

#[test]
fn the_limits_are_inclusive() {
    let o = owner();
    // The whole fee to the worker, the most key files, every character a file name may use.
    let mut r = registration(&o);
    r.reward.worker_share_bps = BPS;
    r.key_files = (0..MAX_KEY_FILES)
        .map(|i| (format!("Key_file-{i}.pk"), "ab".repeat(32)))
        .collect();
    r.sign(&o);
    check(&r).unwrap();
    assert_eq!(r.reward.split(), (100, 0));
    // A verifying key names itself by its id.
    assert_eq!(
        format!("{:?}", key(5)),
        format!("VerifierKey({})", key(5).id())
    );
}

#[test]
fn every_signed_field_is_under_the_signature() {
    let r = registration(&owner());
    type Edit = (&'static str, Box<dyn Fn(&mut Registration)>);
    let edits: Vec<Edit> = vec![
        ("fee", Box::new(|r| r.reward.fee += 1)),
        ("sequence", Box::new(|r| r.sequence += 1)),
        ("share", Box::new(|r| r.reward.worker_share_bps += 1)),
        ("penalty", Box::new(|r| r.reward.penalty = 0)),
        ("name", Box::new(|r| r.record.name.push('x'))),
        ("constraints", Box::new(|r| r.record.constraints += 1)),
        ("input scale", Box::new(|r| r.record.input.frac_bits += 1)),
        (
            "output shape",
            Box::new(|r| r.record.output.shape = vec![1, 2]),
        ),
        (
            "key file",
            Box::new(|r| {
                r.key_files.insert("x.base".into(), "cd".repeat(32));
            }),
        ),
    ];
    for (what, edit) in edits {
        let mut e = r.clone();
        edit(&mut e);
        match check(&e) {
            Err(VerificationError::BadOwnerSignature {
                what: "model registration",
                reason,
            }) => {
                assert_eq!(
                    reason, "it is not the owner's signature of this registration",
                    "{what}"
                )
            }
            other => panic!("{what}: {other:?}"),
        }
    }
}

#[test]
fn unsigned_foreign_and_inconsistent_registrations_are_refused() {
    let o = owner();
    let mut unsigned = registration(&o);
    unsigned.signature = None;
    assert_eq!(
        check(&unsigned).unwrap_err(),
        VerificationError::Unsigned {
            what: "model registration"
        }
    );
    assert!(
        read_signed(unsigned.to_json().as_bytes())
            .unwrap_err()
            .to_string()
            .contains("not signed by its owner")
    );
    // Signed by someone else than the owner it names.
    let mut foreign = registration(&o);
    let mallory = KeyPair::from_seed(&[5; 32]);
    foreign.signature = Some(mallory.sign_hex(&foreign.signing_digest()));
    assert!(matches!(
        check(&foreign),
        Err(VerificationError::BadOwnerSignature { .. })
    ));
    // The owner is not a key.
    let mut bad_owner = registration(&o);
    bad_owner.owner = "zz".repeat(32);
    match check(&bad_owner) {
        Err(VerificationError::BadOwnerSignature { reason, .. }) => {
            assert!(
                reason.starts_with("the owner is not an ed25519 public key"),
                "{reason}"
            )
        }
        other => panic!("{other:?}"),
    }
    // A key that is not the record's, signed by the owner all the same.
    let mut other_key = registration(&o);
    other_key.vk = hex::encode(key(6).to_bytes());
    other_key.sign(&o);
    assert!(matches!(
        check(&other_key),
        Err(VerificationError::KeyMismatch { .. })
    ));
    // Malformed parts, each signed by the owner.
    type Edit = (&'static str, fn(&mut Registration));
    let malformed: [Edit; 7] = [
        ("more than the whole", |r| {
            r.reward.worker_share_bps = BPS + 1
        }),
        ("not a plain file name", |r| {
            r.key_files.insert("../x".into(), "ab".repeat(32));
        }),
        ("not a plain file name", |r| {
            r.key_files.insert(".hidden".into(), "ab".repeat(32));
        }),
        ("is not 64 lower-case hex digits", |r| {
            r.key_files.insert("a.vk".into(), "AB".repeat(32));
        }),
        ("key files listed", |r| {
            for i in 0..=MAX_KEY_FILES {
                r.key_files.insert(format!("f{i}"), "ab".repeat(32));
            }
        }),
        ("not lower-case hex", |r| r.vk = r.vk.to_uppercase()),
        ("version", |r| r.version = REGISTRATION_VERSION + 1),
    ];
    for (reason, edit) in malformed {
        let mut e = registration(&o);
        edit(&mut e);
        e.sign(&o);
        let err = check(&e).unwrap_err().to_string();
        assert!(err.contains(reason), "{reason}: {err}");
    }
    let mut bad_record = registration(&o);
    bad_record.record.weight_mode = "private".into();
    bad_record.sign(&o);
    assert!(
        check(&bad_record)
            .unwrap_err()
            .to_string()
            .contains("private-weights record")
    );
    // Not a registration.
    for (bytes, reason) in [
        (&b"{}"[..], "no version"),
        (&b"[1"[..], "EOF"),
        (&br#"{"version": 9}"#[..], "version 9 is not supported"),
    ] {
        let e = read_signed(bytes).unwrap_err().to_string();
        assert!(e.contains(reason), "{reason}: {e}");
    }
    let mut extra: serde_json::Value = serde_json::from_str(&registration(&o).to_json()).unwrap();
    extra["admin"] = true.into();
    let e = read_signed(extra.to_string().as_bytes())
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field `admin`"), "{e}");
}

#[test]
fn licences_permit_one_worker_one_model_until_expiry() {
    let o = owner();
    let reg = registration(&o);
    let worker = KeyPair::from_seed(&[6; 32]).public_hex();
    let model = hex::encode(MODEL);
    let l = Licence::issue(&o, &model, &worker, Some(1000));
    assert_eq!(Licence::from_json(l.to_json().as_bytes()).unwrap(), l);
    assert_eq!(l.permits(&reg, &worker, 999), Ok(()));
    let reason = |e: VerificationError| match e {
        VerificationError::Unlicensed { reason, .. } => reason,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        reason(l.permits(&reg, &worker, 1000).unwrap_err()),
        "the licence expired at 1000 (Unix time)"
    );
    assert_eq!(
        Licence::issue(&o, &model, &worker, None).permits(&reg, &worker, u64::MAX),
        Ok(())
    );
    let other_worker = KeyPair::from_seed(&[7; 32]).public_hex();
    assert!(reason(l.permits(&reg, &other_worker, 0).unwrap_err()).contains("is for worker"));
    let other_model = Licence::issue(&o, &"cd".repeat(32), &worker, None);
    assert!(reason(other_model.permits(&reg, &worker, 0).unwrap_err()).contains("is for model"));
    let mallory = KeyPair::from_seed(&[8; 32]);
    let foreign = Licence::issue(&mallory, &model, &worker, None);
    assert!(
        reason(foreign.permits(&reg, &worker, 0).unwrap_err()).contains("not by the model's owner")
    );
    // Edited after signing: refused, on parse and on use.
    let mut edited = l.clone();
    edited.expires_at = None;
    assert!(
        Licence::from_json(edited.to_json().as_bytes())
            .unwrap_err()
            .to_string()
            .contains("not the owner's signature of this licence")
    );
    assert!(
        reason(edited.permits(&reg, &worker, 0).unwrap_err()).contains("not the owner's signature")
    );
    let mut unsigned = l.clone();
    unsigned.signature = None;
    assert_eq!(
        unsigned.check(),
        Err(VerificationError::Unsigned { what: "licence" })
    );
    // Malformed ids.
    let bad_worker = Licence::issue(&o, &model, "w", None);
    assert!(
        bad_worker
            .check()
            .unwrap_err()
            .to_string()
            .contains("the worker id is not an ed25519")
    );
    let bad_model = Licence::issue(&o, "m", &worker, None);
    assert!(
        bad_model
            .check()
            .unwrap_err()
            .to_string()
            .contains("model_id is not 64")
    );
    // A registration's signature is not a licence's, and the other way round.
    let mut as_licence = l.clone();
    as_licence.signature = reg.signature.clone();
    assert!(as_licence.check().is_err());
    for (bytes, reason) in [
        (&b"{}"[..], "no version"),
        (&br#"{"version": 2}"#[..], "version 2 is not supported"),
    ] {
        let e = Licence::from_json(bytes).unwrap_err().to_string();
        assert!(e.contains(reason), "{reason}: {e}");
    }
}

/// A registration or licence one byte over its cap is refused before it is parsed, naming
/// the cap; a valid one padded to the cap still checks.
#[test]
fn registrations_and_licences_over_their_cap_are_refused_unparsed() {
    fn padded(json: String, len: usize) -> Vec<u8> {
        let mut bytes = json.into_bytes();
        assert!(bytes.len() < len);
        bytes.resize(len, b'\n');
        bytes
    }
    let o = owner();
    let over = padded(registration(&o).to_json(), MAX_REGISTRATION_BYTES + 1);
    let e = read_signed(&over).unwrap_err();
    assert_eq!(
        e,
        VerificationError::TooLarge(TooLarge {
            what: "model registration",
            size: Some(MAX_REGISTRATION_BYTES as u64 + 1),
            cap: MAX_REGISTRATION_BYTES,
        })
    );
    assert_eq!(
        e.to_string(),
        "too large for a model registration: 16777217 bytes, the cap is 16 MiB (16777216 bytes)"
    );
    read_signed(&over[..MAX_REGISTRATION_BYTES]).unwrap();

    let worker = KeyPair::from_seed(&[6; 32]).public_hex();
    let l = Licence::issue(&o, &hex::encode(MODEL), &worker, None);
    let over = padded(l.to_json(), MAX_LICENCE_BYTES + 1);
    let e = Licence::from_json(&over).unwrap_err().to_string();
    assert!(e.contains("too large for a licence"), "{e}");
    assert!(e.contains(&format!("({MAX_LICENCE_BYTES} bytes)")), "{e}");
    Licence::from_json(&over[..MAX_LICENCE_BYTES]).unwrap();
}

/// A registration a registry would write is capped as one it reads: a check of a registration
/// larger than [`MAX_REGISTRATION_BYTES`] serialized refuses it (so nothing writes what no
/// reader reads back); one of exactly the cap passes.
#[test]
fn a_registration_is_checked_against_its_cap_as_serialized() {
    let o = owner();
    let mut r = registration(&o);
    let base = serde_json::to_vec(&r).unwrap().len();
    r.record.name = "n".repeat(MAX_REGISTRATION_BYTES - base + r.record.name.len());
    r.sign(&o);
    assert_eq!(
        serde_json::to_vec(&r).unwrap().len(),
        MAX_REGISTRATION_BYTES
    );
    r.check_signature().unwrap();
    r.record.name.push('n');
    r.sign(&o);
    assert_eq!(
        r.check_signature(),
        Err(VerificationError::TooLarge(TooLarge {
            what: "model registration",
            size: Some(MAX_REGISTRATION_BYTES as u64 + 1),
            cap: MAX_REGISTRATION_BYTES,
        }))
    );
}

/// What a settler trusts is an owned registration: `from_json` refuses one whose record names
/// no owner, or that carries no setup statement, though its owner's signature holds.
#[test]
fn from_json_refuses_a_registration_without_ownership() {
    let r = registration(&owner());
    assert!(read_signed(r.to_json().as_bytes()).is_ok());
    match Registration::from_json(r.to_json().as_bytes()) {
        Err(VerificationError::BadOwnerSignature { reason, .. }) => {
            assert!(reason.contains("names no owner"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}
