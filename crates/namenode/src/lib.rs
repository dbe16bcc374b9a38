//! hafs-namenode: the namespace, its durability (edit log + fsimage), the retry cache,
//! leases, HA state, and the ClientProtocol handlers.

pub mod blockmanagement;
pub mod checkpointer;
pub mod client_protocol;
pub mod config;
pub mod datanode_protocol;
pub mod edit_log;
pub mod fsck;
pub mod fsimage;
pub mod ha;
pub mod ha_service;
pub mod http;
pub mod leases;
pub mod memory_size;
pub mod metrics;
pub mod namenode_protocol;
pub mod namespace;
pub mod namesystem;
pub mod refresh_user_mappings;
pub mod retry_cache;
pub mod security;
pub mod server;
pub mod shared_edits_dir;
pub mod storage;
pub mod truncate;
pub mod write_path;

pub use config::NameNodeConfig;
pub use server::{NameNode, NameNodeError};
