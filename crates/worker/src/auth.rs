//! Bearer-token authentication: with `--token`, every call to the Worker service must carry
//! `authorization: Bearer <token>`, or it is answered UNAUTHENTICATED. The health service is
//! left open so that load balancers and orchestrators can probe the worker.

use std::sync::Arc;

use tonic::service::Interceptor;
use tonic::{Request, Status};

/// Server side: checks the token (in constant time).
#[derive(Clone)]
pub struct RequireToken {
    expected: Option<Arc<[u8]>>,
}

impl RequireToken {
    /// Requires `Bearer <token>`; `None` lets every call through.
    pub fn new(token: Option<&str>) -> Self {
        RequireToken {
            expected: token.map(|t| format!("Bearer {t}").into_bytes().into()),
        }
    }
}

/// Whether `a == b`, in time that depends on their lengths only.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Interceptor for RequireToken {
    fn call(&mut self, req: Request<()>) -> Result<Request<()>, Status> {
        let Some(expected) = &self.expected else {
            return Ok(req);
        };
        match req.metadata().get("authorization") {
            Some(v) if constant_time_eq(v.as_bytes(), expected) => Ok(req),
            Some(_) => Err(Status::unauthenticated("wrong bearer token")),
            None => Err(Status::unauthenticated(
                "this worker requires a bearer token (authorization: Bearer <token>)",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zkw_client::BearerToken;

    #[test]
    fn only_the_right_token_passes() {
        let mut check = RequireToken::new(Some("s3cret"));
        let mut send = BearerToken::new(Some("s3cret")).unwrap();
        assert!(check.call(send.call(Request::new(())).unwrap()).is_ok());
        let mut wrong = BearerToken::new(Some("s3cre7")).unwrap();
        let e = check
            .call(wrong.call(Request::new(())).unwrap())
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::Unauthenticated);
        assert_eq!(e.message(), "wrong bearer token");
        let e = check.call(Request::new(())).unwrap_err();
        assert!(e.message().contains("requires a bearer token"));
        assert!(RequireToken::new(None).call(Request::new(())).is_ok());
        assert!(BearerToken::new(Some("a\nb")).is_err());
        assert!(!constant_time_eq(b"ab", b"abc"));
    }
}
