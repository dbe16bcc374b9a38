//! The automatic failover controller (Hadoop's ZKFailoverController): a health monitor
//! of the local NameNode, an election (ZooKeeper or the JournalNodes), and the logic that
//! fences the previous Active and makes the local NameNode Active when it wins.

pub mod elector;

pub use elector::{ActiveNodeInfo, Elector, ElectorError, ElectorEvent, ElectorEvents};
pub mod journal_elector;
pub mod zk_conf;
pub mod zk_elector;

pub use journal_elector::{JournalElector, JournalElectorConfig};
pub use zk_conf::ZkConf;
pub use zk_elector::ZkElector;
pub mod controller;
mod error;
pub mod health;
pub mod protocol;
pub mod runner;

pub use error::{FailoverRequestError, GuardError, ZkfcError};
pub use runner::{Zkfc, ZkfcSettings, ZkfcStatus};
