//! An outside attack review's probes of the signed-statement formats (2026-12): small-order
//! keys, non-canonical signatures, payload-type and base64 spellings. None got through; each
//! stays as the regression test of the check that stopped it.

use zkw_verifier::dsse::Envelope;
use zkw_verifier::intoto::{PAYLOAD_TYPE, STATEMENT_TYPE, Statement};
use zkw_verifier::{KeyPair, VerificationError};

fn owner() -> KeyPair {
    KeyPair::from_seed(&[0x11; 32])
}

fn statement_bytes() -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "_type": STATEMENT_TYPE,
        "subject": [{"name": "model", "digest": {"blake3": "ab".repeat(32)}}],
        "predicateType": "https://zkworker.dev/model-setup/v1",
        "predicate": {},
    }))
    .unwrap()
}

/// The identity point as a "public key" with the all-identity signature (R = identity,
/// S = 0) verifies for EVERY message under a non-strict ed25519 check. Both the digest
/// signatures (registrations, licences, receipts) and DSSE envelopes use `verify_strict`,
/// which refuses small-order keys: blocked.
#[test]
fn refused_small_order_owner_key_universal_forgery() {
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let key_hex = hex::encode(identity);
    let mut sig = [0u8; 64];
    sig[0] = 1;
    let sig_hex = hex::encode(sig);
    // The key parses (it is a curve point)...
    assert!(zkw_verifier::ed25519::public_key(&key_hex).is_ok());
    // ...but no signature under it verifies.
    assert!(zkw_verifier::ed25519::check(&key_hex, &[7u8; 32], &sig_hex).is_err());
    // The same forged signature in an envelope.
    let mut v: serde_json::Value =
        serde_json::from_str(&Envelope::sign(PAYLOAD_TYPE, statement_bytes(), &owner()).to_json())
            .unwrap();
    use base64::Engine as _;
    v["signatures"][0]["keyid"] = key_hex.clone().into();
    v["signatures"][0]["sig"] = base64::engine::general_purpose::STANDARD.encode(sig).into();
    let e = Envelope::from_json(&serde_json::to_vec(&v).unwrap()).unwrap();
    assert!(e.verify(&key_hex).is_err());
    assert!(e.signers().is_empty());
}

/// Signature malleability: S + L (the group order) is the same signature to a lax verifier.
/// `verify_strict` refuses the non-canonical S: one message, one signature per key.
#[test]
fn refused_non_canonical_s_in_an_envelope() {
    use base64::Engine as _;
    let env = Envelope::sign(PAYLOAD_TYPE, statement_bytes(), &owner());
    let mut v: serde_json::Value = serde_json::from_str(&env.to_json()).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut sig = b64
        .decode(v["signatures"][0]["sig"].as_str().unwrap())
        .unwrap();
    // L = 2^252 + 27742317777372353535851937790883648493, little-endian.
    let l: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut carry = 0u16;
    for i in 0..32 {
        let s = sig[32 + i] as u16 + l[i] as u16 + carry;
        sig[32 + i] = s as u8;
        carry = s >> 8;
    }
    assert_eq!(carry, 0);
    v["signatures"][0]["sig"] = b64.encode(&sig).into();
    let e = Envelope::from_json(&serde_json::to_vec(&v).unwrap()).unwrap();
    assert!(e.verify(&owner().public_hex()).is_err());
}

/// Payload type confusion and `_type` duplication: a statement signed under another payload
/// type (case, parameters) is refused by `Statement::open` after the signature verifies; a
/// payload with `_type` twice (the right one first, another after) is refused as malformed.
#[test]
fn refused_payload_type_spellings_and_duplicate_type() {
    let k = owner();
    for t in [
        "application/vnd.in-toto+json; charset=utf-8",
        "APPLICATION/VND.IN-TOTO+JSON",
        "application/vnd.in-toto+json ",
        "application/json",
    ] {
        let e = Envelope::sign(t, statement_bytes(), &k);
        assert!(e.verify(&k.public_hex()).is_ok());
        assert!(
            matches!(
                Statement::open(&e, &k.public_hex()),
                Err(VerificationError::Malformed { .. })
            ),
            "{t}"
        );
    }
    let text = String::from_utf8(statement_bytes()).unwrap();
    let dup = text.replacen(
        &format!("\"_type\":\"{STATEMENT_TYPE}\""),
        &format!("\"_type\":\"{STATEMENT_TYPE}\",\"_type\":\"https://in-toto.io/Statement/v0.1\""),
        1,
    );
    assert_ne!(dup, text);
    let e = Envelope::sign(PAYLOAD_TYPE, dup.into_bytes(), &k);
    assert!(Statement::open(&e, &k.public_hex()).is_err());
}

/// Base64 spellings an attacker could use to make one envelope two files (or smuggle bytes):
/// whitespace, a newline (MIME style), missing padding, mixed alphabets: each refused. The
/// two accepted alphabets decode to the same payload, and everything downstream (history
/// digests, registration signatures) hashes the decoded payload or the canonical
/// re-serialization, never the spelling.
#[test]
fn refused_base64_spellings() {
    // A payload whose length is not a multiple of 3, so its base64 ends in padding.
    let mut bytes = statement_bytes();
    while bytes.len().is_multiple_of(3) {
        bytes.push(b' ');
    }
    let env = Envelope::sign(PAYLOAD_TYPE, bytes, &owner());
    let v: serde_json::Value = serde_json::from_str(&env.to_json()).unwrap();
    let p = v["payload"].as_str().unwrap().to_string();
    assert!(p.ends_with('='));
    for bad in [
        format!(" {p}"),
        format!("{p}\n"),
        format!("{}\n{}", &p[..76], &p[76..]),
        p.trim_end_matches('=').to_string(),
    ] {
        let mut w = v.clone();
        w["payload"] = bad.clone().into();
        assert!(
            Envelope::from_json(&serde_json::to_vec(&w).unwrap()).is_err(),
            "{bad:?}"
        );
    }
}
