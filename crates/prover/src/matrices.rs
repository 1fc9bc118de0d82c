//! The R1CS matrices of a model's circuit, synthesized once and reused for every proof.
//!
//! The stock `Groth16::prove` re-synthesizes the circuit and rebuilds these matrices on every
//! call; we build them at setup, store them beside the proving key, and per job only compute the
//! assignment (synthesis with `construct_matrices: false` records nothing).

use ark_relations::gr1cs::{ConstraintSystem, Matrix, R1CS_PREDICATE_LABEL};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use rayon::prelude::*;

use zkw_circuits::Fr;

/// `A`, `B`, `C` and the sizes the prover needs.
#[derive(Debug, Clone, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct R1csMatrices {
    /// Instance variables, the constant 1 included.
    pub num_instance_variables: usize,
    /// Witness variables.
    pub num_witness_variables: usize,
    /// Constraints.
    pub num_constraints: usize,
    /// `[A, B, C]`, each row a list of `(coefficient, variable index)`.
    pub abc: Vec<Matrix<Fr>>,
}

impl R1csMatrices {
    /// Extracts the matrices of a finalized setup-mode system.
    pub fn from_cs(cs: &ConstraintSystem<Fr>) -> Option<Self> {
        let mut all = cs.to_matrices().ok()?;
        let abc = all.remove(R1CS_PREDICATE_LABEL)?;
        (abc.len() == 3).then_some(R1csMatrices {
            num_instance_variables: cs.num_instance_variables(),
            num_witness_variables: cs.num_witness_variables(),
            num_constraints: cs.num_constraints(),
            abc,
        })
    }

    /// Checks the shape a loaded file must have before anything indexes with it: three
    /// matrices of `num_constraints` rows, every column index inside the assignment, at least
    /// the constant-one instance variable. The file's digest catches corruption; this catches a
    /// file that was made or edited with a matching digest.
    pub fn validate(&self) -> Result<(), String> {
        if self.num_instance_variables == 0 {
            return Err("no instance variable (not even the constant 1)".into());
        }
        let n = self
            .num_instance_variables
            .checked_add(self.num_witness_variables)
            .ok_or("the variable count overflows")?;
        // The QAP domain holds every constraint and instance variable; BN254's largest is 2^28.
        match self
            .num_constraints
            .checked_add(self.num_instance_variables)
        {
            Some(d) if d <= 1 << 28 => {}
            _ => return Err("too many constraints for a BN254 evaluation domain".into()),
        }
        if self.abc.len() != 3 {
            return Err(format!("{} matrices, expected A, B and C", self.abc.len()));
        }
        for (name, m) in ["A", "B", "C"].iter().zip(&self.abc) {
            if m.len() != self.num_constraints {
                return Err(format!(
                    "matrix {name} has {} rows, expected {}",
                    m.len(),
                    self.num_constraints
                ));
            }
            for (row, terms) in m.iter().enumerate() {
                if let Some((_, col)) = terms.iter().find(|(_, col)| *col >= n) {
                    return Err(format!(
                        "matrix {name} row {row} names variable {col}, the assignment has {n}"
                    ));
                }
            }
        }
        Ok(())
    }

    /// Number of variables in a full assignment.
    pub fn num_variables(&self) -> usize {
        self.num_instance_variables + self.num_witness_variables
    }

    /// Checks `⟨A_i,z⟩·⟨B_i,z⟩ = ⟨C_i,z⟩` for every row (in parallel); returns the first
    /// failing row.
    pub fn check(&self, z: &[Fr]) -> Result<(), usize> {
        let dot = |row: &[(Fr, usize)]| row.iter().map(|(c, i)| *c * z[*i]).sum::<Fr>();
        let [a, b, c] = [&self.abc[0], &self.abc[1], &self.abc[2]];
        match (0..self.num_constraints)
            .into_par_iter()
            .find_first(|&i| dot(&a[i]) * dot(&b[i]) != dot(&c[i]))
        {
            Some(i) => Err(i),
            None => Ok(()),
        }
    }
}
