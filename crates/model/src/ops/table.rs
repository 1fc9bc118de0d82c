//! Table: an element-wise function given by its value at every input — how every non-linear
//! function (sigmoid, tanh, erf, exp, sqrt, GELU, comparisons, rounding, …) and every fused
//! chain of element-wise ops over one tensor is defined.
//!
//! The importer evaluates the float function once, at import, on each value the quantized
//! input can take, and stores the rounded results. From then on the table *is* the function:
//! the reference executor, the GPU and the circuit all read the same integers, so there is
//! exactly one integer semantics and no floating point anywhere after import. The cost of
//! this exactness is the domain: an input of `w` bits has `2^w` entries, so tables are limited
//! to inputs of at most [`MAX_TABLE_BITS`] bits (the importer requantizes wider inputs first).
//!
//! The table is the model's architecture, not a weight: it is public in both weight modes
//! (a constant of the circuit, fixed by the verifying key, and covered by the model id).

use serde::{Deserialize, Serialize};

use super::{OpSemantics, Parameter};
use crate::tensor::Interval;
use crate::tensor::{TensorInfo, check_bits, check_frac, signed_range};

/// The widest input a table may take: `2^16` entries.
pub const MAX_TABLE_BITS: u32 = 16;

/// `y = table[x + 2^(in_bits - 1)]`, element-wise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    /// What the table computes, for messages and `zkw model inspect` (e.g. `sigmoid(x)`);
    /// not part of the semantics.
    pub function: String,
    /// Signed width of the input domain: one entry per value of
    /// `[-2^(in_bits-1), 2^(in_bits-1))`.
    pub in_bits: u32,
    /// Scale exponent of the output.
    pub frac_bits: i32,
    /// Signed width of the output; every entry fits it.
    pub bits: u32,
    /// The output for each input, the smallest input first.
    pub table: Vec<i64>,
}

impl Table {
    /// The entry index of input `v`, clamped into the domain (the bounds analysis keeps every
    /// input inside it; the clamp only makes the function total).
    pub fn index(&self, v: i64) -> usize {
        let offset = 1i64 << (self.in_bits - 1);
        (v + offset).clamp(0, self.table.len() as i64 - 1) as usize
    }

    /// The output for one input.
    pub fn apply(&self, v: i64) -> i64 {
        self.table[self.index(v)]
    }

    /// The smallest input of the domain.
    pub fn domain_lo(&self) -> i64 {
        -(1i64 << (self.in_bits - 1))
    }
}

impl OpSemantics for Table {
    fn arity(&self) -> usize {
        1
    }

    fn output_info(&self, inputs: &[&TensorInfo]) -> Result<TensorInfo, String> {
        if !(1..=MAX_TABLE_BITS).contains(&self.in_bits) {
            return Err(format!(
                "a table over {}-bit inputs (at most {MAX_TABLE_BITS})",
                self.in_bits
            ));
        }
        if self.table.len() != 1 << self.in_bits {
            return Err(format!(
                "a table over {}-bit inputs needs {} entries, not {}",
                self.in_bits,
                1u64 << self.in_bits,
                self.table.len()
            ));
        }
        check_bits("the table's output", self.bits)?;
        let (lo, hi) = signed_range(self.bits);
        if let Some((k, v)) = self
            .table
            .iter()
            .enumerate()
            .find(|(_, v)| !(lo..=hi).contains(*v))
        {
            return Err(format!(
                "entry #{k} ({v}) does not fit the output's {} bits",
                self.bits
            ));
        }
        let x = inputs[0];
        if x.bits > self.in_bits {
            return Err(format!(
                "the input is {} bits wide, the table covers {}",
                x.bits, self.in_bits
            ));
        }
        Ok(TensorInfo {
            shape: x.shape.clone(),
            frac_bits: check_frac("the output", Some(self.frac_bits))?,
            bits: self.bits,
        })
    }

    fn eval(&self, inputs: &[&[i64]]) -> Vec<i64> {
        inputs[0].iter().map(|&v| self.apply(v)).collect()
    }

    fn bounds(&self, inputs: &[Interval], _limit: i128) -> Result<Interval, i128> {
        let x = inputs[0];
        let (lo, hi) = signed_range(self.in_bits);
        if x.lo < lo || x.hi > hi {
            // An input outside the domain: the table has no entry for it.
            return Err(x.abs_max() as i128);
        }
        let entries = &self.table[self.index(x.lo)..=self.index(x.hi)];
        Ok(Interval {
            lo: entries.iter().copied().min().unwrap_or(0),
            hi: entries.iter().copied().max().unwrap_or(0),
        })
    }

    fn describe(&self) -> String {
        format!("table {} over {}-bit inputs", self.function, self.in_bits)
    }

    fn parameters(&self) -> Vec<Parameter<'_>> {
        // Public in both modes: the function is architecture (see the module docs).
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign() -> Table {
        Table {
            function: "sign(x)".into(),
            in_bits: 3,
            frac_bits: 0,
            bits: 2,
            table: vec![-1, -1, -1, -1, 0, 1, 1, 1],
        }
    }

    #[test]
    fn entries_are_indexed_from_the_smallest_input() {
        let t = sign();
        assert_eq!(t.eval(&[&[-4, -1, 0, 1, 3]]), vec![-1, -1, 0, 1, 1]);
        assert_eq!(t.domain_lo(), -4);
        assert_eq!(
            t.bounds(&[Interval { lo: 0, hi: 3 }], 100),
            Ok(Interval { lo: 0, hi: 1 })
        );
        assert_eq!(t.bounds(&[Interval { lo: -5, hi: 0 }], 100), Err(5));
    }

    #[test]
    fn malformed_tables_are_refused_with_the_reason() {
        let x = TensorInfo {
            shape: vec![2],
            frac_bits: 0,
            bits: 3,
        };
        let mut t = sign();
        t.table.pop();
        assert_eq!(
            t.output_info(&[&x]).unwrap_err(),
            "a table over 3-bit inputs needs 8 entries, not 7"
        );
        let mut t = sign();
        t.table[2] = 2;
        assert_eq!(
            t.output_info(&[&x]).unwrap_err(),
            "entry #2 (2) does not fit the output's 2 bits"
        );
        let wide = TensorInfo {
            bits: 4,
            ..x.clone()
        };
        assert_eq!(
            sign().output_info(&[&wide]).unwrap_err(),
            "the input is 4 bits wide, the table covers 3"
        );
        let t = Table {
            in_bits: 17,
            ..sign()
        };
        assert!(t.output_info(&[&x]).unwrap_err().contains("at most 16"));
        assert_eq!(sign().output_info(&[&x]).unwrap().bits, 2);
    }
}
