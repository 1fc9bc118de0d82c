//! in-toto Statements (v1): a typed claim about artifacts named by digest, signed in a
//! [DSSE envelope](crate::dsse), the form SLSA provenance and sigstore attestations take.
//!
//! A [`Statement`] binds a predicate (its type a URI, its body a JSON object) to subjects, each
//! a name and a digest set. It travels as the payload of an envelope of type
//! [`PAYLOAD_TYPE`]; [`Statement::open`] verifies the signature of the key asked for, then
//! checks the payload type, then `_type`, then parses — the order the DSSE protocol gives.
//!
//! Decisions:
//!
//! - **Digests.** The in-toto DigestSet (spec/v1/digest_set.md) lists `sha256`, `sha224`,
//!   `sha384`, `sha512`, `sha512_224`, `sha512_256`, the `sha3_*` and `shake*` names, `blake2b`,
//!   `blake2s`, `ripemd160`, `sm3`, `gost`, `sha1`, `md5`, `dirHash` and the `git*` names — not
//!   blake3, and consumers MUST ignore algorithms they do not recognise. Our artifacts are named
//!   by blake3 digests, so a subject carries them under the extension key [`BLAKE3`] (the
//!   digest as 64 lower-case hex digits, as the spec asks a new algorithm to document), and,
//!   when the bytes are at hand ([`Subject::of_bytes`]), `sha256` beside it, so generic tools
//!   that match on sha256 find the artifact too. [`Subject::blake3`] writes blake3 alone, for
//!   an artifact known only by its id.
//! - **The predicate is a JSON object, not a type parameter.** Its schema is named by
//!   `predicateType`, which is only known once the statement is read: one `Statement` type
//!   opens every statement, and [`Statement::predicate_as`] parses the body into the caller's
//!   type only after checking the type URI is the one the caller expects. A generic
//!   `Statement<P>` would choose the schema before reading the field that names it.
//! - **Unknown fields are ignored** here, as the in-toto parsing rules require (extension
//!   fields and minor versions rely on it; ignoring them is safe by the monotonic principle).
//!   The envelope around the statement is strict; the statement follows its own spec.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::dsse::Envelope;
use crate::ed25519::KeyPair;
use crate::error::VerificationError;
use crate::record::is_digest_hex;

/// The `_type` of an in-toto Statement v1.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";

/// The DSSE payload type of an in-toto statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// The DigestSet key of a blake3 digest (an extension: in-toto does not list blake3).
pub const BLAKE3: &str = "blake3";

/// The DigestSet keys whose values this crate checks: 64 lower-case hex digits each.
const CHECKED_DIGESTS: [&str; 2] = [BLAKE3, "sha256"];

const WHAT: &str = "in-toto statement";

fn malformed(reason: String) -> VerificationError {
    VerificationError::Malformed { what: WHAT, reason }
}

/// One artifact a statement is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// Its name among the subjects; none when not meaningful.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Algorithm name → digest (lower-case hex for the algorithms in-toto names and blake3).
    pub digest: BTreeMap<String, String>,
}

impl Subject {
    /// An artifact known by its blake3 digest only.
    pub fn blake3(name: &str, digest: &[u8; 32]) -> Self {
        Subject {
            name: Some(name.into()),
            digest: BTreeMap::from([(BLAKE3.into(), hex::encode(digest))]),
        }
    }

    /// An artifact by its bytes: its blake3 digest and, for tools that know only in-toto's
    /// names, its sha256.
    pub fn of_bytes(name: &str, bytes: &[u8]) -> Self {
        use sha2::Digest as _;
        let mut s = Subject::blake3(name, blake3::hash(bytes).as_bytes());
        s.digest
            .insert("sha256".into(), hex::encode(sha2::Sha256::digest(bytes)));
        s
    }

    /// Its blake3 digest, if it has a well-formed one.
    pub fn blake3_digest(&self) -> Option<[u8; 32]> {
        let hex_digest = self.digest.get(BLAKE3).filter(|d| is_digest_hex(d))?;
        hex::decode(hex_digest).ok()?.try_into().ok()
    }
}

/// An in-toto Statement v1: a predicate about subjects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The artifacts it is about: at least one.
    pub subject: Vec<Subject>,
    /// The URI naming the predicate's schema.
    pub predicate_type: String,
    /// The predicate's body (an absent predicate reads as an empty object).
    pub predicate: Map<String, Value>,
}

/// The JSON form.
#[derive(Serialize, Deserialize)]
struct StatementJson {
    #[serde(rename = "_type")]
    type_uri: String,
    subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    predicate_type: String,
    #[serde(default)]
    predicate: Map<String, Value>,
}

/// A statement's `_type` alone.
#[derive(Deserialize)]
struct TypeOnly {
    #[serde(rename = "_type")]
    type_uri: Option<String>,
}

