//! The short, in-CI version of the fuzz targets in `fuzz/` (AFL++, see `fuzz/README.md`):
//! every parser a verifier exposes to outside bytes, on arbitrary bytes and on valid documents
//! mutated byte by byte (bit flips, overwrites, insertions of JSON tokens, deletions,
//! duplicated chunks, truncations). Each must give an `Ok` or an `Err`, never panic; and what
//! it accepts must hold what it promises.
//!
//! `tests/parsers.rs` already feeds random bytes, truncations and hostile field values to
//! receipts, records and verifying keys. Here the owner-signed documents — registrations and
//! licences — get all of that, plus mutations signed again by the owner (so that the checks
//! behind the signature see hostile contents too), and every parser gets the mutated-seed
//! strategy. Inputs the fuzzer found go at the end, as regression tests.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use ark_bn254::{Bn254, G1Affine, G2Affine};
use ark_ec::{AffineRepr, CurveGroup};
use ark_groth16::{Proof, VerifyingKey};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Value, json};
use zkw_verifier::field::{fr_from_i64, fr_to_hex};
use zkw_verifier::receipt::{RECEIPT_VERSION, encode_proof};
use zkw_verifier::record::{RECORD_VERSION, is_digest_hex};
use zkw_verifier::registration::{BPS, MAX_KEY_FILES};
use zkw_verifier::statement::fixed_model_commitment;
use zkw_verifier::{
    KeyPair, Licence, ModelRecord, Receipt, ReceiptOutput, Registration, Reward, Signer,
    TensorFormat, VerifierKey, Width, WorkerKey, check_signature,
};

/// A registration parsed and checked as far as its owner's signature and key go
/// ([`Registration::check`]); `from_json` also requires ownership, which these registrations
/// (over a made-up key) cannot carry.
fn read_signed(
    bytes: &[u8],
) -> Result<zkw_verifier::RegisteredModel, zkw_verifier::VerificationError> {
    let registration = Registration::parse(bytes)?;
    let key = registration.check()?;
    Ok(zkw_verifier::RegisteredModel { registration, key })
}

const MODEL: [u8; 32] = [0x1a; 32];

fn owner() -> KeyPair {
    KeyPair::from_seed(&[0x0a; 32])
}

fn worker() -> WorkerKey {
    WorkerKey::from_seed(&[0x0b; 32])
}

/// Valid documents of every kind, made once: the seeds the mutations start from.
struct Seeds {
    key: VerifierKey,
    record: ModelRecord,
    registration: Registration,
    licence: Licence,
    receipt: Receipt,
}

static SEEDS: LazyLock<Seeds> = LazyLock::new(|| {
    // A verifying key from small multiples of the generators, 3 public inputs.
    let g1 = |k: u64| (G1Affine::generator() * ark_bn254::Fr::from(k)).into_affine();
    let g2 = |k: u64| (G2Affine::generator() * ark_bn254::Fr::from(k)).into_affine();
    let key = VerifierKey::new(VerifyingKey::<Bn254> {
        alpha_g1: g1(2),
        beta_g2: g2(3),
        gamma_g2: g2(5),
        delta_g2: g2(7),
        gamma_abc_g1: (11..15).map(g1).collect(),
    });
    let format = |shape: Vec<usize>| TensorFormat {
        shape,
        frac_bits: 3,
        bits: Width::new(8).unwrap(),
    };
    let record = ModelRecord {
        version: RECORD_VERSION,
        model_id: hex::encode(MODEL),
        name: "m".into(),
        weight_mode: "fixed".into(),
        model_commitment: fr_to_hex(&fixed_model_commitment(&MODEL)),
        vk_id: key.id().to_string(),
        input: format(vec![1, 4]),
        output: format(vec![2]),
        constraints: 100,
        content_id: None,
        owner: None,
        weight_commitment: None,
        commitment_key: None,
    };
    let key_files = BTreeMap::from([
        ("proving.key".to_string(), "0c".repeat(32)),
        (format!("{}.vk", key.id()), key.id().to_string()),
    ]);
    let reward = Reward {
        fee: 1000,
        worker_share_bps: 7000,
        penalty: 50,
    };
    let mut registration = Registration::new(record.clone(), &key, reward, key_files);
    registration.sign(&owner());
    let licence = Licence::issue(
        &owner(),
        &hex::encode(MODEL),
        &worker().worker_id(),
        Some(1_800_000_000),
    );
    let g = G1Affine::generator();
    let mut receipt = Receipt {
        version: RECEIPT_VERSION,
        job_id: "job-1".into(),
        worker_id: worker().worker_id(),
        client_nonce: "n-123".into(),
        model_id: hex::encode(MODEL),
        vk_id: key.id().to_string(),
        input_digest: fr_to_hex(&fr_from_i64(7)),
        output: ReceiptOutput {
            shape: vec![2],
            quantized: vec![5, -3],
            frac_bits: 3,
            values: vec![0.625, -0.375],
        },
        proof: encode_proof(&Proof::<Bn254> {
            a: g,
            b: G2Affine::generator(),
            c: (g * ark_bn254::Fr::from(3u64)).into_affine(),
        }),
        request: None,
        signature: None,
    };
    worker().sign(&mut receipt);
    Seeds {
        key,
        record,
        registration,
        licence,
        receipt,
    }
});

