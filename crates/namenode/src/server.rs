//! Starting and running a NameNode: open storage, load the namespace, open the edit
//! log, serve ClientProtocol, run the background duties (lease checks, checkpoints),
//! and stop cleanly.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use hafs_ipc::{RpcService, Server, ServerConfig};
use tracing::{error, info};

use crate::blockmanagement::{BlockManager, NamespaceIdentity};
use crate::client_protocol::ClientProtocolService;
use crate::config::NameNodeConfig;
use crate::datanode_protocol::DatanodeProtocolService;
use crate::edit_log::EditLog;
use crate::ha::{EditLogSlot, HaController};
use crate::ha_service::HaServiceProtocolService;
use crate::namesystem::{Namesystem, LEASE_CHECK_INTERVAL};
use crate::storage::{NameStorage, StorageError};
use crate::write_path::WritePathBlockSync;

#[derive(thiserror::Error, Debug)]
pub enum NameNodeError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("edit log: {0}")]
    EditLog(String),
    #[error("cannot serve RPC on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("cannot read the DataNode host lists: {0}")]
    HostFile(#[from] crate::blockmanagement::host_file::HostFileError),
    #[error("the edit log failed, the NameNode stops: {0}")]
    Fatal(String),
}

pub struct NameNode {
    pub fsn: Arc<Namesystem>,
    pub bm: Arc<BlockManager>,
    /// The HA state machine (transitions, tailing).
    pub ha: Arc<HaController>,
    server: Server,
    /// The HTTP server (image transfer) and the Standby checkpointer.
    checkpoint: crate::checkpointer::CheckpointServices,
}

impl NameNode {
    pub async fn start(config: NameNodeConfig) -> Result<NameNode, NameNodeError> {
        let storage = NameStorage::open(&config.name_dirs)?
            .with_shared_edits(config.shared_edits.clone(), config.qjm.clone())
            .with_shared_dir(config.shared_dir.as_deref())?;
        let journal = storage.journal();
        // An HA NameNode starts as a Standby: it must not recover the shared log (that
        // takes a writer epoch, fencing the Active) nor open it for writing.
        let edit_log = if config.ha.is_some() {
            let loaded = storage
                .load_for_standby(config.namespace.clone(), journal.as_ref())
                .await?;
            let slot = EditLogSlot::standby(journal, loaded.last_txid);
            (loaded, slot)
        } else {
            let loaded = storage
                .load(config.namespace.clone(), journal.as_ref())
                .await?;
            let log = EditLog::open(journal, loaded.last_txid + 1)
                .await
                .map_err(|e| NameNodeError::EditLog(e.to_string()))?;
            (loaded, EditLogSlot::with_writer(log))
        };
        let (loaded, edit_log) = edit_log;
        let mut namespace = loaded.namespace;
        namespace.set_config(config.namespace.clone());
        let bm = Arc::new(BlockManager::new(
            config.blocks.clone(),
            NamespaceIdentity {
                cluster_id: storage.info.cluster_id.clone(),
                block_pool_id: storage.info.block_pool_id.clone(),
                namespace_id: storage.info.namespace_id,
                layout_version: storage.info.layout_version,
                ctime: storage.info.ctime,
            },
        ));
        // The include/exclude lists in force from the start: a DataNode not allowed
        // must not register even once. A named file that is missing stops the start.
        let hosts = crate::blockmanagement::host_file::HostLists::read_from(
            config.blocks.hosts_provider,
            config.blocks.hosts_include.as_deref(),
            config.blocks.hosts_exclude.as_deref(),
        )?;
        bm.refresh_nodes(hosts);
        if let Some(tokens) = &config.blocks.block_tokens {
            // Each NameNode of the nameservice signs with key ids from its own range.
            let (index, count) = config.ha.as_ref().map_or((0, 1), |h| {
                let i = h.namenodes.iter().position(|(id, _)| *id == h.namenode_id);
                (i.unwrap_or(0), h.namenodes.len().max(1))
            });
            bm.enable_block_tokens(crate::blockmanagement::block_tokens::BlockTokenIssuer::new(
                tokens, index, count,
            ));
            info!(nn_index = index, "block access tokens enabled");
        }
        let fsn = Arc::new(Namesystem::new(
            namespace,
            edit_log,
            storage,
            config,
            loaded.image_txid,
            loaded.retry_ids,
            bm.clone(),
        ));
        let ha = HaController::new(fsn.clone());
        if ha.is_ha() {
            // No commands to DataNodes before a transition to Active.
            bm.set_active(false);
        }
        let server = serve_rpc(&fsn, &bm, &ha).await?;
        fsn.metrics
            .rpc_server_bound(server.local_addr().port(), server.metrics());
        let checkpoint = crate::checkpointer::CheckpointServices::start(&fsn)
            .await
            .map_err(|source| NameNodeError::Bind {
                addr: fsn.config.http.bind.clone(),
                source,
            })?;
        ha.start();
        info!(rpc = %server.local_addr(), state = ?fsn.ha_state(), "NameNode is serving");
        Ok(NameNode {
            fsn,
            bm,
            ha,
            server,
            checkpoint,
        })
    }

