//! The DataNode process: configuration from Hadoop's keys, startup (storage, data
//! transfer server, IPC server for InterDatanodeProtocol, one actor per NameNode) and
//! a clean stop.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hafs_conf::keys::{
    self, DFS_BLOCKREPORT_INITIAL_DELAY, DFS_BLOCK_SCANNER_VOLUME_BYTES_PER_SECOND,
    DFS_BLOCK_SCANNER_VOLUME_BYTES_PER_SECOND_DEFAULT, DFS_CLIENT_SOCKET_TIMEOUT,
    DFS_CLIENT_SOCKET_TIMEOUT_DEFAULT_MS, DFS_DATANODE_FAILED_VOLUMES_TOLERATED,
    DFS_DATANODE_HOSTNAME, DFS_DATANODE_MAX_TRANSFER_THREADS,
    DFS_DATANODE_MAX_TRANSFER_THREADS_DEFAULT, DFS_DATANODE_SCAN_PERIOD_HOURS,
    INTERNAL_DFS_DATANODE_SCAN_PERIOD_MS,
};
use hafs_conf::parse::{format_host_port, parse_host_port};
use hafs_conf::{ConfError, Configuration, TimeUnit};
use hafs_ipc::{exceptions, RpcError, RpcService, Server, ServerConfig};
use hafs_proto::hdfs::DatanodeIdProto;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tracing::{error, info};

use crate::actor::{
    ActiveNameNode, ActorSettings, BlockCommand, BlockEventRouter, DataNodeOps, JoinError,
    NamespaceInfo,
};
use crate::block_pool_manager::BlockPoolManager;
use crate::client_datanode::{AdminAccess, ClientDatanodeService, DataNodeAdminTargets};
use crate::interdatanode::InterDatanodeService;
use crate::recovery::{BlockRecoveryWorker, LocalRecovery, ReplicaRecoveryInfo};
use crate::scanner::{BlockScanner, ScannerConfig};
use crate::storage::{
    BlockEvent, DataNodeStorage, DnStorageError, ExtendedBlock, ReplicaReport, StorageReport,
};
use crate::xceiver::{transfer_block, XceiverConfig, XceiverServer};

/// Block events queued between the data path and the actors; the xceiver waits when
/// full, which slows writers rather than losing reports.
const EVENT_QUEUE: usize = 4096;

/// One nameservice a DataNode serves (one block pool, one actor per NameNode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockPoolConfig {
    /// The nameservice id; empty for a cluster configured without nameservices.
    pub nameservice: String,
    /// Its NameNodes' RPC addresses.
    pub namenodes: Vec<String>,
}

/// Re-reads the DataNode's configuration as it was loaded at start (the same conf dir
/// and site files, the same command-line overrides), for `refreshNamenodes`; the error
/// names the file or option at fault.
#[derive(Clone)]
pub struct ConfReload(pub Arc<dyn Fn() -> Result<Configuration, String> + Send + Sync>);

impl ConfReload {
    pub fn load(&self) -> Result<Configuration, String> {
        (self.0)()
    }
}

impl std::fmt::Debug for ConfReload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConfReload")
    }
}

/// The block pools a configuration asks a DataNode to serve: one per nameservice of
/// `dfs.internal.nameservices` (else `dfs.nameservices`), each with its NameNodes'
/// RPC addresses (Hadoop's DFSUtil.getNNServiceRpcAddressesForCluster); without
/// nameservices, one for the single NameNode.
pub fn block_pools_from_conf(conf: &Configuration) -> Result<Vec<BlockPoolConfig>, ConfError> {
    let served = conf.internal_nameservices();
    if served.is_empty() {
        return Ok(vec![BlockPoolConfig {
            nameservice: String::new(),
            namenodes: addresses(conf.namenode_rpc_addresses(None)?),
        }]);
    }
    served
        .into_iter()
        .map(|ns| {
            let namenodes = addresses(conf.namenode_rpc_addresses(Some(&ns))?);
            Ok(BlockPoolConfig {
                nameservice: ns,
                namenodes,
            })
        })
        .collect()
}

/// Everything the DataNode reads from the configuration.
#[derive(Debug, Clone)]
pub struct DataNodeConfig {
    /// `dfs.datanode.data.dir`.
    pub data_dirs: Vec<PathBuf>,
    /// The storage type of each of `data_dirs` (its `[TYPE]` prefix; DISK without), as
    /// StorageTypeProto numbers.
    pub data_dir_types: Vec<i32>,
    /// `dfs.datanode.address`.
    pub xfer_bind: SocketAddr,
    /// `dfs.datanode.ipc.address`.
    pub ipc_bind: SocketAddr,
    /// How IPC callers authenticate (SIMPLE, or Kerberos with the DataNode's keytab).
    pub ipc_auth: hafs_ipc::auth::ServerAuth,
    /// `dfs.datanode.http.address`: the HTTP server (`/jmx`, `/prom`, status).
    pub http_bind: SocketAddr,
    /// Secure mode: SPNEGO on every HTTP request.
    pub http_spnego: Option<Arc<hafs_security::spnego::SpnegoAcceptor>>,
    /// `hadoop.prometheus.endpoint.enabled`.
    pub prometheus: bool,
    /// `dfs.datanode.hostname`: the name given to NameNodes and clients.
    pub hostname: Option<String>,
    /// NameNode RPC addresses: every NameNode of every served nameservice, or the
    /// single one.
    pub namenodes: Vec<String>,
    /// The block pools served: one per nameservice of `dfs.internal.nameservices`
    /// (else `dfs.nameservices`), or one for the single NameNode.
    pub block_pools: Vec<BlockPoolConfig>,
    pub actor: ActorSettings,
    /// `dfs.datanode.failed.volumes.tolerated` (-1: all but one).
    pub failed_volumes_tolerated: usize,
    pub xceiver: XceiverConfig,
    /// `dfs.block.scanner.volume.bytes.per.second` (for the block scanner); 0 when
    /// `dfs.datanode.scan.period.hours` is negative.
    pub scanner_bytes_per_second: u64,
    /// Pause between block scanner passes (`dfs.datanode.scan.period.hours`).
    pub scan_period: Duration,
    /// WebHDFS's DataNode side; `None` with `dfs.webhdfs.enabled=false`.
    pub webhdfs: Option<crate::webhdfs::WebHdfsConfig>,
    /// `dfs.datanode.du.reserved`: bytes per volume not counted as capacity.
    pub du_reserved: u64,
    /// Who may call `refreshNamenodes` and `deleteBlockPool`.
    pub admin: AdminAccess,
    /// How `refreshNamenodes` re-reads the configuration; `None` (a DataNode built
    /// from an in-memory configuration) refuses it.
    pub reload: Option<ConfReload>,
}

