//! Committed weights against the attacks of SECURITY.md's "Committed weights": each attack is
//! built as a cheater would, and shown refused by the check that exists to refuse it — and,
//! where the check is a property of the keys, shown to succeed when that property is removed
//! (the test of the test).

mod common;

use ark_bn254::{Fr, G1Affine, G1Projective};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{UniformRand, Zero};
use ark_std::rand::SeedableRng;
use ark_std::rand::rngs::StdRng;
use common::{SALT, job, mlp};
use zkw_circuits::InferenceCircuit;
use zkw_circuits::commitment::committed_wires;
use zkw_model::ops::Op;
use zkw_model::{Model, WeightMode, model_id};
use zkw_prover::baseline::Baseline;
use zkw_prover::groth16::create_proof;
use zkw_prover::keygen::{self, Keys};
use zkw_prover::matrices::R1csMatrices;
use zkw_prover::opening::{SliceSecret, commit_and_open};
use zkw_prover::range_proof::{SliceKeys, prove_ranges, prove_ranges_within};
use zkw_prover::receipt::build_receipt;
use zkw_prover::setup::make_record;
use zkw_prover::witness::assignment;
use zkw_prover::{KeyDir, LocalProver, setup};
use zkw_verifier::commitment::{CommitmentKey, point_to_hex};
use zkw_verifier::opening::{Opening, OpeningContext, Transcript, challenge};
use zkw_verifier::range::{RangeProof, RangeSliceProof};
use zkw_verifier::statement::OUTPUT_START;
use zkw_verifier::{Expected, ModelRecord, Receipt, VerificationError, VerifierKey, verify};

const INPUT: [i64; 4] = [100, -128, 7, 127];

fn committed() -> Model {
    mlp(WeightMode::Committed)
}

/// The same circuit with other weights: each row of the last layer rotated by `k`. A row's
/// weights are the same multiset, so the bounds analysis — and with it every range check's
/// width, the whole constraint system — is unchanged, and only the commitment can tell.
fn other_weights(model: &Model, k: usize) -> Model {
    let mut m = model.clone();
    let d = m
        .nodes
        .iter_mut()
        .rev()
        .find_map(|n| match &mut n.op {
            Op::Dense(d) => Some(d),
            _ => None,
        })
        .expect("the tiny MLP has a dense layer");
    let n = d.in_features;
    for row in d.weights.chunks_mut(n) {
        row.rotate_left(k % n);
    }
    m
}

/// The committed values of a model with their widths, in wire order.
fn values(model: &Model) -> Vec<(i64, u32)> {
    model
        .parameters()
        .flat_map(|(_, p)| p.values.iter().map(move |&v| (v, p.bits)))
        .collect()
}

/// Everything an owner's setup makes, from one seeded trapdoor, kept in the open for the
/// attacks: the keys with committed wires, the keys of the same trapdoor without them (their
/// L-query has `[K_i/δ]₁` for the weights' wires: what condition S2 forbids), the opening, the
/// baseline and the record.
struct Owned {
    model: Model,
    commitment: Fr,
    matrices: R1csMatrices,
    honest: Keys,
    leaky: Keys,
    v: Fr,
    d_reg: G1Affine,
    opening: Opening,
    range: RangeProof,
    slices: Vec<SliceSecret>,
    baseline: Baseline,
    record: ModelRecord,
    key: VerifierKey,
}

