//! The worker daemon end to end: a real `zkw worker` process on 127.0.0.1, driven over gRPC
//! and with the client commands — receipts that verify in both weight modes, signatures that
//! are checked, a `kill -9` in the middle of the work, a burst beyond the queue, and every bad
//! request answered with its status code.

mod common;

use common::{examples, s, zkw};

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio_stream::StreamExt;
use tonic::Code;
use zkw_worker::client::{Client, connect};
use zkw_worker::proto as pb;

/// Imports and sets up the digits model into `models/<mode>`; returns its id.
fn prepare(models: &Path, mode: &str) -> String {
    let zkm = models.with_file_name(format!("digits-{mode}.zkm"));
    let o = zkw(&[
        "model",
        "import",
        s(&examples().join("digits.onnx")),
        "-o",
        s(&zkm),
        "--calibration",
        s(&examples().join("calibration.json")),
        "--weights",
        mode,
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let keys = models.join(mode);
    let o = zkw(&["model", "setup", s(&zkm), "-o", s(&keys)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(keys.join("record.json")).unwrap()).unwrap();
    record["model_id"].as_str().unwrap().to_string()
}

/// A running `zkw worker` child process (its log is printed if the test fails).
struct Daemon {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Daemon {
    fn start(data: &Path, models: &Path, extra: &[&str]) -> Daemon {
        let log = data.with_extension(format!("{}.log", std::process::id()));
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_zkw"))
            .args(["worker", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .arg("--models")
            .arg(models)
            .args(["--backend", "cpu"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .expect("spawn zkw worker");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        Daemon { child, url, log }
    }

    async fn client(&self, token: Option<&str>) -> Client {
        connect(&self.url, token, None).await.unwrap()
    }

    fn kill9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        self.child.wait().unwrap()
    }

    fn rss_kib(&self) -> u64 {
        self.status_kib("VmRSS:")
    }

    /// The most memory the process has held resident so far.
    fn peak_rss_kib(&self) -> u64 {
        self.status_kib("VmHWM:")
    }

    fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find(|l| l.starts_with(field))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            eprintln!("--- worker log ({}) ---\n{log}", self.log.display());
        }
    }
}

fn input() -> (Vec<f64>, serde_json::Value) {
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(examples().join("input.json")).unwrap()).unwrap();
    let values = doc["input_data"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    (values, doc)
}

fn request(model_id: &str, salt: u8) -> pb::SubmitJobRequest {
    pb::SubmitJobRequest {
        model_id: model_id.into(),
        input: input().0,
        client_nonce: format!("nonce-{salt}"),
        input_salt: vec![salt ^ 0xa5; 31],
        unsalted: false,
        idempotency_key: String::new(),
        client_request: String::new(),
    }
}

/// A client's signed request (JSON) for `model_id` on `req`'s input and salt (quantized by
/// `record`'s input format), under `nonce`, its input's first value raised by `shift` (so the
/// digest is another input's).
fn signed(
    record: &zkw_verifier::ModelRecord,
    model_id: &str,
    req: &pb::SubmitJobRequest,
    nonce: &str,
    shift: u8,
) -> String {
    let mut values = req.input.clone();
    values[0] += shift as f64;
    let info = zkw_model::TensorInfo {
        shape: record.input.shape.clone(),
        frac_bits: record.input.frac_bits,
        bits: record.input.bits.bits(),
    };
    let q = zkw_model::input::quantize_input(&info, &values).unwrap();
    let salt = zkw_verifier::InputSalt::from_bytes(req.input_salt.clone().try_into().unwrap());
    let digest = zkw_verifier::digest::input_digest(&q, record.input.bits, &salt).unwrap();
    zkw_verifier::ClientRequest::sign(
        &zkw_verifier::KeyPair::from_seed(&[0x77; 32]),
        model_id,
        digest,
        nonce,
        zkw_verifier::Venue::Ledger([1; 32]),
        1000,
    )
    .unwrap()
    .to_json()
}

/// Waits until the job ends; returns it.
async fn wait(client: &mut Client, job_id: &str) -> pb::Job {
    zkw_worker::client::wait(client, job_id, |_| {})
        .await
        .unwrap()
}

fn count(job: &pb::Job, state: pb::JobState) -> usize {
    job.history
        .iter()
        .filter(|t| t.state == state as i32)
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn submit_watch_receipt_verify_in_both_modes_with_signatures_checked() {
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    let ids = [prepare(&models, "fixed"), prepare(&models, "private")];
    let daemon = Daemon::start(&dir.path().join("data"), &models, &[]);
    let mut client = daemon.client(None).await;
    let listed = client
        .list_models(pb::ListModelsRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.models.len(), 2);
    assert_eq!(listed.backend, "cpu reference");
    for (mode, id) in ["fixed", "private"].iter().zip(&ids) {
        assert!(
            listed
                .models
                .iter()
                .any(|m| &m.model_id == id && m.weight_mode == *mode)
        );
        // The client commands: submit with the example input (its salt is in the file),
        // wait, fetch the receipt, verify strictly.
        let receipt = dir.path().join(format!("receipt-{mode}.json"));
        let o = zkw(&[
            "submit",
            "--worker",
            &daemon.url,
            id,
            "--input",
            s(&examples().join("input.json")),
            "--nonce",
            "n-1",
            "--wait",
            "-o",
            s(&receipt),
            "--json",
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let out: serde_json::Value =
            serde_json::from_str(String::from_utf8_lossy(&o.stdout).lines().next().unwrap())
                .unwrap();
        let job_id = out["job_id"].as_str().unwrap();
        let worker_id = out["worker_id"].as_str().unwrap();
        let keys = models.join(mode);
        let verify = |r: &Path| {
            zkw(&[
                "verify",
                s(r),
                "--keys",
                s(&keys),
                "--input",
                s(&examples().join("input.json")),
                "--job-id",
                job_id,
                "--worker-id",
                worker_id,
                "--nonce",
                "n-1",
            ])
        };
        let o = verify(&receipt);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let text = String::from_utf8_lossy(&o.stdout).to_string();
        assert!(
            text.contains(&format!("signed by worker {worker_id}")),
            "{text}"
        );
        assert!(!text.contains("NOT CHECKED"), "{text}");

        // The same receipt with the signature removed: verified, and reported unsigned.
        let mut r: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&receipt).unwrap()).unwrap();
        let sig = r["signature"].as_str().unwrap().to_string();
        r.as_object_mut().unwrap().remove("signature");
        let unsigned = dir.path().join("unsigned.json");
        std::fs::write(&unsigned, r.to_string()).unwrap();
        let o = verify(&unsigned);
        assert_eq!(o.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&o.stdout).contains("unsigned"));
        // Altered, or by another key: rejected, naming the signature.
        let mut flipped = hex::decode(&sig).unwrap();
        flipped[3] ^= 0x20;
        let other = zkw_verifier::WorkerKey::from_seed(&[7; 32]);
        let mut foreign: zkw_verifier::Receipt =
            zkw_verifier::Receipt::from_json(&std::fs::read(&receipt).unwrap()).unwrap();
        other.sign(&mut foreign);
        for bad_sig in [hex::encode(flipped), foreign.signature.clone().unwrap()] {
            r["signature"] = bad_sig.into();
            let bad = dir.path().join("bad-sig.json");
            std::fs::write(&bad, r.to_string()).unwrap();
            let o = verify(&bad);
            assert_eq!(o.status.code(), Some(1));
            assert!(
                String::from_utf8_lossy(&o.stderr).contains("bad worker signature"),
                "{}",
                String::from_utf8_lossy(&o.stderr)
            );
        }

        // Status, watch and receipt by hand.
        let o = zkw(&["status", "--worker", &daemon.url, job_id]);
        let text = String::from_utf8_lossy(&o.stdout).to_string();
        for want in ["succeeded", "queued", "running", "proving"] {
            assert!(text.contains(want), "{text}");
        }
        let o = zkw(&["watch", "--worker", &daemon.url, job_id]);
        assert!(o.status.success());
        let again = dir.path().join(format!("again-{mode}.json"));
        // The client names the model it submitted to: a receipt for any other is refused and
        // nothing is written (the worker's word on the job's model is not trusted).
        let other_model = "ab".repeat(32);
        let o = zkw(&[
            "receipt",
            "--worker",
            &daemon.url,
            job_id,
            "--model",
            &other_model,
            "-o",
            s(&again),
        ]);
        assert_eq!(o.status.code(), Some(2));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("model mismatch") && err.contains(&other_model),
            "{err}"
        );
        assert!(!again.exists());
        let o = zkw(&[
            "receipt",
            "--worker",
            &daemon.url,
            job_id,
            "--model",
            id,
            "--nonce",
            "n-1",
            "-o",
            s(&again),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(
            std::fs::read(&again).unwrap(),
            std::fs::read(&receipt).unwrap()
        );
    }
    // Idempotency: the same key, the same job.
    let mut req = request(&ids[0], 9);
    req.idempotency_key = "order-17".into();
    let a = client.submit_job(req.clone()).await.unwrap().into_inner();
    let b = client.submit_job(req).await.unwrap().into_inner();
    assert_eq!(a.job_id, b.job_id);
    assert!(!a.existing && b.existing);
    assert_eq!(
        wait(&mut client, &a.job_id).await.state,
        pb::JobState::Succeeded as i32
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_while_queued_and_proving_loses_nothing_and_finishes_each_job_once() {
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    let id = prepare(&models, "private");
    let data = dir.path().join("data");
    let mut daemon = Daemon::start(&data, &models, &["--max-queue", "64"]);
    let mut client = daemon.client(None).await;
    let mut accepted = Vec::new();
    for k in 0..8u8 {
        let r = client
            .submit_job(request(&id, k))
            .await
            .unwrap()
            .into_inner();
        accepted.push((r.job_id, r.input_digest, k));
    }
    // Kill it while the first job proves and the rest wait.
    let t = Instant::now();
    loop {
        let j = client
            .get_job(pb::GetJobRequest {
                job_id: accepted[0].0.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        if j.state == pb::JobState::Proving as i32 || t.elapsed() > Duration::from_secs(60) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    daemon.kill9();

    let daemon = Daemon::start(&data, &models, &[]);
    let mut client = daemon.client(None).await;
    let keys = models.join("private");
    let record =
        zkw_verifier::ModelRecord::from_json(&std::fs::read(keys.join("record.json")).unwrap())
            .unwrap();
    let key = zkw_verifier::VerifierKey::from_bytes(
        &std::fs::read(keys.join(format!("{}.vk", record.vk_id))).unwrap(),
    )
    .unwrap();
    let mut resumed = 0;
    for (job_id, digest, k) in &accepted {
        let job = wait(&mut client, job_id).await;
        assert_eq!(job.state, pb::JobState::Succeeded as i32, "{job:?}");
        assert_eq!(count(&job, pb::JobState::Succeeded), 1, "{job:?}");
        resumed += job
            .history
            .iter()
            .filter(|t| t.detail.contains("resumed after a restart"))
            .count();
        let r = client
            .get_receipt(pb::GetReceiptRequest {
                job_id: job_id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        let receipt = zkw_verifier::Receipt::from_json(r.receipt_json.as_bytes()).unwrap();
        let nonce = format!("nonce-{k}");
        let expected = zkw_verifier::Expected::new(
            &record,
            zkw_verifier::field::fr_from_hex(digest).unwrap(),
            job_id,
        )
        .nonce(&nonce);
        let v = zkw_verifier::verify(&receipt, &key, &expected).unwrap();
        assert!(matches!(v.signer, zkw_verifier::Signer::Worker(_)));
    }
    assert!(
        resumed >= 1,
        "no job was resumed: was the worker killed too late?"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_burst_beyond_the_queue_is_refused_and_every_accepted_job_completes() {
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    let id = prepare(&models, "fixed");
    let daemon = Daemon::start(&dir.path().join("data"), &models, &["--max-queue", "4"]);
    let client = daemon.client(None).await;
    let rss_before = daemon.rss_kib();
    let mut tasks = Vec::new();
    for k in 0..60u8 {
        let mut c = client.clone();
        let req = request(&id, k);
        tasks.push(tokio::spawn(async move { c.submit_job(req).await }));
    }
    let (mut accepted, mut refused) = (Vec::new(), 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(r) => accepted.push(r.into_inner().job_id),
            Err(e) => {
                assert_eq!(e.code(), Code::ResourceExhausted, "{e}");
                assert!(
                    e.message().contains("the queue is full (4 jobs waiting)"),
                    "{e}"
                );
                refused += 1;
            }
        }
    }
    assert!(refused > 0, "60 submits never filled a queue of 4");
    assert!(accepted.len() >= 4);
    let mut c = client.clone();
    for job_id in &accepted {
        let job = wait(&mut c, job_id).await;
        assert_eq!(job.state, pb::JobState::Succeeded as i32, "{job:?}");
    }
    // Refused jobs were never stored: the store has exactly the accepted ones.
    let rss_after = daemon.rss_kib();
    assert!(
        rss_after < rss_before + 200 * 1024,
        "memory grew from {rss_before} to {rss_after} KiB"
    );
}

/// 32 concurrent 30 MiB submissions (a probe's burst took +798 MiB, kept for good) are refused
/// from their first five bytes — longer than any input the served model can need — and the
/// worker's peak memory grows by less than 64 MiB; it serves the next job.
#[tokio::test(flavor = "multi_thread")]
async fn a_burst_of_huge_requests_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    let id = prepare(&models, "fixed");
    let daemon = Daemon::start(&dir.path().join("data"), &models, &[]);
    let client = daemon
        .client(None)
        .await
        .max_encoding_message_size(usize::MAX);
    let peak_before = daemon.peak_rss_kib().max(daemon.rss_kib());
    let huge = pb::SubmitJobRequest {
        input: vec![0.25; 4_000_000],
        ..request(&id, 1)
    };
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let (mut c, req) = (client.clone(), huge.clone());
            tokio::spawn(async move { c.submit_job(req).await })
        })
        .collect();
    for t in tasks {
        let e = t.await.unwrap().unwrap_err();
        assert_eq!(e.code(), Code::OutOfRange, "{e}");
        assert!(e.message().contains("found 32000"), "{e}");
    }
    let peak_after = daemon.peak_rss_kib();
    assert!(
        peak_after < peak_before + 64 * 1024,
        "peak memory grew from {peak_before} to {peak_after} KiB"
    );
    let mut c = daemon.client(None).await;
    let r = c.submit_job(request(&id, 2)).await.unwrap().into_inner();
    assert_eq!(
        wait(&mut c, &r.job_id).await.state,
        pb::JobState::Succeeded as i32
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_get_their_status_and_the_worker_stays_up() {
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    let id = prepare(&models, "fixed");
    let mut daemon = Daemon::start(&dir.path().join("data"), &models, &["--token", "s3cret"]);
    let mut client = daemon.client(Some("s3cret")).await;
    let good = request(&id, 1);
    let record: zkw_verifier::ModelRecord =
        serde_json::from_slice(&std::fs::read(models.join("fixed/record.json")).unwrap()).unwrap();
    let cases: Vec<(pb::SubmitJobRequest, Code, &str)> = vec![
        (
            pb::SubmitJobRequest {
                model_id: "ab".repeat(32),
                ..good.clone()
            },
            Code::InvalidArgument,
            "unknown model",
        ),
        (
            pb::SubmitJobRequest {
                model_id: String::new(),
                ..good.clone()
            },
            Code::InvalidArgument,
            "model_id is empty",
        ),
        (
            pb::SubmitJobRequest {
                input: vec![0.5; 3],
                ..good.clone()
            },
            Code::InvalidArgument,
            "the input has 3 values, the model expects 64",
        ),
        (
            pb::SubmitJobRequest {
                input: {
                    let mut x = good.input.clone();
                    x[5] = f64::NAN;
                    x
                },
                ..good.clone()
            },
            Code::InvalidArgument,
            "input value #5 is not a finite number",
        ),
        (
            pb::SubmitJobRequest {
                input: {
                    let mut x = good.input.clone();
                    x[7] = 1e6;
                    x
                },
                ..good.clone()
            },
            Code::InvalidArgument,
            "input value #7 = 1000000 is outside the model's input range",
        ),
        (
            pb::SubmitJobRequest {
                input: {
                    let mut x = good.input.clone();
                    x[7] = 1e308;
                    x
                },
                ..good.clone()
            },
            Code::InvalidArgument,
            // Short: not the 309 digits of 1e308 in full.
            "input value #7 = 1.000000e308 is outside the model's input range [",
        ),
        (
            pb::SubmitJobRequest {
                input_salt: vec![1; 5],
                ..good.clone()
            },
            Code::InvalidArgument,
            "the input salt has 5 bytes, expected 31",
        ),
        (
            pb::SubmitJobRequest {
                unsalted: true,
                ..good.clone()
            },
            Code::InvalidArgument,
            "unsalted contradicts the input salt",
        ),
        (
            pb::SubmitJobRequest {
                input_salt: vec![0; 31],
                ..good.clone()
            },
            Code::InvalidArgument,
            "an all-zero input salt is no salt",
        ),
        (
            pb::SubmitJobRequest {
                model_id: "not-a-model".into(),
                ..good.clone()
            },
            Code::InvalidArgument,
            "a model id is 64 lower-case hex digits",
        ),
        (
            pb::SubmitJobRequest {
                client_nonce: "a\nb".into(),
                ..good.clone()
            },
            Code::InvalidArgument,
            "the client nonce has a byte outside printable ASCII",
        ),
        (
            pb::SubmitJobRequest {
                idempotency_key: "k".repeat(200),
                ..good.clone()
            },
            Code::InvalidArgument,
            "the idempotency key has 200 bytes",
        ),
        (
            pb::SubmitJobRequest {
                client_request: signed(&record, &id, &good, &good.client_nonce, 0),
                input_salt: Vec::new(),
                ..good.clone()
            },
            Code::InvalidArgument,
            "the client request signs an input digest, which needs the client's own salt",
        ),
        (
            pb::SubmitJobRequest {
                client_request: signed(&record, &id, &good, "another-nonce", 0),
                ..good.clone()
            },
            Code::InvalidArgument,
            "the client request has nonce \"another-nonce\"",
        ),
        (
            pb::SubmitJobRequest {
                client_request: signed(&record, &id, &good, &good.client_nonce, 1),
                ..good.clone()
            },
            Code::InvalidArgument,
            "the client request signs input digest",
        ),
        (
            pb::SubmitJobRequest {
                client_request: signed(&record, &"cd".repeat(32), &good, &good.client_nonce, 0),
                ..good.clone()
            },
            Code::InvalidArgument,
            "the client request is for model cdcd",
        ),
        (
            pb::SubmitJobRequest {
                client_request: signed(&record, &id, &good, &good.client_nonce, 0)
                    .replace("\"fee\":1000", "\"fee\":1"),
                ..good.clone()
            },
            Code::InvalidArgument,
            "bad client request: it is not signed by the client it names",
        ),
    ];
    for (req, code, want) in cases {
        let e = client.submit_job(req).await.unwrap_err();
        assert_eq!(e.code(), code, "{want}: {e}");
        assert!(e.message().contains(want), "{want}: {}", e.message());
    }
    // A message over the worker's limit (32 MiB) is refused before it is read.
    let mut big = daemon
        .client(Some("s3cret"))
        .await
        .max_encoding_message_size(usize::MAX);
    let e = big
        .submit_job(pb::SubmitJobRequest {
            input: vec![0.0; 5_000_000],
            ..good.clone()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::OutOfRange, "{e}");
    assert!(e.message().contains("message length too large"), "{e}");
    let unknown = "00".repeat(16);
    let e = client
        .get_job(pb::GetJobRequest {
            job_id: unknown.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    assert_eq!(e.message(), format!("unknown job {unknown}"));
    let e = client
        .get_receipt(pb::GetReceiptRequest {
            job_id: unknown.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    let e = client
        .cancel_job(pb::CancelJobRequest {
            job_id: unknown.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    let e = client
        .watch_job(pb::WatchJobRequest { job_id: unknown })
        .await
        .err()
        .unwrap();
    assert_eq!(e.code(), Code::NotFound);
    let e = client
        .get_job(pb::GetJobRequest {
            job_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    // Not a job id at all: refused without being echoed.
    let e = client
        .get_job(pb::GetJobRequest {
            job_id: "../../etc/passwd\u{1b}[8m".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert_eq!(e.message(), "a job id is 32 lower-case hex digits");
    // An idempotency key reused for another request.
    let mut first = request(&id, 5);
    first.idempotency_key = "order-9".into();
    client.submit_job(first.clone()).await.unwrap();
    let mut other = first.clone();
    other.client_nonce = "another".into();
    let e = client.submit_job(other).await.unwrap_err();
    assert_eq!(e.code(), Code::AlreadyExists);
    assert!(
        e.message()
            .contains("`order-9` was used for another request"),
        "{e}"
    );

    // A job's receipt before it exists; a cancelled job.
    let queued = client.submit_job(good.clone()).await.unwrap().into_inner();
    let cancelled = client
        .cancel_job(pb::CancelJobRequest {
            job_id: queued.job_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let job = wait(&mut client, &queued.job_id).await;
    if cancelled.state == pb::JobState::Cancelled as i32
        || job.state == pb::JobState::Cancelled as i32
    {
        let e = client
            .get_receipt(pb::GetReceiptRequest {
                job_id: queued.job_id.clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::FailedPrecondition);
        assert!(e.message().contains("it is cancelled"), "{e}");
    }

    // Without the token, or with another: UNAUTHENTICATED; the health service stays open.
    for token in [None, Some("wrong")] {
        let mut c = daemon.client(token).await;
        let e = c.list_models(pb::ListModelsRequest {}).await.unwrap_err();
        assert_eq!(e.code(), Code::Unauthenticated, "{token:?}");
    }
    let channel = tonic::transport::Endpoint::from_shared(daemon.url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    let h = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "zkworker.v1.Worker".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        h.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
    // Reflection lists the service (what `grpcurl list` asks).
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    let req = tonic_reflection::pb::v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    // Behind the token like the service itself.
    let e = ServerReflectionClient::new(channel.clone())
        .server_reflection_info(tokio_stream::iter([req.clone()]))
        .await
        .err()
        .unwrap();
    assert_eq!(e.code(), Code::Unauthenticated);
    let mut reflection = ServerReflectionClient::with_interceptor(
        channel,
        zkw_client::BearerToken::new(Some("s3cret")).unwrap(),
    );
    let mut answers = reflection
        .server_reflection_info(tokio_stream::iter([req]))
        .await
        .unwrap()
        .into_inner();
    let answer = answers.next().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
        panic!("no service list: {answer:?}");
    };
    let names: Vec<_> = list.service.iter().map(|s| s.name.as_str()).collect();
    assert!(names.contains(&"zkworker.v1.Worker"), "{names:?}");
    assert!(names.contains(&"grpc.health.v1.Health"), "{names:?}");

    // Still up, still proving; then SIGTERM drains and exits cleanly.
    let r = client
        .submit_job(request(&id, 3))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        wait(&mut client, &r.job_id).await.state,
        pb::JobState::Succeeded as i32
    );
    assert!(daemon.terminate().success());
}

/// A free port on 127.0.0.1 (bound and released: good enough for a test).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `GET path` over plain HTTP/1.0, with `authorization: Bearer <token>` when given; the
/// whole response.
fn http_get(port: u16, path: &str, token: Option<&str>) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n{auth}\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_metrics_and_models_added_while_running() {
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    let cert =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let (cert_pem, key_pem) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_pem, cert.cert.pem()).unwrap();
    std::fs::write(&key_pem, cert.signing_key.serialize_pem()).unwrap();
    let metrics = free_port();
    let metrics_addr = format!("127.0.0.1:{metrics}");
    let daemon = Daemon::start(
        &dir.path().join("data"),
        &models,
        &[
            "--tls-cert",
            s(&cert_pem),
            "--tls-key",
            s(&key_pem),
            "--metrics",
            &metrics_addr,
            "--metrics-token",
            "scrape-secret",
        ],
    );
    assert!(daemon.url.starts_with("https://"), "{}", daemon.url);
    let mut client = connect(&daemon.url, None, Some(&cert_pem)).await.unwrap();
    let listed = client
        .list_models(pb::ListModelsRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(listed.models.is_empty());
    // With no model, the largest message is the headroom alone: a 10,000-value input is
    // refused before it is read.
    let big = || pb::SubmitJobRequest {
        input: vec![0.5; 10_000],
        ..request(&"ab".repeat(32), 1)
    };
    let e = client.submit_job(big()).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::OutOfRange, "{e}");
    assert!(
        e.message().contains(&format!(
            "the limit is {} bytes",
            zkw_worker::admission::HEADROOM
        )),
        "{e}"
    );
    // Plain text to a TLS port gets nowhere.
    let plain = daemon.url.replace("https://", "http://");
    if let Ok(mut c) = connect(&plain, None, None).await {
        assert!(c.list_models(pb::ListModelsRequest {}).await.is_err());
    }
    // The CLI with the CA.
    let o = zkw(&["models", "--worker", &daemon.url, "--ca", s(&cert_pem)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("no models"));

    // A model added while the worker runs: SIGHUP loads it.
    let id = prepare(&models, "fixed");
    Command::new("kill")
        .args(["-HUP", &daemon.child.id().to_string()])
        .status()
        .unwrap();
    let t = Instant::now();
    loop {
        let listed = client
            .list_models(pb::ListModelsRequest {})
            .await
            .unwrap()
            .into_inner();
        if listed.models.iter().any(|m| m.model_id == id) {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "SIGHUP did not load the model"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // With a registry that does not hold it, `zkw models` says so beside the model.
    let o = zkw(&[
        "models",
        "--worker",
        &daemon.url,
        "--ca",
        s(&cert_pem),
        "--registry",
        s(&dir.path().join("empty-registry")),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let listed_text = String::from_utf8_lossy(&o.stdout);
    assert!(
        listed_text.contains(&format!(": model {id} is not registered")),
        "{listed_text}"
    );
    // ReloadModels: nothing new, the same list.
    let again = client
        .reload_models(pb::ReloadModelsRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.models.len(), 1);

    let r = client
        .submit_job(request(&id, 4))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        wait(&mut client, &r.job_id).await.state,
        pb::JobState::Succeeded as i32
    );
    // The loaded model's input (64 values) raised the cap by its size.
    let e = client.submit_job(big()).await.unwrap_err();
    let cap = zkw_worker::admission::message_cap(64);
    assert!(
        e.message().contains(&format!("the limit is {cap} bytes")),
        "{e}"
    );
    // The metrics need their token: without it (or with another) 401 and nothing shown.
    for token in [None, Some("wrong")] {
        let page = http_get(metrics, "/metrics", token);
        assert_eq!(page.split_whitespace().nth(1), Some("401"), "{page}");
        assert!(!page.contains("zkw_"), "{page}");
    }
    let other = http_get(metrics, "/other", Some("scrape-secret"));
    assert_eq!(other.split_whitespace().nth(1), Some("404"), "{other}");
    let page = http_get(metrics, "/metrics", Some("scrape-secret"));
    assert_eq!(page.split_whitespace().nth(1), Some("200"), "{page}");
    for want in [
        "zkw_job_transitions_total{state=\"succeeded\"} 1",
        "zkw_jobs{state=\"succeeded\"} 1",
        "zkw_queue_depth",
        "zkw_prove_seconds_bucket",
        "zkw_inference_seconds_count 1",
        "zkw_key_load_seconds{model=",
        "zkw_backend_info{backend=\"cpu reference\"} 1",
        "zkw_requests_shed_total{reason=\"too_large\"} 2",
    ] {
        assert!(page.contains(want), "metrics lack {want}:\n{page}");
    }
}
