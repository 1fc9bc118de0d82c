//! The one-time range proof of committed weights: every value behind the owner's commitment
//! lies within its declared width (SECURITY.md, "Committed weights").
//!
//! The weights' wires are grouped by width into classes, in wire order; each class is cut into
//! equal slices (the last padded), and each slice is proved in range by a Groth16 proof of
//! `zkw_circuits::range_slice` whose committed wires are the slice's values, its commitment
//! `D'_k` added to the constant wire's point. [`crate::opening::Opening`] links every
//! `D'_k` to the same values inside the model's `D_reg`. Slicing keeps a 1M-weight model's
//! one-time proof within a few hundred thousand constraints per proof instead of nine million
//! in one.
//!
//! The slices' keys come from the owner's setup, like the model's own keys (condition S6:
//! whoever runs setup is trusted to have dropped its trapdoor); the proof's digest is bound into
//! the opening's challenge, so none of it can be swapped afterwards.

use ark_bn254::{Bn254, G1Affine};
use ark_groth16::{Groth16, Proof, VerifyingKey, prepare_verifying_key};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};

use crate::commitment::{CommitmentKey, canonical_bytes, from_canonical_bytes};
use crate::error::VerificationError;

/// The widest value a range class may declare: a parameter's width (`Width`, 1..=32).
pub const MAX_RANGE_BITS: u32 = 32;

/// The slices of one width.
#[derive(Debug, Clone, PartialEq, CanonicalSerialize, CanonicalDeserialize)]
pub struct RangeClass {
    /// The signed width every value of the class lies within.
    pub bits: u32,
    /// Values per slice (the last slice is padded to it).
    pub slice_len: u64,
    /// The slice circuit's verifying key (no public input).
    pub vk: VerifyingKey<Bn254>,
    /// The slice circuit's commitment key: one base per value of a slice.
    pub ck: CommitmentKey,
}

/// One slice's proof.
#[derive(Debug, Clone, PartialEq, CanonicalSerialize, CanonicalDeserialize)]
pub struct RangeSliceProof {
    /// Its class (index into [`RangeProof::classes`]).
    pub class: u32,
    /// The slice's commitment `D'_k` over the class's key.
    pub d: G1Affine,
    /// The Groth16 proof that the values behind `d` lie within the class's width.
    pub proof: Proof<Bn254>,
}

/// The range proof of a committed-weights model.
#[derive(Debug, Clone, PartialEq, CanonicalSerialize, CanonicalDeserialize)]
pub struct RangeProof {
    /// The weights' widths in wire order, as runs `(bits, count)`.
    pub runs: Vec<(u32, u64)>,
    /// One class per distinct width, in order of first appearance.
    pub classes: Vec<RangeClass>,
    /// The slices, class by class, each class's in wire order.
    pub slices: Vec<RangeSliceProof>,
}

/// Where one slice's values sit among the committed wires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SliceLayout {
    /// Its class.
    pub class: usize,
    /// The committed wires it holds, in order.
    pub wires: Vec<usize>,
    /// Padding values after them (to the class's slice length).
    pub pads: usize,
}

/// The distinct widths of `runs` in order of first appearance, with each one's wires in order.
pub fn classes_of(runs: &[(u32, u64)]) -> Vec<(u32, Vec<usize>)> {
    let mut classes: Vec<(u32, Vec<usize>)> = Vec::new();
    let mut wire = 0usize;
    for &(bits, count) in runs {
        let at = match classes.iter().position(|(b, _)| *b == bits) {
            Some(at) => at,
            None => {
                classes.push((bits, Vec::new()));
                classes.len() - 1
            }
        };
        classes[at].1.extend(wire..wire + count as usize);
        wire += count as usize;
    }
    classes
}

/// The slices `slice_len` values long of one class's wires (the last one padded).
pub fn slices_of(class: usize, wires: &[usize], slice_len: usize) -> Vec<SliceLayout> {
    wires
        .chunks(slice_len.max(1))
        .map(|chunk| SliceLayout {
            class,
            wires: chunk.to_vec(),
            pads: slice_len - chunk.len(),
        })
        .collect()
}

