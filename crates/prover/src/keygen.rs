//! Groth16 key generation from the cached constraint matrices, with committed wires.
//!
//! The arithmetic of ark-groth16's `generate_parameters_with_qap` (libsnark's R1CS-to-QAP
//! reduction evaluated at a random τ, every query a batch of fixed-base multiplications), made
//! from the matrices setup has already synthesized instead of a second synthesis, and split
//! three ways for committed weights (LegoGroth16's ccGro16; SECURITY.md, "Committed weights"):
//!
//! - public wires `P` get `[K_i/γ]₁`, the verifying key's `IC`, as in Groth16;
//! - committed wires `M` (the first `committed` witness variables) get `[K_i/γ]₁` too, but in
//!   the [`CommitmentKey`], with the hiding base `[η/γ]₁`; the prover gets `[η/δ]₁`;
//! - the remaining wires `R` get the L-query `[K_i/δ]₁` — and only they (condition S2: a
//!   `[K_i/δ]₁` for a committed wire would let a prover move that wire's share to `C` and prove
//!   with other weights than the committed ones).
//!
//! With no committed wire this is ark-groth16's generator, point for point for the same
//! randomness (tested).

use ark_bn254::{Bn254, Fr, G1Affine, G1Projective, G2Projective};
use ark_ec::CurveGroup;
use ark_ec::scalar_mul::BatchMulPreprocessing;
use ark_ff::{Field, UniformRand, Zero};
use ark_groth16::r1cs_to_qap::{LibsnarkReduction, R1CSToQAP};
use ark_groth16::{ProvingKey, VerifyingKey};
use ark_poly::{EvaluationDomain, GeneralEvaluationDomain};
use ark_relations::gr1cs::SynthesisError;
use ark_std::rand::Rng;
use rayon::prelude::*;
use zkw_verifier::commitment::CommitmentKey;

use crate::matrices::R1csMatrices;

/// What the committed wires add to a proving key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committing {
    /// The commitment key: `[K_i/γ]₁` per committed wire and `[η/γ]₁`.
    pub ck: CommitmentKey,
    /// `[η/δ]₁`: `C` carries `-v·[η/δ]₁` to cancel the hiding term `v·[η/γ]₁` of the
    /// commitment in the pairing check.
    pub eta_delta: G1Affine,
}

/// A proving key (its `l_query` over the remaining wires only) and, with committed wires, what
/// they add.
#[derive(Debug, Clone)]
pub struct Keys {
    /// The Groth16 proving key, its verifying key inside.
    pub pk: ProvingKey<Bn254>,
    /// `Some` when the circuit has committed wires.
    pub committing: Option<Committing>,
}

