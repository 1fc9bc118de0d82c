//! The client's signed request: what a client asks for, and agrees to pay for, in one venue.
//!
//! Without it a job is a string the worker picks: a worker could settle a job no client asked
//! for, or answer another worker's job id with a proof about another input, and nobody would
//! pay. With it, the client signs (ed25519, its own key) the model, the digest of its input,
//! its nonce, the venue where the job may settle ([`crate::venue`]) and the fee it pays (at
//! least the model's: a venue debits exactly this, and worker and owner share it);
//! the request's [digest](ClientRequest::digest) enters the job binding, the last public
//! input ([`crate::statement::job_binding`]). A venue pays exactly one receipt per request —
//! whichever worker proved it — and debits its client; a receipt without a request verifies
//! but settles nowhere.
//!
//! The digest is SHA-256, so an EVM contract recomputes it from its own model id, the proof's
//! input digest, `block.chainid` and `address(this)`:
//!
//! ```text
//! sha256("zkworker client request v1" ‖ model id (32) ‖ input digest (uint256, big-endian)
//!        ‖ u64be(|nonce|) ‖ nonce ‖ u64be(|venue|) ‖ venue bytes ‖ fee (uint256, big-endian)
//!        ‖ client's public key (32))
//! ```
//!
//! The client signs those 32 bytes (the domain tag at their start keeps the signature from
//! meaning anything else). A request has one JSON form: fields typed on parse, lower-case hex.

use ark_ff::{BigInteger, PrimeField};
use serde::{Deserialize, Serialize};

use crate::Fr;
use crate::ed25519::KeyPair;
use crate::error::VerificationError;
use crate::field::{fr_from_hex, fr_to_hex};
use crate::venue::Venue;

/// Domain tag at the start of the request digest.
pub const REQUEST_DOMAIN: &[u8] = b"zkworker client request v1";

/// The most bytes a request's JSON may have (its nonce is at most
/// [`MAX_ID_BYTES`](crate::record::MAX_ID_BYTES)).
pub const MAX_REQUEST_BYTES: usize = 8 << 10;

/// A client's signed request. Built by [`ClientRequest::sign`] or parsed (every field checked
/// for form, not the signature: [`ClientRequest::check_signature`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawRequest", into = "RawRequest")]
pub struct ClientRequest {
    model_id: [u8; 32],
    input_digest: Fr,
    client_nonce: String,
    venue: Venue,
    fee: u64,
    client: [u8; 32],
    signature: [u8; 64],
}

/// The JSON form.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequest {
    model_id: String,
    input_digest: String,
    client_nonce: String,
    venue: Venue,
    fee: u64,
    client: String,
    signature: String,
}

fn hex_array<const N: usize>(name: &str, s: &str) -> Result<[u8; N], String> {
    if s.len() != 2 * N || !crate::record::is_lower_hex(s) {
        return Err(format!("{name} is not {} lower-case hex digits", 2 * N));
    }
    hex::decode(s)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| format!("{name} is not hex"))
}

impl TryFrom<RawRequest> for ClientRequest {
    type Error = String;

    fn try_from(r: RawRequest) -> Result<Self, String> {
        crate::record::check_id("client_nonce", &r.client_nonce)?;
        crate::ed25519::public_key(&r.client).map_err(|e| format!("client: {e}"))?;
        Ok(ClientRequest {
            model_id: hex_array("model_id", &r.model_id)?,
            input_digest: fr_from_hex(&r.input_digest).map_err(|e| format!("input_digest: {e}"))?,
            client_nonce: r.client_nonce,
            venue: r.venue,
            fee: r.fee,
            client: hex_array("client", &r.client)?,
            signature: hex_array("signature", &r.signature)?,
        })
    }
}

impl From<ClientRequest> for RawRequest {
    fn from(r: ClientRequest) -> Self {
        RawRequest {
            model_id: hex::encode(r.model_id),
            input_digest: fr_to_hex(&r.input_digest),
            client_nonce: r.client_nonce,
            venue: r.venue,
            fee: r.fee,
            client: hex::encode(r.client),
            signature: hex::encode(r.signature),
        }
    }
}

fn malformed(reason: String) -> VerificationError {
    VerificationError::Malformed {
        what: "client request",
        reason,
    }
}

