//! The `zkw` binary end to end on the bundled digits model, and every bad input a user can
//! give it: each must fail with a message that names the problem.

mod common;

use common::{examples, s, zkw, zkw_closed_stdout};

use std::path::{Path, PathBuf};
use std::process::Output;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Imports and sets up the digits model in `dir`; returns (model, keys).
fn prepared(dir: &Path, mode: &str) -> (PathBuf, PathBuf) {
    let model = dir.join(format!("m-{mode}.zkm"));
    let keys = dir.join(format!("keys-{mode}"));
    let onnx = examples().join("digits.onnx");
    let calib = examples().join("calibration.json");
    let o = zkw(&[
        "model",
        "import",
        s(&onnx),
        "-o",
        s(&model),
        "--calibration",
        s(&calib),
        "--weights",
        mode,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("model id"), "{}", stdout(&o));
    let o = zkw(&["model", "setup", s(&model), "-o", s(&keys)]);
    assert!(o.status.success(), "{}", stderr(&o));
    (model, keys)
}

#[test]
fn import_inspect_run_setup_prove_verify() {
    let dir = tempfile::tempdir().unwrap();
    let (model, keys) = prepared(dir.path(), "fixed");
    let input = examples().join("input.json");

    let o = zkw(&["model", "inspect", s(&model)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    for want in ["dense `fc1` 64→32", "relu", "constraints", "values in ["] {
        assert!(out.contains(want), "inspect lacks {want:?}:\n{out}");
    }

    let o = zkw(&["model", "run", s(&model), "--input", s(&input)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let values = json["output"].as_array().unwrap();
    assert_eq!(values.len(), 10);
    let argmax = (0..10)
        .max_by(|&a, &b| {
            values[a]
                .as_f64()
                .unwrap()
                .total_cmp(&values[b].as_f64().unwrap())
        })
        .unwrap();
    assert_eq!(argmax, 6, "the bundled test image is a 6");

    let receipt = dir.path().join("receipt.json");
    let o = zkw(&[
        "prove",
        s(&model),
        "--keys",
        s(&keys),
        "--input",
        s(&input),
        "-o",
        s(&receipt),
        "--job-id",
        "job-7",
        "--worker-id",
        "w1",
        "--nonce",
        "n1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));

    let strict = [
        "verify",
        s(&receipt),
        "--keys",
        s(&keys),
        "--input",
        s(&input),
        "--job-id",
        "job-7",
        "--worker-id",
        "w1",
        "--nonce",
        "n1",
    ];
    let o = zkw(&strict);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("verified"), "{}", stdout(&o));
    // `zkw verify … | head -n1`: a closed stdout is no panic (it was, exit 101), and the
    // exit code still says the receipt verified.
    let o = zkw_closed_stdout(&strict);
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // The wrong job, another input, a forged output: exit 1 with the reason.
    let o = zkw(&[
        "verify",
        s(&receipt),
        "--keys",
        s(&keys),
        "--input",
        s(&input),
        "--job-id",
        "job-8",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("job mismatch"), "{}", stderr(&o));

    let other_input = dir.path().join("other.json");
    std::fs::write(
        &other_input,
        format!("{{\"input_data\": [[{}]]}}", vec!["0.5"; 64].join(",")),
    )
    .unwrap();

    // An input far beyond the calibrated range still runs, with a warning.
    let loud = dir.path().join("loud.json");
    let text = format!("{{\"input_data\": [[{}]]}}", vec!["50.0"; 64].join(","));
    std::fs::write(&loud, text).unwrap();
    let o = zkw(&["model", "run", s(&model), "--input", s(&loud)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("64 of 64 input values lie beyond"),
        "{}",
        stderr(&o)
    );
    // The client's input is another one: the proof is not about it. (Unsalted, as the file
    // has no salt, so the message also says how to give one.)
    let o = zkw(&[
        "verify",
        s(&receipt),
        "--keys",
        s(&keys),
        "--input",
        s(&other_input),
        "--job-id",
        "job-7",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("input mismatch"), "{}", stderr(&o));
    assert!(stderr(&o).contains("without a salt"), "{}", stderr(&o));
    // The right input under another salt is another digest.
    let o = zkw(&[
        "verify",
        s(&receipt),
        "--keys",
        s(&keys),
        "--input",
        s(&input),
        "--input-salt",
        &"01".repeat(31),
        "--job-id",
        "job-7",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("input mismatch"), "{}", stderr(&o));
    // The digest itself may stand in for the input.
    let text = std::fs::read_to_string(&receipt).unwrap();
    let r: serde_json::Value = serde_json::from_str(&text).unwrap();
    let digest = r["input_digest"].as_str().unwrap();
    let o = zkw(&[
        "verify",
        s(&receipt),
        "--keys",
        s(&keys),
        "--input-digest",
        digest,
        "--job-id",
        "job-7",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stdout(&o).contains("NOT CHECKED"), "{}", stdout(&o));

    let text = std::fs::read_to_string(&receipt).unwrap();
    let mut r: serde_json::Value = serde_json::from_str(&text).unwrap();
    let q = r["output"]["quantized"][0].as_i64().unwrap() + 1;
    let f = r["output"]["frac_bits"].as_i64().unwrap() as i32;
    r["output"]["quantized"][0] = q.into();
    r["output"]["values"][0] = (q as f64 * (-(f as f64)).exp2()).into();
    let forged = dir.path().join("forged.json");
    std::fs::write(&forged, r.to_string()).unwrap();
    let o = zkw(&[
        "verify",
        s(&forged),
        "--keys",
        s(&keys),
        "--input",
        s(&input),
        "--job-id",
        "job-7",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("proof does not verify"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn verification_is_strict_unless_told_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let (model, keys) = prepared(dir.path(), "fixed");
    let input = examples().join("input.json");
    let receipt = dir.path().join("r.json");
    let o = zkw(&[
        "prove",
        s(&model),
        "--keys",
        s(&keys),
        "--input",
        s(&input),
        "-o",
        s(&receipt),
        "--job-id",
        "j1",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let verify = |extra: &[&str]| {
        let mut args = vec!["verify", s(&receipt), "--keys", s(&keys)];
        args.extend_from_slice(extra);
        zkw(&args)
    };

    // Bare verification would accept a proof about any input, for any job: refused, exit 2,
    // naming the missing flags.
    let o = verify(&[]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(
        err.contains("missing --input FILE (or --input-digest HEX) and --job-id ID"),
        "{err}"
    );
    assert!(err.contains("--unchecked input,job"), "{err}");
    assert!(stdout(&o).is_empty());
    let o = verify(&["--job-id", "j1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("missing --input FILE"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("--unchecked input\n"), "{}", stderr(&o));
    let o = verify(&["--input", s(&input)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing --job-id ID"), "{}", stderr(&o));

    // Contradictions are refused too.
    let o = verify(&[
        "--input",
        s(&input),
        "--unchecked",
        "input",
        "--job-id",
        "j1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("contradicts"), "{}", stderr(&o));

    // Opting out is explicit, and every line printed says what was not checked.
    let o = verify(&["--unchecked", "input,job"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(!out.is_empty());
    for line in out.lines() {
        assert!(
            line.contains("[NOT CHECKED: input, job id]"),
            "line without the warning: {line:?}\n{out}"
        );
    }
    let o = verify(&["--unchecked", "job", "--input", s(&input)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for line in stdout(&o).lines() {
        assert!(line.contains("[NOT CHECKED: job id]"), "{line:?}");
    }

    // A worker cannot draw its own "verified" line or hide the warning with the strings it
    // chooses (they are printed): control characters are refused.
    let text = std::fs::read_to_string(&receipt).unwrap();
    let mut r: serde_json::Value = serde_json::from_str(&text).unwrap();
    r["worker_id"] = "w1 on model x\n  output [7.25, 3.5]\u{1b}[8m".into();
    let spoofed = dir.path().join("spoofed.json");
    std::fs::write(&spoofed, r.to_string()).unwrap();
    let o = zkw(&[
        "verify",
        s(&spoofed),
        "--keys",
        s(&keys),
        "--input",
        s(&input),
        "--job-id",
        "j1",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("outside printable ASCII"),
        "{}",
        stderr(&o)
    );

    // Strict: nothing unchecked is claimed.
    let o = verify(&["--input", s(&input), "--job-id", "j1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stdout(&o).contains("NOT CHECKED"), "{}", stdout(&o));
    assert!(stdout(&o).contains("verified"), "{}", stdout(&o));
}

#[test]
fn proving_needs_a_salt_or_an_explicit_unsalted() {
    let dir = tempfile::tempdir().unwrap();
    let (model, keys) = prepared(dir.path(), "fixed");
    let text = std::fs::read_to_string(examples().join("input.json")).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc.as_object_mut().unwrap().remove("salt");
    let bare = dir.path().join("bare.json");
    std::fs::write(&bare, doc.to_string()).unwrap();
    let receipt = dir.path().join("r.json");
    let prove = |extra: &[&str]| {
        let mut args = vec![
            "prove",
            s(&model),
            "--keys",
            s(&keys),
            "--input",
            s(&bare),
            "-o",
            s(&receipt),
            "--job-id",
            "j2",
        ];
        args.extend_from_slice(extra);
        zkw(&args)
    };
    let o = prove(&[]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("has no \"salt\""), "{err}");
    assert!(err.contains("--unsalted"), "{err}");
    assert!(!receipt.exists());

    let o = prove(&["--input-salt", "abc"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not hex"), "{}", stderr(&o));

    // A salt from the flag: verified with the same salt, refused without it.
    let salt = "0f".repeat(31);
    let o = prove(&["--input-salt", &salt]);
    assert!(o.status.success(), "{}", stderr(&o));
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "verify",
            s(&receipt),
            "--keys",
            s(&keys),
            "--input",
            s(&bare),
            "--job-id",
            "j2",
        ];
        args.extend_from_slice(extra);
        zkw(&args)
    };
    let o = verify(&["--input-salt", &salt]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = verify(&[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("hint: the input was digested without a salt"));

    // Unsalted only when asked, and said so.
    let o = prove(&["--unsalted"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("unsalted"), "{}", stdout(&o));
    let o = verify(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = zkw(&[
        "prove",
        s(&model),
        "--keys",
        s(&keys),
        "--input",
        s(&examples().join("input.json")),
        "-o",
        s(&receipt),
        "--unsalted",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("contradicts"), "{}", stderr(&o));
}

#[test]
fn private_weights_prove_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let (model, keys) = prepared(dir.path(), "private");
    let input = examples().join("input.json");
    let receipt = dir.path().join("r.json");
    let o = zkw(&[
        "prove",
        s(&model),
        "--keys",
        s(&keys),
        "--input",
        s(&input),
        "-o",
        s(&receipt),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = zkw(&[
        "verify",
        s(&receipt),
        "--keys",
        s(&keys),
        "--input",
        s(&input),
        "--unchecked",
        "job",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn bad_inputs_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let (model, keys) = prepared(dir.path(), "fixed");
    let receipt = dir.path().join("r.json");
    let prove = |input: &Path| {
        zkw(&[
            "prove",
            s(&model),
            "--keys",
            s(&keys),
            "--input",
            s(input),
            "-o",
            s(&receipt),
        ])
    };

    // Wrong input length.
    let short = dir.path().join("short.json");
    std::fs::write(&short, r#"{"input_data": [[0.1, 0.2, 0.3]]}"#).unwrap();
    let o = prove(&short);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("input has 3 values, the model expects 64"),
        "{}",
        stderr(&o)
    );

    // Non-finite input.
    let nan = dir.path().join("nan.json");
    let mut vals = vec!["0.1".to_string(); 64];
    vals[5] = "\"NaN\"".into();
    std::fs::write(&nan, format!("{{\"input_data\": [[{}]]}}", vals.join(","))).unwrap();
    let o = prove(&nan);
    assert!(
        stderr(&o).contains("input value #5 is not a finite number"),
        "{}",
        stderr(&o)
    );

    // Not an input file at all.
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "[1, 2, 3]").unwrap();
    let o = prove(&junk);
    assert!(stderr(&o).contains("input_data"), "{}", stderr(&o));

    // A model that could overflow: 16-bit weights and inputs over 64 features.
    let onnx = examples().join("digits.onnx");
    let wide = dir.path().join("wide.zkm");
    let o = zkw(&["model", "import", s(&onnx), "-o", s(&wide), "--bits", "16"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("could overflow"), "{}", stderr(&o));

    // A truncated and a corrupt model file.
    let bytes = std::fs::read(&model).unwrap();
    let truncated = dir.path().join("t.zkm");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let o = zkw(&["model", "inspect", s(&truncated)]);
    assert!(stderr(&o).contains("truncated"), "{}", stderr(&o));
    let corrupt = dir.path().join("c.zkm");
    std::fs::write(&corrupt, b"\x08\x01\x12garbage").unwrap();
    let o = zkw(&["model", "inspect", s(&corrupt)]);
    assert!(
        stderr(&o).contains("not a zkw model file"),
        "{}",
        stderr(&o)
    );

    // A truncated proving key.
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(keys.join("record.json")).unwrap()).unwrap();
    let vk_id = record["vk_id"].as_str().unwrap();
    let pk = keys.join(format!("{vk_id}.pk"));
    let pk_bytes = std::fs::read(&pk).unwrap();
    std::fs::write(&pk, &pk_bytes[..pk_bytes.len() - 100]).unwrap();
    let o = prove(&examples().join("input.json"));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("digest mismatch"), "{}", stderr(&o));
    std::fs::write(&pk, &pk_bytes).unwrap();

    // A corrupt verifying key.
    let vk = keys.join(format!("{vk_id}.vk"));
    let vk_bytes = std::fs::read(&vk).unwrap();
    std::fs::write(&vk, &vk_bytes[..10]).unwrap();
    let o = prove(&examples().join("input.json"));
    assert!(stderr(&o).contains("verifying key"), "{}", stderr(&o));
    std::fs::write(&vk, &vk_bytes).unwrap();

    // A corrupt and a truncated receipt.
    let o = prove(&examples().join("input.json"));
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&receipt).unwrap();
    let cut = dir.path().join("cut.json");
    std::fs::write(&cut, &text[..text.len() / 2]).unwrap();
    let unchecked = ["--unchecked", "input,job"];
    let verify_unchecked = |receipt: &Path, keys: &Path| {
        let mut args = vec!["verify", s(receipt), "--keys", s(keys)];
        args.extend_from_slice(&unchecked);
        zkw(&args)
    };
    let o = verify_unchecked(&cut, &keys);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("malformed receipt: truncated"),
        "{}",
        stderr(&o)
    );
    let bad_proof = dir.path().join("bad-proof.json");
    let mut r: serde_json::Value = serde_json::from_str(&text).unwrap();
    r["proof"] = "00".repeat(128).into();
    std::fs::write(&bad_proof, r.to_string()).unwrap();
    let o = verify_unchecked(&bad_proof, &keys);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("malformed proof"), "{}", stderr(&o));

    // A receipt checked against another model's keys.
    let (_, other_keys) = prepared(dir.path(), "private");
    let o = verify_unchecked(&receipt, &other_keys);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("model mismatch"), "{}", stderr(&o));

    // Keys of another model given to the prover.
    let o = zkw(&[
        "prove",
        s(&model),
        "--keys",
        s(&other_keys),
        "--input",
        s(&examples().join("input.json")),
        "-o",
        s(&receipt),
    ]);
    assert!(stderr(&o).contains("were made for model"), "{}", stderr(&o));

    // Malformed registry records: a clean error, exit 2, never a crash (`bits = 0` once
    // divided by zero). And a record of the previous version says what to do.
    let record_path = keys.join("record.json");
    let good_record = std::fs::read_to_string(&record_path).unwrap();
    let edits: [(&str, serde_json::Value, &str); 3] = [
        ("bits", 0.into(), "bit width 0 is outside 1..=32"),
        ("bits", 64.into(), "bit width 64 is outside 1..=32"),
        (
            "shape",
            serde_json::json!([0]),
            "dimension 0 of shape [0] is zero",
        ),
    ];
    for (field, value, want) in edits {
        let mut r: serde_json::Value = serde_json::from_str(&good_record).unwrap();
        r["output"][field] = value;
        std::fs::write(&record_path, r.to_string()).unwrap();
        let o = verify_unchecked(&receipt, &keys);
        assert_eq!(o.status.code(), Some(2), "{field}: {}", stderr(&o));
        assert!(stderr(&o).contains(want), "{}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    }
    let mut r: serde_json::Value = serde_json::from_str(&good_record).unwrap();
    r["version"] = 1.into();
    std::fs::write(&record_path, r.to_string()).unwrap();
    let o = verify_unchecked(&receipt, &keys);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("version 1 is not supported") && stderr(&o).contains("zkw model setup"),
        "{}",
        stderr(&o)
    );
    std::fs::write(&record_path, &good_record).unwrap();

    // Missing files are named, with the OS's reason printed once.
    let o = zkw(&["model", "inspect", "/nonexistent/m.zkm"]);
    assert!(stderr(&o).contains("/nonexistent/m.zkm"), "{}", stderr(&o));
    assert_eq!(
        stderr(&o).matches("No such file").count(),
        1,
        "{}",
        stderr(&o)
    );
    let o = zkw(&[
        "verify",
        s(&receipt),
        "--keys",
        "/nonexistent/keys",
        "--unchecked",
        "input,job",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o).matches("No such file").count(),
        1,
        "{}",
        stderr(&o)
    );
}

#[test]
fn import_calibrates_on_every_sample_and_names_the_worst_layer() {
    let dir = tempfile::tempdir().unwrap();
    let case = zkworker::conformance_dir().join("1l_sigmoid");
    let more = dir.path().join("more.jsonl");
    std::fs::write(
        &more,
        "{\"input_data\": [[0.5, -1.5, 2.0]]}\n{\"input_data\": [[-3.0, 0.1, 1.0]]}\n",
    )
    .unwrap();
    let o = zkw(&[
        "model",
        "import",
        s(&case.join("network.onnx")),
        "-o",
        s(&dir.path().join("m.zkm")),
        "--calibration",
        s(&case.join("input.json")),
        "--calibration",
        s(&more),
    ]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    assert!(
        out.contains("calibration   3 samples: max |quantized - float|"),
        "{out}"
    );
    assert!(out.contains("    Sigmoid_0 "), "{out}");
    assert!(out.contains("worst layer   Sigmoid_0 ("), "{out}");
    // The input's scale covers the widest sample (|x| ≤ 3: 2^-5 at 8 bits).
    assert!(
        out.contains("input         [3], 8 bits, scale 2^-5"),
        "{out}"
    );
}

#[test]
fn model_ops_lists_the_registry() {
    let o = zkw(&["model", "ops"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.starts_with("linear and spatial:\n  Gemm"), "{out}");
    assert!(out.contains("  Sigmoid               table\n"), "{out}");
    let n = zkw_onnx::registry::SUPPORTED.len();
    assert!(
        out.ends_with(&format!(
            "{n} ops; anything else is refused with its op type and node name\n"
        )),
        "{out}"
    );
}

#[test]
fn licensing_a_worker_takes_either_spelling() {
    // `license` the verb, as British usage spells it; the noun's spelling is accepted too.
    for verb in ["license", "licence"] {
        let o = zkw(&["model", verb, "--help"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(
            stdout(&o).starts_with("Grant a worker a licence"),
            "{}",
            stdout(&o)
        );
    }
}

#[test]
fn unsupported_onnx_op_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let onnx = zkworker::conformance_dir().join("scatter_elements/network.onnx");
    let o = zkw(&[
        "model",
        "import",
        s(&onnx),
        "-o",
        s(&dir.path().join("m.zkm")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unsupported ONNX op `ScatterElements` (node `/ScatterElements`)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn conformance_runs_cases_and_names_why_one_fails() {
    let dir = zkworker::conformance_dir();
    // Import, run and compare only: a supported case passes, an unsupported one fails with
    // the op and node, and the exit status says not all passed.
    let o = zkw(&[
        "conformance",
        s(&dir),
        "--tier",
        "extended",
        "--filter",
        "_e",
        "--no-prove",
    ]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{}", stderr(&o));
    assert!(out.contains("| 1l_elu | pass |"), "{out}");
    assert!(
        out.contains("| scatter_elements | FAIL |")
            && out.contains("unsupported ONNX op `ScatterElements` (node `/ScatterElements`)"),
        "{out}"
    );
    // Core cases are not in the extended tier.
    assert!(!out.contains("| 1l_conv |"), "{out}");
    let last = out.lines().last().unwrap();
    assert!(
        last.ends_with("failed") && last.contains("passed"),
        "{last}"
    );

    // With proving: constraints and a prove time, and exit 0 when all pass.
    let o = zkw(&["conformance", s(&dir), "--filter", "1l_relu"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    let row = out.lines().find(|l| l.starts_with("| 1l_relu |")).unwrap();
    assert!(row.contains(" s |") && row.contains("| pass |"), "{row}");
    assert!(out.ends_with("1 passed, 0 failed\n"), "{out}");

    // Nothing to run is an error, not a silent pass.
    let o = zkw(&["conformance", s(&dir), "--filter", "no-such-case"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no case in"), "{}", stderr(&o));
    let o = zkw(&["conformance", "/nonexistent-dir"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("error: /nonexistent-dir: No such file or directory"),
        "{}",
        stderr(&o)
    );
}

/// The README's first command: `zkw demo` imports, sets up, serves, proves and verifies the
/// bundled model in both weight modes, and shows forged receipts rejected.
#[test]
fn the_demo_runs_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let o = zkw(&["demo", "--dir", s(&dir.path().join("demo"))]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    let n = zkw_onnx::registry::SUPPORTED.len();
    assert!(
        out.contains(&format!("`zkw model import` reads {n} ONNX ops")),
        "{out}"
    );
    for mode in ["fixed", "private"] {
        assert!(
            out.contains(&format!(
                "/receipt-{mode}.json: the image is classified as a "
            )),
            "{out}"
        );
    }
    assert_eq!(out.matches("[5/6] verify    → OK in ").count(), 2, "{out}");
    assert!(
        out.contains("[6/6] settle    → 2 receipts settled in "),
        "{out}"
    );
    assert!(
        out.contains("settling the same receipt again is refused: it settles once"),
        "{out}"
    );
    assert!(out.contains("credited 1400"), "{out}");
    // The owner's secret key is its owner's alone (the demo wrote it 0644).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = dir.path().join("demo/owner.key");
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", key.display());
    }
    assert!(out.contains("credited 600"), "{out}");
    assert_eq!(
        out.matches("a receipt with a forged output is rejected")
            .count(),
        2,
        "{out}"
    );
    assert_eq!(
        out.matches("checked against another input, it is rejected")
            .count(),
        2,
        "{out}"
    );
    // The jobs were a client's signed requests for the demo's ledger, and the client paid
    // each once; the commands it prints name the venue, in the submit and the strict check.
    assert!(out.contains("== venue: ledger ledger:"), "{out}");
    assert!(out.contains("client "), "{out}");
    assert!(out.contains("debited 2000, holds 0"), "{out}");
    assert!(out.contains("its job and venue, signed by worker"), "{out}");
    assert!(
        out.contains("--client-key") && out.matches("--venue ledger:").count() == 2,
        "{out}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let key = dir.path().join("demo/client.key");
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", key.display());
    }
}

/// `--backend gpu` gives the reference's output, and a receipt proved from its trace verifies —
/// or, with no adapter, fails naming why (and with `ZKW_REQUIRE_GPU=1` that fails the test).
#[test]
fn the_gpu_backend_runs_and_proves_like_the_reference() {
    let dir = tempfile::tempdir().unwrap();
    let (model, keys) = prepared(dir.path(), "fixed");
    let input = examples().join("input.json");
    let cpu = zkw(&[
        "model",
        "run",
        s(&model),
        "--input",
        s(&input),
        "--backend",
        "cpu",
    ]);
    assert!(cpu.status.success(), "{}", stderr(&cpu));
    assert!(
        stderr(&cpu).contains("executor: the CPU reference"),
        "{}",
        stderr(&cpu)
    );
    let gpu = zkw(&[
        "model",
        "run",
        s(&model),
        "--input",
        s(&input),
        "--backend",
        "gpu",
    ]);
    if !gpu.status.success() {
        assert!(
            std::env::var("ZKW_REQUIRE_GPU").as_deref() != Ok("1"),
            "ZKW_REQUIRE_GPU=1 but: {}",
            stderr(&gpu)
        );
        assert!(
            stderr(&gpu).contains("--backend gpu: no GPU adapter"),
            "{}",
            stderr(&gpu)
        );
        eprintln!("SKIPPED: no GPU adapter");
        return;
    }
    assert!(stderr(&gpu).contains("executor: GPU "), "{}", stderr(&gpu));
    assert_eq!(stdout(&gpu), stdout(&cpu));
    let receipt = dir.path().join("gpu-receipt.json");
    let o = zkw(&[
        "prove",
        s(&model),
        "--keys",
        s(&keys),
        "--input",
        s(&input),
        "-o",
        s(&receipt),
        "--job-id",
        "job-g",
        "--worker-id",
        "w1",
        "--nonce",
        "n1",
        "--backend",
        "gpu",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = zkw(&[
        "verify",
        s(&receipt),
        "--keys",
        s(&keys),
        "--input",
        s(&input),
        "--job-id",
        "job-g",
        "--worker-id",
        "w1",
        "--nonce",
        "n1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}
