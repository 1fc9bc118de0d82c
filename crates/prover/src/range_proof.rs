//! The one-time range proof of committed weights ([`zkw_verifier::range`] checks it and says
//! why a model's registration carries one), made at setup by whoever holds the weights.
//!
//! The weights' wires are grouped by width; each width's slice circuit
//! ([`zkw_circuits::range_slice`]) gets its own keys from [`crate::keygen`], sized so that a
//! slice fits a 2^19 evaluation domain (58,254 8-bit values), and each slice is proved with
//! its values as committed wires under a fresh blinding. The slices' blindings and paddings
//! stay with the caller, which links every slice to the model's commitment in the same
//! Σ-protocol ([`crate::opening`]). The slice proving keys are dropped: the proof is made once.

use ark_bn254::{Bn254, Fr, G1Affine};
use ark_ec::CurveGroup;
use ark_ff::{UniformRand, Zero};
use ark_groth16::Proof;
use ark_std::rand::Rng;
use zkw_circuits::range_slice::RangeSlice;
use zkw_verifier::range::{
    MAX_RANGE_BITS, RangeClass, RangeProof, RangeSliceProof, classes_of, slices_of,
};

use crate::baseline::Baseline;
use crate::error::ProverError;
use crate::groth16::create_proof;
use crate::keygen::{self, Keys};
use crate::matrices::R1csMatrices;
use crate::opening::{SliceSecret, draw_blinding};
use crate::witness::assignment;

/// The most constraints of one slice circuit: with its one instance variable it fills a 2^19
/// evaluation domain.
pub const MAX_SLICE_CONSTRAINTS: usize = (1 << 19) - 1;

/// One slice shape's keys: its matrices, proving key and commitment key.
pub struct SliceKeys {
    /// The slice circuit's matrices (with a pivot row for every committed wire).
    pub matrices: R1csMatrices,
    /// Its keys, with committed wires.
    pub keys: Keys,
    /// Values per slice.
    pub len: usize,
}

impl SliceKeys {
    /// Setup for slices of `len` values of `bits` bits.
    pub fn generate(len: usize, bits: u32, rng: &mut impl Rng) -> Result<Self, ProverError> {
        let cs = RangeSlice::for_setup(len, bits).synthesize_for_matrices()?;
        let mut matrices = R1csMatrices::from_cs(&cs)
            .ok_or_else(|| ProverError::Commitment("the range slice has no matrices".into()))?;
        drop(cs);
        matrices.pin_committed(len);
        let keys = keygen::generate(&matrices, len, rng)?;
        if keys.committing.is_none() {
            return Err(ProverError::Commitment("an empty range slice".into()));
        }
        Ok(SliceKeys {
            matrices,
            keys,
            len,
        })
    }

    fn committing(&self) -> &keygen::Committing {
        self.keys.committing.as_ref().expect("checked in generate")
    }

    /// Proves the slice circuit's full assignment `z` (its committed wires `z[1..=len]`): the
    /// slice's commitment under a fresh blinding, the proof, and the blinding.
    pub fn prove(
        &self,
        z: &[Fr],
        rng: &mut impl Rng,
    ) -> Result<(G1Affine, Proof<Bn254>, Fr), ProverError> {
        let c = self.committing();
        let v = draw_blinding(rng);
        let d =
            c.ck.commit(&z[1..1 + self.len], v)
                .ok_or_else(|| ProverError::Commitment("a slice of another length".into()))?
                .into_affine();
        let mut baseline = Baseline::zero(z.len(), 1 + self.len);
        baseline.blind(&c.eta_delta, v);
        let (r, s) = (Fr::rand(rng), Fr::rand(rng));
        let proof = create_proof(&self.keys.pk, &self.matrices, &baseline, z, r, s)?;
        Ok((d, proof, v))
    }

    /// The class the verifier reads: the width, the slice length and the public keys.
    pub fn class(self, bits: u32) -> RangeClass {
        let ck = self.committing().ck.clone();
        RangeClass {
            bits,
            slice_len: self.len as u64,
            vk: self.keys.pk.vk,
            ck,
        }
    }
}

/// `(bits, count)` runs of the committed values' widths, in wire order.
pub fn runs_of(values: &[(i64, u32)]) -> Vec<(u32, u64)> {
    let mut runs: Vec<(u32, u64)> = Vec::new();
    for &(_, bits) in values {
        match runs.last_mut() {
            Some((b, n)) if *b == bits => *n += 1,
            _ => runs.push((bits, 1)),
        }
    }
    runs
}

/// The range proof of `values` (each with its signed width, in wire order), with each
/// slice's secrets for the opening. Refused: a value outside its width, naming it.
pub fn prove_ranges(
    values: &[(i64, u32)],
    rng: &mut impl Rng,
) -> Result<(RangeProof, Vec<SliceSecret>), ProverError> {
    prove_ranges_within(values, MAX_SLICE_CONSTRAINTS, rng)
}

/// [`prove_ranges`] with slices of at most `max_constraints` constraints each (at least one
/// value per slice): smaller slices, and a padded last one, without a model of 58k weights.
pub fn prove_ranges_within(
    values: &[(i64, u32)],
    max_constraints: usize,
    rng: &mut impl Rng,
) -> Result<(RangeProof, Vec<SliceSecret>), ProverError> {
    for (i, &(v, bits)) in values.iter().enumerate() {
        let half = 1i128 << (bits.clamp(1, MAX_RANGE_BITS) - 1);
        if bits == 0 || bits > MAX_RANGE_BITS || !(-half..half).contains(&(v as i128)) {
            return Err(ProverError::Commitment(format!(
                "committed value {i} = {v} is outside its {bits}-bit width"
            )));
        }
    }
    let runs = runs_of(values);
    let mut classes = Vec::new();
    let mut slices = Vec::new();
    let mut secrets = Vec::new();
    for (k, (bits, wires)) in classes_of(&runs).into_iter().enumerate() {
        let max_len = (max_constraints / (bits as usize + 1)).max(1);
        let len = wires.len().div_ceil(wires.len().div_ceil(max_len));
        let keys = SliceKeys::generate(len, bits, rng)?;
        for slice in slices_of(k, &wires, len) {
            let mut slice_values: Vec<i64> = slice.wires.iter().map(|&w| values[w].0).collect();
            slice_values.resize(len, 0);
            let z = assignment(RangeSlice {
                values: slice_values,
                bits,
            })?;
            let (d, proof, v) = keys.prove(&z, rng)?;
            slices.push(RangeSliceProof {
                class: k as u32,
                d,
                proof,
            });
            secrets.push(SliceSecret {
                pads: vec![Fr::zero(); slice.pads],
                v,
            });
        }
        classes.push(keys.class(bits));
    }
    let range = RangeProof {
        runs,
        classes,
        slices,
    };
    // Checked before it leaves, like every proof the prover makes.
    range
        .verify_slices()
        .map_err(|e| ProverError::Commitment(e.to_string()))?;
    Ok((range, secrets))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_follow_the_wires() {
        assert_eq!(
            runs_of(&[(1, 8), (2, 8), (3, 12), (4, 8)]),
            vec![(8, 2), (12, 1), (8, 1)]
        );
        assert!(runs_of(&[]).is_empty());
    }
}
