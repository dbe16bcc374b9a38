//! Several nameservices in one configuration (HDFS federation): which nameservices the
//! DataNodes serve, which nameservice and NameNode a daemon is, and the per-NameNode
//! keys (`key.<ns>.<nn>`, `key.<ns>`) that become its plain keys.
//!
//! One hdfs-site.xml can then serve every daemon of every nameservice, as in Hadoop:
//! a daemon finds itself by `dfs.nameservice.id` / `dfs.ha.namenode.id`, or else by the
//! one configured RPC address that is local (Hadoop's `DFSUtil.getSuffixIDs`), and then
//! reads its own `dfs.namenode.name.dir.ns1.nn1` as `dfs.namenode.name.dir` (Hadoop's
//! `NameNode.initializeGenericKeys`).

use crate::keys::{
    with_suffixes, DFS_HA_FENCING_METHODS, DFS_HA_NAMENODE_ID, DFS_HA_ZKFC_PORT,
    DFS_INTERNAL_NAMESERVICES, DFS_NAMENODE_EDITS_DIR, DFS_NAMENODE_HTTP_ADDRESS,
    DFS_NAMENODE_KERBEROS_INTERNAL_SPNEGO_PRINCIPAL, DFS_NAMENODE_KERBEROS_PRINCIPAL,
    DFS_NAMENODE_KEYTAB_FILE, DFS_NAMENODE_NAME_DIR, DFS_NAMENODE_RPC_ADDRESS,
    DFS_NAMENODE_SHARED_EDITS_DIR, DFS_NAMESERVICE_ID,
};
use crate::{ConfError, Configuration};

/// Keys one NameNode may set for itself with a `.<ns>.<nn>` (or `.<ns>`) suffix: the
/// suffixed value, when present, replaces the plain key for that NameNode (and its
/// failover controller). Those of Hadoop's list that hafs reads.
pub const NAMENODE_SPECIFIC_KEYS: &[&str] = &[
    DFS_NAMENODE_RPC_ADDRESS,
    DFS_NAMENODE_NAME_DIR,
    DFS_NAMENODE_EDITS_DIR,
    DFS_NAMENODE_SHARED_EDITS_DIR,
    DFS_NAMENODE_HTTP_ADDRESS,
    DFS_NAMENODE_KEYTAB_FILE,
    DFS_NAMENODE_KERBEROS_PRINCIPAL,
    DFS_NAMENODE_KERBEROS_INTERNAL_SPNEGO_PRINCIPAL,
    DFS_HA_FENCING_METHODS,
    DFS_HA_ZKFC_PORT,
];

/// Which NameNode this process is: its nameservice and, in an HA nameservice, its id.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NameNodeIdentity {
    pub nameservice: Option<String>,
    pub namenode_id: Option<String>,
}

impl Configuration {
    /// The nameservices this cluster's DataNodes serve: `dfs.internal.nameservices`,
    /// else `dfs.nameservices` (the internal list lets a configuration also name other
    /// clusters' nameservices, for clients, without DataNodes registering there).
    pub fn internal_nameservices(&self) -> Vec<String> {
        let internal = self.get_trimmed_strings(DFS_INTERNAL_NAMESERVICES);
        if internal.is_empty() {
            self.nameservices()
        } else {
            internal
        }
    }

