//! Connection hygiene of `zkw worker`: TCP connections that never speak are closed after the
//! first-byte deadline, connections beyond the caps (in all, per peer) are closed at once, and
//! the worker keeps answering real clients without spinning a core. (A probe made the worker
//! unreachable with 1,012 silent connections, its accept loop retrying at 98% CPU.)

mod common;

use std::io::Read;
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use zkw_worker::proto as pb;

/// A worker with these connection flags; its process and address.
fn start(extra: &[&str]) -> (Child, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    let mut c = common::worker_command(&dir.path().join("data"), &models, extra, &[])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = common::listening_url(c.stdout.take().unwrap()).expect("it listened");
    (c, url, dir)
}

/// Whether the worker closed `c` (a read sees the end) within `wait`.
fn closed_within(c: &mut TcpStream, wait: Duration) -> bool {
    c.set_read_timeout(Some(wait)).unwrap();
    let mut b = [0u8; 1];
    matches!(c.read(&mut b), Ok(0) | Err(_))
        && {
            // A timeout is an error too: tell it from a close.
            c.set_read_timeout(Some(Duration::from_millis(1))).unwrap();
            !matches!(c.read(&mut b), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut)
        }
}

/// CPU seconds the process used so far (user + system), from /proc.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks / 100.0
}

async fn answers(url: &str) -> bool {
    match zkw_worker::client::connect(url, None, None).await {
        Ok(mut c) => c.list_models(pb::ListModelsRequest {}).await.is_ok(),
        Err(_) => false,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn silent_connections_are_closed_and_the_caps_hold_without_spinning() {
    let (mut child, url, _dir) = start(&[
        "--max-connections",
        "20",
        "--max-connections-per-peer",
        "20",
        "--first-byte-timeout",
        "2",
    ]);
    let addr = url.trim_start_matches("http://").to_string();
    let cpu_before = cpu_seconds(child.id());
    // 40 connections that never speak: 20 over the cap are closed at once.
    let mut silent: Vec<TcpStream> = (0..40)
        .map(|_| TcpStream::connect(&addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut refused = 0;
    for c in silent.iter_mut() {
        if closed_within(c, Duration::from_millis(50)) {
            refused += 1;
        }
    }
    assert_eq!(
        refused, 20,
        "connections beyond the cap of 20 are closed at once"
    );
    // After the first-byte deadline, the silent ones are gone too.
    let t = Instant::now();
    for c in silent.iter_mut() {
        assert!(
            closed_within(c, Duration::from_secs(5)),
            "a silent connection still open {:?} after the deadline",
            t.elapsed()
        );
    }
    // The worker answers, and did not spin while the flood held it at its cap.
    assert!(answers(&url).await);
    let used = cpu_seconds(child.id()) - cpu_before;
    assert!(
        used < 1.5,
        "the worker used {used} s of CPU in ~3 s of silent connections"
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread")]
async fn one_peer_gets_at_most_its_share() {
    let (mut child, url, _dir) = start(&[
        "--max-connections",
        "100",
        "--max-connections-per-peer",
        "5",
        "--first-byte-timeout",
        "30",
    ]);
    let addr = url.trim_start_matches("http://").to_string();
    let mut silent: Vec<TcpStream> = (0..10)
        .map(|_| TcpStream::connect(&addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut refused = 0;
    for c in silent.iter_mut() {
        if closed_within(c, Duration::from_millis(50)) {
            refused += 1;
        }
    }
    assert_eq!(refused, 5);
    // This peer is at its share: a real client from it waits for a place; once the silent
    // ones go, it is served.
    drop(silent);
    std::thread::sleep(Duration::from_millis(200));
    assert!(answers(&url).await);
    let _ = child.kill();
    let _ = child.wait();
}

/// A request that does not decode is the caller's error: INVALID_ARGUMENT naming the decode
/// error, not INTERNAL (which clients take for the server's fault and retry).
#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_request_is_an_invalid_argument() {
    let (mut child, url, _dir) = start(&[]);
    let channel = tonic::transport::Endpoint::from_shared(url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    // A Transition (field 1: a varint) where GetJob expects field 1 as a string.
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let e = grpc
        .unary(
            tonic::Request::new(pb::Transition {
                state: 3,
                at_unix_ms: 1,
                detail: String::new(),
            }),
            tonic::codegen::http::uri::PathAndQuery::from_static("/zkworker.v1.Worker/GetJob"),
            zkw_client::codec::Codec::<pb::Transition, pb::Job>::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument, "{e}");
    assert!(e.message().starts_with("malformed message: "), "{e}");
    // The worker is unharmed.
    assert!(answers(&url).await);
    let _ = child.kill();
    let _ = child.wait();
}
