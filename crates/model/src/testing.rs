//! Proptest strategies for random valid models (feature `testing`): graphs that use every op
//! and every neighbour pairing the importer emits — dense → requantize, requantize → relu,
//! relu → dense, a residual add of two branches, an add of two graph inputs, reshape, a 1-D
//! convolution → requantize (→ max pool) → reshape → dense — with
//! random widths, shifts, weights and both weight modes. Shared by the circuits' property
//! tests ("reference == circuit") and, later, the GPU executor's ("GPU == reference").

use proptest::prelude::*;

use crate::ir::{Model, Node, TensorId, TensorInfo, WeightMode};
use crate::ops::{
    Add, Conv, ConvGeometry, Dense, MaxPool, Mul, Op, Relu, Requantize, Reshape, Scale, Select,
    Softmax, Sum, Table,
};

/// One dense layer's random parameters: `(weights, bias, weight_bits, shift, relu)`.
type Layer = (Vec<i64>, Vec<i64>, u32, u32, bool);

fn layer(inp: usize, out: usize) -> impl Strategy<Value = Layer> {
    (2u32..9, 0u32..12, any::<bool>()).prop_flat_map(move |(wbits, shift, relu)| {
        let half = 1i64 << (wbits - 1);
        (
            prop::collection::vec(-half..half, inp * out),
            prop::collection::vec(-2000i64..2000, out),
            Just(wbits),
            Just(shift),
            Just(relu),
        )
    })
}

/// The shape of a random model, drawn before its parameters.
#[derive(Debug, Clone, Copy)]
struct Plan {
    inp: usize,
    hidden: usize,
    in_bits: u32,
    private: bool,
    two_inputs: bool,
    second_layer: bool,
    residual: bool,
    reshape: bool,
    relu_after_add: bool,
    twice: bool,
    conv: bool,
    pool: bool,
}

fn plan() -> impl Strategy<Value = Plan> {
    (
        1usize..5,
        1usize..4,
        2u32..9,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
    )
        .prop_map(
            |(inp, hidden, in_bits, private, two_inputs, second_layer, residual, reshape, more)| {
                Plan {
                    inp,
                    hidden,
                    in_bits,
                    private,
                    two_inputs,
                    second_layer,
                    residual,
                    reshape,
                    relu_after_add: more.0,
                    twice: more.1,
                    conv: more.2,
                    pool: more.3,
                }
            },
        )
}

struct Graph {
    nodes: Vec<Node>,
    inputs: usize,
}

impl Graph {
    fn push(&mut self, op: Op, inputs: Vec<TensorId>) -> TensorId {
        self.nodes.push(Node {
            name: format!("{}{}", op.kind(), self.nodes.len()),
            op,
            inputs,
        });
        self.inputs + self.nodes.len() - 1
    }

    fn dense(&mut self, x: TensorId, inp: usize, l: Layer) -> TensorId {
        let (weights, bias, weight_bits, shift, relu) = l;
        let out = bias.len();
        let acc = self.push(
            Op::Dense(Dense {
                name: format!("fc{}", self.nodes.len()),
                in_features: inp,
                out_features: out,
                weights,
                weight_bits,
                weight_frac_bits: 0,
                bias,
                bias_bits: 12,
            }),
            vec![x],
        );
        let y = self.push(Op::Requantize(Requantize { shift, bits: 8 }), vec![acc]);
        if relu {
            self.push(Op::Relu(Relu), vec![y])
        } else {
            y
        }
    }
}

