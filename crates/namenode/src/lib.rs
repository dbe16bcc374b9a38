//! hafs-namenode
pub mod namespace;
