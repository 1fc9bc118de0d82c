//! Every parser a verifier exposes to outside bytes — receipts, registry records, verifying
//! keys — on random bytes, on every truncation of a valid file, and on valid files with one
//! field replaced by a hostile value: an error, never a panic. And each validation rule of a
//! record and a receipt, with the message it gives.

use ark_ec::AffineRepr;
use proptest::prelude::*;
use serde_json::{Value, json};
use zkw_verifier::field::fr_to_hex;
use zkw_verifier::file::TooLarge;
use zkw_verifier::key::MAX_VK_BYTES;
use zkw_verifier::receipt::{MAX_ID_BYTES, MAX_RECEIPT_BYTES, RECEIPT_VERSION};
use zkw_verifier::record::{MAX_ELEMENTS, MAX_RECORD_BYTES, RECORD_VERSION};
use zkw_verifier::statement::fixed_model_commitment;
use zkw_verifier::{ModelRecord, Receipt, VerificationError, VerifierKey};

const ID: &str = "1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a";
const VK: &str = "2222222222222222222222222222222222222222222222222222222222222222";

fn fixed_commitment() -> String {
    let id: [u8; 32] = hex::decode(ID).unwrap().try_into().unwrap();
    fr_to_hex(&fixed_model_commitment(&id))
}

fn record() -> Value {
    json!({
        "version": RECORD_VERSION,
        "model_id": ID,
        "name": "m",
        "weight_mode": "fixed",
        "model_commitment": fixed_commitment(),
        "vk_id": VK,
        "input": {"shape": [1, 4], "frac_bits": 5, "bits": 8},
        "output": {"shape": [70], "frac_bits": 3, "bits": 8},
        "constraints": 100
    })
}

fn receipt() -> Value {
    json!({
        "version": RECEIPT_VERSION,
        "job_id": "j",
        "worker_id": "w",
        "client_nonce": "n",
        "model_id": ID,
        "vk_id": VK,
        "input_digest": "0700000000000000000000000000000000000000000000000000000000000000",
        "output": {"shape": [2], "quantized": [1, -2], "frac_bits": 1, "values": [0.5, -1.0]},
        "proof": "00".repeat(128)
    })
}

fn record_err(v: &Value) -> String {
    ModelRecord::from_json(v.to_string().as_bytes())
        .unwrap_err()
        .to_string()
}

fn receipt_err(v: &Value) -> String {
    Receipt::from_json(v.to_string().as_bytes())
        .unwrap_err()
        .to_string()
}

#[test]
fn a_valid_record_and_receipt_parse() {
    let r = ModelRecord::from_json(record().to_string().as_bytes()).unwrap();
    assert_eq!(r.output.len(), 70);
    let r = Receipt::from_json(receipt().to_string().as_bytes()).unwrap();
    assert_eq!(r.output.quantized, [1, -2]);
}

#[test]
fn record_widths_outside_1_to_32_are_refused() {
    // `bits = 0` with more than 64 outputs divided by zero; 64 and beyond overflowed shifts.
    for bits in [0u64, 33, 64, 1 << 40] {
        for side in ["input", "output"] {
            let mut r = record();
            r[side]["bits"] = bits.into();
            let e = record_err(&r);
            assert!(e.starts_with("malformed model record: "), "{e}");
            assert!(
                e.contains(&format!("bit width {bits} is outside 1..=32"))
                    || e.contains("invalid value"),
                "{side} bits {bits}: {e}"
            );
        }
    }
}

#[test]
fn record_shapes_must_be_non_empty_and_bounded() {
    let cases: [(Value, &str); 4] = [
        (json!([]), "output: the shape has no dimension"),
        (json!([3, 0]), "output: dimension 1 of shape [3, 0] is zero"),
        (
            json!([1 << 20, 1 << 20]),
            "output: shape [1048576, 1048576] has more than 16777216 values",
        ),
        (json!([u64::MAX, u64::MAX]), "has more than 16777216 values"),
    ];
    for (shape, want) in cases {
        let mut r = record();
        r["output"]["shape"] = shape;
        let e = record_err(&r);
        assert!(e.contains(want), "{e} lacks {want}");
    }
    assert_eq!(MAX_ELEMENTS, 1 << 24);
}

