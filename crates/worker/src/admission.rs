//! Admission: the memory a request may take is decided before it is read.
//!
//! gRPC frames each message with its length (`flag ‖ u32 length ‖ bytes`). This layer sits in
//! front of every service, reads just those five bytes of a request, and then:
//! - refuses a message longer than the largest one the served models can need (OUT_OF_RANGE)
//!   — the cap follows the models' input sizes (a SubmitJob carries 8 bytes per input value,
//!   plus ids, a salt and a signed request), not a flat 32 MiB, and grows when SIGHUP loads a
//!   larger model;
//! - charges the message's length to one budget shared by every connection while the message
//!   is being received (it must arrive within [`RECEIVE_WAIT`]), and sheds the request with
//!   RESOURCE_EXHAUSTED when the budget is spent — so requests being received hold at most the
//!   budget (`--max-receiving`), with or without a token, however many connections send them;
//! - meters every later message of the body the same way: a call carries one message (only
//!   reflection streams requests), and a health probe, never shed, at most 1 KiB.
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
use zkw_client::MAX_MESSAGE_BYTES;

/// Room in a SubmitJob beside the input values: model id, nonce, salt, idempotency key and a
/// client's signed request are each bounded far below it.
pub const HEADROOM: usize = 64 << 10;

/// The most bytes a request may be charged: small ones count as this much, so that a flood of
/// tiny requests is bounded too.
const MIN_CHARGE: usize = 1 << 10;

/// The health service's calls: never shed, and capped at [`HEALTH_CAP`].
const HEALTH_PATH: &str = "/grpc.health.v1.Health/";

/// The largest health request (a service name).
const HEALTH_CAP: usize = 1 << 10;

/// The reflection services', the one kind whose calls stream requests.
const REFLECTION_PATH: &str = "/grpc.reflection.";

/// How long a message may take to arrive once its header has.
pub const RECEIVE_WAIT: Duration = Duration::from_secs(60);

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
            let path = parts.uri.path();
            // A health probe is never shed (an overloaded worker is busy, not dead), and is
            // tiny; reflection is the one service whose calls stream requests.
            let probe = path.starts_with(HEALTH_PATH);
            let mut metered = Metered {
                prefix: VecDeque::new(),
                rest: body,
                cap: if probe {
                    HEALTH_CAP
                } else {
                    admission.cap.load(Ordering::Relaxed)
                },
                charged: !probe,
                streaming: path.starts_with(REFLECTION_PATH),
                admission: admission.clone(),
                header: [0; 5],
                have: 0,
                left: 0,
                messages: 0,
                permit: None,
                deadline: None,
            };
            // The first message's header is judged now: a refusal is an answer, at once.
            for frame in head.frames {
                if let Err(status) = metered.meter(&frame) {
                    return Ok(status.into_http());
                }
                metered.prefix.push_back(frame);
            }
            let body = Body::new(metered);
            let response = inner.call(http::Request::from_parts(parts, body)).await;
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

/// A request body, metered as it passes: each message's 5-byte header is checked — its length
/// against the cap, its bytes charged to the budget while the message is being received —, a
/// call other than a streaming one carries one message, and a message must arrive within
/// [`RECEIVE_WAIT`] of its header. The first frames (already read) come first.
struct Metered {
    prefix: VecDeque<Bytes>,
    rest: Body,
    admission: Arc<Admission>,
    /// The largest message of this call.
    cap: usize,
    /// Whether its messages are charged to the budget (not a health probe's).
    charged: bool,
    /// Whether the call may carry more than one message.
    streaming: bool,
    /// The header of the next message, as far as it arrived.
    header: [u8; 5],
    have: usize,
    /// Bytes of the current message still to come.
    left: usize,
    messages: usize,
    /// The budget the current message holds while it is received.
    permit: Option<tokio::sync::OwnedSemaphorePermit>,
    /// When the current message must have arrived.
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Metered {
    /// Accounts for `data`, the body's next bytes: an error refuses the call.
    fn meter(&mut self, mut data: &[u8]) -> Result<(), Status> {
        while !data.is_empty() {
            if self.left > 0 {
                let n = self.left.min(data.len());
                self.left -= n;
                data = &data[n..];
                if self.left == 0 {
                    self.received();
                }
                continue;
            }
            let n = (5 - self.have).min(data.len());
            self.header[self.have..self.have + n].copy_from_slice(&data[..n]);
            self.have += n;
            data = &data[n..];
            if self.have == 5 {
                self.have = 0;
                let len = u32::from_be_bytes(self.header[1..5].try_into().expect("4 bytes"));
                self.start(len as usize)?;
            }
        }
        Ok(())
    }

    /// A message of `len` bytes starts.
    fn start(&mut self, len: usize) -> Result<(), Status> {
        self.messages += 1;
        if self.messages > 1 && !self.streaming {
            metrics::request_shed("more_messages");
            return Err(Status::invalid_argument(
                "this call carries one message, and the request holds more",
            ));
        }
        if len > self.cap {
            metrics::request_shed("too_large");
            return Err(Status::out_of_range(format!(
                "message length too large: found {len} bytes, the limit is {} bytes (the \
                 largest input of the models served here)",
                self.cap
            )));
        }
        if self.charged {
            let charge = self.admission.charge(len);
            match self.admission.budget.clone().try_acquire_many_owned(charge) {
                Ok(p) => self.permit = Some(p),
                Err(_) => {
                    metrics::request_shed("busy");
                    return Err(Status::resource_exhausted(format!(
                        "the worker is receiving as much as it may ({} bytes of requests in \
                         flight): retry later",
                        self.admission.budget_bytes
                    )));
                }
            }
        }
        self.left = len;
        if len == 0 {
            self.received();
        } else {
            self.deadline = Some(Box::pin(tokio::time::sleep(RECEIVE_WAIT)));
        }
        Ok(())
    }

    /// The current message has arrived whole: its charge and deadline end.
    fn received(&mut self) {
        self.permit = None;
        self.deadline = None;
    }
}

impl http_body::Body for Metered {
    type Data = Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        // Metered when they were read (`call`).
        if let Some(data) = self.prefix.pop_front() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        match Pin::new(&mut self.rest).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref()
                    && let Err(status) = self.meter(data)
                {
                    return Poll::Ready(Some(Err(status)));
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => {
                if let Some(deadline) = self.deadline.as_mut()
                    && deadline.as_mut().poll(cx).is_ready()
                {
                    self.received();
                    metrics::request_shed("slow");
                    return Poll::Ready(Some(Err(Status::deadline_exceeded(format!(
                        "a message was not received within {RECEIVE_WAIT:?} of its header"
                    )))));
                }
                Poll::Pending
            }
            other => other,
        }
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

