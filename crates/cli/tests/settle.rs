//! Settlement from the command line: keys, registration, licences, `zkw settle` (one receipt,
//! many, tampered ones, 8 processes at once on one ledger) and `zkw ledger`.

mod common;

use common::{examples, owned_digits, register, s, succeeded as ok, zkw};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use zkw_verifier::{Receipt, WorkerKey};

struct Setup {
    dir: tempfile::TempDir,
    registry: PathBuf,
    ledger: PathBuf,
    model: PathBuf,
    keys: PathBuf,
    model_id: String,
    owner_pub: String,
    worker_key: PathBuf,
    worker_pub: String,
    client_key: PathBuf,
    client_pub: String,
    /// The ledger's venue, which the registration lists.
    venue: String,
}

impl Setup {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The client's signed request for a job of the digits model (`zkw request`), nonce
    /// `n-<job>`, for the setup's ledger.
    fn request(&self, job: &str) -> PathBuf {
        let out = self.path(&format!("{job}.request.json"));
        ok(zkw(&[
            "request",
            &self.model_id,
            "--input",
            s(&examples().join("input.json")),
            "--client-key",
            s(&self.client_key),
            "--registry",
            s(&self.registry),
            "--nonce",
            &format!("n-{job}"),
            "-o",
            s(&out),
        ]));
        out
    }

    /// A receipt of the digits model for `job`, signed with `key`, answering the client's
    /// request for it.
    fn prove(&self, job: &str, key: &Path) -> PathBuf {
        let out = self.path(&format!("{job}.json"));
        let request = self.request(job);
        ok(zkw(&[
            "prove",
            "--request",
            s(&request),
            s(&self.model),
            "--keys",
            s(&self.keys),
            "--input",
            s(&examples().join("input.json")),
            "--backend",
            "cpu",
            "--job-id",
            job,
            "--worker-key",
            s(key),
            "-o",
            s(&out),
        ]));
        out
    }

    /// The owner registers the model again (the next sequence), with these terms.
    fn register_again(&self, terms: &[&str]) {
        let owner_key = self.path("owner.key");
        let mut args = vec![
            "model",
            "register",
            s(&self.keys),
            "--owner-key",
            s(&owner_key),
            "--registry",
            s(&self.registry),
        ];
        args.extend_from_slice(terms);
        ok(zkw(&args));
    }

    fn settle(&self, receipts: &[&Path]) -> Output {
        let mut args = vec![
            "settle",
            "--registry",
            s(&self.registry),
            "--ledger",
            s(&self.ledger),
        ];
        args.extend(receipts.iter().map(|p| s(p)));
        zkw(&args)
    }
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    let registry = p("registry");
    let owner_pub = ok(zkw(&["keys", "new", "-o", s(&p("owner.key"))]))
        .trim()
        .to_string();
    // The owner sets the model up: its key is part of the model id.
    let (model, keys) = owned_digits(dir.path(), "m", "fixed", &p("owner.key"));
    let worker_pub = ok(zkw(&["keys", "new", "-o", s(&p("worker.key"))]))
        .trim()
        .to_string();
    let client_pub = ok(zkw(&["keys", "new", "-o", s(&p("client.key"))]))
        .trim()
        .to_string();
    // The ledger is the model's venue; the client deposits there.
    let venue = ok(zkw(&["ledger", "id", "--ledger", s(&p("ledger"))]))
        .trim()
        .to_string();
    assert!(venue.starts_with("ledger:"), "{venue}");
    let deposited = ok(zkw(&[
        "ledger",
        "deposit",
        "--ledger",
        s(&p("ledger")),
        "--client",
        &client_pub,
        "--amount",
        "1000000",
    ]));
    assert!(deposited.contains("it holds 1000000"), "{deposited}");
    assert_eq!(
        ok(zkw(&["keys", "show", s(&p("owner.key"))])).trim(),
        owner_pub
    );
    let model_id = register(
        &keys,
        &p("owner.key"),
        &registry,
        &[
            "--fee",
            "1000",
            "--worker-share-bps",
            "7000",
            "--penalty",
            "400",
            "--venue",
            &venue,
        ],
    );
    ok(zkw(&[
        "model",
        "license",
        &model_id,
        "--worker-key",
        &worker_pub,
        "--owner-key",
        s(&p("owner.key")),
        "--registry",
        s(&registry),
        "--expires",
        "2999-01-01",
    ]));
    Setup {
        ledger: p("ledger"),
        worker_key: p("worker.key"),
        client_key: p("client.key"),
        dir,
        registry,
        model,
        keys,
        model_id,
        owner_pub,
        worker_pub,
        client_pub,
        venue,
    }
}

