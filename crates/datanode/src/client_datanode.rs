//! ClientDatanodeProtocol (`org.apache.hadoop.hdfs.protocol.ClientDatanodeProtocol`) on
//! `dfs.datanode.ipc.address`:
//! - `getReplicaVisibleLength`, which Hadoop's client calls before reading the last
//!   block of a file still being written (`-tail -f`, reading while another client
//!   hflushes or appends);
//! - `getDatanodeInfo` (`dfsadmin -getDatanodeInfo`): version and uptime;
//! - `getBalancerBandwidth` (`dfsadmin -getBalancerBandwidth`): the balancer's current
//!   bandwidth limit;
//! - `refreshNamenodes` and `deleteBlockPool` (`dfsadmin`, federation): re-read the
//!   configuration files and start or stop block pool services; remove a pool no
//!   longer served from the disks. Both need a superuser (Hadoop's
//!   checkSuperuserPrivilege).
//!
//! Other methods answer RpcNoSuchMethodException.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, OnceLock};
use std::time::{Duration, Instant};

use hafs_ipc::{CallContext, MethodTable, ProtocolService, RpcError};
use hafs_proto::hdfs::{
    DatanodeLocalInfoProto, DeleteBlockPoolRequestProto, DeleteBlockPoolResponseProto,
    GetBalancerBandwidthRequestProto, GetBalancerBandwidthResponseProto,
    GetDatanodeInfoRequestProto, GetDatanodeInfoResponseProto, GetReplicaVisibleLengthRequestProto,
    GetReplicaVisibleLengthResponseProto, RefreshNamenodesRequestProto,
    RefreshNamenodesResponseProto,
};
use hafs_security::block_token::AccessMode;
use hafs_security::groups::GroupMapping;
use tracing::{info, warn};

use crate::balance::BalanceLimits;
use crate::block_pool_manager::BlockPoolManager;
use crate::datanode::{block_pools_from_conf, ConfReload};
use crate::security::DataTransferSecurity;
use crate::storage::{DataNodeStorage, DnStorageError, ReplicaState};

/// The configuration version `dfsadmin -getDatanodeInfo` shows: what a stock Hadoop
/// DataNode reports with the default `hadoop.common.configuration.version` and
/// `hadoop.hdfs.configuration.version` (hafs versions neither).
const CONFIG_VERSION: &str = "core-3.0.0,hdfs-1";

pub const CLIENT_DATANODE_PROTOCOL: &str = "org.apache.hadoop.hdfs.protocol.ClientDatanodeProtocol";

/// Who may call the admin methods: the user the DataNode runs as, or a member of
/// `dfs.permissions.superusergroup`; anyone with `dfs.permissions.enabled=false`.
#[derive(Debug, Clone)]
pub struct AdminAccess {
    /// `dfs.permissions.enabled`.
    pub permissions_enabled: bool,
    /// The DataNode's own user (with Kerberos, its principal's short name).
    pub superuser: String,
    /// `dfs.permissions.superusergroup`.
    pub supergroup: String,
    /// `hadoop.security.groups.cache.secs`.
    pub group_cache_ttl: Duration,
    /// `hadoop.user.group.static.mapping.overrides`.
    pub group_overrides: HashMap<String, Vec<String>>,
}

/// What the admin methods act on, set once the block pool services run (they start
/// after the IPC server, whose port is part of the DataNode's identity).
pub struct DataNodeAdminTargets {
    pub pools: Arc<BlockPoolManager>,
    /// Re-reads the configuration files; `None` for a DataNode started without them.
    pub reload: Option<ConfReload>,
    /// The NameNodes the HTTP server's DataNodeInfo bean lists.
    pub shown_namenodes: Arc<std::sync::RwLock<Vec<String>>>,
}

pub struct ClientDatanodeService {
    storage: DataNodeStorage,
    security: Arc<DataTransferSecurity>,
    balance: Arc<BalanceLimits>,
    started: Instant,
    access: AdminAccess,
    groups: GroupMapping,
    targets: Arc<OnceLock<DataNodeAdminTargets>>,
}