impl Statement {
    /// The statement as an envelope's payload: compact JSON.
    pub fn to_json(&self) -> Vec<u8> {
        let json = StatementJson {
            type_uri: STATEMENT_TYPE.into(),
            subject: self.subject.clone(),
            predicate_type: self.predicate_type.clone(),
            predicate: self.predicate.clone(),
        };
        serde_json::to_vec(&json).expect("a statement always serializes")
    }

    /// The statement in an envelope of type [`PAYLOAD_TYPE`], signed by `key`. (It is signed as
    /// it is: [`Statement::check`] says whether [`Statement::open`] will accept it.)
    pub fn sign(&self, key: &KeyPair) -> Envelope {
        Envelope::sign(PAYLOAD_TYPE, self.to_json(), key)
    }

    /// The statement in `envelope`, when `keyid`'s signature of it verifies, the envelope is an
    /// in-toto one and the statement a well-formed v1 statement.
    pub fn open(envelope: &Envelope, keyid: &str) -> Result<Self, VerificationError> {
        let payload = envelope.verify(keyid)?;
        if envelope.payload_type() != PAYLOAD_TYPE {
            return Err(malformed(format!(
                "the payload type is {:?}, not {PAYLOAD_TYPE}",
                envelope.payload_type()
            )));
        }
        // `_type` first, so a statement of another version is named as one rather than failing
        // on the first field that differs; the rest of the bytes are skipped, not built.
        let TypeOnly { type_uri } =
            serde_json::from_slice(payload).map_err(|e| malformed(e.to_string()))?;
        match type_uri {
            Some(t) if t == STATEMENT_TYPE => {}
            Some(t) => return Err(malformed(format!("_type {t:?} is not {STATEMENT_TYPE}"))),
            None => return Err(malformed("no _type".into())),
        }
        let json: StatementJson =
            serde_json::from_slice(payload).map_err(|e| malformed(e.to_string()))?;
        let statement = Statement {
            subject: json.subject,
            predicate_type: json.predicate_type,
            predicate: json.predicate,
        };
        statement.check()?;
        Ok(statement)
    }

    /// Checks the statement's form: at least one subject, each with a digest, the digests this
    /// crate knows well-formed, a predicate type.
    pub fn check(&self) -> Result<(), VerificationError> {
        if self.subject.is_empty() {
            return Err(malformed("it has no subject".into()));
        }
        for (i, s) in self.subject.iter().enumerate() {
            if s.digest.is_empty() {
                return Err(malformed(format!("subject #{i} has no digest")));
            }
            for alg in CHECKED_DIGESTS {
                if s.digest.get(alg).is_some_and(|d| !is_digest_hex(d)) {
                    return Err(malformed(format!(
                        "subject #{i}'s {alg} digest is not 64 lower-case hex digits"
                    )));
                }
            }
        }
        if self.predicate_type.is_empty() {
            return Err(malformed("it has no predicate type".into()));
        }
        Ok(())
    }