#[test]
fn record_ids_modes_commitments_and_versions_are_checked() {
    let cases: [(&str, Value, &str); 12] = [
        (
            "model_id",
            json!("abc"),
            "model_id is not 64 lower-case hex digits",
        ),
        (
            "weight_commitment",
            json!("00".repeat(32)),
            "a fixed-weights record carries a weight commitment",
        ),
        (
            "commitment_key",
            json!("ab".repeat(32)),
            "a fixed-weights record carries a weight commitment",
        ),
        (
            "weight_mode",
            json!("committed"),
            "a committed-weights record needs weight_commitment and commitment_key",
        ),
        (
            "model_commitment",
            json!("05".to_string() + &"00".repeat(31)),
            "a fixed-weights record's commitment must be its model id",
        ),
        (
            "weight_mode",
            json!("private"),
            "a private-weights record's commitment is its model id",
        ),
        (
            "vk_id",
            json!(ID.to_uppercase()),
            "vk_id is not 64 lower-case hex digits",
        ),
        (
            "weight_mode",
            json!("public"),
            "weight mode `public` is none of fixed, private and committed",
        ),
        (
            "model_commitment",
            json!("ff".repeat(32)),
            "not a canonical field element",
        ),
        ("model_commitment", json!("zz"), "not hex"),
        ("version", json!(1), "version 1 is not supported"),
        ("version", json!("two"), "no version"),
    ];
    for (field, value, want) in cases {
        let mut r = record();
        r[field] = value;
        let e = record_err(&r);
        assert!(e.contains(want), "{field}: {e} lacks {want}");
    }
    for (frac, ok) in [
        (256, true),
        (-256, true),
        (257, false),
        (i32::MIN as i64, false),
    ] {
        let mut r = record();
        r["input"]["frac_bits"] = json!(frac);
        match ModelRecord::from_json(r.to_string().as_bytes()) {
            Ok(_) => assert!(ok, "{frac}"),
            Err(e) => {
                assert!(!ok, "{frac}: {e}");
                assert!(e.to_string().contains("is beyond ±256"), "{e}");
            }
        }
    }
    let e = record_err(&json!({"version": 1}));
    assert!(e.contains("run `zkw model setup` again"), "{e}");

    // A committed-weights record: its commitment is a canonical point other than the
    // identity, its key a digest, its public input 0 the model id.
    let generator = zkw_verifier::commitment::point_to_hex(&ark_bn254::G1Affine::generator());
    let committed = |d: &str, key: &str| {
        let mut r = record();
        r["weight_mode"] = json!("committed");
        r["weight_commitment"] = json!(d);
        r["commitment_key"] = json!(key);
        r
    };
    ModelRecord::from_json(
        committed(&generator, &"ab".repeat(32))
            .to_string()
            .as_bytes(),
    )
    .unwrap();
    let identity = zkw_verifier::commitment::point_to_hex(&ark_bn254::G1Affine::identity());
    for (d, key, want) in [
        (
            "zz".repeat(32),
            "ab".repeat(32),
            "not 64 lower-case hex digits",
        ),
        (identity, "ab".repeat(32), "the identity commits to nothing"),
        (
            generator.clone(),
            "AB".repeat(32),
            "commitment_key is not 64 lower-case",
        ),
    ] {
        let e = record_err(&committed(&d, &key));
        assert!(e.contains(want), "{e} lacks {want}");
    }
    let mut r = committed(&generator, &"ab".repeat(32));
    r["model_commitment"] = json!("05".to_string() + &"00".repeat(31));
    let e = record_err(&r);
    assert!(
        e.contains("a committed-weights record's commitment must be its model id"),
        "{e}"
    );
}

