//! A worker that cannot work does not stay up: a fatal error right at start (plain and with
//! TLS) or while it serves makes `zkw worker` report NOT_SERVING and exit with code 3 within
//! a bound, so a supervisor restarts it (accepted jobs resume). Faults are injected through
//! `ZKW_FAULT` (`zkw_worker::fault`). Before, a fatal error raised before anyone waited for one
//! was lost: the process answered SERVING for ever and refused every job.

mod common;

use std::io::{BufRead, BufReader};
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
    Command::new(env!("CARGO_BIN_EXE_zkw"))
        .args([
            "worker",
            "--listen",
            "127.0.0.1:0",
            "--backend",
            "cpu",
            "--data",
        ])
        .arg(dir.join("data"))
        .arg("--models")
        .arg(&models)
        .args(extra)
        .env("ZKW_FAULT", fault)
        .env("XDG_RUNTIME_DIR", "/tmp")
        .stdout(Stdio::piped())
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
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
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
