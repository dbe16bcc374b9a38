//! One NameNode of a nameservice as an HA target: its ids, RPC address, whether
//! automatic failover manages it, and the parameters fencing methods receive.

use std::fmt;

use hafs_conf::keys::{
    DFS_HA_AUTOMATIC_FAILOVER_ENABLED, DFS_HA_AUTOMATIC_FAILOVER_ENABLED_DEFAULT,
};
use hafs_conf::parse::parse_host_port;
use hafs_conf::{Configuration, FsUri};

use crate::error::TargetError;

/// A NameNode that haadmin and the failover controller act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HaTarget {
    pub nameservice_id: String,
    pub namenode_id: String,
    /// `host:port` of its RPC server (HAServiceProtocol is served there).
    pub address: String,
    pub host: String,
    pub port: u16,
    pub auto_failover_enabled: bool,
}

impl HaTarget {
    /// Every NameNode of `ns`, in configured order.
    pub fn all(conf: &Configuration, ns: &str) -> Result<Vec<HaTarget>, TargetError> {
        let auto = auto_failover_enabled(conf, ns);
        conf.namenode_rpc_addresses(Some(ns))?
            .into_iter()
            .map(|(id, address)| {
                let (host, port) =
                    parse_host_port(&address, 8020).ok_or_else(|| TargetError::BadAddress {
                        id: id.clone(),
                        addr: address.clone(),
                    })?;
                Ok(HaTarget {
                    nameservice_id: ns.to_string(),
                    namenode_id: id,
                    address,
                    host,
                    port,
                    auto_failover_enabled: auto,
                })
            })
            .collect()
    }

    /// The NameNode `id` of nameservice `ns`.
    pub fn resolve(conf: &Configuration, ns: &str, id: &str) -> Result<HaTarget, TargetError> {
        HaTarget::all(conf, ns)?
            .into_iter()
            .find(|t| t.namenode_id == id)
            .ok_or_else(|| TargetError::UnknownNameNode { id: id.to_string() })
    }

    /// What a fencing method learns about its target (Hadoop's fencing parameters):
    /// `address`, `host`, `port`, `nameserviceid`, `namenodeid`. The shell fencer
    /// exports them as `$target_<name>`.
    pub fn fencing_parameters(&self) -> Vec<(&'static str, String)> {
        vec![
            ("address", self.address.clone()),
            ("host", self.host.clone()),
            ("port", self.port.to_string()),
            ("nameserviceid", self.nameservice_id.clone()),
            ("namenodeid", self.namenode_id.clone()),
        ]
    }
}

impl fmt::Display for HaTarget {
    /// As Hadoop names a NameNode target in messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NameNode at {}", self.address)
    }
}

/// `dfs.ha.automatic-failover.enabled`, where a `.<ns>` suffixed key overrides the
/// plain one (as Hadoop resolves per-nameservice keys).
pub fn auto_failover_enabled(conf: &Configuration, ns: &str) -> bool {
    let per_ns = format!("{DFS_HA_AUTOMATIC_FAILOVER_ENABLED}.{ns}");
    for key in [per_ns.as_str(), DFS_HA_AUTOMATIC_FAILOVER_ENABLED] {
        if let Some(v) = conf.get_trimmed(key) {
            if let Some(b) = hafs_conf::parse::parse_bool(&v) {
                return b;
            }
        }
    }
    DFS_HA_AUTOMATIC_FAILOVER_ENABLED_DEFAULT
}

/// The nameservice haadmin acts on: `-ns` when given; else the only one in
/// `dfs.nameservices`; else the logical nameservice named by `fs.defaultFS`.
pub fn resolve_nameservice(
    conf: &Configuration,
    explicit: Option<&str>,
) -> Result<String, TargetError> {
    if let Some(ns) = explicit {
        return Ok(ns.to_string());
    }
    let all = conf.nameservices();
    if all.len() == 1 {
        return Ok(all[0].clone());
    }
    if let Ok(FsUri {
        scheme, authority, ..
    }) = conf.default_fs()
    {
        let host = authority.split(':').next().unwrap_or("");
        if scheme == "hdfs" && !host.is_empty() && conf.is_logical_nameservice(host) {
            return Ok(host.to_string());
        }
    }
    if all.is_empty() {
        Err(TargetError::NoNameservice(
            "No HA nameservice is configured (dfs.nameservices and dfs.ha.namenodes.<ns>)"
                .to_string(),
        ))
    } else {
        Err(TargetError::NoNameservice(format!(
            "Multiple nameservices are configured ({}); specify one with -ns",
            all.join(", ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ha_conf() -> Configuration {
        let mut c = Configuration::new();
        c.set("dfs.nameservices", "mycluster");
        c.set("dfs.ha.namenodes.mycluster", "nn1,nn2");
        c.set("dfs.namenode.rpc-address.mycluster.nn1", "127.0.0.1:8020");
        c.set("dfs.namenode.rpc-address.mycluster.nn2", "127.0.0.1:8021");
        c
    }

    #[test]
    fn resolves_ids_and_fencing_parameters() {
        let conf = ha_conf();
        let ns = resolve_nameservice(&conf, None).unwrap();
        assert_eq!(ns, "mycluster");
        let t = HaTarget::resolve(&conf, &ns, "nn2").unwrap();
        assert_eq!(t.address, "127.0.0.1:8021");
        assert_eq!(t.port, 8021);
        assert_eq!(t.to_string(), "NameNode at 127.0.0.1:8021");
        let params = t.fencing_parameters();
        assert!(params.contains(&("namenodeid", "nn2".to_string())));
        assert!(params.contains(&("nameserviceid", "mycluster".to_string())));
        assert!(matches!(
            HaTarget::resolve(&conf, &ns, "nn9"),
            Err(TargetError::UnknownNameNode { .. })
        ));
        assert_eq!(HaTarget::all(&conf, &ns).unwrap().len(), 2);
    }

    #[test]
    fn auto_failover_per_nameservice_overrides() {
        let mut conf = ha_conf();
        assert!(!auto_failover_enabled(&conf, "mycluster"));
        conf.set("dfs.ha.automatic-failover.enabled", "true");
        assert!(auto_failover_enabled(&conf, "mycluster"));
        conf.set("dfs.ha.automatic-failover.enabled.mycluster", "false");
        assert!(!auto_failover_enabled(&conf, "mycluster"));
    }
}
