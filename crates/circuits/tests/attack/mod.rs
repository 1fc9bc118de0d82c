//! Tools for hand-built malicious witnesses: read a gadget's constraint system back, change
//! chosen witness values, recompute the values that follow from them, and list exactly the
//! constraints the result breaks.
//!
//! An adversarial test then asserts that a witness claiming a *wrong* result breaks exactly
//! the one constraint under test: delete that constraint and the same witness satisfies the
//! system — a forgery. That is what makes each test a test of its constraint (random +1
//! perturbations of an honest witness never produce a non-boolean bit with a compensating
//! neighbour, which is what a real attacker writes).

use ark_ff::One;
use ark_relations::gr1cs::{ConstraintSystem, Matrix, R1CS_PREDICATE_LABEL};
use zkw_circuits::Fr;
use zkw_circuits::lin::{Cs, Lin, fr, instance};

/// A fresh constraint system that records matrices and values.
pub fn cs() -> Cs {
    ConstraintSystem::<Fr>::new_ref()
}

/// A public input carrying the value the prover claims (the gadget's output is bound to it).
pub fn claim(cs: &Cs, value: i64) -> Lin {
    instance(cs, fr(value)).unwrap()
}

/// A finalized system's `A`, `B`, `C` and its full assignment (instance, then witness).
pub struct System {
    cs: Cs,
    /// `[A, B, C]`.
    pub abc: Vec<Matrix<Fr>>,
    /// The assignment; edit it, then [`System::failing`].
    pub z: Vec<Fr>,
    num_instance: usize,
}

impl System {
    /// Finalizes `cs` (inlining every linear combination) and reads it back.
    pub fn new(cs: &Cs) -> System {
        cs.finalize();
        let mut all = cs.to_matrices().unwrap();
        let abc = all.remove(R1CS_PREDICATE_LABEL).unwrap();
        let mut z = cs.instance_assignment().unwrap();
        z.extend(cs.witness_assignment().unwrap());
        System {
            cs: cs.clone(),
            abc,
            z,
            num_instance: cs.num_instance_variables(),
        }
    }

    /// The assignment column of a single-variable linear combination.
    pub fn col(&self, l: &Lin) -> usize {
        assert_eq!(l.terms.len(), 1, "not a single variable: {l:?}");
        let (k, v) = l.terms[0];
        assert!(k.is_one());
        if v.is_witness() {
            self.num_instance + v.index().unwrap()
        } else {
            v.index().unwrap()
        }
    }

    /// The column of the `i`-th witness allocated (in allocation order).
    pub fn wcol(&self, i: usize) -> usize {
        self.num_instance + i
    }

    /// Sets the value at a column.
    pub fn set_col(&mut self, col: usize, value: Fr) {
        self.z[col] = value;
    }

    /// The row `b · (1 - b) = 0` of the boolean at a column.
    pub fn boolean_row_col(&self, c: usize) -> usize {
        (0..self.abc[0].len())
            .find(|&i| {
                self.abc[2][i].is_empty()
                    && self.abc[0][i] == [(Fr::one(), c)]
                    && self.abc[1][i].contains(&(-Fr::one(), c))
            })
            .expect("no boolean constraint for this variable")
    }

    /// The row that defines the product witness at a column.
    pub fn defining_row_col(&self, c: usize) -> usize {
        (0..self.abc[0].len())
            .find(|&i| self.abc[2][i] == [(Fr::one(), c)])
            .expect("no row defines this variable")
    }

    fn dot(&self, row: &[(Fr, usize)]) -> Fr {
        row.iter().map(|(c, i)| *c * self.z[*i]).sum()
    }

    /// Every row whose constraint the assignment breaks.
    pub fn failing(&self) -> Vec<usize> {
        (0..self.abc[0].len())
            .filter(|&i| {
                self.dot(&self.abc[0][i]) * self.dot(&self.abc[1][i]) != self.dot(&self.abc[2][i])
            })
            .collect()
    }

    /// The row `b · (1 - b) = 0` of a boolean.
    pub fn boolean_row(&self, b: &Lin) -> usize {
        self.boolean_row_col(self.col(b))
    }

    /// The row `a · b = w` that defines a product witness `w`.
    pub fn defining_row(&self, w: &Lin) -> usize {
        self.defining_row_col(self.col(w))
    }

    /// Recomputes, in row order, every witness a row defines as a product (`a · b = w`),
    /// except the `pinned` variables the attacker chose and the `exempt` rows under test:
    /// what an attacker does to make every other constraint hold again.
    pub fn repair(&mut self, pinned: &[usize], exempt: &[usize]) {
        for i in 0..self.abc[0].len() {
            if exempt.contains(&i) {
                continue;
            }
            if let [(k, w)] = self.abc[2][i][..]
                && k.is_one()
                && w >= self.num_instance
                && !pinned.contains(&w)
            {
                self.z[w] = self.dot(&self.abc[0][i]) * self.dot(&self.abc[1][i]);
            }
        }
    }

    /// Writes the edited assignment back, so that arkworks' own `is_satisfied` agrees.
    pub fn is_satisfied_by_arkworks(&self) -> bool {
        let mut inner = self.cs.borrow_mut().unwrap();
        let n = self.num_instance;
        inner.assignments.instance_assignment = self.z[..n].to_vec();
        inner.assignments.witness_assignment = self.z[n..].to_vec();
        drop(inner);
        self.cs.is_satisfied().unwrap()
    }
}

/// Asserts that the assignment breaks exactly `rows` (and, as arkworks sees it, is not
/// satisfied): deleting those constraints would let it through.
#[track_caller]
pub fn breaks_exactly(sys: &System, rows: &[usize]) {
    let mut want = rows.to_vec();
    want.sort_unstable();
    want.dedup();
    assert!(!want.is_empty());
    assert_eq!(
        sys.failing(),
        want,
        "the malicious witness breaks other rows than expected"
    );
    assert!(!sys.is_satisfied_by_arkworks());
}

/// Asserts the honest assignment satisfies the system.
#[track_caller]
pub fn honest(sys: &System) {
    assert_eq!(sys.failing(), Vec::<usize>::new());
    assert!(sys.is_satisfied_by_arkworks());
}

/// `v` as a field element, negative values wrapped.
pub fn f(v: i64) -> Fr {
    fr(v)
}