/// Random valid models: one or two inputs (summed), one or two dense layers with random
/// requantizations and ReLUs, optionally a residual add around the second layer (then
/// optionally a ReLU, then requantized back to 8 bits), a reshape, data movement and exact
/// arithmetic, a table and a softmax at the end, the output listed twice.
pub fn arb_model() -> impl Strategy<Value = Model> {
    plan()
        .prop_flat_map(|p| {
            // With a convolution first (1 → 2 channels, kernel 2, one pad before), the first
            // dense layer reads its flattened [2, inp] output.
            let first_in = if p.conv { 2 * p.inp } else { p.inp };
            (
                Just(p),
                layer(first_in, p.hidden),
                layer(p.hidden, p.hidden),
                (
                    prop::collection::vec(-128i64..128, 4),
                    prop::collection::vec(-100i64..100, 2),
                ),
                tail(),
            )
        })
        .prop_map(|(p, l1, l2, (cw, cb), tail)| {
            let n_in = if p.two_inputs { 2 } else { 1 };
            let mut g = Graph {
                nodes: Vec::new(),
                inputs: n_in,
            };
            let mut x: TensorId = 0;
            if p.two_inputs {
                x = g.push(Op::Add(Add), vec![0, 1]);
            }
            if p.reshape {
                x = g.push(
                    Op::Reshape(Reshape {
                        shape: vec![1, p.inp],
                    }),
                    vec![x],
                );
            }
            let mut first_in = p.inp;
            if p.conv {
                let acc = g.push(
                    Op::Conv(Conv {
                        name: "conv".into(),
                        geometry: ConvGeometry {
                            in_channels: 1,
                            out_channels: 2,
                            in_spatial: vec![p.inp],
                            kernel: vec![2],
                            strides: vec![1],
                            dilations: vec![1],
                            pads: vec![1, 0],
                            groups: 1,
                        },
                        weights: cw,
                        weight_bits: 8,
                        weight_frac_bits: 0,
                        bias: cb,
                        bias_bits: 8,
                    }),
                    vec![x],
                );
                let mut y = g.push(Op::Requantize(Requantize { shift: 4, bits: 8 }), vec![acc]);
                if p.pool {
                    // Windows of 2 with one pad after: the length is kept.
                    y = g.push(
                        Op::MaxPool(MaxPool {
                            geometry: ConvGeometry {
                                in_channels: 2,
                                out_channels: 2,
                                in_spatial: vec![p.inp],
                                kernel: vec![2],
                                strides: vec![1],
                                dilations: vec![1],
                                pads: vec![0, 1],
                                groups: 2,
                            },
                        }),
                        vec![y],
                    );
                }
                x = g.push(
                    Op::Reshape(Reshape {
                        shape: vec![2 * p.inp],
                    }),
                    vec![y],
                );
                first_in = 2 * p.inp;
            }
            let h = g.dense(x, first_in, l1);
            let mut out = h;
            if p.second_layer {
                let (w, b, wbits, shift, relu) = l2;
                // Around a residual, the branch keeps the hidden tensor's scale: no shift.
                let shift = if p.residual { 0 } else { shift };
                let y = g.dense(h, p.hidden, (w, b, wbits, shift, relu));
                out = if p.residual {
                    let mut sum = g.push(Op::Add(Add), vec![h, y]);
                    if p.relu_after_add {
                        // A ReLU straight after an add: no sign bit to reuse, it decomposes.
                        sum = g.push(Op::Relu(Relu), vec![sum]);
                    }
                    g.push(Op::Requantize(Requantize { shift: 1, bits: 8 }), vec![sum])
                } else {
                    y
                };
            }
            let (kind, table, mut exp, frac, (fill, factors, offsets)) = tail;
            if kind & 4 == 4 {
                // Data movement and exact arithmetic: a reversed copy with a padded first
                // value, multiplied by the original, scaled per element, and its sum
                // broadcast back and added.
                let n = p.hidden;
                let indices = std::iter::once(-1).chain((0..n as i64 - 1).rev()).collect();
                let s = g.push(
                    Op::Select(Select {
                        what: "reverse and pad".into(),
                        operands: 1,
                        shape: vec![n],
                        indices,
                        fill,
                    }),
                    vec![out],
                );
                let m = g.push(Op::Mul(Mul), vec![out, s]);
                let m = g.push(Op::Requantize(Requantize { shift: 7, bits: 8 }), vec![m]);
                let c = g.push(
                    Op::Scale(Scale {
                        name: "scale".into(),
                        scale: factors[..n].to_vec(),
                        scale_bits: 4,
                        scale_frac_bits: 0,
                        offset: offsets[..n].to_vec(),
                        offset_bits: 8,
                    }),
                    vec![m],
                );
                let r = g.push(Op::Requantize(Requantize { shift: 2, bits: 8 }), vec![c]);
                let t = g.push(Op::Sum(Sum { axis_len: n }), vec![r]);
                let b = g.push(
                    Op::Select(Select {
                        what: "broadcast".into(),
                        operands: 1,
                        shape: vec![n],
                        indices: vec![0; n],
                        fill: 0,
                    }),
                    vec![t],
                );
                let a = g.push(Op::Add(Add), vec![r, b]);
                out = g.push(Op::Requantize(Requantize { shift: 3, bits: 8 }), vec![a]);
            }
            if kind & 1 == 1 {
                // A table over the 8-bit output, random entries.
                out = g.push(
                    Op::Table(Table {
                        function: "random".into(),
                        in_bits: 8,
                        frac_bits: 0,
                        bits: 8,
                        table,
                    }),
                    vec![out],
                );
            }
            if kind & 2 == 2 {
                exp[255] = exp[255].max(1);
                out = g.push(
                    Op::Softmax(Softmax {
                        axis_len: p.hidden,
                        in_bits: 8,
                        exp,
                        frac_bits: frac,
                    }),
                    vec![out],
                );
            }
            let info = TensorInfo {
                shape: if p.conv || p.reshape {
                    vec![1, p.inp]
                } else {
                    vec![p.inp]
                },
                frac_bits: 0,
                bits: p.in_bits,
            };
            Model {
                name: "random".into(),
                weight_mode: if p.private {
                    WeightMode::Private
                } else {
                    WeightMode::Fixed
                },
                inputs: vec![info; n_in],
                nodes: g.nodes,
                // The same tensor twice is a valid (if odd) output list.
                outputs: if p.twice { vec![out, out] } else { vec![out] },
                salt: p.private.then(|| "5a".repeat(31)),
            }
        })
}