    /// Finds which NameNode this process is.
    ///
    /// `dfs.nameservice.id` and `dfs.ha.namenode.id` when set; otherwise every
    /// configured NameNode RPC address (of the explicit nameservice, or of all of
    /// `dfs.nameservices`) is tried with `is_local`, and exactly one must match. A
    /// configuration without nameservices gives an empty identity (a plain NameNode).
    /// With one nameservice the nameservice is that one even when no address matches
    /// (the NameNode's own checks then name what is missing).
    pub fn namenode_identity(
        &self,
        is_local: impl Fn(&str) -> bool,
    ) -> Result<NameNodeIdentity, ConfError> {
        let all = self.nameservices();
        let explicit_ns = self
            .get_trimmed(DFS_NAMESERVICE_ID)
            .filter(|v| !v.is_empty());
        let explicit_nn = self
            .get_trimmed(DFS_HA_NAMENODE_ID)
            .filter(|v| !v.is_empty());
        if let Some(ns) = &explicit_ns {
            if !all.contains(ns) {
                return Err(ConfError::bad_value(
                    DFS_NAMESERVICE_ID,
                    ns,
                    format!(
                        "one of the nameservices in dfs.nameservices ({})",
                        all.join(", ")
                    ),
                ));
            }
        }
        let candidates: Vec<String> = match &explicit_ns {
            Some(ns) => vec![ns.clone()],
            None => all.clone(),
        };
        if candidates.is_empty() {
            return Ok(NameNodeIdentity {
                nameservice: None,
                namenode_id: explicit_nn,
            });
        }
        if let (Some(ns), Some(nn)) = (&explicit_ns, &explicit_nn) {
            return Ok(NameNodeIdentity {
                nameservice: Some(ns.clone()),
                namenode_id: Some(nn.clone()),
            });
        }
        // (nameservice, namenode id) whose RPC address is local.
        let mut matches: Vec<(String, Option<String>)> = Vec::new();
        for ns in &candidates {
            let ids = self.namenode_ids(ns);
            if ids.is_empty() {
                let key = with_suffixes(DFS_NAMENODE_RPC_ADDRESS, &[ns]);
                if self
                    .get_trimmed(&key)
                    .is_some_and(|a| is_local(address_host(&a)))
                {
                    matches.push((ns.clone(), None));
                }
                continue;
            }
            for id in ids {
                if explicit_nn.as_ref().is_some_and(|nn| *nn != id) {
                    continue;
                }
                let key = with_suffixes(DFS_NAMENODE_RPC_ADDRESS, &[ns, &id]);
                if self
                    .get_trimmed(&key)
                    .is_some_and(|a| is_local(address_host(&a)))
                {
                    matches.push((ns.clone(), Some(id)));
                }
            }
        }
        let nameservices: Vec<&String> = {
            let mut v: Vec<&String> = matches.iter().map(|(ns, _)| ns).collect();
            v.dedup();
            v
        };
        match nameservices.as_slice() {
            [ns] => {
                let ns = (*ns).clone();
                // One local address in the nameservice names the NameNode too; several
                // (all NameNodes on one host) leave it to dfs.ha.namenode.id.
                let namenode_id = explicit_nn.or_else(|| match matches.as_slice() {
                    [(_, id)] => id.clone(),
                    _ => None,
                });
                Ok(NameNodeIdentity {
                    nameservice: Some(ns),
                    namenode_id,
                })
            }
            [] if candidates.len() == 1 => Ok(NameNodeIdentity {
                nameservice: Some(candidates[0].clone()),
                namenode_id: explicit_nn,
            }),
            [] => Err(ConfError::NotSet {
                key: DFS_NAMESERVICE_ID.to_string(),
                hint: format!(
                    "no NameNode RPC address of nameservices {} is local; set \
                     {DFS_NAMESERVICE_ID} and {DFS_HA_NAMENODE_ID}",
                    candidates.join(", ")
                ),
            }),
            many => Err(ConfError::NotSet {
                key: DFS_NAMESERVICE_ID.to_string(),
                hint: format!(
                    "NameNode RPC addresses of several nameservices ({}) are local; set \
                     {DFS_NAMESERVICE_ID} (and {DFS_HA_NAMENODE_ID}) to say which one \
                     this is",
                    many.iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }),
        }
    }

    /// Copies this NameNode's suffixed keys onto the plain ones: for each of
    /// [`NAMENODE_SPECIFIC_KEYS`], `key.<ns>.<nn>` if set, else `key.<ns>`. Also sets
    /// `dfs.nameservice.id` and `dfs.ha.namenode.id` to the identity, so later readers
    /// agree with it.
    pub fn initialize_generic_keys(&mut self, identity: &NameNodeIdentity) {
        let Some(ns) = identity.nameservice.as_deref() else {
            return;
        };
        let nn = identity.namenode_id.as_deref().unwrap_or("");
        for key in NAMENODE_SPECIFIC_KEYS {
            let most_specific = [with_suffixes(key, &[ns, nn]), with_suffixes(key, &[ns])]
                .into_iter()
                .find(|k| self.is_set(k));
            if let Some(k) = most_specific {
                if let Some(raw) = self.get_raw(&k).map(str::to_string) {
                    self.set(key, raw);
                }
            }
        }
        self.set(DFS_NAMESERVICE_ID, ns);
        if !nn.is_empty() {
            self.set(DFS_HA_NAMENODE_ID, nn);
        }
    }
}

/// The host of `host:port` (`[v6]:port` too).
fn address_host(addr: &str) -> &str {
    let addr = addr.trim();
    if let Some(rest) = addr.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    addr.rsplit_once(':').map_or(addr, |(h, _)| h)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two HA nameservices on four hosts, one shared file for all daemons.
    fn federated() -> Configuration {
        let mut c = Configuration::new();
        c.set("dfs.nameservices", "ns1,ns2,remote");
        c.set("dfs.internal.nameservices", "ns1,ns2");
        for (ns, nn, host) in [
            ("ns1", "nn1", "h1"),
            ("ns1", "nn2", "h2"),
            ("ns2", "nn1", "h3"),
            ("ns2", "nn2", "h4"),
        ] {
            c.set(&format!("dfs.ha.namenodes.{ns}"), "nn1,nn2");
            c.set(
                &format!("dfs.namenode.rpc-address.{ns}.{nn}"),
                format!("{host}:8020"),
            );
            c.set(
                &format!("dfs.namenode.name.dir.{ns}.{nn}"),
                format!("/data/{ns}-{nn}"),
            );
        }
        c.set("dfs.ha.namenodes.remote", "a");
        c.set("dfs.namenode.rpc-address.remote.a", "far:8020");
        c.set("dfs.namenode.shared.edits.dir.ns1", "qjournal://j:8485/ns1");
        c.set("dfs.namenode.shared.edits.dir.ns2", "qjournal://j:8485/ns2");
        c.set("dfs.namenode.name.dir", "/data/plain");
        c
    }

    #[test]
    fn internal_nameservices_fall_back_to_nameservices() {
        let mut c = federated();
        assert_eq!(c.internal_nameservices(), ["ns1", "ns2"]);
        c.unset("dfs.internal.nameservices");
        assert_eq!(c.internal_nameservices(), ["ns1", "ns2", "remote"]);
    }

    #[test]
    fn finds_itself_by_its_local_address() {
        let c = federated();
        let id = c.namenode_identity(|h| h == "h3").unwrap();
        assert_eq!(id.nameservice.as_deref(), Some("ns2"));
        assert_eq!(id.namenode_id.as_deref(), Some("nn1"));
    }

    #[test]
    fn explicit_ids_win_and_unknown_nameservice_is_refused() {
        let mut c = federated();
        c.set("dfs.nameservice.id", "ns2");
        c.set("dfs.ha.namenode.id", "nn2");
        // Every host "local" (a test machine): the explicit ids decide.
        let id = c.namenode_identity(|_| true).unwrap();
        assert_eq!(
            id,
            NameNodeIdentity {
                nameservice: Some("ns2".into()),
                namenode_id: Some("nn2".into())
            }
        );
        c.set("dfs.nameservice.id", "ns9");
        let err = c.namenode_identity(|_| true).unwrap_err().to_string();
        assert!(
            err.starts_with(r#"invalid value "ns9" for dfs.nameservice.id"#),
            "{err}"
        );
    }

    #[test]
    fn ambiguous_or_missing_local_addresses_name_the_key() {
        let mut c = federated();
        let err = c.namenode_identity(|_| true).unwrap_err().to_string();
        assert!(
            err.starts_with("dfs.nameservice.id is not set") && err.contains("ns1, ns2"),
            "{err}"
        );
        let err = c.namenode_identity(|_| false).unwrap_err().to_string();
        assert!(err.contains("no NameNode RPC address"), "{err}");
        // Only the namenode id given, all hosts local: still two nameservices.
        c.set("dfs.ha.namenode.id", "nn1");
        assert!(c.namenode_identity(|_| true).is_err());
        // Only the nameservice given: every address of it local, the id stays open.
        c.unset("dfs.ha.namenode.id");
        c.set("dfs.nameservice.id", "ns1");
        let id = c.namenode_identity(|_| true).unwrap();
        assert_eq!(id.nameservice.as_deref(), Some("ns1"));
        assert_eq!(id.namenode_id, None);
    }

    #[test]
    fn one_nameservice_or_none() {
        let mut c = Configuration::new();
        assert_eq!(
            c.namenode_identity(|_| true).unwrap(),
            NameNodeIdentity::default()
        );
        c.set("dfs.nameservices", "solo");
        c.set("dfs.namenode.rpc-address.solo", "h:8020");
        let id = c.namenode_identity(|_| false).unwrap();
        assert_eq!(id.nameservice.as_deref(), Some("solo"));
        assert_eq!(id.namenode_id, None);
    }

    #[test]
    fn generic_keys_take_the_most_specific_value() {
        let mut c = federated();
        let id = NameNodeIdentity {
            nameservice: Some("ns2".into()),
            namenode_id: Some("nn2".into()),
        };
        c.initialize_generic_keys(&id);
        assert_eq!(c.get("dfs.namenode.name.dir").unwrap(), "/data/ns2-nn2");
        assert_eq!(c.get("dfs.namenode.rpc-address").unwrap(), "h4:8020");
        assert_eq!(
            c.get("dfs.namenode.shared.edits.dir").unwrap(),
            "qjournal://j:8485/ns2"
        );
        assert_eq!(c.get("dfs.nameservice.id").unwrap(), "ns2");
        assert_eq!(c.get("dfs.ha.namenode.id").unwrap(), "nn2");
        // A key with no suffixed form keeps its plain value.
        let mut c = federated();
        c.unset("dfs.namenode.name.dir.ns1.nn1");
        c.initialize_generic_keys(&NameNodeIdentity {
            nameservice: Some("ns1".into()),
            namenode_id: Some("nn1".into()),
        });
        assert_eq!(c.get("dfs.namenode.name.dir").unwrap(), "/data/plain");
    }
}
