//! The fuzz targets' bodies: one function per parser, each taking the fuzzer's bytes.
//!
//! Every function must return whatever the bytes are; a panic (or an abort, or a hang) is a
//! bug. Beyond "no panic", each checks what an accepted document promises, so the fuzzer also
//! finds inputs that are accepted but wrong:
//!
//! - a receipt, registration or licence that parses re-parses from its own JSON;
//! - a registration or licence the bytes hold, signed again by a fixed owner, gets the same
//!   verdict from `check` and from `from_json` (so the checks behind the signature are fuzzed
//!   too: the fuzzer cannot forge a signature);
//! - a verifying key that parses was read from its canonical bytes;
//! - a model that passes validation runs, and every value of its run lies inside the interval
//!   the bounds analysis gave its tensor;
//! - an input document that `parse_client_input` accepts, `parse_input_json` accepts with the
//!   same values.
//!
//! The binaries in `src/bin/` wrap these in `afl::fuzz!`; `replay` runs one file through one
//! of them without AFL. The CI's short version of the same checks is
//! `crates/{verifier,model}/tests/fuzz_bytes.rs` (proptest over bytes).

use std::path::Path;
use std::sync::LazyLock;

use zkw_model::bounds::{self, Bounds};
use zkw_model::file::{from_bytes, model_id, to_canonical_bytes};
use zkw_model::input::{parse_client_input, parse_input_json, quantize_input, saturated_count};
use zkw_model::ir::signed_range;
use zkw_model::{Model, TensorInfo};
use zkw_verifier::{
    KeyPair, Licence, ModelRecord, Receipt, RegisteredModel, Registration, VerifierKey,
    check_signature,
};

/// A target's body.
pub type Target = fn(&[u8]);

/// The targets, by name: what `replay` and the README list.
pub const TARGETS: [(&str, Target); 6] = [
    ("receipt", receipt),
    ("registration", registration),
    ("licence", licence),
    ("verifying_key", verifying_key),
    ("model_file", model_file),
    ("input", input),
];

/// `Receipt::from_json`; for a receipt that parses, its proof's points and its signature.
pub fn receipt(data: &[u8]) {
    let Ok(r) = Receipt::from_json(data) else {
        return;
    };
    let _ = r.decode_proof();
    let _ = check_signature(&r);
    if let Err(e) = Receipt::from_json(r.to_json().as_bytes()) {
        panic!("a receipt that parsed does not re-parse from its own JSON: {e}");
    }
}

/// `ModelRecord::from_json` and `Registration::from_json` (the record inside a registration,
/// the verifying key, the owner's signature), on the same bytes and on the record inside them.
pub fn registration(data: &[u8]) {
    if let Ok(r) = ModelRecord::from_json(data) {
        let _ = r.output.len();
        if let Err(e) = ModelRecord::from_json(r.to_json().as_bytes()) {
            panic!("a record that parsed does not re-parse from its own JSON: {e}");
        }
    }
    // A registration's record reaches ModelRecord's checks through serde, not from_json: give
    // the record found inside the bytes to from_json too.
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(data)
        && let Some(record) = v.get("record")
    {
        let _ = ModelRecord::from_json(record.to_string().as_bytes());
    }
    if let Ok(m) = Registration::from_json(data) {
        check_registration(&m);
    }
    // The checks behind the owner's signature (the verifying key, its id against the
    // record's): the fuzzer cannot forge a signature, so the registration the bytes hold, if
    // they deserialize to one, is signed again by a fixed owner and checked both ways.
    if let Ok(mut r) = serde_json::from_slice::<Registration>(data) {
        r.sign(&OWNER);
        // from_json is parse + check_owned (ownership required): compare like with like.
        let checked = r.check_owned();
        let parsed = Registration::from_json(r.to_json().as_bytes());
        assert_eq!(
            checked.is_ok(),
            parsed.is_ok(),
            "check and from_json disagree: {checked:?}, {parsed:?}"
        );
        if let Ok(m) = parsed {
            check_registration(&m);
        }
    }
}

