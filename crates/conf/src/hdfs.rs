//! HDFS addressing: `fs.defaultFS`, nameservices and NameNode RPC addresses, resolved
//! the way Hadoop's client and NameNode resolve them.

use std::fmt;

use crate::keys::{
    with_suffixes, DFS_CLIENT_FAILOVER_PROXY_PROVIDER_PREFIX, DFS_HA_NAMENODES_PREFIX,
    DFS_NAMENODE_RPC_ADDRESS, DFS_NAMENODE_RPC_PORT_DEFAULT, DFS_NAMESERVICES, FS_DEFAULT_FS,
};
use crate::parse::{format_host_port, parse_host_port};
use crate::{ConfError, Configuration};

/// The URI scheme of HDFS.
pub const HDFS_SCHEME: &str = "hdfs";

/// A file system URI split into its parts: `scheme://authority/path`.
///
/// Only what hafs needs: no query or fragment handling, no percent-decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsUri {
    /// Lower-cased; empty for a bare absolute path.
    pub scheme: String,
    /// `host[:port]`, a nameservice id, or (for `qjournal`) `h1:p1;h2:p2`; may be empty.
    pub authority: String,
    /// Starts with `/`, or is empty.
    pub path: String,
}

impl FsUri {
    /// Parses `scheme://authority/path`, `scheme:/path` or `/path`. `None` for
    /// relative paths, opaque URIs (`mailto:x`) and text with whitespace.
    pub fn parse(s: &str) -> Option<FsUri> {
        if s.is_empty() || s.chars().any(char::is_whitespace) {
            return None;
        }
        let (scheme, rest) = match s.split_once(':') {
            Some((scheme, rest)) if is_scheme(scheme) => (scheme.to_ascii_lowercase(), rest),
            _ => (String::new(), s),
        };
        if !rest.starts_with('/') {
            return None;
        }
        let (authority, path) = match rest.strip_prefix("//") {
            Some(after) => {
                let end = after.find(['/', '?', '#']).unwrap_or(after.len());
                (&after[..end], &after[end..])
            }
            None => ("", rest),
        };
        if scheme.is_empty() && !authority.is_empty() {
            // "//host/path" without a scheme: not something a conf value means.
            return None;
        }
        Some(FsUri {
            scheme,
            authority: authority.to_string(),
            path: path.to_string(),
        })
    }

    /// Host and port of the authority (user info dropped), with `default_port` when
    /// none is written. `None` if the authority is empty or not `host[:port]`.
    pub fn host_port(&self, default_port: u16) -> Option<(String, u16)> {
        let host_port = self
            .authority
            .rsplit_once('@')
            .map_or(self.authority.as_str(), |(_, hp)| hp);
        parse_host_port(host_port, default_port)
    }
}

impl fmt::Display for FsUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scheme.is_empty() {
            write!(f, "{}", self.path)
        } else {
            write!(f, "{}://{}{}", self.scheme, self.authority, self.path)
        }
    }
}

fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// Reads an `fs.defaultFS` value as Hadoop's FileSystem.getDefaultUri does: "local"
/// means `file:///`, and a bare `host:port` (no `/`) means `hdfs://host:port`.
pub(crate) fn parse_fs_name(value: &str) -> Option<FsUri> {
    let fixed = if value == "local" {
        "file:///".to_string()
    } else if !value.contains('/') {
        tracing::warn!(
            "\"{value}\" is a deprecated filesystem name; use \"hdfs://{value}/\" instead"
        );
        format!("hdfs://{value}")
    } else {
        value.to_string()
    };
    FsUri::parse(&fixed).filter(|uri| !uri.scheme.is_empty())
}

impl Configuration {
    /// The default file system, `fs.defaultFS` (default `file:///`).
    pub fn default_fs(&self) -> Result<FsUri, ConfError> {
        let value = self.try_get(FS_DEFAULT_FS)?.unwrap_or_default();
        let value = value.trim();
        parse_fs_name(value).ok_or_else(|| {
            ConfError::bad_value(
                FS_DEFAULT_FS,
                value,
                "a URI such as hdfs://host:port/ or file:///",
            )
        })
    }

    /// The nameservice ids in `dfs.nameservices`.
    pub fn nameservices(&self) -> Vec<String> {
        self.get_trimmed_strings(DFS_NAMESERVICES)
    }

    /// The NameNode ids of a nameservice, from `dfs.ha.namenodes.<ns>`, in order.
    pub fn namenode_ids(&self, nameservice: &str) -> Vec<String> {
        self.get_trimmed_strings(&with_suffixes(DFS_HA_NAMENODES_PREFIX, &[nameservice]))
    }

