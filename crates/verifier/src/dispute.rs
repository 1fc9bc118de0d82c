//! A ledger's dispute, as a statement anyone can check: an in-toto Statement v1 in a DSSE
//! envelope, signed by the ledger's key — the key its venue id is ([`crate::venue`]).
//!
//! A dispute is what a ledger records instead of a penalty when a worker-signed receipt fails
//! verification for a request the ledger already paid (or is the very receipt it paid): the
//! terms it is judged by changed, or the worker signed two answers to one request. Nobody is
//! charged; the statement is the ledger's testimony of it — which receipt, which settled one,
//! why — that a worker, an owner or an auditor can carry elsewhere and check against the venue
//! named in the client's request, without the ledger's database.

use serde::{Deserialize, Serialize};

use crate::dsse::Envelope;
use crate::ed25519::KeyPair;
use crate::error::VerificationError;
use crate::intoto::{Statement, Subject};
use crate::receipt::Receipt;
use crate::signature::receipt_digest;
use crate::venue::Venue;

/// The predicate type of a ledger's dispute statement.
pub const DISPUTE_PREDICATE: &str = "https://zkworker.dev/dispute/v1";

/// What a dispute statement says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisputePredicate {
    /// The ledger that recorded it (its key signs the statement).
    pub venue: Venue,
    /// The model.
    pub model_id: String,
    /// The job the disputed receipt names.
    pub job_id: String,
    /// The worker who signed the disputed receipt.
    pub worker_id: String,
    /// Why the receipt fails now.
    pub reason: String,
    /// The digest of the receipt that settled the request (hex).
    pub settled_receipt: String,
    /// When the ledger recorded it, seconds since the Unix epoch.
    pub recorded_at: u64,
    /// The disputed receipt itself: the evidence (its digest is the statement's subject).
    pub receipt: Receipt,
}

fn refused(reason: String) -> VerificationError {
    VerificationError::BadOwnerSignature {
        what: "dispute statement",
        reason,
    }
}

fn digest_of(hex_digest: &str) -> Result<[u8; 32], VerificationError> {
    hex::decode(hex_digest)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| VerificationError::Malformed {
            what: "dispute statement",
            reason: format!("{hex_digest:?} is not a 32-byte hex digest"),
        })
}

/// The dispute statement of `p`, signed by `ledger`, whose public key must be `p.venue`'s id.
pub fn sign_dispute(p: &DisputePredicate, ledger: &KeyPair) -> Result<Envelope, VerificationError> {
    if p.venue != Venue::Ledger(ledger.public()) {
        return Err(refused(format!(
            "venue {} is not the ledger of key {}",
            p.venue,
            ledger.public_hex()
        )));
    }
    let statement = Statement {
        subject: vec![
            Subject::blake3("receipt", &receipt_digest(&p.receipt)),
            Subject::blake3("settled-receipt", &digest_of(&p.settled_receipt)?),
        ],
        predicate_type: DISPUTE_PREDICATE.into(),
        predicate: match serde_json::to_value(p) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => unreachable!("a dispute predicate serializes to an object"),
        },
    };
    Ok(statement.sign(ledger))
}

