//! Select — the R1CS image of `zkw_model::ops::select`: wiring. Each output is an operand's
//! value (its sign bit too, when it has one) or the constant fill; no constraint.

use zkw_model::ops::Select;

use crate::Fr;
use crate::lin::{Lin, Val, fr};

/// The selected values.
pub fn select(s: &Select, operands: &[&[Val]]) -> Vec<Val> {
    let all: Vec<&Val> = operands.iter().flat_map(|o| o.iter()).collect();
    let fill = Val {
        lin: Lin::constant(fr(s.fill)),
        non_negative: Some(Lin::constant(Fr::from(u64::from(s.fill >= 0)))),
    };
    s.indices
        .iter()
        .map(|&i| {
            usize::try_from(i)
                .ok()
                .and_then(|i| all.get(i))
                .map_or_else(|| fill.clone(), |v| (*v).clone())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lin::witness;
    use crate::ops::relu::relu;
    use ark_relations::gr1cs::ConstraintSystem;
    use zkw_model::bounds::Interval;

    /// Padding carries its sign: a ReLU after a negative fill gives 0, after a positive one
    /// the fill, each with one product and no decomposition.
    #[test]
    fn a_fill_is_a_constant_with_its_sign_bit() {
        for (fill, want) in [(-5i64, 0i64), (3, 3), (0, 0)] {
            let cs = ConstraintSystem::<Fr>::new_ref();
            let x = [Val::plain(witness(&cs, fr(7)).unwrap())];
            let s = Select {
                what: "pad".into(),
                operands: 1,
                shape: vec![2],
                indices: vec![0, -1],
                fill,
            };
            let y = select(&s, &[&x]);
            assert_eq!(y[0].lin.value, fr(7));
            assert_eq!(y[1].lin.value, fr(fill));
            let bounds = Interval { lo: -8, hi: 7 };
            let r = relu(&cs, &y[1], fill, want, bounds).unwrap();
            assert_eq!(r.lin.value, fr(want), "fill {fill}");
            assert!(cs.is_satisfied().unwrap(), "fill {fill}");
            assert_eq!(
                cs.num_constraints(),
                1,
                "fill {fill}: the sign bit was reused"
            );
        }
    }
}