#[test]
fn receipt_fields_are_checked() {
    let long = "x".repeat(MAX_ID_BYTES + 1);
    let cases: [(&str, Value, &str); 7] = [
        ("job_id", json!(long), "job_id has 1025 bytes, at most 1024"),
        ("worker_id", json!(long), "worker_id has 1025 bytes"),
        ("client_nonce", json!(long), "client_nonce has 1025 bytes"),
        (
            "model_id",
            json!("12"),
            "model_id is not 64 lower-case hex digits",
        ),
        ("vk_id", json!(7), "invalid type"),
        (
            "input_digest",
            json!("ff".repeat(32)),
            "input_digest: not a canonical field element",
        ),
        (
            "proof",
            json!("00"),
            "malformed proof: 2 hex digits, expected 256",
        ),
    ];
    for (field, value, want) in cases {
        let mut r = receipt();
        r[field] = value;
        let e = receipt_err(&r);
        assert!(e.contains(want), "{field}: {e} lacks {want}");
    }
    // Strings a verifier prints are printable ASCII: no newline, carriage return or escape
    // sequence to draw a fake "verified" line or hide a warning.
    for bad in [
        "a\nverified",
        "a\rb",
        "\u{1b}[8m",
        "tab\there",
        "é",
        "\u{202e}",
    ] {
        for field in ["job_id", "worker_id", "client_nonce"] {
            let mut r = receipt();
            r[field] = json!(bad);
            let e = receipt_err(&r);
            assert!(
                e.contains("outside printable ASCII"),
                "{field} {bad:?}: {e}"
            );
        }
    }
    // One spelling per receipt: unknown fields and upper-case hex are refused.
    let mut r = receipt();
    r["extra"] = json!(1);
    assert!(
        receipt_err(&r).contains("unknown field"),
        "{}",
        receipt_err(&r)
    );
    let mut r = receipt();
    r["output"]["extra"] = json!(1);
    assert!(receipt_err(&r).contains("unknown field"));
    let mut r = receipt();
    r["proof"] = json!("AB".repeat(128));
    assert!(receipt_err(&r).contains("malformed proof: not lower-case hex"));
    let mut r = receipt();
    r["input_digest"] = json!("0A00000000000000000000000000000000000000000000000000000000000000");
    assert!(receipt_err(&r).contains("not a canonical field element"));
    let mut r = record();
    r["extra"] = json!(1);
    assert!(record_err(&r).contains("unknown field"));

    let mut r = receipt();
    r["version"] = json!(9);
    assert_eq!(
        Receipt::from_json(r.to_string().as_bytes()).unwrap_err(),
        VerificationError::UnsupportedVersion {
            found: 9,
            supported: RECEIPT_VERSION
        }
    );
    let mut r = receipt();
    r["version"] = json!(u64::MAX);
    assert!(receipt_err(&r).contains(&u64::MAX.to_string()));
    let mut r = receipt();
    r.as_object_mut().unwrap().remove("version");
    assert!(receipt_err(&r).contains("no version"));
}

#[test]
fn receipt_output_shapes_must_match_their_values() {
    let cases: [(Value, &str); 4] = [
        (
            json!({"shape": [3], "quantized": [1, -2], "frac_bits": 1, "values": [0.5, -1.0]}),
            "the output's shape [3] holds 3 values, the receipt has 2 quantized and 2",
        ),
        (
            json!({"shape": [2], "quantized": [1, -2], "frac_bits": 1, "values": [0.5]}),
            "2 quantized and 1 dequantized",
        ),
        (
            json!({"shape": [], "quantized": [], "frac_bits": 1, "values": []}),
            "output: the shape has no dimension",
        ),
        (
            json!({"shape": [u64::MAX, 2], "quantized": [], "frac_bits": 1, "values": []}),
            "has more than 16777216 values",
        ),
    ];
    for (output, want) in cases {
        let mut r = receipt();
        r["output"] = output;
        let e = receipt_err(&r);
        assert!(e.contains(want), "{e} lacks {want}");
    }
}

