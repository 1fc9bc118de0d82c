//! The Groth16 proof from an assignment, with the cached matrices and the baseline.
//!
//! The same arithmetic as `ark_groth16`'s `create_proof_with_reduction_and_matrices` (libsnark's
//! R1CS-to-QAP reduction, then `A`, `B`, `C` from the proving key's queries), arranged for a
//! worker that proves one model many times:
//! - the matrices come from setup, not from re-synthesis ([`crate::matrices`]);
//! - the assignment-linear MSMs start from the [`Baseline`] and only add the job's difference;
//! - the quotient `h` (FFTs, then the largest MSM, over the whole QAP domain) runs beside them,
//!   its MSM in batch-affine coordinates ([`crate::msm`]).
//!
//! For the same `r` and `s` the proof equals `ark_groth16`'s, bit for bit (tested below).

use ark_bn254::{Bn254, G1Projective};
use ark_ec::CurveGroup;
use ark_ff::PrimeField;
use ark_groth16::r1cs_to_qap::{LibsnarkReduction, R1CSToQAP};
use ark_groth16::{Proof, ProvingKey};
use ark_poly::GeneralEvaluationDomain;
use ark_relations::gr1cs::SynthesisError;
use rayon::prelude::*;
use zkw_circuits::Fr;

use crate::baseline::Baseline;
use crate::matrices::R1csMatrices;
use crate::msm::msm_g1;

/// `Σ h_i · h_query[i]`, `h` the QAP quotient of the assignment `z`.
pub fn quotient_sum(
    pk: &ProvingKey<Bn254>,
    m: &R1csMatrices,
    z: &[Fr],
) -> Result<G1Projective, SynthesisError> {
    let h = LibsnarkReduction::witness_map_from_matrices::<Fr, GeneralEvaluationDomain<Fr>>(
        &m.abc,
        m.num_instance_variables,
        m.num_constraints,
        z,
    )?;
    let h: Vec<_> = h.par_iter().map(|x| x.into_bigint()).collect();
    Ok(msm_g1(&pk.h_query, &h))
}

/// A proof of the full assignment `z` with randomness `r`, `s`.
pub fn create_proof(
    pk: &ProvingKey<Bn254>,
    m: &R1csMatrices,
    baseline: &Baseline,
    z: &[Fr],
    r: Fr,
    s: Fr,
) -> Result<Proof<Bn254>, SynthesisError> {
    let (h, sums) = rayon::join(|| quotient_sum(pk, m, z), || baseline.sums(pk, z));
    let h = h?;
    let vk = &pk.vk;
    // A = α + Σ z_i·A_i(τ) + r·δ;  B = β + Σ z_i·B_i(τ) + s·δ (in G2, and in G1 for C)
    let g_a = sums.a + vk.alpha_g1 + pk.delta_g1 * r;
    let g1_b = sums.b_g1 + pk.beta_g1 + pk.delta_g1 * s;
    let g2_b = sums.b_g2 + vk.beta_g2 + vk.delta_g2 * s;
    // C = s·A + r·B - r·s·δ + Σ_witness z_j·L_j + Σ h_i·H_i (committed weights: the L-sum
    // skips the committed wires and carries -v·[η/δ]₁, both from the baseline)
    let g_c = g_a * s + g1_b * r - pk.delta_g1 * (r * s) + sums.l + h;
    Ok(Proof {
        a: g_a.into_affine(),
        b: g2_b.into_affine(),
        c: g_c.into_affine(),
    })
}
