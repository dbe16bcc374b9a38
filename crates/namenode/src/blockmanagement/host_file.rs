//! The include and exclude host files (`dfs.hosts`, `dfs.hosts.exclude`), Hadoop's
//! HostFileManager: which DataNodes may register, and which are to be decommissioned.
//!
//! The files hold host names or IP addresses, each optionally with `:port` (the
//! DataNode's transfer port), separated by white space; `#` starts a comment to the end
//! of its line. A name is resolved to its IP addresses when the file is read (an entry
//! that does not resolve is left out with a warning, as Hadoop does). An entry without
//! a port matches every DataNode on its address.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use tracing::warn;

/// Longest host file read (a file of a million 30-byte lines is 30 MB); a larger one
/// is refused rather than held in memory.
pub const MAX_HOST_FILE_BYTES: u64 = 64 << 20;

/// Longest entry: a DNS name (253) plus `:port`.
const MAX_ENTRY_LEN: usize = 300;

#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum HostFileError {
    /// Hadoop's FileNotFoundException text (`<path> (No such file or directory)`).
    #[error("{path} (No such file or directory)")]
    NotFound { path: String },
    #[error("cannot read host file {path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("host file {path} is {size} bytes, larger than the {max} bytes allowed")]
    TooLarge { path: String, size: u64, max: u64 },
    /// The combined JSON hosts file could not be parsed (the reason names the entry).
    #[error("host file {path} is malformed: {reason}")]
    Malformed { path: String, reason: String },
}

impl HostFileError {
    /// The Java exception class a client sees.
    pub fn java_class(&self) -> &'static str {
        match self {
            HostFileError::NotFound { .. } => "java.io.FileNotFoundException",
            _ => "java.io.IOException",
        }
    }
}

/// One entry of a host file: a host (name or IP address) and maybe a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostEntry {
    pub host: String,
    /// `None`: any port.
    pub port: Option<u16>,
}

/// Parses a host file's text. Entries that are not `host[:port]` (or too long) are
/// skipped with a warning naming them.
pub fn parse_host_file(text: &str, file: &str) -> Vec<HostEntry> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        for word in line.split_whitespace() {
            match parse_entry(word) {
                Some(e) => out.push(e),
                None => {
                    warn!(entry = %word.chars().take(64).collect::<String>(), %file, "ignoring a malformed host file entry")
                }
            }
        }
    }
    out
}

/// `host`, `host:port`, `ip`, `ip:port`, `[v6]` or `[v6]:port`.
pub(super) fn parse_entry(word: &str) -> Option<HostEntry> {
    if word.len() > MAX_ENTRY_LEN {
        return None;
    }
    let (host, port) = if let Some(rest) = word.strip_prefix('[') {
        let (h, after) = rest.split_once(']')?;
        match after {
            "" => (h, None),
            p => (h, Some(p.strip_prefix(':')?)),
        }
    } else if word.parse::<IpAddr>().is_ok() {
        // A bare IPv6 address has colons but no port.
        (word, None)
    } else {
        match word.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (word, None),
        }
    };
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
    {
        return None;
    }
    let port = match port {
        None => None,
        Some(p) => Some(p.parse::<u16>().ok()?),
    };
    Some(HostEntry {
        host: host.to_string(),
        port: port.filter(|p| *p != 0),
    })
}

/// A host list resolved to addresses (Hadoop's HostSet): matches a DataNode by its IP
/// address and transfer port.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostSet {
    /// (address, port); port `None` matches any port.
    entries: HashSet<(IpAddr, Option<u16>)>,
}

impl HostSet {
    /// Resolves `entries` (names through the system resolver).
    pub fn resolve(entries: &[HostEntry], file: &str) -> HostSet {
        let mut set = HostSet::default();
        for e in entries {
            let ips: Vec<IpAddr> = match e.host.parse::<IpAddr>() {
                Ok(ip) => vec![ip],
                Err(_) => match (e.host.as_str(), 0).to_socket_addrs() {
                    Ok(addrs) => addrs.map(|a| a.ip()).collect(),
                    Err(err) => {
                        warn!(host = %e.host, %file, "failed to resolve a host file entry, ignoring it: {err}");
                        Vec::new()
                    }
                },
            };
            for ip in ips {
                set.entries.insert((ip, e.port));
            }
        }
        set
    }

    /// A set of addresses as given (tests, and callers that resolved already).
    pub fn of(entries: impl IntoIterator<Item = (IpAddr, Option<u16>)>) -> HostSet {
        HostSet {
            entries: entries.into_iter().collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The (address, port) pairs; port `None`: any port.
    pub fn iter(&self) -> impl Iterator<Item = (IpAddr, Option<u16>)> + '_ {
        self.entries.iter().copied()
    }

    /// Whether a DataNode at `ip` with transfer port `port` is listed.
    pub fn matches(&self, ip: IpAddr, port: u16) -> bool {
        self.entries.contains(&(ip, None)) || self.entries.contains(&(ip, Some(port)))
    }
}

/// Where the lists come from (`dfs.namenode.hosts.provider.classname`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HostsProvider {
    /// Hadoop's HostFileManager: the include and exclude files.
    #[default]
    HostFiles,
    /// Hadoop's CombinedHostFileManager: one JSON file (`dfs.hosts`) with admin states
    /// (see [`super::combined_host_file`]); `dfs.hosts.exclude` is not read.
    Combined,
}

