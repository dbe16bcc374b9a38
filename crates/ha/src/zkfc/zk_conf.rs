//! The ZooKeeper settings of a failover controller (Hadoop's `ha.zookeeper.*` keys) and
//! the znode layout of one nameservice's election.

use std::time::Duration;

use hafs_conf::{keys, Configuration, TimeUnit};
use hafs_journal::election::candidate::{MAX_DRIFT_PPM_DEFAULT, MAX_DRIFT_PPM_KEY};
use zookeeper_client::{Acl, AuthId, Permission};

use super::ElectorError;

pub use keys::{
    HA_ZOOKEEPER_ACL, HA_ZOOKEEPER_ACL_DEFAULT, HA_ZOOKEEPER_AUTH, HA_ZOOKEEPER_PARENT_ZNODE,
    HA_ZOOKEEPER_PARENT_ZNODE_DEFAULT, HA_ZOOKEEPER_QUORUM,
};
pub const HA_ZOOKEEPER_SESSION_TIMEOUT: &str = keys::HA_ZOOKEEPER_SESSION_TIMEOUT_MS;
pub const HA_ZOOKEEPER_SESSION_TIMEOUT_DEFAULT: Duration =
    Duration::from_millis(keys::HA_ZOOKEEPER_SESSION_TIMEOUT_MS_DEFAULT);
/// Whether the lock holder guards its NameNode's reads with its session's deadline
/// (docs/election.md). Off by default: with it, a ZooKeeper outage longer than the
/// session timeout makes the Active refuse calls until ZooKeeper is back.
pub const HAFS_ZOOKEEPER_READ_GUARD: &str = keys::HAFS_HA_ZOOKEEPER_READ_GUARD;

/// Hadoop's znode names under `<parent>/<nameservice>`.
pub const LOCK_ZNODE: &str = "ActiveStandbyElectorLock";
pub const BREADCRUMB_ZNODE: &str = "ActiveBreadCrumb";

/// Everything the ZooKeeper elector needs.
#[derive(Debug, Clone)]
pub struct ZkConf {
    /// Connect string: `host:port,host:port`.
    pub quorum: String,
    pub session_timeout: Duration,
    /// `<ha.zookeeper.parent-znode>/<nameservice>`.
    pub parent: String,
    pub acls: Vec<Acl>,
    /// `(scheme, auth)` pairs added to every session.
    pub auths: Vec<(String, Vec<u8>)>,
    /// Assumed bound on clock rate drift between this host and the ZooKeeper servers
    /// (`hafs.ha.election.max-clock-drift.ppm`, shared with the built-in election): it
    /// sizes the margin of the NameNode's read guard (docs/election.md).
    pub max_drift_ppm: u64,
    /// [`HAFS_ZOOKEEPER_READ_GUARD`].
    pub read_guard: bool,
}

impl ZkConf {
    /// The settings for nameservice `ns`; `None` when `ha.zookeeper.quorum` is unset
    /// (the controller then uses the built-in election).
    pub fn from_conf(conf: &Configuration, ns: &str) -> Result<Option<ZkConf>, ElectorError> {
        let bad = |e: hafs_conf::ConfError| ElectorError::Other(e.to_string());
        let quorum = conf.get_trimmed_strings(HA_ZOOKEEPER_QUORUM).join(",");
        if quorum.is_empty() {
            return Ok(None);
        }
        let session_timeout = conf
            .get_time_duration(
                HA_ZOOKEEPER_SESSION_TIMEOUT,
                HA_ZOOKEEPER_SESSION_TIMEOUT_DEFAULT,
                TimeUnit::Millis,
            )
            .map_err(bad)?;
        let root = conf.get_or(HA_ZOOKEEPER_PARENT_ZNODE, HA_ZOOKEEPER_PARENT_ZNODE_DEFAULT);
        let root = root.trim().trim_end_matches('/');
        if !root.is_empty() && !root.starts_with('/') {
            return Err(ElectorError::Other(format!(
                "{HA_ZOOKEEPER_PARENT_ZNODE} must be an absolute path, not {root}"
            )));
        }
        let acls = parse_acls(&conf.get_or(HA_ZOOKEEPER_ACL, HA_ZOOKEEPER_ACL_DEFAULT))?;
        let auths = match conf.get_trimmed(HA_ZOOKEEPER_AUTH) {
            Some(s) if !s.is_empty() => parse_auths(&s)?,
            _ => Vec::new(),
        };
        let max_drift_ppm = conf
            .get_u64(MAX_DRIFT_PPM_KEY, MAX_DRIFT_PPM_DEFAULT)
            .map_err(bad)?;
        if max_drift_ppm >= 100_000 {
            return Err(ElectorError::Other(format!(
                "{MAX_DRIFT_PPM_KEY} must be below 100000 (10 %), not {max_drift_ppm}"
            )));
        }
        Ok(Some(ZkConf {
            quorum,
            session_timeout,
            parent: format!("{root}/{ns}"),
            acls,
            auths,
            max_drift_ppm,
            read_guard: conf
                .get_bool(
                    HAFS_ZOOKEEPER_READ_GUARD,
                    keys::HAFS_HA_ZOOKEEPER_READ_GUARD_DEFAULT,
                )
                .map_err(bad)?,
        }))
    }

    pub fn lock_path(&self) -> String {
        format!("{}/{LOCK_ZNODE}", self.parent)
    }