impl ClientDatanodeService {
    pub fn new(
        storage: DataNodeStorage,
        security: Arc<DataTransferSecurity>,
        balance: Arc<BalanceLimits>,
        access: AdminAccess,
        targets: Arc<OnceLock<DataNodeAdminTargets>>,
    ) -> Self {
        let groups = GroupMapping::new(access.group_cache_ttl, access.group_overrides.clone());
        ClientDatanodeService {
            storage,
            security,
            balance,
            started: Instant::now(),
            access,
            groups,
            targets,
        }
    }

    /// Hadoop's DataNode#checkSuperuserPrivilege.
    fn check_superuser(&self, ctx: &CallContext) -> Result<(), RpcError> {
        if !self.access.permissions_enabled || ctx.user == self.access.superuser {
            return Ok(());
        }
        if self
            .groups
            .groups_of(&ctx.user)
            .contains(&self.access.supergroup)
        {
            return Ok(());
        }
        warn!(user = %ctx.user, "admin call refused: not a superuser");
        Err(RpcError::access_control(format!(
            "Permission denied. Superuser privilege is required: {} is neither the DataNode's user nor in {}",
            ctx.user, self.access.supergroup
        )))
    }

    fn targets(&self) -> Result<&DataNodeAdminTargets, RpcError> {
        self.targets
            .get()
            .ok_or_else(|| RpcError::io("The DataNode is still starting; try again"))
    }

    /// Hadoop's FsDatasetImpl#getReplicaVisibleLength: the replica must exist with a
    /// generation stamp at least the client's; its visible length is the acknowledged
    /// bytes (a finalized replica: its length).
    fn visible_length(&self, req: &GetReplicaVisibleLengthRequestProto) -> Result<u64, RpcError> {
        let b = &req.block;
        let Some(r) = self.storage.get_replica(&b.pool_id, b.block_id) else {
            return Err(RpcError::new(
                "org.apache.hadoop.hdfs.server.datanode.ReplicaNotFoundException",
                format!(
                    "Replica not found for {}:blk_{}_{}",
                    b.pool_id, b.block_id, b.generation_stamp
                ),
            ));
        };
        if r.gen_stamp < b.generation_stamp {
            return Err(RpcError::io(format!(
                "replica.getGenerationStamp() < block.getGenerationStamp(), block=blk_{}_{}, replica gen stamp {}",
                b.block_id, b.generation_stamp, r.gen_stamp
            )));
        }
        Ok(match r.state {
            ReplicaState::Finalized => r.bytes_on_disk,
            _ => r.visible_length,
        })
    }
}

impl ClientDatanodeService {
    fn table() -> MethodTable<Self> {
        MethodTable::new(CLIENT_DATANODE_PROTOCOL)
            .method("getReplicaVisibleLength", Self::get_replica_visible_length)
            .method("refreshNamenodes", Self::refresh_namenodes)
            .method("deleteBlockPool", Self::delete_block_pool)
            .method("getBalancerBandwidth", Self::get_balancer_bandwidth)
            .method("getDatanodeInfo", Self::get_datanode_info)
    }

    /// `dfsadmin -getDatanodeInfo`: version and uptime (seconds), open to any caller
    /// as in Hadoop (it is how operators check that a DataNode is up).
    async fn get_datanode_info(
        &self,
        _ctx: &CallContext,
        _req: GetDatanodeInfoRequestProto,
    ) -> Result<GetDatanodeInfoResponseProto, RpcError> {
        Ok(GetDatanodeInfoResponseProto {
            local_info: DatanodeLocalInfoProto {
                software_version: hafs_proto::HADOOP_VERSION.to_string(),
                config_version: CONFIG_VERSION.to_string(),
                uptime: self.started.elapsed().as_secs(),
            },
        })
    }

    /// Anyone may ask, as in Hadoop (the figure is no secret).
    async fn get_balancer_bandwidth(
        &self,
        _ctx: &CallContext,
        _req: GetBalancerBandwidthRequestProto,
    ) -> Result<GetBalancerBandwidthResponseProto, RpcError> {
        Ok(GetBalancerBandwidthResponseProto {
            bandwidth: self.balance.bandwidth(),
        })
    }

