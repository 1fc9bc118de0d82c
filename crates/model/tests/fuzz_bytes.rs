//! The short, in-CI version of the fuzz targets `model_file` and `input` in `fuzz/` (AFL++, see
//! `fuzz/README.md`): the model-file and input-file parsers on bytes shaped like JSON and on
//! valid files mutated byte by byte (bit flips, overwrites, insertions of JSON tokens,
//! deletions, duplicated chunks, truncations). An `Ok` or an `Err`, never a panic; and what
//! they accept holds what it promises: a model that loads runs, every value of its run inside
//! the interval the bounds analysis gave its tensor; the two input parsers read the same
//! values, which quantize inside their width.
//!
//! `tests/parsers.rs` already feeds uniformly random bytes, truncations and single hostile
//! values to both parsers; here the seeds are one model per op kind and a few graphs, and the
//! edits are byte-level. An edited model file is almost never canonical, so each edit is also
//! tried in canonical form (the model it holds, written back), which reaches the structural
//! checks and the bounds analysis. Inputs the fuzzer found go at the end, as regression tests.

use std::path::Path;
use std::sync::LazyLock;

use proptest::prelude::*;
use proptest::sample::Index;
use zkw_model::bounds::analyze;
use zkw_model::file::{from_bytes, model_id, to_canonical_bytes};
use zkw_model::input::{
    FAR_BEYOND, parse_client_input, parse_input_json, quantize_input, saturated_count,
};
use zkw_model::ir::signed_range;
use zkw_model::ops::examples;
use zkw_model::seeds::seed_models;
use zkw_model::{Model, ModelError, TensorInfo, run};

/// The model seeds (`seeds::seed_models`: one model per op kind, a private-weights MLP and a
/// residual graph), as files.
static MODEL_SEEDS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    seed_models()
        .iter()
        .map(|(_, m)| to_canonical_bytes(m))
        .collect()
});

const INPUT_SEEDS: [&str; 6] = [
    r#"{"input_data": [[0.5, -1.0, 2.0]]}"#,
    r#"{"input_data": [[0.0625, 1, -3.5e2]], "salt": "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"}"#,
    r#"{"input_data": [[1.0], [2.0, 3.0]]}"#,
    r#"{"input_data": [[true, false, 0]]}"#,
    r#"{"input_data": [[1.0, "Infinity"]]}"#,
    r#"{"input_data": []}"#,
];

/// The most multiply-accumulates and trace values a model may cost to be run here.
const RUN_BUDGET: usize = 1 << 16;

/// A model the parser accepted: its checks agree, and when cheap enough it runs on zeros, the
/// extremes of its input range and an input drawn from `noise`, with every value inside the
/// static interval of its tensor.
fn check_model(m: &Model, noise: &[u8]) {
    let infos = m
        .tensor_infos()
        .expect("an accepted model has tensor formats");
    let bounds = analyze(m).expect("an accepted model has bounds");
    m.output_info()
        .expect("an accepted model has an output format");
    let trace_len: usize = infos.iter().map(TensorInfo::len).sum();
    let macs = m.nodes.iter().fold(0usize, |n, node| {
        n.saturating_add(node.op.semantics().macs())
    });
    if trace_len > RUN_BUDGET || macs > RUN_BUDGET {
        return;
    }
    let input = m.input_info();
    let (lo, hi) = signed_range(input.bits);
    let n = input.len();
    let drawn: Vec<i64> = (0..n)
        .map(|k| {
            let byte = noise.get(k % noise.len().max(1)).copied().unwrap_or(0) as i64;
            lo + (byte * 0x9e37 + k as i64) % (hi - lo + 1)
        })
        .collect();
    let alternating: Vec<i64> = (0..n).map(|k| if k % 2 == 0 { lo } else { hi }).collect();
    for x in [vec![0; n], vec![lo; n], vec![hi; n], alternating, drawn] {
        let trace = run(m, &x).unwrap_or_else(|e| panic!("an accepted model fails to run: {e}"));
        assert_eq!(trace.tensors.len(), bounds.tensors.len());
        for (t, (values, iv)) in trace.tensors.iter().zip(&bounds.tensors).enumerate() {
            if let Some(v) = values.iter().find(|&&v| v < iv.lo || v > iv.hi) {
                panic!(
                    "tensor {t} holds {v}, outside its static bounds [{}, {}]",
                    iv.lo, iv.hi
                );
            }
        }
    }
}