/// The tail: which of a table (bit 0), a softmax (bit 1) and a block of select, mul, scale,
/// sum and a broadcast add (bit 2, first) follow the last layer; a random table over 8-bit
/// inputs, random exponentials and the softmax's output scale.
fn tail() -> impl Strategy<Value = Tail> {
    (
        0u8..8,
        prop::collection::vec(-128i64..128, 256),
        prop::collection::vec(0i64..4096, 256),
        1u32..10,
        (
            -100i64..100,
            prop::collection::vec(-8i64..8, 4),
            prop::collection::vec(-128i64..128, 4),
        ),
    )
}

/// See [`tail`]; the last group is a selection's fill and a scale's factors and offsets.
type Tail = (u8, Vec<i64>, Vec<i64>, u32, (i64, Vec<i64>, Vec<i64>));

/// A random valid input for a model (every graph input, concatenated).
pub fn arb_input(model: &Model) -> impl Strategy<Value = Vec<i64>> + use<> {
    let info = model.input_info();
    let half = 1i64 << (info.bits - 1);
    prop::collection::vec(-half..half, info.len())
}

/// A model of one op over graph inputs of the given formats.
fn single(op: Op, inputs: Vec<TensorInfo>) -> Model {
    let n = inputs.len();
    Model {
        name: op.kind().into(),
        weight_mode: WeightMode::Fixed,
        inputs,
        nodes: vec![Node {
            name: "op".into(),
            op,
            inputs: (0..n).collect(),
        }],
        outputs: vec![n],
        salt: None,
    }
}

fn vector(len: usize, bits: u32) -> TensorInfo {
    TensorInfo {
        shape: vec![len],
        frac_bits: 0,
        bits,
    }
}

/// A random convolution geometry: 1-D or 2-D, sizes up to 12, kernels up to 3, strides up to
/// 3, dilations up to 2, pads up to 2 on each side (not every draw is valid).
fn geometry(
    in_channels: usize,
    out_channels: usize,
    groups: usize,
) -> impl Strategy<Value = ConvGeometry> {
    (1usize..3).prop_flat_map(move |rank| {
        (
            prop::collection::vec((1usize..13, 1usize..4, 1usize..4, 1usize..3), rank),
            prop::collection::vec(0usize..3, 2 * rank),
        )
            .prop_map(move |(dims, pads)| ConvGeometry {
                in_channels,
                out_channels,
                in_spatial: dims.iter().map(|d| d.0).collect(),
                kernel: dims.iter().map(|d| d.1).collect(),
                strides: dims.iter().map(|d| d.2).collect(),
                dilations: dims.iter().map(|d| d.3).collect(),
                pads,
                groups,
            })
    })
}