    pub fn breadcrumb_path(&self) -> String {
        format!("{}/{BREADCRUMB_ZNODE}", self.parent)
    }
}

/// `scheme:id:perms[,scheme:id:perms...]`, perms from `rwcda` (Hadoop's ZKUtil syntax).
/// The id may itself contain `:` (digest ids do), so the perms are after the last one.
pub fn parse_acls(spec: &str) -> Result<Vec<Acl>, ElectorError> {
    let mut acls = Vec::new();
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let bad = || ElectorError::Other(format!("{HA_ZOOKEEPER_ACL}: bad ACL '{item}'"));
        if item.starts_with('@') {
            return Err(ElectorError::Other(format!(
                "{HA_ZOOKEEPER_ACL}: '@file' indirection is not supported; give the ACL inline"
            )));
        }
        let (scheme, rest) = item.split_once(':').ok_or_else(bad)?;
        let (id, perms) = rest.rsplit_once(':').ok_or_else(bad)?;
        if scheme.is_empty() || id.is_empty() {
            return Err(bad());
        }
        let mut p = Permission::NONE;
        for c in perms.chars() {
            p = p | match c.to_ascii_lowercase() {
                'r' => Permission::READ,
                'w' => Permission::WRITE,
                'c' => Permission::CREATE,
                'd' => Permission::DELETE,
                'a' => Permission::ADMIN,
                _ => return Err(bad()),
            };
        }
        acls.push(Acl::new(p, AuthId::new(scheme, id)));
    }
    if acls.is_empty() {
        return Err(ElectorError::Other(format!("{HA_ZOOKEEPER_ACL} is empty")));
    }
    Ok(acls)
}

/// `scheme:auth[,scheme:auth...]`, e.g. `digest:hdfs-zkfcs:mypassword`.
pub fn parse_auths(spec: &str) -> Result<Vec<(String, Vec<u8>)>, ElectorError> {
    spec.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|item| {
            if item.starts_with('@') {
                return Err(ElectorError::Other(format!(
                    "{HA_ZOOKEEPER_AUTH}: '@file' indirection is not supported"
                )));
            }
            // The entry holds a secret: the error does not repeat it.
            let (scheme, auth) = item.split_once(':').ok_or_else(|| {
                ElectorError::Other(format!("{HA_ZOOKEEPER_AUTH}: expected scheme:auth"))
            })?;
            Ok((scheme.to_string(), auth.as_bytes().to_vec()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_acl_is_world_anyone_all() {
        let acls = parse_acls(HA_ZOOKEEPER_ACL_DEFAULT).unwrap();
        assert_eq!(acls.len(), 1);
        assert_eq!(acls[0].scheme(), "world");
        assert_eq!(acls[0].id(), "anyone");
        assert_eq!(acls[0].permission(), Permission::ALL);
    }

    #[test]
    fn digest_acl_keeps_the_colon_in_its_id_and_bad_ones_fail() {
        let acls = parse_acls("digest:zkfc:aGFzaA==:rw, world:anyone:r").unwrap();
        assert_eq!(acls[0].id(), "zkfc:aGFzaA==");
        assert_eq!(acls[0].permission(), Permission::READ | Permission::WRITE);
        assert_eq!(acls[1].permission(), Permission::READ);
        assert!(parse_acls("world:anyone:rwx").is_err());
        assert!(parse_acls("world").is_err());
        assert!(parse_acls("").is_err());
        assert!(parse_acls("@/etc/zk-acl.txt").is_err());
    }

    #[test]
    fn conf_builds_hadoop_paths() {
        let mut c = Configuration::new();
        assert!(ZkConf::from_conf(&c, "ns1").unwrap().is_none());
        c.set(HA_ZOOKEEPER_QUORUM, "127.0.0.1:2181, 127.0.0.1:2182");
        c.set(HA_ZOOKEEPER_SESSION_TIMEOUT, "3000");
        c.set(HA_ZOOKEEPER_AUTH, "digest:zkfc:secret");
        let z = ZkConf::from_conf(&c, "ns1").unwrap().unwrap();
        assert_eq!(z.quorum, "127.0.0.1:2181,127.0.0.1:2182");
        assert_eq!(z.session_timeout, Duration::from_secs(3));
        assert_eq!(z.lock_path(), "/hadoop-ha/ns1/ActiveStandbyElectorLock");
        assert_eq!(z.breadcrumb_path(), "/hadoop-ha/ns1/ActiveBreadCrumb");
        assert_eq!(
            z.auths,
            vec![("digest".to_string(), b"zkfc:secret".to_vec())]
        );
        assert_eq!(z.max_drift_ppm, MAX_DRIFT_PPM_DEFAULT);
        assert!(!z.read_guard);
        c.set(MAX_DRIFT_PPM_KEY, "100000");
        assert!(ZkConf::from_conf(&c, "ns1").is_err());
        c.set(MAX_DRIFT_PPM_KEY, "20000");
        assert_eq!(
            ZkConf::from_conf(&c, "ns1").unwrap().unwrap().max_drift_ppm,
            20_000
        );
        c.set(HA_ZOOKEEPER_PARENT_ZNODE, "/x/");
        assert_eq!(
            ZkConf::from_conf(&c, "ns1").unwrap().unwrap().parent,
            "/x/ns1"
        );
    }
}