/// The dispute `envelope` states, when the ledger `venue` (a ledger venue: its id is the key)
/// signed it, it names that venue, and its subjects are the receipt it carries and the settled
/// receipt it names.
pub fn check_dispute(
    envelope: &Envelope,
    venue: &Venue,
) -> Result<DisputePredicate, VerificationError> {
    let Venue::Ledger(key) = venue else {
        return Err(refused(format!(
            "venue {venue} is a contract: only a ledger signs dispute statements"
        )));
    };
    let statement = Statement::open(envelope, &hex::encode(key))
        .map_err(|e| refused(format!("it is not signed by ledger {venue}: {e}")))?;
    let p: DisputePredicate = statement.predicate_as(DISPUTE_PREDICATE)?;
    if p.venue != *venue {
        return Err(refused(format!(
            "it names venue {}, signed by ledger {venue}",
            p.venue
        )));
    }
    p.receipt.validate()?;
    let expected = [
        ("receipt", receipt_digest(&p.receipt)),
        ("settled-receipt", digest_of(&p.settled_receipt)?),
    ];
    let named: Vec<(Option<&str>, Option<[u8; 32]>)> = statement
        .subject
        .iter()
        .map(|s| (s.name.as_deref(), s.blake3_digest()))
        .collect();
    if named.len() != expected.len()
        || named
            .iter()
            .zip(&expected)
            .any(|((n, d), (en, ed))| *n != Some(*en) || *d != Some(*ed))
    {
        return Err(refused(
            "its subjects are not the receipt it carries and the settled receipt it names".into(),
        ));
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt() -> Receipt {
        Receipt {
            version: crate::receipt::RECEIPT_VERSION,
            job_id: "j".into(),
            worker_id: "w".into(),
            client_nonce: "n".into(),
            model_id: "ab".repeat(32),
            vk_id: "cd".repeat(32),
            input_digest: crate::field::fr_to_hex(&crate::Fr::from(7u64)),
            output: crate::ReceiptOutput {
                shape: vec![1],
                quantized: vec![1],
                frac_bits: 0,
                values: vec![1.0],
            },
            proof: "00".repeat(crate::receipt::PROOF_BYTES),
            request: None,
            signature: None,
        }
    }

    fn predicate(ledger: &KeyPair) -> DisputePredicate {
        DisputePredicate {
            venue: Venue::Ledger(ledger.public()),
            model_id: "ab".repeat(32),
            job_id: "j".into(),
            worker_id: "w".into(),
            reason: "the proof does not verify".into(),
            settled_receipt: "ee".repeat(32),
            recorded_at: 1_800_000_000,
            receipt: receipt(),
        }
    }

    #[test]
    fn a_ledgers_dispute_checks_against_its_venue() {
        let ledger = KeyPair::from_seed(&[4; 32]);
        let p = predicate(&ledger);
        let env = sign_dispute(&p, &ledger).unwrap();
        let back = Envelope::from_json(env.to_json().as_bytes()).unwrap();
        assert_eq!(check_dispute(&back, &p.venue).unwrap(), p);
        // Its subjects are the two receipts' digests, as in-toto tools read them.
        let statement = Statement::open(&back, &ledger.public_hex()).unwrap();
        let digests: Vec<Option<[u8; 32]>> = statement
            .subject
            .iter()
            .map(|s| s.blake3_digest())
            .collect();
        assert_eq!(
            digests,
            [Some(receipt_digest(&p.receipt)), Some([0xee; 32])]
        );
        // A settled receipt named by no digest has no statement.
        let mut bad = p.clone();
        bad.settled_receipt = "zz".into();
        assert!(matches!(
            sign_dispute(&bad, &ledger),
            Err(VerificationError::Malformed { .. })
        ));
    }

    #[test]
    fn another_ledger_or_a_relabelled_statement_is_refused() {
        let ledger = KeyPair::from_seed(&[4; 32]);
        let other = KeyPair::from_seed(&[5; 32]);
        let p = predicate(&ledger);
        // Signed by another key than the venue's.
        assert!(sign_dispute(&p, &other).is_err());
        let env = sign_dispute(&p, &ledger).unwrap();
        let e = check_dispute(&env, &Venue::Ledger(other.public())).unwrap_err();
        assert!(e.to_string().contains("it is not signed by ledger"), "{e}");
        let e = check_dispute(
            &env,
            &Venue::Evm {
                chain_id: 1,
                contract: [1; 20],
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("is a contract"), "{e}");
        // The other ledger's own statement naming the first ledger as its venue.
        let mut lying = p.clone();
        lying.venue = Venue::Ledger(other.public());
        let env = sign_dispute(&lying, &other).unwrap();
        lying.venue = p.venue;
        let statement = Statement {
            subject: vec![
                Subject::blake3("receipt", &receipt_digest(&lying.receipt)),
                Subject::blake3("settled-receipt", &[0xee; 32]),
            ],
            predicate_type: DISPUTE_PREDICATE.into(),
            predicate: match serde_json::to_value(&lying).unwrap() {
                serde_json::Value::Object(m) => m,
                _ => unreachable!(),
            },
        };
        let relabelled = statement.sign(&other);
        let e = check_dispute(&relabelled, &Venue::Ledger(other.public())).unwrap_err();
        assert!(e.to_string().contains("it names venue"), "{e}");
        assert!(check_dispute(&env, &Venue::Ledger(other.public())).is_ok());
        // Subjects that are not the receipt carried.
        let mut wrong = statement.clone();
        wrong.predicate = match serde_json::to_value(&p).unwrap() {
            serde_json::Value::Object(m) => m,
            _ => unreachable!(),
        };
        wrong.subject[0] = Subject::blake3("receipt", &[1; 32]);
        let e = check_dispute(&wrong.sign(&ledger), &p.venue).unwrap_err();
        assert!(e.to_string().contains("its subjects are not"), "{e}");
        wrong.subject.truncate(1);
        assert!(check_dispute(&wrong.sign(&ledger), &p.venue).is_err());
    }
}