/// The seed documents as files: pretty (as written) and compact (one line).
fn spellings<T: serde::Serialize>(doc: &T) -> [Vec<u8>; 2] {
    [
        serde_json::to_vec_pretty(doc).unwrap(),
        serde_json::to_vec(doc).unwrap(),
    ]
}

/// One edit of a byte string. Positions are `Index`es, so they fit any length.
#[derive(Debug, Clone)]
enum Edit {
    Flip(Index, u8),
    Set(Index, u8),
    Insert(Index, Vec<u8>),
    Delete(Index, usize),
    Duplicate(Index, Index, usize),
    Truncate(Index),
}

/// What an insertion puts in: a JSON token a parser must weigh, or arbitrary bytes.
fn token() -> impl Strategy<Value = Vec<u8>> {
    let tokens: &[&str] = &[
        "0",
        "-",
        "-0",
        "1e999",
        "-1e999",
        "18446744073709551616",
        "4294967296",
        "65536",
        "10001",
        ".5",
        "\"",
        "\\",
        "\\u0000",
        "\\ud800",
        "\\n",
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "null",
        "true",
        " ",
        "\"version\":1,",
        "\"signature\":null,",
        "\"x\":0,",
        "ff",
        "AB",
    ];
    prop_oneof![
        prop::sample::select(tokens).prop_map(|t| t.as_bytes().to_vec()),
        prop::collection::vec(any::<u8>(), 1..4),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (any::<Index>(), 0u8..8).prop_map(|(i, b)| Edit::Flip(i, b)),
        2 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Edit::Set(i, b)),
        3 => (any::<Index>(), token()).prop_map(|(i, t)| Edit::Insert(i, t)),
        2 => (any::<Index>(), 1usize..8).prop_map(|(i, n)| Edit::Delete(i, n)),
        1 => (any::<Index>(), any::<Index>(), 1usize..32)
            .prop_map(|(from, to, n)| Edit::Duplicate(from, to, n)),
        1 => any::<Index>().prop_map(Edit::Truncate),
    ]
}

/// One to four edits.
fn edits() -> impl Strategy<Value = Vec<Edit>> {
    prop::collection::vec(edit(), 1..5)
}

fn apply(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for e in edits {
        let len = b.len();
        let at = |i: &Index| if len == 0 { 0 } else { i.index(len) };
        match e {
            Edit::Flip(i, bit) if len > 0 => b[at(i)] ^= 1 << bit,
            Edit::Set(i, v) if len > 0 => b[at(i)] = *v,
            Edit::Insert(i, t) => {
                let p = if len == 0 { 0 } else { i.index(len + 1) };
                b.splice(p..p, t.iter().copied());
            }
            Edit::Delete(i, n) if len > 0 => {
                let p = at(i);
                b.drain(p..(p + n).min(len));
            }
            Edit::Duplicate(from, to, n) if len > 0 => {
                let f = at(from);
                let chunk = b[f..(f + n).min(len)].to_vec();
                let t = at(to);
                b.splice(t..t, chunk);
            }
            Edit::Truncate(i) => b.truncate(at(i)),
            _ => {}
        }
    }
    b
}

