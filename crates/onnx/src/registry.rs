//! The one list of ONNX ops the importer reads: what `zkw model ops` prints, what the importer
//! checks an op against before interpreting it, and what the tests hold the importer, the
//! conformance expectations and the README to.
//!
//! It is also the importer's dispatch table: each row names the module of `super::ops` that
//! reads the op. Adding an op means a module there and a row here; the registry test feeds
//! every row to the importer and fails if one falls through to "unsupported".

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
    /// The module function that reads one node of it.
    pub(super) import: Import,
    /// How a node of it is computed at import when its operands are constants (`fold.rs`);
    /// `None`: element-wise ops fold through their function, others never.
    pub(super) fold: Option<Fold>,
}

const fn op(name: &'static str, kind: Kind, note: &'static str, import: Import) -> OnnxOp {
    OnnxOp {
        name,
        kind,
        note,
        import,
        fold: None,
    }
}

impl OnnxOp {
    /// This row, folded by `f` when its operands are constants.
    const fn folds(self, f: FoldFn) -> OnnxOp {
        OnnxOp {
            fold: Some(Fold::OfConstants(f)),
            ..self
        }
    }

    /// This row, always folded by `f` (its value never depends on an input's values).
    const fn always_folds(self, f: FoldFn) -> OnnxOp {
        OnnxOp {
            fold: Some(Fold::Always(f)),
            ..self
        }
    }
}

use super::fold::{self, Fold, FoldFn};
use super::ops::*;
use Kind::*;