    /// "active", "standby" or "initializing", as `haadmin -getServiceState` prints.
    pub fn ha_state_name(&self) -> &'static str {
        crate::metrics::state_name(self.fsn.ha_state())
    }

    /// Makes this freshly started HA NameNode an Observer (`hdfs namenode -observer`):
    /// it never takes part in an election, not even for a moment after start.
    pub async fn become_observer(&self) -> Result<(), crate::ha::HaError> {
        self.ha.transition_to_observer_for("startup").await
    }

    pub fn rpc_addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// Where the HTTP server (image transfer, status page) listens.
    pub fn http_addr(&self) -> SocketAddr {
        self.checkpoint.http_addr()
    }

    /// Serves until `shutdown` resolves (then finalizes the open edit segment) or the
    /// edit log fails (an error: the process must exit non-zero).
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> Result<(), NameNodeError> {
        let fsn = self.fsn.clone();
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let background = tokio::spawn(background_duties(fsn.clone(), stop_rx.clone()));
        let monitor_fsn = fsn.clone();
        let policy_fsn = fsn.clone();
        let monitor = tokio::spawn(self.bm.clone().run_monitor(
            move || monitor_fsn.ha_state() == crate::namesystem::HaState::Active,
            move || policy_fsn.refresh_storage_policies(),
            stop_rx.clone(),
        ));
        let decom_fsn = fsn.clone();
        let decommission = tokio::spawn(
            self.bm
                .clone()
                .run_decommission_monitor(move || decom_fsn.open_file_blocks(), stop_rx.clone()),
        );
        let mut server_stop = stop_rx.clone();
        let server = tokio::spawn(self.server.run(async move {
            let _ = server_stop.wait_for(|s| *s).await;
        }));
        let result = tokio::select! {
            _ = shutdown => Ok(()),
            msg = self.ha.fatal() => Err(NameNodeError::Fatal(msg)),
        };
        let _ = stop_tx.send(true);
        let _ = server.await;
        self.checkpoint.stop().await;
        let _ = background.await;
        let _ = monitor.await;
        let _ = decommission.await;
        if result.is_ok() {
            self.ha.shutdown().await;
            info!("NameNode stopped");
        } else if let Err(e) = &result {
            error!("{e}");
        }
        result
    }
}