    /// The predicate parsed as `P`, when the statement's predicate type is `predicate_type`.
    pub fn predicate_as<P: DeserializeOwned>(
        &self,
        predicate_type: &str,
    ) -> Result<P, VerificationError> {
        if self.predicate_type != predicate_type {
            return Err(malformed(format!(
                "the predicate type is {:?}, not {predicate_type:?}",
                self.predicate_type
            )));
        }
        serde_json::from_value(Value::Object(self.predicate.clone()))
            .map_err(|e| malformed(format!("the predicate: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const PREDICATE: &str = "https://example.invalid/zkworker/Test/v1";

    fn key() -> KeyPair {
        KeyPair::from_seed(&[3; 32])
    }

    fn statement() -> Statement {
        Statement {
            subject: vec![
                Subject::blake3("model.zkw", &[0x1a; 32]),
                Subject::of_bytes("input.json", b"hello world"),
            ],
            predicate_type: PREDICATE.into(),
            predicate: json!({"job": "42", "outputs": [1, -2]})
                .as_object()
                .unwrap()
                .clone(),
        }
    }

    /// `value` as the payload of an in-toto envelope signed by `key()`.
    fn enveloped(value: &Value) -> Envelope {
        Envelope::sign(PAYLOAD_TYPE, serde_json::to_vec(value).unwrap(), &key())
    }

    fn statement_value() -> Value {
        serde_json::from_slice(&statement().to_json()).unwrap()
    }

    fn m(reason: &str) -> Result<Statement, VerificationError> {
        Err(malformed(reason.into()))
    }

    #[test]
    fn round_trips_through_an_envelope() {
        let s = statement();
        let e = Envelope::from_json(s.sign(&key()).to_json().as_bytes()).unwrap();
        assert_eq!(e.payload_type(), PAYLOAD_TYPE);
        assert_eq!(Statement::open(&e, &key().public_hex()), Ok(s.clone()));
        let v = statement_value();
        assert_eq!(v["_type"], STATEMENT_TYPE);
        assert_eq!(v["predicateType"], PREDICATE);
        assert_eq!(v["subject"][0]["digest"][BLAKE3], "1a".repeat(32));
    }

    #[test]
    fn subjects_carry_blake3_and_sha256() {
        let s = Subject::of_bytes("input.json", b"hello world");
        assert_eq!(
            s.digest["sha256"],
            // `printf 'hello world' | sha256sum`
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
        assert_eq!(
            s.blake3_digest(),
            Some(*blake3::hash(b"hello world").as_bytes())
        );
        assert_eq!(
            Subject::blake3("m", &[7; 32]).blake3_digest(),
            Some([7; 32])
        );
        let mut upper = Subject::blake3("m", &[0xab; 32]);
        upper.digest.insert(BLAKE3.into(), "AB".repeat(32));
        assert_eq!(upper.blake3_digest(), None);
    }

    #[test]
    fn refuses_another_payload_type() {
        let e = Envelope::sign("application/json", statement().to_json(), &key());
        assert_eq!(
            Statement::open(&e, &key().public_hex()),
            m("the payload type is \"application/json\", not application/vnd.in-toto+json")
        );
    }

    #[test]
    fn refuses_another_type() {
        let mut v = statement_value();
        v["_type"] = "https://in-toto.io/Statement/v0.1".into();
        assert_eq!(
            Statement::open(&enveloped(&v), &key().public_hex()),
            m("_type \"https://in-toto.io/Statement/v0.1\" is not https://in-toto.io/Statement/v1")
        );
        v.as_object_mut().unwrap().remove("_type");
        assert_eq!(
            Statement::open(&enveloped(&v), &key().public_hex()),
            m("no _type")
        );
    }

    #[test]
    fn refuses_another_signer() {
        let other = KeyPair::from_seed(&[4; 32]).public_hex();
        assert_eq!(
            Statement::open(&statement().sign(&key()), &other),
            Err(VerificationError::BadOwnerSignature {
                what: "DSSE envelope",
                reason: format!("it carries no signature by key {other}"),
            })
        );
    }

    #[test]
    fn refuses_malformed_statements() {
        let open = |edit: &dyn Fn(&mut Value)| {
            let mut v = statement_value();
            edit(&mut v);
            Statement::open(&enveloped(&v), &key().public_hex())
        };
        assert_eq!(open(&|v| v["subject"] = json!([])), m("it has no subject"));
        assert_eq!(
            open(&|v| v["subject"][1]["digest"] = json!({})),
            m("subject #1 has no digest")
        );
        assert_eq!(
            open(&|v| v["subject"][0]["digest"][BLAKE3] = "1A".repeat(32).into()),
            m("subject #0's blake3 digest is not 64 lower-case hex digits")
        );
        assert_eq!(
            open(&|v| v["subject"][1]["digest"]["sha256"] = "abc".into()),
            m("subject #1's sha256 digest is not 64 lower-case hex digits")
        );
        assert_eq!(
            open(&|v| v["predicateType"] = "".into()),
            m("it has no predicate type")
        );
        assert!(matches!(
            open(&|v| v["predicate"] = json!([1])),
            Err(VerificationError::Malformed { what: WHAT, reason }) if reason.starts_with("invalid type: sequence, expected a map")
        ));
    }

    #[test]
    fn ignores_unknown_fields_and_algorithms() {
        let mut v = statement_value();
        v["extension"] = json!({"x": 1});
        v["subject"][0]["uri"] = "https://example.invalid/m".into();
        v["subject"][0]["digest"]["somecoolhash"] = "not hex".into();
        v.as_object_mut().unwrap().remove("predicate");
        let opened = Statement::open(&enveloped(&v), &key().public_hex()).unwrap();
        assert!(opened.predicate.is_empty(), "absent reads as empty");
        assert_eq!(opened.subject[0].digest["somecoolhash"], "not hex");
        assert_eq!(opened.subject[0].blake3_digest(), Some([0x1a; 32]));
    }

    #[test]
    fn parses_the_predicate_of_the_expected_type_only() {
        #[derive(Debug, PartialEq, Deserialize)]
        struct Test {
            job: String,
            outputs: Vec<i32>,
        }
        let s = statement();
        assert_eq!(
            s.predicate_as::<Test>(PREDICATE),
            Ok(Test {
                job: "42".into(),
                outputs: vec![1, -2]
            })
        );
        assert_eq!(
            s.predicate_as::<Test>("https://slsa.dev/provenance/v1"),
            Err(malformed(format!(
                "the predicate type is \"{PREDICATE}\", not \"https://slsa.dev/provenance/v1\""
            )))
        );
        assert!(matches!(
            s.predicate_as::<Vec<u8>>(PREDICATE),
            Err(VerificationError::Malformed { what: WHAT, reason }) if reason.starts_with("the predicate: invalid type")
        ));
    }
}
