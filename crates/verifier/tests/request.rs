//! A client's signed request in a receipt, against real Groth16 proofs (the stand-in
//! circuit): the request's digest is in the proof's job binding, so a receipt answers exactly
//! the request it was proved for — not another venue's, not none, not one the client did not
//! sign — and a verifier that names the venue refuses a receipt for any other.

mod standin;

use standin::{Owned, owned};
use zkw_verifier::{
    Check, ClientRequest, Expected, Fr, KeyPair, Receipt, Unchecked, Venue, VerificationError,
    WorkerKey, verify,
};

fn worker() -> WorkerKey {
    WorkerKey::from_seed(&[0x31; 32])
}

fn client() -> KeyPair {
    KeyPair::from_seed(&[0x32; 32])
}

const VENUE: Venue = Venue::Ledger([0x33; 32]);

fn request(m: &Owned, venue: Venue, nonce: &str) -> ClientRequest {
    ClientRequest::sign(
        &client(),
        &m.record.model_id,
        Fr::from(Owned::INPUT),
        nonce,
        venue,
        1000,
    )
    .unwrap()
}

/// The worker's signed receipt of job `j-1` answering `request`.
fn answered(m: &Owned, request: Option<ClientRequest>) -> Receipt {
    let nonce = request
        .as_ref()
        .map_or("n-1".to_string(), |r| r.client_nonce().to_string());
    let mut r = m.answer("j-1", &worker().worker_id(), &nonce, request);
    worker().sign(&mut r);
    r
}

fn expected(m: &Owned) -> Expected<'_> {
    Expected::new(&m.record, Fr::from(Owned::INPUT), "j-1")
        .worker(Box::leak(worker().worker_id().into_boxed_str()))
        .nonce("n-1")
}

#[test]
fn a_receipt_answering_a_request_verifies_with_its_venue_checked() {
    let m = owned(&KeyPair::from_seed(&[0x30; 32]).public_hex(), 1);
    let r = answered(&m, Some(request(&m, VENUE, "n-1")));
    let back = Receipt::from_json(r.to_json().as_bytes()).unwrap();
    assert_eq!(back, r);
    let v = verify(&r, &m.key, &expected(&m).venue(VENUE)).unwrap();
    assert!(v.unchecked.is_empty() && v.is_strict());
    assert_eq!(v.request.unwrap().client(), client().public_hex());
    // Without --venue it verifies, and says the venue was not checked.
    let v = verify(&r, &m.key, &expected(&m)).unwrap();
    assert_eq!(v.unchecked, [Unchecked::Venue]);
}