/// Random one-op models with wide random shapes — lengths that straddle 64-thread workgroups,
/// 2-D convolutions and pools with strides, dilations, pads and groups, selections over
/// several operands, tables over up to 12-bit inputs — every op of the IR but the reshape.
/// For executors other than the reference ("GPU == reference"), where shapes, not proving
/// cost, are what matters.
pub fn arb_op_model() -> impl Strategy<Value = Model> {
    let dense = (1usize..200, 1usize..150).prop_flat_map(|(inp, out)| {
        (
            prop::collection::vec(-128i64..128, inp * out),
            prop::collection::vec(-30_000i64..30_000, out),
        )
            .prop_map(move |(weights, bias)| {
                single(
                    Op::Dense(Dense {
                        name: "fc".into(),
                        in_features: inp,
                        out_features: out,
                        weights,
                        weight_bits: 8,
                        weight_frac_bits: 0,
                        bias,
                        bias_bits: 16,
                    }),
                    vec![vector(inp, 8)],
                )
            })
    });
    let conv = (1usize..4, 1usize..4, 1usize..4)
        .prop_flat_map(|(groups, cpg, opg)| geometry(groups * cpg, groups * opg, groups))
        .prop_filter("a valid geometry", |g| g.check().is_ok())
        .prop_flat_map(|g| {
            let weights = g.weight_count();
            let out = g.out_channels;
            (
                Just(g),
                prop::collection::vec(-128i64..128, weights),
                prop::collection::vec(-30_000i64..30_000, out),
            )
        })
        .prop_map(|(g, weights, bias)| {
            let shape = std::iter::once(g.in_channels)
                .chain(g.in_spatial.iter().copied())
                .collect();
            single(
                Op::Conv(Conv {
                    name: "conv".into(),
                    geometry: g,
                    weights,
                    weight_bits: 8,
                    weight_frac_bits: 0,
                    bias,
                    bias_bits: 16,
                }),
                vec![TensorInfo {
                    shape,
                    frac_bits: 0,
                    bits: 8,
                }],
            )
        });
    let pool = (1usize..5)
        .prop_flat_map(|c| geometry(c, c, c))
        .prop_filter("a valid pool", |g| {
            g.check().is_ok() && !g.has_empty_window()
        })
        .prop_map(|g| {
            let shape = std::iter::once(g.in_channels)
                .chain(g.in_spatial.iter().copied())
                .collect();
            single(
                Op::MaxPool(MaxPool { geometry: g }),
                vec![TensorInfo {
                    shape,
                    frac_bits: 0,
                    bits: 16,
                }],
            )
        });
    let binary = (1usize..200, 2u32..16, any::<bool>()).prop_map(|(len, bits, add)| {
        let op = if add { Op::Add(Add) } else { Op::Mul(Mul) };
        single(op, vec![vector(len, bits); 2])
    });
    let relu = (1usize..200, 2u32..32)
        .prop_map(|(len, bits)| single(Op::Relu(Relu), vec![vector(len, bits)]));
    let requantize =
        (1usize..200, 2u32..24, 0u32..25, 2u32..24).prop_map(|(len, bits, shift, out_bits)| {
            single(
                Op::Requantize(Requantize {
                    shift,
                    bits: out_bits,
                }),
                vec![vector(len, bits)],
            )
        });
    let table = (1usize..200, 1u32..13, 2u32..17).prop_flat_map(|(len, in_bits, bits)| {
        let half = 1i64 << (bits - 1);
        prop::collection::vec(-half..half, 1 << in_bits).prop_map(move |table| {
            single(
                Op::Table(Table {
                    function: "random".into(),
                    in_bits,
                    frac_bits: 0,
                    bits,
                    table,
                }),
                vec![vector(len, in_bits)],
            )
        })
    });
    let scale = (1usize..200).prop_flat_map(|len| {
        (
            prop::collection::vec(-128i64..128, len),
            prop::collection::vec(-30_000i64..30_000, len),
        )
            .prop_map(move |(factors, offsets)| {
                single(
                    Op::Scale(Scale {
                        name: "scale".into(),
                        scale: factors,
                        scale_bits: 8,
                        scale_frac_bits: 0,
                        offset: offsets,
                        offset_bits: 16,
                    }),
                    vec![vector(len, 8)],
                )
            })
    });
    let sum = (1usize..130, 1usize..5).prop_map(|(n, rows)| {
        single(
            Op::Sum(Sum { axis_len: n }),
            vec![TensorInfo {
                shape: vec![rows, n],
                frac_bits: 0,
                bits: 16,
            }],
        )
    });
    let softmax = (1usize..70, 1usize..4, 0u32..15).prop_flat_map(|(n, rows, frac)| {
        prop::collection::vec(0i64..16_385, 256).prop_map(move |mut exp| {
            exp[255] = exp[255].max(1);
            single(
                Op::Softmax(Softmax {
                    axis_len: n,
                    in_bits: 8,
                    exp,
                    frac_bits: frac,
                }),
                vec![TensorInfo {
                    shape: vec![rows, n],
                    frac_bits: 0,
                    bits: 8,
                }],
            )
        })
    });
    let select = (
        prop::collection::vec(1usize..100, 1..4),
        1usize..200,
        -1000i64..1000,
    )
        .prop_flat_map(|(lens, out, fill)| {
            let total = lens.iter().sum::<usize>() as i64;
            prop::collection::vec(-1i64..total, out).prop_map(move |indices| {
                single(
                    Op::Select(Select {
                        what: "random".into(),
                        operands: lens.len(),
                        shape: vec![indices.len()],
                        indices,
                        fill,
                    }),
                    lens.iter().map(|&l| vector(l, 12)).collect(),
                )
            })
        });
    prop_oneof![
        dense, conv, pool, binary, relu, requantize, table, scale, sum, softmax, select
    ]
    .prop_filter("within the bounds analysis", |m| {
        crate::bounds::analyze(m).is_ok()
    })
}