    /// Whether `host` names a logical (HA) nameservice rather than a machine: it is
    /// listed in `dfs.nameservices` or has a client failover proxy provider.
    pub fn is_logical_nameservice(&self, host: &str) -> bool {
        self.nameservices().iter().any(|ns| ns == host)
            || self
                .get(&with_suffixes(
                    DFS_CLIENT_FAILOVER_PROXY_PROVIDER_PREFIX,
                    &[host],
                ))
                .is_some_and(|v| !v.trim().is_empty())
    }

    /// NameNode RPC addresses as `(namenode id, "host:port")`, in configured order.
    ///
    /// With a nameservice: one entry per id in `dfs.ha.namenodes.<ns>`, each from
    /// `dfs.namenode.rpc-address.<ns>.<id>`; a nameservice without HA ids uses
    /// `dfs.namenode.rpc-address.<ns>` and an empty id.
    ///
    /// Without one (a non-HA cluster): `dfs.namenode.rpc-address`, else the authority
    /// of `fs.defaultFS` when it is an `hdfs://` URI (a logical nameservice there is
    /// resolved as above). The id is empty. Port 8020 applies when none is written.
    pub fn namenode_rpc_addresses(
        &self,
        nameservice: Option<&str>,
    ) -> Result<Vec<(String, String)>, ConfError> {
        if let Some(ns) = nameservice {
            return self.nameservice_rpc_addresses(ns);
        }
        if let Some(value) = self.try_get(DFS_NAMENODE_RPC_ADDRESS)? {
            if !value.trim().is_empty() {
                let addr = normalize_address(DFS_NAMENODE_RPC_ADDRESS, &value)?;
                return Ok(vec![(String::new(), addr)]);
            }
        }
        let fs = self.default_fs()?;
        if fs.scheme != HDFS_SCHEME || fs.authority.is_empty() {
            return Err(ConfError::NotSet {
                key: DFS_NAMENODE_RPC_ADDRESS.to_string(),
                hint: format!(
                    "fs.defaultFS is {fs}, which names no NameNode; set fs.defaultFS to \
                     hdfs://host:port or set {DFS_NAMENODE_RPC_ADDRESS}"
                ),
            });
        }
        let host = authority_host(&fs.authority);
        if self.is_logical_nameservice(host) {
            return self.nameservice_rpc_addresses(host);
        }
        let addr = normalize_address(FS_DEFAULT_FS, &fs.authority)?;
        Ok(vec![(String::new(), addr)])
    }

    fn nameservice_rpc_addresses(&self, ns: &str) -> Result<Vec<(String, String)>, ConfError> {
        let ids = self.namenode_ids(ns);
        if ids.is_empty() {
            let key = with_suffixes(DFS_NAMENODE_RPC_ADDRESS, &[ns]);
            return match self.try_get(&key)? {
                Some(v) if !v.trim().is_empty() => {
                    Ok(vec![(String::new(), normalize_address(&key, &v)?)])
                }
                _ => Err(ConfError::NotSet {
                    key: with_suffixes(DFS_HA_NAMENODES_PREFIX, &[ns]),
                    hint: format!(
                        "nameservice {ns} needs its NameNode ids there (with \
                         {DFS_NAMENODE_RPC_ADDRESS}.{ns}.<id> for each), or {key}"
                    ),
                }),
            };
        }
        ids.into_iter()
            .map(|id| {
                let key = with_suffixes(DFS_NAMENODE_RPC_ADDRESS, &[ns, &id]);
                match self.try_get(&key)? {
                    Some(v) if !v.trim().is_empty() => {
                        let addr = normalize_address(&key, &v)?;
                        Ok((id, addr))
                    }
                    _ => Err(ConfError::NotSet {
                        key,
                        hint: format!("NameNode {id} of nameservice {ns} needs an RPC address"),
                    }),
                }
            })
            .collect()
    }

