//! A worker that cannot work does not stay up: a fatal error right at start (plain and with
//! TLS) or while it serves makes `zkw worker` report NOT_SERVING and exit with code 3 within
//! a bound, so a supervisor restarts it (accepted jobs resume). Faults are injected through
//! `ZKW_FAULT` (`zkw_worker::fault`). Before, a fatal error raised before anyone waited for one
//! was lost: the process answered SERVING for ever and refused every job.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::s;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// How long a failing worker may take to exit: the CLI's drain bound plus a start.
const BOUND: Duration = Duration::from_secs(40);

/// `zkw worker` with `ZKW_FAULT=fault`, its stderr captured.
fn spawn(dir: &Path, fault: &str, extra: &[&str]) -> Child {
    let models = dir.join("models");
    std::fs::create_dir_all(&models).unwrap();
    common::worker_command(&dir.join("data"), &models, extra, &[("ZKW_FAULT", fault)])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for the child to exit within [`BOUND`]; its exit code and stderr.
fn exits(mut child: Child) -> (Option<i32>, String) {
    let t = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            return (status.code(), err);
        }
        if t.elapsed() > BOUND {
            let _ = child.kill();
            panic!("the worker is still running {BOUND:?} after a fatal error: a zombie");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn tls_args(dir: &Path) -> Vec<String> {
    let cert =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&c, cert.cert.pem()).unwrap();
    std::fs::write(&k, cert.signing_key.serialize_pem()).unwrap();
    vec![
        "--tls-cert".into(),
        s(&c).into(),
        "--tls-key".into(),
        s(&k).into(),
    ]
}

#[test]
fn a_fatal_error_at_start_ends_the_process_with_code_3_plain_and_with_tls() {
    for tls in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let extra = if tls { tls_args(dir.path()) } else { vec![] };
        let extra: Vec<&str> = extra.iter().map(|a| a.as_str()).collect();
        let (code, err) = exits(spawn(dir.path(), "fatal-at-start", &extra));
        assert_eq!(code, Some(3), "tls {tls}: {err}");
        assert!(
            err.contains("the worker stopped: an injected fault (ZKW_FAULT=fatal-at-start)"),
            "tls {tls}: {err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fatal_error_while_serving_turns_health_off_and_ends_the_process() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn(dir.path(), "fatal-after-ms:1500", &[]);
    let url = common::listening_url(child.stdout.take().unwrap()).expect("it listened");
    let channel = tonic::transport::Endpoint::from_shared(url)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(channel);
    // Health as a supervisor polls it, until the process is gone.
    let mut seen = Vec::new();
    let t = Instant::now();
    while t.elapsed() < BOUND {
        let status = health
            .check(HealthCheckRequest {
                service: "zkworker.v1.Worker".into(),
            })
            .await
            .map(|r| r.into_inner().status);
        let done = status.is_err();
        seen.push(status.ok());
        if done || child.try_wait().unwrap().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (code, err) = exits(child);
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("ZKW_FAULT=fatal-after-ms:1500"), "{err}");
    // SERVING while it served, then never again: NOT_SERVING or nothing at all.
    let serving = Some(ServingStatus::Serving as i32);
    assert_eq!(seen.first(), Some(&serving), "{seen:?}");
    let first_off = seen.iter().position(|s| *s != serving).expect("it stopped");
    assert!(
        seen[first_off..].iter().all(|s| *s != serving),
        "SERVING after the failure: {seen:?}"
    );
}

#[test]
fn an_unknown_fault_is_refused_not_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = exits(spawn(dir.path(), "fatal-sometimes", &[]));
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("ZKW_FAULT=fatal-sometimes: no such fault"),
        "{err}"
    );
}