/// The request digest ([module docs](self)) of these fields.
pub fn request_digest(
    model_id: &[u8; 32],
    input_digest: &Fr,
    client_nonce: &str,
    venue: &Venue,
    fee: u64,
    client: &[u8; 32],
) -> [u8; 32] {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    h.update(REQUEST_DOMAIN);
    h.update(model_id);
    h.update(input_digest.into_bigint().to_bytes_be());
    h.update((client_nonce.len() as u64).to_be_bytes());
    h.update(client_nonce.as_bytes());
    let venue = venue.to_bytes();
    h.update((venue.len() as u64).to_be_bytes());
    h.update(&venue);
    h.update([0u8; 24]);
    h.update(fee.to_be_bytes());
    h.update(client);
    h.finalize().into()
}

impl ClientRequest {
    /// `key`'s signed request for `model_id` (hex) on the input with `input_digest`.
    pub fn sign(
        key: &KeyPair,
        model_id: &str,
        input_digest: Fr,
        client_nonce: &str,
        venue: Venue,
        fee: u64,
    ) -> Result<Self, VerificationError> {
        crate::record::check_id("client_nonce", client_nonce).map_err(malformed)?;
        let mut r = ClientRequest {
            model_id: hex_array("model_id", model_id).map_err(malformed)?,
            input_digest,
            client_nonce: client_nonce.to_string(),
            venue,
            fee,
            client: key.public(),
            signature: [0; 64],
        };
        r.signature = key.sign(&r.digest());
        Ok(r)
    }

    /// Parses a request's JSON (at most [`MAX_REQUEST_BYTES`]), checking every field's form
    /// and the client's signature.
    pub fn from_json(bytes: &[u8]) -> Result<Self, VerificationError> {
        if bytes.len() > MAX_REQUEST_BYTES {
            return Err(VerificationError::TooLarge(crate::file::TooLarge {
                what: "client request",
                size: Some(bytes.len() as u64),
                cap: MAX_REQUEST_BYTES,
            }));
        }
        let r: ClientRequest =
            serde_json::from_slice(bytes).map_err(|e| malformed(e.to_string()))?;
        r.check_signature()?;
        Ok(r)
    }

