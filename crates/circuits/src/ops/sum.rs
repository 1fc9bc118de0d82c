//! Sum — the R1CS image of `zkw_model::ops::sum`: each row's sum as a linear combination, no
//! constraint (whatever reads it pins it down, as for Add).

use ark_ff::One;
use zkw_model::ops::Sum;

use crate::Fr;
use crate::lin::{Lin, Val};

/// The sum of each row of the last axis.
pub fn sum(s: &Sum, x: &[Val]) -> Vec<Val> {
    x.chunks(s.axis_len)
        .map(|row| Val::plain(Lin::weighted_sum(row.iter().map(|v| (Fr::one(), &v.lin)))))
        .collect()
}