/// A poison job — one whose inference kills the process — is charged an attempt each time it
/// enters inference, so across restarts it exhausts its attempts and fails with the reason
/// kept, and the restarted worker serves the next jobs. (Before, attempts were charged only
/// when proving started: the job was retried for ever, the worker in a crash loop.)
#[tokio::test(flavor = "multi_thread")]
async fn a_job_that_crashes_the_worker_in_inference_exhausts_its_own_attempts() {
    use zkw_worker::proto as pb;
    let dir = tempfile::tempdir().unwrap();
    let (record, keys, good) = common::digits_for_a_worker(dir.path());
    let mut poison = good.clone();
    poison[0] = if good[0] > 1.0 { -1.5 } else { 1.5 };
    let info = zkw_model::TensorInfo {
        shape: record.input.shape.clone(),
        frac_bits: record.input.frac_bits,
        bits: record.input.bits.bits(),
    };
    let first = |x: &[f64]| zkw_model::input::quantize_input(&info, x).unwrap()[0];
    assert_ne!(first(&poison), first(&good));
    let fault = format!("abort-in-inference:{}", first(&poison));
    let start = || {
        let mut c = common::worker_command(
            &dir.path().join("data"),
            &keys,
            &[],
            &[("ZKW_FAULT", fault.as_str())],
        )
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
        let stdout = c.stdout.take().unwrap();
        (c, stdout)
    };
    let url_of = common::listening_url;
    let request = |x: Vec<f64>, nonce: &str| pb::SubmitJobRequest {
        model_id: record.model_id.clone(),
        input: x,
        client_nonce: nonce.into(),
        input_salt: vec![0x42; 31],
        unsalted: false,
        idempotency_key: String::new(),
        client_request: String::new(),
    };
    // First start: the poison job is accepted, and kills the worker.
    let (mut child, stdout) = start();
    let url = url_of(stdout).expect("the worker started");
    let mut client = zkw_worker::client::connect(&url, None, None).await.unwrap();
    let job_id = client
        .submit_job(request(poison.clone(), "poison"))
        .await
        .unwrap()
        .into_inner()
        .job_id;
    let mut crashes = 0;
    let url = loop {
        // Dead within the bound (the job crashed it), or alive and serving (the job failed).
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(15) && child.try_wait().unwrap().is_none() {
            std::thread::sleep(Duration::from_millis(50));
        }
        if child.try_wait().unwrap().is_none() {
            break url_of(child.stdout.take().unwrap_or_else(|| start().1));
        }
        crashes += 1;
        assert!(
            crashes <= 5,
            "the poison job keeps crashing the worker: retried for ever"
        );
        let (c, _stdout) = start();
        child = c;
        child.stdout = Some(_stdout);
    };
    let url = url.expect("the surviving worker printed its address");
    assert_eq!(crashes, 3, "one crash per attempt, max_attempts = 3");
    let mut client = zkw_worker::client::connect(&url, None, None).await.unwrap();
    let job = client
        .get_job(pb::GetJobRequest {
            job_id: job_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(job.state, pb::JobState::Failed as i32, "{job:?}");
    assert_eq!(job.attempts, 3);
    assert!(
        job.error.contains("started 3 times without finishing"),
        "{}",
        job.error
    );
    // The worker serves the next job.
    let ok = client
        .submit_job(request(good, "good"))
        .await
        .unwrap()
        .into_inner()
        .job_id;
    let done = zkw_worker::client::wait(&mut client, &ok, |_| {})
        .await
        .unwrap();
    assert_eq!(done.state, pb::JobState::Succeeded as i32);
    let _ = child.kill();
    let _ = child.wait();
}

/// A data directory that holds a worker identity but whose job store is missing, empty (0
/// bytes) or not a store is refused by name (exit 2), never started empty without a word; an
/// empty data directory starts fresh, and `--new-store` accepts the loss.
#[test]
fn a_lost_or_truncated_job_store_is_refused_unless_told_new_store() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let models = dir.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    let run = |extra: &[&str]| {
        let mut c = common::worker_command(&data, &models, extra, &[])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Started (its address printed): stop it; else it exited on its own.
        let line = common::listening_url(c.stdout.take().unwrap()).unwrap_or_default();
        if !line.is_empty() {
            Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status()
                .unwrap();
        }
        let out = c.wait_with_output().unwrap();
        (
            out.status.code(),
            line,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // A fresh data directory starts (and makes the identity and the store).
    let (code, line, err) = run(&[]);
    assert!(line.starts_with("http"), "{err}");
    assert_eq!(code, Some(0), "{err}");
    let store = data.join("jobs.redb");
    assert!(store.is_file());
    // Truncated to 0 bytes: refused, and the file left as it is.
    std::fs::write(&store, b"").unwrap();
    let (code, _, err) = run(&[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("jobs.redb: the job store is empty (0 bytes)") && err.contains("--new-store"),
        "{err}"
    );
    assert_eq!(std::fs::metadata(&store).unwrap().len(), 0);
    // Deleted: refused.
    std::fs::remove_file(&store).unwrap();
    let (code, _, err) = run(&[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("there is no job store"), "{err}");
    assert!(!store.exists());
    // A foreign file: refused, naming it.
    std::fs::write(
        &store,
        b"not a database at all, but long enough to look like one",
    )
    .unwrap();
    let (code, _, err) = run(&[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("jobs.redb"), "{err}");
    // --new-store accepts the loss: a 0-byte or missing store starts empty.
    std::fs::write(&store, b"").unwrap();
    let (code, line, err) = run(&["--new-store"]);
    assert!(line.starts_with("http"), "{err}");
    assert_eq!(code, Some(0), "{err}");
    assert!(std::fs::metadata(&store).unwrap().len() > 0);
}