/// A document one byte over its cap is refused before it is parsed, naming the cap; one at
/// the cap is parsed (and judged on its contents).
#[test]
fn documents_over_their_cap_are_refused_unparsed() {
    // A valid document padded with whitespace to `len` bytes: still valid JSON.
    fn padded(v: &Value, len: usize) -> Vec<u8> {
        let mut bytes = v.to_string().into_bytes();
        bytes.resize(len, b' ');
        bytes
    }
    let too_large = |what: &'static str, size: usize, cap: usize| {
        VerificationError::TooLarge(TooLarge {
            what,
            size: Some(size as u64),
            cap,
        })
    };
    let over = padded(&receipt(), MAX_RECEIPT_BYTES + 1);
    let e = Receipt::from_json(&over).unwrap_err();
    assert_eq!(
        e,
        too_large("receipt", MAX_RECEIPT_BYTES + 1, MAX_RECEIPT_BYTES)
    );
    assert_eq!(
        e.to_string(),
        "too large for a receipt: 67108865 bytes, the cap is 64 MiB (67108864 bytes)"
    );
    Receipt::from_json(&over[..MAX_RECEIPT_BYTES]).unwrap();

    let over = padded(&record(), MAX_RECORD_BYTES + 1);
    assert_eq!(
        ModelRecord::from_json(&over).unwrap_err(),
        too_large("model record", MAX_RECORD_BYTES + 1, MAX_RECORD_BYTES)
    );
    ModelRecord::from_json(&over[..MAX_RECORD_BYTES]).unwrap();

    let e = VerifierKey::from_bytes(&vec![0; MAX_VK_BYTES + 1]).unwrap_err();
    assert_eq!(
        e,
        too_large("verifying key", MAX_VK_BYTES + 1, MAX_VK_BYTES)
    );
}

/// The receipt's byte cap, not `MAX_ELEMENTS`, bounds its output (see `MAX_RECEIPT_BYTES`):
/// 2^20 output values of the widest width (32 bits) with long dequantized spellings,
/// pretty-printed as workers write receipts, with the longest ids, fit under it and parse.
#[test]
fn a_receipt_of_a_million_wide_values_fits_the_cap() {
    let n = 1 << 20;
    let frac_bits = 37;
    let q = -2_147_483_647i64; // i32 wide: the bounds analysis keeps every value inside i32
    let v = q as f64 * (-(frac_bits as f64)).exp2();
    assert!(serde_json::to_string(&v).unwrap().len() >= 20, "{v}");
    let mut r: Receipt = serde_json::from_value(receipt()).unwrap();
    r.output.shape = vec![n];
    r.output.frac_bits = frac_bits;
    r.output.quantized = vec![q; n];
    r.output.values = vec![v; n];
    r.job_id = "j".repeat(MAX_ID_BYTES);
    r.worker_id = "w".repeat(MAX_ID_BYTES);
    r.client_nonce = "n".repeat(MAX_ID_BYTES);
    r.signature = Some("ab".repeat(64));
    let json = r.to_json();
    assert!(json.len() < MAX_RECEIPT_BYTES, "{} bytes", json.len());
    assert_eq!(Receipt::from_json(json.as_bytes()).unwrap(), r);
}

/// The version is read before any other field, without building a tree of the document: an
/// old receipt or record says it is old even when its other fields no longer parse.
#[test]
fn the_version_is_reported_before_any_field_error() {
    let old = json!({"version": 2, "output": "not an output", "extra": [[1, 2], {"a": null}]});
    assert_eq!(
        Receipt::from_json(old.to_string().as_bytes()).unwrap_err(),
        VerificationError::UnsupportedVersion {
            found: 2,
            supported: RECEIPT_VERSION
        }
    );
    assert!(record_err(&old).contains("version 2 is not supported"));
    // A version repeated is refused, not resolved by whichever comes last.
    let text = receipt().to_string().replacen('{', "{\"version\": 4, ", 1);
    let e = Receipt::from_json(text.as_bytes()).unwrap_err().to_string();
    assert!(e.contains("duplicate field `version`"), "{e}");
    // Syntax errors are still named, truncation as such.
    let e = Receipt::from_json(b"{\"version\": 4, \"job_id\": \"j").unwrap_err();
    assert!(e.to_string().contains("truncated"), "{e}");
    let e = Receipt::from_json(b"[4]").unwrap_err();
    assert!(e.to_string().contains("no version"), "{e}");
}

