//! The model-file and input-file parsers on hostile bytes: random bytes, every truncation of a
//! valid file, and valid files with one value replaced (a model file stays canonical when only
//! a number changes, so these reach the structural checks and the bounds analysis). An error,
//! never a panic; and a model that loads also runs.

use std::path::Path;

use proptest::prelude::*;
use serde_json::{Value, json};
use zkw_model::file::{from_bytes, to_canonical_bytes};
use zkw_model::input::parse_client_input;
use zkw_model::ops::{Dense, Relu, Requantize, Reshape};
use zkw_model::{Model, Op, TensorInfo, WeightMode, run};

fn model() -> Model {
    Model::chain(
        "m",
        WeightMode::Private,
        TensorInfo {
            shape: vec![1, 3],
            frac_bits: 4,
            bits: 8,
        },
        vec![
            Op::Reshape(Reshape { shape: vec![3] }),
            Op::Dense(Dense {
                name: "fc".into(),
                in_features: 3,
                out_features: 2,
                weights: vec![1, -2, 3, 4, 5, -6],
                weight_bits: 8,
                weight_frac_bits: 3,
                bias: vec![5, -7],
                bias_bits: 16,
            }),
            Op::Requantize(Requantize { shift: 3, bits: 8 }),
            Op::Relu(Relu),
        ],
        Some("ab".repeat(31)),
    )
}

fn hostile_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(0)),
        Just(json!(1)),
        Just(json!(-1)),
        Just(json!(31)),
        Just(json!(32)),
        Just(json!(64)),
        Just(json!(u32::MAX)),
        Just(json!(i32::MAX)),
        Just(json!(i32::MIN)),
        Just(json!(257)),
        Just(json!(-257)),
        Just(json!(u64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(i64::MAX)),
        Just(json!([])),
        Just(json!([0])),
        Just(json!([u64::MAX, u64::MAX])),
        Just(json!([1usize << 32, 1usize << 32])),
        Just(json!(null)),
        Just(json!("")),
        any::<i64>().prop_map(Value::from),
        any::<u32>().prop_map(Value::from),
    ]
}

fn leaves(v: &Value, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(prefix.clone());
    match v {
        Value::Object(m) => m
            .iter()
            .for_each(|(k, c)| leaves(c, [prefix.clone(), vec![k.clone()]].concat(), out)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, c)| leaves(c, [prefix.clone(), vec![i.to_string()]].concat(), out)),
        _ => {}
    }
}

fn at<'a>(v: &'a mut Value, path: &[String]) -> &'a mut Value {
    path.iter().fold(v, |v, k| match v {
        Value::Array(a) => &mut a[k.parse::<usize>().unwrap()],
        other => &mut other[k.as_str()],
    })
}

/// Loads `bytes`; a model that loads must also run on an all-zero input.
fn load_and_run(bytes: &[u8]) {
    if let Ok((m, _)) = from_bytes(bytes, Path::new("m.zkm")) {
        run(&m, &vec![0; m.input_info().len()]).expect("a model that loads runs");
    }
}

/// The canonical file of an edited model document, so that it passes the canonical-bytes
/// check and reaches the structural checks and the bounds analysis (`None` when the edit does
/// not even deserialize, which the parser refuses on its own).
fn canonical(doc: &Value) -> Option<Vec<u8>> {
    let m: Model = serde_json::from_value(doc["model"].clone()).ok()?;
    Some(to_canonical_bytes(&m))
}

#[test]
fn the_fixture_loads() {
    assert!(from_bytes(&to_canonical_bytes(&model()), Path::new("m.zkm")).is_ok());
}

