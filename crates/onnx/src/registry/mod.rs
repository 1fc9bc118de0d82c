//! The one list of ONNX ops the importer reads, and one module per op (or family of ops read
//! the same way) under it: what `zkw model ops` prints, what the importer checks an op against
//! before interpreting it, and what the tests hold the importer, the conformance expectations
//! and the README to.
//!
//! It is the importer's dispatch table: each row of [`SUPPORTED`] names its module's import
//! function (one an op), its fold over constants and its element-wise function where it has
//! them. Each module turns one node into float ops over the graph built so far, through
//! `Ctx` (`ctx.rs`). Adding an ONNX op that lowers to existing IR ops is its module here and
//! its row (and its line in the README's list, which a test holds to this table); the
//! registry test feeds every row to the importer and fails if one falls through to
//! "unsupported", and no op-type string appears outside this file.

mod arg_max;
mod batch_norm;
mod binary;
mod cast;
mod clip;
mod concat;
mod conv;
mod conv_transpose;
mod expand;
mod gather;
mod gather_elements;
mod gemm;
mod identity;
mod log_softmax;
mod matmul;
mod max_pool;
mod normalize;
mod one_hot;
mod pad;
mod pool;
mod prelu;
mod recurrent;
mod reduce;
mod reshape;
mod resize;
mod shape;
mod slice;
mod softmax;
mod split;
mod squeeze;
mod tile;
mod top_k;
mod transpose;
mod unary;
mod r#where;

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
    /// The element-wise function it computes, for the ops that are one (read from the node's
    /// attributes): what the importer fuses into tables and the folder applies to constants.
    pub(super) function: Option<Function>,
}

/// A float attribute of a node, as a function's parameter.
fn a(node: &NodeProto, name: &str, default: f32) -> f64 {
    attr_f(node, name, default) as f64
}

const fn op(name: &'static str, kind: Kind, note: &'static str, import: Import) -> OnnxOp {
    OnnxOp {
        name,
        kind,
        note,
        import,
        fold: None,
        function: None,
    }
}

impl OnnxOp {
    /// This row, the element-wise function `f` of one operand.
    const fn unary(self, f: fn(&NodeProto) -> Unary) -> OnnxOp {
        OnnxOp {
            function: Some(Function::Unary(f)),
            ..self
        }
    }