/// Generates keys for the circuit of `m`, whose first `committed` witness variables are
/// committed wires; the trapdoor (α, β, γ, δ, η, τ) is drawn from `rng` and dropped on return.
///
/// Refused: a committed wire without a pivot A-row ([`R1csMatrices::pin_committed`] gives every
/// one a pivot first), more committed wires than witnesses.
pub fn generate(
    m: &R1csMatrices,
    committed: usize,
    rng: &mut impl Rng,
) -> Result<Keys, SynthesisError> {
    // The order of the draws is ark-groth16's (α, β, γ, δ, the generators, τ), η last.
    let alpha = Fr::rand(rng);
    let beta = Fr::rand(rng);
    let gamma = Fr::rand(rng);
    let delta = Fr::rand(rng);
    let g1 = G1Projective::rand(rng);
    let g2 = G2Projective::rand(rng);

    let ni = m.num_instance_variables;
    if committed > m.num_witness_variables {
        return Err(SynthesisError::Unsatisfiable);
    }
    if committed > 0 && m.unpivoted(committed).is_some() {
        return Err(SynthesisError::Unsatisfiable);
    }
    let domain = GeneralEvaluationDomain::<Fr>::new(m.num_constraints + ni)
        .ok_or(SynthesisError::PolynomialDegreeTooLarge)?;
    let t = domain.sample_element_outside_domain(rng);
    let eta = (committed > 0).then(|| Fr::rand(rng));

    let (a, b, c, zt) = evaluate_qap(m, &domain, t);
    let n = m.num_variables();
    let gamma_inverse = gamma.inverse().expect("γ is zero with probability 2^-253");
    let delta_inverse = delta.inverse().expect("δ is zero with probability 2^-253");
    // K_i = β·u_i(τ) + α·v_i(τ) + w_i(τ), over γ (public and committed) or δ (the rest).
    let k = |i: usize| beta * a[i] + alpha * b[i] + c[i];
    let over_gamma: Vec<Fr> = (0..ni + committed)
        .into_par_iter()
        .map(|i| k(i) * gamma_inverse)
        .collect();
    let l: Vec<Fr> = (ni + committed..n)
        .into_par_iter()
        .map(|i| k(i) * delta_inverse)
        .collect();
    drop(c);

    // A table's size sets its window, which changes the speed and never a point.
    let g2_table = BatchMulPreprocessing::new(g2, n);
    let b_g2_query = g2_table.batch_mul(&b);
    drop(g2_table);

    // The domain size is what ark-groth16 calls m_raw.
    let m_raw = domain.size();
    let g1_table = BatchMulPreprocessing::new(g1, 3 * n + m_raw);
    let a_query = g1_table.batch_mul(&a);
    drop(a);
    let b_g1_query = g1_table.batch_mul(&b);
    drop(b);
    let h_scalars = LibsnarkReduction::h_query_scalars::<Fr, GeneralEvaluationDomain<Fr>>(
        m_raw - 1,
        t,
        zt,
        delta_inverse,
    )?;
    let h_query = g1_table.batch_mul(&h_scalars);
    let l_query = g1_table.batch_mul(&l);
    drop(l);
    let mut gamma_abc_g1 = g1_table.batch_mul(&over_gamma);
    drop(g1_table);
    let ck_bases = gamma_abc_g1.split_off(ni);

    let vk = VerifyingKey::<Bn254> {
        alpha_g1: (g1 * alpha).into_affine(),
        beta_g2: (g2 * beta).into_affine(),
        gamma_g2: (g2 * gamma).into_affine(),
        delta_g2: (g2 * delta).into_affine(),
        gamma_abc_g1,
    };
    let committing = eta.map(|eta| Committing {
        ck: CommitmentKey {
            bases: ck_bases,
            hiding: (g1 * (eta * gamma_inverse)).into_affine(),
        },
        eta_delta: (g1 * (eta * delta_inverse)).into_affine(),
    });
    Ok(Keys {
        pk: ProvingKey {
            vk,
            beta_g1: (g1 * beta).into_affine(),
            delta_g1: (g1 * delta).into_affine(),
            a_query,
            b_g1_query,
            b_g2_query,
            h_query,
            l_query,
        },
        committing,
    })
}