    fn metered(admission: &Arc<Admission>, cap: usize, streaming: bool) -> Metered {
        Metered {
            prefix: VecDeque::new(),
            rest: Body::empty(),
            admission: admission.clone(),
            cap,
            charged: true,
            streaming,
            header: [0; 5],
            have: 0,
            left: 0,
            messages: 0,
            permit: None,
            deadline: None,
        }
    }

    fn header(len: u32) -> Vec<u8> {
        let mut h = vec![0];
        h.extend_from_slice(&len.to_be_bytes());
        h
    }

    /// A message is charged from its header (split across frames or not) until its last
    /// byte; a unary call carrying a second message is refused, however small the first —
    /// the first header alone once let a 32 MiB second message through.
    #[tokio::test]
    async fn each_message_is_metered_and_a_unary_call_carries_one() {
        let a = Admission::new(Arc::new(AtomicUsize::new(0)), 10_000);
        let mut m = metered(&a, 8_000, false);
        let h = header(5_000);
        m.meter(&h[..2]).unwrap();
        m.meter(&h[2..]).unwrap();
        assert_eq!(
            a.budget.available_permits(),
            5_000,
            "charged from the header"
        );
        // Another call that does not fit is shed.
        let mut other = metered(&a, 8_000, false);
        let e = other.meter(&header(6_000)).unwrap_err();
        assert_eq!(e.code(), tonic::Code::ResourceExhausted);
        m.meter(&vec![7; 4_999]).unwrap();
        assert_eq!(a.budget.available_permits(), 5_000);
        m.meter(&[7]).unwrap();
        assert_eq!(
            a.budget.available_permits(),
            10_000,
            "released once received"
        );
        let e = m.meter(&header(10)).unwrap_err();
        assert_eq!(e.code(), tonic::Code::InvalidArgument, "{e}");
        // Streaming: a second message is fine, each within the cap.
        let mut s = metered(&a, 8_000, true);
        s.meter(&header(1)).unwrap();
        s.meter(&[1]).unwrap();
        s.meter(&header(2)).unwrap();
        s.meter(&[1, 2]).unwrap();
        let e = s.meter(&header(9_000)).unwrap_err();
        assert_eq!(e.code(), tonic::Code::OutOfRange, "{e}");
        assert!(
            e.message().contains("found 9000 bytes, the limit is 8000"),
            "{e}"
        );
        assert_eq!(a.budget.available_permits(), 10_000);
    }

    /// A message whose bytes stop coming is refused after the deadline, and its charge
    /// returns: a client that declares a large message and sends nothing cannot hold the
    /// budget.
    #[tokio::test(start_paused = true)]
    async fn a_message_that_stops_arriving_is_refused_and_its_charge_returned() {
        use http_body_util::BodyExt;
        let a = Admission::new(Arc::new(AtomicUsize::new(0)), 10_000);
        let (_tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, Status>>(1);
        let mut m = metered(&a, 8_000, false);
        m.rest = Body::new(http_body_util::StreamBody::new(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        ));
        m.meter(&header(5_000)).unwrap();
        assert_eq!(a.budget.available_permits(), 5_000);
        let e = m.frame().await.unwrap().unwrap_err();
        assert_eq!(e.code(), tonic::Code::DeadlineExceeded, "{e}");
        assert_eq!(a.budget.available_permits(), 10_000);
    }

    #[test]
    fn a_charge_is_at_least_the_minimum_and_at_most_the_budget() {
        let a = Admission::new(Arc::new(AtomicUsize::new(0)), 1 << 20);
        assert_eq!(a.charge(0), MIN_CHARGE as u32);
        assert_eq!(a.charge(5000), 5000);
        assert_eq!(a.charge(10 << 20), 1 << 20);
    }
}