/// JSON values a hostile file might put in any field.
fn hostile_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(null)),
        Just(json!(0)),
        Just(json!(-1)),
        Just(json!(u64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(1e308)),
        Just(json!([])),
        Just(json!({})),
        Just(json!("")),
        Just(json!("ff".repeat(32))),
        any::<i64>().prop_map(Value::from),
        prop::collection::vec(any::<i64>(), 0..4).prop_map(Value::from),
        "[a-f0-9]{0,70}".prop_map(Value::from),
    ]
}

/// Replaces the leaf or subtree at a random path of `v` by `new`.
fn replace_somewhere(v: &mut Value, pick: &mut impl Iterator<Item = usize>, new: Value) {
    let children = match v {
        Value::Object(m) => m.len(),
        Value::Array(a) => a.len(),
        _ => 0,
    };
    let k = pick.next().unwrap_or(0);
    if children == 0 || k % (children + 1) == children {
        *v = new;
        return;
    }
    let i = k % (children + 1);
    match v {
        Value::Object(m) => {
            let key = m.keys().nth(i).cloned().unwrap();
            replace_somewhere(m.get_mut(&key).unwrap(), pick, new)
        }
        Value::Array(a) => replace_somewhere(&mut a[i], pick, new),
        _ => unreachable!(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = Receipt::from_json(&bytes);
        let _ = ModelRecord::from_json(&bytes);
        let _ = VerifierKey::from_bytes(&bytes);
    }

    #[test]
    fn truncations_are_errors(cut in any::<prop::sample::Index>()) {
        for doc in [receipt().to_string(), record().to_string()] {
            let bytes = &doc.as_bytes()[..cut.index(doc.len())];
            prop_assert!(Receipt::from_json(bytes).is_err());
            prop_assert!(ModelRecord::from_json(bytes).is_err());
        }
    }

    #[test]
    fn hostile_fields_never_panic(
        path in prop::collection::vec(any::<usize>(), 1..5),
        new in hostile_value(),
    ) {
        for mut doc in [receipt(), record()] {
            replace_somewhere(&mut doc, &mut path.iter().copied(), new.clone());
            let bytes = doc.to_string();
            if let Ok(r) = Receipt::from_json(bytes.as_bytes()) {
                prop_assert!(r.validate().is_ok());
            }
            if let Ok(r) = ModelRecord::from_json(bytes.as_bytes()) {
                prop_assert!(r.validate().is_ok());
                let _ = r.output.len();
            }
        }
    }
}

/// Dequantized output values survive JSON bit for bit (serde_json's `float_roundtrip`): they
/// are compared bit for bit and signed, so a value one ulp off after a round trip would turn
/// an honest receipt into a rejected one.
#[test]
fn output_values_round_trip_bit_for_bit() {
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    for frac_bits in [0, 4, 10, 16, 24, 31] {
        for _ in 0..2000 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let q = (rng as i64) >> 32;
            let v = q as f64 * (-(frac_bits as f64)).exp2();
            let text = serde_json::to_string(&v).unwrap();
            let back: f64 = serde_json::from_str(&text).unwrap();
            assert_eq!(
                back.to_bits(),
                v.to_bits(),
                "q = {q}, frac_bits = {frac_bits}: {text}"
            );
        }
    }
    let v = -988_346_265f64 * (-10f64).exp2();
    let back: f64 = serde_json::from_str(&serde_json::to_string(&v).unwrap()).unwrap();
    assert_eq!(back.to_bits(), v.to_bits());
}
