//! The one-time range proof's circuit: a slice of committed weights, each within its width.
//!
//! Committed weights are bound by the owner's commitment, not range-checked in every job
//! (SECURITY.md, "Committed weights"). The owner proves their range once, at setup, in slices:
//! each slice's values are this circuit's committed wires (its first witnesses, so that keygen
//! gives them commitment bases), and each is tied to the offset-binary bits of its width —
//! `width` booleanity constraints and one tie per value. A Σ-protocol then links every
//! slice's commitment to the same values inside the model's commitment, so the registered
//! weights are the range-checked ones. The circuit has no public input: the statement is the
//! slice's commitment, added to the constant wire's point like a model's `D_reg`.
//!
//! Its structure depends only on the slice's length and width, never on the values, so one
//! setup serves every slice of that shape.

use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef, SynthesisError,
};

use crate::Fr;
use crate::error::CircuitError;
use crate::lin::{enforce_equal, witness};
use crate::range::signed;

/// A slice of committed values, each to be proved within `bits` signed bits.
#[derive(Debug, Clone)]
pub struct RangeSlice {
    /// The values (the committed wires, in order).
    pub values: Vec<i64>,
    /// Their signed width.
    pub bits: u32,
}

impl RangeSlice {
    /// The circuit of `len` zeros: the shape setup synthesizes.
    pub fn for_setup(len: usize, bits: u32) -> Self {
        RangeSlice {
            values: vec![0; len],
            bits,
        }
    }

    /// Synthesizes in setup mode and returns the constraint system.
    pub fn synthesize_for_matrices(self) -> Result<ConstraintSystem<Fr>, CircuitError> {
        crate::circuit::setup_system(self)
    }
}

impl ConstraintSynthesizer<Fr> for RangeSlice {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        if self.bits == 0 || self.bits > 32 {
            return Err(SynthesisError::Unsatisfiable);
        }
        // The committed wires first, each a single variable.
        let wires = self
            .values
            .iter()
            .map(|&v| witness(&cs, Fr::from(v)))
            .collect::<Result<Vec<_>, _>>()?;
        for (w, &v) in wires.iter().zip(&self.values) {
            let r = signed(&cs, v, self.bits)?;
            enforce_equal(&cs, w, &r.value)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_relations::gr1cs::{OptimizationGoal, SynthesisMode};

    fn satisfied(values: Vec<i64>, bits: u32) -> bool {
        let cs = ConstraintSystem::<Fr>::new_ref();
        RangeSlice { values, bits }
            .generate_constraints(cs.clone())
            .unwrap();
        cs.is_satisfied().unwrap()
    }

    #[test]
    fn values_in_their_width_satisfy_and_others_do_not() {
        assert!(satisfied(vec![-128, 0, 127, 5], 8));
        assert!(!satisfied(vec![128], 8));
        assert!(!satisfied(vec![-129], 8));
        assert!(!satisfied(vec![200], 8));
        assert!(satisfied(vec![-2048, 2047], 12));
        let cs = RangeSlice::for_setup(3, 8)
            .synthesize_for_matrices()
            .unwrap();
        // Width booleanity constraints and one tie per value; the committed wires first.
        assert_eq!(cs.num_constraints(), 3 * 9);
        assert_eq!(cs.num_instance_variables(), 1);
        assert_eq!(cs.num_witness_variables(), 3 + 3 * 8);
    }

    /// A witness that puts 200 in an 8-bit slot must break a constraint: the tie (200 is no
    /// sum of 8 offset bits) when the bits are honest booleans, booleanity when they are not.
    #[test]
    fn a_value_out_of_its_width_breaks_a_constraint() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        // Values evaluated from the assignment on every check, not cached, so that an edited
        // witness is seen.
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Prove {
            construct_matrices: true,
            generate_lc_assignments: false,
        });
        RangeSlice {
            values: vec![100],
            bits: 8,
        }
        .generate_constraints(cs.clone())
        .unwrap();
        cs.finalize();
        assert!(cs.is_satisfied().unwrap());
        // The committed wire is witness 0: set it to 200, the bits unchanged.
        cs.borrow_mut().unwrap().assignments.witness_assignment[0] = Fr::from(200u64);
        assert!(!cs.is_satisfied().unwrap());
    }
}