fn bad(key: &str, value: impl Into<String>, expected: &str) -> ConfError {
    ConfError::BadValue {
        key: key.to_string(),
        value: value.into(),
        expected: expected.to_string(),
    }
}

fn bind_addr(conf: &Configuration, key: &str, default: &str) -> Result<SocketAddr, ConfError> {
    let v = conf.get_trimmed(key).unwrap_or_else(|| default.to_string());
    let (host, port) = parse_host_port(&v, 0).ok_or_else(|| bad(key, &v, "host:port"))?;
    let ip: IpAddr = if host.is_empty() || host == "0.0.0.0" {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else if host == "localhost" {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        host.parse()
            .map_err(|_| bad(key, &v, "an IP address and port to bind, e.g. 0.0.0.0:9866"))?
    };
    Ok(SocketAddr::new(ip, port))
}

/// `file:///a/b`, `[SSD]file:///a/b` or `/a/b` → (`/a/b`, its storage type). The
/// `[TYPE]` prefix (Hadoop's StorageLocation) is one of DISK, SSD, ARCHIVE, RAM_DISK,
/// NVDIMM or PROVIDED, any case; without one the volume is DISK.
fn data_dir(key: &str, value: &str) -> Result<(PathBuf, i32), ConfError> {
    let mut v = value.trim();
    let mut storage_type = hafs_proto::hdfs::StorageTypeProto::Disk;
    if let Some(rest) = v.strip_prefix('[') {
        let (name, rest) = rest
            .split_once(']')
            .ok_or_else(|| bad(key, value, "a storage type prefix closed by ']'"))?;
        storage_type =
            hafs_proto::hdfs::StorageTypeProto::from_str_name(&name.to_ascii_uppercase())
                .ok_or_else(|| {
                    bad(
                        key,
                        value,
                        "a storage type prefix of [DISK], [SSD], [ARCHIVE], [RAM_DISK], \
                         [NVDIMM] or [PROVIDED]",
                    )
                })?;
        v = rest;
    }
    let path = if let Some(rest) = v.strip_prefix("file://") {
        rest
    } else if v.contains("://") {
        return Err(bad(key, value, "local directories (file:// URIs or paths)"));
    } else {
        v
    };
    if !path.starts_with('/') {
        return Err(bad(key, value, "absolute local directories"));
    }
    Ok((PathBuf::from(path), storage_type as i32))
}

impl DataNodeConfig {
    pub fn from_conf(conf: &Configuration) -> Result<DataNodeConfig, ConfError> {
        // Every known key, not only the ones read below: a bad value stops the daemon
        // at startup, naming the key, as the NameNode does.
        conf.validate()?;
        let dirs_raw = conf
            .try_get(keys::DFS_DATANODE_DATA_DIR)?
            .unwrap_or_default();
        let (data_dirs, data_dir_types): (Vec<PathBuf>, Vec<i32>) =
            hafs_conf::parse::split_trimmed(&dirs_raw)
                .iter()
                .map(|d| data_dir(keys::DFS_DATANODE_DATA_DIR, d))
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .unzip();
        if data_dirs.is_empty() {
            return Err(bad(
                keys::DFS_DATANODE_DATA_DIR,
                dirs_raw,
                "at least one directory",
            ));
        }
        let xfer_bind = bind_addr(
            conf,
            keys::DFS_DATANODE_ADDRESS,
            keys::DFS_DATANODE_ADDRESS_DEFAULT,
        )?;
        let ipc_bind = bind_addr(
            conf,
            keys::DFS_DATANODE_IPC_ADDRESS,
            keys::DFS_DATANODE_IPC_ADDRESS_DEFAULT,
        )?;
        let http_bind = bind_addr(
            conf,
            keys::DFS_DATANODE_HTTP_ADDRESS,
            keys::DFS_DATANODE_HTTP_ADDRESS_DEFAULT,
        )?;
        let hostname = conf
            .get_trimmed(DFS_DATANODE_HOSTNAME)
            .filter(|h| !h.is_empty());
        // Federation: every nameservice's NameNodes, one block pool each.
        let block_pools = block_pools_from_conf(conf)?;
        let namenodes: Vec<String> = block_pools
            .iter()
            .flat_map(|p| p.namenodes.iter().cloned())
            .collect();
        let heartbeat_interval = conf.get_time_duration(
            keys::DFS_HEARTBEAT_INTERVAL,
            Duration::from_secs(keys::DFS_HEARTBEAT_INTERVAL_DEFAULT_SECS),
            TimeUnit::Seconds,
        )?;
        if heartbeat_interval.is_zero() {
            return Err(bad(
                keys::DFS_HEARTBEAT_INTERVAL,
                "0",
                "a positive duration",
            ));
        }
        let block_report_interval = Duration::from_millis(conf.get_u64(
            keys::DFS_BLOCKREPORT_INTERVAL_MSEC,
            keys::DFS_BLOCKREPORT_INTERVAL_MSEC_DEFAULT,
        )?);
        if block_report_interval.is_zero() {
            return Err(bad(
                keys::DFS_BLOCKREPORT_INTERVAL_MSEC,
                "0",
                "a positive number of milliseconds",
            ));
        }
        let ibr_batch_delay = Duration::from_millis(conf.get_u64(
            keys::DFS_BLOCKREPORT_INCREMENTAL_INTERVAL_MSEC,
            keys::DFS_BLOCKREPORT_INCREMENTAL_INTERVAL_MSEC_DEFAULT,
        )?);
        let block_report_initial_delay = conf.get_time_duration(
            DFS_BLOCKREPORT_INITIAL_DELAY,
            Duration::ZERO,
            TimeUnit::Seconds,
        )?;
        let tolerated = conf.get_i64(DFS_DATANODE_FAILED_VOLUMES_TOLERATED, 0)?;
        let failed_volumes_tolerated = match tolerated {
            -1 => data_dirs.len() - 1,
            n if n >= 0 && (n as usize) < data_dirs.len() => n as usize,
            n => {
                return Err(bad(
                    DFS_DATANODE_FAILED_VOLUMES_TOLERATED,
                    n.to_string(),
                    &format!(
                        "-1 or a number below the number of data directories ({})",
                        data_dirs.len()
                    ),
                ))
            }
        };
        let max_transfer_threads = conf.get_u32(
            DFS_DATANODE_MAX_TRANSFER_THREADS,
            DFS_DATANODE_MAX_TRANSFER_THREADS_DEFAULT,
        )?;
        if max_transfer_threads == 0 {
            return Err(bad(
                DFS_DATANODE_MAX_TRANSFER_THREADS,
                "0",
                "a positive number",
            ));
        }
        let scanner_bytes_per_second = conf.get_size_bytes(
            DFS_BLOCK_SCANNER_VOLUME_BYTES_PER_SECOND,
            DFS_BLOCK_SCANNER_VOLUME_BYTES_PER_SECOND_DEFAULT,
        )?;
        let mut scanner_bytes_per_second = scanner_bytes_per_second;
        let default_period = crate::scanner::ScannerConfig::default().rescan_interval;
        let hours = conf.get_i64(DFS_DATANODE_SCAN_PERIOD_HOURS, 0)?;
        let mut scan_period = match hours {
            0 => default_period,
            h if h < 0 => {
                scanner_bytes_per_second = 0;
                default_period
            }
            h => Duration::from_secs((h as u64).saturating_mul(3600)),
        };
        if conf
            .get_trimmed(INTERNAL_DFS_DATANODE_SCAN_PERIOD_MS)
            .is_some()
        {
            let ms = conf.get_u64(INTERNAL_DFS_DATANODE_SCAN_PERIOD_MS, 0)?;
            scan_period = Duration::from_millis(ms);
        }
        let socket_timeout = conf.get_time_duration(
            DFS_CLIENT_SOCKET_TIMEOUT,
            Duration::from_millis(DFS_CLIENT_SOCKET_TIMEOUT_DEFAULT_MS),
            TimeUnit::Millis,
        )?;
        let security = Arc::new(crate::security::DataTransferSecurity::from_conf(conf)?);
        let balance = Arc::new(crate::balance::BalanceLimits::new(
            conf.get_size_bytes(
                keys::DFS_DATANODE_BALANCE_BANDWIDTHPERSEC,
                keys::DFS_DATANODE_BALANCE_BANDWIDTHPERSEC_DEFAULT,
            )?,
            conf.get_u32(
                keys::DFS_DATANODE_BALANCE_MAX_CONCURRENT_MOVES,
                keys::DFS_DATANODE_BALANCE_MAX_CONCURRENT_MOVES_DEFAULT,
            )? as usize,
        ));
        let xceiver = XceiverConfig {
            max_transfer_threads: max_transfer_threads as usize,
            socket_timeout,
            security: security.clone(),
            balance: balance.clone(),
            ..XceiverConfig::default()
        };
        let actor = ActorSettings {
            heartbeat_interval,
            block_report_interval,
            block_report_initial_delay,
            ibr_batch_delay,
            max_backoff: heartbeat_interval.clamp(Duration::from_secs(1), Duration::from_secs(10)),
            security,
            // A DataNode bound to one address talks to its NameNodes from it too: the
            // NameNode registers a DataNode under the connection's source address.
            bind_address: Some(xfer_bind.ip()).filter(|ip| !ip.is_unspecified()),
            balance,
            ..ActorSettings::default()
        };
        let (ipc_auth, superuser) = {
            use hafs_ipc::auth::{kerberos::canonical_host, SecuritySettings, ServiceRole};
            let settings =
                SecuritySettings::from_conf(conf).map_err(|e| ConfError::Security(e.0))?;
            // The DataNode's own user is a superuser of its admin calls: with Kerberos
            // the short name of its principal, else the OS user.
            let superuser = if settings.is_kerberos() {
                let host = canonical_host(&ipc_bind.ip().to_string());
                let (principal, _) = settings
                    .service_login(ServiceRole::DataNode, &host)
                    .map_err(|e| ConfError::Security(e.0))?;
                settings
                    .auth_to_local()
                    .short_name_of(&principal)
                    .map_err(|e| {
                        ConfError::Security(format!("{}: {e}", keys::HADOOP_SECURITY_AUTH_TO_LOCAL))
                    })?
            } else {
                hafs_conf::current_user_name().to_string()
            };
            let mut auth = settings
                .server_auth(
                    ServiceRole::DataNode,
                    &canonical_host(&ipc_bind.ip().to_string()),
                )
                .map_err(|e| ConfError::Security(e.0))?;
            // A secure IPC port also takes block tokens, TOKEN first as in Hadoop
            // (clients reading a file being written hold nothing else).
            if auth.is_secure() {
                if let Some(m) =
                    crate::ipc_tokens::block_token_method(&actor.security, settings.qops())
                {
                    auth.methods.insert(0, m);
                }
            }
            (auth, superuser)
        };
        let admin = AdminAccess {
            permissions_enabled: conf.get_bool(
                keys::DFS_PERMISSIONS_ENABLED,
                keys::DFS_PERMISSIONS_ENABLED_DEFAULT,
            )?,
            superuser,
            supergroup: conf.get_or(
                keys::DFS_PERMISSIONS_SUPERUSERGROUP,
                keys::DFS_PERMISSIONS_SUPERUSERGROUP_DEFAULT,
            ),
            group_cache_ttl: conf.get_time_duration(
                keys::HADOOP_SECURITY_GROUPS_CACHE_SECS,
                Duration::from_secs(keys::HADOOP_SECURITY_GROUPS_CACHE_SECS_DEFAULT),
                TimeUnit::Seconds,
            )?,
            group_overrides: hafs_security::groups::parse_static_overrides(&conf.get_or(
                keys::HADOOP_USER_GROUP_STATIC_MAPPING_OVERRIDES,
                keys::HADOOP_USER_GROUP_STATIC_MAPPING_OVERRIDES_DEFAULT,
            )),
        };
        let http_spnego = hafs_http::spnego::acceptor_from_conf(
            conf,
            &hostname
                .clone()
                .unwrap_or_else(|| local_host_name(http_bind)),
            keys::DFS_DATANODE_KEYTAB_FILE,
        )?;
        let webhdfs = conf
            .get_bool(keys::DFS_WEBHDFS_ENABLED, keys::DFS_WEBHDFS_ENABLED_DEFAULT)?
            .then(|| crate::webhdfs::WebHdfsConfig {
                conf: conf.clone(),
                nameservices: conf.nameservices(),
                namenodes: namenodes.clone(),
                secure: http_spnego.is_some(),
            });
        Ok(DataNodeConfig {
            data_dirs,
            data_dir_types,
            xfer_bind,
            ipc_bind,
            ipc_auth,
            http_spnego,
            webhdfs,
            prometheus: conf.get_bool(
                keys::HADOOP_PROMETHEUS_ENDPOINT_ENABLED,
                keys::HADOOP_PROMETHEUS_ENDPOINT_ENABLED_DEFAULT,
            )?,
            http_bind,
            hostname,
            namenodes,
            block_pools,
            actor,
            failed_volumes_tolerated,
            xceiver,
            scanner_bytes_per_second,
            scan_period,
            du_reserved: conf.get_size_bytes(
                keys::DFS_DATANODE_DU_RESERVED,
                keys::DFS_DATANODE_DU_RESERVED_DEFAULT,
            )?,
            admin,
            reload: None,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DataNodeError {
    #[error("{0}")]
    Storage(#[from] DnStorageError),
    #[error("cannot listen on {addr} ({key}): {source}")]
    Bind {
        key: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("no NameNode accepted this DataNode (wrong cluster?); see the log")]
    AllNameNodesRefused,
    #[error("{0}")]
    Other(String),
}

/// A started DataNode.
pub struct DataNode {
    storage: DataNodeStorage,
    xceiver: XceiverServer,
    xfer_listener: Option<TcpListener>,
    ipc_server: Option<Server>,
    http: Option<hafs_http::HttpServer>,
    /// One block pool service per nameservice served; `refreshNamenodes` changes them.
    pools: Arc<BlockPoolManager>,
    xfer_addr: SocketAddr,
    ipc_addr: SocketAddr,
    /// Where the block scanner reports corrupt replicas (the actors forward them).
    events: mpsc::Sender<BlockEvent>,
    /// Routes the data path's events to their pool's actors.
    forwarder: tokio::task::JoinHandle<()>,
    scanner: ScannerConfig,
}

/// How often every volume is probed (Hadoop checks on IO errors and at most every
/// `dfs.datanode.disk.check.min.gap`; a probe is one small file write and fsync).
const VOLUME_CHECK_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

impl DataNode {
    /// Opens the storage, binds the data and IPC ports and starts the actors.
    pub async fn start(config: DataNodeConfig) -> Result<DataNode, DataNodeError> {
        let dirs = config.data_dirs.clone();
        let types = config.data_dir_types.clone();
        let tolerated = config.failed_volumes_tolerated;
        let storage = tokio::task::spawn_blocking(move || {
            DataNodeStorage::open_typed(&dirs, &types, None, tolerated)
        })
        .await
        .map_err(|e| DataNodeError::Other(format!("storage open task failed: {e}")))??;
        storage.set_reserved(config.du_reserved);
        let (ev_tx, ev_rx) = mpsc::channel(EVENT_QUEUE);

        let xfer_listener = TcpListener::bind(config.xfer_bind)
            .await
            .map_err(|source| DataNodeError::Bind {
                key: keys::DFS_DATANODE_ADDRESS,
                addr: config.xfer_bind,
                source,
            })?;
        let xfer_addr = xfer_listener
            .local_addr()
            .map_err(|source| DataNodeError::Bind {
                key: keys::DFS_DATANODE_ADDRESS,
                addr: config.xfer_bind,
                source,
            })?;
        let xceiver = XceiverServer::new(storage.clone(), config.xceiver.clone(), ev_tx.clone());

        let endpoints =
            crate::http::DataNodeEndpoints::new(storage.clone(), config.webhdfs.clone());
        let mut http_config = hafs_http::HttpConfig::new(config.http_bind, "DataNode");
        http_config.spnego = config.http_spnego.clone();
        http_config.prometheus = config.prometheus;
        let http = hafs_http::HttpServer::start(http_config, endpoints.clone())
            .await
            .map_err(|source| DataNodeError::Bind {
                key: keys::DFS_DATANODE_HTTP_ADDRESS,
                addr: config.http_bind,
                source,
            })?;
        let http_port = http.local_addr().port();

        let local = Arc::new(StorageRecovery {
            storage: storage.clone(),
            events: ev_tx.clone(),
        });
        let admin_targets = Arc::new(std::sync::OnceLock::new());
        let services: Vec<Arc<dyn RpcService>> = vec![
            Arc::new(InterDatanodeService::new(local.clone())),
            Arc::new(ClientDatanodeService::new(
                storage.clone(),
                config.xceiver.security.clone(),
                config.xceiver.balance.clone(),
                config.admin.clone(),
                admin_targets.clone(),
            )),
        ];
        let mut ipc_config = ServerConfig::new(config.ipc_bind);
        ipc_config.auth = config.ipc_auth.clone();
        let ipc_server =
            Server::bind(ipc_config, services)
                .await
                .map_err(|source| DataNodeError::Bind {
                    key: keys::DFS_DATANODE_IPC_ADDRESS,
                    addr: config.ipc_bind,
                    source,
                })?;
        let ipc_addr = ipc_server.local_addr();
        let _ = endpoints.rpc.set(ipc_server.metrics());

        // The address NameNodes hand to clients and other DataNodes. A wildcard bind
        // has no single address: use dfs.datanode.hostname, else loopback (single-host
        // clusters and tests; set dfs.datanode.hostname on real clusters).
        let advertised = config.hostname.clone().unwrap_or_else(|| {
            if xfer_addr.ip().is_unspecified() {
                "127.0.0.1".to_string()
            } else {
                xfer_addr.ip().to_string()
            }
        });
        let id = DatanodeIdProto {
            ip_addr: advertised.clone(),
            host_name: advertised,
            datanode_uuid: storage.datanode_uuid().to_string(),
            xfer_port: u32::from(xfer_addr.port()),
            info_port: u32::from(http_port),
            ipc_port: u32::from(ipc_addr.port()),
            info_secure_port: None,
        };
        let shown_namenodes = Arc::new(std::sync::RwLock::new(config.namenodes.clone()));
        let _ = endpoints.identity.set(crate::http::DataNodeIdentity {
            hostname: id.host_name.clone(),
            xfer_port: xfer_addr.port(),
            ipc_port: ipc_addr.port(),
            http_port,
            namenodes: shown_namenodes.clone(),
        });
        let (sink_tx, sink_rx) = watch::channel(None::<BlockEventRouter>);
        let ops = Arc::new(StorageOps {
            storage: storage.clone(),
            xceiver: xceiver.clone(),
            recovery: BlockRecoveryWorker::new(
                local,
                storage.datanode_uuid().to_string(),
                config.actor.call_timeout,
            ),
            xmits: AtomicUsize::new(0),
            sink: sink_rx,
        });
        // One service per nameservice, sharing the storage, the xceiver and this
        // identity (UUID, ports); each has its own actors, Active and namespace.
        let pools = Arc::new(BlockPoolManager::start(
            &config.block_pools,
            id.clone(),
            config.actor.clone(),
            ops.clone(),
        ));
        let router = pools.router();
        let _ = sink_tx.send(Some(router.clone()));
        let _ = admin_targets.set(DataNodeAdminTargets {
            pools: pools.clone(),
            reload: config.reload.clone(),
            shown_namenodes,
        });
        let forwarder = router.forward(ev_rx);
        info!(xfer = %xfer_addr, ipc = %ipc_addr, http = %http.local_addr(), uuid = %storage.datanode_uuid(),
              nameservices = ?config.block_pools.iter().map(|p| &p.nameservice).collect::<Vec<_>>(),
              namenodes = ?config.namenodes, "DataNode started");
        Ok(DataNode {
            storage,
            xceiver,
            xfer_listener: Some(xfer_listener),
            http: Some(http),
            ipc_server: Some(ipc_server),
            pools,
            forwarder,
            xfer_addr,
            ipc_addr,
            events: ev_tx,
            scanner: ScannerConfig {
                bytes_per_second: config.scanner_bytes_per_second,
                rescan_interval: config.scan_period,
                ..ScannerConfig::default()
            },
        })
    }

    pub fn xfer_addr(&self) -> SocketAddr {
        self.xfer_addr
    }

    pub fn ipc_addr(&self) -> SocketAddr {
        self.ipc_addr
    }

    /// Where the HTTP server listens (`dfs.datanode.http.address`).
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http.as_ref().map(|h| h.local_addr())
    }

    pub fn datanode_uuid(&self) -> &str {
        self.storage.datanode_uuid()
    }

    /// The block pool services, one per nameservice served.
    pub fn block_pools(&self) -> &Arc<BlockPoolManager> {
        &self.pools
    }

    /// Serves until `shutdown` resolves (Ok) or every NameNode of every nameservice
    /// refused this DataNode: while any pool is served the DataNode runs.
    pub async fn run(
        mut self,
        shutdown: impl std::future::Future<Output = ()> + Send,
    ) -> Result<(), DataNodeError> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let stopped = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let listener = self.xfer_listener.take();
        let xceiver = self.xceiver.clone();
        let xfer_stop = stopped(stop_rx.clone());
        let xfer_task = tokio::spawn(async move {
            if let Some(l) = listener {
                xceiver.serve(l, xfer_stop).await;
            }
        });
        let ipc = self.ipc_server.take();
        let ipc_stop = stopped(stop_rx.clone());
        let ipc_task = tokio::spawn(async move {
            if let Some(s) = ipc {
                s.run(ipc_stop).await;
            }
        });
        let scanner = BlockScanner::new(
            self.storage.clone(),
            self.scanner.clone(),
            self.events.clone(),
        );
        let scan_task = tokio::spawn(scanner.run(stopped(stop_rx.clone())));
        let volume_task = tokio::spawn(check_volumes_periodically(
            self.storage.clone(),
            self.events.clone(),
            stop_rx.clone(),
        ));
        let result = tokio::select! {
            _ = shutdown => Ok(()),
            () = self.pools.all_refused() => {
                error!("every NameNode refused this DataNode; stopping");
                Err(DataNodeError::AllNameNodesRefused)
            }
        };
        info!("DataNode stopping");
        let _ = stop_tx.send(true);
        self.pools.stop_all().await;
        self.forwarder.abort();
        let _ = xfer_task.await;
        let _ = ipc_task.await;
        let _ = scan_task.await;
        let _ = volume_task.await;
        if let Some(http) = self.http.take() {
            http.stop().await;
        }
        info!("DataNode stopped");
        result
    }
}

/// Probes every volume now and then; a failed one is taken out, reported, and the
/// DataNode stops once more volumes failed than `dfs.datanode.failed.volumes.tolerated`.
async fn check_volumes_periodically(
    storage: DataNodeStorage,
    events: mpsc::Sender<BlockEvent>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(VOLUME_CHECK_INTERVAL) => {}
        }
        let st = storage.clone();
        let failed = match tokio::task::spawn_blocking(move || st.check_volumes()).await {
            Ok(f) => f,
            Err(e) => {
                error!("volume check task failed: {e}");
                continue;
            }
        };
        for f in failed {
            error!(dir = %f.dir.display(), reason = %f.reason, "volume failed; taken out of service");
            let _ = events
                .send(BlockEvent::VolumeFailed {
                    storage_id: f.storage_id,
                    dir: f.dir,
                    reason: f.reason,
                })
                .await;
        }
        if let Err(e) = storage.check_failed_tolerance() {
            error!("{e}; the DataNode cannot go on");
            std::process::exit(1);
        }
    }
}

/// The actors' view of the storage and data path.
struct StorageOps {
    storage: DataNodeStorage,
    xceiver: XceiverServer,
    recovery: BlockRecoveryWorker,
    /// TRANSFER commands being executed.
    xmits: AtomicUsize,
    /// Set right after the actors start (they need the ops, the ops need their sink).
    sink: watch::Receiver<Option<BlockEventRouter>>,
}

impl StorageOps {
    fn sink(&self) -> Option<BlockEventRouter> {
        self.sink.borrow().clone()
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| format!("storage task failed: {e}"))
}

#[async_trait::async_trait]
impl DataNodeOps for StorageOps {
    async fn join_block_pool(&self, ns: &NamespaceInfo) -> Result<(), JoinError> {
        let storage = self.storage.clone();
        let ns = ns.clone();
        // The cluster id is shared by every nameservice; the pool's own VERSION
        // (namespace id, pool id) is checked on each volume.
        let r = blocking(move || {
            storage.set_cluster_id(&ns.cluster_id)?;
            storage.join_block_pool(ns.namespace_id, &ns.block_pool_id, ns.ctime as i64)
        })
        .await
        .map_err(JoinError::Other)?;
        match r {
            Ok(()) => Ok(()),
            Err(
                e @ (DnStorageError::ClusterIdMismatch { .. }
                | DnStorageError::BlockPoolMismatch { .. }
                | DnStorageError::Invalid(_)),
            ) => Err(JoinError::WrongCluster(e.to_string())),
            Err(e) => Err(JoinError::Other(e.to_string())),
        }
    }

    fn storage_usage(&self, _block_pool_id: &str) -> Vec<StorageReport> {
        self.storage.storage_reports()
    }

    fn block_pool_used(
        &self,
        block_pool_id: &str,
    ) -> Option<std::collections::HashMap<String, u64>> {
        Some(self.storage.block_pool_used(block_pool_id))
    }

    fn storage_type(&self, storage_id: &str) -> i32 {
        self.storage
            .storage_type(storage_id)
            .unwrap_or(hafs_proto::hdfs::StorageTypeProto::Disk as i32)
    }

    fn failed_volumes(&self) -> u32 {
        self.storage.volume_failures().len() as u32
    }

    fn xceiver_count(&self) -> u32 {
        self.xceiver.active_connections() as u32
    }

    fn xmits_in_progress(&self) -> u32 {
        self.xmits.load(Ordering::Relaxed) as u32
    }

    async fn block_report(&self, block_pool_id: &str) -> Result<Vec<ReplicaReport>, String> {
        let storage = self.storage.clone();
        let bpid = block_pool_id.to_string();
        blocking(move || storage.block_report(&bpid)).await
    }

    async fn execute(&self, cmd: BlockCommand, active: ActiveNameNode) -> Result<(), String> {
        match cmd {
            BlockCommand::Invalidate { blocks } => {
                let mut failed = Vec::new();
                for b in blocks {
                    let storage = self.storage.clone();
                    let blk = b.clone();
                    match blocking(move || storage.invalidate(&blk)).await? {
                        Ok(info) => {
                            if let Some(sink) = self.sink() {
                                sink.deleted(&info.storage_id, &b);
                            }
                        }
                        Err(DnStorageError::ReplicaNotFound(_)) => {
                            // Already gone: the NameNode's wish is fulfilled.
                        }
                        Err(e) => failed.push(e.to_string()),
                    }
                }
                if failed.is_empty() {
                    Ok(())
                } else {
                    Err(format!("invalidate: {}", failed.join("; ")))
                }
            }
            BlockCommand::Transfer {
                block,
                targets,
                target_storage_uuids: _,
                target_storage_types,
            } => {
                transfer(
                    &self.xceiver,
                    &self.storage,
                    &self.xmits,
                    block,
                    targets,
                    &target_storage_types,
                )
                .await
            }
            BlockCommand::Recover(rb) => self
                .recovery
                .recover(&rb, &active)
                .await
                .map_err(|e| e.to_string()),
            BlockCommand::Finalize { block_pool_id } => {
                info!(%block_pool_id, "FINALIZE: no upgrade to finalize");
                Ok(())
            }
        }
    }
}

/// A NameNode TRANSFER command: copy a replica to other DataNodes (re-replication).
async fn transfer(
    xceiver: &XceiverServer,
    storage: &DataNodeStorage,
    xmits: &AtomicUsize,
    block: ExtendedBlock,
    targets: Vec<hafs_proto::hdfs::DatanodeInfoProto>,
    target_storage_types: &[i32],
) -> Result<(), String> {
    let names: Vec<String> = targets
        .iter()
        .map(|t| format_host_port(&t.id.ip_addr, t.id.xfer_port as u16))
        .collect();
    xmits.fetch_add(1, Ordering::Relaxed);
    let r = transfer_block(
        storage,
        xceiver.config(),
        &block,
        &targets,
        target_storage_types,
    )
    .await;
    xmits.fetch_sub(1, Ordering::Relaxed);
    match r {
        Ok(()) => {
            info!(block = %block, targets = ?names, "replica transferred");
            Ok(())
        }
        Err(e) => Err(format!("transfer of {block} to {names:?}: {e}")),
    }
}

/// Block recovery on this DataNode's storage, for the InterDatanodeProtocol server and
/// the recovery primary.
struct StorageRecovery {
    storage: DataNodeStorage,
    events: mpsc::Sender<BlockEvent>,
}

fn recovery_error(e: DnStorageError) -> RpcError {
    let msg = e.to_string();
    if msg.contains("already in progress") {
        RpcError::new(exceptions::RECOVERY_IN_PROGRESS, msg)
    } else {
        RpcError::io(msg)
    }
}

#[async_trait::async_trait]
impl LocalRecovery for StorageRecovery {
    async fn init_replica_recovery(
        &self,
        block: &ExtendedBlock,
        recovery_id: u64,
    ) -> Result<Option<ReplicaRecoveryInfo>, RpcError> {
        let storage = self.storage.clone();
        let b = block.clone();
        let r = blocking(move || storage.init_replica_recovery(&b, recovery_id))
            .await
            .map_err(RpcError::io)?;
        match r {
            Ok(i) => Ok(Some(ReplicaRecoveryInfo {
                block_id: i.block_id,
                gen_stamp: i.gen_stamp,
                num_bytes: i.num_bytes,
                original_state: i.original_state,
            })),
            Err(DnStorageError::ReplicaNotFound(_)) => Ok(None),
            Err(e) => Err(recovery_error(e)),
        }
    }

    async fn update_replica_under_recovery(
        &self,
        block: &ExtendedBlock,
        recovery_id: u64,
        new_length: u64,
    ) -> Result<String, RpcError> {
        let storage = self.storage.clone();
        let b = block.clone();
        let info = blocking(move || {
            storage.update_replica_under_recovery(&b, recovery_id, b.block_id, new_length)
        })
        .await
        .map_err(RpcError::io)?
        .map_err(recovery_error)?;
        // The recovered replica is finalized: every NameNode must learn it.
        let _ = self
            .events
            .send(BlockEvent::Received {
                block: info.block(),
                storage_id: info.storage_id.clone(),
                del_hint: String::new(),
            })
            .await;
        Ok(info.storage_id)
    }
}

/// The host name `_HOST` stands for in the SPNEGO principal: the bind address's, or
/// this machine's when the bind is a wildcard.
fn local_host_name(bind: SocketAddr) -> String {
    if bind.ip().is_unspecified() {
        hafs_ipc::auth::kerberos::canonical_host("127.0.0.1")
    } else {
        hafs_ipc::auth::kerberos::canonical_host(&bind.ip().to_string())
    }
}

fn addresses(pairs: Vec<(String, String)>) -> Vec<String> {
    pairs.into_iter().map(|(_, addr)| addr).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(pairs: &[(&str, &str)]) -> Configuration {
        let mut c = Configuration::new();
        c.set("fs.defaultFS", "hdfs://127.0.0.1:8020");
        for (k, v) in pairs {
            c.set(k, *v);
        }
        c
    }

    #[test]
    fn defaults_are_hadoops() {
        let c = DataNodeConfig::from_conf(&conf(&[("hadoop.tmp.dir", "/tmp/x")])).unwrap();
        assert_eq!(c.data_dirs, vec![PathBuf::from("/tmp/x/dfs/data")]);
        assert_eq!(c.xfer_bind.to_string(), "0.0.0.0:9866");
        assert_eq!(c.ipc_bind.to_string(), "0.0.0.0:9867");
        assert_eq!(c.http_bind.port(), 9864);
        assert_eq!(c.actor.heartbeat_interval, Duration::from_secs(3));
        assert_eq!(
            c.actor.block_report_interval,
            Duration::from_millis(21_600_000)
        );
        assert_eq!(c.failed_volumes_tolerated, 0);
        assert_eq!(c.xceiver.max_transfer_threads, 4096);
        assert_eq!(c.scanner_bytes_per_second, 1024 * 1024);
        assert_eq!(c.namenodes, vec!["127.0.0.1:8020".to_string()]);
    }

    #[test]
    fn several_data_dirs_and_ha_namenodes() {
        let c = DataNodeConfig::from_conf(&conf(&[
            ("dfs.datanode.data.dir", "file:///d1, [DISK]file:///d2,/d3"),
            ("dfs.nameservices", "ns1"),
            ("dfs.ha.namenodes.ns1", "nn1,nn2"),
            ("dfs.namenode.rpc-address.ns1.nn1", "127.0.0.1:8020"),
            ("dfs.namenode.rpc-address.ns1.nn2", "127.0.0.1:8021"),
            ("dfs.datanode.failed.volumes.tolerated", "-1"),
        ]))
        .unwrap();
        assert_eq!(
            c.data_dirs,
            vec![
                PathBuf::from("/d1"),
                PathBuf::from("/d2"),
                PathBuf::from("/d3")
            ]
        );
        assert_eq!(c.namenodes, vec!["127.0.0.1:8020", "127.0.0.1:8021"]);
        assert_eq!(c.failed_volumes_tolerated, 2);
        assert_eq!(c.data_dir_types, [1, 1, 1]);
    }

    #[test]
    fn storage_type_prefixes() {
        let c = DataNodeConfig::from_conf(&conf(&[(
            "dfs.datanode.data.dir",
            "[SSD]file:///s,[archive]/a,[Ram_Disk]/r,[DISK]/d,/plain",
        )]))
        .unwrap();
        assert_eq!(c.data_dir_types, [2, 3, 4, 1, 1]);
        assert_eq!(c.data_dirs[1], PathBuf::from("/a"));
        for v in ["[FLASH]/x", "[SSD/x"] {
            let e = DataNodeConfig::from_conf(&conf(&[("dfs.datanode.data.dir", v)]))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("dfs.datanode.data.dir") && e.contains(v),
                "{v}: {e}"
            );
        }
    }

    #[test]
    fn one_block_pool_per_internal_nameservice() {
        let mut pairs = vec![
            ("dfs.nameservices", "ns1,ns2,remote"),
            ("dfs.internal.nameservices", "ns1,ns2"),
            ("dfs.ha.namenodes.ns1", "nn1,nn2"),
            ("dfs.namenode.rpc-address.ns1.nn1", "127.0.0.1:8020"),
            ("dfs.namenode.rpc-address.ns1.nn2", "127.0.0.1:8021"),
            ("dfs.namenode.rpc-address.ns2", "127.0.0.1:8022"),
            ("dfs.namenode.rpc-address.remote", "far:8020"),
        ];
        let c = DataNodeConfig::from_conf(&conf(&pairs)).unwrap();
        assert_eq!(
            c.block_pools,
            vec![
                BlockPoolConfig {
                    nameservice: "ns1".into(),
                    namenodes: vec!["127.0.0.1:8020".into(), "127.0.0.1:8021".into()],
                },
                BlockPoolConfig {
                    nameservice: "ns2".into(),
                    namenodes: vec!["127.0.0.1:8022".into()],
                },
            ]
        );
        assert_eq!(c.namenodes.len(), 3);
        // Without the internal list every nameservice is served.
        pairs.retain(|(k, _)| *k != "dfs.internal.nameservices");
        let c = DataNodeConfig::from_conf(&conf(&pairs)).unwrap();
        assert_eq!(c.block_pools.len(), 3);
        // A nameservice without addresses is a startup error naming the key.
        pairs.push(("dfs.internal.nameservices", "ns1,ns3"));
        let e = DataNodeConfig::from_conf(&conf(&pairs)).unwrap_err();
        assert!(e.to_string().contains("dfs.ha.namenodes.ns3"), "{e}");
    }

    #[test]
    fn bad_values_name_the_key() {
        for (k, v) in [
            ("dfs.heartbeat.interval", "soon"),
            ("dfs.blockreport.intervalMsec", "-5"),
            ("dfs.datanode.failed.volumes.tolerated", "1"),
            ("dfs.datanode.max.transfer.threads", "lots"),
            ("dfs.datanode.address", "nonsense"),
            ("dfs.datanode.data.dir", "hdfs://x/y"),
            ("dfs.block.scanner.volume.bytes.per.second", "fast"),
        ] {
            let e = DataNodeConfig::from_conf(&conf(&[(k, v)])).unwrap_err();
            assert!(e.to_string().contains(k), "{k}={v}: {e}");
        }
    }
}