/// Bytes over JSON's alphabet, so that arbitrary input gets past the tokenizer now and then.
fn json_like_bytes() -> impl Strategy<Value = Vec<u8>> {
    let alphabet = b"{}[]\":, 0123456789-.eE+abcdeftrulnsvrio_\\".to_vec();
    prop::collection::vec(prop::sample::select(alphabet), 0..200)
}

/// A registration that parsed: everything `check` promises holds, and it re-parses from its
/// own JSON.
fn check_accepted_registration(bytes: &[u8]) -> Option<Registration> {
    let m = read_signed(bytes).ok()?;
    let r = &m.registration;
    assert!(r.record.validate().is_ok());
    assert!(r.reward.worker_share_bps <= BPS);
    assert!(r.key_files.len() <= MAX_KEY_FILES);
    assert!(r.key_files.values().all(|d| is_digest_hex(d)));
    assert!(r.signature.is_some());
    assert_eq!(m.key.id(), r.record.vk_id);
    let (w, o) = r.reward.split();
    assert_eq!(w + o, r.reward.fee);
    let again = read_signed(r.to_json().as_bytes())
        .expect("an accepted registration re-parses from its own JSON");
    assert_eq!(&again.registration, r);
    Some(m.registration)
}

/// A licence that parsed: its form holds, it re-parses from its own JSON, and asking whether
/// it permits anything answers without panicking.
fn check_accepted_licence(bytes: &[u8]) -> Option<Licence> {
    let l = Licence::from_json(bytes).ok()?;
    assert!(is_digest_hex(&l.model_id));
    assert!(l.signature.is_some());
    assert_eq!(l.check(), Ok(()));
    assert_eq!(
        Licence::from_json(l.to_json().as_bytes()).expect("an accepted licence re-parses"),
        l
    );
    for now in [0, 1_799_999_999, 1_800_000_000, u64::MAX] {
        let _ = l.permits(&SEEDS.registration, &l.worker_id, now);
    }
    Some(l)
}

/// Signs a licence again as `owner` (the fields as they are, the owner's key).
fn resign_licence(l: &mut Licence, owner: &KeyPair) {
    l.owner = owner.public_hex();
    l.signature = Some(owner.sign_hex(&l.signing_digest()));
}

/// JSON values a hostile document might put in any field.
fn hostile_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(null)),
        Just(json!(0)),
        Just(json!(-1)),
        Just(json!(BPS + 1)),
        Just(json!(u16::MAX)),
        Just(json!(u32::MAX)),
        Just(json!(u64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(1e308)),
        Just(json!([])),
        Just(json!([0])),
        Just(json!([u64::MAX, u64::MAX])),
        Just(json!({})),
        Just(json!({"../x": "ab".repeat(32)})),
        Just(json!({".hidden": "ab".repeat(32)})),
        Just(json!("")),
        Just(json!("ff".repeat(32))),
        Just(json!("00".repeat(32))),
        Just(json!("AB".repeat(32))),
        Just(json!("\u{0}\n\u{1b}[8m")),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        "[a-f0-9]{0,130}".prop_map(Value::from),
    ]
}

/// Every path to a node of `v` (the root included).
fn paths(v: &Value, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(prefix.clone());
    match v {
        Value::Object(m) => m
            .iter()
            .for_each(|(k, c)| paths(c, [prefix.clone(), vec![k.clone()]].concat(), out)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, c)| paths(c, [prefix.clone(), vec![i.to_string()]].concat(), out)),
        _ => {}
    }
}

/// `doc` with the node at a chosen path replaced by `new`.
fn replaced(doc: &Value, pick: Index, new: Value) -> Value {
    let mut all = Vec::new();
    paths(doc, vec![], &mut all);
    let path = &all[pick.index(all.len())];
    let mut out = doc.clone();
    let slot = path.iter().fold(&mut out, |v, k| match v {
        Value::Array(a) => &mut a[k.parse::<usize>().unwrap()],
        other => &mut other[k.as_str()],
    });
    *slot = new;
    out
}

