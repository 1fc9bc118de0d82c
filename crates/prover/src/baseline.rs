//! The baseline: the share of a proof that does not change from job to job, computed once.
//!
//! Three of Groth16's multi-scalar multiplications — `A` and `B` (in G1 and G2) over the whole
//! assignment, `L` over its witness part — are linear in the assignment `z`. Split `z` as
//! `z_ref + (z - z_ref)` for a fixed reference assignment `z_ref`, and each becomes a constant
//! (the MSM over `z_ref`, made at setup) plus an MSM over the difference, made per job.
//!
//! The reference is the assignment of the all-zero input ([`InferenceCircuit::for_setup`]).
//! In private mode the weights, their range-check bits and the Poseidon rounds of the weight
//! commitment — about nine tenths of the witness — are the same in every job, so the difference
//! is zero there and those MSMs shrink to the job's own share (the input, the products, the
//! requantization). In fixed mode almost nothing is constant and the split costs nothing either:
//! a difference of two bits or two small integers is still small, which ark-ec's MSM handles as
//! cheaply as the values themselves.
//!
//! This is an arrangement of the prover's arithmetic only: the proof is the one
//! `ark_groth16` would make for the same `r` and `s` (tested), whatever `z_ref` is. A baseline
//! that did not match its reference would only make proofs that fail the prover's self-check;
//! the file is digest-checked against corruption and carries a digest of the reference it was
//! made from, so a mismatch is refused at load with a reason instead.

use std::path::Path;

use ark_bn254::{Bn254, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::{CurveGroup, VariableBaseMSM};
use ark_ff::{BigInteger, PrimeField, Zero};
use ark_groth16::ProvingKey;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use rayon::prelude::*;
use zkw_circuits::commitment::committed_wires;
use zkw_circuits::{Fr, InferenceCircuit};
use zkw_model::Model;

use crate::error::ProverError;
use crate::witness::assignment;

/// The reference assignment and the MSMs of the proving key's queries over it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baseline {
    /// The reference full assignment (instance with its leading 1, then witness).
    pub z: Vec<Fr>,
    /// The MSMs over it.
    pub sums: QuerySums,
    /// Where the L-query's wires start in `z`: after the instance and the committed wires.
    pub l_start: usize,
}

/// What the `.base` file holds: the MSMs and a digest of the reference assignment — never the
/// assignment itself, which in private mode contains the weights and the commitment's salt. The
/// assignment is synthesized again on load (the model is needed to prove anyway) and checked
/// against the digest. The points hide the weights as the commitment does: the salt's term is
/// a uniformly random group element.
#[derive(Debug, Clone, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct BaselineFile {
    /// blake3 of the reference assignment, each element 32 bytes little-endian.
    pub z_digest: [u8; 32],
    /// `Σ z_i · a_query[i]`.
    pub a: G1Affine,
    /// `Σ z_i · b_g1_query[i]`.
    pub b_g1: G1Affine,
    /// `Σ z_i · b_g2_query[i]`.
    pub b_g2: G2Affine,
    /// `Σ z_{n+j} · l_query[j]`, `n` the number of instance and committed variables; for
    /// committed weights, minus `v·[η/δ]₁` (so the file is as secret as `v`).
    pub l: G1Affine,
}

/// The MSMs of the queries whose scalars are the assignment, for an assignment `z` (or a
/// difference of two).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuerySums {
    /// Over `a_query`.
    pub a: G1Projective,
    /// Over `b_g1_query`.
    pub b_g1: G1Projective,
    /// Over `b_g2_query`.
    pub b_g2: G2Projective,
    /// Over `l_query`, with the part of `z` from `l_start` (the witness less the committed
    /// wires, which have no L-query point).
    pub l: G1Projective,
}

