//! Ops read only over constants (Shape, ConstantOfShape, Range, Constant) fold at import; one
//! that reaches here reads a computed value and is refused by name.

use crate::ctx::Ctx;
use crate::error::OnnxError;

// Registered ops read only over constants (folded above) arrive here with a
// computed operand.
pub(crate) fn import(cx: &mut Ctx<'_>) -> Result<usize, OnnxError> {
    let node = cx.node;
    let name = cx.name;
    Err(OnnxError::UnsupportedOp {
        op_type: format!("{} of a computed value", node.op_type),
        node: name.to_string(),
    })
}
