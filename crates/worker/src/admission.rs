//! Admission: the memory a request may take is decided before it is read.
//!
//! gRPC frames each message with its length (`flag ‖ u32 length ‖ bytes`). This layer sits in
//! front of every service, reads just those five bytes of a request, and then:
//! - refuses a message longer than the largest one the served models can need (OUT_OF_RANGE)
//!   — the cap follows the models' input sizes (a SubmitJob carries 8 bytes per input value,
//!   plus ids, a salt and a signed request), not a flat 32 MiB, and grows when SIGHUP loads a
//!   larger model;
//! - charges the message's length to one budget shared by every connection, held until the
//!   request has been decoded and answered, and sheds the request with RESOURCE_EXHAUSTED when
//!   the budget is spent — so requests being received and decoded hold at most the budget
//!   (`--max-receiving`), with or without a token, however many connections send them.
//!
//! Before this, the only bound was 32 MiB per message: 32 concurrent 31 MiB submissions took
//! +798 MiB and the worker kept it. The wait for the first five bytes is bounded too
//! ([`HEADER_WAIT`]): a stream that opens and sends nothing is answered and closed.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body as _, Frame};
use tokio::sync::Semaphore;
use tonic::Status;
use tonic::body::Body;
use tower::{Layer, Service};

use tonic::transport::server::TlsConnectInfo;

use crate::listener::{Activity, CallGuard, ConnInfo};
use crate::metrics;
use crate::server::MAX_MESSAGE_BYTES;

/// Room in a SubmitJob beside the input values: model id, nonce, salt, idempotency key and a
/// client's signed request are each bounded far below it.
pub const HEADROOM: usize = 64 << 10;

/// The most bytes a request may be charged: small ones count as this much, so that a flood of
/// tiny requests is bounded too.
const MIN_CHARGE: usize = 1 << 10;

/// The health service's calls: never shed (still capped).
const HEALTH_PATH: &str = "/grpc.health.v1.Health/";

/// How long a request may take to send its first five bytes.
pub const HEADER_WAIT: Duration = Duration::from_secs(10);

/// The largest message the worker accepts when the largest input of its models has
/// `largest_input` values (a `repeated double`: 8 bytes each, packed).
pub fn message_cap(largest_input: usize) -> usize {
    largest_input
        .saturating_mul(8)
        .saturating_add(HEADROOM)
        .min(MAX_MESSAGE_BYTES)
}

/// The admission state shared by every connection.
pub struct Admission {
    /// The largest message accepted now.
    cap: Arc<AtomicUsize>,
    /// Bytes of requests being received and decoded, at most.
    budget: Arc<Semaphore>,
    budget_bytes: usize,
}

impl Admission {
    /// Admission with a budget of `budget_bytes` for requests in flight; `cap` is the largest
    /// message accepted, kept up to date by whoever loads models.
    pub fn new(cap: Arc<AtomicUsize>, budget_bytes: usize) -> Arc<Admission> {
        let budget_bytes = budget_bytes.clamp(MIN_CHARGE, u32::MAX as usize);
        Arc::new(Admission {
            cap,
            budget: Arc::new(Semaphore::new(budget_bytes)),
            budget_bytes,
        })
    }

    /// The layer to put in front of the services.
    pub fn layer(self: &Arc<Self>) -> AdmissionLayer {
        AdmissionLayer(self.clone())
    }

    /// What a message of `len` bytes is charged: the budget may be smaller than the cap, and
    /// a message that alone fills it is still admitted when nothing else is in flight.
    fn charge(&self, len: usize) -> u32 {
        len.clamp(MIN_CHARGE, self.budget_bytes) as u32
    }
}

/// The tower layer of [`Admission`].
#[derive(Clone)]
pub struct AdmissionLayer(Arc<Admission>);

impl<S> Layer<S> for AdmissionLayer {
    type Service = Admit<S>;

    fn layer(&self, inner: S) -> Admit<S> {
        Admit {
            inner,
            admission: self.0.clone(),
        }
    }
}