/// Every ONNX op the importer reads.
pub const SUPPORTED: &[OnnxOp] = &[
    op(
        "Gemm",
        Linear,
        "A a single row (batch 1); transA/transB, alpha, beta",
        gemm::import,
    ),
    op(
        "MatMul",
        Linear,
        "constant weights over every row, or two activations",
        matmul::import,
    ),
    op(
        "Conv",
        Linear,
        "1-D/2-D; pads, auto_pad, strides, dilations, groups",
        conv::import,
    ),
    op(
        "ConvTranspose",
        Linear,
        "1-D/2-D; strides, pads, dilations, groups, output_padding",
        conv_transpose::import,
    ),
    op(
        "MaxPool",
        Linear,
        "no ceil_mode, no Indices output",
        max_pool::import,
    ),
    op(
        "AveragePool",
        Linear,
        "no padding, or count_include_pad",
        pool::import,
    ),
    op("GlobalAveragePool", Linear, "", pool::import),
    op("GlobalMaxPool", Linear, "", pool::import),
    op(
        "Resize",
        Linear,
        "nearest or linear, every coordinate transformation",
        resize::import,
    ),
    op("Upsample", Linear, "nearest or linear", resize::import),
    op(
        "PRelu",
        Linear,
        "a table for one slope, else two ReLUs and constants",
        prelu::import,
    ),
    op(
        "RNN",
        Linear,
        "forward, tanh, batch 1, unrolled over the static sequence",
        recurrent::import,
    ),
    op(
        "LSTM",
        Linear,
        "forward, default activations, batch 1, unrolled",
        recurrent::import,
    ),
    op(
        "BatchNormalization",
        Normalization,
        "inference mode; folded into the layer before, else per channel",
        batch_norm::import,
    ),
    op(
        "InstanceNormalization",
        Normalization,
        "sums, a product and a 1/√ table",
        normalize::import,
    ),
    op(
        "LayerNormalization",
        Normalization,
        "sums, a product and a 1/√ table",
        normalize::import,
    ),
    op("Relu", Elementwise, "a sign bit", unary::import),
    op("Sigmoid", Elementwise, "table", unary::import),
    op("Tanh", Elementwise, "table", unary::import),
    op("Erf", Elementwise, "table", unary::import),
    op(
        "Gelu",
        Elementwise,
        "table; exact or tanh form",
        unary::import,
    ),
    op("Exp", Elementwise, "table", unary::import),
    op("Log", Elementwise, "table", unary::import),
    op("Sqrt", Elementwise, "table", unary::import),
    op("Reciprocal", Elementwise, "table", unary::import),
    op("Abs", Elementwise, "table", unary::import),
    op("Neg", Elementwise, "table", unary::import),
    op("Sign", Elementwise, "table", unary::import),
    op("Ceil", Elementwise, "table", unary::import),
    op("Floor", Elementwise, "table", unary::import),
    op("Round", Elementwise, "table", unary::import),
    op("Sin", Elementwise, "table", unary::import),
    op("Cos", Elementwise, "table", unary::import),
    op("Tan", Elementwise, "table", unary::import),
    op("Asin", Elementwise, "table", unary::import),
    op("Acos", Elementwise, "table", unary::import),
    op("Atan", Elementwise, "table", unary::import),
    op("Sinh", Elementwise, "table", unary::import),
    op("Cosh", Elementwise, "table", unary::import),
    op("Asinh", Elementwise, "table", unary::import),
    op("Acosh", Elementwise, "table", unary::import),
    op("Atanh", Elementwise, "table", unary::import),
    op("Softplus", Elementwise, "table", unary::import),
    op("Softsign", Elementwise, "table", unary::import),
    op("Elu", Elementwise, "table", unary::import),
    op("Selu", Elementwise, "table", unary::import),
    op("Celu", Elementwise, "table", unary::import),
    op("LeakyRelu", Elementwise, "table", unary::import),
    op("HardSigmoid", Elementwise, "table", unary::import),
    op("HardSwish", Elementwise, "table", unary::import),
    op("ThresholdedRelu", Elementwise, "table", unary::import),
    op("Mish", Elementwise, "table", unary::import),
    op("Clip", Elementwise, "table; scalar bounds", clip::import),
    op(
        "Cast",
        Elementwise,
        "to float: nothing; to an integer or bool: a table",
        cast::import,
    )
    .folds(fold::identity),
    op("Not", Elementwise, "table", unary::import),
    op(
        "Add",
        Elementwise,
        "exact; numpy broadcasting",
        binary::import,
    ),
    op(
        "Sub",
        Elementwise,
        "exact; numpy broadcasting",
        binary::import,
    ),
    op(
        "Mul",
        Elementwise,
        "exact product; numpy broadcasting",
        binary::import,
    ),
    op(
        "Div",
        Elementwise,
        "by a constant exactly, by a tensor through a 1/x table",
        binary::import,
    ),
    op(
        "Pow",
        Elementwise,
        "constant exponent (a table)",
        binary::import,
    ),
    op(
        "Min",
        Elementwise,
        "through a ReLU of the difference",
        binary::import,
    ),
    op(
        "Max",
        Elementwise,
        "through a ReLU of the difference",
        binary::import,
    ),
    op(
        "Less",
        Elementwise,
        "table of the difference",
        binary::import,
    ),
    op(
        "LessOrEqual",
        Elementwise,
        "table of the difference",
        binary::import,
    ),
    op(
        "Greater",
        Elementwise,
        "table of the difference",
        binary::import,
    ),
    op(
        "GreaterOrEqual",
        Elementwise,
        "table of the difference",
        binary::import,
    ),
    op(
        "Equal",
        Elementwise,
        "table of the difference",
        binary::import,
    ),
    op("And", Elementwise, "table of the sum", binary::import),
    op("Or", Elementwise, "table of the sum", binary::import),
    op("Xor", Elementwise, "table of the sum", binary::import),
    op(
        "Where",
        Elementwise,
        "b + c·(a - b), same shapes or scalar branches; a constant condition: a selection",
        r#where::import,
    ),
    op(
        "Softmax",
        Reduction,
        "last axis (or all axes from it before opset 13)",
        softmax::import,
    ),
    op(
        "LogSoftmax",
        Reduction,
        "as Softmax; x − max − log Σ exp(x − max)",
        log_softmax::import,
    ),
    op("ReduceSum", Reduction, "any axes", reduce::import),
    op("ReduceMean", Reduction, "any axes", reduce::import),
    op("ReduceMax", Reduction, "any axes", reduce::import),
    op("ReduceMin", Reduction, "any axes", reduce::import),
    op("ArgMax", Reduction, "first maximum", arg_max::import),
    op("ArgMin", Reduction, "first minimum", arg_max::import),
    op(
        "TopK",
        Reduction,
        "values only; a sorting network of exact comparisons",
        top_k::import,
    ),
    op(
        "OneHot",
        Reduction,
        "constant depth and values",
        one_hot::import,
    ),
    op(
        "Gather",
        Shape,
        "constant indices, or constant data at computed indices",
        gather::import,
    )
    .folds(fold::gather),
    op(
        "GatherElements",
        Reduction,
        "constant indices, or computed ones into ≤ 256",
        gather_elements::import,
    ),
    op("Concat", Shape, "", concat::import).folds(fold::concat),
    op("Split", Shape, "", split::import),
    op(
        "Slice",
        Shape,
        "constant starts, ends, axes, steps",
        slice::import,
    )
    .folds(fold::slice),
    op("Transpose", Shape, "", transpose::import).folds(fold::transpose),
    op("Squeeze", Shape, "", squeeze::import).folds(fold::squeeze),
    op("Unsqueeze", Shape, "", squeeze::import).folds(fold::unsqueeze),
    op("Flatten", Shape, "", reshape::import),
    op("Reshape", Shape, "0 and -1", reshape::import).folds(fold::reshape),
    op("Expand", Shape, "constant shape", expand::import),
    op("Tile", Shape, "constant repeats", tile::import),
    op("Pad", Shape, "constant mode", pad::import),
    op("Shape", Shape, "folded to a constant", shape::import).always_folds(fold::shape),
    op(
        "ConstantOfShape",
        Shape,
        "folded to a constant",
        shape::import,
    )
    .folds(fold::constant_of_shape),
    op("Range", Shape, "folded to a constant", shape::import).folds(fold::range),
    op("NonZero", Shape, "of a constant: folded", shape::import).folds(fold::non_zero),
    op("Identity", Shape, "", identity::import).folds(fold::identity),
    op(
        "Dropout",
        Shape,
        "inference: the identity",
        identity::import,
    )
    .folds(fold::identity),
    op("Constant", Shape, "", shape::import).always_folds(fold::constant),
];