    /// The NameNode addresses a client tries for the authority of an `hdfs://` URI.
    ///
    /// A logical nameservice id gives that nameservice's NameNodes in order (a port
    /// other than 8020 on a logical name is an error, as in Hadoop); anything else
    /// is a single `host[:port]` (default 8020). An empty authority (`hdfs:///x`)
    /// means the authority of `fs.defaultFS`.
    pub fn client_namenode_addresses(&self, authority: &str) -> Result<Vec<String>, ConfError> {
        let authority = authority.trim();
        if authority.is_empty() {
            let fs = self.default_fs()?;
            if fs.scheme != HDFS_SCHEME || fs.authority.is_empty() {
                return Err(ConfError::NotSet {
                    key: FS_DEFAULT_FS.to_string(),
                    hint: format!(
                        "the URI names no NameNode and fs.defaultFS ({fs}) is not an hdfs:// URI"
                    ),
                });
            }
            return self.client_namenode_addresses(&fs.authority);
        }
        let host = authority_host(authority);
        if self.is_logical_nameservice(host) {
            let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
            if let Some((_, port)) = parse_host_port(host_port, DFS_NAMENODE_RPC_PORT_DEFAULT) {
                if port != DFS_NAMENODE_RPC_PORT_DEFAULT {
                    return Err(ConfError::bad_value(
                        "hdfs URI authority",
                        authority,
                        format!("no port: {host} is a logical (HA) nameservice"),
                    ));
                }
            }
            let addrs = self.nameservice_rpc_addresses(host)?;
            return Ok(addrs.into_iter().map(|(_, addr)| addr).collect());
        }
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
        let addr = normalize_address("hdfs URI authority", host_port)?;
        Ok(vec![addr])
    }
}

/// The host part of an authority: user info and port removed.
fn authority_host(authority: &str) -> &str {
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
    if let Some(rest) = host_port.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    host_port.split(':').next().unwrap_or(host_port)
}