#[test]
fn another_venue_or_no_request_is_a_venue_mismatch() {
    let m = owned(&KeyPair::from_seed(&[0x30; 32]).public_hex(), 2);
    let elsewhere = Venue::Evm {
        chain_id: 1,
        contract: [0x44; 20],
    };
    let r = answered(&m, Some(request(&m, elsewhere, "n-1")));
    assert_eq!(
        verify(&r, &m.key, &expected(&m).venue(VENUE)).unwrap_err(),
        VerificationError::VenueMismatch {
            expected: VENUE.to_string(),
            received: elsewhere.to_string(),
        }
    );
    let bare = answered(&m, None);
    assert!(verify(&bare, &m.key, &expected(&m)).is_ok());
    match verify(&bare, &m.key, &expected(&m).venue(VENUE)).unwrap_err() {
        VerificationError::VenueMismatch { received, .. } => {
            assert!(received.contains("no client request"), "{received}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_request_swapped_dropped_or_forged_is_refused() {
    let m = owned(&KeyPair::from_seed(&[0x30; 32]).public_hex(), 3);
    let honest = answered(&m, Some(request(&m, VENUE, "n-1")));
    let loose = expected(&m).venue(VENUE);

    // Another request the client really signed (another venue), put in and signed again by
    // the worker: the proof was made for the first request's digest.
    let mut swapped = honest.clone();
    swapped.request = Some(request(&m, Venue::Ledger([0x34; 32]), "n-1"));
    worker().sign(&mut swapped);
    let e = verify(
        &swapped,
        &m.key,
        &Expected {
            venue: Check::Skip,
            ..loose
        },
    )
    .unwrap_err();
    assert_eq!(e, VerificationError::BadProof);
    // The same without the worker's signature: its signature no longer holds.
    let mut unsigned_swap = swapped.clone();
    unsigned_swap.signature = honest.signature.clone();
    assert!(matches!(
        verify(&unsigned_swap, &m.key, &expected(&m)).unwrap_err(),
        VerificationError::BadSignature { .. }
    ));

    // The request dropped, signed again: the proof binds a request.
    let mut dropped = honest.clone();
    dropped.request = None;
    worker().sign(&mut dropped);
    assert_eq!(
        verify(&dropped, &m.key, &expected(&m)).unwrap_err(),
        VerificationError::BadProof
    );

    // A request the client did not sign (its fee raised under the client's signature), with
    // the proof made for it: refused for the signature, whatever the proof says.
    let json = request(&m, VENUE, "n-1")
        .to_json()
        .replace("\"fee\":1000", "\"fee\":1");
    let unsigned: ClientRequest = serde_json::from_str(&json).unwrap();
    let forged = answered(&m, Some(unsigned));
    assert_eq!(
        verify(&forged, &m.key, &expected(&m)).unwrap_err(),
        VerificationError::BadRequest {
            reason: "it is not signed by the client it names".into()
        }
    );
    // Reading the receipt checks the request's form; its signature is verification's.
    assert!(Receipt::from_json(forged.to_json().as_bytes()).is_ok());
}

#[test]
fn a_request_for_another_model_input_or_nonce_is_refused_when_read() {
    let m = owned(&KeyPair::from_seed(&[0x30; 32]).public_hex(), 4);
    let honest = answered(&m, Some(request(&m, VENUE, "n-1")));
    let other_model = ClientRequest::sign(
        &client(),
        &"ab".repeat(32),
        Fr::from(Owned::INPUT),
        "n-1",
        VENUE,
        1000,
    )
    .unwrap();
    let other_input = ClientRequest::sign(
        &client(),
        &m.record.model_id,
        Fr::from(78u64),
        "n-1",
        VENUE,
        1000,
    )
    .unwrap();
    let other_nonce = request(&m, VENUE, "n-2");
    for (what, rq, says) in [
        ("model", other_model, "the client asked for model"),
        (
            "input",
            other_input,
            "the client asked for the input with digest",
        ),
        ("nonce", other_nonce, "the client asked for nonce n-2"),
    ] {
        let mut r = honest.clone();
        r.request = Some(rq);
        worker().sign(&mut r);
        match Receipt::from_json(r.to_json().as_bytes()).unwrap_err() {
            VerificationError::BadRequest { reason } => {
                assert!(reason.starts_with(says), "{what}: {reason}")
            }
            other => panic!("{what}: {other:?}"),
        }
    }
}

/// The worker's signature covers the request as the client signed it — its digest and the
/// client's signature — so nobody but the worker can swap either under it.
#[test]
fn the_workers_signature_covers_the_clients_signature() {
    use zkw_verifier::signature::receipt_digest;
    let m = owned(&KeyPair::from_seed(&[0x30; 32]).public_hex(), 5);
    let honest = answered(&m, Some(request(&m, VENUE, "n-1")));
    // The same request under another (invalid) client signature, the worker's kept.
    let json = honest.request.as_ref().unwrap().to_json();
    let sig = hex::encode(honest.request.as_ref().unwrap().signature());
    let other: ClientRequest = serde_json::from_str(&json.replace(&sig, &"11".repeat(64))).unwrap();
    assert_eq!(other.digest(), honest.request.as_ref().unwrap().digest());
    let mut swapped = honest.clone();
    swapped.request = Some(other);
    assert_ne!(receipt_digest(&swapped), receipt_digest(&honest));
    // Refused for the worker's signature, before the client's is read.
    assert!(matches!(
        verify(&swapped, &m.key, &expected(&m)).unwrap_err(),
        VerificationError::BadSignature { .. }
    ));
}
