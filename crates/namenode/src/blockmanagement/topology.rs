//! Which rack a DataNode is on (Hadoop's DNSToSwitchMapping): a topology script
//! (ScriptBasedMapping, `net.topology.script.file.name`), a table file (TableMapping,
//! `net.topology.table.file.name`), or, with neither, one flat `/default-rack`.
//!
//! DataNodes are resolved by IP address when they register, and the answer is cached
//! for the NameNode's lifetime, as Hadoop's CachedDNSToSwitchMapping does: a running
//! cluster never re-runs the script for a known address. A failed or malformed
//! answer is not cached and puts the node in `/default-rack`.

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use hafs_conf::keys::*;
use hafs_conf::{ConfError, Configuration};
use tracing::{info, warn};

/// Hadoop's NetworkTopology.DEFAULT_RACK.
pub const DEFAULT_RACK: &str = "/default-rack";
pub const SCRIPT_BASED_MAPPING: &str = "org.apache.hadoop.net.ScriptBasedMapping";
pub const TABLE_MAPPING: &str = "org.apache.hadoop.net.TableMapping";

/// The longest a topology script may run; beyond it the run counts as failed (its
/// addresses go to `/default-rack`) rather than stalling DataNode registration.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(30);
/// The most output read from one script run or table file (rack names are short).
const MAX_OUTPUT: u64 = 4 << 20;
/// The longest rack path accepted.
const MAX_RACK_LEN: usize = 1024;

/// How racks are found, from `net.topology.*`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TopologyConfig {
    /// No script or table: every node in `/default-rack`.
    #[default]
    Flat,
    /// Run `path` with at most `max_args` addresses per run.
    Script { path: PathBuf, max_args: usize },
    /// Look addresses up in the two-column file at `path`.
    Table { path: PathBuf },
}

impl TopologyConfig {
    pub fn from_conf(conf: &Configuration) -> Result<TopologyConfig, ConfError> {
        let imp = conf
            .get_trimmed(NET_TOPOLOGY_NODE_SWITCH_MAPPING_IMPL)
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| NET_TOPOLOGY_NODE_SWITCH_MAPPING_IMPL_DEFAULT.to_string());
        match imp.as_str() {
            SCRIPT_BASED_MAPPING => {
                let Some(path) = conf
                    .get_trimmed(NET_TOPOLOGY_SCRIPT_FILE_NAME)
                    .filter(|v| !v.is_empty())
                else {
                    return Ok(TopologyConfig::Flat);
                };
                let max_args = conf.get_u64(
                    NET_TOPOLOGY_SCRIPT_NUMBER_ARGS,
                    u64::from(NET_TOPOLOGY_SCRIPT_NUMBER_ARGS_DEFAULT),
                )?;
                Ok(TopologyConfig::Script {
                    path: PathBuf::from(path),
                    max_args: usize::try_from(max_args.max(1)).unwrap_or(usize::MAX),
                })
            }
            TABLE_MAPPING => match conf
                .get_trimmed(NET_TOPOLOGY_TABLE_FILE_NAME)
                .filter(|v| !v.is_empty())
            {
                Some(path) => Ok(TopologyConfig::Table {
                    path: PathBuf::from(path),
                }),
                // Hadoop's TableMapping without a file: everything in the default rack.
                None => {
                    warn!(
                        "{NET_TOPOLOGY_TABLE_FILE_NAME} not configured; every node is in {DEFAULT_RACK}"
                    );
                    Ok(TopologyConfig::Flat)
                }
            },
            other => Err(ConfError::BadValue {
                key: NET_TOPOLOGY_NODE_SWITCH_MAPPING_IMPL.to_string(),
                value: other.to_string(),
                expected: format!("{SCRIPT_BASED_MAPPING} or {TABLE_MAPPING}"),
            }),
        }
    }
}

/// Resolves addresses to rack paths, caching every good answer.
#[derive(Debug, Default)]
pub struct RackResolver {
    config: TopologyConfig,
    cache: Mutex<HashMap<String, String>>,
    table: OnceLock<HashMap<String, String>>,
}

impl RackResolver {
    pub fn new(config: TopologyConfig) -> RackResolver {
        RackResolver {
            config,
            cache: Mutex::new(HashMap::new()),
            table: OnceLock::new(),
        }
    }

    pub fn config(&self) -> &TopologyConfig {
        &self.config
    }

    /// The rack of `host` if known without running anything (a DataNode's address
    /// resolved at registration, or a table entry). Used on the read path, where a
    /// client's address must not start a script run per call.
    pub fn cached(&self, host: &str) -> Option<String> {
        match &self.config {
            TopologyConfig::Flat => Some(DEFAULT_RACK.to_string()),
            TopologyConfig::Table { .. } => Some(self.resolve_one(host)),
            TopologyConfig::Script { .. } => self.lock_cache().get(host).cloned(),
        }
    }

    /// The rack of one address.
    pub fn resolve_one(&self, host: &str) -> String {
        self.resolve(&[host.to_string()])
            .pop()
            .unwrap_or_else(|| DEFAULT_RACK.to_string())
    }

