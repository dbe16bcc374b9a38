//! `hafs journalnode`: run a JournalNode, or show the state of every JournalNode of the
//! shared edits (`-status`). Also the NameNode's shared-edits admin paths
//! (`namenode -format` / `-initializeSharedEdits`), which live here so that the
//! quorum-journal commands sit together.

use std::io::Write;
use std::net::SocketAddr;

use anyhow::{bail, Context};
use hafs_conf::Configuration;
use hafs_ipc::{ClientConfig, RpcClient};
use hafs_journal::client::{QjmConfig, QuorumJournal};
use hafs_journal::election::{view_from_proto, LeaseView};
use hafs_journal::protocol::{jid, NsInfo, QjournalUri, QJOURNAL_PROTOCOL};
use hafs_journal::server::{config_from, JournalNodeServer};
use hafs_namenode::{storage, NameNodeConfig};
use hafs_proto::qjournal as pb;

const USAGE: &str = "Usage: hafs journalnode [-status [qjournal://h1:p1;h2:p2;h3:p3/<journalId>]]";

pub async fn run(conf: Configuration, args: &[String]) -> anyhow::Result<i32> {
    match args.first().map(String::as_str) {
        None => serve(&conf).await,
        Some("-status") => status(&conf, args.get(1).map(String::as_str)).await,
        Some("-h" | "-help" | "--help") => {
            println!("{USAGE}");
            Ok(0)
        }
        Some(other) => {
            eprintln!("hafs journalnode: unknown option '{other}'\n{USAGE}");
            Ok(1)
        }
    }
}

async fn serve(conf: &Configuration) -> anyhow::Result<i32> {
    let (config, bind) = config_from(conf)?;
    let addr = resolve(&bind).await?;
    let host = crate::security::host_of(&bind);
    let role = hafs_ipc::auth::ServiceRole::JournalNode;
    crate::security::login_daemon(conf, role, host)?;
    let auth = crate::security::server_auth(conf, role, host)?;
    let dir = config.edits_dir.clone();
    let server = JournalNodeServer::bind_with_auth(config, addr, auth)
        .await
        .with_context(|| format!("cannot serve QJournalProtocol on {bind}"))?;
    let http = hafs_journal::server::http::start(
        conf,
        server.node.clone(),
        server.local_addr(),
        server.rpc_metrics(),
    )
    .await
    .map_err(anyhow::Error::msg)?;
    // Tests and scripts wait for this line.
    println!(
        "journalnode ready: rpc {} edits {} http {}",
        server.local_addr(),
        dir.display(),
        http.local_addr()
    );
    let _ = std::io::stdout().flush();
    server.run(crate::shutdown::shutdown_signal()).await;
    http.stop().await;
    tracing::info!("JournalNode stopped");
    Ok(0)
}

async fn resolve(addr: &str) -> anyhow::Result<SocketAddr> {
    tokio::net::lookup_host(addr)
        .await
        .with_context(|| format!("cannot resolve {addr}"))?
        .next()
        .with_context(|| format!("{addr} resolves to no address"))
}

/// `-status`: each JournalNode's epochs, committed and highest txids, lag and segments,
/// and its view of the built-in election's lease for the journal id.
async fn status(conf: &Configuration, uri: Option<&str>) -> anyhow::Result<i32> {
    let uri = match uri {
        Some(u) => u.to_string(),
        None => conf
            .get_trimmed(hafs_conf::keys::DFS_NAMENODE_SHARED_EDITS_DIR)
            .filter(|u| !u.is_empty())
            .context("no qjournal:// URI given and dfs.namenode.shared.edits.dir is not set")?,
    };
    let uri = QjournalUri::parse(&uri).map_err(anyhow::Error::msg)?;
    let qjm = QuorumJournal::new(
        uri.clone(),
        NsInfo {
            layout_version: 0,
            namespace_id: 0,
            cluster_id: String::new(),
            block_pool_id: String::new(),
        },
        QjmConfig::from_conf(conf)?,
    );
    let nodes = qjm.status().await;
    let leases = lease_states(conf, &uri).await?;
    let newest = nodes
        .iter()
        .filter_map(|n| n.result.as_ref().ok())
        .filter_map(|s| s.highest_written_tx_id)
        .max()
        .unwrap_or(0);
    println!("Journal {} on {} JournalNodes", uri.journal_id, nodes.len());
    let mut down = 0;
    for (n, lease) in nodes.iter().zip(&leases) {
        match &n.result {
            Ok(s) => {
                let high = s.highest_written_tx_id.unwrap_or(0);
                println!(
                    "{}: formatted={} lastPromisedEpoch={} lastWriterEpoch={} committedTxId={} highestWrittenTxId={} lag={}",
                    n.addr,
                    s.is_formatted.unwrap_or(false),
                    s.last_promised_epoch,
                    s.last_writer_epoch.unwrap_or(0),
                    s.committed_tx_id.unwrap_or(0),
                    high,
                    newest.saturating_sub(high)
                );
                for seg in &n.segments {
                    println!(
                        "    {} {}-{}",
                        if seg.in_progress {
                            "in-progress"
                        } else {
                            "finalized  "
                        },
                        seg.start_txid,
                        seg.end_txid
                    );
                }
                match lease {
                    Ok(v) => println!("    {}", lease_line(v)),
                    Err(e) => println!("    lease unknown: {e}"),
                }
            }
            Err(e) => {
                down += 1;
                println!("{}: unreachable: {e}", n.addr);
            }
        }
    }
    Ok(if down == 0 { 0 } else { 1 })
}

