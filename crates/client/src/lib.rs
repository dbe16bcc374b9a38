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
mod datanode_conn;
mod error;
pub mod file_checksum;
pub mod identity;
mod lease;
pub mod paths;
pub mod read;
mod settings;
mod transport;
pub mod write;

pub use client::{
    empty_token, CreateOptions, DfsClient, CLIENT_PROTOCOL, CLIENT_PROTOCOL_VERSION,
    QUOTA_DONT_SET, QUOTA_RESET,
};
pub use connect::protocol_proxy;
pub use datanode_conn::{response_error, DnConn};
pub use error::{ClientError, BLOCK_MISSING_EXCEPTION, CHECKSUM_EXCEPTION, IO_EXCEPTION};
pub use read::DfsInputStream;
pub use settings::{
    namenode_addresses, ClientSettings, DataSettings, ReplaceDatanodePolicy, TransferProtection,
    DEFAULT_NAMENODE_PORT,
};
pub use transport::NamenodeTransport;
pub use write::DfsOutputStream;

/// The generated protocol types the client's methods take and return.
pub use hafs_proto::hdfs as proto;

#[cfg(test)]
mod client_tests;