fn own(model: Model, seed: u64) -> Owned {
    let id = model_id(&model);
    let commitment = zkw_circuits::model_commitment(&model, &id).unwrap();
    let cs = InferenceCircuit::for_setup(&model, commitment)
        .unwrap()
        .synthesize_for_matrices()
        .unwrap();
    let mut matrices = R1csMatrices::from_cs(&cs).unwrap();
    let n = committed_wires(&model);
    matrices.pin_committed(n);
    let honest = keygen::generate(&matrices, n, &mut StdRng::seed_from_u64(seed)).unwrap();
    let leaky = keygen::generate(&matrices, 0, &mut StdRng::seed_from_u64(seed)).unwrap();
    assert_eq!(honest.pk.vk, leaky.pk.vk, "one trapdoor");
    let key = VerifierKey::new(honest.pk.vk.clone());
    let c = honest.committing.as_ref().unwrap();
    let mut baseline = Baseline::compute(&model, commitment, &honest.pk).unwrap();
    let first = matrices.num_instance_variables;
    let w = baseline.z[first..first + n].to_vec();
    let v = Fr::from(0x5eedu64);
    let model_id = id.to_hex();
    let ctx = OpeningContext {
        model_id: &model_id,
        vk_id: key.id(),
        owner: None,
    };
    let mut rng = StdRng::seed_from_u64(seed + 1);
    let (range, slices) = prove_ranges(&values(&model), &mut rng).unwrap();
    let (d_reg, opening) =
        commit_and_open(&c.ck, &w, v, (&range, &slices), &ctx, &mut rng).unwrap();
    baseline.blind(&c.eta_delta, v);
    let record = make_record(
        &model,
        &id,
        None,
        key.id().to_string(),
        matrices.num_constraints,
        Some((&d_reg, c.ck.digest())),
    )
    .unwrap();
    Owned {
        model,
        commitment,
        matrices,
        honest,
        leaky,
        v,
        d_reg,
        opening,
        range,
        slices,
        baseline,
        record,
        key,
    }
}

impl Owned {
    fn ck(&self) -> &CommitmentKey {
        &self.honest.committing.as_ref().unwrap().ck
    }

    fn ctx(&self) -> OpeningContext<'_> {
        OpeningContext {
            model_id: &self.record.model_id,
            vk_id: &self.record.vk_id,
            owner: None,
        }
    }

    /// A receipt for `INPUT` computed with `weights` (the registered ones or a cheater's),
    /// proved with the honest proving key and baseline, `C` moved by `c_shift`.
    fn prove_with(&self, weights: &Model, c_shift: G1Projective) -> Receipt {
        let trace = zkw_model::run(weights, &INPUT).unwrap();
        let circuit =
            InferenceCircuit::new(weights, self.commitment, trace, &SALT, job().binding()).unwrap();
        let statement = circuit.statement().clone();
        let z = assignment(circuit).unwrap();
        let mut rng = StdRng::seed_from_u64(99);
        let (r, s) = (Fr::rand(&mut rng), Fr::rand(&mut rng));
        let mut proof =
            create_proof(&self.honest.pk, &self.matrices, &self.baseline, &z, r, s).unwrap();
        proof.c = (proof.c + c_shift).into_affine();
        build_receipt(&self.record, &job(), &statement, &proof)
    }

    fn verify(&self, receipt: &Receipt, record: &ModelRecord) -> Result<(), VerificationError> {
        verify(receipt, &self.key, &Expected::model_only(record)).map(|_| ())
    }

    /// The committed wires' values of `weights`, as the circuit assigns them.
    fn wires(&self, weights: &Model) -> Vec<Fr> {
        let first = self.matrices.num_instance_variables;
        let z = assignment(InferenceCircuit::for_setup(weights, self.commitment).unwrap()).unwrap();
        z[first..first + committed_wires(weights)].to_vec()
    }
}

#[test]
fn the_registered_weights_prove_and_the_opening_verifies() {
    let o = own(committed(), 1);
    o.verify(&o.prove_with(&o.model, G1Projective::zero()), &o.record)
        .unwrap();
    o.opening
        .verify(o.ck(), &o.d_reg, &o.range, &o.ctx())
        .unwrap();
    assert_eq!(o.d_reg, o.ck().commit(&o.wires(&o.model), o.v).unwrap());
}

