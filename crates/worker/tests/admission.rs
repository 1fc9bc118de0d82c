//! Admission and idle connections, against a real worker (in-process, gRPC on loopback),
//! driven by a raw HTTP/2 client so that a request can be left half-sent:
//! - requests being received hold the shared budget: one that does not fit is shed with
//!   RESOURCE_EXHAUSTED at once, before its body is read, while calls that fit (and health
//!   probes, always) are served; the budget comes back when a request ends;
//! - a connection with no call open is closed after the idle timeout, one with a stream open
//!   is not.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use h2::client::SendRequest;
use tokio::net::TcpStream;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;
use zkw_worker::proto as pb;
use zkw_worker::{WorkerConfig, admission};

async fn worker(
    max_receiving: usize,
    idle: Duration,
) -> (zkw_worker::RunningWorker, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    let mut config = WorkerConfig::new(dir.path().join("data"), models);
    config.backend = zkw_worker::Backend::Cpu;
    config.max_receiving = max_receiving;
    config.limits.idle = idle;
    (zkw_worker::start(config).await.unwrap(), dir)
}

async fn h2(
    addr: SocketAddr,
) -> (
    SendRequest<Bytes>,
    tokio::task::JoinHandle<Result<(), h2::Error>>,
) {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (client, conn) = h2::client::handshake(tcp).await.unwrap();
    (client, tokio::spawn(conn))
}

/// Starts a SubmitJob whose message claims `len` bytes and sends only its first 100.
async fn half_sent(
    client: &mut SendRequest<Bytes>,
    addr: SocketAddr,
    len: u32,
) -> (h2::client::ResponseFuture, h2::SendStream<Bytes>) {
    let req = http::Request::post(format!("http://{addr}/zkworker.v1.Worker/SubmitJob"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .unwrap();
    let mut client = client.clone().ready().await.unwrap();
    let (response, mut body) = client.send_request(req, false).unwrap();
    let mut head = vec![0u8];
    head.extend_from_slice(&len.to_be_bytes());
    head.extend_from_slice(&[0u8; 100]);
    body.send_data(Bytes::from(head), false).unwrap();
    (response, body)
}

/// The grpc-status of a trailers-only response, if the worker answered within a second.
async fn answered(response: &mut h2::client::ResponseFuture) -> Option<String> {
    let r = tokio::time::timeout(Duration::from_secs(1), response)
        .await
        .ok()?;
    let r = r.unwrap();
    Some(
        r.headers()
            .get("grpc-status")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_beyond_the_receiving_budget_are_shed_before_they_are_read() {
    let budget = 100 << 10;
    let (w, _dir) = worker(budget, Duration::from_secs(300)).await;
    let addr = w.addr;
    let (mut raw, _conn) = h2(addr).await;
    let len = 60 << 10;
    assert!(
        len <= admission::HEADROOM as u32,
        "under the cap: only the budget refuses it"
    );
    // The first holds 60 KiB of the 100 while it is being received.
    let (mut first, first_body) = half_sent(&mut raw, addr, len).await;
    assert_eq!(
        answered(&mut first).await,
        None,
        "admitted, still being received"
    );
    // The second does not fit: shed at once with RESOURCE_EXHAUSTED (8).
    let (mut second, second_body) = half_sent(&mut raw, addr, len).await;
    assert_eq!(answered(&mut second).await.as_deref(), Some("8"));
    // A small call fits beside it; a health probe is never shed.
    let url = format!("http://{addr}");
    let mut client = zkw_worker::client::connect(&url, None, None).await.unwrap();
    client.list_models(pb::ListModelsRequest {}).await.unwrap();
    let channel = tonic::transport::Endpoint::from_shared(url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    HealthClient::new(channel)
        .check(HealthCheckRequest::default())
        .await
        .unwrap();
    // The first request ends (its client gives up): its share comes back.
    drop(first_body);
    drop(first);
    let mut admitted = false;
    for _ in 0..50 {
        let (mut again, body) = half_sent(&mut raw, addr, len).await;
        if answered(&mut again).await.is_none() {
            admitted = true;
            drop(body);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(admitted, "the budget never came back");
    drop((raw, second, second_body, client));
    w.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_with_no_call_open_is_closed_after_the_idle_timeout() {
    let (w, _dir) = worker(64 << 20, Duration::from_secs(1)).await;
    // A client that speaks HTTP/2 (and would answer pings) but never calls: closed.
    let (_raw, conn) = h2(w.addr).await;
    let closed = tokio::time::timeout(Duration::from_secs(10), conn).await;
    assert!(closed.is_ok(), "an idle connection was kept open");
    // A health watch is a call open: its connection outlives the timeout.
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", w.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut watch = HealthClient::new(channel)
        .watch(HealthCheckRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(watch.message().await.unwrap().is_some(), "the first status");
    let next = tokio::time::timeout(Duration::from_secs(3), watch.message()).await;
    assert!(next.is_err(), "the watch ended while open: {next:?}");
    drop(watch);
    w.shutdown().await.unwrap();
}

/// The metrics endpoint is plain HTTP: with TLS and a token, the worker refuses to guard the
/// metrics with that token (it would cross the network in clear) and asks for their own.
#[tokio::test(flavor = "multi_thread")]
async fn with_tls_the_metrics_need_their_own_token() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = WorkerConfig::new(dir.path().join("data"), dir.path().join("models"));
    config.token = Some("api-secret".into());
    config.tls = Some(zkw_worker::TlsFiles {
        cert: dir.path().join("cert.pem"),
        key: dir.path().join("key.pem"),
    });
    config.metrics = Some("127.0.0.1:0".parse().unwrap());
    let e = zkw_worker::start(config).await.err().unwrap().to_string();
    assert!(e.contains("need their own --metrics-token"), "{e}");
}