/// A registration that parsed: its key is its record's, its split adds up, and it re-parses
/// from its own JSON.
fn check_registration(m: &RegisteredModel) {
    let (worker, owner) = m.registration.reward.split();
    assert_eq!(
        worker + owner,
        m.registration.reward.fee,
        "the split does not add up"
    );
    assert_eq!(
        m.key.id(),
        m.record().vk_id,
        "a registration's key is not its record's"
    );
    if let Err(e) = Registration::from_json(m.registration.to_json().as_bytes()) {
        panic!("a registration that parsed does not re-parse from its own JSON: {e}");
    }
}

/// The owner that signs the fuzzer's registrations and licences again.
static OWNER: LazyLock<KeyPair> = LazyLock::new(|| KeyPair::from_seed(&[0x0a; 32]));

/// `Licence::from_json` (form and the owner's signature); and the licence the bytes hold, if
/// they deserialize to one, signed again by a fixed owner and checked both ways.
pub fn licence(data: &[u8]) {
    if let Ok(l) = Licence::from_json(data) {
        check_licence(&l);
    }
    if let Ok(mut l) = serde_json::from_slice::<Licence>(data) {
        l.owner = OWNER.public_hex();
        l.signature = Some(OWNER.sign_hex(&l.signing_digest()));
        let checked = l.check();
        let parsed = Licence::from_json(l.to_json().as_bytes());
        assert_eq!(
            checked.is_ok(),
            parsed.is_ok(),
            "check and from_json disagree: {checked:?}, {parsed:?}"
        );
        if let Ok(l) = parsed {
            check_licence(&l);
        }
    }
}

/// A licence that parsed re-parses from its own JSON, to itself.
fn check_licence(l: &Licence) {
    match Licence::from_json(l.to_json().as_bytes()) {
        Ok(back) => assert_eq!(&back, l, "a licence re-parses as another"),
        Err(e) => panic!("a licence that parsed does not re-parse from its own JSON: {e}"),
    }
}

/// `VerifierKey::from_bytes` (compressed points, each validated; nothing after the key;
/// only the canonical encoding; prepared for pairings). A key that parses was read from its
/// canonical encoding, and re-parses from it to the same key and id. (It once accepted a point
/// at infinity with its x bytes left set: `a_point_at_infinity_has_one_spelling` in
/// crates/verifier/tests/fuzz_bytes.rs.)
pub fn verifying_key(data: &[u8]) {
    let Ok(k) = VerifierKey::from_bytes(data) else {
        return;
    };
    let canonical = k.to_bytes();
    assert!(
        canonical == data,
        "a key was read from bytes that are not its encoding"
    );
    let back = VerifierKey::from_bytes(&canonical)
        .unwrap_or_else(|e| panic!("a key that parsed does not re-parse from its bytes: {e}"));
    assert!(
        back.vk() == k.vk() && back.id() == k.id(),
        "a key's bytes name another key"
    );
}

/// The most multiply-accumulates and trace values a model may cost for the target to run it
/// (the parser accepts far bigger models, whose runs would time out as hangs).
const RUN_BUDGET: usize = 1 << 16;