    /// Compact JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a request always serializes")
    }

    /// What the client signs and the job binding absorbs.
    pub fn digest(&self) -> [u8; 32] {
        request_digest(
            &self.model_id,
            &self.input_digest,
            &self.client_nonce,
            &self.venue,
            self.fee,
            &self.client,
        )
    }

    /// Whether the signature is the client's over [`ClientRequest::digest`].
    pub fn check_signature(&self) -> Result<(), VerificationError> {
        crate::ed25519::check(&self.client(), &self.digest(), &hex::encode(self.signature)).map_err(
            |reason| VerificationError::BadRequest {
                reason: if reason.contains("does not verify") {
                    "it is not signed by the client it names".into()
                } else {
                    format!("the client key is {reason}")
                },
            },
        )
    }

    /// The model asked for (hex).
    pub fn model_id(&self) -> String {
        hex::encode(self.model_id)
    }

    /// The digest of the client's input.
    pub fn input_digest(&self) -> Fr {
        self.input_digest
    }

    /// The client's nonce.
    pub fn client_nonce(&self) -> &str {
        &self.client_nonce
    }

    /// Where the job may settle.
    pub fn venue(&self) -> Venue {
        self.venue
    }

    /// What the client pays for the job (a venue refuses less than the model's fee).
    pub fn fee(&self) -> u64 {
        self.fee
    }

    /// The client's public key (hex): the account a venue debits.
    pub fn client(&self) -> String {
        hex::encode(self.client)
    }

    /// The client's public key.
    pub fn client_key(&self) -> [u8; 32] {
        self.client
    }

    /// The signature's 64 bytes.
    pub fn signature(&self) -> [u8; 64] {
        self.signature
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> (KeyPair, ClientRequest) {
        let key = KeyPair::from_seed(&[3; 32]);
        let r = ClientRequest::sign(
            &key,
            &"ab".repeat(32),
            Fr::from(42u64),
            "n-1",
            Venue::Ledger([5; 32]),
            100,
        )
        .unwrap();
        (key, r)
    }

    #[test]
    fn signs_and_round_trips() {
        let (key, r) = request();
        assert_eq!(r.check_signature(), Ok(()));
        assert_eq!(r.client(), key.public_hex());
        assert_eq!(r.client_key(), key.public());
        assert_eq!(r.model_id(), "ab".repeat(32));
        assert_eq!(r.input_digest(), Fr::from(42u64));
        assert_eq!(r.client_nonce(), "n-1");
        assert_eq!(r.venue(), Venue::Ledger([5; 32]));
        assert_eq!(r.fee(), 100);
        // The signature is the client's over the digest, and the JSON carries exactly it.
        assert_eq!(r.signature(), key.sign(&r.digest()));
        let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(json["signature"], hex::encode(r.signature()));
        assert_eq!(json["fee"], 100);
        let back = ClientRequest::from_json(r.to_json().as_bytes()).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.digest(), r.digest());
    }

    #[test]
    fn every_field_is_in_the_digest() {
        let (key, r) = request();
        let other = |m: &str, d: u64, n: &str, v: Venue, fee: u64, k: &KeyPair| {
            ClientRequest::sign(k, m, Fr::from(d), n, v, fee)
                .unwrap()
                .digest()
        };
        let l = Venue::Ledger([5; 32]);
        let base = r.digest();
        assert_eq!(other(&"ab".repeat(32), 42, "n-1", l, 100, &key), base);
        for d in [
            other(&"ac".repeat(32), 42, "n-1", l, 100, &key),
            other(&"ab".repeat(32), 43, "n-1", l, 100, &key),
            other(&"ab".repeat(32), 42, "n-2", l, 100, &key),
            other(
                &"ab".repeat(32),
                42,
                "n-1",
                Venue::Ledger([6; 32]),
                100,
                &key,
            ),
            other(&"ab".repeat(32), 42, "n-1", l, 101, &key),
            other(
                &"ab".repeat(32),
                42,
                "n-1",
                l,
                100,
                &KeyPair::from_seed(&[4; 32]),
            ),
        ] {
            assert_ne!(d, base);
        }
    }

    #[test]
    fn the_digest_is_the_sha256_a_contract_recomputes() {
        // Recomputed here byte by byte, as `abi.encodePacked` lays them out.
        use sha2::Digest as _;
        let (key, r) = request();
        let mut m = REQUEST_DOMAIN.to_vec();
        m.extend([0xab; 32]);
        let mut d = [0u8; 32];
        d[31] = 42;
        m.extend(d);
        m.extend(3u64.to_be_bytes());
        m.extend(b"n-1");
        m.extend(33u64.to_be_bytes());
        m.push(2);
        m.extend([5; 32]);
        let mut fee = [0u8; 32];
        fee[31] = 100;
        m.extend(fee);
        m.extend(hex::decode(key.public_hex()).unwrap());
        assert_eq!(r.digest(), <[u8; 32]>::from(sha2::Sha256::digest(&m)));
    }

    #[test]
    fn a_forged_or_altered_request_is_refused_by_name() {
        let (_, r) = request();
        // Another fee under the same signature.
        let json = r.to_json().replace("\"fee\":100", "\"fee\":1");
        let e = ClientRequest::from_json(json.as_bytes()).unwrap_err();
        assert_eq!(
            e,
            VerificationError::BadRequest {
                reason: "it is not signed by the client it names".into()
            }
        );
        // Another client key under the client's signature.
        let other = KeyPair::from_seed(&[9; 32]).public_hex();
        let json = r.to_json().replace(&r.client(), &other);
        let e = ClientRequest::from_json(json.as_bytes()).unwrap_err();
        assert!(matches!(e, VerificationError::BadRequest { .. }), "{e}");
        for (from, to, says) in [
            ("\"fee\":100", "\"fee\":100,\"x\":1", "unknown field"),
            (
                "\"client_nonce\":\"n-1\"",
                "\"client_nonce\":\"n\\n1\"",
                "printable ASCII",
            ),
            ("\"venue\":\"ledger:", "\"venue\":\"ledgr:", "unknown kind"),
        ] {
            let json = r.to_json().replace(from, to);
            let e = ClientRequest::from_json(json.as_bytes()).unwrap_err();
            assert!(e.to_string().contains(says), "{from}: {e}");
        }
        let upper = r
            .to_json()
            .replace(&r.model_id(), &r.model_id().to_uppercase());
        let e = ClientRequest::from_json(upper.as_bytes()).unwrap_err();
        assert!(
            e.to_string().contains("model_id is not 64 lower-case"),
            "{e}"
        );
        let big = vec![b' '; MAX_REQUEST_BYTES + 1];
        assert!(matches!(
            ClientRequest::from_json(&big),
            Err(VerificationError::TooLarge(_))
        ));
        // At the cap exactly, a request (padded with whitespace) still reads.
        let mut at_cap = r.to_json().into_bytes();
        at_cap.resize(MAX_REQUEST_BYTES, b' ');
        assert_eq!(ClientRequest::from_json(&at_cap).unwrap(), r);
    }
}