/// The prover's arrangement (cached matrices, baseline, blinding folded in) against
/// LegoGroth16's proof written out term by term: the same proof for the same `r`, `s`.
#[test]
fn the_proof_is_legogroth16s_term_by_term() {
    use ark_groth16::r1cs_to_qap::{LibsnarkReduction, R1CSToQAP};
    use ark_poly::GeneralEvaluationDomain;
    let o = own(committed(), 13);
    let pk = &o.honest.pk;
    let eta_delta = o.honest.committing.as_ref().unwrap().eta_delta;
    let m = &o.matrices;
    let trace = zkw_model::run(&o.model, &INPUT).unwrap();
    let circuit =
        InferenceCircuit::new(&o.model, o.commitment, trace, &SALT, job().binding()).unwrap();
    let z = assignment(circuit).unwrap();
    let (r, s) = (Fr::from(31u64), Fr::from(47u64));
    let ours = create_proof(pk, m, &o.baseline, &z, r, s).unwrap();

    let sum = |points: &[G1Affine], scalars: &[Fr]| -> G1Projective {
        points.iter().zip(scalars).map(|(p, x)| *p * x).sum()
    };
    let h = LibsnarkReduction::witness_map_from_matrices::<Fr, GeneralEvaluationDomain<Fr>>(
        &m.abc,
        m.num_instance_variables,
        m.num_constraints,
        &z,
    )
    .unwrap();
    let vk = &pk.vk;
    let a = vk.alpha_g1 + sum(&pk.a_query, &z) + pk.delta_g1 * r;
    let b1 = pk.beta_g1 + sum(&pk.b_g1_query, &z) + pk.delta_g1 * s;
    let b2: ark_bn254::G2Projective = vk.beta_g2
        + pk.b_g2_query
            .iter()
            .zip(&z)
            .map(|(p, x)| *p * x)
            .sum::<ark_bn254::G2Projective>()
        + vk.delta_g2 * s;
    // L over the remaining wires only, and -v·[η/δ]₁.
    let rest = m.num_instance_variables + committed_wires(&o.model);
    let c = a * s + b1 * r - pk.delta_g1 * (r * s)
        + sum(&pk.l_query, &z[rest..])
        + sum(&pk.h_query, &h)
        - eta_delta * o.v;
    assert_eq!(ours.a, a.into_affine());
    assert_eq!(ours.b, b2.into_affine());
    assert_eq!(ours.c, c.into_affine());
}

#[test]
fn other_weights_with_the_honest_blinding_are_refused() {
    let o = own(committed(), 2);
    for k in [1, 2] {
        let cheat = other_weights(&o.model, k);
        // The very same constraint system: only the commitment tells the weights apart.
        let cs = InferenceCircuit::for_setup(&cheat, o.commitment)
            .unwrap()
            .synthesize_for_matrices()
            .unwrap();
        let mut matrices = R1csMatrices::from_cs(&cs).unwrap();
        matrices.pin_committed(committed_wires(&cheat));
        assert!(matrices == o.matrices);
        assert_ne!(
            zkw_model::run(&cheat, &INPUT).unwrap().output(),
            zkw_model::run(&o.model, &INPUT).unwrap().output(),
            "the cheat changes the output"
        );
        assert_eq!(
            o.verify(&o.prove_with(&cheat, G1Projective::zero()), &o.record),
            Err(VerificationError::BadProof)
        );
    }
}