/// What the fuzz target `model_file` does with its bytes: load them; and load the model they
/// hold in canonical form, so that non-canonical edits reach the checks behind that one.
fn load(bytes: &[u8]) {
    let path = Path::new("fuzz.zkm");
    if let Ok((m, id)) = from_bytes(bytes, path) {
        assert_eq!(id, model_id(&m));
        check_model(&m, bytes);
    }
    let Some(m) = serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| serde_json::from_value::<Model>(v.get("model")?.clone()).ok())
    else {
        return;
    };
    match from_bytes(&to_canonical_bytes(&m), path) {
        Ok((back, _)) => {
            assert_eq!(back, m);
            check_model(&m, bytes);
        }
        Err(_) => {
            let _ = m.tensor_infos();
            let _ = analyze(&m);
            let _ = m.output_info();
            let _ = m.input_info();
        }
    }
}

/// What the fuzz target `input` does with its bytes: both parsers, which must agree, and
/// quantization of what they accept.
fn parse_input(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let path = Path::new("input.json");
    let all = parse_input_json(text, path);
    let Ok(client) = parse_client_input(text, path) else {
        return;
    };
    let all = all.expect("a client input parses, so do its values");
    assert_eq!(client.values, all.concat());
    if client.values.is_empty() {
        return;
    }
    for (frac_bits, bits) in [(0, 8), (7, 8), (-256, 2), (256, 24)] {
        let info = TensorInfo {
            shape: vec![client.values.len()],
            frac_bits,
            bits,
        };
        let (lo, hi) = signed_range(bits);
        match quantize_input(&info, &client.values) {
            Ok(q) => assert!(q.iter().all(|v| (lo..=hi).contains(v))),
            // Refused only for a value far beyond the range (never for one within it).
            Err(ModelError::InputFarOutOfRange { index, value, .. }) => {
                let q = (value * (frac_bits as f64).exp2()).round().abs();
                assert!(q > FAR_BEYOND * hi as f64, "#{index} = {value} refused");
            }
            Err(e) => panic!("finite values, the right length: {e}"),
        }
        assert!(saturated_count(&info, &client.values) <= client.values.len());
    }
}

/// One edit of a byte string. Positions are `Index`es, so they fit any length.
#[derive(Debug, Clone)]
enum Edit {
    Flip(Index, u8),
    Set(Index, u8),
    Insert(Index, Vec<u8>),
    Delete(Index, usize),
    Duplicate(Index, Index, usize),
    Truncate(Index),
    /// Numeric edits, at the digits of the document: they keep it JSON (and, mostly,
    /// canonical), so they reach the checks of shapes, widths, scales and operands.
    Digit(Index, u8),
    InsertDigit(Index, u8),
    DeleteDigit(Index),
    Negate(Index),
}

/// What an insertion puts in: a JSON token a parser must weigh, or arbitrary bytes.
fn token() -> impl Strategy<Value = Vec<u8>> {
    let tokens: &[&str] = &[
        "0",
        "1",
        "9",
        "-",
        "-0",
        "1e999",
        "18446744073709551615",
        "18446744073709551616",
        "9223372036854775808",
        "2147483648",
        "4294967295",
        "16777216",
        "256",
        "257",
        "33",
        ".5",
        "\"",
        "\\",
        "\\u0000",
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "null",
        "true",
        "\"NaN\"",
        " ",
        "[0],",
        "0,",
        ",0",
    ];
    prop_oneof![
        prop::sample::select(tokens).prop_map(|t| t.as_bytes().to_vec()),
        prop::collection::vec(any::<u8>(), 1..4),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (any::<Index>(), 0u8..8).prop_map(|(i, b)| Edit::Flip(i, b)),
        2 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Edit::Set(i, b)),
        3 => (any::<Index>(), token()).prop_map(|(i, t)| Edit::Insert(i, t)),
        2 => (any::<Index>(), 1usize..8).prop_map(|(i, n)| Edit::Delete(i, n)),
        1 => (any::<Index>(), any::<Index>(), 1usize..32)
            .prop_map(|(from, to, n)| Edit::Duplicate(from, to, n)),
        1 => any::<Index>().prop_map(Edit::Truncate),
    ]
}

