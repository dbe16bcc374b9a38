//! Hadoop IPC (RPC version 9), spoken wire-compatibly with Hadoop 3's Java client and
//! server and with `hdfs-native`.
//!
//! # Connection layout
//!
//! A client opens a TCP connection and writes a 7-byte connection header:
//!
//! ```text
//! "hrpc"  version (9)  service class (0)  auth protocol (0 = none/simple, 0xDF = -33 = SASL)
//! ```
//!
//! After it (and, with SASL, after the SASL exchange) both sides exchange frames:
//!
//! ```text
//! request frame:   u32 big-endian length of everything that follows
//!                  varint-delimited RpcRequestHeaderProto      (call id, client id, retry count)
//!                  varint-delimited RequestHeaderProto         (method, protocol; protobuf calls only)
//!                  varint-delimited request message
//!
//! response frame:  u32 big-endian length of everything that follows
//!                  varint-delimited RpcResponseHeaderProto     (call id, status, error class/message)
//!                  varint-delimited response message           (only when status is SUCCESS)
//! ```
//!
//! Negative call ids are out-of-band messages: -3 carries the `IpcConnectionContextProto`
//! (the user and protocol, sent once right after the connection header or SASL), -4 is
//! a ping the server ignores, -33 carries an `RpcSaslProto`. Responses may come back in
//! any order; the client matches them to calls by call id. A response with status ERROR
//! fails one call; status FATAL is followed by the server closing the connection.
//!
//! Errors travel as Java exception class names ([`exceptions`]) so that Java clients
//! rethrow the right exception type and fail over on `StandbyException`.
//!
//! # Pieces
//!
//! - [`frame`]: the frame codec (pure functions plus a bounded async frame reader).
//! - [`Server`] dispatches calls by protocol name to [`RpcService`]s.
//! - [`MethodTable`] / [`ProtocolService`]: a protocol as a table of typed methods,
//!   each row carrying its HA category and whether it is at-most-once.
//! - [`Connection`] / [`RpcClient`] / [`FailoverProxy`]: the client side.
//! - [`auth`]: who the caller is; SIMPLE today, the seam where Kerberos/token SASL goes.

pub mod auth;
mod client;
mod error;
pub mod exceptions;
pub mod frame;
mod methods;
mod server;
mod service;
mod writer;

pub use client::config::ClientConfig;
pub use client::connection::{next_call_id, Connection};
pub use client::failover::{FailoverConfig, FailoverProxy};
pub use client::rpc_client::RpcClient;
pub use error::{IpcError, RpcError, RpcErrorCode};
pub use methods::{
    BoxFuture, Handler, MethodInfo, MethodTable, OperationCategory, ProtocolService, Refusal,
    RequestMessage, ResponseMessage, RetryGuard, RetryLookup,
};
pub use server::{RpcMetrics, RpcSnapshot, Server, ServerConfig};
pub use service::{decode_request, encode_response, AlignmentContext, CallContext, RpcService};

/// The RPC version this crate speaks (the byte after "hrpc").
pub const RPC_VERSION: u8 = 9;
/// Call id of the connection context message.
pub const CONNECTION_CONTEXT_CALL_ID: i32 = -3;
/// Call id of a client ping.
pub const PING_CALL_ID: i32 = -4;
/// Call id of SASL messages.
pub const SASL_CALL_ID: i32 = -33;
/// Call id the server uses for fatal responses not tied to a call (bad header, version
/// mismatch, failed authorization).
pub const INVALID_CALL_ID: i32 = -1;
/// Retry count of a message that is not a retryable call.
pub const INVALID_RETRY_COUNT: i32 = -1;
/// `ipc.maximum.data.length` default: 128 MiB.
pub const DEFAULT_MAX_DATA_LENGTH: usize = 128 * 1024 * 1024;