/// Condition S2, the test of the test: with the δ-side points of the weights' wires (a key
/// that keeps them in the L-query), a worker moves the difference of its weights into `C` and
/// proves other weights against the registered commitment. The real key has no such points.
#[test]
fn committed_wires_in_the_l_query_would_let_other_weights_prove() {
    let o = own(committed(), 3);
    let cheat = other_weights(&o.model, 1);
    let n = committed_wires(&o.model);
    let shift = |l_query: &[G1Affine]| -> G1Projective {
        o.wires(&cheat)
            .iter()
            .zip(o.wires(&o.model))
            .zip(l_query)
            .map(|((w2, w), point)| *point * (*w2 - w))
            .sum()
    };
    // The leaky key's first n L-query points are the weights' wires.
    assert_eq!(
        o.leaky.pk.l_query.len(),
        o.honest.pk.l_query.len() + n,
        "the leaky key differs by exactly the committed wires"
    );
    let forged = o.prove_with(&cheat, shift(&o.leaky.pk.l_query[..n]));
    o.verify(&forged, &o.record).unwrap();
    // The cheat's output, accepted for the registered model.
    assert_eq!(
        forged.output.quantized,
        zkw_model::run(&cheat, &INPUT).unwrap().output()
    );
    assert_ne!(
        forged.output.quantized,
        zkw_model::run(&o.model, &INPUT).unwrap().output()
    );
    // The real key: its L-query starts after the committed wires, so the same arithmetic over
    // it moves C by points of other wires, and the proof fails.
    let attempt = o.prove_with(&cheat, shift(&o.honest.pk.l_query[..n]));
    assert_eq!(
        o.verify(&attempt, &o.record),
        Err(VerificationError::BadProof)
    );
}

#[test]
fn a_commitment_from_another_model_or_setup_is_refused() {
    let a = own(committed(), 4);
    // Another setup of the same model, and a setup of other weights.
    for b in [own(committed(), 5), own(other_weights(&committed(), 2), 6)] {
        let receipt = a.prove_with(&a.model, G1Projective::zero());
        let mut record = a.record.clone();
        record.weight_commitment = Some(point_to_hex(&b.d_reg));
        assert_eq!(
            a.verify(&receipt, &record),
            Err(VerificationError::BadProof)
        );
        // b's opening is over b's key and for b's model and key: it opens nothing of a's.
        assert!(matches!(
            b.opening.verify(a.ck(), &b.d_reg, &b.range, &a.ctx()),
            Err(VerificationError::BadOpening(_))
        ));
    }
}

/// Condition S1: a commitment shifted by a base of the verifying key turns honest proofs into
/// proofs of other statements; the opening is what refuses it.
#[test]
fn a_shifted_commitment_accepts_false_outputs_and_is_refused_at_registration() {
    let o = own(committed(), 7);
    let ic = &o.key.vk().gamma_abc_g1;
    let receipt = o.prove_with(&o.model, G1Projective::zero());
    // Output element 0 is offset-packed with output 0 in its lowest bits: the same proof with
    // D_reg + IC_out verifies for the output whose element is one less.
    let mut shifted = o.record.clone();
    let d_out = (o.d_reg + ic[1 + OUTPUT_START]).into_affine();
    shifted.weight_commitment = Some(point_to_hex(&d_out));
    let mut lie = receipt.clone();
    lie.output.quantized[0] -= 1;
    lie.output.values[0] = o.record.output.dequantize(lie.output.quantized[0]);
    o.verify(&lie, &shifted).unwrap();
    assert_eq!(o.verify(&lie, &o.record), Err(VerificationError::BadProof));
    // Registration refuses both shifts: by an output's base and by the constant wire's.
    for d in [d_out, (o.d_reg + ic[0]).into_affine()] {
        assert!(matches!(
            o.opening.verify(o.ck(), &d, &o.range, &o.ctx()),
            Err(VerificationError::BadOpening(_))
        ));
    }
}