fn numeric_edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        3 => (any::<Index>(), b'0'..=b'9').prop_map(|(i, d)| Edit::Digit(i, d)),
        2 => (any::<Index>(), b'0'..=b'9').prop_map(|(i, d)| Edit::InsertDigit(i, d)),
        1 => any::<Index>().prop_map(Edit::DeleteDigit),
        1 => any::<Index>().prop_map(Edit::Negate),
    ]
}

/// One to four edits.
fn edits() -> impl Strategy<Value = Vec<Edit>> {
    prop::collection::vec(edit(), 1..5)
}

/// One to four edits, mostly numeric.
fn model_edits() -> impl Strategy<Value = Vec<Edit>> {
    prop::collection::vec(prop_oneof![3 => numeric_edit(), 1 => edit()], 1..5)
}

fn apply(seed: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for e in edits {
        let len = b.len();
        let at = |i: &Index| if len == 0 { 0 } else { i.index(len) };
        match e {
            Edit::Flip(i, bit) if len > 0 => b[at(i)] ^= 1 << bit,
            Edit::Set(i, v) if len > 0 => b[at(i)] = *v,
            Edit::Insert(i, t) => {
                let p = if len == 0 { 0 } else { i.index(len + 1) };
                b.splice(p..p, t.iter().copied());
            }
            Edit::Delete(i, n) if len > 0 => {
                let p = at(i);
                b.drain(p..(p + n).min(len));
            }
            Edit::Duplicate(from, to, n) if len > 0 => {
                let f = at(from);
                let chunk = b[f..(f + n).min(len)].to_vec();
                let t = at(to);
                b.splice(t..t, chunk);
            }
            Edit::Truncate(i) => b.truncate(at(i)),
            Edit::Digit(i, _)
            | Edit::InsertDigit(i, _)
            | Edit::DeleteDigit(i)
            | Edit::Negate(i) => {
                let digits: Vec<usize> = (0..len).filter(|&k| b[k].is_ascii_digit()).collect();
                if digits.is_empty() {
                    continue;
                }
                let p = digits[i.index(digits.len())];
                match e {
                    Edit::Digit(_, d) => b[p] = *d,
                    Edit::InsertDigit(_, d) => b.insert(p, *d),
                    Edit::DeleteDigit(_) => {
                        b.remove(p);
                    }
                    _ => b.insert(p, b'-'),
                }
            }
            _ => {}
        }
    }
    b
}

/// Bytes over JSON's alphabet, so that arbitrary input gets past the tokenizer now and then.
fn json_like_bytes() -> impl Strategy<Value = Vec<u8>> {
    let alphabet = b"{}[]\":, 0123456789-.eE+abcdefinput_dtsl".to_vec();
    prop::collection::vec(prop::sample::select(alphabet), 0..200)
}

#[test]
fn the_seeds_are_valid() {
    assert_eq!(MODEL_SEEDS.len(), examples().len() + 2);
    for bytes in MODEL_SEEDS.iter() {
        let (m, _) = from_bytes(bytes, Path::new("seed.zkm")).unwrap();
        check_model(&m, bytes);
    }
    for text in INPUT_SEEDS {
        parse_input(text.as_bytes());
    }
    assert!(parse_client_input(INPUT_SEEDS[1], Path::new("i.json")).is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn json_like_bytes_never_panic(bytes in json_like_bytes()) {
        load(&bytes);
        parse_input(&bytes);
    }

    #[test]
    fn random_utf8_input_documents_never_panic(text in "\\PC{0,120}") {
        parse_input(text.as_bytes());
        let wrapped = format!(r#"{{"input_data": [[{text}]]}}"#);
        parse_input(wrapped.as_bytes());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn mutated_model_files(seed in any::<Index>(), edits in model_edits()) {
        let seed = &MODEL_SEEDS[seed.index(MODEL_SEEDS.len())];
        load(&apply(seed, &edits));
    }

    #[test]
    fn mutated_input_files(seed in any::<Index>(), edits in edits()) {
        let seed = INPUT_SEEDS[seed.index(INPUT_SEEDS.len())].as_bytes();
        parse_input(&apply(seed, &edits));
    }
}
