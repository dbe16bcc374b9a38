//! `hafs zkfc`: the automatic failover controller beside a NameNode (Hadoop's
//! DFSZKFailoverController), and `hafs zkfc -formatZK [-force] [-nonInteractive]`.
//!
//! Exit codes are Hadoop's: 2 format refused, 3 no parent znode, 4 no fencer,
//! 5 automatic failover not enabled, 6 no ZooKeeper quorum configured.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use anyhow::Context;
use async_trait::async_trait;
use hafs_conf::Configuration;
use hafs_ha::zkfc::health::HealthSettings;
use hafs_ha::zkfc::journal_elector::{JournalElector, JournalElectorConfig};
use hafs_ha::zkfc::protocol::{zkfc_port, ZkfcOps, ZkfcProtocolService};
use hafs_ha::zkfc::{
    zk_elector, ActiveNodeInfo, Elector, FailoverRequestError, ZkConf, ZkElector, Zkfc,
    ZkfcSettings,
};
use hafs_ha::{auto_failover_enabled, FailoverTimeouts, HaTarget, NodeFencer};
use hafs_ipc::{ClientConfig, RpcService, Server, ServerConfig};
use hafs_namenode::NameNodeConfig;

const USAGE: &str = "Usage: hafs zkfc [ -formatZK [-force] [-nonInteractive] ]";

const ERR_CODE_FORMAT_DENIED: i32 = 2;
const ERR_CODE_NO_PARENT_ZNODE: i32 = 3;
const ERR_CODE_NO_FENCER: i32 = 4;
const ERR_CODE_AUTO_FAILOVER_NOT_ENABLED: i32 = 5;
const ERR_CODE_NO_ZK: i32 = 6;

pub async fn run(conf: Configuration, args: &[String]) -> anyhow::Result<i32> {
    let (mut format, mut force, mut interactive) = (false, false, true);
    for a in args {
        match a.as_str() {
            "-formatZK" => format = true,
            "-force" => force = true,
            "-nonInteractive" => interactive = false,
            "-h" | "-help" | "--help" => {
                println!("{USAGE}");
                return Ok(0);
            }
            other => {
                eprintln!("hafs zkfc: bad argument: {other}\n{USAGE}");
                return Ok(1);
            }
        }
    }
    if (force || !interactive) && !format {
        eprintln!("{USAGE}");
        return Ok(1);
    }

    // Federation: the controller is its NameNode's, whose `.<ns>.<nn>` keys apply.
    let conf = hafs_namenode::config::resolve_own_keys(&conf)?;
    let nn = NameNodeConfig::from_conf(&conf)?;
    let Some(ha) = nn.ha else {
        eprintln!("hafs zkfc: HA is not enabled for this namenode.");
        return Ok(1);
    };
    let ns = ha.nameservice.clone();
    let local = HaTarget::resolve(&conf, &ns, &ha.namenode_id)?;
    if !auto_failover_enabled(&conf, &ns) {
        eprintln!(
            "Automatic failover is not enabled for {local}. Please ensure that automatic \
             failover is enabled in the configuration before running the ZK failover controller."
        );
        return Ok(ERR_CODE_AUTO_FAILOVER_NOT_ENABLED);
    }
    let backend = match ZkConf::from_conf(&conf, &ns).map_err(anyhow::Error::msg)? {
        Some(zk) => Backend::ZooKeeper(zk),
        // No ZooKeeper: the built-in election over the JournalNodes of the shared edits.
        None => match JournalElectorConfig::from_conf(&conf, &ns, &local.namenode_id) {
            Ok(cfg) => Backend::Journal(cfg),
            Err(e) => {
                eprintln!(
                    "Missing required configuration 'ha.zookeeper.quorum' for ZooKeeper \
                     quorum, and the built-in election cannot run: {e}"
                );
                return Ok(ERR_CODE_NO_ZK);
            }
        },
    };
    match backend {
        Backend::ZooKeeper(zk) if format => format_zk(&zk, force, interactive).await,
        Backend::Journal(_) if format => {
            eprintln!(
                "hafs zkfc -formatZK: 'ha.zookeeper.quorum' is not set; the built-in \
                 election needs no formatting"
            );
            Ok(ERR_CODE_NO_ZK)
        }
        backend => serve(conf, ns, local, backend).await,
    }
}

/// Which election the controller runs.
enum Backend {
    ZooKeeper(ZkConf),
    Journal(JournalElectorConfig),
}

