//! DSSE envelopes: a payload and its type signed with the same ed25519 keys workers and owners
//! already hold, in the format the supply-chain ecosystem (in-toto, SLSA, sigstore) reads.
//!
//! Our own artifacts (receipts, registrations, licences) sign a blake3 digest of their fields,
//! which only zkworker can check. A statement meant for other tools travels instead in a
//! [DSSE](https://github.com/secure-systems-lab/dsse) envelope:
//! `{"payloadType": ..., "payload": base64, "signatures": [{"keyid": ..., "sig": base64}]}`.
//! Each signature is ed25519 over [`pae`]`(payloadType, payload)` — the bytes themselves, not
//! a hash — so the type is authenticated with the payload and a payload cannot be reread as
//! another type.
//!
//! Decisions, each where the protocol leaves a choice or where we are stricter than it:
//!
//! - **keyid** is the signer's public key, 64 lower-case hex digits, so it names the one key to
//!   try and is never trusted on its own: [`Envelope::verify`] checks with the key the caller
//!   asked for, and a signature listed under another keyid is ignored. The protocol makes keyid
//!   optional; ours is required, one signature per keyid.
//! - **base64**: written standard with padding; read standard *or* URL-safe, padded (the
//!   protocol says verifiers MUST accept either alphabet; RFC 4648 requires padding and the
//!   reference implementations decode only padded text). A string mixing the two alphabets, an
//!   unpadded one and one with non-zero trailing bits are refused, so one byte string has one
//!   spelling per alphabet.
//! - **Unknown fields are refused**, as everywhere in this crate, although the envelope spec
//!   says consumers ignore them: a field we do not read is one nobody checked, and an envelope
//!   that carries one came from a producer we did not test against. An envelope over
//!   [`MAX_ENVELOPE_BYTES`] is refused before it is parsed ([`VerificationError::TooLarge`]),
//!   so its size cannot choose what its reader allocates.
//! - **One key, two domains**: receipts, registrations and licences sign a 32-byte blake3
//!   digest, envelopes sign bytes that begin `DSSEv1 `, so a signature made in one domain
//!   passes in the other only for a blake3 preimage of such bytes.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use ed25519_dalek::{Signature, Signer as _, SigningKey};
use serde::{Deserialize, Serialize};

use crate::ed25519::SIGNATURE_BYTES;
use crate::ed25519::{KeyPair, public_key};
use crate::error::VerificationError;
use crate::file::TooLarge;

/// The largest envelope [`Envelope::from_json`] reads, in bytes; checked before parsing. A
/// payload is written in base64 (4 bytes per 3), so it has room for about 750 KiB.
pub const MAX_ENVELOPE_BYTES: usize = 1 << 20;

/// The most signatures an envelope may carry (each one costs a reader a verification).
pub const MAX_SIGNATURES: usize = 16;

const WHAT: &str = "DSSE envelope";

fn malformed(reason: String) -> VerificationError {
    VerificationError::Malformed { what: WHAT, reason }
}

fn bad_signature(reason: String) -> VerificationError {
    VerificationError::BadOwnerSignature { what: WHAT, reason }
}

/// The DSSE pre-authentication encoding, the bytes each signature is over:
/// `"DSSEv1" SP LEN(type) SP type SP LEN(payload) SP payload`, lengths in decimal bytes.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let head = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    );
    let mut out = Vec::with_capacity(head.len() + payload.len());
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(payload);
    out
}

/// A signed payload. Every envelope in memory is well-formed: at least one signature, each
/// under a distinct valid public key and 64 bytes long; whether a signature verifies is asked
/// of [`Envelope::verify`] or [`Envelope::signers`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "EnvelopeJson", into = "EnvelopeJson")]
pub struct Envelope {
    payload_type: String,
    payload: Vec<u8>,
    signatures: Vec<KeyedSignature>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct KeyedSignature {
    keyid: String,
    sig: [u8; SIGNATURE_BYTES],
}

/// The JSON form, base64 still encoded.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct EnvelopeJson {
    payload_type: String,
    payload: String,
    signatures: Vec<SignatureJson>,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignatureJson {
    keyid: String,
    sig: String,
}

/// Standard or URL-safe base64, padded; anything else is `None`.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    STANDARD
        .decode(text)
        .or_else(|_| URL_SAFE.decode(text))
        .ok()
}

impl Envelope {
    /// `payload` of type `payload_type`, signed by `key`.
    pub fn sign(payload_type: &str, payload: Vec<u8>, key: &KeyPair) -> Self {
        let mut envelope = Envelope {
            payload_type: payload_type.into(),
            payload,
            signatures: Vec::new(),
        };
        envelope.add_signature(key);
        envelope
    }