/// The NameNode's protocols on its RPC port (`dfs.namenode.rpc-address`), as Hadoop
/// serves them: ClientProtocol, HAServiceProtocol and DatanodeProtocol. Each is a
/// method table (`hafs_ipc::MethodTable`).
async fn serve_rpc(
    fsn: &Arc<Namesystem>,
    bm: &Arc<BlockManager>,
    ha: &Arc<HaController>,
) -> Result<Server, NameNodeError> {
    let bind = resolve(&fsn.config.rpc_bind).await?;
    let mut server_config = ServerConfig::new(bind);
    server_config.max_data_length = fsn.config.max_data_length;
    // TOKEN first, as Hadoop offers it (a client holding a token for this service
    // uses it), then KERBEROS from the daemon's keytab.
    server_config.auth = fsn.config.rpc_auth.clone();
    let mut methods = sasl_methods(fsn);
    methods.append(&mut server_config.auth.methods);
    server_config.auth.methods = methods;
    let groups = fsn.group_mapping();
    let proxy_users = Arc::new(hafs_ipc::auth::proxy_users::ProxyUsers::new(
        fsn.config.proxy_users.clone(),
        Arc::new(move |user: &str| groups.groups_of(user)),
    ));
    server_config.auth.impersonation = Some(proxy_users.clone());
    if fsn
        .config
        .ha
        .as_ref()
        .is_some_and(|h| h.state_context_enabled)
    {
        // Responses carry our state id; Observers align reads with it.
        server_config.alignment = Some(Arc::new(crate::ha::state_alignment::StateIdContext(
            fsn.clone(),
        )));
    }
    if let Some(rules) = fsn.config.auth_to_local.clone() {
        fsn.set_name_mapper(Arc::new(move |principal: &str| {
            rules.short_name_of(principal).map_err(|e| e.to_string())
        }));
    }
    let datanode = Arc::new(DatanodeProtocolService {
        block_sync: Some(Arc::new(WritePathBlockSync(fsn.clone()))),
        ..DatanodeProtocolService::new(fsn.clone(), bm.clone())
    });
    let services: Vec<Arc<dyn RpcService>> = vec![
        Arc::new(ClientProtocolService { fsn: fsn.clone() }),
        Arc::new(HaServiceProtocolService {
            fsn: fsn.clone(),
            ha: ha.clone(),
        }),
        datanode.clone(),
        Arc::new(crate::namenode_protocol::NamenodeProtocolService { datanode }),
        Arc::new(crate::refresh_user_mappings::RefreshUserMappingsService {
            fsn: fsn.clone(),
            proxy_users,
            conf_files: fsn.config.conf_files.clone(),
        }),
    ];
    Server::bind(server_config, services)
        .await
        .map_err(|source| NameNodeError::Bind {
            addr: bind.to_string(),
            source,
        })
}

/// The SASL methods the RPC server offers, in Hadoop's order: TOKEN first, then
/// KERBEROS. Empty (SIMPLE) unless `hadoop.security.authentication=kerberos`.
fn sasl_methods(fsn: &Arc<Namesystem>) -> Vec<Arc<dyn hafs_ipc::auth::SaslMethod>> {
    let mut methods = Vec::new();
    methods.extend(crate::security::token_method(
        fsn,
        &fsn.config.rpc_protection,
    ));
    methods
}

async fn resolve(addr: &str) -> Result<SocketAddr, NameNodeError> {
    let mut it = tokio::net::lookup_host(addr)
        .await
        .map_err(|source| NameNodeError::Bind {
            addr: addr.to_string(),
            source,
        })?;
    it.next().ok_or_else(|| NameNodeError::Bind {
        addr: addr.to_string(),
        source: std::io::Error::new(std::io::ErrorKind::NotFound, "no address"),
    })
}

async fn background_duties(fsn: Arc<Namesystem>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut lease_tick = tokio::time::interval(LEASE_CHECK_INTERVAL);
    let mut checkpoint_tick = tokio::time::interval(fsn.config.checkpoint_check_period);
    // A quorum journal asks for a roll once a JournalNode it skips answers again.
    let mut resync_tick = tokio::time::interval(std::time::Duration::from_millis(500));
    lease_tick.tick().await;
    checkpoint_tick.tick().await;
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = lease_tick.tick() => {
                fsn.check_leases().await;
                fsn.delegation_token_housekeeping().await;
            }
            // Only a non-HA writer checkpoints here: in HA the Standbys checkpoint and
            // upload to the Active (crate::checkpointer), as Hadoop's do.
            _ = checkpoint_tick.tick(), if fsn.edit_log.is_writing() && fsn.config.ha.is_none() => fsn.maybe_checkpoint().await,
            _ = resync_tick.tick(), if fsn.edit_log.is_writing() => {
                if fsn.edit_log.journal().wants_roll().await {
                    let _ = fsn.edit_log.roll().await;
                }
            }
        }
    }
}