async fn format_zk(zk: &ZkConf, force: bool, interactive: bool) -> anyhow::Result<i32> {
    let client = zk_elector::admin_connect(zk)
        .await
        .with_context(|| format!("Unable to connect to ZooKeeper quorum at {}", zk.quorum))?;
    let parent = &zk.parent;
    if zk_elector::parent_exists(&client, zk).await? {
        if !force && (!interactive || !confirm_format(parent)?) {
            eprintln!(
                "Parent znode {parent} already exists; not formatting it (use -force to clear it)."
            );
            return Ok(ERR_CODE_FORMAT_DENIED);
        }
        if let Err(e) = zk_elector::clear_parent(&client, zk).await {
            tracing::error!("Unable to clear zk parent znode: {e}");
            eprintln!("Unable to clear zk parent znode: {e}");
            return Ok(1);
        }
        tracing::info!("Recursively deleted {parent} from ZK.");
    }
    zk_elector::ensure_parent(&client, zk).await?;
    println!("Successfully created {parent} in ZK.");
    Ok(0)
}

fn confirm_format(parent: &str) -> anyhow::Result<bool> {
    eprintln!(
        "===============================================\n\
         The configured parent znode {parent} already exists.\n\
         Are you sure you want to clear all failover information from\n\
         ZooKeeper?\n\
         WARNING: Before proceeding, ensure that all HDFS services and\n\
         failover controllers are stopped!\n\
         ==============================================="
    );
    for _ in 0..10 {
        eprint!("Proceed formatting {parent}? (Y or N) ");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        if std::io::stdin().read_line(&mut line)? == 0 {
            return Ok(false);
        }
        match line.trim().to_ascii_lowercase().as_str() {
            "y" | "yes" => return Ok(true),
            "n" | "no" => return Ok(false),
            _ => eprintln!("Invalid input: {}", line.trim()),
        }
    }
    Ok(false)
}

/// The ZKFCProtocol handler, set once the controller exists (the server binds first so
/// that a port 0 is known before our candidate record is built).
#[derive(Default)]
struct LateOps(OnceLock<Arc<dyn ZkfcOps>>);

#[async_trait]
impl ZkfcOps for LateOps {
    async fn cede_active(&self, millis: u32) -> Result<(), FailoverRequestError> {
        match self.0.get() {
            Some(o) => o.cede_active(millis).await,
            None => Err(FailoverRequestError::Starting),
        }
    }
    async fn graceful_failover(&self) -> Result<(), FailoverRequestError> {
        match self.0.get() {
            Some(o) => o.graceful_failover().await,
            None => Err(FailoverRequestError::Starting),
        }
    }
}

