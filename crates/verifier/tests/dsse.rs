//! Interop known answers: envelopes this crate writes, byte for byte equal to ones computed
//! independently (Python's `cryptography` 48 and its standard library), and envelopes written
//! there opened here. ed25519 is deterministic, so a fixed seed gives one signature.
//!
//! The expected values were computed with this script (seed: 32 bytes of 0x42):
//!
//! ```python
//! import base64, json
//! from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
//! from cryptography.hazmat.primitives import serialization as ser
//! sk = Ed25519PrivateKey.from_private_bytes(bytes([0x42] * 32))
//! pk = sk.public_key().public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw).hex()
//! def envelope(ptype: bytes, body: bytes) -> str:
//!     sig = sk.sign(b"DSSEv1 %d %s %d %s" % (len(ptype), ptype, len(body), body))
//!     return json.dumps({"payloadType": ptype.decode(), "payload": base64.b64encode(body).decode(),
//!         "signatures": [{"keyid": pk, "sig": base64.b64encode(sig).decode()}]},
//!         separators=(",", ":"))
//! envelope(b"http://example.com/HelloWorld", b"hello world")
//! st = {"_type": "https://in-toto.io/Statement/v1",
//!       "subject": [{"name": "model.zkw", "digest": {"blake3": "1a" * 32}}],
//!       "predicateType": "https://example.invalid/zkworker/Test/v1", "predicate": {"job": "42"}}
//! envelope(b"application/vnd.in-toto+json", json.dumps(st, separators=(",", ":")).encode())
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, json};
use zkw_verifier::dsse::{Envelope, pae};
use zkw_verifier::intoto::{Statement, Subject};
use zkw_verifier::{KeyPair, VerificationError};

const SEED: [u8; 32] = [0x42; 32];

/// The public key of `SEED`.
const KEYID: &str = "2152f8d19b791d24453242e15f2eab6cb7cffa7b6a5ed30097960e069881db12";

/// The DSSE spec's test vector payload, signed by `SEED`.
const HELLO: &str = concat!(
    r#"{"payloadType":"http://example.com/HelloWorld","payload":"aGVsbG8gd29ybGQ=","#,
    r#""signatures":[{"keyid":"2152f8d19b791d24453242e15f2eab6cb7cffa7b6a5ed30097960e069881db12","#,
    r#""sig":"gu0YmKDm+NBct538JRPoF8w9omdCCXshZ7v5DYgA2hjMAkor7xp54fh/7H77cS8PF4NkdMkph2F6Rjg9o5qrDw=="}]}"#
);

/// `HELLO`'s signature in hex (`sk.sign(pae).hex()`).
const HELLO_SIG: &str = "82ed1898a0e6f8d05cb79dfc2513e817cc3da26742097b2167bbf90d8800da18\
                         cc024a2bef1a79e1f87fec7efb712f0f17836474c92987617a46383da39aab0f";

/// An in-toto statement signed by `SEED`.
const STATEMENT: &str = concat!(
    r#"{"payloadType":"application/vnd.in-toto+json","payload":"eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90"#,
    r#"by5pby9TdGF0ZW1lbnQvdjEiLCJzdWJqZWN0IjpbeyJuYW1lIjoibW9kZWwuemt3IiwiZGlnZXN0Ijp7ImJsYWtlMy"#,
    r#"I6IjFhMWExYTFhMWExYTFhMWExYTFhMWExYTFhMWExYTFhMWExYTFhMWExYTFhMWExYTFhMWExYTFhMWExYTFhMWEifX"#,
    r#"1dLCJwcmVkaWNhdGVUeXBlIjoiaHR0cHM6Ly9leGFtcGxlLmludmFsaWQvemt3b3JrZXIvVGVzdC92MSIsInByZWRp"#,
    r#"Y2F0ZSI6eyJqb2IiOiI0MiJ9fQ==","signatures":[{"keyid":"2152f8d19b791d24453242e15f2eab6cb7cf"#,
    r#"fa7b6a5ed30097960e069881db12","sig":"xMHXcYgDvsAjRBN2ROYRWgKVeJzksP9nca4AB6FUwQKDeO0Hg6jhGs"#,
    r#"5sS8FdKkIg8vUfCJberuUPhYukoR2sCQ=="}]}"#
);

fn key() -> KeyPair {
    KeyPair::from_seed(&SEED)
}

#[test]
fn writes_the_independently_computed_envelope() {
    assert_eq!(key().public_hex(), KEYID);
    let e = Envelope::sign(
        "http://example.com/HelloWorld",
        b"hello world".to_vec(),
        &key(),
    );
    assert_eq!(e.to_json(), HELLO);
    // The signature in it is the hex the script printed.
    let json: serde_json::Value = serde_json::from_str(HELLO).unwrap();
    let sig = STANDARD.decode(json["signatures"][0]["sig"].as_str().unwrap());
    assert_eq!(hex::encode(sig.unwrap()), HELLO_SIG);
}

#[test]
fn reads_the_independently_computed_envelope_in_either_alphabet() {
    let e = Envelope::from_json(HELLO.as_bytes()).unwrap();
    assert_eq!(e.verify(KEYID), Ok(&b"hello world"[..]));
    // The signature is the one field whose standard spelling has `+` and `/`.
    let sig =
        "gu0YmKDm+NBct538JRPoF8w9omdCCXshZ7v5DYgA2hjMAkor7xp54fh/7H77cS8PF4NkdMkph2F6Rjg9o5qrDw==";
    let url_safe = HELLO.replace(sig, &sig.replace('+', "-").replace('/', "_"));
    assert_ne!(url_safe, HELLO);
    let e = Envelope::from_json(url_safe.as_bytes()).unwrap();
    assert_eq!(e.verify(KEYID), Ok(&b"hello world"[..]));
    assert_eq!(e.signers(), [KEYID]);
}

fn statement() -> Statement {
    Statement {
        subject: vec![Subject::blake3("model.zkw", &[0x1a; 32])],
        predicate_type: "https://example.invalid/zkworker/Test/v1".into(),
        predicate: Map::from_iter([("job".to_string(), json!("42"))]),
    }
}

#[test]
fn signs_and_opens_the_independently_computed_statement() {
    assert_eq!(statement().sign(&key()).to_json(), STATEMENT);
    let e = Envelope::from_json(STATEMENT.as_bytes()).unwrap();
    assert_eq!(Statement::open(&e, KEYID), Ok(statement()));
}

#[test]
fn a_changed_byte_is_refused() {
    // Every byte of the payload and type is signed: flip one in each of a few places.
    let e = Envelope::from_json(HELLO.as_bytes()).unwrap();
    let refused = Err(VerificationError::BadOwnerSignature {
        what: "DSSE envelope",
        reason: format!(
            "key {KEYID}'s signature does not verify over this payload type and payload"
        ),
    });
    for (from, to) in [("aGVsbG8", "aGVsbG9"), ("HelloWorld", "HelloWorle")] {
        let tampered = Envelope::from_json(HELLO.replacen(from, to, 1).as_bytes()).unwrap();
        assert_ne!(tampered, e);
        assert_eq!(tampered.verify(KEYID), refused);
    }
    assert_eq!(
        pae(e.payload_type(), b"hello world"),
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    );
}
