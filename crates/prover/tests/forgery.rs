//! The receipt forgeries of issue 6, each on a real proof: every one verified before the fix.
//!
//! - Carry between packed neighbours: for more than 62 8-bit outputs the statement carries a
//!   Poseidon digest of the outputs packed `248 / bits` to a field element. Moving `2^bits`
//!   from one value to its neighbour (`y[i] + 2^bits`, `y[i+1] - 1`) leaves the packed element,
//!   the digest and so the proof unchanged — unless every claimed value is checked against its
//!   width before packing.
//! - Claims near `i64::MAX` overflowed `v + offset` while packing.
//!
//! Smaller outputs are public inputs packed the same way (fewer public inputs, less gas on an
//! EVM), so the carry forgery is tried on them too.

mod common;

use ark_ff::{AdditiveGroup, Field};
use common::{SALT, job, mlp, wide};
use zkw_model::{WeightMode, model_id};
use zkw_prover::{LocalProver, setup};
use zkw_verifier::digest::input_digest;
use zkw_verifier::statement::output_is_digested;
use zkw_verifier::{Expected, Fr, Receipt, VerificationError, verify};

/// The packing as it was before the fix: no range check.
fn unchecked_pack(values: &[i64], bits: u32) -> Vec<Fr> {
    values
        .chunks((248 / bits) as usize)
        .map(|chunk| {
            let mut acc = Fr::ZERO;
            for (k, &v) in chunk.iter().enumerate() {
                let shifted = Fr::from(2u64).pow([(k as u64) * bits as u64]);
                acc += shifted * zkw_verifier::field::fr_from_i64(v + (1 << (bits - 1)));
            }
            acc
        })
        .collect()
}

fn with_output(receipt: &Receipt, y: &[i64]) -> Receipt {
    let mut r = receipt.clone();
    let step = (-(r.output.frac_bits as f64)).exp2();
    r.output.quantized = y.to_vec();
    r.output.values = y.iter().map(|&v| v as f64 * step).collect();
    r
}

fn carry_forgery_is_refused(mode: WeightMode) {
    let model = wide(mode);
    let id = model_id(&model);
    let dir = tempfile::tempdir().unwrap();
    let report = setup(&model, &id, dir.path(), &|_| {}).unwrap();
    let prover = LocalProver::load(model.clone(), &id, dir.path()).unwrap();
    let input: Vec<i64> = (0..16).map(|i| (i * 29 % 200) - 100).collect();
    let proved = prover.prove(&input, &SALT, &job()).unwrap();
    let receipt = &proved.receipt;
    let y = receipt.output.quantized.clone();
    assert_eq!(y.len(), 70);
    let bits = report.record.output.bits;
    assert_eq!(bits.bits(), 8);
    assert!(output_is_digested(y.len(), bits));
    let digest = input_digest(&input, report.record.input.bits, &SALT).unwrap();
    let expected = Expected::new(&report.record, digest, "job-1");
    verify(receipt, prover.verifier_key(), &expected).unwrap();

    // Pick neighbours in one packed element whose lower one can give up a unit.
    let i = (0..69)
        .find(|&i| i % 31 != 30 && y[i + 1] > -128)
        .expect("a pair to forge");
    let mut forged = y.clone();
    forged[i] += 256;
    forged[i + 1] -= 1;
    // The attack is real: without the range check both pack to the same elements.
    assert_eq!(unchecked_pack(&y, 8), unchecked_pack(&forged, 8));
    assert_eq!(
        verify(
            &with_output(receipt, &forged),
            prover.verifier_key(),
            &expected
        ),
        Err(VerificationError::OutOfRange {
            what: "output",
            index: i,
            value: y[i] + 256,
            bits: 8,
        })
    );

    // The same one step further: make any class the argmax by carrying from the class above.
    let target = 40;
    let mut argmax = y.clone();
    argmax[target] += 256;
    argmax[target + 1] -= 1;
    assert!(matches!(
        verify(
            &with_output(receipt, &argmax),
            prover.verifier_key(),
            &expected
        ),
        Err(VerificationError::OutOfRange { index: 40, .. })
    ));

    // Claims at the ends of i64 are refused by position, never overflowed.
    for extreme in [i64::MAX, i64::MIN, i64::MAX - 127] {
        let mut claim = y.clone();
        claim[69] = extreme;
        assert_eq!(
            verify(
                &with_output(receipt, &claim),
                prover.verifier_key(),
                &expected
            ),
            Err(VerificationError::OutOfRange {
                what: "output",
                index: 69,
                value: extreme,
                bits: 8,
            })
        );
    }
}