/// A random input that favours the edges of each value's range: the lowest, the highest, 0,
/// or anything in between.
pub fn arb_edge_input(model: &Model) -> impl Strategy<Value = Vec<i64>> + use<> {
    let ranges: Vec<(i64, i64)> = model
        .inputs
        .iter()
        .flat_map(|i| std::iter::repeat_n(crate::ir::signed_range(i.bits), i.len()))
        .collect();
    ranges
        .into_iter()
        .map(|(lo, hi)| prop_oneof![Just(lo), Just(hi), Just(0), lo..=hi])
        .collect::<Vec<_>>()
}

/// A fixed 4 → 3 → ReLU → 2 MLP whose values exercise saturation, negative weights and
/// biases: the small real model of the prover's, the EVM's and other integration tests.
pub fn mlp(mode: WeightMode) -> Model {
    Model::chain(
        "tiny",
        mode,
        TensorInfo {
            shape: vec![1, 4],
            frac_bits: 5,
            bits: 8,
        },
        vec![
            Op::Reshape(Reshape { shape: vec![4] }),
            Op::Dense(Dense {
                name: "fc1".into(),
                in_features: 4,
                out_features: 3,
                weights: vec![12, -7, 100, -128, 5, 6, 7, 8, -50, 60, -70, 80],
                weight_bits: 8,
                weight_frac_bits: 6,
                bias: vec![300, -200, 1000],
                bias_bits: 12,
            }),
            Op::Requantize(Requantize { shift: 6, bits: 8 }),
            Op::Relu(Relu),
            Op::Dense(Dense {
                name: "fc2".into(),
                in_features: 3,
                out_features: 2,
                weights: vec![90, -30, 20, -100, 127, 1],
                weight_bits: 8,
                weight_frac_bits: 6,
                bias: vec![-40, 40],
                bias_bits: 8,
            }),
            Op::Requantize(Requantize { shift: 7, bits: 8 }),
        ],
        mode.is_private().then(|| "ab".repeat(31)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounds::analyze;
    use crate::executor::run;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn random_models_are_valid_and_run((m, x) in arb_model().prop_flat_map(|m| {
            let x = arb_input(&m);
            (Just(m), x)
        })) {
            analyze(&m).unwrap();
            let t = run(&m, &x).unwrap();
            prop_assert_eq!(t.tensors.len(), m.tensor_count());
        }
    }

    #[test]
    fn every_op_kind_is_generated() {
        use proptest::strategy::ValueTree;
        use proptest::test_runner::TestRunner;
        let mut runner = TestRunner::deterministic();
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let m = arb_model().new_tree(&mut runner).unwrap().current();
            seen.extend(m.nodes.iter().map(|n| n.op.kind()));
        }
        let all: std::collections::BTreeSet<&str> =
            crate::ops::examples().iter().map(Op::kind).collect();
        assert_eq!(seen, all);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn random_one_op_models_are_valid_and_run((m, x) in arb_op_model().prop_flat_map(|m| {
            let x = arb_edge_input(&m);
            (Just(m), x)
        })) {
            let t = run(&m, &x).unwrap();
            prop_assert_eq!(t.tensors.len(), m.tensor_count());
        }
    }

    #[test]
    fn every_op_but_the_reshape_is_generated_alone() {
        use proptest::strategy::ValueTree;
        use proptest::test_runner::TestRunner;
        let mut runner = TestRunner::deterministic();
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..300 {
            let m = arb_op_model().new_tree(&mut runner).unwrap().current();
            seen.extend(m.nodes.iter().map(|n| n.op.kind()));
        }
        let all: std::collections::BTreeSet<&str> = crate::ops::examples()
            .iter()
            .map(Op::kind)
            .filter(|&k| k != "reshape")
            .collect();
        assert_eq!(seen, all);
    }
}