    /// The racks of `hosts`, in order; `/default-rack` for any the mapping cannot
    /// place.
    pub fn resolve(&self, hosts: &[String]) -> Vec<String> {
        match &self.config {
            TopologyConfig::Flat => vec![DEFAULT_RACK.to_string(); hosts.len()],
            TopologyConfig::Table { path } => {
                let table = self.table.get_or_init(|| load_table(path));
                hosts
                    .iter()
                    .map(|h| {
                        table
                            .get(h)
                            .cloned()
                            .unwrap_or_else(|| DEFAULT_RACK.to_string())
                    })
                    .collect()
            }
            TopologyConfig::Script { path, max_args } => {
                let missing: Vec<String> = {
                    let cache = self.lock_cache();
                    let mut m: Vec<String> = hosts
                        .iter()
                        .filter(|h| !cache.contains_key(*h))
                        .cloned()
                        .collect();
                    m.sort();
                    m.dedup();
                    m
                };
                for chunk in missing.chunks(*max_args) {
                    if let Some(racks) = run_script(path, chunk) {
                        let mut cache = self.lock_cache();
                        for (h, r) in chunk.iter().zip(racks) {
                            info!(host = %h, rack = %r, "resolved rack");
                            cache.insert(h.clone(), r);
                        }
                    }
                }
                let cache = self.lock_cache();
                hosts
                    .iter()
                    .map(|h| {
                        cache
                            .get(h)
                            .cloned()
                            .unwrap_or_else(|| DEFAULT_RACK.to_string())
                    })
                    .collect()
            }
        }
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        // A panic while holding the cache cannot leave it half-updated (one insert
        // at a time), so a poisoned lock is still usable.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Hadoop's NodeBase.normalize: a rack is an absolute path; a trailing `/` goes.
pub fn normalize_rack(rack: &str) -> Option<String> {
    let r = rack.trim();
    if !r.starts_with('/') || r.len() > MAX_RACK_LEN || r.chars().any(char::is_control) {
        return None;
    }
    let r = r.trim_end_matches('/');
    Some(if r.is_empty() {
        DEFAULT_RACK.to_string()
    } else {
        r.to_string()
    })
}

/// Runs the topology script on `hosts`; one rack per host, or `None` (logged) when
/// it fails, times out, or answers with the wrong number of racks.
fn run_script(path: &PathBuf, hosts: &[String]) -> Option<Vec<String>> {
    let script = path.display();
    let mut child = match Command::new(path)
        .args(hosts)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            warn!("topology script {script} could not be started: {e}; using {DEFAULT_RACK}");
            return None;
        }
    };
    // Read on a thread so a script that never ends can be killed after the timeout.
    let stdout = child.stdout.take()?;
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = stdout.take(MAX_OUTPUT).read_to_string(&mut out);
        out
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if started.elapsed() > SCRIPT_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => break None,
        }
    };
    let out = reader.join().unwrap_or_default();
    match status {
        Some(s) if s.success() => {}
        Some(s) => {
            warn!("topology script {script} failed ({s}); using {DEFAULT_RACK}");
            return None;
        }
        None => {
            warn!("topology script {script} did not finish in {SCRIPT_TIMEOUT:?}; using {DEFAULT_RACK}");
            return None;
        }
    }
    let words: Vec<&str> = out.split_whitespace().collect();
    if words.len() != hosts.len() {
        warn!(
            "topology script {script} returned {} values when {} were expected; using {DEFAULT_RACK}",
            words.len(),
            hosts.len()
        );
        return None;
    }
    words
        .iter()
        .map(|w| {
            let r = normalize_rack(w);
            if r.is_none() {
                warn!("topology script {script} gave an invalid rack {w:?} (a rack is an absolute path such as /rack1); using {DEFAULT_RACK}");
            }
            r
        })
        .collect()
}

