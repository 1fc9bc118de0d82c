//! The R1CS matrices of a model's circuit, synthesized once and reused for every proof.
//!
//! The stock `Groth16::prove` re-synthesizes the circuit and rebuilds these matrices on every
//! call; we build them at setup, store them beside the proving key, and per job only compute the
//! assignment (synthesis with `construct_matrices: false` records nothing).

use ark_ff::{One, Zero};
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

    /// The committed wires (the first `committed` witness variables) that have no pivot: an
    /// `A` row in which it is the only committed wire. With a pivot each, the committed wires'
    /// `A` columns have full rank, and their commitment bases are independent (condition S3 of
    /// SECURITY.md's "Committed weights"). Returns the first without one, as a witness index.
    pub fn unpivoted(&self, committed: usize) -> Option<usize> {
        self.pivots(committed).iter().position(|&p| !p)
    }

    fn pivots(&self, committed: usize) -> Vec<bool> {
        let first = self.num_instance_variables;
        let is_committed = |col: usize| (first..first + committed).contains(&col);
        let mut pivoted = vec![false; committed];
        for row in &self.abc[0] {
            let mut cols = row
                .iter()
                .filter(|(coeff, col)| is_committed(*col) && !coeff.is_zero())
                .map(|&(_, col)| col);
            if let (Some(col), None) = (cols.next(), cols.next()) {
                pivoted[col - first] = true;
            }
        }
        pivoted
    }

    /// Gives every committed wire without a pivot one: the row `w · 0 = 0`, which every
    /// assignment satisfies (arkworks' commit-carrying branch adds it for every committed
    /// input; we add it only where the circuit has none). Returns the rows added.
    pub fn pin_committed(&mut self, committed: usize) -> usize {
        let first = self.num_instance_variables;
        let missing: Vec<usize> = self
            .pivots(committed)
            .iter()
            .enumerate()
            .filter(|(_, p)| !**p)
            .map(|(i, _)| first + i)
            .collect();
        for &col in &missing {
            self.abc[0].push(vec![(Fr::one(), col)]);
            self.abc[1].push(Vec::new());
            self.abc[2].push(Vec::new());
        }
        self.num_constraints += missing.len();
        missing.len()
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

#[cfg(test)]
mod tests {
    use super::*;
    use ark_relations::gr1cs::{
        ConstraintSynthesizer, ConstraintSystemRef, LinearCombination, OptimizationGoal,
        SynthesisError, SynthesisMode, Variable,
    };

    /// Public `x`; witnesses `w0, w1, w2, w3, p`: `w0·x = p` (w0's pivot), `(w1 + w2)·1 = x`
    /// (two committed wires in one A row: a pivot of neither), `x·w3 = p` (w3 in B only).
    struct Pivots;
    impl ConstraintSynthesizer<Fr> for Pivots {
        fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
            let x = cs.new_input_variable(|| Ok(Fr::from(6u64)))?;
            let w: Vec<Variable> = [2u64, 4, 2, 2]
                .iter()
                .map(|&v| cs.new_witness_variable(|| Ok(Fr::from(v))))
                .collect::<Result<_, _>>()?;
            let p = cs.new_witness_variable(|| Ok(Fr::from(12u64)))?;
            let lc = |v: Variable| LinearCombination::from(v);
            cs.enforce_r1cs_constraint(|| lc(w[0]), || lc(x), || lc(p))?;
            cs.enforce_r1cs_constraint(|| lc(w[1]) + w[2], || lc(Variable::One), || lc(x))?;
            cs.enforce_r1cs_constraint(|| lc(x), || lc(w[3]), || lc(p))?;
            Ok(())
        }
    }

    fn matrices() -> (R1csMatrices, Vec<Fr>) {
        let cs = ConstraintSystem::<Fr>::new_ref();
        cs.set_optimization_goal(OptimizationGoal::Constraints);
        cs.set_mode(SynthesisMode::Prove {
            construct_matrices: true,
            generate_lc_assignments: false,
        });
        Pivots.generate_constraints(cs.clone()).unwrap();
        cs.finalize();
        let mut z = cs.instance_assignment().unwrap();
        z.extend(cs.witness_assignment().unwrap());
        (R1csMatrices::from_cs(&cs.into_inner().unwrap()).unwrap(), z)
    }

    #[test]
    fn committed_wires_without_a_pivot_row_get_one_that_every_assignment_satisfies() {
        let (mut m, z) = matrices();
        assert_eq!(m.check(&z), Ok(()));
        // A pivot is a row with no other *committed* wire: with two committed wires, w1 is
        // alone in its row; with three, w1 and w2 share it; w3 never is in A.
        assert_eq!(m.unpivoted(0), None);
        assert_eq!(m.unpivoted(1), None);
        assert_eq!(m.unpivoted(2), None);
        assert_eq!(m.unpivoted(3), Some(1));
        assert_eq!(m.unpivoted(4), Some(1));
        let rows = m.num_constraints;
        assert_eq!(m.pin_committed(4), 3);
        assert_eq!(m.num_constraints, rows + 3);
        assert_eq!(m.unpivoted(4), None);
        // Each new row is `w · 0 = 0` for one of w1, w2, w3 (columns 3, 4, 5).
        for (k, col) in [3, 4, 5].into_iter().enumerate() {
            assert_eq!(m.abc[0][rows + k], vec![(Fr::one(), col)]);
            assert!(m.abc[1][rows + k].is_empty() && m.abc[2][rows + k].is_empty());
        }
        assert_eq!(m.validate(), Ok(()));
        // Any values of the committed wires satisfy the new rows.
        let mut other = z.clone();
        other[4] += Fr::from(7u64);
        assert_eq!(m.check(&other).map_err(|row| row < rows), Err(true));
        // Pinned again: nothing left to add.
        assert_eq!(m.pin_committed(4), 0);
    }
}
