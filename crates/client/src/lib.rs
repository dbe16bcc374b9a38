//! hafs-client: the Rust HDFS client library.
//!
//! [`DfsClient`] speaks ClientProtocol (`org.apache.hadoop.hdfs.protocol.ClientProtocol`,
//! version 1) to the NameNodes of one file system through `hafs_ipc::FailoverProxy`,
//! which moves to the next NameNode when one is down or Standby. Paths may be relative
//! (to `/user/<user>`), absolute, or `hdfs://authority/path` URIs.
//!
//! Files opened for writing are covered by a lease that a background task renews
//! every 30 s until the file is completed.

mod client;
mod connect;
mod error;
pub mod identity;
mod lease;
pub mod paths;
mod settings;
mod transport;

pub use client::{
    empty_token, CreateOptions, DfsClient, CLIENT_PROTOCOL, CLIENT_PROTOCOL_VERSION,
    QUOTA_DONT_SET, QUOTA_RESET,
};
pub use error::ClientError;
pub use settings::{namenode_addresses, ClientSettings, DEFAULT_NAMENODE_PORT};
pub use transport::NamenodeTransport;

/// The generated protocol types the client's methods take and return.
pub use hafs_proto::hdfs as proto;

#[cfg(test)]
mod client_tests;