#[test]
fn the_seeds_are_valid() {
    let s = &*SEEDS;
    for bytes in spellings(&s.registration) {
        assert_eq!(
            check_accepted_registration(&bytes).as_ref(),
            Some(&s.registration)
        );
    }
    for bytes in spellings(&s.licence) {
        assert_eq!(check_accepted_licence(&bytes).as_ref(), Some(&s.licence));
    }
    let r = Receipt::from_json(s.receipt.to_json().as_bytes()).unwrap();
    assert!(r.decode_proof().is_ok());
    assert_eq!(
        check_signature(&r).unwrap(),
        Signer::Worker(worker().worker_id())
    );
    assert_eq!(
        ModelRecord::from_json(s.record.to_json().as_bytes()).unwrap(),
        s.record
    );
    assert_eq!(
        VerifierKey::from_bytes(&s.key.to_bytes()).unwrap().id(),
        s.key.id()
    );
}

#[test]
fn every_truncation_of_a_registration_or_licence_is_refused() {
    let s = &*SEEDS;
    for doc in spellings(&s.registration) {
        for cut in 0..doc.len() {
            assert!(read_signed(&doc[..cut]).is_err(), "cut at {cut}");
        }
    }
    for doc in spellings(&s.licence) {
        for cut in 0..doc.len() {
            assert!(Licence::from_json(&doc[..cut]).is_err(), "cut at {cut}");
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn registrations_and_licences_never_panic_on_random_bytes(
        bytes in prop::collection::vec(any::<u8>(), 0..400),
    ) {
        prop_assert!(check_accepted_registration(&bytes).is_none());
        prop_assert!(check_accepted_licence(&bytes).is_none());
    }

    #[test]
    fn every_parser_survives_json_like_bytes(bytes in json_like_bytes()) {
        prop_assert!(check_accepted_registration(&bytes).is_none());
        prop_assert!(check_accepted_licence(&bytes).is_none());
        if let Ok(r) = Receipt::from_json(&bytes) {
            let _ = r.decode_proof();
            let _ = check_signature(&r);
        }
        let _ = ModelRecord::from_json(&bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// A signed registration edited byte by byte: refused, or accepted as exactly the
    /// registration its owner signed (an edit of spelling only). Then the edited contents,
    /// where they still deserialize, signed again by the owner: whatever the checks behind
    /// the signature make of them, no panic, and an accepted one holds what `check` promises.
    #[test]
    fn mutated_registrations(compact in any::<bool>(), edits in edits()) {
        let s = &*SEEDS;
        let seed = &spellings(&s.registration)[compact as usize];
        let bytes = apply(seed, &edits);
        if let Some(r) = check_accepted_registration(&bytes) {
            prop_assert_eq!(&r, &s.registration);
        }
        if let Ok(mut r) = serde_json::from_slice::<Registration>(&bytes) {
            r.sign(&owner());
            let checked = r.check();
            let parsed = check_accepted_registration(r.to_json().as_bytes());
            prop_assert_eq!(checked.is_ok(), parsed.is_some(), "check and from_json disagree");
        }
    }

    /// The same for licences.
    #[test]
    fn mutated_licences(compact in any::<bool>(), edits in edits()) {
        let s = &*SEEDS;
        let seed = &spellings(&s.licence)[compact as usize];
        let bytes = apply(seed, &edits);
        if let Some(l) = check_accepted_licence(&bytes) {
            prop_assert_eq!(&l, &s.licence);
        }
        if let Ok(mut l) = serde_json::from_slice::<Licence>(&bytes) {
            resign_licence(&mut l, &owner());
            let checked = l.check();
            let parsed = check_accepted_licence(l.to_json().as_bytes());
            prop_assert_eq!(checked.is_ok(), parsed.is_some(), "check and from_json disagree");
        }
    }

    /// One field of a registration replaced by a hostile value, signed again by the owner:
    /// the record's, the split's, the key files' and the key's checks all see it.
    #[test]
    fn hostile_registration_fields_signed_again(pick in any::<Index>(), new in hostile_value()) {
        let s = &*SEEDS;
        let doc = replaced(&serde_json::to_value(&s.registration).unwrap(), pick, new);
        let _ = check_accepted_registration(doc.to_string().as_bytes());
        if let Ok(mut r) = serde_json::from_value::<Registration>(doc) {
            r.sign(&owner());
            let _ = check_accepted_registration(r.to_json().as_bytes());
        }
    }

    /// One field of a licence replaced by a hostile value, signed again by the owner.
    #[test]
    fn hostile_licence_fields_signed_again(pick in any::<Index>(), new in hostile_value()) {
        let s = &*SEEDS;
        let doc = replaced(&serde_json::to_value(&s.licence).unwrap(), pick, new);
        prop_assert!(check_accepted_licence(doc.to_string().as_bytes()).is_none_or(|l| l == s.licence));
        if let Ok(mut l) = serde_json::from_value::<Licence>(doc) {
            resign_licence(&mut l, &owner());
            let _ = check_accepted_licence(l.to_json().as_bytes());
        }
    }

    /// A signed receipt edited byte by byte: refused, accepted with a signature that no
    /// longer verifies, or accepted as exactly the receipt its worker signed. Its proof's
    /// points are decoded whenever it parses.
    #[test]
    fn mutated_receipts(compact in any::<bool>(), edits in edits()) {
        let s = &*SEEDS;
        let bytes = apply(&spellings(&s.receipt)[compact as usize], &edits);
        if let Ok(r) = Receipt::from_json(&bytes) {
            prop_assert!(r.validate().is_ok());
            let _ = r.decode_proof();
            if let Ok(Signer::Worker(_)) = check_signature(&r) {
                prop_assert_eq!(&r, &s.receipt);
            }
            prop_assert!(Receipt::from_json(r.to_json().as_bytes()).is_ok());
        }
    }

    /// A record edited byte by byte: refused, or valid and re-parsing to itself.
    #[test]
    fn mutated_records(compact in any::<bool>(), edits in edits()) {
        let bytes = apply(&spellings(&SEEDS.record)[compact as usize], &edits);
        if let Ok(r) = ModelRecord::from_json(&bytes) {
            prop_assert!(r.validate().is_ok());
            prop_assert_eq!(ModelRecord::from_json(r.to_json().as_bytes()).unwrap(), r);
        }
    }

    /// A verifying key's bytes edited: refused, or a key whose bytes are its canonical
    /// encoding (points validated, nothing after the key) and parse back to it.
    #[test]
    fn mutated_verifying_keys(edits in edits()) {
        let bytes = apply(&SEEDS.key.to_bytes(), &edits);
        if let Ok(k) = VerifierKey::from_bytes(&bytes) {
            prop_assert!(k.to_bytes() == bytes, "not the key's encoding");
            let back = VerifierKey::from_bytes(&k.to_bytes()).unwrap();
            prop_assert!(back.vk() == k.vk() && back.id() == k.id());
        }
    }
}

// Regression tests: inputs the fuzzers found, or that fuzzing's checks showed, each as it was
// found.

/// `VerifierKey::from_bytes` promises one spelling per key ("the bytes must be the key's
/// canonical encoding"), but arkworks reads a compressed point whose infinity flag is set as
/// the identity whatever its x-coordinate bytes say, so a key with a point at infinity has
/// many spellings, all with one id (the id is blake3 of the canonical bytes, not of the bytes
/// read). Found while writing the canonical-bytes check of the fuzz target `verifying_key`.
/// Fixed: the parser now refuses any bytes that are not the key's canonical encoding.
#[test]
fn a_point_at_infinity_has_one_spelling() {
    let canonical = SEEDS.key.to_bytes();
    let mut b = canonical.clone();
    // alpha_g1, bytes 0..32, little-endian: the flags are the top two bits of byte 31. Set the
    // infinity flag and leave x's bytes as they were (the canonical identity has x = 0).
    b[31] = (b[31] & 0x3f) | 0x40;
    match VerifierKey::from_bytes(&b) {
        Ok(k) => panic!(
            "accepted bytes that are not the key's encoding (key {})",
            k.id()
        ),
        Err(e) => assert!(e.to_string().contains("canonical encoding"), "{e}"),
    }
    // The identity spelled canonically (x = 0) is still a key's point.
    b[..31].fill(0);
    b[31] = 0x40;
    let k = VerifierKey::from_bytes(&b).expect("the canonical identity parses");
    assert_eq!(k.to_bytes(), b);
}