#[test]
fn huge_shapes_are_refused_without_overflow() {
    let mut m = model();
    m.inputs[0].shape = vec![usize::MAX, usize::MAX];
    let err = from_bytes(&to_canonical_bytes(&m), Path::new("m.zkm"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("input #0 of shape [18446744073709551615, 18446744073709551615] has more than 16777216 values"),
        "{err}"
    );
    let mut m = model();
    if let Op::Dense(d) = &mut m.nodes[1].op {
        d.out_features = usize::MAX;
    }
    let err = from_bytes(&to_canonical_bytes(&m), Path::new("m.zkm"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "node #1 `dense1` (dense `fc` 3→18446744073709551615): the weight matrix of shape"
        ),
        "{err}"
    );
    let mut m = model();
    m.nodes[0].op = Op::Reshape(Reshape {
        shape: vec![1 << 40, 1 << 40, 0],
    });
    let err = from_bytes(&to_canonical_bytes(&m), Path::new("m.zkm"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "node #0 `reshape0` (reshape [1099511627776, 1099511627776, 0]): the output of shape"
        ),
        "{err}"
    );
}

#[test]
fn scale_exponents_are_bounded_without_overflow() {
    // i32::MAX + 1 once overflowed while deriving the dense layer's output scale.
    type Edit = fn(&mut Model);
    let cases: [(Edit, &str); 4] = [
        (
            |m| m.inputs[0].frac_bits = i32::MAX,
            "input #0: scale exponent 2147483647 is beyond ±256",
        ),
        (
            |m| {
                m.inputs[0].frac_bits = 200;
                if let Op::Dense(d) = &mut m.nodes[1].op {
                    d.weight_frac_bits = 100;
                }
            },
            "(dense `fc` 3→2): the output: scale exponent 300 is beyond ±256",
        ),
        (
            |m| {
                if let Op::Dense(d) = &mut m.nodes[1].op {
                    d.weight_frac_bits = i32::MIN;
                }
            },
            "(dense `fc` 3→2): the weights: scale exponent -2147483648 is beyond ±256",
        ),
        (
            |m| {
                m.inputs[0].frac_bits = -254;
                if let Op::Dense(d) = &mut m.nodes[1].op {
                    d.weight_frac_bits = 0;
                }
            },
            "node #2 `requantize2` (requantize >>3 to 8 bits): the output: scale exponent -257 is beyond ±256",
        ),
    ];
    for (edit, want) in cases {
        let mut m = model();
        edit(&mut m);
        let err = from_bytes(&to_canonical_bytes(&m), Path::new("m.zkm"))
            .unwrap_err()
            .to_string();
        assert!(err.contains(want), "{err} lacks {want}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        load_and_run(&bytes);
        let _ = parse_client_input(&String::from_utf8_lossy(&bytes), Path::new("i.json"));
    }

    #[test]
    fn truncated_model_files_are_refused(cut in any::<prop::sample::Index>()) {
        let bytes = to_canonical_bytes(&model());
        let at = cut.index(bytes.len());
        prop_assert!(from_bytes(&bytes[..at], Path::new("m.zkm")).is_err());
    }

    #[test]
    fn hostile_model_fields_never_panic(pick in any::<prop::sample::Index>(), new in hostile_value()) {
        let mut doc: Value = serde_json::from_slice(&to_canonical_bytes(&model())).unwrap();
        let mut paths = Vec::new();
        leaves(&doc, vec![], &mut paths);
        let path = paths[pick.index(paths.len())].clone();
        *at(&mut doc, &path) = new;
        load_and_run(doc.to_string().as_bytes());
        if let Some(bytes) = canonical(&doc) {
            load_and_run(&bytes);
        }
    }

    #[test]
    fn hostile_input_files_never_panic(pick in any::<prop::sample::Index>(), new in hostile_value()) {
        let mut doc = json!({"input_data": [[0.5, -1.0, 2.0]], "salt": "ab".repeat(31)});
        let mut paths = Vec::new();
        leaves(&doc, vec![], &mut paths);
        let path = paths[pick.index(paths.len())].clone();
        *at(&mut doc, &path) = new;
        let _ = parse_client_input(&doc.to_string(), Path::new("i.json"));
    }
}