    /// Re-reads the configuration files and makes the served nameservices those they
    /// list. A file that cannot be read or a bad nameservice configuration is the
    /// caller's error, and nothing changes.
    async fn refresh_namenodes(
        &self,
        ctx: &CallContext,
        _req: RefreshNamenodesRequestProto,
    ) -> Result<RefreshNamenodesResponseProto, RpcError> {
        self.check_superuser(ctx)?;
        let targets = self.targets()?;
        let Some(reload) = targets.reload.clone() else {
            return Err(RpcError::io(
                "This DataNode was not started from configuration files: nothing to re-read",
            ));
        };
        info!(user = %ctx.user, "refreshNamenodes: re-reading the configuration");
        let wanted = tokio::task::spawn_blocking(move || {
            let conf = reload.load()?;
            block_pools_from_conf(&conf).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| RpcError::io(format!("configuration reload task failed: {e}")))?
        .map_err(|e| {
            warn!(error = %e, "refreshNamenodes: configuration refused; nothing changed");
            RpcError::io(format!("Cannot refresh the NameNodes: {e}"))
        })?;
        let outcome = targets.pools.refresh(&wanted).await;
        *targets
            .shown_namenodes
            .write()
            .unwrap_or_else(|e| e.into_inner()) = wanted
            .iter()
            .flat_map(|p| p.namenodes.iter().cloned())
            .collect();
        info!(added = ?outcome.added, removed = ?outcome.removed, refreshed = ?outcome.refreshed,
              "refreshNamenodes done");
        Ok(RefreshNamenodesResponseProto {})
    }

    /// Removes a block pool no nameservice served here uses from every volume.
    async fn delete_block_pool(
        &self,
        ctx: &CallContext,
        req: DeleteBlockPoolRequestProto,
    ) -> Result<DeleteBlockPoolResponseProto, RpcError> {
        self.check_superuser(ctx)?;
        let targets = self.targets()?;
        let (bpid, force) = (req.block_pool, req.force);
        info!(block_pool = %bpid, force, "deleteBlockPool command received");
        if targets.pools.serves_block_pool(&bpid).await {
            warn!(block_pool = %bpid, "the block pool is still served; not deleted");
            return Err(RpcError::io(
                "The block pool is still running. First do a refreshNamenodes to shutdown the block pool service",
            ));
        }
        let storage = self.storage.clone();
        tokio::task::spawn_blocking(move || storage.delete_block_pool(&bpid, force))
            .await
            .map_err(|e| RpcError::io(format!("deleteBlockPool task failed: {e}")))?
            .map_err(|e| match e {
                DnStorageError::Invalid(msg) => RpcError::io(msg),
                other => RpcError::io(other.to_string()),
            })?;
        Ok(DeleteBlockPoolResponseProto {})
    }

    async fn get_replica_visible_length(
        &self,
        ctx: &CallContext,
        req: GetReplicaVisibleLengthRequestProto,
    ) -> Result<GetReplicaVisibleLengthResponseProto, RpcError> {
        // Hadoop's checkReadAccess: with block tokens on, the caller must have
        // authenticated with a READ token for this very block.
        let b = &req.block;
        self.security
            .check_call(
                ctx.token_identifier.as_deref(),
                &b.pool_id,
                b.block_id,
                AccessMode::Read,
            )
            .map_err(|msg| match ctx.token_identifier {
                None => RpcError::io(msg),
                Some(_) => RpcError::new(hafs_ipc::exceptions::INVALID_TOKEN, msg),
            })?;
        let length = self.visible_length(&req)?;
        Ok(GetReplicaVisibleLengthResponseProto { length })
    }
}

impl ProtocolService for ClientDatanodeService {
    fn methods() -> &'static MethodTable<Self> {
        static METHODS: LazyLock<MethodTable<ClientDatanodeService>> =
            LazyLock::new(ClientDatanodeService::table);
        &METHODS
    }
}
