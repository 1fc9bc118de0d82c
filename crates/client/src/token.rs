//! The bearer token a client sends: `authorization: Bearer <token>` on every call, for a
//! worker started with `--token`.

use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::{Request, Status};

/// Client side: adds the token to every call.
#[derive(Clone, Default)]
pub struct BearerToken {
    value: Option<MetadataValue<Ascii>>,
}

impl BearerToken {
    /// Sends `Bearer <token>` (nothing with `None`); a token that is not visible ASCII is an
    /// error.
    pub fn new(token: Option<&str>) -> Result<Self, String> {
        let value = token
            .map(|t| {
                format!("Bearer {t}")
                    .parse::<MetadataValue<Ascii>>()
                    .map_err(|_| "the token must be visible ASCII".to_string())
            })
            .transpose()?;
        Ok(BearerToken { value })
    }
}

impl Interceptor for BearerToken {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        if let Some(v) = &self.value {
            req.metadata_mut().insert("authorization", v.clone());
        }
        Ok(req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_sent_and_must_be_visible_ascii() {
        let mut send = BearerToken::new(Some("s3cret")).unwrap();
        let req = send.call(Request::new(())).unwrap();
        assert_eq!(
            req.metadata().get("authorization").unwrap(),
            "Bearer s3cret"
        );
        let mut none = BearerToken::new(None).unwrap();
        assert!(none.call(Request::new(())).unwrap().metadata().is_empty());
        assert!(BearerToken::new(Some("a\nb")).is_err());
    }
}
