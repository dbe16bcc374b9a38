//! ZKFCProtocol (`org.apache.hadoop.ha.ZKFCProtocol`): the client, the server side, and
//! where a controller listens (`dfs.ha.zkfc.port`).

use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use hafs_conf::keys::{DFS_HA_ZKFC_PORT, DFS_HA_ZKFC_PORT_DEFAULT};
use hafs_conf::{ConfError, Configuration};
use hafs_ipc::{
    CallContext, ClientConfig, IpcError, MethodInfo, MethodTable, ProtocolService, RpcClient,
    RpcError,
};
use hafs_proto::common::{
    CedeActiveRequestProto, CedeActiveResponseProto, GracefulFailoverRequestProto,
    GracefulFailoverResponseProto,
};

use super::FailoverRequestError;
use crate::SERVICE_FAILED_EXCEPTION;

pub const ZKFC_PROTOCOL: &str = "org.apache.hadoop.ha.ZKFCProtocol";

/// The ZKFCProtocol port of the controller beside NameNode `nn` of `ns`: Hadoop's
/// `dfs.ha.zkfc.port` (8019), which an hafs conf may refine per NameNode as
/// `dfs.ha.zkfc.port.<ns>.<nn>` (several controllers on one host, as in tests).
pub fn zkfc_port(conf: &Configuration, ns: &str, nn: &str) -> Result<u16, ConfError> {
    let keys = [
        format!("{DFS_HA_ZKFC_PORT}.{ns}.{nn}"),
        format!("{DFS_HA_ZKFC_PORT}.{ns}"),
        DFS_HA_ZKFC_PORT.to_string(),
    ];
    for key in &keys {
        if let Some(v) = conf.get_trimmed(key) {
            return v.parse::<u16>().map_err(|_| ConfError::BadValue {
                key: key.clone(),
                value: v.to_string(),
                expected: "a port (0 to 65535)".into(),
            });
        }
    }
    u16::try_from(DFS_HA_ZKFC_PORT_DEFAULT).map_err(|_| ConfError::BadValue {
        key: DFS_HA_ZKFC_PORT.into(),
        value: DFS_HA_ZKFC_PORT_DEFAULT.to_string(),
        expected: "a port (0 to 65535)".into(),
    })
}

/// A client of one controller's ZKFCProtocol.
pub struct ZkfcClient {
    rpc: RpcClient,
}

impl ZkfcClient {
    pub fn new(addr: impl Into<String>, cfg: ClientConfig) -> Self {
        ZkfcClient {
            rpc: RpcClient::new(addr.into(), ZKFC_PROTOCOL, cfg),
        }
    }

    pub fn addr(&self) -> &str {
        self.rpc.addr()
    }

    /// Asks the controller to make its NameNode Standby and stay out of the election
    /// for `millis`.
    pub async fn cede_active(&self, millis: u32) -> Result<(), IpcError> {
        let _: CedeActiveResponseProto = self
            .rpc
            .call(
                "cedeActive",
                &CedeActiveRequestProto {
                    millis_to_cede: millis,
                },
            )
            .await?;
        Ok(())
    }

    /// Asks the controller to make its NameNode Active, coordinating with the others.
    pub async fn graceful_failover(&self) -> Result<(), IpcError> {
        let _: GracefulFailoverResponseProto = self
            .rpc
            .call("gracefulFailover", &GracefulFailoverRequestProto {})
            .await?;
        Ok(())
    }
}

/// What the server side asks of the controller.
#[async_trait]
pub trait ZkfcOps: Send + Sync + 'static {
    async fn cede_active(&self, millis: u32) -> Result<(), FailoverRequestError>;
    async fn graceful_failover(&self) -> Result<(), FailoverRequestError>;
}

/// Who may ask a controller to cede or fail over (Hadoop's
/// `DFSZKFailoverController.checkRpcAdminAccess`): the user the controller runs as, and
/// those `dfs.cluster.administrators` admits (`*` for everyone).
#[derive(Clone)]
pub struct ZkfcAdmins {
    /// The controller's own short user name (its NameNode principal's, with Kerberos).
    pub login_user: String,
    /// `dfs.cluster.administrators`, Hadoop's ACL syntax: `users groups` (two
    /// comma-separated lists, a blank between), or `*`.
    pub administrators: String,
    /// The groups of a user, for the group part of the ACL.
    pub groups_of: hafs_security::groups::GroupsOf,
}

impl std::fmt::Debug for ZkfcAdmins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZkfcAdmins")
            .field("login_user", &self.login_user)
            .field("administrators", &self.administrators)
            .finish()
    }
}

impl ZkfcAdmins {
    fn allows(&self, user: &str) -> bool {
        if user.is_empty() {
            return false;
        }
        user == self.login_user
            || hafs_security::acl::AccessControlList::parse(&self.administrators)
                .allows(user, self.groups_of.as_ref())
    }
}

/// The ZKFCProtocol service, for an hafs-ipc server.
pub struct ZkfcProtocolService {
    ops: Arc<dyn ZkfcOps>,
    admins: Option<ZkfcAdmins>,
}

