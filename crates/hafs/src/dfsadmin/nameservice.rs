//! The NameNodes of an HA nameservice, each addressed on its own. Some dfsadmin commands
//! act on every NameNode rather than on the Active only (Hadoop's DFSAdmin does this
//! through HAUtil.getProxiesForAllNameNodesInNameservice): safe mode and saveNamespace
//! are per-NameNode states, so an operator wants the Standbys in them too.

use hafs_client::namenode_addresses;
use hafs_client::{ClientError, DfsClient};
use hafs_conf::{keys, Configuration};

/// One NameNode of the nameservice, with a client that talks to it alone.
pub struct NameNodeTarget {
    pub client: DfsClient,
    /// `host:port` of its RPC server (for protocols other than ClientProtocol).
    pub addr: String,
    /// How Hadoop prints the address (Java's InetSocketAddress: `host/ip:port`).
    pub shown: String,
}

/// Whether `fs.defaultFS` (after `-fs`) names an HA nameservice rather than one
/// NameNode's `host:port` (Hadoop's HAUtilClient.isLogicalUri: a failover proxy
/// provider is configured for it; we also accept a nameservice that lists NameNodes,
/// since our own client needs no proxy provider).
pub fn logical_authority(conf: &Configuration) -> Option<String> {
    let uri = conf.get_trimmed(keys::FS_DEFAULT_FS)?;
    let rest = uri.strip_prefix("hdfs://")?;
    let authority = rest.split('/').next().unwrap_or_default().to_string();
    if authority.is_empty() || authority.contains(':') {
        return None;
    }
    let provider = keys::with_suffixes(
        keys::DFS_CLIENT_FAILOVER_PROXY_PROVIDER_PREFIX,
        &[&authority],
    );
    let namenodes = keys::with_suffixes(keys::DFS_HA_NAMENODES_PREFIX, &[&authority]);
    let listed = conf
        .get_trimmed(&namenodes)
        .is_some_and(|v| v.split(',').any(|s| !s.trim().is_empty()));
    (conf.get_trimmed(&provider).is_some() || listed).then_some(authority)
}

/// A direct client per NameNode of `nameservice`, in the configured order. A direct
/// client does not fail over or retry: a NameNode that is down or refuses is
/// reported as such at once, naming it.
pub async fn all_namenodes(
    conf: &Configuration,
    nameservice: &str,
) -> Result<Vec<NameNodeTarget>, ClientError> {
    let mut direct = conf.clone();
    direct.set(keys::DFS_CLIENT_FAILOVER_MAX_ATTEMPTS, "0");
    let mut out = Vec::new();
    for addr in namenode_addresses(conf, nameservice)? {
        let client = DfsClient::new(&direct, Some(&format!("hdfs://{addr}")))?;
        out.push(NameNodeTarget {
            client,
            shown: java_socket_address(&addr).await,
            addr,
        });
    }
    Ok(out)
}

/// Java's InetSocketAddress.toString for `host:port`: `host/ip:port` once resolved,
/// `/ip:port` for an IP literal, `host/<unresolved>:port` when it does not resolve.
async fn java_socket_address(addr: &str) -> String {
    let Some((host, port)) = addr.rsplit_once(':') else {
        return addr.to_string();
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<std::net::IpAddr>() {
        return format!("/{ip}:{port}");
    }
    match tokio::net::lookup_host(addr).await {
        // Hadoop's launch scripts prefer IPv4 (java.net.preferIPv4Stack).
        Ok(found) => {
            let ips: Vec<std::net::IpAddr> = found.map(|sa| sa.ip()).collect();
            match ips.iter().find(|ip| ip.is_ipv4()).or(ips.first()) {
                Some(ip) => format!("{host}/{ip}:{port}"),
                None => format!("{host}/<unresolved>:{port}"),
            }
        }
        Err(_) => format!("{host}/<unresolved>:{port}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn addresses_print_as_java_does() {
        assert_eq!(
            java_socket_address("127.0.0.1:8020").await,
            "/127.0.0.1:8020"
        );
        assert_eq!(
            java_socket_address("localhost:8020").await,
            "localhost/127.0.0.1:8020"
        );
        assert_eq!(
            java_socket_address("no-such-host.invalid:1").await,
            "no-such-host.invalid/<unresolved>:1"
        );
    }

    #[test]
    fn logical_only_for_a_nameservice() {
        let mut conf = Configuration::new();
        conf.set("fs.defaultFS", "hdfs://ns1");
        assert_eq!(logical_authority(&conf), None);
        conf.set("dfs.ha.namenodes.ns1", "nn1,nn2");
        assert_eq!(logical_authority(&conf).as_deref(), Some("ns1"));
        conf.set("fs.defaultFS", "hdfs://127.0.0.1:8020");
        assert_eq!(logical_authority(&conf), None);
    }
}