/// libsnark's reduction evaluated at `t`: each variable's `u_i(t)`, `v_i(t)`, `w_i(t)`, and
/// the vanishing polynomial `Z(t)`. Instance variable `i` also gets the Lagrange polynomial of
/// row `num_constraints + i` in `A`, which keeps public inputs' polynomials independent.
fn evaluate_qap(
    m: &R1csMatrices,
    domain: &GeneralEvaluationDomain<Fr>,
    t: Fr,
) -> (Vec<Fr>, Vec<Fr>, Vec<Fr>, Fr) {
    let zt = domain.evaluate_vanishing_polynomial(t);
    let u = domain.evaluate_all_lagrange_coefficients(t);
    let n = m.num_variables();
    let (mut a, mut b, mut c) = (
        vec![Fr::zero(); n],
        vec![Fr::zero(); n],
        vec![Fr::zero(); n],
    );
    let rows = m.num_constraints;
    a[..m.num_instance_variables].copy_from_slice(&u[rows..rows + m.num_instance_variables]);
    for (i, u_i) in u.iter().enumerate().take(rows) {
        for (out, matrix) in [
            (&mut a, &m.abc[0]),
            (&mut b, &m.abc[1]),
            (&mut c, &m.abc[2]),
        ] {
            for &(coeff, index) in &matrix[i] {
                out[index] += *u_i * coeff;
            }
        }
    }
    (a, b, c, zt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::AffineRepr;
    use ark_groth16::Groth16;
    use ark_relations::gr1cs::{
        ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, LinearCombination,
        OptimizationGoal, SynthesisMode, Variable,
    };
    use ark_std::rand::SeedableRng;
    use ark_std::rand::rngs::StdRng;

    /// `x = w0·a + w1·a`, `x` public: two committed wires, two products.
    #[derive(Clone)]
    struct Toy;
    impl ConstraintSynthesizer<Fr> for Toy {
        fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
            let x = cs.new_input_variable(|| Ok(Fr::from(10u64)))?;
            let w0 = cs.new_witness_variable(|| Ok(Fr::from(2u64)))?;
            let w1 = cs.new_witness_variable(|| Ok(Fr::from(3u64)))?;
            let a = cs.new_witness_variable(|| Ok(Fr::from(2u64)))?;
            let p0 = cs.new_witness_variable(|| Ok(Fr::from(4u64)))?;
            let p1 = cs.new_witness_variable(|| Ok(Fr::from(6u64)))?;
            let lc = |v: Variable| LinearCombination::from(v);
            cs.enforce_r1cs_constraint(|| lc(w0), || lc(a), || lc(p0))?;
            cs.enforce_r1cs_constraint(|| lc(w1), || lc(a), || lc(p1))?;
            cs.enforce_r1cs_constraint(|| lc(p0) + p1, || lc(Variable::One), || lc(x))?;
            Ok(())
        }
    }

    fn matrices() -> R1csMatrices {
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Setup);
        Toy.generate_constraints(cs.clone()).unwrap();
        cs.finalize();
        R1csMatrices::from_cs(&cs.into_inner().unwrap()).unwrap()
    }

    #[test]
    fn without_committed_wires_the_keys_are_ark_groth16s() {
        let ours = generate(&matrices(), 0, &mut StdRng::seed_from_u64(7)).unwrap();
        let theirs = Groth16::<Bn254>::generate_random_parameters_with_reduction(
            Toy,
            &mut StdRng::seed_from_u64(7),
        )
        .unwrap();
        assert_eq!(ours.pk, theirs);
        assert!(ours.committing.is_none());
    }

    #[test]
    fn committed_wires_leave_the_l_query_for_the_commitment_key() {
        let m = matrices();
        let plain = generate(&m, 0, &mut StdRng::seed_from_u64(7)).unwrap();
        let keys = generate(&m, 2, &mut StdRng::seed_from_u64(7)).unwrap();
        let c = keys.committing.unwrap();
        // The same trapdoor: the committed wires' δ-side points are gone from L, and their
        // γ-side points are the commitment key.
        assert_eq!(keys.pk.l_query, plain.pk.l_query[2..]);
        assert_eq!(c.ck.bases.len(), 2);
        assert_eq!(keys.pk.vk, plain.pk.vk);
        assert_eq!(keys.pk.a_query, plain.pk.a_query);
        assert_eq!(keys.pk.h_query, plain.pk.h_query);
        assert!(!c.ck.hiding.is_zero() && !c.eta_delta.is_zero());
        // More committed wires than witnesses is refused.
        assert!(
            generate(
                &m,
                m.num_witness_variables + 1,
                &mut StdRng::seed_from_u64(7)
            )
            .is_err()
        );
    }

    #[test]
    fn every_committed_wire_needs_a_pivot_and_every_witness_may_be_one() {
        // Toy's third witness, `a`, is only ever a B operand: no pivot.
        let m = matrices();
        assert!(generate(&m, 3, &mut StdRng::seed_from_u64(7)).is_err());
        let mut pinned = m.clone();
        pinned.pin_committed(3);
        let keys = generate(&pinned, 3, &mut StdRng::seed_from_u64(7)).unwrap();
        assert_eq!(keys.committing.unwrap().ck.bases.len(), 3);
        // All witnesses committed: the L-query is empty.
        let n = m.num_witness_variables;
        let mut all = m.clone();
        all.pin_committed(n);
        let keys = generate(&all, n, &mut StdRng::seed_from_u64(7)).unwrap();
        assert!(keys.pk.l_query.is_empty());
        assert_eq!(keys.committing.unwrap().ck.bases.len(), n);
    }
}
