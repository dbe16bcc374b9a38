//! Prost types generated from hafs's own `.proto` files.
//!
//! The files under `proto/` are written for hafs; their field numbers and types are the
//! ones Hadoop's wire format dictates, so the messages interoperate with Hadoop's clients.
//! One Rust module per protobuf package.

#![allow(clippy::all, missing_docs)]

/// `hadoop.common`: IPC framing, SASL, HA service protocol.
pub mod common {
    include!(concat!(env!("OUT_DIR"), "/hadoop.common.rs"));
}

/// `hadoop.hdfs`: HDFS types and the ClientNamenodeProtocol messages.
pub mod hdfs {
    include!(concat!(env!("OUT_DIR"), "/hadoop.hdfs.rs"));

    /// `hadoop.hdfs.datanode`: DatanodeProtocol (DataNode → NameNode) messages.
    pub mod datanode {
        include!(concat!(env!("OUT_DIR"), "/hadoop.hdfs.datanode.rs"));
    }
}

/// `hafs`: hafs's own persistent formats (edit-log ops, fsimage).
pub mod hafs {
    include!(concat!(env!("OUT_DIR"), "/hafs.rs"));
}

/// `hadoop.hdfs.qjournal`: QJournalProtocol (NameNode ↔ JournalNode) messages.
pub mod qjournal {
    include!(concat!(env!("OUT_DIR"), "/hadoop.hdfs.qjournal.rs"));
}

pub mod block_list;

/// The Apache Hadoop release whose wire protocols these files follow. hafs daemons
/// report it as their software version (a NameNode's NamespaceInfo, a DataNode's
/// registration): Hadoop's daemons compare a peer's version with their minimum
/// supported one (an Apache NameNode refuses DataNodes older than 3.0.0-alpha1).
pub const HADOOP_VERSION: &str = "3.5.0";
