//! hafs-ha: the administrator's side of NameNode high availability.
//!
//! - [`HaServiceClient`]: a client of `org.apache.hadoop.ha.HAServiceProtocol` (served on
//!   each NameNode's client RPC port): health checks, state changes, status.
//! - [`HaTarget`]: one NameNode of a nameservice, resolved from the configuration
//!   (`dfs.ha.namenodes.<ns>`, `dfs.namenode.rpc-address.<ns>.<nn>`).
//! - [`NodeFencer`]: the fencing methods of `dfs.ha.fencing.methods` — `shell(cmd)` and
//!   `sshfence([[user][:port]])` — tried in order until one succeeds.
//! - [`FailoverController`]: Hadoop's manual failover: check the target, ask the old
//!   Active to step down (graceful fencing), fence it when that fails or when forced,
//!   make the target Active, and fail back when that fails.
//!
//! The automatic failover controller (election, health monitor) is built on these later.

mod error;
mod failover;
pub mod fence;
mod service_client;
mod target;
pub mod zkfc;

pub use error::{FailoverError, FenceConfigError, TargetError};
pub use failover::{FailoverController, FailoverTimeouts};
pub use fence::{FenceMethod, NodeFencer};
pub use service_client::{
    HaServiceClient, HaServiceState, RequestSource, ServiceStatus, HA_SERVICE_PROTOCOL,
};
pub use target::{auto_failover_enabled, resolve_nameservice, HaTarget};

/// Exception class a NameNode answers a failed health check with.
pub const HEALTH_CHECK_FAILED_EXCEPTION: &str = "org.apache.hadoop.ha.HealthCheckFailedException";
/// Exception class of a refused or failed state transition.
pub const SERVICE_FAILED_EXCEPTION: &str = "org.apache.hadoop.ha.ServiceFailedException";
