//! `verify()` on receipts and records with one field replaced by a hostile value, against a
//! real key: an error naming the problem, never a panic — and never `Ok` for a receipt or
//! record that differs from the real one in anything verification binds.

mod common;

use std::sync::OnceLock;

use common::{SALT, job, wide};
use proptest::prelude::*;
use serde_json::{Value, json};
use zkw_model::{WeightMode, model_id};
use zkw_prover::{LocalProver, setup};
use zkw_verifier::{Expected, ModelRecord, Receipt, VerifierKey, verify};

struct Fixture {
    record: ModelRecord,
    key: VerifierKey,
    receipt: Receipt,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let model = wide(WeightMode::Fixed);
        let id = model_id(&model);
        let report = setup(&model, &id, dir.path(), &|_| {}).unwrap();
        let prover = LocalProver::load(model, &id, dir.path()).unwrap();
        let input: Vec<i64> = (0..16).map(|i| i * 7 - 50).collect();
        let receipt = prover.prove(&input, &SALT, &job()).unwrap().receipt;
        Fixture {
            record: report.record,
            key: prover.verifier_key().clone(),
            receipt,
        }
    })
}

fn hostile_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(0)),
        Just(json!(-1)),
        Just(json!(128)),
        Just(json!(256)),
        Just(json!(u64::MAX)),
        Just(json!(i64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!([])),
        Just(json!([0])),
        Just(json!("")),
        Just(json!("00".repeat(32))),
        any::<i64>().prop_map(Value::from),
        (-300i64..300).prop_map(Value::from),
    ]
}

/// Every path to a leaf (object keys and array indices), so a case can pick one.
fn leaves(v: &Value, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        Value::Object(m) => m
            .iter()
            .for_each(|(k, c)| leaves(c, [prefix.clone(), vec![k.clone()]].concat(), out)),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, c)| leaves(c, [prefix.clone(), vec![i.to_string()]].concat(), out)),
        _ => out.push(prefix),
    }
}

fn at<'a>(v: &'a mut Value, path: &[String]) -> &'a mut Value {
    path.iter().fold(v, |v, k| match v {
        Value::Array(a) => &mut a[k.parse::<usize>().unwrap()],
        other => &mut other[k.as_str()],
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn hostile_receipts_and_records_never_panic(
        pick in any::<prop::sample::Index>(),
        new in hostile_value(),
        in_record in any::<bool>(),
    ) {
        let f = fixture();
        let mut receipt = serde_json::to_value(&f.receipt).unwrap();
        let mut record = serde_json::to_value(&f.record).unwrap();
        let target = if in_record { &mut record } else { &mut receipt };
        let mut paths = Vec::new();
        leaves(target, vec![], &mut paths);
        let path = &paths[pick.index(paths.len())];
        *at(target, path) = new.clone();

        let Ok(r) = Receipt::from_json(receipt.to_string().as_bytes()) else { return Ok(()) };
        let Ok(rec) = serde_json::from_value::<ModelRecord>(record) else { return Ok(()) };
        // `verify` validates the record itself: no `from_json` in between here.
        let result = verify(&r, &f.key, &Expected::model_only(&rec));
        let changed = r != f.receipt || rec != f.record;
        // Free: the record's display name and constraint count, and its input format, which
        // only tells a client how to quantize its input (bound through the digest the client
        // recomputes, not checked here). Anything else changed must fail a check or the proof.
        let free = in_record && matches!(path[0].as_str(), "name" | "constraints" | "input");
        if changed && !free {
            prop_assert!(result.is_err(), "{:?} = {} verified", path, new);
        }
    }
}

#[test]
fn the_fixture_verifies() {
    let f = fixture();
    verify(&f.receipt, &f.key, &Expected::model_only(&f.record)).unwrap();
}