/// Hadoop's class names for the two providers.
pub const HOST_FILE_MANAGER: &str = "org.apache.hadoop.hdfs.server.blockmanagement.HostFileManager";
pub const COMBINED_HOST_FILE_MANAGER: &str =
    "org.apache.hadoop.hdfs.server.blockmanagement.CombinedHostFileManager";

impl HostsProvider {
    /// From `dfs.namenode.hosts.provider.classname`; another class is a clear error
    /// naming the key.
    pub fn from_conf(
        conf: &hafs_conf::Configuration,
    ) -> Result<HostsProvider, hafs_conf::ConfError> {
        let key = hafs_conf::keys::DFS_NAMENODE_HOSTS_PROVIDER_CLASSNAME;
        match conf.get_trimmed(key).as_deref() {
            None | Some("") | Some(HOST_FILE_MANAGER) => Ok(HostsProvider::HostFiles),
            Some(COMBINED_HOST_FILE_MANAGER) => Ok(HostsProvider::Combined),
            Some(other) => Err(hafs_conf::ConfError::BadValue {
                key: key.to_string(),
                value: other.chars().take(200).collect(),
                expected: format!("{HOST_FILE_MANAGER} or {COMBINED_HOST_FILE_MANAGER}"),
            }),
        }
    }
}

/// The lists as last read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostLists {
    pub include: HostSet,
    pub exclude: HostSet,
    /// Nodes to hold in maintenance: (address, port) → expiry in ms since the epoch
    /// (only the combined JSON file has them).
    pub maintenance: HashMap<(IpAddr, Option<u16>), u64>,
}

impl HostLists {
    /// Reads both files (a path of `None` or empty: no list).
    pub fn read(
        include: Option<&Path>,
        exclude: Option<&Path>,
    ) -> Result<HostLists, HostFileError> {
        Ok(HostLists {
            include: read_host_set(include)?,
            exclude: read_host_set(exclude)?,
            maintenance: HashMap::new(),
        })
    }

    /// Reads the lists as `provider` says: the two files, or the combined JSON file
    /// named by `dfs.hosts` (`include`).
    pub fn read_from(
        provider: HostsProvider,
        include: Option<&Path>,
        exclude: Option<&Path>,
    ) -> Result<HostLists, HostFileError> {
        match provider {
            HostsProvider::HostFiles => HostLists::read(include, exclude),
            HostsProvider::Combined => {
                let Some(path) = include.filter(|p| !p.as_os_str().is_empty()) else {
                    return Ok(HostLists::default());
                };
                let shown = path.display().to_string();
                let text = read_bounded(path)?;
                let entries = super::combined_host_file::parse_combined_hosts(&text, &shown)?;
                Ok(super::combined_host_file::host_lists(&entries, &shown))
            }
        }
    }

    /// When the maintenance a list entry asks of the node at `ip`/`port` ends (ms
    /// since the epoch); 0: no maintenance asked (Hadoop's
    /// getMaintenanceExpirationTimeInMS).
    pub fn maintenance_expiry(&self, ip: IpAddr, port: u16) -> u64 {
        let any = self.maintenance.get(&(ip, None)).copied().unwrap_or(0);
        let this = self
            .maintenance
            .get(&(ip, Some(port)))
            .copied()
            .unwrap_or(0);
        any.max(this)
    }

    /// A DataNode may register when the include list is empty or lists it.
    pub fn is_included(&self, ip: IpAddr, port: u16) -> bool {
        self.include.is_empty() || self.include.matches(ip, port)
    }

    pub fn is_excluded(&self, ip: IpAddr, port: u16) -> bool {
        self.exclude.matches(ip, port)
    }
}

fn read_host_set(path: Option<&Path>) -> Result<HostSet, HostFileError> {
    let Some(path) = path.filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(HostSet::default());
    };
    let shown = path.display().to_string();
    let text = read_bounded(path)?;
    Ok(HostSet::resolve(&parse_host_file(&text, &shown), &shown))
}

/// A host file's text, refused beyond [`MAX_HOST_FILE_BYTES`].
fn read_bounded(path: &Path) -> Result<String, HostFileError> {
    let shown = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => HostFileError::NotFound {
            path: shown.clone(),
        },
        _ => HostFileError::Unreadable {
            path: shown.clone(),
            reason: e.to_string(),
        },
    })?;
    if meta.len() > MAX_HOST_FILE_BYTES {
        return Err(HostFileError::TooLarge {
            path: shown,
            size: meta.len(),
            max: MAX_HOST_FILE_BYTES,
        });
    }
    let bytes = std::fs::read(path).map_err(|e| HostFileError::Unreadable {
        path: shown.clone(),
        reason: e.to_string(),
    })?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The two file names from the configuration.
