//! The site XML of a local cluster, as (key, value) lists in the order they are
//! written: what names the nameservices and their NameNodes, where edits are shared,
//! the ViewFs mount table over several nameservices, and each daemon's own entries
//! (its identity, addresses and storage). Every local cluster (`hafs sandbox`, the
//! benchmarks, the process tests' MiniCluster and Federation) builds its files from
//! these; each adds its own tuning (timeouts, block sizes) on top with [`set`].

use crate::ha_cluster::AutoTimeouts;

/// One site file's entries, in order.
pub type Site = Vec<(String, String)>;

/// Hadoop's client-side proxy provider for an HA nameservice: the Java client needs it
/// named to treat the nameservice id as a logical name.
pub const FAILOVER_PROXY_PROVIDER: &str =
    "org.apache.hadoop.hdfs.server.namenode.ha.ConfiguredFailoverProxyProvider";
/// Hadoop's proxy provider for clients that read from Observer NameNodes.
pub const OBSERVER_READ_PROXY_PROVIDER: &str =
    "org.apache.hadoop.hdfs.server.namenode.ha.ObserverReadProxyProvider";
/// `dfs.namenode.shared.edits.dir`.
pub const SHARED_EDITS_KEY: &str = "dfs.namenode.shared.edits.dir";

/// One NameNode's identity and addresses within its nameservice.
#[derive(Debug, Clone)]
pub struct NameNodeAddrs {
    /// `nn1`, `nn2`, ...
    pub id: String,
    /// Client RPC `host:port`.
    pub rpc: String,
    /// HTTP `host:port`.
    pub http: String,
}

/// One HA nameservice: its id and its NameNodes.
#[derive(Debug, Clone)]
pub struct Nameservice {
    pub id: String,
    pub namenodes: Vec<NameNodeAddrs>,
}

/// Replaces `key`'s value in `pairs`, or appends it.
pub fn set(pairs: &mut Site, key: &str, value: &str) {
    match pairs.iter_mut().find(|(k, _)| k == key) {
        Some(slot) => slot.1 = value.to_string(),
        None => pairs.push((key.to_string(), value.to_string())),
    }
}

/// Whether `key` is a common (core-site.xml) key rather than an HDFS one: Java's
/// client reads `hadoop.*` security settings and `fs.*`/`ipc.*` from core-site.xml
/// only.
pub fn is_common_key(key: &str) -> bool {
    matches!(key.split_once('.'), Some(("hadoop" | "ipc" | "fs", _)))
}

/// The client-visible hdfs-site entries of `nameservices` (one or several, a
/// federation): `dfs.nameservices`, each one's NameNodes with their RPC and HTTP
/// addresses and the failover proxy provider. Several nameservices are also listed
/// in `dfs.internal.nameservices`, the ones the DataNodes serve.
pub fn nameservices_site(nameservices: &[Nameservice]) -> Site {
    let ids: Vec<&str> = nameservices.iter().map(|n| n.id.as_str()).collect();
    let mut hdfs = vec![("dfs.nameservices".to_string(), ids.join(","))];
    if nameservices.len() > 1 {
        hdfs.push(("dfs.internal.nameservices".into(), ids.join(",")));
    }
    for ns in nameservices {
        let nn_ids: Vec<&str> = ns.namenodes.iter().map(|n| n.id.as_str()).collect();
        hdfs.push((format!("dfs.ha.namenodes.{}", ns.id), nn_ids.join(",")));
        for nn in &ns.namenodes {
            hdfs.push((
                format!("dfs.namenode.rpc-address.{}.{}", ns.id, nn.id),
                nn.rpc.clone(),
            ));
            hdfs.push((
                format!("dfs.namenode.http-address.{}.{}", ns.id, nn.id),
                nn.http.clone(),
            ));
        }
        hdfs.push((
            format!("dfs.client.failover.proxy.provider.{}", ns.id),
            FAILOVER_PROXY_PROVIDER.into(),
        ));
    }
    hdfs
}

/// `qjournal://host1:port1;host2:port2/<journal>`: edits of journal `journal` on the
/// JournalNodes at `addrs`.
pub fn qjournal_uri(addrs: &[String], journal: &str) -> String {
    format!("qjournal://{}/{journal}", addrs.join(";"))
}

/// The shared-edits entry of each nameservice on the JournalNodes at `addrs`, each in
/// its own journal named after it: one `dfs.namenode.shared.edits.dir` for a single
/// nameservice, `dfs.namenode.shared.edits.dir.<ns>` for each of several.
pub fn shared_edits_site(nameservices: &[&str], addrs: &[String]) -> Site {
    match nameservices {
        [ns] => vec![(SHARED_EDITS_KEY.to_string(), qjournal_uri(addrs, ns))],
        many => many
            .iter()
            .map(|ns| (format!("{SHARED_EDITS_KEY}.{ns}"), qjournal_uri(addrs, ns)))
            .collect(),
    }
}