impl RangeProof {
    /// Checks the proof's shape against a commitment key of `wires` committed wires and
    /// returns each slice's layout: the runs cover exactly the wires with widths in
    /// `1..=MAX_RANGE_BITS`, one class per distinct width in order, each with a slice circuit
    /// of no public input and a key of its slice length, and each class's slices in order,
    /// as many as its wires need.
    pub fn layout(&self, wires: usize) -> Result<Vec<SliceLayout>, VerificationError> {
        let malformed = |reason: String| VerificationError::Malformed {
            what: "range proof",
            reason,
        };
        let mut total = 0u64;
        for &(bits, count) in &self.runs {
            if bits == 0 || bits > MAX_RANGE_BITS || count == 0 {
                return Err(malformed(format!("a run of {count} values of {bits} bits")));
            }
            total = total
                .checked_add(count)
                .ok_or_else(|| malformed("the runs overflow".into()))?;
        }
        if total != wires as u64 {
            return Err(malformed(format!(
                "the runs cover {total} values, the commitment key has {wires}"
            )));
        }
        let classes = classes_of(&self.runs);
        if classes.len() != self.classes.len() {
            return Err(malformed(format!(
                "{} classes for {} distinct widths",
                self.classes.len(),
                classes.len()
            )));
        }
        let mut layout = Vec::new();
        for (k, ((bits, class_wires), class)) in classes.iter().zip(&self.classes).enumerate() {
            let len = usize::try_from(class.slice_len).unwrap_or(usize::MAX);
            if class.bits != *bits
                || len == 0
                || len > wires
                || class.ck.bases.len() != len
                || class.vk.gamma_abc_g1.len() != 1
            {
                return Err(malformed(format!(
                    "class {k} is not a slice of {bits}-bit values with its key"
                )));
            }
            class
                .ck
                .check()
                .map_err(|e| malformed(format!("class {k}'s commitment key: {e}")))?;
            layout.extend(slices_of(k, class_wires, len));
        }
        let found: Vec<usize> = self.slices.iter().map(|s| s.class as usize).collect();
        let want: Vec<usize> = layout.iter().map(|s| s.class).collect();
        if found != want {
            return Err(malformed(format!(
                "{} slices, the layout has {}",
                found.len(),
                want.len()
            )));
        }
        Ok(layout)
    }

    /// Each slice's Groth16 proof against its class's key, its commitment added to the
    /// constant wire's point.
    pub fn verify_slices(&self) -> Result<(), VerificationError> {
        let prepared: Vec<_> = self
            .classes
            .iter()
            .map(|c| prepare_verifying_key(&c.vk))
            .collect();
        for (k, s) in self.slices.iter().enumerate() {
            let class = &self.classes[s.class as usize];
            let pvk = &prepared[s.class as usize];
            let l = class.vk.gamma_abc_g1[0] + s.d;
            match Groth16::<Bn254>::verify_proof_with_prepared_inputs(pvk, &s.proof, &l) {
                Ok(true) => {}
                _ => {
                    return Err(VerificationError::BadOpening(format!(
                        "the range proof of slice {k} ({}-bit values) does not verify",
                        class.bits
                    )));
                }
            }
        }
        Ok(())
    }

    /// blake3 (own derivation context) of the proof's bytes: what the opening's challenge
    /// binds.
    pub fn digest(&self) -> [u8; 32] {
        let mut h = blake3::Hasher::new_derive_key("zkworker 2026-12 weight range proof");
        h.update(&self.to_bytes());
        *h.finalize().as_bytes()
    }

    /// The proof's uncompressed bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        canonical_bytes(self)
    }

    /// Parses a proof's uncompressed bytes (points checked on their curves); nothing may
    /// follow.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, VerificationError> {
        from_canonical_bytes(bytes, "range proof")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_first_appearance_and_slices_pad_the_last() {
        let classes = classes_of(&[(8, 3), (12, 2), (8, 2)]);
        assert_eq!(classes, vec![(8, vec![0, 1, 2, 5, 6]), (12, vec![3, 4])]);
        let slices = slices_of(0, &classes[0].1, 2);
        assert_eq!(slices.len(), 3);
        assert_eq!(slices[2].wires, vec![6]);
        assert_eq!(slices[2].pads, 1);
        assert_eq!(slices[0].pads, 0);
    }
}