/// `file::from_bytes` (envelope, version, canonical form, structure, bounds), and the
/// validation behind it on the model the bytes hold even when they are not canonical
/// (`tensor_infos`, `bounds::analyze`, `from_bytes` of its canonical bytes), so the fuzzer's
/// edits reach the structural checks. A model that passes runs within its bounds.
pub fn model_file(data: &[u8]) {
    let path = Path::new("fuzz.zkm");
    if let Ok((m, id)) = from_bytes(data, path) {
        assert_eq!(id, model_id(&m), "a loaded model's id is not its file's");
        check_model(&m, data);
    }
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let Some(doc) = v.get("model") else {
        return;
    };
    let Ok(m) = serde_json::from_value::<Model>(doc.clone()) else {
        return;
    };
    let canonical = to_canonical_bytes(&m);
    match from_bytes(&canonical, path) {
        Ok((back, _)) => {
            assert_eq!(back, m, "a canonical file loads another model");
            check_model(&m, data);
        }
        Err(_) => {
            // Refused as a file: refused by the checks it names too, never run.
            let _ = m.tensor_infos();
            let _ = bounds::analyze(&m);
            let _ = m.output_info();
            let _ = m.input_info();
        }
    }
}

/// A model the parser accepted: its checks agree, and when cheap enough it runs on extreme
/// and fuzzer-chosen inputs with every value inside its static interval.
fn check_model(m: &Model, data: &[u8]) {
    let infos = m
        .tensor_infos()
        .unwrap_or_else(|e| panic!("an accepted model fails tensor_infos: {e}"));
    let b = bounds::analyze(m).unwrap_or_else(|e| panic!("an accepted model fails bounds: {e}"));
    let _ = m
        .output_info()
        .expect("an accepted model has an output format");
    let _ = m.parameter_count();
    let trace_len: usize = infos.iter().map(TensorInfo::len).sum();
    let macs = m.nodes.iter().fold(0usize, |n, node| {
        n.saturating_add(node.op.semantics().macs())
    });
    if trace_len > RUN_BUDGET || macs > RUN_BUDGET {
        return;
    }
    let info = m.input_info();
    let (lo, hi) = signed_range(info.bits);
    let n = info.len();
    let from_data: Vec<i64> = (0..n)
        .map(|k| {
            let byte = data.get(k % data.len().max(1)).copied().unwrap_or(0) as i64;
            lo + (byte * 0x9e37 + k as i64) % (hi - lo + 1)
        })
        .collect();
    let alternating: Vec<i64> = (0..n).map(|k| if k % 2 == 0 { lo } else { hi }).collect();
    for x in [vec![0; n], vec![lo; n], vec![hi; n], alternating, from_data] {
        let trace = zkw_model::run(m, &x)
            .unwrap_or_else(|e| panic!("an accepted model fails to run on {x:?}: {e}"));
        within_bounds(&b, &trace.tensors);
    }
}

fn within_bounds(b: &Bounds, tensors: &[Vec<i64>]) {
    assert_eq!(
        b.tensors.len(),
        tensors.len(),
        "bounds and trace disagree on tensors"
    );
    for (t, (values, iv)) in tensors.iter().zip(&b.tensors).enumerate() {
        if let Some(v) = values.iter().find(|&&v| v < iv.lo || v > iv.hi) {
            panic!(
                "tensor {t} holds {v}, outside its static bounds [{}, {}]",
                iv.lo, iv.hi
            );
        }
    }
}

/// `parse_input_json` and `parse_client_input` on the bytes as UTF-8, and quantization of
/// what they accept.
pub fn input(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("input.json");
    let all = parse_input_json(text, path);
    let Ok(client) = parse_client_input(text, path) else {
        return;
    };
    let all = all.unwrap_or_else(|e| panic!("a client input parses, its values do not: {e}"));
    assert_eq!(
        client.values,
        all.concat(),
        "the two parsers read different values"
    );
    let len = client.values.len();
    if len == 0 {
        return;
    }
    for (frac_bits, bits) in [(0, 8), (7, 8), (-256, 2), (256, 24)] {
        let info = TensorInfo {
            shape: vec![len],
            frac_bits,
            bits,
        };
        let q = quantize_input(&info, &client.values).expect("finite values of the right length");
        let (lo, hi) = signed_range(bits);
        assert!(
            q.iter().all(|v| (lo..=hi).contains(v)),
            "quantized outside the width"
        );
        assert!(saturated_count(&info, &client.values) <= len);
    }
}
