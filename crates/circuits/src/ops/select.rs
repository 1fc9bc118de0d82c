//! Select — the R1CS image of `zkw_model::ops::select`: wiring. Each output is an operand's
//! value (its sign bit too, when it has one) or the constant fill; no constraint.

use zkw_model::Select;

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