    /// Adds `key`'s signature (replacing any listed under its keyid).
    pub fn add_signature(&mut self, key: &KeyPair) {
        // `KeyPair` signs 32-byte digests only; DSSE signs the PAE bytes themselves.
        let signing = SigningKey::from_bytes(&key.seed());
        let sig = signing
            .sign(&pae(&self.payload_type, &self.payload))
            .to_bytes();
        let keyid = key.public_hex();
        self.signatures.retain(|s| s.keyid != keyid);
        self.signatures.push(KeyedSignature { keyid, sig });
    }

    /// The payload type, as claimed: it is authenticated only by a signature that verifies.
    pub fn payload_type(&self) -> &str {
        &self.payload_type
    }

    /// The payload, as claimed: authenticated only by a signature that verifies. For a reader
    /// that must learn from the payload whose signature to check (a history entry names its
    /// owner inside), so that it checks one signature, not every one listed.
    pub fn claimed_payload(&self) -> &[u8] {
        &self.payload
    }

    /// The payload, when the signature listed under `keyid` (a public key, 64 lower-case hex
    /// digits) verifies over this payload type and payload. Every other signature is ignored.
    pub fn verify(&self, keyid: &str) -> Result<&[u8], VerificationError> {
        let key =
            public_key(keyid).map_err(|reason| bad_signature(format!("the key is {reason}")))?;
        let listed = self
            .signatures
            .iter()
            .find(|s| s.keyid == keyid)
            .ok_or_else(|| bad_signature(format!("it carries no signature by key {keyid}")))?;
        key.verify_strict(
            &pae(&self.payload_type, &self.payload),
            &Signature::from_bytes(&listed.sig),
        )
        .map_err(|_| {
            bad_signature(format!(
                "key {keyid}'s signature does not verify over this payload type and payload"
            ))
        })?;
        Ok(&self.payload)
    }

    /// The keyids whose signature verifies, in the envelope's order.
    pub fn signers(&self) -> Vec<&str> {
        self.signatures
            .iter()
            .filter(|s| self.verify(&s.keyid).is_ok())
            .map(|s| s.keyid.as_str())
            .collect()
    }

    /// Parses an envelope and checks its form (not its signatures: see [`Envelope::verify`]).
    pub fn from_json(bytes: &[u8]) -> Result<Self, VerificationError> {
        Self::from_json_capped(bytes, MAX_ENVELOPE_BYTES)
    }

    /// [`Envelope::from_json`] with another size cap, for a document whose payload is known
    /// to be larger (a registry history entry carries a whole registration).
    pub fn from_json_capped(bytes: &[u8], cap: usize) -> Result<Self, VerificationError> {
        if bytes.len() > cap {
            return Err(VerificationError::TooLarge(TooLarge {
                what: WHAT,
                size: Some(bytes.len() as u64),
                cap,
            }));
        }
        let json: EnvelopeJson =
            serde_json::from_slice(bytes).map_err(|e| malformed(e.to_string()))?;
        Envelope::try_from(json)
    }

    /// Compact JSON on one line (in-toto bundles are JSON Lines), base64 standard and padded.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&EnvelopeJson::from(self.clone()))
            .expect("an envelope always serializes")
    }
}

/// An envelope inside another document (a registration carries its setup statement) reads
/// and checks as [`Envelope::from_json`] does, but for the size cap, which the document's own
/// cap covers.
impl TryFrom<EnvelopeJson> for Envelope {
    type Error = VerificationError;

    fn try_from(json: EnvelopeJson) -> Result<Self, VerificationError> {
        let payload = decode_base64(&json.payload)
            .ok_or_else(|| malformed("the payload is not padded base64".into()))?;
        if json.signatures.is_empty() {
            return Err(malformed("it carries no signature".into()));
        }
        // Each signature costs a reader a verification: a bounded number.
        if json.signatures.len() > MAX_SIGNATURES {
            return Err(malformed(format!(
                "it carries {} signatures, at most {MAX_SIGNATURES}",
                json.signatures.len()
            )));
        }
        let mut signatures: Vec<KeyedSignature> = Vec::with_capacity(json.signatures.len());
        for (i, s) in json.signatures.into_iter().enumerate() {
            public_key(&s.keyid)
                .map_err(|reason| malformed(format!("signature #{i}'s keyid is {reason}")))?;
            if signatures.iter().any(|earlier| earlier.keyid == s.keyid) {
                return Err(malformed(format!(
                    "key {} signs it more than once",
                    s.keyid
                )));
            }
            let bytes = decode_base64(&s.sig)
                .ok_or_else(|| malformed(format!("signature #{i} is not padded base64")))?;
            let sig = <[u8; SIGNATURE_BYTES]>::try_from(bytes.as_slice()).map_err(|_| {
                malformed(format!(
                    "signature #{i} is {} bytes, not {SIGNATURE_BYTES}",
                    bytes.len()
                ))
            })?;
            signatures.push(KeyedSignature {
                keyid: s.keyid,
                sig,
            });
        }
        Ok(Envelope {
            payload_type: json.payload_type,
            payload,
            signatures,
        })
    }
}

