//! The one list of ONNX ops the importer reads: what `zkw model ops` prints, what the importer
//! checks an op against before interpreting it, and what the tests hold the importer, the
//! conformance expectations and the README to.
//!
//! Adding an op means a row here and an arm in `import.rs`; the registry test feeds every
//! row to the importer and fails if one falls through to "unsupported".

/// What an op is, for grouping in listings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Layers with weights and spatial ops.
    Linear,
    /// Normalizations.
    Normalization,
    /// Element-wise functions and arithmetic (tables, products, sums).
    Elementwise,
    /// Reductions and selections.
    Reduction,
    /// Data movement and shape computation.
    Shape,
}

impl Kind {
    /// The group's heading.
    pub fn title(self) -> &'static str {
        match self {
            Kind::Linear => "linear and spatial",
            Kind::Normalization => "normalization",
            Kind::Elementwise => "element-wise",
            Kind::Reduction => "reductions and selection",
            Kind::Shape => "shape and data movement",
        }
    }
}

/// One supported ONNX op.
#[derive(Debug, Clone, Copy)]
pub struct OnnxOp {
    /// The ONNX op type.
    pub name: &'static str,
    /// Its group.
    pub kind: Kind,
    /// Its limits, or how it is computed, in a few words.
    pub note: &'static str,
}

const fn op(name: &'static str, kind: Kind, note: &'static str) -> OnnxOp {
    OnnxOp { name, kind, note }
}

use Kind::*;