#[test]
fn fixed_weights_carry_forgery_is_refused() {
    carry_forgery_is_refused(WeightMode::Fixed);
}

#[test]
fn private_weights_carry_forgery_is_refused() {
    carry_forgery_is_refused(WeightMode::Private);
}

#[test]
fn committed_weights_carry_forgery_is_refused() {
    carry_forgery_is_refused(WeightMode::Committed);
}

#[test]
fn the_carry_forgery_on_packed_public_outputs_is_refused() {
    // Up to 62 8-bit outputs are public inputs packed `248 / bits` to an element: the same carry
    // between neighbours leaves the element, and so the proof, unchanged.
    let model = mlp(WeightMode::Fixed);
    let id = model_id(&model);
    let dir = tempfile::tempdir().unwrap();
    let report = setup(&model, &id, dir.path(), &|_| {}).unwrap();
    let prover = LocalProver::load(model, &id, dir.path()).unwrap();
    let input = [1, 2, 3, 4];
    let proved = prover.prove(&input, &SALT, &job()).unwrap();
    let y = proved.receipt.output.quantized.clone();
    assert_eq!(y.len(), 2);
    assert_eq!(report.record.output.bits.bits(), 8);
    assert!(!output_is_digested(y.len(), report.record.output.bits));
    let expected = Expected::model_only(&report.record);
    verify(&proved.receipt, prover.verifier_key(), &expected).unwrap();
    // Move 2^8 up into y[0] from y[1], or down out of it, whichever y[1] has room for.
    let (carry, borrow) = if y[1] > -128 { (256, -1) } else { (-256, 1) };
    let forged = vec![y[0] + carry, y[1] + borrow];
    assert_eq!(unchecked_pack(&y, 8), unchecked_pack(&forged, 8));
    assert_eq!(
        verify(
            &with_output(&proved.receipt, &forged),
            prover.verifier_key(),
            &expected
        ),
        Err(VerificationError::OutOfRange {
            what: "output",
            index: 0,
            value: y[0] + carry,
            bits: 8,
        })
    );
    // One more value at the bottom of the range packs to nothing (offset-binary zero): the
    // packed elements are the same, and only the record's shape tells the claim apart.
    let mut longer = with_output(&proved.receipt, &[y[0], y[1], -128]);
    longer.output.shape = vec![3];
    assert_eq!(
        unchecked_pack(&y, 8),
        unchecked_pack(&[y[0], y[1], -128], 8)
    );
    assert_eq!(
        verify(&longer, prover.verifier_key(), &expected),
        Err(VerificationError::OutputMismatch(
            "shape [3], the model outputs shape [2]".into()
        ))
    );
    // A value outside the width alone has no place in a statement either.
    let mut high = y.clone();
    high[1] = 128;
    assert_eq!(
        verify(
            &with_output(&proved.receipt, &high),
            prover.verifier_key(),
            &expected
        ),
        Err(VerificationError::OutOfRange {
            what: "output",
            index: 1,
            value: 128,
            bits: 8,
        })
    );
}

#[test]
fn a_proof_about_another_input_is_refused_when_the_input_is_checked() {
    // A worker runs the model on an input of its choosing; the client checks its own.
    let model = mlp(WeightMode::Fixed);
    let id = model_id(&model);
    let dir = tempfile::tempdir().unwrap();
    let report = setup(&model, &id, dir.path(), &|_| {}).unwrap();
    let prover = LocalProver::load(model, &id, dir.path()).unwrap();
    let clients = [10, 20, 30, 40];
    let workers = [127, 127, 127, 127];
    let proved = prover.prove(&workers, &SALT, &job()).unwrap();
    let w8 = report.record.input.bits;
    let digest = input_digest(&clients, w8, &SALT).unwrap();
    assert!(matches!(
        verify(
            &proved.receipt,
            prover.verifier_key(),
            &Expected::new(&report.record, digest, "job-1")
        ),
        Err(VerificationError::InputMismatch { .. })
    ));
    // Only a caller who skips the input check on purpose accepts it, and is told so.
    let v = verify(
        &proved.receipt,
        prover.verifier_key(),
        &Expected::model_only(&report.record),
    )
    .unwrap();
    assert!(!v.is_strict());
}
