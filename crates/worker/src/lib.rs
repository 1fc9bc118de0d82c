//! `zkw-worker`: the worker daemon. Clients submit inference jobs over gRPC; the worker stores
//! each job before it answers, runs the model, proves the trace, signs the receipt and keeps
//! it — and after a crash resumes every job it had accepted.
//!
//! The layers follow the path of a job:
//! - [`grpc`] is a thin translation of the wire ([`proto`], generated in `zkw-client` from
//!   `proto/zkworker/v1/worker.proto`) to [`worker::Worker`]'s operations, with
//!   [`admission`] (memory decided before a request is read) and [`auth`]'s bearer-token check
//!   in front and every status code decided in [`error`];
//! - [`worker`] validates and accepts jobs: [`store`] (redb) persists them, [`queue`] bounds
//!   what waits;
//! - [`pipeline`] runs them: the executor ([`backend`]) then the prover, overlapped, off the
//!   async runtime, with bounded retries and recovery after a restart;
//! - [`models`] holds the served models' keys, loaded once; [`identity`] the worker's ed25519
//!   key, which is its id and signs every receipt; [`metrics`] the Prometheus metrics;
//! - [`server`] starts and stops it all; [`listener`] accepts its connections.
//!
//! Clients connect with `zkw-client` (re-exported here as [`client`](mod@client)), which
//! links none of this crate's executor, prover or store.
//!
//! Nothing here proves or verifies by itself: `zkw-prover` and `zkw-verifier` do, and the
//! receipts are the same as `zkw prove` writes, plus the worker's signature.
//!
//! Also: [`config`] (what `zkw worker` is told), [`job`] (a job's record, states and ids),
//! [`fault`] (the fault injection the soak and crash tests drive).
#![deny(missing_docs)]

pub mod admission;
pub mod auth;
pub mod backend;
pub mod config;
pub mod error;
pub mod fault;
pub mod grpc;
pub mod identity;
pub mod job;
pub mod listener;
pub mod metrics;
pub mod models;
pub mod pipeline;
pub mod queue;
pub mod server;
pub mod store;
pub mod worker;

// The protocol and the client live in `zkw-client` (a client links neither wgpu, arkworks nor
// redb); re-exported here under their old paths.
pub use zkw_client::connect as client;
pub use zkw_client::{codec, proto};

pub use backend::Backend;
pub use config::{TlsFiles, WorkerConfig};
pub use error::WorkerError;
pub use server::{RunningWorker, start};
