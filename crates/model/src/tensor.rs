//! The vocabulary every op is written in: a tensor's format ([`TensorInfo`]), the limits a
//! model file must keep (`MAX_*`), the checks of declared widths, scales, shapes and values,
//! and the integer [`Interval`] of static bounds.
//!
//! It is the bottom of the crate: [`crate::ops`] builds on it alone, [`crate::ir`] (the graph)
//! and [`crate::bounds`] (the analysis) on both, so no module needs one above it.

use serde::{Deserialize, Serialize};

/// Shape and fixed-point format of a tensor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TensorInfo {
    /// Dimensions, batch excluded.
    pub shape: Vec<usize>,
    /// The tensor's integers stand for `v · 2^-frac_bits` (may be negative).
    pub frac_bits: i32,
    /// Signed bit width every value fits in.
    pub bits: u32,
}

impl TensorInfo {
    /// Number of elements (saturating at `usize::MAX`; a validated model's tensors hold at most
    /// [`MAX_ELEMENTS`]).
    pub fn len(&self) -> usize {
        self.shape
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .unwrap_or(usize::MAX)
    }

    /// True when the tensor has no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Largest signed bit width a tensor, weight or bias may be declared with.
pub const MAX_BITS: u32 = 24;

/// The most values one tensor (or one layer's weights) may have: far beyond what a circuit
/// proves, low enough that no count computed from a model file can overflow.
pub const MAX_ELEMENTS: usize = 1 << 24;

/// The most values all of a model's tensors may hold together (the trace's size): a model
/// file of a few bytes must not make a verifier or prover allocate without bound.
pub const MAX_TRACE_VALUES: usize = 1 << 26;

/// The most multiply-accumulates one evaluation of a model may cost, all layers together: a
/// convolution's work grows with its output, not its file size, so a small file could
/// otherwise ask for unbounded work.
pub const MAX_MACS: usize = 1 << 28;

/// The largest scale exponent (`|frac_bits|`) any tensor or weight may have: far beyond what
/// quantization picks, small enough that scales never overflow and `2^-frac_bits` stays a
/// finite, non-zero `f64`.
pub const MAX_FRAC_BITS: i32 = 256;

pub(crate) fn check_frac(what: &str, frac_bits: Option<i32>) -> Result<i32, String> {
    frac_bits
        .filter(|f| f.unsigned_abs() <= MAX_FRAC_BITS as u32)
        .ok_or_else(|| {
            format!(
                "{what}: scale exponent {} is beyond ±{MAX_FRAC_BITS}",
                frac_bits.map_or("(overflow)".to_string(), |f| f.to_string())
            )
        })
}

/// Checks that a tensor of `shape` has between 1 and [`MAX_ELEMENTS`] values.
pub(crate) fn check_shape(what: &str, shape: &[usize]) -> Result<usize, String> {
    let n = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .filter(|&n| n <= MAX_ELEMENTS)
        .ok_or_else(|| format!("{what} of shape {shape:?} has more than {MAX_ELEMENTS} values"))?;
    if n == 0 {
        return Err(format!("{what} has no element"));
    }
    Ok(n)
}

pub(crate) fn check_bits(what: &str, bits: u32) -> Result<(), String> {
    if !(2..=MAX_BITS).contains(&bits) {
        return Err(format!(
            "{what} width of {bits} bits is outside 2..={MAX_BITS}"
        ));
    }
    Ok(())
}

pub(crate) fn check_values(what: &str, values: &[i64], bits: u32) -> Result<(), String> {
    let (lo, hi) = signed_range(bits);
    if let Some((k, v)) = values
        .iter()
        .enumerate()
        .find(|(_, v)| **v < lo || **v > hi)
    {
        return Err(format!(
            "{what} #{k} = {v} does not fit in {bits} signed bits"
        ));
    }
    Ok(())
}

/// The inclusive range `[-2^(bits-1), 2^(bits-1) - 1]` of a signed `bits`-bit integer.
pub fn signed_range(bits: u32) -> (i64, i64) {
    let half = 1i64 << (bits - 1);
    (-half, half - 1)
}

/// An inclusive integer interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interval {
    /// Smallest possible value.
    pub lo: i64,
    /// Largest possible value.
    pub hi: i64,
}

impl Interval {
    /// The interval of a signed `bits`-bit integer.
    pub fn signed(bits: u32) -> Self {
        let (lo, hi) = signed_range(bits);
        Interval { lo, hi }
    }

    /// Largest magnitude in the interval.
    pub fn abs_max(&self) -> i64 {
        self.lo.abs().max(self.hi.abs())
    }

    /// The smallest signed width `k` with `[lo, hi] ⊆ [-2^(k-1), 2^(k-1) - 1]` (at least 1).
    pub fn signed_width(&self) -> u32 {
        let mut k = 1;
        while !(self.lo >= -(1i64 << (k - 1)) && self.hi < (1i64 << (k - 1))) {
            k += 1;
        }
        k
    }

    /// True when the interval lies inside the signed `bits`-bit range.
    pub fn fits_signed(&self, bits: u32) -> bool {
        let (lo, hi) = signed_range(bits);
        self.lo >= lo && self.hi <= hi
    }
}