fn balances(st: &Setup) -> serde_json::Value {
    let out = ok(zkw(&[
        "ledger",
        "balances",
        "--ledger",
        s(&st.ledger),
        "--json",
    ]));
    serde_json::from_str(&out).unwrap()
}

fn balance_of(b: &serde_json::Value, account: &str) -> (u64, u64) {
    b.as_array()
        .unwrap()
        .iter()
        .find(|x| x["account"] == account)
        .map(|x| {
            // 128-bit amounts are decimal strings.
            let n = |k: &str| x[k].as_str().unwrap().parse::<u64>().unwrap();
            (n("credited"), n("charged"))
        })
        .unwrap_or((0, 0))
}

#[test]
fn register_license_settle_and_eight_processes_settle_each_job_once() {
    let st = setup();
    let receipts: Vec<PathBuf> = (0..4)
        .map(|k| st.prove(&format!("job-{k}"), &st.worker_key))
        .collect();
    // Verified against the registry.
    let out = ok(zkw(&[
        "verify",
        s(&receipts[0]),
        "--registry",
        s(&st.registry),
        "--model",
        &st.model_id,
        "--unchecked",
        "input",
        "--job-id",
        "job-0",
    ]));
    assert!(
        out.contains(&format!("signed by worker {}", st.worker_pub)),
        "{out}"
    );

    let o = st.settle(&[&receipts[0]]);
    let out = ok(o);
    assert!(out.contains("settled: job job-0"), "{out}");

    // A re-spelled copy (compact JSON, fields reordered by serde_json::Value's sorting).
    let r0: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&receipts[0]).unwrap()).unwrap();
    let respelled = st.path("respelled.json");
    std::fs::write(&respelled, serde_json::to_string(&r0).unwrap()).unwrap();

    // 8 processes at once, each settling every receipt and the copy.
    let mut args: Vec<String> = [
        "settle",
        "--registry",
        s(&st.registry),
        "--ledger",
        s(&st.ledger),
        "--json",
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    args.extend(receipts.iter().map(|p| s(p).to_string()));
    args.push(s(&respelled).to_string());
    let children: Vec<_> = (0..8)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_zkw"))
                .args(&args)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut settled_per_job = std::collections::BTreeMap::<String, usize>::new();
    for child in children {
        let o = child.wait_with_output().unwrap();
        assert_eq!(
            o.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        for line in String::from_utf8_lossy(&o.stdout).lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(
                v["outcome"] == "settled" || v["outcome"] == "already_settled",
                "{line}"
            );
            if v["settled"] == true {
                *settled_per_job
                    .entry(v["job_id"].as_str().unwrap().into())
                    .or_default() += 1;
            }
        }
    }
    // job-0 was settled before; each other job exactly once across the 8 processes.
    let expected: std::collections::BTreeMap<String, usize> =
        (1..4).map(|k| (format!("job-{k}"), 1)).collect();
    assert_eq!(settled_per_job, expected);
    let b = balances(&st);
    assert_eq!(balance_of(&b, &st.worker_pub), (4 * 700, 0));
    assert_eq!(balance_of(&b, &st.owner_pub), (4 * 300, 0));
    // No dispute: the ledger signs none, and says whose key would.
    let o = zkw(&["ledger", "disputes", "--ledger", s(&st.ledger)]);
    assert!(o.status.success());
    assert!(o.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(&format!("0 disputes, signed by {}", st.venue)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The client paid each of its four requests once.
    let client = b
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["account"] == st.client_pub)
        .unwrap();
    assert_eq!(
        (client["debited"].as_str(), client["requests"].as_u64()),
        (Some("4000"), Some(4))
    );

    let list: serde_json::Value = serde_json::from_str(&ok(zkw(&[
        "ledger",
        "list",
        "--ledger",
        s(&st.ledger),
        "--json",
    ])))
    .unwrap();
    assert_eq!(list["settlements"].as_array().unwrap().len(), 4);
    let show = ok(zkw(&["ledger", "show", "job-2", "--ledger", s(&st.ledger)]));
    assert!(
        show.contains("settled   job job-2") && show.contains("\"job_id\":\"job-2\""),
        "{show}"
    );
    // The model on an EVM chain: its contract, and a receipt's call to it.
    let sol = st.path("Verifier.sol");
    let out = ok(zkw(&[
        "model",
        "export-evm",
        &st.model_id,
        "--registry",
        s(&st.registry),
        "-o",
        s(&sol),
    ]));
    assert!(out.contains("contract ZkwSettlement"), "{out}");
    let source = std::fs::read_to_string(&sol).unwrap();
    assert!(source.contains("contract ZkwSettlement"));
    assert!(
        source.contains(&st.owner_pub),
        "the owner's key is in the contract"
    );
    // A receipt for the ledger has no calldata: it settles on no contract.
    let o = zkw(&[
        "receipt",
        "calldata",
        s(&receipts[1]),
        "--registry",
        s(&st.registry),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not payable on chain"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The owner adds a deployed contract to the venues; a client's request for it carries
    // the calls that open it and settle its receipt.
    let contract = format!("evm:1337:0x{}", "ab".repeat(20));
    st.register_again(&["--fee", "1000", "--venue", &st.venue, "--venue", &contract]);
    let rq_path = st.path("onchain.request.json");
    let said = ok(zkw(&[
        "request",
        &st.model_id,
        "--input",
        s(&examples().join("input.json")),
        "--client-key",
        s(&st.client_key),
        "--registry",
        s(&st.registry),
        "--venue",
        &contract,
        "--nonce",
        "n-chain",
        "-o",
        s(&rq_path),
    ]));
    let rq = zkw_verifier::ClientRequest::from_json(&std::fs::read(&rq_path).unwrap()).unwrap();
    assert!(
        said.contains(&format!(
            "calldata 0x{}",
            hex::encode(zkw_evm::request_calldata(&rq).unwrap())
        )),
        "{said}"
    );
    // Without --venue, two venues are a question only the client answers.
    let o = zkw(&[
        "request",
        &st.model_id,
        "--input",
        s(&examples().join("input.json")),
        "--client-key",
        s(&st.client_key),
        "--registry",
        s(&st.registry),
        "-o",
        s(&st.path("x.json")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--venue is required"));
    let onchain = st.path("onchain.json");
    ok(zkw(&[
        "prove",
        s(&st.model),
        "--keys",
        s(&st.keys),
        "--input",
        s(&examples().join("input.json")),
        "--backend",
        "cpu",
        "--job-id",
        "job-chain",
        "--worker-key",
        s(&st.worker_key),
        "--request",
        s(&rq_path),
        "-o",
        s(&onchain),
    ]));
    let hex_call = ok(zkw(&[
        "receipt",
        "calldata",
        s(&onchain),
        "--registry",
        s(&st.registry),
    ]));
    let receipt = Receipt::from_json(&std::fs::read(&onchain).unwrap()).unwrap();
    let model = zkw_settlement::Registry::new(&st.registry)
        .model(&st.model_id)
        .unwrap();
    let expected = zkw_evm::settle_calldata(&receipt, &model.record().output).unwrap();
    assert_eq!(hex_call.trim(), format!("0x{}", hex::encode(expected)));
    // The ledger refuses it: the client asked to pay on chain.
    let o = st.settle(&[&onchain]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains(&format!("names venue {contract}")));
    let o = zkw(&[
        "receipt",
        "calldata",
        s(&onchain),
        "--registry",
        s(&st.path("none")),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is not registered"));

    let o = zkw(&["ledger", "show", "job-9", "--ledger", s(&st.ledger)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("job \"job-9\" is not in the ledger"));
}

#[test]
fn tampered_unlicensed_and_false_receipts_from_the_command_line() {
    let st = setup();
    let honest = st.prove("job-a", &st.worker_key);
    let receipt = Receipt::from_json(&std::fs::read(&honest).unwrap()).unwrap();
    let seed: [u8; 32] = hex::decode(std::fs::read_to_string(&st.worker_key).unwrap().trim())
        .unwrap()
        .try_into()
        .unwrap();
    let worker = WorkerKey::from_seed(&seed);
    let write = |name: &str, r: &Receipt| {
        let p = st.path(name);
        std::fs::write(&p, r.to_json()).unwrap();
        p
    };
    // Changed without the worker's key: bad signature, nobody charged.
    let mut job = receipt.clone();
    job.job_id = "job-b".into();
    let mut out = receipt.clone();
    out.output.quantized[3] ^= 1;
    out.output.values[3] = out.output.quantized[3] as f64 * (-(out.output.frac_bits as f64)).exp2();
    let mut proof = receipt.clone();
    proof.proof.replace_range(
        10..12,
        if &proof.proof[10..12] == "00" {
            "01"
        } else {
            "00"
        },
    );
    let tampered = [
        write("t-job.json", &job),
        write("t-out.json", &out),
        write("t-proof.json", &proof),
    ];
    // Signed again by the worker: a false claim.
    let mut false_claim = out.clone();
    worker.sign(&mut false_claim);
    let false_path = write("false.json", &false_claim);
    // Another worker, no licence.
    let stranger_key = st.path("stranger.key");
    ok(zkw(&["keys", "new", "-o", s(&stranger_key)]));
    let unlicensed = st.prove("job-c", &stranger_key);
    // Not a receipt at all.
    let garbage = st.path("garbage.json");
    std::fs::write(&garbage, "{\"version\": 3").unwrap();

    let mut all: Vec<&Path> = tampered.iter().map(|p| p.as_path()).collect();
    all.extend([
        false_path.as_path(),
        unlicensed.as_path(),
        garbage.as_path(),
        honest.as_path(),
    ]);
    let o = st.settle(&all);
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 7, "{text}");
    for line in &lines[..3] {
        assert!(line.contains("rejected: bad worker signature"), "{line}");
    }
    assert!(
        lines[3].contains("penalty: worker") && lines[3].contains("charged 400"),
        "{}",
        lines[3]
    );
    assert!(
        lines[4].contains("not settled: the proof verifies, but worker")
            && lines[4].contains("holds no licence"),
        "{}",
        lines[4]
    );
    assert!(
        lines[5].contains("garbage.json: rejected: malformed receipt: truncated"),
        "{}",
        lines[5]
    );
    assert!(lines[6].contains("settled: job job-a"), "{}", lines[6]);
    let b = balances(&st);
    assert_eq!(balance_of(&b, &st.worker_pub), (700, 400));

    // Bad command lines.
    let o = zkw(&["settle", s(&honest), "--registry", s(&st.registry)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--ledger"));
    let o = zkw(&[
        "model",
        "license",
        &st.model_id,
        "--worker-key",
        "nope",
        "--owner-key",
        s(&st.worker_key),
        "--registry",
        s(&st.registry),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("malformed licence: the worker id is not an ed25519 public key"),
        "{e}"
    );
    let o = zkw(&[
        "model",
        "license",
        &st.model_id,
        "--worker-key",
        &st.worker_pub,
        "--owner-key",
        s(&st.worker_key),
        "--registry",
        s(&st.registry),
    ]);
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("is owned by"), "{e}");
    let o = zkw(&["keys", "new", "-o", s(&st.worker_key)]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("a key is never overwritten"));
    let o = zkw(&["ledger", "list", "--ledger", s(&st.path("nowhere"))]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("no ledger here"));
}

/// The tamper matrix through `zkw settle`: every field of a signed receipt changed, every
/// byte of its proof and of its signature flipped — all in one call, each line refused with
/// the reason, nothing credited; then the honest receipt settles.
#[test]
fn every_field_and_byte_tampered_is_refused_by_zkw_settle() {
    let st = setup();
    let honest = st.prove("job-m", &st.worker_key);
    let receipt = Receipt::from_json(&std::fs::read(&honest).unwrap()).unwrap();
    let mut variants: Vec<Receipt> = Vec::new();
    type Edit = fn(&mut Receipt);
    let fields: [Edit; 10] = [
        |r| r.job_id.push('x'),
        |r| r.worker_id = "cd".repeat(32),
        |r| r.client_nonce.push('x'),
        |r| r.model_id = "ee".repeat(32),
        |r| r.vk_id = "ff".repeat(32),
        |r| r.input_digest = "01".repeat(32),
        |r| r.output.quantized[0] ^= 1,
        |r| r.output.values[0] += 1.0,
        |r| r.output.frac_bits += 1,
        |r| r.version = 2,
    ];
    for edit in fields {
        let mut r = receipt.clone();
        edit(&mut r);
        variants.push(r);
    }
    let proof = hex::decode(&receipt.proof).unwrap();
    for i in 0..proof.len() {
        let mut p = proof.clone();
        p[i] ^= 0x80;
        let mut r = receipt.clone();
        r.proof = hex::encode(p);
        variants.push(r);
    }
    let sig = hex::decode(receipt.signature.as_ref().unwrap()).unwrap();
    for i in 0..sig.len() {
        let mut g = sig.clone();
        g[i] ^= 0x01;
        let mut r = receipt.clone();
        r.signature = Some(hex::encode(g));
        variants.push(r);
    }
    let paths: Vec<PathBuf> = variants
        .iter()
        .enumerate()
        .map(|(k, r)| {
            let p = st.path(&format!("tampered-{k}.json"));
            // Written as JSON values, so a receipt invalid as a struct is written as given.
            std::fs::write(&p, serde_json::to_string(r).unwrap()).unwrap();
            p
        })
        .collect();
    let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
    let mut args = vec![
        "settle",
        "--json",
        "--registry",
        s(&st.registry),
        "--ledger",
        s(&st.ledger),
    ];
    args.extend(refs.iter().map(|p| s(p)));
    let o = zkw(&args);
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), variants.len());
    for (k, line) in lines.iter().enumerate() {
        assert_eq!(line["settled"], false, "#{k}: {line}");
        let reason = line["reason"].as_str().unwrap();
        let expected = match k {
            // The model, the nonce and the input digest are the client's signed request's.
            2 | 3 | 5 => "bad client request",
            9 => "receipt version 2 is not supported",
            _ => "bad worker signature",
        };
        assert!(reason.contains(expected), "#{k}: {reason}");
    }
    assert!(ok(st.settle(&[&honest])).contains("settled: job job-m"));
}

/// The attack review's model substitution: a dishonest worker registers another model with
/// the same input format under its own owner key (registration is open to anyone), proves it
/// on the client's input, job and nonce, and signs it. The strict check the README shows names
/// the model, so it refuses the receipt (exit 1, model mismatch); leaving `--model` out is
/// refused before anything is checked (exit 2); skipping it on purpose is marked on every line.
#[test]
fn a_receipt_of_another_registered_model_fails_the_strict_check() {
    let st = setup();
    let p = |n: &str| st.path(n);
    ok(zkw(&["keys", "new", "-o", s(&p("mallory.key"))]));
    let (other_zkm, other_keys) =
        owned_digits(st.dir.path(), "other", "private", &p("mallory.key"));
    let other_id = register(&other_keys, &p("mallory.key"), &st.registry, &[]);
    assert_ne!(other_id, st.model_id);
    let input = examples().join("input.json");
    let substituted = p("substituted.json");
    ok(zkw(&[
        "prove",
        s(&other_zkm),
        "--keys",
        s(&other_keys),
        "--input",
        s(&input),
        "--backend",
        "cpu",
        "--job-id",
        "job-sub",
        "--worker-key",
        s(&st.worker_key),
        "-o",
        s(&substituted),
    ]));
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "verify",
            s(&substituted),
            "--registry",
            s(&st.registry),
            "--input",
            s(&input),
            "--job-id",
            "job-sub",
            "--worker-id",
            &st.worker_pub,
        ];
        args.extend_from_slice(extra);
        zkw(&args)
    };
    let o = verify(&["--model", &st.model_id]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("model mismatch") && err.contains(&other_id),
        "{err}"
    );
    let o = verify(&[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("missing --model ID") && err.contains("--unchecked model"),
        "{err}"
    );
    let o = verify(&["--unchecked", "model"]);
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.lines().all(|l| l.contains("[NOT CHECKED: model]")),
        "{out}"
    );
    let o = verify(&["--unchecked", "model", "--model", &other_id]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("contradicts"));
}

/// Ownership bound at setup, from the command line: `zkw model setup --owner-key` signs the
/// setup statement; a third party holding the published record, verifying key and statement
/// cannot register them (with the statement, or from a directory without the proving key);
/// the owner can, after publishing; `zkw model history` shows the chain.
#[test]
fn published_keys_are_registered_only_by_the_owner_who_signed_the_setup() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    ok(zkw(&["keys", "new", "-o", s(&p("owner.key"))]));
    ok(zkw(&["keys", "new", "-o", s(&p("squatter.key"))]));
    let (_, keys) = owned_digits(dir.path(), "m", "fixed", &p("owner.key"));
    assert!(keys.join("setup.dsse.json").is_file());
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(keys.join("record.json")).unwrap()).unwrap();
    let vk_id = record["vk_id"].as_str().unwrap();
    let model_id = record["model_id"].as_str().unwrap();

    // What the owner publishes: the record, the verifying key, the setup statement.
    let published = p("published");
    std::fs::create_dir_all(&published).unwrap();
    for f in ["record.json", &format!("{vk_id}.vk"), "setup.dsse.json"] {
        std::fs::copy(keys.join(f), published.join(f)).unwrap();
    }
    let register = |keys: &Path, key: &str| {
        zkw(&[
            "model",
            "register",
            s(keys),
            "--owner-key",
            s(&p(key)),
            "--registry",
            s(&p("registry")),
        ])
    };
    // The squatter with the published files: the statement is the owner's.
    let o = register(&published, "squatter.key");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("this model was set up by owner") && err.contains("only that owner"),
        "{err}"
    );
    // The record edited to name the squatter (so the model id is the squatter's own) and
    // without the owner's statement: it would have to prove ownership itself, and there is no
    // proving key.
    std::fs::remove_file(published.join("setup.dsse.json")).unwrap();
    let squatter_pub = ok(zkw(&["keys", "show", s(&p("squatter.key"))]))
        .trim()
        .to_string();
    let content: [u8; 32] = hex::decode(record["content_id"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let id = zkw_verifier::record::owned_model_id(&content, &squatter_pub);
    let mut edited = record.clone();
    edited["owner"] = squatter_pub.clone().into();
    edited["model_id"] = hex::encode(id).into();
    edited["model_commitment"] =
        zkw_verifier::field::fr_to_hex(&zkw_verifier::statement::fixed_model_commitment(&id))
            .into();
    std::fs::write(
        published.join("record.json"),
        serde_json::to_string_pretty(&edited).unwrap(),
    )
    .unwrap();
    let o = register(&published, "squatter.key");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("proving ownership") || err.contains("loading the keys"),
        "{err}"
    );
    assert!(!p("registry").join("history").exists());

    // The owner registers after publishing; a re-registration keeps the chain.
    ok(register(&keys, "owner.key"));
    ok(register(&keys, "owner.key"));
    let out = ok(zkw(&[
        "model",
        "history",
        model_id,
        "--registry",
        s(&p("registry")),
        "--json",
    ]));
    let entries: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["index"], 1);
    assert_eq!(entries[1]["previous"], entries[0]["digest"]);
    assert_eq!(entries[1]["sequence"], 2);
    assert_eq!(
        entries[0]["envelope"]["payloadType"],
        "application/vnd.in-toto+json"
    );
}

/// `zkw verify --registry --pins FILE` and `--ledger DIR`: a registry put back to an older
/// registration than one the pins or the ledger saw is refused (exit 2), naming why.
#[test]
fn verify_refuses_a_registry_older_than_its_pins_or_ledger() {
    let st = setup();
    let r = st.prove("job-pin", &st.worker_key);
    let pins = st.path("pins.json");
    let input = examples().join("input.json");
    let verify = |extra: &[&str]| {
        let mut args = vec![
            "verify",
            s(&r),
            "--registry",
            s(&st.registry),
            "--model",
            &st.model_id,
            "--input",
            s(&input),
            "--job-id",
            "job-pin",
        ];
        args.extend_from_slice(extra);
        zkw(&args)
    };
    ok(verify(&["--pins", s(&pins)]));
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&pins).unwrap()).unwrap();
    assert_eq!(saved["models"][&st.model_id]["index"], 1);
    // A pin file named relative to the working directory (no directory part) is written there.
    let o = Command::new(env!("CARGO_BIN_EXE_zkw"))
        .current_dir(st.dir.path())
        .env("XDG_RUNTIME_DIR", "/tmp")
        .args([
            "verify",
            s(&r),
            "--registry",
            s(&st.registry),
            "--model",
            &st.model_id,
            "--input",
            s(&input),
            "--job-id",
            "job-pin",
            "--pins",
            "relative-pins.json",
        ])
        .output()
        .unwrap();
    ok(o);
    assert!(st.path("relative-pins.json").is_file());
    // A second registration (new terms), seen by the pins and by the ledger.
    st.register_again(&["--fee", "5", "--venue", &st.venue]);
    ok(verify(&["--pins", s(&pins)]));
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&pins).unwrap()).unwrap();
    assert_eq!(saved["models"][&st.model_id]["index"], 2);
    assert!(ok(st.settle(&[&r])).contains("settled"));
    ok(verify(&["--ledger", s(&st.ledger)]));
    // Put back: the second entry removed from the directory.
    let second = st
        .registry
        .join("history")
        .join(&st.model_id)
        .join("00000002.json");
    std::fs::remove_file(&second).unwrap();
    for extra in [["--pins", s(&pins)], ["--ledger", s(&st.ledger)]] {
        let o = verify(&extra);
        assert_eq!(o.status.code(), Some(2), "{extra:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("an older registration was put back"), "{err}");
    }
    // Without either, the rolled-back registry is all the verifier knows.
    ok(verify(&[]));
}
