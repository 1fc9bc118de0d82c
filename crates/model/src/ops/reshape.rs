//! Reshape (and Flatten): the same values in the same order under a new shape.

use serde::{Deserialize, Serialize};

use super::{OpSemantics, Parameter};
use crate::tensor::Interval;
use crate::tensor::{TensorInfo, check_shape};

/// Reinterpret the data with a new shape; data order unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reshape {
    /// The new shape, batch excluded.
    pub shape: Vec<usize>,
}

impl OpSemantics for Reshape {
    fn arity(&self) -> usize {
        1
    }

    fn output_info(&self, inputs: &[&TensorInfo]) -> Result<TensorInfo, String> {
        let x = inputs[0];
        let n = check_shape("the output", &self.shape)?;
        if n != x.len() {
            return Err(format!(
                "reshapes {:?} ({} values) to {:?} ({n} values)",
                x.shape,
                x.len(),
                self.shape
            ));
        }
        Ok(TensorInfo {
            shape: self.shape.clone(),
            ..x.clone()
        })
    }

    fn eval(&self, inputs: &[&[i64]]) -> Vec<i64> {
        inputs[0].to_vec()
    }

    fn bounds(&self, inputs: &[Interval], _limit: i128) -> Result<Interval, i128> {
        Ok(inputs[0])
    }

    fn describe(&self) -> String {
        format!("reshape {:?}", self.shape)
    }

    fn parameters(&self) -> Vec<Parameter<'_>> {
        Vec::new()
    }
}