impl From<Envelope> for EnvelopeJson {
    fn from(e: Envelope) -> Self {
        EnvelopeJson {
            payload_type: e.payload_type,
            payload: STANDARD.encode(&e.payload),
            signatures: e
                .signatures
                .iter()
                .map(|s| SignatureJson {
                    keyid: s.keyid.clone(),
                    sig: STANDARD.encode(s.sig),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TYPE: &str = "http://example.com/HelloWorld";

    fn alice() -> KeyPair {
        KeyPair::from_seed(&[1; 32])
    }

    fn bob() -> KeyPair {
        KeyPair::from_seed(&[2; 32])
    }

    fn signed() -> Envelope {
        Envelope::sign(TYPE, b"hello world".to_vec(), &alice())
    }

    fn bad(reason: &str) -> VerificationError {
        bad_signature(reason.into())
    }

    /// `signed()` as JSON with `edit` applied to its JSON value.
    fn edited(edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
        let mut v: serde_json::Value = serde_json::from_str(&signed().to_json()).unwrap();
        edit(&mut v);
        serde_json::to_vec(&v).unwrap()
    }

    #[test]
    fn pae_is_the_specs_encoding() {
        // The test vector of the DSSE protocol (protocol.md, "Test Vectors").
        assert_eq!(
            pae(TYPE, b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ");
        // Lengths count bytes, not characters.
        assert_eq!(pae("é", b"\xff"), b"DSSEv1 2 \xc3\xa9 1 \xff");
    }

    #[test]
    fn signs_and_verifies_through_json() {
        let e = signed();
        let read = Envelope::from_json(e.to_json().as_bytes()).unwrap();
        assert_eq!(read, e);
        assert_eq!(read.verify(&alice().public_hex()), Ok(&b"hello world"[..]));
        assert_eq!(read.payload_type(), TYPE);
        assert_eq!(read.signers(), [alice().public_hex()]);
        assert!(!e.to_json().contains('\n'));
    }

    #[test]
    fn refuses_another_keys_keyid() {
        let b = bob().public_hex();
        assert_eq!(
            signed().verify(&b),
            Err(bad(&format!("it carries no signature by key {b}")))
        );
        assert_eq!(
            signed().verify(&alice().public_hex().to_uppercase()),
            Err(bad(
                "the key is not an ed25519 public key (64 lower-case hex digits)"
            ))
        );
    }

    #[test]
    fn refuses_a_changed_payload_or_type() {
        let a = alice().public_hex();
        let refused = bad(&format!(
            "key {a}'s signature does not verify over this payload type and payload"
        ));
        let mut e = signed();
        e.payload[0] ^= 1;
        assert_eq!(e.verify(&a), Err(refused.clone()));
        assert!(e.signers().is_empty());
        let json = edited(|v| v["payload"] = STANDARD.encode(b"hello worle").into());
        assert_eq!(
            Envelope::from_json(&json).unwrap().verify(&a),
            Err(refused.clone())
        );
        let json = edited(|v| v["payloadType"] = "http://example.com/HelloWorle".into());
        assert_eq!(Envelope::from_json(&json).unwrap().verify(&a), Err(refused));
    }

    #[test]
    fn refuses_malformed_envelopes() {
        let m = |reason: &str| Err(malformed(reason.into()));
        let json = edited(|v| {
            let sig = STANDARD.decode(v["signatures"][0]["sig"].as_str().unwrap());
            v["signatures"][0]["sig"] = STANDARD.encode(&sig.unwrap()[..63]).into();
        });
        assert_eq!(
            Envelope::from_json(&json),
            m("signature #0 is 63 bytes, not 64")
        );
        let json = edited(|v| {
            v["signatures"][0]["keyid"] = alice().public_hex().to_uppercase().into();
        });
        assert_eq!(
            Envelope::from_json(&json),
            m("signature #0's keyid is not an ed25519 public key (64 lower-case hex digits)")
        );
        let json = edited(|v| v["signatures"] = serde_json::json!([]));
        assert_eq!(Envelope::from_json(&json), m("it carries no signature"));
        let json = edited(|v| {
            let first = v["signatures"][0].clone();
            v["signatures"].as_array_mut().unwrap().push(first);
        });
        assert_eq!(
            Envelope::from_json(&json),
            m(&format!(
                "key {} signs it more than once",
                alice().public_hex()
            ))
        );
        for (json, field) in [
            (edited(|v| v["extra"] = 1.into()), "extra"),
            (edited(|v| v["signatures"][0]["cert"] = "".into()), "cert"),
        ] {
            let Err(VerificationError::Malformed { what, reason }) = Envelope::from_json(&json)
            else {
                panic!("an unknown field `{field}` was accepted");
            };
            assert_eq!(what, WHAT);
            assert!(
                reason.starts_with(&format!("unknown field `{field}`")),
                "{reason}"
            );
        }
        let json = edited(|v| {
            v.as_object_mut().unwrap().remove("payloadType");
        });
        assert!(matches!(
            Envelope::from_json(&json),
            Err(VerificationError::Malformed { reason, .. }) if reason.starts_with("missing field `payloadType`")
        ));
    }

    #[test]
    fn refuses_an_oversize_envelope_before_parsing() {
        // Not JSON at all: only the size is looked at.
        let huge = vec![b'x'; MAX_ENVELOPE_BYTES + 1];
        let refused = Envelope::from_json(&huge).unwrap_err();
        assert_eq!(
            refused,
            VerificationError::TooLarge(TooLarge {
                what: WHAT,
                size: Some(MAX_ENVELOPE_BYTES as u64 + 1),
                cap: MAX_ENVELOPE_BYTES,
            })
        );
        assert_eq!(
            refused.to_string(),
            "too large for a DSSE envelope: 1048577 bytes, the cap is 1 MiB (1048576 bytes)"
        );
        // At the limit it is parsed (and refused as JSON).
        assert!(matches!(
            Envelope::from_json(&huge[1..]),
            Err(VerificationError::Malformed { reason, .. }) if reason.starts_with("expected value")
        ));
    }

    #[test]
    fn reads_either_alphabet_padded_and_nothing_else() {
        // Bytes whose standard encoding has `+` and `/`: 0xfb 0xff → "+/8=", "-_8=" URL-safe.
        let e = Envelope::sign(TYPE, vec![0xfb, 0xff], &alice());
        let json = e.to_json();
        assert!(json.contains("\"payload\":\"+/8=\""), "{json}");
        let url_safe = json.replace("+/8=", "-_8=");
        assert_eq!(Envelope::from_json(url_safe.as_bytes()), Ok(e.clone()));
        let refused = || Err(malformed("the payload is not padded base64".into()));
        for spelling in ["+_8=", "+/8", "-_8", "+/9="] {
            let json = json.replace("+/8=", spelling);
            assert_eq!(
                Envelope::from_json(json.as_bytes()),
                refused(),
                "{spelling}"
            );
        }
        let json = edited(|v| {
            let sig = v["signatures"][0]["sig"].as_str().unwrap();
            v["signatures"][0]["sig"] = sig.trim_end_matches('=').into();
        });
        assert_eq!(
            Envelope::from_json(&json),
            Err(malformed("signature #0 is not padded base64".into()))
        );
    }

    #[test]
    fn one_good_signature_among_others() {
        let (a, b) = (alice().public_hex(), bob().public_hex());
        let mut e = signed();
        e.add_signature(&bob());
        assert_eq!(e.signers(), [a.as_str(), b.as_str()]);
        e.add_signature(&bob());
        assert_eq!(e.signatures.len(), 2, "one signature per key");
        e.signatures[1].sig[0] ^= 1;
        let e = Envelope::from_json(e.to_json().as_bytes()).unwrap();
        assert_eq!(e.signers(), [a.as_str()]);
        assert_eq!(e.verify(&a), Ok(&b"hello world"[..]));
        assert_eq!(
            e.verify(&b),
            Err(bad(&format!(
                "key {b}'s signature does not verify over this payload type and payload"
            )))
        );
    }

    #[test]
    fn a_signature_under_another_keyid_is_ignored() {
        // Alice's signature listed as Bob's: neither key accepts it.
        let (a, b) = (alice().public_hex(), bob().public_hex());
        let mut e = signed();
        e.signatures[0].keyid = b.clone();
        assert_eq!(
            e.verify(&b),
            Err(bad(&format!(
                "key {b}'s signature does not verify over this payload type and payload"
            )))
        );
        assert_eq!(
            e.verify(&a),
            Err(bad(&format!("it carries no signature by key {a}")))
        );
        assert!(e.signers().is_empty());
    }
}
