//! `zkw-client`: the worker's gRPC protocol (`zkworker.v1`, generated from
//! `proto/zkworker/v1/worker.proto`) and a client for it.
//!
//! A program that submits jobs, follows them and fetches receipts links this crate, not the
//! worker: the daemon's executor (wgpu), prover (arkworks) and store (redb) stay out of it.
//! The daemon (`zkw-worker`) implements the service generated here, and re-exports this
//! crate's modules under its old paths.
//!
//! - [`proto`]: the messages, the client and the service trait, and the descriptors for
//!   reflection;
//! - [`connect`](mod@connect): connecting (TLS for `https://`, a private CA), waiting for a
//!   job to end;
//! - [`token`]: the bearer token every call carries;
//! - [`codec`]: prost's codec, with INVALID_ARGUMENT for a request that does not decode.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod codec;
pub mod connect;
pub mod token;

/// The generated gRPC code of `zkworker.v1`.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod proto {
    tonic::include_proto!("zkworker.v1");

    /// The encoded descriptors of the service (for gRPC reflection).
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        tonic::include_file_descriptor_set!("zkworker_v1_descriptor");
}

/// The largest message either side ever encodes or decodes (32 MiB: inputs of up to about
/// 4 M values). A worker applies a smaller cap, from its models' inputs.
pub const MAX_MESSAGE_BYTES: usize = 32 << 20;

pub use connect::{Client, ConnectError, connect, wait};
pub use token::BearerToken;
