//! Identity and Dropout (inference): the operand itself.

use super::Ctx;
use crate::error::ModelError;

pub(crate) fn import(cx: &mut Ctx<'_>) -> Result<usize, ModelError> {
    cx.activation(0)
}
