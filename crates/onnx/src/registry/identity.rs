//! Identity and Dropout (inference): the operand itself.

use crate::ctx::Ctx;
use crate::error::OnnxError;

pub(crate) fn import(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    cx.activation(0)
}