/// Each JournalNode's `getLeaseState` for the journal id, in the URI's order.
async fn lease_states(
    conf: &Configuration,
    uri: &QjournalUri,
) -> anyhow::Result<Vec<Result<LeaseView, String>>> {
    let timeout = std::time::Duration::from_millis(conf.get_u64(
        hafs_ha::zkfc::journal_elector::RPC_TIMEOUT_MS_KEY,
        hafs_ha::zkfc::journal_elector::RPC_TIMEOUT_MS_DEFAULT,
    )?);
    let cfg = ClientConfig {
        connect_timeout: timeout,
        call_timeout: timeout,
        ..ClientConfig::default()
    };
    // Concurrently: a node that does not answer costs one timeout, not one each.
    let calls: Vec<_> = uri
        .addrs
        .iter()
        .map(|addr| {
            let client = RpcClient::new(addr.clone(), QJOURNAL_PROTOCOL, cfg.clone());
            let req = pb::GetLeaseStateRequestProto {
                jid: jid(&uri.journal_id),
            };
            tokio::spawn(async move {
                client
                    .call::<_, pb::GetLeaseStateResponseProto>("getLeaseState", &req)
                    .await
                    .map(|r| view_from_proto(&r.state))
                    .map_err(|e| e.to_string())
            })
        })
        .collect();
    let mut out = Vec::with_capacity(calls.len());
    for call in calls {
        out.push(call.await.unwrap_or_else(|e| Err(e.to_string())));
    }
    Ok(out)
}

/// One node's view of the lease: who holds which term, whether it is live here and for
/// how long yet (this node's clock), and whose breadcrumb it keeps.
fn lease_line(v: &LeaseView) -> String {
    let crumb = match &v.breadcrumb {
        Some(b) => format!("{} (term {})", b.holder, b.term),
        None => "none".to_string(),
    };
    format!(
        "lease: holder={} term={} live={} remainingMs={} durationMs={} breadcrumb={}",
        v.holder.as_deref().unwrap_or("none"),
        v.term,
        v.live,
        v.remaining_ms,
        v.duration_ms,
        crumb
    )
}

/// After `namenode -format`: formats the JournalNodes too when the edit log is a quorum
/// journal (every JournalNode must answer, as in Hadoop).
pub async fn format_shared_edits(config: &NameNodeConfig, force: bool) -> anyhow::Result<()> {
    let Some(uri) = &config.shared_edits else {
        return Ok(());
    };
    storage::format_shared_edits(&config.name_dirs, uri, &config.qjm, force)
        .await
        .with_context(|| {
            format!("could not format the shared edits {uri} (every JournalNode must answer; add -force to erase a journal that holds edits)")
        })?;
    eprintln!("Formatted the shared edits {uri}.");
    Ok(())
}

/// `namenode -initializeSharedEdits [-force]`: copies this NameNode's edits to the
/// JournalNodes of `dfs.namenode.shared.edits.dir`.
pub async fn initialize_shared_edits(
    config: &NameNodeConfig,
    args: &[String],
) -> anyhow::Result<i32> {
    let force = args.iter().any(|a| a == "-force");
    if let Some(bad) = args
        .iter()
        .find(|a| *a != "-force" && *a != "-nonInteractive")
    {
        bail!("unknown -initializeSharedEdits option '{bad}'");
    }
    let Some(uri) = &config.shared_edits else {
        bail!("dfs.namenode.shared.edits.dir is not set: there are no shared edits to initialize");
    };
    let copied = storage::initialize_shared_edits(&config.name_dirs, uri, &config.qjm, force)
        .await
        .with_context(|| format!("could not initialize the shared edits {uri}"))?;
    eprintln!("Initialized the shared edits {uri}: copied {copied} edits.");
    Ok(0)
}
