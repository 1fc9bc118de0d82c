//! A linear combination that carries its value, and the few primitives gadgets are built from.
//!
//! Gadgets build whole term vectors at once (`LinearCombination += term` is a sorted insert,
//! slow on dense rows of thousands of terms) and only materialize them when the constraint
//! system records matrices; when proving with cached matrices the closures never run.

use ark_ff::{One, Zero};
use ark_relations::gr1cs::{ConstraintSystemRef, LinearCombination, SynthesisError, Variable};

use crate::Fr;

/// The constraint system every gadget writes to.
pub type Cs = ConstraintSystemRef<Fr>;

/// `Σ coeff · var`, with its value under the current assignment.
#[derive(Debug, Clone, Default)]
pub struct Lin {
    /// The terms (may repeat variables; compacted when a constraint is recorded).
    pub terms: Vec<(Fr, Variable)>,
    /// The value.
    pub value: Fr,
}

impl Lin {
    /// The constant `c`.
    pub fn constant(c: Fr) -> Lin {
        Lin {
            terms: if c.is_zero() {
                vec![]
            } else {
                vec![(c, Variable::one())]
            },
            value: c,
        }
    }

    /// A single variable.
    pub fn var(v: Variable, value: Fr) -> Lin {
        Lin {
            terms: vec![(Fr::one(), v)],
            value,
        }
    }

    /// `self + other`.
    pub fn add(&self, other: &Lin) -> Lin {
        let mut terms = Vec::with_capacity(self.terms.len() + other.terms.len());
        terms.extend_from_slice(&self.terms);
        terms.extend_from_slice(&other.terms);
        Lin {
            terms,
            value: self.value + other.value,
        }
    }

    /// `self - other`.
    pub fn sub(&self, other: &Lin) -> Lin {
        self.add(&other.scale(-Fr::one()))
    }

    /// `c · self`.
    pub fn scale(&self, c: Fr) -> Lin {
        Lin {
            terms: self.terms.iter().map(|(k, v)| (*k * c, *v)).collect(),
            value: self.value * c,
        }
    }

    /// `self + c`.
    pub fn add_const(&self, c: Fr) -> Lin {
        self.add(&Lin::constant(c))
    }

    /// `Σ c_i · l_i`, built in one allocation.
    pub fn weighted_sum<'a>(items: impl IntoIterator<Item = (Fr, &'a Lin)>) -> Lin {
        let mut out = Lin::default();
        for (c, l) in items {
            if c.is_zero() {
                continue;
            }
            out.terms.extend(l.terms.iter().map(|(k, v)| (*k * c, *v)));
            out.value += l.value * c;
        }
        out
    }

    /// The arkworks linear combination.
    pub fn to_lc(&self) -> LinearCombination<Fr> {
        let mut lc = LinearCombination(self.terms.clone());
        lc.compactify();
        lc
    }
}

/// A field element from a signed integer.
pub fn fr(v: i64) -> Fr {
    zkw_verifier::field::fr_from_i64(v)
}

/// A new witness variable.
pub fn witness(cs: &Cs, value: Fr) -> Result<Lin, SynthesisError> {
    let v = cs.new_witness_variable(|| Ok(value))?;
    Ok(Lin::var(v, value))
}

/// A new public-input variable.
pub fn instance(cs: &Cs, value: Fr) -> Result<Lin, SynthesisError> {
    let v = cs.new_input_variable(|| Ok(value))?;
    Ok(Lin::var(v, value))
}

/// Enforces `a · b = c`.
pub fn enforce(cs: &Cs, a: &Lin, b: &Lin, c: &Lin) -> Result<(), SynthesisError> {
    cs.enforce_r1cs_constraint(|| a.to_lc(), || b.to_lc(), || c.to_lc())
}

/// Enforces `a = b` (one constraint, `(a - b) · 1 = 0`).
pub fn enforce_equal(cs: &Cs, a: &Lin, b: &Lin) -> Result<(), SynthesisError> {
    enforce(cs, &a.sub(b), &Lin::constant(Fr::one()), &Lin::default())
}

/// A witness constrained boolean by `b · (1 - b) = 0`, with the value given as a field
/// element. Honest callers pass 0 or 1 (`crate::range::bit_values`); the adversarial tests pass
/// anything else and expect this constraint, and only it, to fail.
pub fn boolean_value(cs: &Cs, value: Fr) -> Result<Lin, SynthesisError> {
    let b = witness(cs, value)?;
    // Built inside the closures: when proving with cached matrices they never run, and range
    // checks make hundreds of thousands of these.
    cs.enforce_r1cs_constraint(|| b.to_lc(), || not(&b).to_lc(), LinearCombination::zero)?;
    Ok(b)
}

/// `1 - b` for a boolean.
pub fn not(b: &Lin) -> Lin {
    Lin::constant(Fr::one()).sub(b)
}

/// A witness product `a · b`, constrained.
pub fn product(cs: &Cs, a: &Lin, b: &Lin) -> Result<Lin, SynthesisError> {
    let p = witness(cs, a.value * b.value)?;
    enforce(cs, a, b, &p)?;
    Ok(p)
}

/// One element of a tensor inside the circuit.
#[derive(Debug, Clone)]
pub struct Val {
    /// The element.
    pub lin: Lin,
    /// A boolean that is 1 exactly when the element is non-negative, when a range check
    /// already produced one (ReLU reuses it instead of decomposing again).
    pub non_negative: Option<Lin>,
}

impl Val {
    /// An element with no known sign bit.
    pub fn plain(lin: Lin) -> Val {
        Val {
            lin,
            non_negative: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_relations::gr1cs::ConstraintSystem;

    #[test]
    fn linear_combinations_carry_their_values() {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let x = witness(&cs, fr(5)).unwrap();
        let y = witness(&cs, fr(-3)).unwrap();
        assert_eq!(x.add(&y).value, fr(2));
        assert_eq!(x.sub(&y).value, fr(8));
        assert_eq!(x.scale(fr(7)).value, fr(35));
        assert_eq!(x.scale(fr(-1)).value, fr(-5));
        assert_eq!(x.add_const(fr(10)).value, fr(15));
        assert_eq!(Lin::constant(fr(4)).value, fr(4));
        assert!(Lin::constant(fr(0)).terms.is_empty());
        assert_eq!(not(&Lin::constant(fr(1))).value, fr(0));
        let w = Lin::weighted_sum([(fr(2), &x), (fr(0), &y), (fr(3), &y)]);
        assert_eq!(w.value, fr(1));
        assert_eq!(w.terms.len(), 2, "zero weights add no term");
        let p = product(&cs, &x, &y).unwrap();
        assert_eq!(p.value, fr(-15));
        assert!(cs.is_satisfied().unwrap());
        // The constraint system sees the same values through the terms.
        assert_eq!(x.scale(fr(7)).to_lc().0, vec![(fr(7), x.terms[0].1)]);
    }
}
