//! One Groth16 proof's pairing equation, and the public inputs' part of it: the arithmetic
//! that [`crate::verify()`] checks for one receipt and [`crate::verify_batch`] for many at
//! once (and for each bad one it has to find). Below both, so neither depends on the other.

use ark_bn254::{Bn254, Fr, G1Affine, G1Projective};
use ark_ec::AffineRepr;
use ark_ff::{AdditiveGroup, BigInteger, PrimeField};
use ark_groth16::{Groth16, Proof};

use crate::error::VerificationError;
use crate::key::VerifierKey;

/// One proof's pairing equation, checked exactly, with [`crate::verify()`]'s errors; `weights`
/// is a committed-weights model's commitment `D_reg`, added to the public inputs' term.
pub(crate) fn exact(
    key: &VerifierKey,
    proof: &Proof<Bn254>,
    inputs: &[Fr],
    weights: Option<G1Affine>,
) -> Result<(), VerificationError> {
    let ic = &key.vk().gamma_abc_g1;
    let Some((ic_0, ic)) = ic.split_first().filter(|(_, ic)| ic.len() == inputs.len()) else {
        return Err(VerificationError::Malformed {
            what: "proof",
            reason: format!(
                "{} public inputs for a key of {}",
                inputs.len(),
                ic.len().saturating_sub(1)
            ),
        });
    };
    let mut l = input_sum(ic, inputs) + ic_0;
    if let Some(d) = weights {
        l += d;
    }
    match Groth16::<Bn254>::verify_proof_with_prepared_inputs(key.prepared(), proof, &l) {
        Ok(true) => Ok(()),
        Ok(false) => Err(VerificationError::BadProof),
        Err(e) => Err(VerificationError::Malformed {
            what: "proof",
            reason: e.to_string(),
        }),
    }
}

/// `Σ x_j·IC_j`, the public inputs' part of a proof's `L`, each term by the cheapest exact
/// route: a value of at most 64 bits (an element of a few packed outputs) or the negation of
/// one by double-and-add over its few bits, any other (a hash: commitment, input digest, job
/// binding; an element of many packed outputs) by BN254's GLV multiplication.
///
/// Not ark-groth16's `prepare_inputs`: it runs double-and-add over all 254 bits of every
/// input, 1.3 ms for 13 inputs, more than the pairings. Not arkworks' MSM either: with its
/// `parallel` feature, which any binary that also links the prover has, every MSM builds a
/// fresh two-thread rayon pool (and panics if the threads cannot be spawned), a cost and a
/// failure a single verification must not carry.
pub(crate) fn input_sum(ic: &[G1Affine], inputs: &[Fr]) -> G1Projective {
    let mut sum = G1Projective::ZERO;
    for (point, x) in ic.iter().zip(inputs) {
        let neg = -*x;
        let (x_big, neg_big) = (x.into_bigint(), neg.into_bigint());
        sum += if x_big.num_bits() <= 64 {
            point.mul_bigint(x_big)
        } else if neg_big.num_bits() <= 64 {
            -point.mul_bigint(neg_big)
        } else {
            point.into_group() * x
        };
    }
    sum
}