/// The registered op `op_type`, if the importer reads it.
pub fn lookup(op_type: &str) -> Option<&'static OnnxOp> {
    SUPPORTED.iter().find(|o| o.name == op_type)
}

/// Whether the importer reads `op_type`.
pub fn is_supported(op_type: &str) -> bool {
    lookup(op_type).is_some()
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

    /// An op-type string outside this table is a second home for what the importer reads.
    /// The files below still match op types by name (one import function serving several
    /// ops, and the element-wise functions' names): they are to move here, and no other file
    /// may start.
    #[test]
    fn no_op_type_is_named_outside_the_registry() {
        const NOT_YET: &[&str] = &[
            "elementwise.rs",
            "ops/arg_max.rs",
            "ops/normalize.rs",
            "ops/pool.rs",
            "ops/recurrent.rs",
            "ops/reduce.rs",
            "ops/reshape.rs",
            "ops/resize.rs",
            "ops/squeeze.rs",
            "ops/unary.rs",
        ];
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = vec![src.clone()];
        let mut offenders = Vec::new();
        while let Some(path) = files.pop() {
            if path.is_dir() {
                files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                continue;
            }
            let rel = path
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if rel == "registry.rs" || NOT_YET.contains(&rel.as_str()) {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // Code only: a file's tests may name the ops they build.
            let code = text.split("#[cfg(test)]").next().unwrap();
            for op in SUPPORTED {
                if code.contains(&format!("\"{}\"", op.name)) {
                    offenders.push(format!("{rel} names \"{}\"", op.name));
                }
            }
        }
        assert!(offenders.is_empty(), "{offenders:#?}");
    }

    /// The README's list of supported ops names every registered op.
    #[test]
    fn the_readme_lists_every_op() {
        let readme = include_str!("../../../README.md");
        let list = &readme[readme.find("Supported ONNX ops today").expect("the list")..];
        for op in SUPPORTED {
            assert!(list.contains(op.name), "README does not list {}", op.name);
        }
    }
}