/// The transcript binds the commitment: without it (the Frozen Heart mistake) anyone forges
/// an opening of a shifted commitment; the real challenge refuses the forgery.
#[test]
fn a_challenge_that_omits_the_commitment_is_forgeable_and_ours_is_not() {
    let o = own(committed(), 8);
    let ck = o.ck();
    let ic_out = o.key.vk().gamma_abc_g1[1 + OUTPUT_START];
    let range = o.range.digest();
    let weak = |t: &G1Affine| {
        // Everything but D_reg: the identity stands in for it.
        let ts: Vec<G1Affine> = std::iter::once(*t)
            .chain(o.opening.links.iter().map(|l| l.t))
            .collect();
        challenge(
            &Transcript {
                ck_digest: &ck.digest(),
                wires: ck.bases.len(),
                d_reg: &G1Affine::zero(),
                range: &range,
                t: &ts,
            },
            &o.ctx(),
        )
    };
    let w = o.wires(&o.model);
    let mut rng = StdRng::seed_from_u64(10);
    let masks: Vec<Fr> = (0..w.len()).map(|_| Fr::rand(&mut rng)).collect();
    let (rho, k) = (Fr::rand(&mut rng), Fr::rand(&mut rng));
    // T carries k·IC_out; the challenge fixes the shift afterwards: D = D_reg - (k/c)·IC_out.
    let t = (ck.commit(&masks, rho).unwrap() + ic_out * k).into_affine();
    let c = weak(&t);
    let d = (o.d_reg - ic_out * (k / c)).into_affine();
    let forged = Opening {
        t,
        z: masks.iter().zip(&w).map(|(m, w)| *m + c * w).collect(),
        z_v: rho + c * o.v,
        links: o.opening.links.clone(),
    };
    // The weakened check holds…
    let lhs = ck.commit(&forged.z, forged.z_v).unwrap();
    assert_eq!(
        lhs.into_affine(),
        (forged.t + d * weak(&forged.t)).into_affine()
    );
    assert_ne!(d, o.d_reg);
    // …and the real one refuses it.
    let err = forged.verify(ck, &d, &o.range, &o.ctx()).unwrap_err();
    assert!(
        err.to_string().contains("do not open the commitment"),
        "{err}"
    );
}

#[test]
fn an_opening_proves_nothing_for_another_model_key_or_owner() {
    let o = own(committed(), 11);
    let other = "ab".repeat(32);
    let contexts = [
        OpeningContext {
            model_id: &other,
            ..o.ctx()
        },
        OpeningContext {
            vk_id: &other,
            ..o.ctx()
        },
        OpeningContext {
            owner: Some(&other),
            ..o.ctx()
        },
    ];
    for ctx in contexts {
        assert!(matches!(
            o.opening.verify(o.ck(), &o.d_reg, &o.range, &ctx),
            Err(VerificationError::BadOpening(_))
        ));
    }
    // A response changed, or one missing, is refused.
    let mut edited = o.opening.clone();
    edited.z[0] += Fr::from(1u64);
    assert!(matches!(
        edited.verify(o.ck(), &o.d_reg, &o.range, &o.ctx()),
        Err(VerificationError::BadOpening(_))
    ));
    edited.z.pop();
    let err = edited
        .verify(o.ck(), &o.d_reg, &o.range, &o.ctx())
        .unwrap_err();
    assert!(err.to_string().contains("responses for a key of"), "{err}");
}

#[test]
fn a_zero_blinding_is_refused() {
    let o = own(committed(), 12);
    let err = commit_and_open(
        o.ck(),
        &o.wires(&o.model),
        Fr::zero(),
        (&o.range, &o.slices),
        &o.ctx(),
        &mut StdRng::seed_from_u64(1),
    )
    .unwrap_err();
    assert!(err.to_string().contains("the blinding v is zero"), "{err}");
}

