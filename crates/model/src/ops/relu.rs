//! ReLU: `max(0, v)`.

use serde::{Deserialize, Serialize};

use super::{OpSemantics, Parameter};
use crate::tensor::Interval;
use crate::tensor::TensorInfo;

/// `max(0, v)`, element-wise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relu;

/// One value.
pub fn relu(v: i64) -> i64 {
    v.max(0)
}

impl OpSemantics for Relu {
    fn arity(&self) -> usize {
        1
    }

    fn output_info(&self, inputs: &[&TensorInfo]) -> Result<TensorInfo, String> {
        Ok(inputs[0].clone())
    }

    fn eval(&self, inputs: &[&[i64]]) -> Vec<i64> {
        inputs[0].iter().map(|&v| relu(v)).collect()
    }

    fn bounds(&self, inputs: &[Interval], _limit: i128) -> Result<Interval, i128> {
        Ok(Interval {
            lo: inputs[0].lo.max(0),
            hi: inputs[0].hi.max(0),
        })
    }

    fn describe(&self) -> String {
        "relu".into()
    }

    fn parameters(&self) -> Vec<Parameter<'_>> {
        Vec::new()
    }
}
