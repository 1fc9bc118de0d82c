//! A client of a worker daemon, for the CLI and for programs: connects (TLS for `https://`
//! addresses, with an optional CA certificate for self-signed workers) and adds the bearer
//! token to every call.

use std::path::Path;

use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

use tokio_stream::StreamExt;

use crate::MAX_MESSAGE_BYTES;
use crate::proto as pb;
use crate::proto::worker_client::WorkerClient;
use crate::token::BearerToken;

/// A connected client.
pub type Client = WorkerClient<InterceptedService<Channel, BearerToken>>;

/// Why a connection failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The address is not a URL tonic can use.
    #[error("bad worker address `{url}`: {reason}")]
    Address {
        /// The address.
        url: String,
        /// Why.
        reason: String,
    },
    /// The token cannot be sent.
    #[error("{0}")]
    Token(String),
    /// The CA certificate could not be read.
    #[error("{path}: {error}")]
    Ca {
        /// The file.
        path: String,
        /// What went wrong.
        error: std::io::Error,
    },
    /// The worker could not be reached.
    #[error("cannot reach the worker at {url}: {reason}")]
    Unreachable {
        /// The address.
        url: String,
        /// Why.
        reason: String,
    },
}

/// Connects to the worker at `url` (`http://host:port`, or `https://…` for TLS).
pub async fn connect(
    url: &str,
    token: Option<&str>,
    ca: Option<&Path>,
) -> Result<Client, ConnectError> {
    let address = |reason: String| ConnectError::Address {
        url: url.to_string(),
        reason,
    };
    let mut endpoint =
        Endpoint::from_shared(url.to_string()).map_err(|e| address(e.to_string()))?;
    if url.starts_with("https://") {
        let mut tls = ClientTlsConfig::new().with_native_roots();
        if let Some(ca) = ca {
            let pem = std::fs::read(ca).map_err(|error| ConnectError::Ca {
                path: ca.display().to_string(),
                error,
            })?;
            tls = tls.ca_certificate(Certificate::from_pem(pem));
        }
        endpoint = endpoint
            .tls_config(tls)
            .map_err(|e| address(e.to_string()))?;
    }
    let channel = endpoint
        .connect()
        .await
        .map_err(|e| ConnectError::Unreachable {
            url: url.to_string(),
            reason: source_chain(&e),
        })?;
    let token = BearerToken::new(token).map_err(ConnectError::Token)?;
    Ok(WorkerClient::with_interceptor(channel, token)
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES))
}

/// Follows a job until it ends, telling `on_event` each state it enters (its current one
/// first); returns the job as it ended.
pub async fn wait(
    client: &mut Client,
    job_id: &str,
    mut on_event: impl FnMut(&pb::JobEvent),
) -> Result<pb::Job, tonic::Status> {
    let mut events = client
        .watch_job(pb::WatchJobRequest {
            job_id: job_id.into(),
        })
        .await?
        .into_inner();
    while let Some(ev) = events.next().await {
        let ev = ev?;
        on_event(&ev);
        if ev.state >= pb::JobState::Succeeded as i32 {
            break;
        }
    }
    Ok(client
        .get_job(pb::GetJobRequest {
            job_id: job_id.into(),
        })
        .await?
        .into_inner())
}

/// A transport error with its causes (tonic's own message is only "transport error").
fn source_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = s.source();
    }
    parts.join(": ")
}