impl QuerySums {
    /// The MSMs over `z` (length: instance plus witness variables).
    pub fn compute(pk: &ProvingKey<Bn254>, z: &[Fr], l_start: usize) -> Self {
        let z: Vec<_> = z.par_iter().map(|x| x.into_bigint()).collect();
        let witness = &z[l_start..];
        let ((a, b_g1), (b_g2, l)) = rayon::join(
            || {
                rayon::join(
                    || G1Projective::msm_bigint(&pk.a_query, &z),
                    || G1Projective::msm_bigint(&pk.b_g1_query, &z),
                )
            },
            || {
                rayon::join(
                    || G2Projective::msm_bigint(&pk.b_g2_query, &z),
                    || G1Projective::msm_bigint(&pk.l_query, witness),
                )
            },
        );
        QuerySums { a, b_g1, b_g2, l }
    }
}

/// The reference assignment of a model: its all-zero input, job binding zero; and where its
/// L-query's wires start (after the instance and the committed wires).
fn reference(model: &Model, commitment: Fr) -> Result<(Vec<Fr>, usize), ProverError> {
    let circuit = InferenceCircuit::for_setup(model, commitment)?;
    let l_start = circuit.num_instance_variables() + committed_wires(model);
    Ok((assignment(circuit)?, l_start))
}

fn digest(z: &[Fr]) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    for x in z {
        h.update(&x.into_bigint().to_bytes_le());
    }
    *h.finalize().as_bytes()
}

impl Baseline {
    /// Computes the baseline of a model's proving key: synthesizes the reference assignment
    /// and runs the four MSMs over it.
    pub fn compute(
        model: &Model,
        commitment: Fr,
        pk: &ProvingKey<Bn254>,
    ) -> Result<Self, ProverError> {
        let (z, l_start) = reference(model, commitment)?;
        let sums = QuerySums::compute(pk, &z, l_start);
        Ok(Baseline { z, sums, l_start })
    }

    /// The baseline of the all-zero reference: every proof then runs its MSMs over the whole
    /// assignment (for a circuit proved once, such as a range slice).
    pub fn zero(variables: usize, l_start: usize) -> Self {
        Baseline {
            z: vec![Fr::from(0u64); variables],
            sums: QuerySums {
                a: G1Projective::zero(),
                b_g1: G1Projective::zero(),
                b_g2: G2Projective::zero(),
                l: G1Projective::zero(),
            },
            l_start,
        }
    }

    /// Folds `-v·[η/δ]₁` into the L-sum: every proof's `C` then cancels the hiding term of
    /// the commitment `D_reg = ck·W + v·[η/γ]₁` at no cost per job.
    pub fn blind(&mut self, eta_delta: &G1Affine, v: Fr) {
        self.sums.l -= *eta_delta * v;
    }

    /// The file form.
    pub fn file(&self) -> BaselineFile {
        BaselineFile {
            z_digest: digest(&self.z),
            a: self.sums.a.into_affine(),
            b_g1: self.sums.b_g1.into_affine(),
            b_g2: self.sums.b_g2.into_affine(),
            l: self.sums.l.into_affine(),
        }
    }

    /// Rebuilds the baseline from its file (read from `path`): synthesizes the reference
    /// assignment again and checks it against the file's digest.
    pub fn from_file(
        file: &BaselineFile,
        path: &Path,
        model: &Model,
        commitment: Fr,
    ) -> Result<Self, ProverError> {
        let (z, l_start) = reference(model, commitment)?;
        if digest(&z) != file.z_digest {
            return Err(ProverError::BadKeyFile {
                path: path.to_path_buf(),
                reason: "it was made for another reference assignment (another model or circuit)"
                    .into(),
            });
        }
        Ok(Baseline {
            z,
            l_start,
            sums: QuerySums {
                a: file.a.into(),
                b_g1: file.b_g1.into(),
                b_g2: file.b_g2.into(),
                l: file.l.into(),
            },
        })
    }

    /// The query sums of `z`: the baseline's plus the MSMs over `z - z_ref`.
    pub fn sums(&self, pk: &ProvingKey<Bn254>, z: &[Fr]) -> QuerySums {
        let diff: Vec<Fr> = z.par_iter().zip(&self.z).map(|(x, r)| *x - r).collect();
        let d = QuerySums::compute(pk, &diff, self.l_start);
        let b = &self.sums;
        QuerySums {
            a: d.a + b.a,
            b_g1: d.b_g1 + b.b_g1,
            b_g2: d.b_g2 + b.b_g2,
            l: d.l + b.l,
        }
    }
}
