//! Signed bit widths, and the check that a value fits one.
//!
//! Packing puts several values into one field element side by side (see [`crate::digest`]).
//! That is injective only while every value stays inside its declared width: a value one step
//! too large carries into its neighbour's bits, and `y[i] + 2^bits, y[i+1] - 1` packs to the
//! same element as `y[i], y[i+1]`. So a width is a type ([`Width`], always in
//! `1..=`[`MAX_WIDTH`]) and every packing path checks each value against it first
//! ([`Width::check`]), naming the first value that does not fit.

use serde::{Deserialize, Serialize};

/// The widest signed value a statement packs: accumulators are `i32`.
pub const MAX_WIDTH: u32 = 32;

/// A signed bit width in `1..=MAX_WIDTH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Width(u32);

/// A width outside `1..=MAX_WIDTH`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("bit width {0} is outside 1..={MAX_WIDTH}")]
pub struct BadWidth(pub u32);

/// A value outside the signed range of its width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("value #{index} = {value} is outside the signed {bits}-bit range")]
pub struct OutOfRange {
    /// Position of the value in its tensor.
    pub index: usize,
    /// The value.
    pub value: i64,
    /// The declared width.
    pub bits: u32,
}

impl Width {
    /// A width, if `bits` is in `1..=MAX_WIDTH`.
    pub fn new(bits: u32) -> Result<Self, BadWidth> {
        if (1..=MAX_WIDTH).contains(&bits) {
            Ok(Width(bits))
        } else {
            Err(BadWidth(bits))
        }
    }

    /// The number of bits.
    pub fn bits(self) -> u32 {
        self.0
    }

    /// The inclusive range `[-2^(bits-1), 2^(bits-1) - 1]`.
    pub fn range(self) -> (i64, i64) {
        let half = 1i64 << (self.0 - 1);
        (-half, half - 1)
    }

    /// Whether `v` lies in [`Width::range`].
    pub fn contains(self, v: i64) -> bool {
        let (lo, hi) = self.range();
        lo <= v && v <= hi
    }

    /// Checks every value; the error names the first one outside the range.
    pub fn check(self, values: &[i64]) -> Result<(), OutOfRange> {
        match values.iter().position(|&v| !self.contains(v)) {
            None => Ok(()),
            Some(index) => Err(OutOfRange {
                index,
                value: values[index],
                bits: self.0,
            }),
        }
    }

    /// How many values of this width share one field element (248 bits, 31 bytes).
    pub fn per_element(self) -> usize {
        (248 / self.0) as usize
    }
}

impl TryFrom<u32> for Width {
    type Error = BadWidth;
    fn try_from(bits: u32) -> Result<Self, BadWidth> {
        Width::new(bits)
    }
}

impl From<Width> for u32 {
    fn from(w: Width) -> u32 {
        w.0
    }
}

impl std::fmt::Display for Width {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} bits", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_outside_one_to_thirty_two_are_refused() {
        assert_eq!(Width::new(0), Err(BadWidth(0)));
        assert_eq!(Width::new(33), Err(BadWidth(33)));
        assert_eq!(Width::new(64), Err(BadWidth(64)));
        assert_eq!(Width::new(1).unwrap().range(), (-1, 0));
        assert_eq!(Width::new(8).unwrap().range(), (-128, 127));
        assert_eq!(
            Width::new(32).unwrap().range(),
            (i32::MIN as i64, i32::MAX as i64)
        );
        assert_eq!(BadWidth(0).to_string(), "bit width 0 is outside 1..=32");
    }

    #[test]
    fn check_names_the_first_value_out_of_range() {
        let w = Width::new(8).unwrap();
        assert_eq!(w.check(&[-128, 0, 127]), Ok(()));
        let e = w.check(&[0, 128, -129]).unwrap_err();
        assert_eq!(
            e,
            OutOfRange {
                index: 1,
                value: 128,
                bits: 8
            }
        );
        assert_eq!(
            e.to_string(),
            "value #1 = 128 is outside the signed 8-bit range"
        );
        assert!(w.check(&[-129]).is_err());
        assert!(w.check(&[i64::MAX]).is_err());
        assert!(w.check(&[i64::MIN]).is_err());
    }

    #[test]
    fn per_element_fills_at_most_248_bits() {
        for bits in 1..=MAX_WIDTH {
            let w = Width::new(bits).unwrap();
            assert!(w.per_element() as u32 * bits <= 248);
            assert!((w.per_element() as u32 + 1) * bits > 248);
        }
    }

    #[test]
    fn widths_print_as_bits() {
        assert_eq!(Width::new(8).unwrap().to_string(), "8 bits");
    }

    #[test]
    fn serde_refuses_bad_widths() {
        assert_eq!(serde_json::from_str::<Width>("8").unwrap().bits(), 8);
        assert!(serde_json::from_str::<Width>("0").is_err());
        assert!(serde_json::from_str::<Width>("64").is_err());
        assert_eq!(serde_json::to_string(&Width(8)).unwrap(), "8");
    }
}
