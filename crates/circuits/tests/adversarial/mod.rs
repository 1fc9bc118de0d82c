//! Adversarial soundness, gadget by gadget: hand-built malicious witnesses — the ones a
//! cheating prover would write — that claim a *wrong* result and satisfy every constraint but
//! the one under test. Each test asserts that exactly that constraint breaks, so deleting it
//! (or weakening it) turns the witness into an accepted forgery and fails the test.
//!
//! | gadget | attack | the constraint that stops it |
//! |---|---|---|
//! | range (unsigned, signed) | a non-boolean bit and a compensating value: a value outside its width | the bit's `b(1-b) = 0` |
//! | range tie (`signed_var`) | a value witness apart from its bits | the tie `v = Σ b 2^k - 2^(w-1)` |
//! | requantize, rounding | a wrong quotient with a remainder that matches (`r < 0`, `r ≥ 2^s`), a quotient that is a field fraction | the remainder's / quotient's booleans |
//! | requantize, division | a quotient and remainder both in range that do not divide | `acc + 2^(s-1) = q 2^s + r` |
//! | requantize, saturation | a lying in-range product, a lying sign, a lying saturation, a free result | the product rows, the sign bit's boolean, the select row |
//! | ReLU | identity on a negative value; a lying sign bit; a decomposition of another value | `v · s = z`, the sign's boolean, the tie |
//! | dense, fixed weights | a wrong accumulator (it has no witness: the next requantize's quotient) | the division |
//! | dense, private weights | `w0 + 2^8, w1 - 1` (same packed commitment, another layer); a lying product | the weight bit's boolean, the product row |
//! | weight commitment | another salt, another weight | the commitment's equality with public input 0 |
//! | table lookup | a non-boolean column selector that keeps the index; a derived selector that is not boolean; a lying row product; a wrong output | the selector's boolean, the derived selector's boolean, the product row, the output equation |
//! | exact division (softmax) | a quotient that is a field fraction; a remainder beyond the divisor | the quotient bit's boolean, `r + gap = den - 1` |
//! | mul, private scale | a lying product | the product's row |
//! | softmax | a row sum apart from its exponentials, every division recomputed for it | the sum's tie |
//! | input digest | `x0 + 2^8, x1 - 1` (same digest, another input); another salt | the input bit's boolean, the digest's equality with public input 1 |
//!
//! [`OP_ATTACKS`] lists, for every op kind, its attacks here or why its gadget has no witness
//! to attack; the op-completeness test (`op_completeness.rs`, whose module this is) refuses a
//! kind missing from it.
//!
//! The job binding is a public input no witness touches (`jb · 1 = jb` exists so Groth16 binds
//! it): the prover's end-to-end tests show a changed binding fails the proof, and the
//! soundness test checks it appears in a constraint.

use ark_ff::Field;

use crate::attack::{System, breaks_exactly, claim, cs, f, honest};
use zkw_circuits::Fr;
use zkw_circuits::commitment::{Committed, commit_private};
use zkw_circuits::digest::input_digest;
use zkw_circuits::divide::{DivisionWitness, divide_with};
use zkw_circuits::lin::{Lin, Val, boolean_value, enforce_equal, instance, witness};
use zkw_circuits::lookup::{lookup_with, one_hot_values, split};
use zkw_circuits::ops::conv::conv_private;
use zkw_circuits::ops::dense::dense_private;
use zkw_circuits::ops::max_pool::max_pool;
use zkw_circuits::ops::mul::mul;
use zkw_circuits::ops::relu::relu_with;
use zkw_circuits::ops::requantize::{RequantizeHint, quotient_width, requantize_with};
use zkw_circuits::ops::scale::scale_private;
use zkw_circuits::ops::softmax::softmax;
use zkw_circuits::range::{
    Ranged, alloc_bits, bit_values, from_bits, signed_bit_values, signed_from_bits, tie,
};
use zkw_model::bounds::Interval;
use zkw_model::ops::{Conv, ConvGeometry, Dense, MaxPool, Requantize, Softmax};
use zkw_verifier::InputSalt;
use zkw_verifier::digest::weight_commitment;
use zkw_verifier::width::Width;