impl ZkfcProtocolService {
    /// A service that lets any caller cede or fail over (in-process tests).
    pub fn new(ops: Arc<dyn ZkfcOps>) -> Self {
        ZkfcProtocolService { ops, admins: None }
    }

    /// A service that admits only `admins`, as a controller daemon runs.
    pub fn with_admins(ops: Arc<dyn ZkfcOps>, admins: ZkfcAdmins) -> Self {
        ZkfcProtocolService {
            ops,
            admins: Some(admins),
        }
    }

    fn table() -> MethodTable<Self> {
        MethodTable::new(ZKFC_PROTOCOL)
            .method("cedeActive", Self::cede_active)
            .method("gracefulFailover", Self::graceful_failover)
    }

    async fn cede_active(
        &self,
        ctx: &CallContext,
        req: CedeActiveRequestProto,
    ) -> Result<CedeActiveResponseProto, RpcError> {
        tracing::info!(
            "zkfc: cedeActive({} ms) requested by {}@{}",
            req.millis_to_cede,
            ctx.user,
            ctx.peer
        );
        self.ops
            .cede_active(req.millis_to_cede)
            .await
            .map_err(service_failed)?;
        Ok(CedeActiveResponseProto {})
    }

    async fn graceful_failover(
        &self,
        ctx: &CallContext,
        _req: GracefulFailoverRequestProto,
    ) -> Result<GracefulFailoverResponseProto, RpcError> {
        tracing::info!(
            "zkfc: gracefulFailover requested by {}@{}",
            ctx.user,
            ctx.peer
        );
        self.ops.graceful_failover().await.map_err(service_failed)?;
        Ok(GracefulFailoverResponseProto {})
    }
}

fn service_failed(e: FailoverRequestError) -> RpcError {
    RpcError::new(SERVICE_FAILED_EXCEPTION, e.to_string())
}

impl ProtocolService for ZkfcProtocolService {
    fn methods() -> &'static MethodTable<Self> {
        static METHODS: LazyLock<MethodTable<ZkfcProtocolService>> =
            LazyLock::new(ZkfcProtocolService::table);
        &METHODS
    }

    fn admit(&self, ctx: &CallContext, _method: &MethodInfo) -> Result<(), RpcError> {
        let Some(admins) = &self.admins else {
            return Ok(());
        };
        if admins.allows(&ctx.user) {
            tracing::info!("zkfc: allowed RPC access from {} at {}", ctx.user, ctx.peer);
            return Ok(());
        }
        let who = ctx.principal.as_deref().unwrap_or(&ctx.user);
        let msg = format!(
            "Disallowed RPC access from {who} at {}. Not listed in {}",
            ctx.peer.ip(),
            hafs_conf::keys::DFS_CLUSTER_ADMINISTRATORS
        );
        tracing::warn!("zkfc: {msg}");
        Err(RpcError::access_control(msg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_login_user_and_administrators_may_cede() {
        let groups_of: hafs_security::groups::GroupsOf = Arc::new(|user: &str| match user {
            "dave" => vec!["dave".into(), "admins".into()],
            "erin" => vec!["erin".into(), "ops-readonly".into()],
            _ => Vec::new(),
        });
        let acl = |administrators: &str| ZkfcAdmins {
            login_user: "hdfs".into(),
            administrators: administrators.into(),
            groups_of: groups_of.clone(),
        };
        let admins = acl("ops,carol admins,sre");
        assert!(admins.allows("hdfs"));
        assert!(admins.allows("carol"));
        assert!(admins.allows("ops"));
        // dave is in the admins group; erin is in none of the listed groups.
        assert!(admins.allows("dave"));
        assert!(!admins.allows("erin"));
        assert!(!admins.allows("alice"));
        // A group's name is not a user's.
        assert!(!admins.allows("admins"));
        // Groups only (Hadoop's leading blank).
        let by_group = acl(" admins");
        assert!(by_group.allows("dave"));
        assert!(!by_group.allows("carol"));
        assert!(acl(" * ").allows("alice"));
        let nobody = acl(" ");
        assert!(!nobody.allows(""));
        assert!(!nobody.allows("dave"));
    }

    #[test]
    fn zkfc_port_per_namenode_then_nameservice_then_plain() {
        let mut c = Configuration::new();
        assert_eq!(zkfc_port(&c, "ns1", "nn1").unwrap(), 8019);
        c.set("dfs.ha.zkfc.port", "9019");
        assert_eq!(zkfc_port(&c, "ns1", "nn1").unwrap(), 9019);
        c.set("dfs.ha.zkfc.port.ns1.nn1", "9020");
        assert_eq!(zkfc_port(&c, "ns1", "nn1").unwrap(), 9020);
        assert_eq!(zkfc_port(&c, "ns1", "nn2").unwrap(), 9019);
        c.set("dfs.ha.zkfc.port.ns1.nn2", "x");
        assert!(zkfc_port(&c, "ns1", "nn2").is_err());
    }
}
