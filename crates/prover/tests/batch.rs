//! Batch verification (`zkw_verifier::verify_batch`) on real receipts: the same answers as one
//! by one, the bad proofs found and named, and two wrong proofs whose errors cancel in an
//! unweighted sum refused.

mod common;

use ark_bn254::{Bn254, G1Projective};
use ark_ec::PrimeGroup;
use ark_groth16::Proof;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use common::{SALT, mlp};
use zkw_model::{WeightMode, model_id};
use zkw_prover::{LocalProver, setup};
use zkw_verifier::digest::input_digest;
use zkw_verifier::{
    Expected, Job, ModelRecord, Receipt, VerificationError, Width, verify, verify_batch,
};

struct Batch {
    _dir: tempfile::TempDir,
    prover: LocalProver,
    record: ModelRecord,
    receipts: Vec<Receipt>,
    inputs: Vec<[i64; 4]>,
}

fn job(k: usize) -> Job {
    Job {
        job_id: format!("job-{k}"),
        worker_id: "worker-a".into(),
        client_nonce: format!("nonce-{k}"),
        request: None,
    }
}

/// `n` receipts of the fixed-weights MLP, each its own input and job.
fn batch(n: usize) -> Batch {
    let model = mlp(WeightMode::Fixed);
    let id = model_id(&model);
    let dir = tempfile::tempdir().unwrap();
    let report = setup(&model, &id, dir.path(), &|_| {}).unwrap();
    let prover = LocalProver::load(model, &id, dir.path()).unwrap();
    let inputs: Vec<[i64; 4]> = (0..n as i64)
        .map(|k| [k * 9 - 40, 100 - k, 7 * k % 128, -128 + k])
        .collect();
    let receipts = inputs
        .iter()
        .enumerate()
        .map(|(k, x)| prover.prove(x, &SALT, &job(k)).unwrap().receipt)
        .collect();
    Batch {
        _dir: dir,
        prover,
        record: report.record,
        receipts,
        inputs,
    }
}

fn expected<'a>(b: &'a Batch, k: usize, job_id: &'a str, nonce: &'a str) -> Expected<'a> {
    let digest = input_digest(&b.inputs[k], Width::new(8).unwrap(), &SALT).unwrap();
    Expected::new(&b.record, digest, job_id)
        .worker("worker-a")
        .nonce(nonce)
}

fn run(b: &Batch, receipts: &[Receipt]) -> Vec<Result<zkw_verifier::Verified, VerificationError>> {
    let jobs: Vec<Job> = (0..receipts.len()).map(job).collect();
    let expectations: Vec<Expected<'_>> = jobs
        .iter()
        .enumerate()
        .map(|(k, j)| expected(b, k, &j.job_id, &j.client_nonce))
        .collect();
    let pairs: Vec<(&Receipt, &Expected<'_>)> = receipts.iter().zip(&expectations).collect();
    verify_batch(b.prover.verifier_key(), &pairs)
}

fn proof_of(r: &Receipt) -> Proof<Bn254> {
    r.decode_proof().unwrap()
}

fn with_proof(r: &Receipt, p: &Proof<Bn254>) -> Receipt {
    let mut bytes = Vec::new();
    p.serialize_compressed(&mut bytes).unwrap();
    let mut r = r.clone();
    r.proof = hex::encode(bytes);
    r
}

#[test]
fn a_batch_of_valid_receipts_verifies_as_one_by_one() {
    let b = batch(6);
    let got = run(&b, &b.receipts);
    for (k, (g, r)) in got.iter().zip(&b.receipts).enumerate() {
        let j = job(k);
        let one = verify(
            r,
            b.prover.verifier_key(),
            &expected(&b, k, &j.job_id, &j.client_nonce),
        );
        assert_eq!(g, &one, "receipt {k}");
        assert!(g.is_ok(), "receipt {k}: {g:?}");
    }
    assert!(run(&b, &[]).is_empty());
}

#[test]
fn bad_proofs_are_found_and_named_and_other_errors_kept() {
    let b = batch(7);
    let mut receipts = b.receipts.clone();
    // #2: another output (the proof no longer fits).
    receipts[2].output.quantized[0] += 1;
    receipts[2].output.values[0] =
        receipts[2].output.quantized[0] as f64 * (-(receipts[2].output.frac_bits as f64)).exp2();
    // #4 and #5: each other's proofs (valid proofs, of other statements).
    receipts[4] = with_proof(&b.receipts[4], &proof_of(&b.receipts[5]));
    receipts[5] = with_proof(&b.receipts[5], &proof_of(&b.receipts[4]));
    // #6: another job's receipt (a check before any pairing).
    receipts[6] = b.receipts[0].clone();
    let got = run(&b, &receipts);
    for k in [0, 1, 3] {
        assert!(got[k].is_ok(), "receipt {k}: {:?}", got[k]);
    }
    for k in [2, 4, 5] {
        assert_eq!(got[k], Err(VerificationError::BadProof), "receipt {k}");
    }
    assert!(
        matches!(got[6], Err(VerificationError::JobMismatch { .. })),
        "{:?}",
        got[6]
    );
}

/// Two wrong proofs whose errors cancel: `C_0 + T` and `C_1 − T`. The unweighted product of
/// their equations is the product of the two honest ones, so a batch check without fresh
/// random weights would pass them; each is refused.
#[test]
fn errors_that_cancel_in_an_unweighted_sum_are_refused() {
    let b = batch(3);
    let t = G1Projective::generator() * ark_bn254::Fr::from(123_456_789u64);
    let mut p0 = proof_of(&b.receipts[0]);
    let mut p1 = proof_of(&b.receipts[1]);
    p0.c = (G1Projective::from(p0.c) + t).into();
    p1.c = (G1Projective::from(p1.c) - t).into();
    let receipts = vec![
        with_proof(&b.receipts[0], &p0),
        with_proof(&b.receipts[1], &p1),
        b.receipts[2].clone(),
    ];
    // Still points of the curve: the receipts parse; only the pairing can tell.
    for r in &receipts {
        Proof::<Bn254>::deserialize_compressed(hex::decode(&r.proof).unwrap().as_slice()).unwrap();
    }
    let got = run(&b, &receipts);
    assert_eq!(got[0], Err(VerificationError::BadProof));
    assert_eq!(got[1], Err(VerificationError::BadProof));
    assert!(got[2].is_ok(), "{:?}", got[2]);
}

/// A bad proof deep in a batch (found after several halvings), and one receipt given twice.
#[test]
fn a_bad_proof_deep_in_a_batch_and_a_repeated_receipt() {
    let b = batch(10);
    let mut receipts = b.receipts.clone();
    receipts[9] = with_proof(&b.receipts[9], &proof_of(&b.receipts[8]));
    let got = run(&b, &receipts);
    for (k, g) in got.iter().enumerate() {
        if k == 9 {
            assert_eq!(g, &Err(VerificationError::BadProof));
        } else {
            assert!(g.is_ok(), "receipt {k}: {g:?}");
        }
    }
    // The same receipt twice, each against its own (equal) expectation: both verify.
    let j = job(3);
    let e = expected(&b, 3, &j.job_id, &j.client_nonce);
    let twice = [(&b.receipts[3], &e), (&b.receipts[3], &e)];
    assert!(
        verify_batch(b.prover.verifier_key(), &twice)
            .iter()
            .all(Result::is_ok)
    );
}