/// Setup as `zkw model setup` runs it: the published files check, and edits of them are named.
#[test]
fn setup_publishes_a_commitment_that_checks() {
    let model = committed();
    let id = model_id(&model);
    let dir = tempfile::tempdir().unwrap();
    let report = setup(&model, &id, dir.path(), &|_| {}).unwrap();
    let record = &report.record;
    assert_eq!(record.weight_mode, "committed");
    let keys = KeyDir::new(dir.path());
    let published = keys.published();
    published.check_commitment(record, None).unwrap();
    // The baseline holds -v·[η/δ]₁: it is as secret as the weights.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(keys.baseline_path(&record.vk_id))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // A prover loads and proves.
    let prover = LocalProver::load(model.clone(), &id, dir.path()).unwrap();
    prover.prove(&INPUT, &SALT, &job()).unwrap();

    // Another commitment in the record: the opening no longer opens it.
    let mut other = record.clone();
    other.weight_commitment = Some(point_to_hex(&G1Affine::generator()));
    let err = published
        .check_commitment(&other, None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("opening proof fails"), "{err}");
    // Another key than the record names.
    let mut other = record.clone();
    other.commitment_key = Some("cd".repeat(32));
    let err = published
        .check_commitment(&other, None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("the record names"), "{err}");
    // A key file spelled another way (a flag bit arkworks reads but ignores): one key, one
    // spelling, or the digests the registry pins would not name it.
    let ck_path = keys.commitment_key_path(&record.vk_id);
    let good = std::fs::read(&ck_path).unwrap();
    let mut respelled = good.clone();
    respelled[8 + 63] ^= 0x80;
    std::fs::write(&ck_path, &respelled).unwrap();
    let err = published
        .check_commitment(record, None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("malformed commitment key"), "{err}");
    std::fs::write(&ck_path, &good).unwrap();
    // A truncated opening.
    let path = keys.opening_path(&record.vk_id);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
    let err = published
        .check_commitment(record, None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("malformed commitment opening"), "{err}");
}

#[test]
fn a_key_with_points_for_committed_wires_is_refused_at_load() {
    let model = committed();
    let id = model_id(&model);
    let dir = tempfile::tempdir().unwrap();
    let report = setup(&model, &id, dir.path(), &|_| {}).unwrap();
    let keys = KeyDir::new(dir.path());
    let vk_id = &report.record.vk_id;
    let path = keys.pk_path(vk_id);
    let mut pk: ark_groth16::ProvingKey<ark_bn254::Bn254> =
        zkw_prover::keys::read_digested(&path, zkw_prover::keys::PK_MAGIC, "proving key").unwrap();
    let n = committed_wires(&model);
    let mut l = vec![G1Affine::generator(); n];
    l.extend(pk.l_query);
    pk.l_query = l;
    zkw_prover::keys::write_digested(&path, zkw_prover::keys::PK_MAGIC, &pk).unwrap();
    let err = LocalProver::load(model, &id, dir.path())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("l_query has"), "{err}");
}

/// A weight outside its width cannot be registered: the owner's setup refuses it by name, and
/// an honest range proof of other values does not link to a commitment holding it.
#[test]
fn a_weight_outside_its_width_is_refused() {
    let o = own(committed(), 14);
    let mut wide = values(&o.model);
    wide[0].0 = 200;
    let err = prove_ranges(&wide, &mut StdRng::seed_from_u64(1)).unwrap_err();
    assert!(
        err.to_string()
            .contains("committed value 0 = 200 is outside its 8-bit width"),
        "{err}"
    );
    // D_reg over weights with 200 in slot 0, the range proof of the honest weights.
    let mut w = o.wires(&o.model);
    w[0] = Fr::from(200u64);
    let (d, opening) = commit_and_open(
        o.ck(),
        &w,
        o.v,
        (&o.range, &o.slices),
        &o.ctx(),
        &mut StdRng::seed_from_u64(2),
    )
    .unwrap();
    let err = opening.verify(o.ck(), &d, &o.range, &o.ctx()).unwrap_err();
    assert!(
        err.to_string()
            .contains("does not open to the committed values"),
        "{err}"
    );
}