/// What stands between a cheating prover and an op's gadget.
pub enum Witnesses {
    /// Hand-built malicious witnesses: tests of this module, each breaking exactly the
    /// constraint it is about.
    Attacked(&'static [fn()]),
    /// The gadget allocates no witness to lie with, and why.
    NoWitness(&'static str),
}

/// Every op kind (`Op::kind`) and its adversarial tests.
pub const OP_ATTACKS: &[(&str, Witnesses)] = &[
    (
        "dense",
        Witnesses::Attacked(&[
            dense_fixed_has_no_witness_and_the_requantize_after_it_pins_the_accumulator,
            dense_private_weights_carried_under_the_same_commitment,
            dense_private_a_lying_product,
            weight_commitment_binds_salt_and_weights,
        ]),
    ),
    (
        "requantize",
        Witnesses::Attacked(&[
            requantize_a_wrong_quotient_with_a_matching_remainder,
            requantize_a_quotient_that_is_a_field_fraction,
            requantize_a_quotient_and_remainder_that_do_not_divide,
            requantize_saturation_a_lying_in_range_product,
            requantize_saturation_a_lying_sign,
            requantize_saturation_a_lying_saturation,
            requantize_saturation_a_lying_select_product,
            requantize_saturation_a_free_result,
        ]),
    ),
    (
        "relu",
        Witnesses::Attacked(&[
            relu_identity_on_a_negative_value,
            relu_a_lying_sign_bit,
            relu_a_decomposition_of_another_value,
        ]),
    ),
    (
        "reshape",
        Witnesses::NoWitness(
            "no constraint at all: the gadget hands on its operand's values relabelled",
        ),
    ),
    (
        "add",
        Witnesses::NoWitness(
            "linear: `add::add` takes no constraint system; each output is the sum of two \
             operand combinations",
        ),
    ),
    (
        "conv",
        Witnesses::Attacked(&[conv_private_reuses_each_committed_weight_and_checks_every_product]),
    ),
    (
        "max_pool",
        Witnesses::Attacked(&[max_pool_a_running_maximum_that_drops_a_larger_value]),
    ),
    (
        "table",
        Witnesses::Attacked(&[
            lookup_a_non_boolean_column_selector_that_keeps_the_index,
            lookup_a_derived_selector_that_is_not_boolean,
            lookup_a_lying_row_product,
            lookup_a_wrong_output_with_honest_selectors,
        ]),
    ),
    (
        "softmax",
        Witnesses::Attacked(&[
            softmax_a_row_sum_apart_from_its_exponentials,
            divide_a_quotient_that_is_a_field_fraction,
            divide_a_remainder_beyond_the_divisor,
        ]),
    ),
    (
        "select",
        Witnesses::NoWitness(
            "wiring: `select::select` takes no constraint system; each output is an operand's \
             combination or a constant",
        ),
    ),
    ("mul", Witnesses::Attacked(&[mul_a_lying_product])),
    (
        "sum",
        Witnesses::NoWitness(
            "linear: `sum::sum` takes no constraint system; each output is its row's sum",
        ),
    ),
    (
        "scale",
        Witnesses::Attacked(&[scale_private_a_lying_product]),
    ),
];

fn w(bits: u32) -> Width {
    Width::new(bits).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Range checks and booleans

/// A claim bound to an unsigned decomposition with the given bit values.
fn unsigned_claim(claimed: i64, bits: &[Fr]) -> (System, Vec<Lin>) {
    let cs = cs();
    let c = claim(&cs, claimed);
    let b = alloc_bits(&cs, bits).unwrap();
    enforce_equal(&cs, &c, &from_bits(&b)).unwrap();
    (System::new(&cs), b)
}

/// A claim bound to a signed (offset-binary) decomposition with the given bit values.
fn signed_claim(claimed: i64, bits: &[Fr]) -> (System, Vec<Lin>) {
    let cs = cs();
    let c = claim(&cs, claimed);
    let r = signed_from_bits(alloc_bits(&cs, bits).unwrap());
    enforce_equal(&cs, &c, &r.value).unwrap();
    (System::new(&cs), r.bits)
}

#[test]
fn range_unsigned_a_non_boolean_bit_with_a_compensating_value() {
    // 5 in four bits is [1, 0, 1, 0].
    honest(&unsigned_claim(5, &bit_values(5, 4)).0);
    // 21 is outside [0, 16): reachable only with b3 = 2 (1 + 4 + 2·8).
    let (sys, b) = unsigned_claim(21, &[f(1), f(0), f(1), f(2)]);
    breaks_exactly(&sys, &[sys.boolean_row(&b[3])]);
    // -3 with a "bit" of -1 (1 - 4).
    let (sys, b) = unsigned_claim(-3, &[f(1), f(0), f(-1), f(0)]);
    breaks_exactly(&sys, &[sys.boolean_row(&b[2])]);
}

#[test]
fn range_signed_values_outside_the_width() {
    // A signed 4-bit value lies in [-8, 7]; 3 is offset-binary 11 = [1, 1, 0, 1].
    honest(&signed_claim(3, &signed_bit_values(3, 4)).0);
    honest(&signed_claim(-8, &signed_bit_values(-8, 4)).0);
    honest(&signed_claim(7, &signed_bit_values(7, 4)).0);
    // 8 needs u = 16: the top bit doubled.
    let (sys, b) = signed_claim(8, &[f(0), f(0), f(0), f(2)]);
    breaks_exactly(&sys, &[sys.boolean_row(&b[3])]);
    // -9 needs u = -1.
    let (sys, b) = signed_claim(-9, &[f(-1), f(0), f(0), f(0)]);
    breaks_exactly(&sys, &[sys.boolean_row(&b[0])]);
}

#[test]
fn range_a_value_witness_apart_from_its_bits() {
    let build = |claimed: i64, value: i64| {
        let cs = cs();
        let c = claim(&cs, claimed);
        let r = signed_from_bits(alloc_bits(&cs, &signed_bit_values(3, 4)).unwrap());
        let row = cs.num_constraints();
        let t = tie(&cs, r, f(value)).unwrap();
        enforce_equal(&cs, &c, &t.value).unwrap();
        (System::new(&cs), row)
    };
    honest(&build(3, 3).0);
    // The bits say 3, the value witness says 100 (far outside 4 bits).
    let (sys, tie_row) = build(100, 100);
    breaks_exactly(&sys, &[tie_row]);
}

#[test]
fn boolean_values_other_than_zero_and_one_break_only_their_row() {
    for v in [f(2), f(-1), Fr::from(1u64 << 40)] {
        let cs = cs();
        let b = boolean_value(&cs, v).unwrap();
        let sys = System::new(&cs);
        breaks_exactly(&sys, &[sys.boolean_row(&b)]);
    }
    for v in [f(0), f(1)] {
        let cs = cs();
        boolean_value(&cs, v).unwrap();
        honest(&System::new(&cs));
    }
}

// ---------------------------------------------------------------------------------------------
// Requantize

/// A requantization of accumulator `acc_value` with static bounds `bounds`, bound to a claim.
/// Witnesses in allocation order: the accumulator, the remainder's `s` bits, the quotient's
/// `K` bits, then (when `K > b`) the in-range products, `a`, `c` and `y`.
struct Rq {
    sys: System,
    s: usize,
    k: usize,
}

impl Rq {
    fn build(
        r: &Requantize,
        bounds: Interval,
        acc_value: i64,
        claimed: Fr,
        edit: impl FnOnce(&mut RequantizeHint),
    ) -> Rq {
        let k = quotient_width(bounds, r);
        let y = r.apply(acc_value);
        let mut hint = RequantizeHint::honest(r, k, acc_value, y);
        edit(&mut hint);
        let cs = cs();
        let c = instance(&cs, claimed).unwrap();
        let acc = witness(&cs, f(acc_value)).unwrap();
        let out = requantize_with(&cs, r, &acc, &hint).unwrap();
        enforce_equal(&cs, &c, &out.lin).unwrap();
        Rq {
            sys: System::new(&cs),
            s: r.shift as usize,
            k: k as usize,
        }
    }

    fn rem_bit(&self, i: usize) -> usize {
        self.sys.wcol(1 + i)
    }

    fn q_bit(&self, i: usize) -> usize {
        self.sys.wcol(1 + self.s + i)
    }

    /// Row of `acc + 2^(s-1) = q 2^s + r` (after the `s + K` boolean rows).
    fn division_row(&self) -> usize {
        self.s + self.k
    }
}

const RQ: Requantize = Requantize { shift: 4, bits: 8 };
/// Bounds whose quotient fits the output width: no saturation logic (K = 8 = b).
const NARROW: Interval = Interval {
    lo: -2000,
    hi: 2000,
};
/// Bounds whose quotient needs 14 bits: saturation logic with 6 middle bits.
const WIDE: Interval = Interval {
    lo: -100_000,
    hi: 100_000,
};

#[test]
fn requantize_a_wrong_quotient_with_a_matching_remainder() {
    // acc = 100, s = 4: 100 + 8 = 6·16 + 12, so y = 6.
    assert_eq!(quotient_width(NARROW, &RQ), 8);
    honest(&Rq::build(&RQ, NARROW, 100, f(6), |_| {}).sys);
    // y = 7 with r = -4 (108 = 7·16 - 4): the remainder's bit 2 is -1.
    let rq = Rq::build(&RQ, NARROW, 100, f(7), |h| {
        h.q_bits = signed_bit_values(7, 8);
        h.rem_bits = vec![f(0), f(0), f(-1), f(0)];
    });
    breaks_exactly(&rq.sys, &[rq.sys.boolean_row_col(rq.rem_bit(2))]);
    // y = 5 with r = 28 (108 = 5·16 + 28): the remainder's bit 3 is 3.
    let rq = Rq::build(&RQ, NARROW, 100, f(5), |h| {
        h.q_bits = signed_bit_values(5, 8);
        h.rem_bits = vec![f(0), f(0), f(1), f(3)];
    });
    breaks_exactly(&rq.sys, &[rq.sys.boolean_row_col(rq.rem_bit(3))]);
}

#[test]
fn requantize_a_quotient_that_is_a_field_fraction() {
    // With r = 0, q = 108 / 16 in the field (no integer): it needs a non-boolean quotient bit.
    let q = f(108) / f(16);
    let rq = Rq::build(&RQ, NARROW, 100, q, |h| {
        h.rem_bits = vec![f(0); 4];
        let mut bits = vec![f(0); 8];
        bits[0] = q + f(128);
        h.q_bits = bits;
    });
    breaks_exactly(&rq.sys, &[rq.sys.boolean_row_col(rq.q_bit(0))]);
}

#[test]
fn requantize_a_quotient_and_remainder_that_do_not_divide() {
    // Both in range, boolean everywhere: 7·16 + 12 = 124 ≠ 108.
    let rq = Rq::build(&RQ, NARROW, 100, f(7), |h| {
        h.q_bits = signed_bit_values(7, 8)
    });
    breaks_exactly(&rq.sys, &[rq.division_row()]);
}

/// Column layout of the saturation logic for `WIDE` (K = 14, b = 8, 6 middle bits, 5 products
/// per chain).
struct Sat {
    pos: [usize; 5],
    neg: [usize; 5],
    a: usize,
    y: usize,
}

fn sat_cols(rq: &Rq) -> Sat {
    assert_eq!((rq.s, rq.k), (4, 14));
    let first = 1 + rq.s + rq.k;
    let col = |i: usize| rq.sys.wcol(first + i);
    Sat {
        pos: std::array::from_fn(col),
        neg: std::array::from_fn(|i| col(5 + i)),
        a: col(10),
        y: col(12),
    }
}

#[test]
fn requantize_saturation_a_lying_in_range_product() {
    // acc = 3200: q = 200 > 127, so y saturates to 127. Claim 200 instead: make the first
    // product of `Π (1 - b)` over the middle bits 1 although bit 7 is set.
    assert_eq!(quotient_width(WIDE, &RQ), 14);
    honest(&Rq::build(&RQ, WIDE, 3200, f(127), |_| {}).sys);
    let mut rq = Rq::build(&RQ, WIDE, 3200, f(200), |h| h.y = f(200));
    let c = sat_cols(&rq);
    rq.sys.set_col(c.pos[0], f(1));
    let lie = rq.sys.defining_row_col(c.pos[0]);
    rq.sys.repair(&[c.pos[0], c.y], &[lie]);
    breaks_exactly(&rq.sys, &[lie]);
}

#[test]
fn requantize_saturation_a_lying_sign() {
    // q = 200: offset-binary u = 200 + 2^13, sign bit (13) set. Clear it and double bit 12
    // (2·2^12 = 2^13): same u, same q, but the gadget now saturates to -128.
    let rq = Rq::build(&RQ, WIDE, 3200, f(-128), |h| {
        h.q_bits[13] = f(0);
        h.q_bits[12] = f(2);
        h.y = f(-128);
    });
    breaks_exactly(&rq.sys, &[rq.sys.boolean_row_col(rq.q_bit(12))]);
}

#[test]
fn requantize_saturation_a_lying_saturation() {
    // acc = 800: q = 50, in range, y = 50. Claim 127 (saturated): zero the last product of the
    // positive in-range chain, so `a = sign · pos_ok` and `in_range` become 0.
    honest(&Rq::build(&RQ, WIDE, 800, f(50), |_| {}).sys);
    let mut rq = Rq::build(&RQ, WIDE, 800, f(127), |h| h.y = f(127));
    let c = sat_cols(&rq);
    rq.sys.set_col(c.pos[4], f(0));
    let lie = rq.sys.defining_row_col(c.pos[4]);
    rq.sys.repair(&[c.pos[4], c.y], &[lie]);
    breaks_exactly(&rq.sys, &[lie]);
    // And on the negative side: acc = -800, q = -50; zero the negative chain's last product.
    honest(&Rq::build(&RQ, WIDE, -800, f(-50), |_| {}).sys);
    let mut rq = Rq::build(&RQ, WIDE, -800, f(-128), |h| h.y = f(-128));
    let c = sat_cols(&rq);
    rq.sys.set_col(c.neg[4], f(0));
    let lie = rq.sys.defining_row_col(c.neg[4]);
    rq.sys.repair(&[c.neg[4], c.y], &[lie]);
    breaks_exactly(&rq.sys, &[lie]);
}

#[test]
fn requantize_saturation_a_lying_select_product() {
    // acc = 800: `a = sign · pos_ok` should be 1; say 0 and claim the saturated 127.
    let mut rq = Rq::build(&RQ, WIDE, 800, f(127), |h| h.y = f(127));
    let c = sat_cols(&rq);
    rq.sys.set_col(c.a, f(0));
    let lie = rq.sys.defining_row_col(c.a);
    rq.sys.repair(&[c.a, c.y], &[lie]);
    breaks_exactly(&rq.sys, &[lie]);
}

#[test]
fn requantize_saturation_a_free_result() {
    // Everything honest but y: only the select row `(q - sat) · in_range = y - sat` sees it.
    let rq = Rq::build(&RQ, WIDE, 3200, f(100), |h| h.y = f(100));
    let c = sat_cols(&rq);
    let select = rq.sys.defining_row_col(c.a) + 2;
    breaks_exactly(&rq.sys, &[select]);
}

// ---------------------------------------------------------------------------------------------
// ReLU

#[test]
fn relu_identity_on_a_negative_value() {
    // The sign bit comes from an earlier range check (here a boolean witness, 0 for v = -5).
    let build = |z: i64| {
        let cs = cs();
        let c = claim(&cs, z);
        let v = witness(&cs, f(-5)).unwrap();
        let s = boolean_value(&cs, f(0)).unwrap();
        let v = Val {
            lin: v,
            non_negative: Some(s),
        };
        let out = relu_with(&cs, &v, None, f(z)).unwrap();
        enforce_equal(&cs, &c, &out.lin).unwrap();
        (System::new(&cs), out.lin)
    };
    honest(&build(0).0);
    let (sys, z) = build(-5);
    breaks_exactly(&sys, &[sys.defining_row(&z)]);
}

/// ReLU of `v = -5` decomposed in 8 bits with the given bits; witnesses: v, 8 bits, z.
fn relu_decomposed(bits: &[Fr], z: i64) -> (System, Vec<usize>) {
    let cs = cs();
    let c = claim(&cs, z);
    let v = Val::plain(witness(&cs, f(-5)).unwrap());
    let out = relu_with(&cs, &v, Some(bits), f(z)).unwrap();
    enforce_equal(&cs, &c, &out.lin).unwrap();
    let sys = System::new(&cs);
    let cols = (1..9).map(|i| sys.wcol(i)).collect();
    (sys, cols)
}

#[test]
fn relu_a_lying_sign_bit() {
    honest(&relu_decomposed(&signed_bit_values(-5, 8), 0).0);
    // u = 123 = 0b0111_1011. Set the sign bit (+128) and make bit 6 -1 (-128): same u, and
    // ReLU(-5) "is" -5.
    let mut bits = signed_bit_values(-5, 8);
    bits[7] = f(1);
    bits[6] = f(-1);
    let (sys, cols) = relu_decomposed(&bits, -5);
    breaks_exactly(&sys, &[sys.boolean_row_col(cols[6])]);
}

#[test]
fn relu_a_decomposition_of_another_value() {
    // Honest bits of +5 (sign set) for v = -5: only the tie between v and its bits breaks.
    let (sys, _) = relu_decomposed(&signed_bit_values(5, 8), -5);
    breaks_exactly(&sys, &[8]);
}

// ---------------------------------------------------------------------------------------------
// Dense with fixed weights

#[test]
fn dense_fixed_has_no_witness_and_the_requantize_after_it_pins_the_accumulator() {
    // Fixed weights are constants: the accumulator is a linear combination of the inputs, with
    // no witness or constraint of its own to forge. A cheater can only lie about it inside the
    // next requantize: a quotient for acc + 16 (one more step) breaks exactly the division.
    let d = Dense {
        weights: vec![3, -5],
        ..layer()
    };
    let build = |lie: i64| {
        let cs = cs();
        let x = [7, 2].map(|v| Val::plain(witness(&cs, f(v)).unwrap()));
        let (w0, c0) = (cs.num_witness_variables(), cs.num_constraints());
        let acc = zkw_circuits::ops::dense::dense_fixed(&d, &x);
        assert_eq!(
            (cs.num_witness_variables(), cs.num_constraints()),
            (w0, c0),
            "fixed dense allocates nothing"
        );
        // 10 + 21 - 10 = 21.
        assert_eq!(acc[0].lin.value, f(21));
        let k = quotient_width(NARROW, &RQ);
        let hint = RequantizeHint::honest(&RQ, k, 21 + lie, 0);
        let claimed = zkw_model::ops::requantize::round_shift(21 + lie, 4);
        let c = claim(&cs, claimed);
        let y = requantize_with(&cs, &RQ, &acc[0].lin, &hint).unwrap();
        enforce_equal(&cs, &c, &y.lin).unwrap();
        (System::new(&cs), 4 + k as usize)
    };
    honest(&build(0).0);
    let (sys, division) = build(16);
    breaks_exactly(&sys, &[division]);
}

// ---------------------------------------------------------------------------------------------
// Dense with private weights, and the weight commitment

const SALT: u64 = 77;

fn layer() -> Dense {
    Dense {
        name: "fc".into(),
        in_features: 2,
        out_features: 1,
        weights: vec![3, 5],
        weight_bits: 8,
        weight_frac_bits: 0,
        bias: vec![10],
        bias_bits: 12,
    }
}

/// The public commitment of `layer()` under `SALT`.
fn public_commitment() -> Fr {
    let d = layer();
    weight_commitment(
        Fr::from(SALT),
        &[(&d.weights, w(d.weight_bits)), (&d.bias, w(d.bias_bits))],
    )
    .unwrap()
}

struct DenseAttack {
    sys: System,
    weights: Vec<Ranged>,
    /// Column of the first product witness.
    first_product: usize,
    /// Row of the commitment's equality with public input 0.
    commitment_row: usize,
}

/// `acc = bias + w·x` for x = [7, -2] with the given weight bits (offset-binary, 8 bits each)
/// and salt, committed; the accumulator bound to a claim, the commitment to the public one.
fn dense_attack(w_bits: [Vec<Fr>; 2], salt: u64, claimed: i64) -> DenseAttack {
    let d = layer();
    let cs = cs();
    let c = claim(&cs, claimed);
    let public = instance(&cs, public_commitment()).unwrap();
    let x = [7, -2].map(|v| Val::plain(witness(&cs, f(v)).unwrap()));
    let weights: Vec<Ranged> = w_bits
        .iter()
        .map(|b| signed_from_bits(alloc_bits(&cs, b).unwrap()))
        .collect();
    let bias = vec![signed_from_bits(
        alloc_bits(&cs, &signed_bit_values(10, 12)).unwrap(),
    )];
    let p = [
        Committed {
            values: weights.iter().map(|r| r.value.clone()).collect(),
            width: w(8),
        },
        Committed {
            values: bias.into_iter().map(|r| r.value).collect(),
            width: w(12),
        },
    ];
    let first_product = cs.num_witness_variables();
    let acc = dense_private(&cs, &d, &p, &x).unwrap();
    enforce_equal(&cs, &c, &acc[0].lin).unwrap();
    let s = witness(&cs, Fr::from(salt)).unwrap();
    let commitment = commit_private(&cs, &s, &p).unwrap();
    let commitment_row = cs.num_constraints();
    enforce_equal(&cs, &commitment, &public).unwrap();
    let sys = System::new(&cs);
    DenseAttack {
        first_product: sys.wcol(first_product),
        sys,
        weights,
        commitment_row,
    }
}

fn honest_weight_bits() -> [Vec<Fr>; 2] {
    [signed_bit_values(3, 8), signed_bit_values(5, 8)]
}

#[test]
fn dense_private_weights_carried_under_the_same_commitment() {
    // Honest: 10 + 3·7 + 5·(-2) = 21.
    honest(&dense_attack(honest_weight_bits(), SALT, 21).sys);
    // w0 = 3 + 256, w1 = 5 - 1 pack to the same element, so the commitment is unchanged; the
    // layer then computes 10 + 259·7 + 4·(-2) = 1815. w0's offset-binary 387 = 256 + 131
    // needs bit 7 = 1 + 2.
    let mut w0 = signed_bit_values(3, 8);
    w0[7] = f(3);
    let a = dense_attack([w0, signed_bit_values(4, 8)], SALT, 1815);
    breaks_exactly(&a.sys, &[a.sys.boolean_row(&a.weights[0].bits[7])]);
}

#[test]
fn dense_private_a_lying_product() {
    // w0·x0 = 21; say 22 and claim 22.
    let mut a = dense_attack(honest_weight_bits(), SALT, 22);
    let p0 = a.first_product;
    a.sys.set_col(p0, f(22));
    breaks_exactly(&a.sys, &[a.sys.defining_row_col(p0)]);
}

#[test]
fn weight_commitment_binds_salt_and_weights() {
    // Another salt: another commitment; only its equality with public input 0 sees it.
    let a = dense_attack(honest_weight_bits(), SALT + 1, 21);
    breaks_exactly(&a.sys, &[a.commitment_row]);
    // Another weight, in range and boolean everywhere: the same.
    let a = dense_attack([signed_bit_values(4, 8), signed_bit_values(5, 8)], SALT, 28);
    breaks_exactly(&a.sys, &[a.commitment_row]);
}

// ---------------------------------------------------------------------------------------------
// Conv with private weights: one committed witness per weight, reused at every position

/// 1-D, 1 → 1 channel, kernel [3, 5], bias 10, no padding, over x = [7, -2, 4]: the honest
/// outputs are 10 + 21 - 10 = 21 and 10 - 6 + 20 = 24.
fn conv_layer() -> Conv {
    Conv {
        name: "conv".into(),
        geometry: ConvGeometry {
            in_channels: 1,
            out_channels: 1,
            in_spatial: vec![3],
            kernel: vec![2],
            strides: vec![1],
            dilations: vec![1],
            pads: vec![0, 0],
            groups: 1,
        },
        weights: vec![3, 5],
        weight_bits: 8,
        weight_frac_bits: 0,
        bias: vec![10],
        bias_bits: 12,
    }
}

/// The conv over committed weights given as bits, both outputs bound to claims, the
/// commitment bound to `layer()`'s (same weights and bias); returns the system, the weights
/// and the column of the first product witness of the second output.
fn conv_attack(w_bits: [Vec<Fr>; 2], claimed: [i64; 2]) -> (System, Vec<Ranged>, usize) {
    let c = conv_layer();
    let cs = cs();
    let claims = claimed.map(|v| claim(&cs, v));
    let public = instance(&cs, public_commitment()).unwrap();
    let x = [7, -2, 4].map(|v| Val::plain(witness(&cs, f(v)).unwrap()));
    let weights: Vec<Ranged> = w_bits
        .iter()
        .map(|b| signed_from_bits(alloc_bits(&cs, b).unwrap()))
        .collect();
    let bias = vec![signed_from_bits(
        alloc_bits(&cs, &signed_bit_values(10, 12)).unwrap(),
    )];
    let p = [
        Committed {
            values: weights.iter().map(|r| r.value.clone()).collect(),
            width: w(8),
        },
        Committed {
            values: bias.into_iter().map(|r| r.value).collect(),
            width: w(12),
        },
    ];
    // Products are allocated in output order, two per output.
    let second_output_product = cs.num_witness_variables() + 2;
    let y = conv_private(&cs, &c, &p, &x).unwrap();
    for (claim, y) in claims.iter().zip(&y) {
        enforce_equal(&cs, claim, &y.lin).unwrap();
    }
    let s = witness(&cs, Fr::from(SALT)).unwrap();
    let commitment = commit_private(&cs, &s, &p).unwrap();
    enforce_equal(&cs, &commitment, &public).unwrap();
    let sys = System::new(&cs);
    let col = sys.wcol(second_output_product);
    (sys, weights, col)
}

#[test]
fn conv_private_reuses_each_committed_weight_and_checks_every_product() {
    let honest_bits = || [signed_bit_values(3, 8), signed_bit_values(5, 8)];
    honest(&conv_attack(honest_bits(), [21, 24]).0);
    // A lying product at the second position (3 · -2 = -6; say -5 and claim 25).
    let (mut sys, _, p) = conv_attack(honest_bits(), [21, 25]);
    sys.set_col(p, f(-5));
    breaks_exactly(&sys, &[sys.defining_row_col(p)]);
    // The weight-carry trick of the dense case (w0 + 256, w1 - 1 pack alike): the commitment
    // does not see it, the boolean constraint on the weight's bit 7 does — at every position.
    let mut w0 = signed_bit_values(3, 8);
    w0[7] = f(3);
    let (sys, weights, _) = conv_attack(
        [w0, signed_bit_values(4, 8)],
        [10 + 259 * 7 - 8, 10 + 259 * -2 + 16],
    );
    breaks_exactly(&sys, &[sys.boolean_row(&weights[0].bits[7])]);
}

// ---------------------------------------------------------------------------------------------
// MaxPool: max(a, b) = a + relu(b - a), the running maximum a witness tied by one equality

/// One window over x = [3, 7] (bounds [-8, 7]), its maximum bound to a claim; returns the
/// system, the running maximum's column and the row of its equality.
fn max_pool_attack(claimed: i64) -> (System, usize, usize) {
    let cs = cs();
    let c = claim(&cs, claimed);
    let x = [3, 7].map(|v| Val::plain(witness(&cs, f(v)).unwrap()));
    let pool = MaxPool {
        geometry: ConvGeometry {
            in_channels: 1,
            out_channels: 1,
            in_spatial: vec![2],
            kernel: vec![2],
            strides: vec![1],
            dilations: vec![1],
            pads: vec![0, 0],
            groups: 1,
        },
    };
    let y = max_pool(&cs, &pool, &x, &[3, 7], Interval { lo: -8, hi: 7 }).unwrap();
    // The running maximum is the last witness, its equality the last constraint, of the gadget.
    let (next, equality) = (cs.num_witness_variables() - 1, cs.num_constraints() - 1);
    enforce_equal(&cs, &c, &y[0].lin).unwrap();
    let sys = System::new(&cs);
    let col = sys.wcol(next);
    (sys, col, equality)
}

#[test]
fn max_pool_a_running_maximum_that_drops_a_larger_value() {
    honest(&max_pool_attack(7).0);
    // Claim 3 and set the running maximum to 3, every other witness honest: only the equality
    // `next = acc + relu(7 - 3)` sees it.
    let (mut sys, next, equality) = max_pool_attack(3);
    sys.set_col(next, f(3));
    breaks_exactly(&sys, &[equality]);
}

// ---------------------------------------------------------------------------------------------
// The input digest

struct DigestAttack {
    sys: System,
    inputs: Vec<Ranged>,
    digest_row: usize,
}

/// Inputs with the given bits and values (each tied to its bits), digested with `salt` and
/// bound to the digest of the honest input [3, 5] under salt 1; the first input is claimed.
fn digest_attack(bits: [Vec<Fr>; 2], values: [i64; 2], salt: u8) -> DigestAttack {
    let honest_salt = InputSalt::from_bytes([1; 31]);
    let public_digest = zkw_verifier::digest::input_digest(&[3, 5], w(8), &honest_salt).unwrap();
    let cs = cs();
    let c = claim(&cs, values[0]);
    let public = instance(&cs, public_digest).unwrap();
    let inputs: Vec<Ranged> = bits
        .iter()
        .zip(values)
        .map(|(b, v)| tie(&cs, signed_from_bits(alloc_bits(&cs, b).unwrap()), f(v)).unwrap())
        .collect();
    enforce_equal(&cs, &c, &inputs[0].value).unwrap();
    let s = witness(&cs, InputSalt::from_bytes([salt; 31]).element()).unwrap();
    let refs: Vec<&Lin> = inputs.iter().map(|r| &r.value).collect();
    let d = input_digest(&cs, &refs, w(8), &s).unwrap();
    let digest_row = cs.num_constraints();
    enforce_equal(&cs, &d, &public).unwrap();
    DigestAttack {
        sys: System::new(&cs),
        inputs,
        digest_row,
    }
}

#[test]
fn input_digest_values_carried_under_the_same_digest() {
    let bits = [signed_bit_values(3, 8), signed_bit_values(5, 8)];
    honest(&digest_attack(bits.clone(), [3, 5], 1).sys);
    // x0 = 3 + 256, x1 = 4: the same packed element, the same digest, another input.
    let mut x0 = signed_bit_values(3, 8);
    x0[7] = f(3);
    let a = digest_attack([x0, signed_bit_values(4, 8)], [259, 4], 1);
    breaks_exactly(&a.sys, &[a.sys.boolean_row(&a.inputs[0].bits[7])]);
}

#[test]
fn input_digest_binds_the_salt() {
    let bits = [signed_bit_values(3, 8), signed_bit_values(5, 8)];
    let a = digest_attack(bits, [3, 5], 2);
    breaks_exactly(&a.sys, &[a.digest_row]);
}

// ---------------------------------------------------------------------------------------------
// Table lookup: two one-hot selectors, one product per row

/// A lookup of `x` into `entries` (from `lo`) over the given selectors and output, bound to
/// `claimed`; returns the system and the row where the gadget's constraints start.
fn lookup_attack(
    x: i64,
    lo: i64,
    entries: &[i64],
    rows: &[Fr],
    cols: &[Fr],
    y: i64,
    claimed: i64,
) -> (System, usize) {
    let cs = cs();
    let c = claim(&cs, claimed);
    let xv = witness(&cs, f(x)).unwrap();
    let start = cs.num_constraints();
    let out = lookup_with(&cs, &xv, lo, entries, rows, cols, f(y)).unwrap();
    enforce_equal(&cs, &c, &out).unwrap();
    (System::new(&cs), start)
}

const SQUARES: [i64; 4] = [0, 1, 4, 9];

#[test]
fn lookup_a_non_boolean_column_selector_that_keeps_the_index() {
    // One row of four columns (split(4) = (1, 4)). x = 1 reads 1; the attacker claims 5 with
    // columns (1, 0, -1, ·): the last is 1 - Σ = 1, the index 0·1 + 2·(-1) + 3·1 = 1 still
    // holds, and y = 0 - 4 + 9 = 5. Only the -1's boolean row sees it.
    assert_eq!(split(4), (1, 4));
    let honest_cols = one_hot_values(1, 4);
    honest(&lookup_attack(1, 0, &SQUARES, &[f(1)], &honest_cols, 1, 1).0);
    let cols = [f(1), f(0), f(-1), f(0)];
    let (sys, _) = lookup_attack(1, 0, &SQUARES, &[f(1)], &cols, 5, 5);
    // Witnesses: x, then the three allocated column booleans.
    breaks_exactly(&sys, &[sys.boolean_row_col(sys.wcol(1 + 2))]);
}

#[test]
fn lookup_a_derived_selector_that_is_not_boolean() {
    // x = 0 reads 0. Columns (0, 1, 1) make the derived last one 1 - 2 = -1; the index
    // 1 + 2 - 3 = 0 holds and y = 1 + 4 - 9 = -4. Only the derived selector's boolean row
    // (right after the three allocated ones) breaks.
    let cols = [f(0), f(1), f(1), f(0)];
    let (sys, start) = lookup_attack(0, 0, &SQUARES, &[f(1)], &cols, -4, -4);
    breaks_exactly(&sys, &[start + 3]);
}

#[test]
fn lookup_a_lying_row_product() {
    // Nine entries: two rows of five. The first row's product witness says 100 more than
    // h_0 · row_0 and the output says 100 more too: the output equation holds, only the
    // product's own row breaks.
    let entries: Vec<i64> = (0..9).map(|i| i * i * i).collect();
    let (k, l) = split(9);
    assert_eq!((k, l), (2, 5));
    let (h, c) = (one_hot_values(0, k), one_hot_values(3, l));
    let (mut sys, _) = lookup_attack(3, 0, &entries, &h, &c, 27, 127);
    // Witnesses: x, one row boolean, four column booleans, the product, the output.
    let (product, output) = (sys.wcol(1 + 1 + 4), sys.wcol(1 + 1 + 4 + 1));
    let lie = sys.z[product] + f(100);
    sys.set_col(product, lie);
    sys.set_col(output, f(127));
    breaks_exactly(&sys, &[sys.defining_row_col(product)]);
}

#[test]
fn lookup_a_wrong_output_with_honest_selectors() {
    // Honest selectors for x = 2 (reads 4), output claimed 9: only the output equation.
    let (sys, start) = lookup_attack(2, 0, &SQUARES, &[f(1)], &one_hot_values(2, 4), 9, 9);
    // Three booleans, the derived boolean, the index, then the output equation.
    breaks_exactly(&sys, &[start + 5]);
}

// ---------------------------------------------------------------------------------------------
// Exact division (softmax): q = floor(num / den)

fn divide_attack(num: i64, den: i64, w: &DivisionWitness, claimed: i64) -> System {
    let cs = cs();
    let c = claim(&cs, claimed);
    let n = witness(&cs, f(num)).unwrap();
    let d = witness(&cs, f(den)).unwrap();
    let q = divide_with(&cs, &n, &d, w).unwrap();
    enforce_equal(&cs, &c, &q).unwrap();
    System::new(&cs)
}

#[test]
fn divide_a_quotient_that_is_a_field_fraction() {
    // 9 / 4 with r = 0: q = 9/4 in the field satisfies 4·q = 9 - 0. Its one "bit" 9/4 carries
    // it; only that bit's boolean row breaks. Without the quotient's range check this is a
    // quotient for every remainder.
    let mut w = DivisionWitness::new(9, 4, 4, 3);
    honest(&divide_attack(9, 4, &w, 2));
    let quarter = f(9) * f(4).inverse().unwrap();
    w.q = vec![quarter, f(0), f(0), f(0)];
    w.r = bit_values(0, 3);
    w.gap = bit_values(3, 3);
    let mut sys = divide_attack(9, 4, &w, 0);
    // The claim is the quotient's value: a public 9/4.
    sys.z[1] = quarter;
    // Witnesses: num, den, then q's four bits.
    breaks_exactly(&sys, &[sys.boolean_row_col(sys.wcol(2))]);
}

#[test]
fn divide_a_remainder_beyond_the_divisor() {
    // 9 = 4·1 + 5: q = 1 and r = 5 both in their widths; gap = 4 - 1 - 5 = -2 would need a
    // non-boolean bit, so the attacker keeps gap's bits honest-looking (0) and only
    // `r + gap = den - 1` breaks.
    let mut w = DivisionWitness::new(9, 4, 4, 3);
    w.q = bit_values(1, 4);
    w.r = bit_values(5, 3);
    w.gap = bit_values(0, 3);
    let sys = divide_attack(9, 4, &w, 1);
    // Rows: q's 4 booleans, q's tie, r's 3 and gap's 3 booleans, then `r + gap = den - 1`.
    breaks_exactly(&sys, &[4 + 1 + 3 + 3]);
}

// ---------------------------------------------------------------------------------------------
// Mul and private Scale: one product per element

#[test]
fn mul_a_lying_product() {
    // 6 · -7 = -42; the product witness says -41 and the claim follows it.
    let run = |lie: Option<i64>, claimed: i64| {
        let cs = cs();
        let c = claim(&cs, claimed);
        let a = [Val::plain(witness(&cs, f(6)).unwrap())];
        let b = [Val::plain(witness(&cs, f(-7)).unwrap())];
        let p = mul(&cs, &a, &b).unwrap();
        enforce_equal(&cs, &c, &p[0].lin).unwrap();
        let mut sys = System::new(&cs);
        let col = sys.col(&p[0].lin);
        if let Some(v) = lie {
            sys.set_col(col, f(v));
        }
        (sys, col)
    };
    honest(&run(None, -42).0);
    let (sys, col) = run(Some(-41), -41);
    breaks_exactly(&sys, &[sys.defining_row_col(col)]);
}

#[test]
fn scale_private_a_lying_product() {
    // Committed factor 3 and offset -5 on x = 4: 7. The product witness says 13 (claim 8).
    let run = |lie: Option<i64>, claimed: i64| {
        let cs = cs();
        let c = claim(&cs, claimed);
        let x = [Val::plain(witness(&cs, f(4)).unwrap())];
        let k = vec![signed_from_bits(
            alloc_bits(&cs, &signed_bit_values(3, 4)).unwrap(),
        )];
        let o = vec![signed_from_bits(
            alloc_bits(&cs, &signed_bit_values(-5, 8)).unwrap(),
        )];
        let p = [
            Committed {
                values: k.into_iter().map(|r| r.value).collect(),
                width: w(4),
            },
            Committed {
                values: o.into_iter().map(|r| r.value).collect(),
                width: w(8),
            },
        ];
        let product = cs.num_witness_variables();
        let y = scale_private(&cs, &p, &x).unwrap();
        enforce_equal(&cs, &c, &y[0].lin).unwrap();
        let mut sys = System::new(&cs);
        let col = sys.wcol(product);
        if let Some(v) = lie {
            sys.set_col(col, f(v));
        }
        (sys, col)
    };
    honest(&run(None, 7).0);
    let (sys, col) = run(Some(13), 8);
    breaks_exactly(&sys, &[sys.defining_row_col(col)]);
}

// ---------------------------------------------------------------------------------------------
// Softmax: the row's sum is one witness tied to the exponentials

/// A one-value row x = [0] (bounds [0, 0]): e = exp(0) = 16, S = 16, y = (16·8 + 16) / 32 = 4
/// at scale 2^-2. Returns the system, the row where the gadget starts, and the sum's column.
fn softmax_attack(lie: Option<i64>) -> (System, usize, usize) {
    let s = Softmax {
        axis_len: 1,
        in_bits: 2,
        exp: vec![1, 2, 6, 16],
        frac_bits: 2,
    };
    let claimed = match lie {
        None => 4,
        // S' = 32: (128 + 32) / 64 = 2.
        Some(_) => 2,
    };
    let cs = cs();
    let c = claim(&cs, claimed);
    let x = [Val::plain(witness(&cs, f(0)).unwrap())];
    let start = cs.num_constraints();
    let y = softmax(&cs, &s, &x, &[0], Interval { lo: 0, hi: 0 }).unwrap();
    enforce_equal(&cs, &c, &y[0].lin).unwrap();
    let mut sys = System::new(&cs);
    // Witnesses: x, the lookup's output, then S, q's 3 bits, q, r's 6 bits, gap's 6 bits.
    let sum = sys.wcol(2);
    if let Some(s2) = lie {
        let (num, den) = (16 * 8 + s2, 2 * s2);
        let (q, r) = (num / den, num % den);
        sys.set_col(sum, f(s2));
        let bits = |v: i64, w: u32, at: usize, sys: &mut System| {
            for (k, b) in bit_values(v as u64, w).into_iter().enumerate() {
                sys.set_col(sys.wcol(at + k), b);
            }
        };
        bits(q, 3, 3, &mut sys);
        sys.set_col(sys.wcol(6), f(q));
        bits(r, 6, 7, &mut sys);
        bits(den - 1 - r, 6, 13, &mut sys);
    }
    (sys, start, sum)
}

#[test]
fn softmax_a_row_sum_apart_from_its_exponentials() {
    honest(&softmax_attack(None).0);
    // S = 32 with every division recomputed for it: y = 2 instead of 4. Only the tie of S to
    // the sum of the exponentials (after the lookup's two rows) sees it.
    let (sys, start, _) = softmax_attack(Some(32));
    breaks_exactly(&sys, &[start + 2]);
}