/// The core-site entries of a ViewFs mount table `table` over `nameservices`: the
/// default file system `viewfs://<table>`, one mount `/<ns>` → `hdfs://<ns>/` per
/// nameservice, and the first nameservice as the fallback for every other path (so
/// `/user/...` and `/tmp` work as on a single nameservice).
pub fn viewfs_site(table: &str, nameservices: &[&str]) -> Site {
    let mut core = vec![("fs.defaultFS".to_string(), format!("viewfs://{table}"))];
    for ns in nameservices {
        core.push((
            format!("fs.viewfs.mounttable.{table}.link./{ns}"),
            format!("hdfs://{ns}/"),
        ));
    }
    if let Some(first) = nameservices.first() {
        core.push((
            format!("fs.viewfs.mounttable.{table}.linkFallback"),
            format!("hdfs://{first}/"),
        ));
    }
    core
}

/// The hdfs-site entries of automatic failover: a controller beside each NameNode on
/// `dfs.ha.zkfc.port.<ns>.<nn>` (`controllers`: nameservice, NameNode id, port), its
/// health checks and fencing timeouts, and the election: ZooKeeper at `zookeeper`
/// (`ha.zookeeper.quorum` and the session timeout) or, without one, the JournalNodes'
/// lease.
pub fn auto_failover_site(
    t: &AutoTimeouts,
    zookeeper: Option<&str>,
    controllers: &[(String, String, u16)],
) -> Site {
    let ms = |v: u32| v.to_string();
    let mut site = vec![
        (
            "dfs.ha.automatic-failover.enabled".to_string(),
            "true".to_string(),
        ),
        (
            "ha.health-monitor.check-interval.ms".into(),
            ms(t.health_check_ms),
        ),
        (
            "ha.health-monitor.rpc-timeout.ms".into(),
            ms(t.health_rpc_timeout_ms),
        ),
        (
            "ha.failover-controller.graceful-fence.rpc-timeout.ms".into(),
            ms(t.graceful_fence_ms),
        ),
    ];
    if let Some(v) = t.cli_check_ms {
        site.push((
            "ha.failover-controller.cli-check.rpc-timeout.ms".into(),
            ms(v),
        ));
    }
    if let Some(v) = t.new_active_ms {
        site.push((
            "ha.failover-controller.new-active.rpc-timeout.ms".into(),
            ms(v),
        ));
    }
    for (ns, nn, port) in controllers {
        site.push((format!("dfs.ha.zkfc.port.{ns}.{nn}"), port.to_string()));
    }
    match zookeeper {
        Some(quorum) => {
            site.push(("ha.zookeeper.quorum".into(), quorum.to_string()));
            site.push((
                "ha.zookeeper.session-timeout.ms".into(),
                ms(t.zk_session_ms),
            ));
        }
        None => {
            site.push(("hafs.ha.election.lease.ms".into(), ms(t.lease_ms)));
            site.push(("hafs.ha.election.renew-interval.ms".into(), ms(t.renew_ms)));
        }
    }
    site
}

/// A NameNode's own entries: which NameNode of which nameservice it is (the
/// nameservice only matters with several) and its name dir.
pub fn namenode_own_site(nameservice: Option<&str>, id: &str, name_dir: &str) -> Site {
    let mut own = Vec::new();
    if let Some(ns) = nameservice {
        own.push(("dfs.nameservice.id".to_string(), ns.to_string()));
    }
    own.push(("dfs.ha.namenode.id".to_string(), id.to_string()));
    own.push(("dfs.namenode.name.dir".to_string(), name_dir.to_string()));
    own
}

/// A JournalNode's own entries: its addresses and edits dir.
pub fn journalnode_own_site(rpc: &str, http: &str, edits_dir: &str) -> Site {
    vec![
        ("dfs.journalnode.rpc-address".to_string(), rpc.to_string()),
        ("dfs.journalnode.http-address".to_string(), http.to_string()),
        (
            "dfs.journalnode.edits.dir".to_string(),
            edits_dir.to_string(),
        ),
    ]
}

/// A DataNode's own entries: its data dirs (`file://…`, optionally `[TYPE]`-prefixed)
/// and its transfer, IPC and HTTP addresses.
pub fn datanode_own_site(data_dirs: &[String], xfer: &str, ipc: &str, http: &str) -> Site {
    vec![
        ("dfs.datanode.data.dir".to_string(), data_dirs.join(",")),
        ("dfs.datanode.address".to_string(), xfer.to_string()),
        ("dfs.datanode.ipc.address".to_string(), ipc.to_string()),
        ("dfs.datanode.http.address".to_string(), http.to_string()),
    ]
}