async fn serve(
    conf: Configuration,
    ns: String,
    local: HaTarget,
    backend: Backend,
) -> anyhow::Result<i32> {
    if let Backend::ZooKeeper(zk) = &backend {
        let client = match zk_elector::admin_connect(zk).await {
            Ok(c) => c,
            Err(e) => {
                eprintln!(
                    "Unable to start failover controller. Unable to connect to ZooKeeper quorum at {}: {e}",
                    zk.quorum
                );
                return Ok(1);
            }
        };
        if !zk_elector::parent_exists(&client, zk).await? {
            eprintln!(
                "Unable to start failover controller. Parent znode does not exist.\n\
                 Run with -formatZK flag to initialize ZooKeeper."
            );
            return Ok(ERR_CODE_NO_PARENT_ZNODE);
        }
        drop(client);
    }
    let fencer = match NodeFencer::from_conf(&conf) {
        Ok(Some(f)) => f,
        Ok(None) => {
            eprintln!("Fencing is not configured for {local}.\nYou must configure a fencing method before using automatic failover.");
            return Ok(ERR_CODE_NO_FENCER);
        }
        Err(e) => {
            eprintln!("{e}");
            return Ok(ERR_CODE_NO_FENCER);
        }
    };

    let port = zkfc_port(&conf, &ns, &local.namenode_id)?;
    let bind: SocketAddr = tokio::net::lookup_host((local.host.as_str(), port))
        .await
        .with_context(|| format!("cannot resolve {}", local.host))?
        .next()
        .with_context(|| format!("{} resolves to no address", local.host))?;
    // The controller runs as its NameNode's principal, as Hadoop's
    // DFSZKFailoverController logs in with the NameNode's keytab.
    let role = hafs_ipc::auth::ServiceRole::NameNode;
    crate::security::login_daemon(&conf, role, &local.host)?;
    let mut server_config = ServerConfig::new(bind);
    server_config.auth = crate::security::server_auth(&conf, role, &local.host)?;
    let ops = Arc::new(LateOps::default());
    let security = crate::security::settings(&conf)?;
    let login_user = if security.is_kerberos() {
        let (principal, _) =
            security.service_login(role, &hafs_ipc::auth::kerberos::canonical_host(&local.host))?;
        security.auth_to_local().short_name_of(&principal)?
    } else {
        hafs_client::identity::current_user()
    };
    let groups = Arc::new(hafs_security::groups::GroupMapping::new(
        conf.get_time_duration(
            hafs_conf::keys::HADOOP_SECURITY_GROUPS_CACHE_SECS,
            std::time::Duration::from_secs(
                hafs_conf::keys::HADOOP_SECURITY_GROUPS_CACHE_SECS_DEFAULT,
            ),
            hafs_conf::TimeUnit::Seconds,
        )?,
        hafs_security::groups::parse_static_overrides(&conf.get_or(
            hafs_conf::keys::HADOOP_USER_GROUP_STATIC_MAPPING_OVERRIDES,
            hafs_conf::keys::HADOOP_USER_GROUP_STATIC_MAPPING_OVERRIDES_DEFAULT,
        )),
    ));
    let admins = hafs_ha::zkfc::protocol::ZkfcAdmins {
        login_user,
        administrators: conf.get_or(hafs_conf::keys::DFS_CLUSTER_ADMINISTRATORS, " "),
        groups_of: Arc::new(move |user: &str| groups.groups_of(user)),
    };
    let service: Arc<dyn RpcService> =
        Arc::new(ZkfcProtocolService::with_admins(ops.clone(), admins));
    let server = Server::bind(server_config, vec![service])
        .await
        .with_context(|| format!("cannot serve ZKFCProtocol on {bind}"))?;
    let zkfc_addr = server.local_addr();

    let mut peers = Vec::new();
    for t in HaTarget::all(&conf, &ns)? {
        if t.namenode_id != local.namenode_id {
            let p = zkfc_port(&conf, &ns, &t.namenode_id)?;
            let addr = format!("{}:{p}", t.host);
            peers.push((t, addr));
        }
    }
    let me = ActiveNodeInfo {
        nameservice_id: ns.clone(),
        namenode_id: local.namenode_id.clone(),
        hostname: local.host.clone(),
        port: local.port,
        zkfc_port: zkfc_addr.port(),
    };
    let settings = ZkfcSettings {
        me: me.clone(),
        local: local.clone(),
        peers,
        health: HealthSettings::from_conf(&conf)?,
        timeouts: FailoverTimeouts::from_conf(&conf),
        base: ClientConfig::new(hafs_client::identity::current_user()),
        fencer,
    };
    let (election, elector): (String, Box<dyn Elector>) = match backend {
        Backend::ZooKeeper(zk) => (
            format!("zookeeper {}", zk.quorum),
            Box::new(ZkElector::start(zk)),
        ),
        Backend::Journal(cfg) => (
            format!("journal {}", cfg.uri.addrs.join(",")),
            Box::new(JournalElector::new(cfg)),
        ),
    };
    let mut zkfc = Zkfc::start(settings, elector)?;
    let _ = ops.0.set(zkfc.ops());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server_task = tokio::spawn(server.run(async move {
        let _ = stop_rx.await;
    }));
    // Tests and scripts wait for this line.
    println!(
        "zkfc ready: nameservice {ns} namenode {} ({}) zkfc {zkfc_addr} election {election}",
        me.namenode_id, local.address
    );
    let _ = std::io::stdout().flush();

    let ended = tokio::select! {
        _ = crate::shutdown::shutdown_signal() => None,
        r = zkfc.wait() => Some(r),
    };
    let code = match ended {
        None => {
            tracing::info!("zkfc: stopping on signal");
            match zkfc.stop().await {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("hafs zkfc: {e}");
                    1
                }
            }
        }
        Some(r) => {
            let msg = r.err().map_or_else(|| "stopped".into(), |e| e.to_string());
            tracing::error!("zkfc: fatal: {msg}");
            eprintln!("hafs zkfc: {msg}");
            1
        }
    };
    let _ = stop_tx.send(());
    let _ = server_task.await;
    tracing::info!("zkfc stopped");
    Ok(code)
}