/// TableMapping's file: `host rack` per line; lines without exactly two columns are
/// skipped (logged). An unreadable file leaves every node in `/default-rack`.
fn load_table(path: &PathBuf) -> HashMap<String, String> {
    let mut map = HashMap::new();
    let text = match std::fs::File::open(path).and_then(|f| {
        let mut s = String::new();
        f.take(MAX_OUTPUT).read_to_string(&mut s).map(|_| s)
    }) {
        Ok(t) => t,
        Err(e) => {
            warn!(
                "{NET_TOPOLOGY_TABLE_FILE_NAME} {} could not be read: {e}; every node is in {DEFAULT_RACK}",
                path.display()
            );
            return map;
        }
    };
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split_whitespace().collect();
        match (cols.as_slice(), cols.get(1).and_then(|r| normalize_rack(r))) {
            ([host, _], Some(rack)) => {
                map.insert(host.to_string(), rack);
            }
            _ => warn!(
                "{}:{}: expected \"host /rack\"; line ignored",
                path.display(),
                n + 1
            ),
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "hafs-topology-{}-{name}-{}",
            std::process::id(),
            hafs_util::uuid::new_v4()
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn script(dir: &std::path::Path, body: &str) -> PathBuf {
        let p = dir.join("topology.sh");
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    #[test]
    fn script_mapping_batches_caches_and_falls_back() {
        let d = tmp("script");
        let log = d.join("runs");
        let body = format!(
            "echo \"$#\" >> {log}\nfor a in \"$@\"; do case $a in 127.0.0.1*) echo /rack1/ ;; 10.*) echo rack-without-slash ;; *) echo /rack2 ;; esac; done",
            log = log.display()
        );
        let path = script(&d, &body);
        let r = RackResolver::new(TopologyConfig::Script { path, max_args: 2 });
        let hosts: Vec<String> = ["127.0.0.11", "127.0.0.21", "127.0.0.12"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(r.resolve(&hosts), vec!["/rack1", "/rack2", "/rack1"]);
        // Batches of at most 2 arguments.
        let runs = std::fs::read_to_string(&log).unwrap();
        assert_eq!(runs.lines().collect::<Vec<_>>(), vec!["2", "1"]);
        // Cached: no new run.
        assert_eq!(r.resolve_one("127.0.0.21"), "/rack2");
        assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 2);
        assert_eq!(r.cached("127.0.0.11").as_deref(), Some("/rack1"));
        assert_eq!(r.cached("127.0.0.99"), None);
        // A rack that is not an absolute path is refused, and not cached.
        assert_eq!(r.resolve_one("10.0.0.1"), DEFAULT_RACK);
        assert_eq!(r.cached("10.0.0.1"), None);
    }

    #[test]
    fn script_failures_give_the_default_rack() {
        let d = tmp("fail");
        let failing = script(&d, "exit 3");
        let r = RackResolver::new(TopologyConfig::Script {
            path: failing,
            max_args: 100,
        });
        assert_eq!(r.resolve_one("127.0.0.2"), DEFAULT_RACK);
        let d2 = tmp("short");
        let short = script(&d2, "echo /rack1");
        let r = RackResolver::new(TopologyConfig::Script {
            path: short,
            max_args: 100,
        });
        assert_eq!(
            r.resolve(&["a".into(), "b".into()]),
            vec![DEFAULT_RACK, DEFAULT_RACK],
            "one answer for two hosts is a failure"
        );
        let r = RackResolver::new(TopologyConfig::Script {
            path: d.join("no-such-script"),
            max_args: 100,
        });
        assert_eq!(r.resolve_one("127.0.0.2"), DEFAULT_RACK);
    }

    #[test]
    fn table_mapping_reads_two_columns() {
        let d = tmp("table");
        let p = d.join("topology.table");
        std::fs::write(
            &p,
            "# host rack\n127.0.0.2 /dc1/rack1\n127.0.0.3\t/dc1/rack2\nbroken-line\n127.0.0.4 norack\n",
        )
        .unwrap();
        let r = RackResolver::new(TopologyConfig::Table { path: p });
        assert_eq!(
            r.resolve(&[
                "127.0.0.2".into(),
                "127.0.0.3".into(),
                "127.0.0.4".into(),
                "127.0.0.5".into()
            ]),
            vec!["/dc1/rack1", "/dc1/rack2", DEFAULT_RACK, DEFAULT_RACK]
        );
        let r = RackResolver::new(TopologyConfig::Table {
            path: d.join("missing"),
        });
        assert_eq!(r.resolve_one("127.0.0.2"), DEFAULT_RACK);
    }

    #[test]
    fn config_from_hadoop_keys() {
        let mut c = Configuration::new();
        assert_eq!(TopologyConfig::from_conf(&c).unwrap(), TopologyConfig::Flat);
        c.set(NET_TOPOLOGY_SCRIPT_FILE_NAME, "/etc/hadoop/topology.sh");
        assert_eq!(
            TopologyConfig::from_conf(&c).unwrap(),
            TopologyConfig::Script {
                path: "/etc/hadoop/topology.sh".into(),
                max_args: 100
            }
        );
        c.set(NET_TOPOLOGY_NODE_SWITCH_MAPPING_IMPL, TABLE_MAPPING);
        c.set(NET_TOPOLOGY_TABLE_FILE_NAME, "/etc/hadoop/topology.table");
        assert_eq!(
            TopologyConfig::from_conf(&c).unwrap(),
            TopologyConfig::Table {
                path: "/etc/hadoop/topology.table".into()
            }
        );
        c.set(NET_TOPOLOGY_NODE_SWITCH_MAPPING_IMPL, "com.example.Mine");
        let e = TopologyConfig::from_conf(&c).unwrap_err().to_string();
        assert!(e.contains(NET_TOPOLOGY_NODE_SWITCH_MAPPING_IMPL), "{e}");
    }

    #[test]
    fn racks_are_normalized() {
        assert_eq!(normalize_rack("/rack1/").as_deref(), Some("/rack1"));
        assert_eq!(normalize_rack("/").as_deref(), Some(DEFAULT_RACK));
        assert_eq!(normalize_rack("rack1"), None);
    }
}