    /// This row, the element-wise function `f` of two operands.
    const fn binary(self, f: Binary) -> OnnxOp {
        OnnxOp {
            function: Some(Function::Binary(f)),
            ..self
        }
    }

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

use tract_onnx::pb::NodeProto;

use crate::ctx::Import;
use crate::elementwise::{Binary, Unary};
use crate::fold::{self, Fold, FoldFn};
use crate::function::Function;
use crate::proto::{attr, attr_f};
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
        pool::average,
    ),
    op("GlobalAveragePool", Linear, "", pool::global_average),
    op("GlobalMaxPool", Linear, "", pool::global_max),
    op(
        "Resize",
        Linear,
        "nearest or linear, every coordinate transformation",
        resize::resize,
    ),
    op("Upsample", Linear, "nearest or linear", resize::upsample),
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
        recurrent::rnn,
    ),
    op(
        "LSTM",
        Linear,
        "forward, default activations, batch 1, unrolled",
        recurrent::lstm,
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
        normalize::instance,
    ),
    op(
        "LayerNormalization",
        Normalization,
        "sums, a product and a 1/√ table",
        normalize::layer,
    ),
    op("Relu", Elementwise, "a sign bit", unary::import).unary(|_| Unary::Relu),
    op("Sigmoid", Elementwise, "table", unary::import).unary(|_| Unary::Sigmoid),
    op("Tanh", Elementwise, "table", unary::import).unary(|_| Unary::Tanh),
    op("Erf", Elementwise, "table", unary::import).unary(|_| Unary::Erf),
    op(
        "Gelu",
        Elementwise,
        "table; exact or tanh form",
        unary::import,
    )
    .unary(|n| Unary::Gelu(attr(n, "approximate").is_some_and(|a| a.s == b"tanh"))),
    op("Exp", Elementwise, "table", unary::import).unary(|_| Unary::Exp),
    op("Log", Elementwise, "table", unary::import).unary(|_| Unary::Log),
    op("Sqrt", Elementwise, "table", unary::import).unary(|_| Unary::Sqrt),
    op("Reciprocal", Elementwise, "table", unary::import).unary(|_| Unary::Reciprocal),
    op("Abs", Elementwise, "table", unary::import).unary(|_| Unary::Abs),
    op("Neg", Elementwise, "table", unary::import).unary(|_| Unary::Neg),
    op("Sign", Elementwise, "table", unary::import).unary(|_| Unary::Sign),
    op("Ceil", Elementwise, "table", unary::import).unary(|_| Unary::Ceil),
    op("Floor", Elementwise, "table", unary::import).unary(|_| Unary::Floor),
    op("Round", Elementwise, "table", unary::import).unary(|_| Unary::Round),
    op("Sin", Elementwise, "table", unary::import).unary(|_| Unary::Sin),
    op("Cos", Elementwise, "table", unary::import).unary(|_| Unary::Cos),
    op("Tan", Elementwise, "table", unary::import).unary(|_| Unary::Tan),
    op("Asin", Elementwise, "table", unary::import).unary(|_| Unary::Asin),
    op("Acos", Elementwise, "table", unary::import).unary(|_| Unary::Acos),
    op("Atan", Elementwise, "table", unary::import).unary(|_| Unary::Atan),
    op("Sinh", Elementwise, "table", unary::import).unary(|_| Unary::Sinh),
    op("Cosh", Elementwise, "table", unary::import).unary(|_| Unary::Cosh),
    op("Asinh", Elementwise, "table", unary::import).unary(|_| Unary::Asinh),
    op("Acosh", Elementwise, "table", unary::import).unary(|_| Unary::Acosh),
    op("Atanh", Elementwise, "table", unary::import).unary(|_| Unary::Atanh),
    op("Softplus", Elementwise, "table", unary::import).unary(|_| Unary::Softplus),
    op("Softsign", Elementwise, "table", unary::import).unary(|_| Unary::Softsign),
    op("Elu", Elementwise, "table", unary::import).unary(|n| Unary::Elu(a(n, "alpha", 1.0))),
    op("Selu", Elementwise, "table", unary::import)
        .unary(|n| Unary::Selu(a(n, "alpha", 1.673_263_2), a(n, "gamma", 1.050_701))),
    op("Celu", Elementwise, "table", unary::import).unary(|n| Unary::Celu(a(n, "alpha", 1.0))),
    op("LeakyRelu", Elementwise, "table", unary::import)
        .unary(|n| Unary::LeakyRelu(a(n, "alpha", 0.01))),
    op("HardSigmoid", Elementwise, "table", unary::import)
        .unary(|n| Unary::HardSigmoid(a(n, "alpha", 0.2), a(n, "beta", 0.5))),
    op("HardSwish", Elementwise, "table", unary::import).unary(|_| Unary::HardSwish),
    op("ThresholdedRelu", Elementwise, "table", unary::import)
        .unary(|n| Unary::ThresholdedRelu(a(n, "alpha", 1.0))),
    op("Mish", Elementwise, "table", unary::import).unary(|_| Unary::Mish),
    op("Clip", Elementwise, "table; scalar bounds", clip::import),
    op(
        "Cast",
        Elementwise,
        "to float: nothing; to an integer or bool: a table",
        cast::import,
    )
    .folds(fold::identity),
    op("Not", Elementwise, "table", unary::import).unary(|_| Unary::Not),
    op(
        "Add",
        Elementwise,
        "exact; numpy broadcasting",
        binary::import,
    )
    .binary(Binary::Add),
    op(
        "Sub",
        Elementwise,
        "exact; numpy broadcasting",
        binary::import,
    )
    .binary(Binary::Sub),
    op(
        "Mul",
        Elementwise,
        "exact product; numpy broadcasting",
        binary::import,
    )
    .binary(Binary::Mul),
    op(
        "Div",
        Elementwise,
        "by a constant exactly, by a tensor through a 1/x table",
        binary::import,
    )
    .binary(Binary::Div),
    op(
        "Pow",
        Elementwise,
        "constant exponent (a table)",
        binary::import,
    )
    .binary(Binary::Pow),
    op(
        "Min",
        Elementwise,
        "through a ReLU of the difference",
        binary::import,
    )
    .binary(Binary::Min),
    op(
        "Max",
        Elementwise,
        "through a ReLU of the difference",
        binary::import,
    )
    .binary(Binary::Max),
    op(
        "Less",
        Elementwise,
        "table of the difference",
        binary::import,
    )
    .binary(Binary::Less),
    op(
        "LessOrEqual",
        Elementwise,
        "table of the difference",
        binary::import,
    )
    .binary(Binary::LessOrEqual),
    op(
        "Greater",
        Elementwise,
        "table of the difference",
        binary::import,
    )
    .binary(Binary::Greater),
    op(
        "GreaterOrEqual",
        Elementwise,
        "table of the difference",
        binary::import,
    )
    .binary(Binary::GreaterOrEqual),
    op(
        "Equal",
        Elementwise,
        "table of the difference",
        binary::import,
    )
    .binary(Binary::Equal),
    op("And", Elementwise, "table of the sum", binary::import).binary(Binary::And),
    op("Or", Elementwise, "table of the sum", binary::import).binary(Binary::Or),
    op("Xor", Elementwise, "table of the sum", binary::import).binary(Binary::Xor),
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
    op("ReduceSum", Reduction, "any axes", reduce::sum),
    op("ReduceMean", Reduction, "any axes", reduce::mean),
    op("ReduceMax", Reduction, "any axes", reduce::max),
    op("ReduceMin", Reduction, "any axes", reduce::min),
    op("ArgMax", Reduction, "first maximum", arg_max::arg_max),
    op("ArgMin", Reduction, "first minimum", arg_max::arg_min),
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
    op("Squeeze", Shape, "", squeeze::squeeze).folds(fold::squeeze),
    op("Unsqueeze", Shape, "", squeeze::unsqueeze).folds(fold::unsqueeze),
    op("Flatten", Shape, "", reshape::flatten),
    op("Reshape", Shape, "0 and -1", reshape::reshape).folds(fold::reshape),
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

    /// An op-type string outside this table is a second home for what the importer reads:
    /// every module's import is named by its rows (one function an op), every element-wise
    /// function and every fold by its row, so no other file matches an op type by name.
    #[test]
    fn no_op_type_is_named_outside_the_registry() {
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
            if rel == "registry/mod.rs" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // Code only: a file's tests may name the ops they build.
            let code = text.split("#[cfg(test)]").next().unwrap();
            for op in SUPPORTED {
                // A byte string is an attribute's value (an LSTM's `b"Sigmoid"` activation),
                // not an op type.
                let quoted = format!("\"{}\"", op.name);
                if code
                    .match_indices(&quoted)
                    .any(|(i, _)| !code[..i].ends_with('b'))
                {
                    offenders.push(format!("{rel} names \"{}\"", op.name));
                }
            }
        }
        assert!(offenders.is_empty(), "{offenders:#?}");
    }

    fn unary_of(node: &NodeProto) -> Option<Unary> {
        lookup(&node.op_type)?.function?.unary(node)
    }

    fn binary_of(op_type: &str) -> Option<Binary> {
        lookup(op_type)?.function?.binary()
    }

    #[test]
    fn element_wise_rows_give_their_function_with_its_attributes() {
        use tract_onnx::pb::AttributeProto;
        let node = |op: &str, attrs: Vec<AttributeProto>| NodeProto {
            op_type: op.into(),
            attribute: attrs,
            ..Default::default()
        };
        let alpha = |v: f32| AttributeProto {
            name: "alpha".into(),
            f: v,
            ..Default::default()
        };
        // Defaults, and an attribute read.
        assert_eq!(
            unary_of(&node("HardSigmoid", vec![])),
            Some(Unary::HardSigmoid(0.2f32 as f64, 0.5))
        );
        assert_eq!(
            unary_of(&node("LeakyRelu", vec![alpha(0.5)])),
            Some(Unary::LeakyRelu(0.5))
        );
        let tanh = AttributeProto {
            name: "approximate".into(),
            s: b"tanh".to_vec(),
            ..Default::default()
        };
        assert_eq!(unary_of(&node("Gelu", vec![tanh])), Some(Unary::Gelu(true)));
        assert_eq!(unary_of(&node("Gelu", vec![])), Some(Unary::Gelu(false)));
        assert_eq!(unary_of(&node("Relu", vec![])), Some(Unary::Relu));
        // Not unary, or no function at all.
        assert_eq!(unary_of(&node("Add", vec![])), None);
        assert_eq!(unary_of(&node("Conv", vec![])), None);
        assert_eq!(unary_of(&node("NoSuchOp", vec![])), None);
        assert_eq!(binary_of("GreaterOrEqual"), Some(Binary::GreaterOrEqual));
        assert_eq!(binary_of("Sigmoid"), None);
        // A row of the element-wise modules without its function is refused as "registered
        // but not interpreted": `import::tests::every_registered_op_is_interpreted`.
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
