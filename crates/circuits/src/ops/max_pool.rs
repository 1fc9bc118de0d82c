//! MaxPool — the R1CS image of `zkw_model::ops::max_pool`: `max(a, b) = a + relu(b - a)`,
//! folded over each window, so every comparison is the ReLU gadget over the difference
//! (decomposed at the width its static bounds give). No new gadget to trust: the running
//! maximum is a witness tied by one equality to the previous maximum plus the ReLU's output.

use ark_relations::gr1cs::SynthesisError;
use zkw_model::bounds::Interval;
use zkw_model::ops::MaxPool;

use crate::lin::{Cs, Val, enforce_equal, fr, witness};
use crate::ops::relu::relu;

/// The maximum of each window; `values` are the trace's input values (checked, not trusted),
/// `bounds` the input's static interval.
pub fn max_pool(
    cs: &Cs,
    p: &MaxPool,
    x: &[Val],
    values: &[i64],
    bounds: Interval,
) -> Result<Vec<Val>, SynthesisError> {
    let span = difference_span(bounds);
    p.windows()
        .iter()
        .map(|w| {
            let items: Vec<(&Val, i64)> = w.iter().map(|&i| (&x[i], values[i])).collect();
            Ok(maximum(cs, &items, span)?.0)
        })
        .collect()
}

/// Every difference of two values in `[lo, hi]` lies in `[lo - hi, hi - lo]`: the interval a
/// comparison's ReLU decomposes at.
pub fn difference_span(bounds: Interval) -> Interval {
    Interval {
        lo: bounds.lo - bounds.hi,
        hi: bounds.hi - bounds.lo,
    }
}

/// The largest of `items` (each a circuit value and its trace value, a hint) and its trace
/// value; `span` bounds every difference of two items.
pub fn maximum(
    cs: &Cs,
    items: &[(&Val, i64)],
    span: Interval,
) -> Result<(Val, i64), SynthesisError> {
    let (&(first, first_value), rest) = items.split_first().ok_or(SynthesisError::Unsatisfiable)?;
    let (mut acc, mut acc_value) = (Val::plain(first.lin.clone()), first_value);
    for &(v, value) in rest {
        // Trace values are hints: wrapping, so a garbage trace fails the constraints
        // instead of overflowing here.
        let d = Val::plain(v.lin.sub(&acc.lin));
        let d_value = value.wrapping_sub(acc_value);
        let r = relu(cs, &d, d_value, d_value.max(0), span)?;
        acc_value = acc_value.wrapping_add(d_value.max(0));
        // The running maximum as a fresh witness, equal to acc + r: one constraint,
        // so that no linear combination grows with the window.
        let next = witness(cs, fr(acc_value))?;
        enforce_equal(cs, &next, &acc.lin.add(&r.lin))?;
        acc = Val::plain(next);
    }
    Ok((acc, acc_value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Fr;
    use ark_relations::gr1cs::ConstraintSystem;
    use zkw_model::ops::ConvGeometry;

    /// One channel of three values, one window over all of them.
    fn pool() -> MaxPool {
        MaxPool {
            geometry: ConvGeometry {
                in_channels: 1,
                out_channels: 1,
                in_spatial: vec![3],
                kernel: vec![3],
                strides: vec![1],
                dilations: vec![1],
                pads: vec![0, 0],
                groups: 1,
            },
        }
    }

    fn run(actual: [i64; 3], hinted: [i64; 3]) -> (bool, Fr) {
        let cs = ConstraintSystem::<Fr>::new_ref();
        let x: Vec<Val> = actual
            .iter()
            .map(|&v| Val::plain(witness(&cs, fr(v)).unwrap()))
            .collect();
        let bounds = Interval { lo: -8, hi: 7 };
        let y = max_pool(&cs, &pool(), &x, &hinted, bounds).unwrap();
        (cs.is_satisfied().unwrap(), y[0].lin.value)
    }

    #[test]
    fn the_maximum_of_a_window_in_any_order() {
        for v in [[3, 7, -8], [7, 3, -8], [-8, -8, -8], [-1, -5, 6], [7, 7, 7]] {
            let (ok, y) = run(v, v);
            assert!(ok, "{v:?}");
            assert_eq!(y, fr(*v.iter().max().unwrap()), "{v:?}");
        }
    }

    #[test]
    fn comparisons_are_decomposed_at_the_width_of_the_bounds_span() {
        // Bounds [-10, -3]: differences lie in [-7, 7], 4 bits. Each of the two comparisons
        // costs a 4-bit decomposition, its tie, the ReLU product and the running maximum's
        // equality: 7 constraints.
        let cs = ConstraintSystem::<Fr>::new_ref();
        let values = [-4, -9, -3];
        let x: Vec<Val> = values
            .iter()
            .map(|&v| Val::plain(witness(&cs, fr(v)).unwrap()))
            .collect();
        let y = max_pool(&cs, &pool(), &x, &values, Interval { lo: -10, hi: -3 }).unwrap();
        assert_eq!(y[0].lin.value, fr(-3));
        assert!(cs.is_satisfied().unwrap());
        assert_eq!(cs.num_constraints(), 2 * (4 + 1 + 1 + 1));

        // Bounds [-4, 4]: a difference of +8 needs 5 bits (the span's positive end, not its
        // negative one, sets the width).
        let cs = ConstraintSystem::<Fr>::new_ref();
        let values = [-4, 4, 0];
        let x: Vec<Val> = values
            .iter()
            .map(|&v| Val::plain(witness(&cs, fr(v)).unwrap()))
            .collect();
        let y = max_pool(&cs, &pool(), &x, &values, Interval { lo: -4, hi: 4 }).unwrap();
        assert_eq!(y[0].lin.value, fr(4));
        assert!(cs.is_satisfied().unwrap());
        assert_eq!(cs.num_constraints(), 2 * (5 + 1 + 1 + 1));

        // Bounds [-5, 0] (a ReLU'd value negated): differences in [-5, 5], 4 bits.
        let cs = ConstraintSystem::<Fr>::new_ref();
        let values = [-5, 0, -2];
        let x: Vec<Val> = values
            .iter()
            .map(|&v| Val::plain(witness(&cs, fr(v)).unwrap()))
            .collect();
        let y = max_pool(&cs, &pool(), &x, &values, Interval { lo: -5, hi: 0 }).unwrap();
        assert_eq!(y[0].lin.value, fr(0));
        assert!(cs.is_satisfied().unwrap());
        assert_eq!(cs.num_constraints(), 2 * (4 + 1 + 1 + 1));
    }

    #[test]
    fn a_trace_that_hides_the_maximum_is_refused() {
        // The trace says the 7 is a 3: the comparisons' sign bits then come from the lie, and
        // the decomposition of the real difference (4) does not hold.
        let (ok, _) = run([3, 7, -8], [3, 3, -8]);
        assert!(!ok);
        // The trace says the -8 is a 7 (it would win): refused as well.
        let (ok, _) = run([3, 7, -8], [3, 7, 7]);
        assert!(!ok);
    }
}