/// `host[:port]` → `host:port` with the NameNode default port.
fn normalize_address(key: &str, value: &str) -> Result<String, ConfError> {
    let value = value.trim();
    parse_host_port(value, DFS_NAMENODE_RPC_PORT_DEFAULT)
        .map(|(host, port)| format_host_port(&host, port))
        .ok_or_else(|| ConfError::bad_value(key, value, "host:port"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ha_conf() -> Configuration {
        let mut conf = Configuration::new();
        conf.set("fs.defaultFS", "hdfs://mycluster");
        conf.set("dfs.nameservices", "mycluster, other");
        conf.set("dfs.ha.namenodes.mycluster", "nn1,nn2,nn3");
        conf.set("dfs.namenode.rpc-address.mycluster.nn1", "host1:8020");
        conf.set("dfs.namenode.rpc-address.mycluster.nn2", " host2:9000 ");
        conf.set("dfs.namenode.rpc-address.mycluster.nn3", "host3");
        conf.set("dfs.namenode.rpc-address.other", "otherhost:8021");
        conf
    }

    #[test]
    fn parses_uris() {
        let u = FsUri::parse("hdfs://nn:8020/user/x").unwrap();
        assert_eq!(
            (u.scheme.as_str(), u.authority.as_str(), u.path.as_str()),
            ("hdfs", "nn:8020", "/user/x")
        );
        assert_eq!(u.host_port(8020), Some(("nn".into(), 8020)));
        assert_eq!(u.to_string(), "hdfs://nn:8020/user/x");
        let u = FsUri::parse("HDFS://mycluster").unwrap();
        assert_eq!(
            (u.scheme.as_str(), u.authority.as_str(), u.path.as_str()),
            ("hdfs", "mycluster", "")
        );
        let u = FsUri::parse("file:///").unwrap();
        assert_eq!(
            (u.scheme.as_str(), u.authority.as_str(), u.path.as_str()),
            ("file", "", "/")
        );
        assert_eq!(u.to_string(), "file:///");
        let u = FsUri::parse("qjournal://a:8485;b:8485/ns").unwrap();
        assert_eq!(u.authority, "a:8485;b:8485");
        assert_eq!(u.host_port(1), None);
        let u = FsUri::parse("/just/a/path").unwrap();
        assert_eq!((u.scheme.as_str(), u.path.as_str()), ("", "/just/a/path"));
        assert_eq!(
            FsUri::parse("hdfs://user@nn:1/").unwrap().host_port(8020),
            Some(("nn".into(), 1))
        );
        assert_eq!(FsUri::parse("relative/path"), None);
        assert_eq!(FsUri::parse("mailto:x"), None);
        assert_eq!(FsUri::parse("hdfs://a b/"), None);
        assert_eq!(FsUri::parse(""), None);
    }

    #[test]
    fn default_fs_forms() {
        let mut conf = Configuration::new();
        assert_eq!(conf.default_fs().unwrap().to_string(), "file:///");
        conf.set("fs.defaultFS", " hdfs://nn:9000/ ");
        assert_eq!(conf.default_fs().unwrap().authority, "nn:9000");
        conf.set("fs.defaultFS", "nn:9000");
        assert_eq!(conf.default_fs().unwrap().to_string(), "hdfs://nn:9000");
        conf.set("fs.defaultFS", "local");
        assert_eq!(conf.default_fs().unwrap().to_string(), "file:///");
        conf.set("fs.defaultFS", "not a uri/");
        let err = conf.default_fs().unwrap_err();
        assert!(
            err.to_string()
                .starts_with(r#"invalid value "not a uri/" for fs.defaultFS"#),
            "{err}"
        );
    }

    #[test]
    fn ha_nameservice_addresses_in_order_with_default_port() {
        let conf = ha_conf();
        assert_eq!(conf.nameservices(), ["mycluster", "other"]);
        assert_eq!(conf.namenode_ids("mycluster"), ["nn1", "nn2", "nn3"]);
        assert_eq!(
            conf.namenode_rpc_addresses(Some("mycluster")).unwrap(),
            [
                ("nn1".to_string(), "host1:8020".to_string()),
                ("nn2".to_string(), "host2:9000".to_string()),
                ("nn3".to_string(), "host3:8020".to_string()),
            ]
        );
        assert_eq!(
            conf.namenode_rpc_addresses(Some("other")).unwrap(),
            [(String::new(), "otherhost:8021".to_string())]
        );
        // No nameservice given: fs.defaultFS names the logical one.
        assert_eq!(conf.namenode_rpc_addresses(None).unwrap().len(), 3);
    }

    #[test]
    fn missing_ha_address_names_the_key() {
        let mut conf = ha_conf();
        conf.unset("dfs.namenode.rpc-address.mycluster.nn2");
        let err = conf.namenode_rpc_addresses(Some("mycluster")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("dfs.namenode.rpc-address.mycluster.nn2 is not set"),
            "{err}"
        );
        let err = conf.namenode_rpc_addresses(Some("unknown")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("dfs.ha.namenodes.unknown is not set"),
            "{err}"
        );
        conf.set("dfs.namenode.rpc-address.mycluster.nn2", "bad host");
        let err = conf.namenode_rpc_addresses(Some("mycluster")).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"invalid value "bad host" for dfs.namenode.rpc-address.mycluster.nn2: expected host:port"#
        );
    }

    #[test]
    fn non_ha_addresses() {
        let mut conf = Configuration::new();
        let err = conf.namenode_rpc_addresses(None).unwrap_err();
        assert!(
            err.to_string().contains("fs.defaultFS is file:///"),
            "{err}"
        );
        conf.set("fs.defaultFS", "hdfs://nn.example.com");
        assert_eq!(
            conf.namenode_rpc_addresses(None).unwrap(),
            [(String::new(), "nn.example.com:8020".to_string())]
        );
        conf.set("fs.defaultFS", "hdfs://nn.example.com:9000/");
        assert_eq!(
            conf.namenode_rpc_addresses(None).unwrap()[0].1,
            "nn.example.com:9000"
        );
        // The server-side key wins over fs.defaultFS.
        conf.set("dfs.namenode.rpc-address", "0.0.0.0:8025");
        assert_eq!(
            conf.namenode_rpc_addresses(None).unwrap()[0].1,
            "0.0.0.0:8025"
        );
    }

    #[test]
    fn client_addresses() {
        let conf = ha_conf();
        assert_eq!(
            conf.client_namenode_addresses("mycluster").unwrap(),
            ["host1:8020", "host2:9000", "host3:8020"]
        );
        assert_eq!(
            conf.client_namenode_addresses("mycluster:8020")
                .unwrap()
                .len(),
            3
        );
        let err = conf
            .client_namenode_addresses("mycluster:9000")
            .unwrap_err();
        assert!(
            err.to_string().contains("logical (HA) nameservice"),
            "{err}"
        );
        assert_eq!(
            conf.client_namenode_addresses("plainhost").unwrap(),
            ["plainhost:8020"]
        );
        assert_eq!(
            conf.client_namenode_addresses("plainhost:1234").unwrap(),
            ["plainhost:1234"]
        );
        assert_eq!(
            conf.client_namenode_addresses("[::1]:1234").unwrap(),
            ["[::1]:1234"]
        );
        // Empty authority: fs.defaultFS's.
        assert_eq!(conf.client_namenode_addresses("").unwrap().len(), 3);
        assert!(conf.client_namenode_addresses("bad:port").is_err());
    }

    #[test]
    fn proxy_provider_alone_marks_a_logical_name() {
        let mut conf = Configuration::new();
        conf.set(
            "dfs.client.failover.proxy.provider.ns",
            crate::keys::CONFIGURED_FAILOVER_PROXY_PROVIDER,
        );
        conf.set("dfs.ha.namenodes.ns", "a");
        conf.set("dfs.namenode.rpc-address.ns.a", "h:1");
        assert_eq!(conf.client_namenode_addresses("ns").unwrap(), ["h:1"]);
    }
}
