//! The element-wise function an ONNX op computes, as its registry row names it: the importer
//! fuses it into tables ([`crate::elementwise`]) and the folder applies it to constants. Its
//! own module, below both the registry (which names one per row) and the importer's modules
//! (which are handed their node's), so neither reaches back into the other.

use tract_onnx::pb::NodeProto;

use crate::elementwise::{Binary, Unary};

/// An element-wise op's function.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Function {
    /// Of one operand, with the node's attributes.
    Unary(fn(&NodeProto) -> Unary),
    /// Of two operands.
    Binary(Binary),
}

impl Function {
    /// The function of one operand `node` computes, if this is one.
    pub(crate) fn unary(self, node: &NodeProto) -> Option<Unary> {
        match self {
            Function::Unary(f) => Some(f(node)),
            Function::Binary(_) => None,
        }
    }

    /// The function of two operands, if this is one.
    pub(crate) fn binary(self) -> Option<Binary> {
        match self {
            Function::Binary(f) => Some(f),
            Function::Unary(_) => None,
        }
    }
}