/// The range circuit's constant wire shifted: with the slice commitment moved by the constant
/// wire's point, the assignment with every variable doubled (the constant wire 2, the weight
/// 200) satisfies the pairing check, so 200 "passes" an 8-bit range proof. The link is what
/// refuses it: nobody knows an opening of the shifted commitment over the slice's key.
#[test]
fn a_range_proof_with_the_constant_wire_shifted_is_refused() {
    let mut rng = StdRng::seed_from_u64(15);
    let keys = SliceKeys::generate(1, 8, &mut rng).unwrap();
    let z = assignment(zkw_circuits::range_slice::RangeSlice {
        values: vec![100],
        bits: 8,
    })
    .unwrap();
    let doubled: Vec<Fr> = z.iter().map(|x| *x + x).collect();
    assert!(keys.matrices.check(&doubled).is_ok(), "every row has C = 0");
    let (d, proof, v) = keys.prove(&doubled, &mut rng).unwrap();
    let class = keys.class(8);
    // The prover committed to 200 (the doubled wire); the verifier adds IC'_0 once for the
    // constant wire, so the statement that verifies is D + IC'_0.
    let shifted = (d + class.vk.gamma_abc_g1[0]).into_affine();
    let range = RangeProof {
        runs: vec![(8, 1)],
        classes: vec![class],
        slices: vec![RangeSliceProof {
            class: 0,
            d: shifted,
            proof,
        }],
    };
    range.verify_slices().unwrap();
    // The owner's model commitment to 200, opened with the slice's secrets: the link fails.
    let ck = CommitmentKey {
        bases: vec![G1Affine::generator()],
        hiding: (G1Affine::generator() * Fr::from(7u64)).into_affine(),
    };
    let ctx = OpeningContext {
        model_id: "m",
        vk_id: "k",
        owner: None,
    };
    // The slice's own blinding: the link would hold for the unshifted commitment.
    let secret = SliceSecret {
        pads: Vec::new(),
        v,
    };
    let w = [Fr::from(200u64)];
    let (d_reg, opening) = commit_and_open(
        &ck,
        &w,
        Fr::from(5u64),
        (&range, std::slice::from_ref(&secret)),
        &ctx,
        &mut rng,
    )
    .unwrap();
    let err = opening.verify(&ck, &d_reg, &range, &ctx).unwrap_err();
    assert!(
        err.to_string().contains("range slice 0 does not open"),
        "{err}"
    );
}

/// Slices small enough that a width takes several, the last padded: the padding's responses
/// are part of the link, and an edited one is refused by its slice.
#[test]
fn padded_slices_link_and_a_padding_response_is_bound() {
    let o = own(committed(), 16);
    let mut rng = StdRng::seed_from_u64(17);
    // 70 constraints: at most seven 8-bit values (9 constraints each) per slice, so the 20
    // 8-bit values take three slices of 7, the last with one padding value.
    let (range, slices) = prove_ranges_within(&values(&o.model), 70, &mut rng).unwrap();
    assert!(range.slices.len() > 3, "{} slices", range.slices.len());
    assert!(slices.iter().any(|s| !s.pads.is_empty()), "a padded slice");
    let w = o.wires(&o.model);
    let (d, opening) =
        commit_and_open(o.ck(), &w, o.v, (&range, &slices), &o.ctx(), &mut rng).unwrap();
    assert_eq!(d, o.d_reg);
    opening.verify(o.ck(), &d, &range, &o.ctx()).unwrap();
    let k = opening
        .links
        .iter()
        .position(|l| !l.z_pad.is_empty())
        .unwrap();
    let mut edited = opening.clone();
    edited.links[k].z_pad[0] += Fr::from(1u64);
    let err = edited.verify(o.ck(), &d, &range, &o.ctx()).unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("range slice {k} does not open")),
        "{err}"
    );
}

/// Widths: 32 bits, the widest a parameter has, is proved; 0 and 33 are refused by name.
#[test]
fn range_proof_widths_are_those_of_parameters() {
    let mut rng = StdRng::seed_from_u64(18);
    let (range, _) = prove_ranges(&[(-(1 << 31), 32), ((1 << 31) - 1, 32)], &mut rng).unwrap();
    assert_eq!(range.classes[0].bits, 32);
    for bits in [0, 33] {
        let err = prove_ranges(&[(0, bits)], &mut rng)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("outside its {bits}-bit width")),
            "{err}"
        );
    }
}