/// `base` with `own` on top (each key of `own` replacing the same key of `base`).
pub fn with_own(base: &[(String, String)], own: &[(String, String)]) -> Site {
    let mut site = base.to_vec();
    for (k, v) in own {
        set(&mut site, k, v);
    }
    site
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(id: &str, ports: &[u16]) -> Nameservice {
        Nameservice {
            id: id.into(),
            namenodes: ports
                .iter()
                .enumerate()
                .map(|(i, p)| NameNodeAddrs {
                    id: format!("nn{}", i + 1),
                    rpc: format!("127.0.0.1:{p}"),
                    http: format!("127.0.0.1:{}", p + 1),
                })
                .collect(),
        }
    }

    fn get<'a>(site: &'a Site, key: &str) -> Option<&'a str> {
        site.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    #[test]
    fn one_nameservice() {
        let site = nameservices_site(&[ns("hafs", &[8020, 8030])]);
        assert_eq!(get(&site, "dfs.nameservices"), Some("hafs"));
        assert_eq!(get(&site, "dfs.internal.nameservices"), None);
        assert_eq!(get(&site, "dfs.ha.namenodes.hafs"), Some("nn1,nn2"));
        assert_eq!(
            get(&site, "dfs.namenode.rpc-address.hafs.nn2"),
            Some("127.0.0.1:8030")
        );
        assert_eq!(
            get(&site, "dfs.namenode.http-address.hafs.nn1"),
            Some("127.0.0.1:8021")
        );
        let jns = ["127.0.0.1:1".to_string(), "127.0.0.1:2".to_string()];
        assert_eq!(
            shared_edits_site(&["hafs"], &jns),
            vec![(
                SHARED_EDITS_KEY.to_string(),
                "qjournal://127.0.0.1:1;127.0.0.1:2/hafs".to_string()
            )]
        );
    }

    #[test]
    fn several_nameservices_and_their_mount_table() {
        let site = nameservices_site(&[ns("ns1", &[1000, 1010]), ns("ns2", &[2000, 2010])]);
        assert_eq!(get(&site, "dfs.nameservices"), Some("ns1,ns2"));
        assert_eq!(get(&site, "dfs.internal.nameservices"), Some("ns1,ns2"));
        assert_eq!(
            get(&site, "dfs.namenode.rpc-address.ns2.nn1"),
            Some("127.0.0.1:2000")
        );
        assert_eq!(
            get(&site, "dfs.client.failover.proxy.provider.ns2"),
            Some(FAILOVER_PROXY_PROVIDER)
        );
        let edits = shared_edits_site(&["ns1", "ns2"], &["127.0.0.1:1".to_string()]);
        assert_eq!(
            get(&edits, "dfs.namenode.shared.edits.dir.ns2"),
            Some("qjournal://127.0.0.1:1/ns2")
        );
        let core = viewfs_site("hafs", &["ns1", "ns2"]);
        assert_eq!(get(&core, "fs.defaultFS"), Some("viewfs://hafs"));
        assert_eq!(
            get(&core, "fs.viewfs.mounttable.hafs.link./ns2"),
            Some("hdfs://ns2/")
        );
        assert_eq!(
            get(&core, "fs.viewfs.mounttable.hafs.linkFallback"),
            Some("hdfs://ns1/")
        );
    }

    #[test]
    fn own_entries_replace_shared_ones() {
        let base = vec![
            ("dfs.replication".to_string(), "3".to_string()),
            (
                "dfs.datanode.address".to_string(),
                "0.0.0.0:9866".to_string(),
            ),
        ];
        let own = datanode_own_site(
            &["file:///d1".into(), "[SSD]file:///d2".into()],
            "127.0.0.2:1",
            "127.0.0.2:2",
            "127.0.0.2:3",
        );
        let site = with_own(&base, &own);
        assert_eq!(site.len(), 5);
        assert_eq!(get(&site, "dfs.datanode.address"), Some("127.0.0.2:1"));
        assert_eq!(
            get(&site, "dfs.datanode.data.dir"),
            Some("file:///d1,[SSD]file:///d2")
        );
        let nn = namenode_own_site(Some("ns2"), "nn1", "/n");
        assert_eq!(get(&nn, "dfs.nameservice.id"), Some("ns2"));
        assert_eq!(namenode_own_site(None, "nn1", "/n").len(), 2);
        assert!(is_common_key("hadoop.rpc.protection"));
        let controllers = [("ns2".to_string(), "nn1".to_string(), 4000)];
        let zk = auto_failover_site(&AutoTimeouts::TESTS, Some("127.0.0.1:2181"), &controllers);
        assert_eq!(get(&zk, "dfs.ha.zkfc.port.ns2.nn1"), Some("4000"));
        assert_eq!(get(&zk, "ha.zookeeper.quorum"), Some("127.0.0.1:2181"));
        assert_eq!(get(&zk, "hafs.ha.election.lease.ms"), None);
        let lease = auto_failover_site(&AutoTimeouts::SANDBOX, None, &controllers);
        assert_eq!(
            get(&lease, "hafs.ha.election.renew-interval.ms"),
            Some("250")
        );
        assert_eq!(
            get(&lease, "ha.failover-controller.cli-check.rpc-timeout.ms"),
            None
        );
        assert!(!is_common_key("dfs.replication"));
    }
}