/// A service behind [`Admission`].
#[derive(Clone)]
pub struct Admit<S> {
    inner: S,
    admission: Arc<Admission>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S> Service<http::Request<Body>> for Admit<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Send,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        // The clone is ready only after its own poll_ready; the ready one is taken.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let admission = self.admission.clone();
        // The call is open on its connection until its response ends (`listener`'s idle rule).
        let call = connection_activity(&req).map(|a| a.begin());
        Box::pin(async move {
            let (parts, mut body) = req.into_parts();
            let head = match tokio::time::timeout(HEADER_WAIT, read_head(&mut body)).await {
                Ok(Ok(head)) => head,
                Ok(Err(status)) => return Ok(status.into_http()),
                Err(_) => {
                    metrics::request_shed("silent");
                    return Ok(Status::deadline_exceeded(format!(
                        "the request sent no message within {HEADER_WAIT:?}"
                    ))
                    .into_http());
                }
            };
            let mut permit = None;
            // A health probe is never shed: an overloaded worker is busy, not dead.
            let probe = parts.uri.path().starts_with(HEALTH_PATH);
            if let Some(len) = head.message_len() {
                let cap = admission.cap.load(Ordering::Relaxed);
                if len > cap {
                    metrics::request_shed("too_large");
                    return Ok(Status::out_of_range(format!(
                        "message length too large: found {len} bytes, the limit is {cap} bytes \
                         (the largest input of the models served here)"
                    ))
                    .into_http());
                }
                if !probe {
                    let charge = admission.charge(len);
                    match admission.budget.clone().try_acquire_many_owned(charge) {
                        Ok(p) => permit = Some(p),
                        Err(_) => {
                            metrics::request_shed("busy");
                            return Ok(Status::resource_exhausted(format!(
                                "the worker is receiving as much as it may ({} bytes of \
                                 requests in flight): retry later",
                                admission.budget_bytes
                            ))
                            .into_http());
                        }
                    }
                }
            }
            let body = Body::new(Prefixed {
                prefix: head.frames,
                rest: body,
            });
            let response = inner.call(http::Request::from_parts(parts, body)).await;
            drop(permit);
            Ok(response?.map(|body| Body::new(Guarded { body, _call: call })))
        })
    }
}

/// The activity of the connection a request came on (plain or TLS).
fn connection_activity(req: &http::Request<Body>) -> Option<Arc<Activity>> {
    let ext = req.extensions();
    ext.get::<ConnInfo>()
        .map(|c| c.activity.clone())
        .or_else(|| {
            ext.get::<TlsConnectInfo<ConnInfo>>()
                .map(|c| c.get_ref().activity.clone())
        })
}

/// A response body that holds its call open until it ends.
struct Guarded {
    body: Body,
    _call: Option<CallGuard>,
}

impl http_body::Body for Guarded {
    type Data = Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// The first frames of a request body, holding at least the message header when there is one.
struct Head {
    frames: VecDeque<Bytes>,
}

impl Head {
    /// The length field of the first message, when the body has five bytes.
    fn message_len(&self) -> Option<usize> {
        let mut header = [0u8; 5];
        let mut n = 0;
        for f in &self.frames {
            let take = (5 - n).min(f.len());
            header[n..n + take].copy_from_slice(&f[..take]);
            n += take;
            if n == 5 {
                let len = u32::from_be_bytes(header[1..5].try_into().expect("4 bytes"));
                return Some(len as usize);
            }
        }
        None
    }
}

/// Reads data frames until five bytes arrived or the body ended.
async fn read_head(body: &mut Body) -> Result<Head, Status> {
    let mut head = Head {
        frames: VecDeque::new(),
    };
    let mut have = 0;
    while have < 5 {
        let frame = std::future::poll_fn(|cx| Pin::new(&mut *body).poll_frame(cx)).await;
        match frame {
            None => break,
            Some(Err(e)) => return Err(e),
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => {
                    have += data.len();
                    head.frames.push_back(data);
                }
                // Trailers before any message: nothing more to read.
                Err(_) => break,
            },
        }
    }
    Ok(head)
}

/// A body whose first frames were already read: they come first, then the rest.
struct Prefixed {
    prefix: VecDeque<Bytes>,
    rest: Body,
}

impl http_body::Body for Prefixed {
    type Data = Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Some(data) = self.prefix.pop_front() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        Pin::new(&mut self.rest).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.prefix.is_empty() && self.rest.is_end_stream()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_follows_the_largest_input() {
        assert_eq!(message_cap(0), HEADROOM);
        assert_eq!(message_cap(784), 784 * 8 + HEADROOM);
        assert_eq!(message_cap(usize::MAX), MAX_MESSAGE_BYTES);
    }

    #[test]
    fn the_message_length_is_read_across_frames() {
        let head = Head {
            frames: [
                Bytes::from_static(&[0, 0]),
                Bytes::from_static(&[1]),
                Bytes::from_static(&[2, 3, 9, 9]),
            ]
            .into(),
        };
        assert_eq!(head.message_len(), Some(0x0001_0203));
        let short = Head {
            frames: [Bytes::from_static(&[0, 0, 0, 1])].into(),
        };
        assert_eq!(short.message_len(), None);
    }

    #[test]
    fn a_charge_is_at_least_the_minimum_and_at_most_the_budget() {
        let a = Admission::new(Arc::new(AtomicUsize::new(0)), 1 << 20);
        assert_eq!(a.charge(0), MIN_CHARGE as u32);
        assert_eq!(a.charge(5000), 5000);
        assert_eq!(a.charge(10 << 20), 1 << 20);
    }
}