/// Every ONNX op the importer reads.
pub const SUPPORTED: &[OnnxOp] = &[
    op(
        "Gemm",
        Linear,
        "A a single row (batch 1); transA/transB, alpha, beta",
    ),
    op(
        "MatMul",
        Linear,
        "constant weights over every row, or two activations",
    ),
    op(
        "Conv",
        Linear,
        "1-D/2-D; pads, auto_pad, strides, dilations, groups",
    ),
    op(
        "ConvTranspose",
        Linear,
        "1-D/2-D; strides, pads, dilations, groups, output_padding",
    ),
    op("MaxPool", Linear, "no ceil_mode, no Indices output"),
    op("AveragePool", Linear, "no padding, or count_include_pad"),
    op("GlobalAveragePool", Linear, ""),
    op("GlobalMaxPool", Linear, ""),
    op("Resize", Linear, "nearest, every coordinate transformation"),
    op("Upsample", Linear, "nearest"),
    op(
        "PRelu",
        Linear,
        "a table for one slope, else two ReLUs and constants",
    ),
    op(
        "RNN",
        Linear,
        "forward, tanh, batch 1, unrolled over the static sequence",
    ),
    op(
        "LSTM",
        Linear,
        "forward, default activations, batch 1, unrolled",
    ),
    op(
        "BatchNormalization",
        Normalization,
        "inference mode, per channel",
    ),
    op(
        "InstanceNormalization",
        Normalization,
        "sums, a product and a 1/√ table",
    ),
    op(
        "LayerNormalization",
        Normalization,
        "sums, a product and a 1/√ table",
    ),
    op("Relu", Elementwise, "a sign bit"),
    op("Sigmoid", Elementwise, "table"),
    op("Tanh", Elementwise, "table"),
    op("Erf", Elementwise, "table"),
    op("Exp", Elementwise, "table"),
    op("Log", Elementwise, "table"),
    op("Sqrt", Elementwise, "table"),
    op("Reciprocal", Elementwise, "table"),
    op("Abs", Elementwise, "table"),
    op("Neg", Elementwise, "table"),
    op("Sign", Elementwise, "table"),
    op("Ceil", Elementwise, "table"),
    op("Floor", Elementwise, "table"),
    op("Round", Elementwise, "table"),
    op("Sin", Elementwise, "table"),
    op("Cos", Elementwise, "table"),
    op("Tan", Elementwise, "table"),
    op("Asin", Elementwise, "table"),
    op("Acos", Elementwise, "table"),
    op("Atan", Elementwise, "table"),
    op("Sinh", Elementwise, "table"),
    op("Cosh", Elementwise, "table"),
    op("Asinh", Elementwise, "table"),
    op("Acosh", Elementwise, "table"),
    op("Atanh", Elementwise, "table"),
    op("Softplus", Elementwise, "table"),
    op("Softsign", Elementwise, "table"),
    op("Elu", Elementwise, "table"),
    op("Selu", Elementwise, "table"),
    op("Celu", Elementwise, "table"),
    op("LeakyRelu", Elementwise, "table"),
    op("HardSigmoid", Elementwise, "table"),
    op("HardSwish", Elementwise, "table"),
    op("ThresholdedRelu", Elementwise, "table"),
    op("Mish", Elementwise, "table"),
    op("Clip", Elementwise, "table; scalar bounds"),
    op(
        "Cast",
        Elementwise,
        "to float: nothing; to an integer or bool: a table",
    ),
    op("Not", Elementwise, "table"),
    op("Add", Elementwise, "exact; numpy broadcasting"),
    op("Sub", Elementwise, "exact; numpy broadcasting"),
    op("Mul", Elementwise, "exact product; numpy broadcasting"),
    op(
        "Div",
        Elementwise,
        "by a constant exactly, by a tensor through a 1/x table",
    ),
    op("Pow", Elementwise, "constant exponent (a table)"),
    op("Min", Elementwise, "through a ReLU of the difference"),
    op("Max", Elementwise, "through a ReLU of the difference"),
    op("Less", Elementwise, "table of the difference"),
    op("LessOrEqual", Elementwise, "table of the difference"),
    op("Greater", Elementwise, "table of the difference"),
    op("GreaterOrEqual", Elementwise, "table of the difference"),
    op("Equal", Elementwise, "table of the difference"),
    op("And", Elementwise, "table of the sum"),
    op("Or", Elementwise, "table of the sum"),
    op("Xor", Elementwise, "table of the sum"),
    op(
        "Where",
        Elementwise,
        "b + c·(a - b); same shapes or scalar branches",
    ),
    op(
        "Softmax",
        Reduction,
        "last axis (or all axes from it before opset 13)",
    ),
    op("ReduceSum", Reduction, "any axes"),
    op("ReduceMean", Reduction, "any axes"),
    op("ReduceMax", Reduction, "any axes"),
    op("ReduceMin", Reduction, "any axes"),
    op("ArgMax", Reduction, "first maximum"),
    op("ArgMin", Reduction, "first minimum"),
    op(
        "TopK",
        Reduction,
        "values only; a sorting network of exact comparisons",
    ),
    op("OneHot", Reduction, "constant depth and values"),
    op(
        "Gather",
        Shape,
        "constant indices, or constant data at computed indices",
    ),
    op(
        "GatherElements",
        Reduction,
        "constant indices, or computed ones into ≤ 256",
    ),
    op("Concat", Shape, ""),
    op("Split", Shape, ""),
    op("Slice", Shape, "constant starts, ends, axes, steps"),
    op("Transpose", Shape, ""),
    op("Squeeze", Shape, ""),
    op("Unsqueeze", Shape, ""),
    op("Flatten", Shape, ""),
    op("Reshape", Shape, "0 and -1"),
    op("Expand", Shape, "constant shape"),
    op("Tile", Shape, "constant repeats"),
    op("Pad", Shape, "constant mode"),
    op("Shape", Shape, "folded to a constant"),
    op("ConstantOfShape", Shape, "folded to a constant"),
    op("Range", Shape, "folded to a constant"),
    op("Identity", Shape, ""),
    op("Dropout", Shape, "inference: the identity"),
    op("Constant", Shape, ""),
];

/// Whether the importer reads `op_type`.
pub fn is_supported(op_type: &str) -> bool {
    SUPPORTED.iter().any(|o| o.name == op_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        let mut names: Vec<&str> = SUPPORTED.iter().map(|o| o.name).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n);
    }

    /// The README's list of supported ops names every registered op.
    #[test]
    fn the_readme_lists_every_op() {
        let readme = include_str!("../../../../README.md");
        let list = &readme[readme.find("Supported ONNX ops today").expect("the list")..];
        for op in SUPPORTED {
            assert!(list.contains(op.name), "README does not list {}", op.name);
        }
    }
}
