//! The local hafs cluster kit: what `hafs sandbox`, `hafs bench` and the process tests
//! in crates/tests share to run hafs daemons as child processes on this machine.
//! Argument parsing and printing stay in the binary; this crate owns the processes.
//!
//! - [`ports`]: loopback ports for daemons, picked so that two daemons (or a daemon and
//!   an outgoing connection) are not given the same one.
//! - [`ha_cluster`]: an HA cluster (JournalNodes, the NameNodes of one nameservice with
//!   their failover controllers, DataNodes, optionally ZooKeeper) brought up in Hadoop's
//!   bootstrap order, each daemon restartable with its conf, ports and storage.
//! - [`non_ha`]: a NameNode and DataNodes without HA (what `hafs bench dfsio` measures).
//! - [`topology`]: several DataNode hosts on one machine (own 127.0.0.x each) and the
//!   topology script that puts them on racks.
//! - [`supervisor`]: the pure restart policy the sandbox applies to those daemons.
//! - [`zookeeper`]: a standalone ZooKeeper server's configuration and command line.
//! - [`kdc`]: a throwaway MIT Kerberos KDC (realm HAFS.TEST) with service keytabs and
//!   user ticket caches, for a secure cluster and the Kerberos tests.
//! - [`site`]: the site XML of a cluster: nameservices (one or several, with their
//!   ViewFs mount table), shared edits, each daemon's own entries.
//! - [`bring_up`]: the order a cluster comes up in (JournalNodes, format and
//!   bootstrap, NameNodes, controllers or a manual transition, DataNodes), walked by
//!   [`HaCluster`] and by the process tests' MiniCluster and Federation.
//! - [`files`]: site XML, generated configs, name dir seeding and daemon logs.

pub mod bring_up;
pub mod error;
pub mod files;
pub mod ha_cluster;
pub mod kdc;
pub mod non_ha;
pub mod ports;
pub mod site;
pub mod supervisor;
pub mod topology;
pub mod zookeeper;

pub use error::{ClusterError, Result};
pub use ha_cluster::{AutoTimeouts, Control, Election, HaCluster, Layout};
pub use kdc::Kdc;
pub use non_ha::NonHaCluster;
pub use ports::{free_port, pick_port, try_free_port, wait_for_port};
