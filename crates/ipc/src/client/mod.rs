//! The IPC client: one [`connection::Connection`] per TCP connection with many calls in
//! flight, an [`rpc_client::RpcClient`] per address that reconnects lazily, and the
//! [`failover::FailoverProxy`] over the NameNodes of one nameservice.

pub mod config;
pub mod connection;
pub mod failover;
pub mod rpc_client;