pub fn paths_from(conf: &hafs_conf::Configuration) -> (Option<PathBuf>, Option<PathBuf>) {
    let path = |key: &str| {
        conf.get_trimmed(key)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    (
        path(hafs_conf::keys::DFS_HOSTS),
        path(hafs_conf::keys::DFS_HOSTS_EXCLUDE),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(host: &str, port: Option<u16>) -> HostEntry {
        HostEntry {
            host: host.into(),
            port,
        }
    }

    #[test]
    fn parses_names_addresses_ports_and_comments() {
        let text = "# the rack-3 nodes\n\
                    dn1.example.com\n\
                    127.0.0.4:9866   127.0.0.5 # two on a line\n\
                    \n\
                    \t[::1]:50010\n\
                    ::1\n\
                    #127.0.0.9\n";
        assert_eq!(
            parse_host_file(text, "f"),
            vec![
                e("dn1.example.com", None),
                e("127.0.0.4", Some(9866)),
                e("127.0.0.5", None),
                e("::1", Some(50010)),
                e("::1", None),
            ]
        );
    }

    #[test]
    fn malformed_entries_are_skipped() {
        let long = "a".repeat(400);
        let text = format!("host:notaport h@st 127.0.0.1:99999 {long} ok:1");
        assert_eq!(parse_host_file(&text, "f"), vec![e("ok", Some(1))]);
    }

    #[test]
    fn port_zero_means_any_port() {
        assert_eq!(
            parse_host_file("10.0.0.1:0", "f"),
            vec![e("10.0.0.1", None)]
        );
    }

    #[test]
    fn matching_by_address_and_port() {
        let ip: IpAddr = "127.0.0.4".parse().unwrap();
        let other: IpAddr = "127.0.0.5".parse().unwrap();
        let any_port = HostSet::of([(ip, None)]);
        assert!(any_port.matches(ip, 9866));
        assert!(!any_port.matches(other, 9866));
        let one_port = HostSet::of([(ip, Some(9866))]);
        assert!(one_port.matches(ip, 9866));
        assert!(!one_port.matches(ip, 9867));
    }

    #[test]
    fn empty_include_list_admits_everyone() {
        let ip: IpAddr = "127.0.0.4".parse().unwrap();
        let lists = HostLists::default();
        assert!(lists.is_included(ip, 1));
        assert!(!lists.is_excluded(ip, 1));
        let lists = HostLists {
            include: HostSet::of([("127.0.0.2".parse().unwrap(), None)]),
            ..HostLists::default()
        };
        assert!(!lists.is_included(ip, 1));
    }

    #[test]
    fn the_provider_is_chosen_by_hadoops_class_names() {
        let mut conf = hafs_conf::Configuration::new();
        assert_eq!(
            HostsProvider::from_conf(&conf).unwrap(),
            HostsProvider::HostFiles
        );
        let key = hafs_conf::keys::DFS_NAMENODE_HOSTS_PROVIDER_CLASSNAME;
        conf.set(key, COMBINED_HOST_FILE_MANAGER);
        assert_eq!(
            HostsProvider::from_conf(&conf).unwrap(),
            HostsProvider::Combined
        );
        conf.set(key, "org.example.MyHosts");
        let err = HostsProvider::from_conf(&conf).unwrap_err().to_string();
        assert!(
            err.contains(key) && err.contains("org.example.MyHosts"),
            "{err}"
        );
    }

    #[test]
    fn the_combined_file_is_read_bounded_and_errors_name_it() {
        let dir = std::env::temp_dir().join(format!("hafs-combined-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("dfs.hosts.json");
        std::fs::write(
            &file,
            r#"[{"hostName": "127.0.0.2"}, {"hostName": "127.0.0.3", "adminState": "IN_MAINTENANCE", "maintenanceExpireTimeInMS": 99}]"#,
        )
        .unwrap();
        let lists = HostLists::read_from(HostsProvider::Combined, Some(&file), None).unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(lists.is_included(ip("127.0.0.3"), 9866));
        assert_eq!(lists.maintenance_expiry(ip("127.0.0.3"), 9866), 99);
        std::fs::write(
            &file,
            r#"[{"hostName": "127.0.0.2", "adminState": "GONE"}]"#,
        )
        .unwrap();
        let err = HostLists::read_from(HostsProvider::Combined, Some(&file), None).unwrap_err();
        assert!(
            err.to_string().contains(&file.display().to_string()),
            "{err}"
        );
        assert!(err.to_string().contains("entry 1: adminState"), "{err}");
        assert_eq!(err.java_class(), "java.io.IOException");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn names_resolve_and_missing_files_are_named() {
        let dir = std::env::temp_dir().join(format!("hafs-hosts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let inc = dir.join("include");
        std::fs::write(&inc, "localhost:9866\n").unwrap();
        let lists = HostLists::read(Some(&inc), None).unwrap();
        assert!(lists.include.matches("127.0.0.1".parse().unwrap(), 9866));
        let missing = dir.join("nope");
        let err = HostLists::read(None, Some(&missing)).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("{} (No such file or directory)", missing.display())
        );
        assert_eq!(err.java_class(), "java.io.FileNotFoundException");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
