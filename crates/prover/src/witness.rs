//! The full assignment of a circuit: synthesized with nothing recorded but the values.
//!
//! `construct_matrices: false` makes arkworks keep no constraints, only the variables' values:
//! the matrices were built once, at setup.

use ark_relations::gr1cs::{
    ConstraintSynthesizer, ConstraintSystem, OptimizationGoal, SynthesisMode,
};
use zkw_circuits::Fr;

use crate::error::ProverError;

/// The full assignment of `circuit`: the instance (its leading constant 1 included), then the
/// witness — the order of the matrices' columns.
pub fn assignment(circuit: impl ConstraintSynthesizer<Fr>) -> Result<Vec<Fr>, ProverError> {
    let cs = ConstraintSystem::<Fr>::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Prove {
        construct_matrices: false,
        generate_lc_assignments: false,
    });
    circuit.generate_constraints(cs.clone())?;
    let mut z = cs.instance_assignment()?;
    z.extend(cs.witness_assignment()?);
    Ok(z)
}
