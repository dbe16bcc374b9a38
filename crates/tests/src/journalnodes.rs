//! A set of real `hafs journalnode` processes on loopback ports, for quorum-journal
//! tests. Start them first, then a [`crate::MiniCluster`] whose
//! `dfs.namenode.shared.edits.dir` is [`JournalNodes::uri`]: its `namenode -format`
//! formats the JournalNodes too.
//!
//! ```ignore
//! let jns = JournalNodes::start(3, "qjm");
//! let cluster = MiniCluster::builder().conf(SHARED_EDITS_KEY, jns.uri()).start();
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::cluster::{kv, loopback, wait_until_serving, STOP_GRACE};
use crate::conf_xml::write_site_xml;
use crate::daemon::Daemon;
use crate::paths::hafs_bin;
use crate::tempdir::TempDir;
use hafs_cluster::{free_port, site};

/// The line a JournalNode prints once it serves.
pub const JOURNALNODE_READY: &str = hafs_cluster::bring_up::JOURNALNODE_READY;
/// `dfs.namenode.shared.edits.dir`.
pub const SHARED_EDITS_KEY: &str = hafs_cluster::site::SHARED_EDITS_KEY;
/// The journal id tests use.
pub const TEST_JOURNAL_ID: &str = "hafs-test";

#[derive(Debug)]
struct JournalNodeSlot {
    id: String,
    addr: SocketAddr,
    http_addr: SocketAddr,
    edits_dir: PathBuf,
    conf_dir: PathBuf,
    log_path: PathBuf,
    daemon: Option<Daemon>,
}

/// Real JournalNodes in a temp dir (removed on drop unless `HAFS_KEEP_TMP`); dropping
/// kills them.
#[derive(Debug)]
pub struct JournalNodes {
    binary: PathBuf,
    slots: Vec<JournalNodeSlot>,
    /// Environment each JournalNode starts with.
    env: Vec<(String, String)>,
    // Declared last so it is removed after the daemons are gone.
    dir: TempDir,
}

impl JournalNodes {
    /// Starts `n` JournalNodes (each with its own conf dir and edits dir) and returns
    /// once each accepts connections. The syncer runs every second.
    #[track_caller]
    pub fn start(n: usize, label: &str) -> JournalNodes {
        Self::start_with(n, label, &[], &[])
    }

    /// As [`JournalNodes::start`], with `site` added to each JournalNode's hdfs-site.xml
    /// and `env` to its environment (the security settings of a secure cluster).
    #[track_caller]
    pub fn start_with(
        n: usize,
        label: &str,
        site: &[(String, String)],
        env: &[(String, String)],
    ) -> JournalNodes {
        let dir = TempDir::new(label);
        let addrs: Vec<SocketAddr> = (0..n).map(|_| loopback(free_port())).collect();
        let uri = uri_of(&addrs);
        let mut slots = Vec::new();
        for (i, addr) in addrs.iter().enumerate() {
            let id = format!("jn{}", i + 1);
            let home = dir.join(&id);
            let conf_dir = home.join("conf");
            std::fs::create_dir_all(&conf_dir).expect("create JournalNode conf dir");
            let edits_dir = home.join("edits");
            write_site_xml(&conf_dir.join("core-site.xml"), &[]);
            let http_addr = loopback(free_port());
            let mut hdfs = site::journalnode_own_site(
                &addr.to_string(),
                &http_addr.to_string(),
                &edits_dir.display().to_string(),
            );
            hdfs.extend([
                kv(SHARED_EDITS_KEY, uri.clone()),
                kv("dfs.journalnode.sync.interval", "1000"),
            ]);
            hdfs.extend(site.iter().cloned());
            write_site_xml(&conf_dir.join("hdfs-site.xml"), &hdfs);
            slots.push(JournalNodeSlot {
                log_path: dir.join(format!("{id}.log")),
                id,
                addr: *addr,
                http_addr,
                edits_dir,
                conf_dir,
                daemon: None,
            });
        }
        let mut jns = JournalNodes {
            binary: hafs_bin(),
            slots,
            env: env.to_vec(),
            dir,
        };
        for i in 0..n {
            jns.start_node(i);
        }
        jns
    }

    /// `qjournal://127.0.0.1:p1;127.0.0.1:p2;.../hafs-test`.
    pub fn uri(&self) -> String {
        uri_of(&self.slots.iter().map(|s| s.addr).collect::<Vec<_>>())
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    pub fn addr(&self, i: usize) -> SocketAddr {
        self.slots[i].addr
    }

    /// Node `i`'s HTTP address (`dfs.journalnode.http-address`).
    pub fn http_addr(&self, i: usize) -> SocketAddr {
        self.slots[i].http_addr
    }

    /// The journal's directory on node `i` (`<edits dir>/<journal id>`).
    pub fn journal_dir(&self, i: usize) -> PathBuf {
        self.slots[i].edits_dir.join(TEST_JOURNAL_ID)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn log(&self, i: usize) -> String {
        self.slots[i]
            .daemon
            .as_ref()
            .map(|d| d.log())
            .unwrap_or_else(|| std::fs::read_to_string(&self.slots[i].log_path).unwrap_or_default())
    }

    pub fn is_running(&mut self, i: usize) -> bool {
        self.slots[i]
            .daemon
            .as_mut()
            .is_some_and(|d| d.is_running())
    }

    #[track_caller]
    pub fn start_node(&mut self, i: usize) {
        let slot = &mut self.slots[i];
        assert!(slot.daemon.is_none(), "{} is already running", slot.id);
        let mut cmd = Command::new(&self.binary);
        cmd.env_remove("HADOOP_CONF_DIR")
            .envs(self.env.iter().cloned())
            .arg("--config")
            .arg(&slot.conf_dir)
            .arg("journalnode");
        let mut daemon = Daemon::spawn(&slot.id, cmd, &slot.log_path);
        wait_until_serving(&mut daemon, slot.addr);
        daemon.wait_for_log_line(JOURNALNODE_READY, Duration::from_secs(30));
        slot.daemon = Some(daemon);
    }

    /// `kill -9` node `i`.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut d) = self.slots[i].daemon.take() {
            d.kill();
        }
    }

    /// SIGTERM node `i` and wait for it to exit; returns its exit status.
    pub fn stop(&mut self, i: usize) -> Option<std::process::ExitStatus> {
        self.slots[i]
            .daemon
            .take()
            .and_then(|mut d| d.terminate(STOP_GRACE))
    }

    /// SIGSTOP node `i` (a slow node) / SIGCONT it.
    pub fn pause(&self, i: usize) {
        if let Some(d) = &self.slots[i].daemon {
            d.pause();
        }
    }

    pub fn resume(&self, i: usize) {
        if let Some(d) = &self.slots[i].daemon {
            d.resume();
        }
    }

    /// Kills node `i` and erases its edits dir (a disk replaced).
    pub fn wipe(&mut self, i: usize) {
        self.kill(i);
        let d = &self.slots[i].edits_dir;
        if d.exists() {
            std::fs::remove_dir_all(d).expect("wipe JournalNode edits dir");
        }
    }

    /// Runs `hafs journalnode -status <uri>` and returns its stdout.
    pub fn status(&self) -> String {
        let mut cmd = Command::new(&self.binary);
        cmd.env_remove("HADOOP_CONF_DIR")
            .envs(self.env.iter().cloned())
            .arg("--config")
            .arg(&self.slots[0].conf_dir)
            .args(["journalnode", "-status", &self.uri()]);
        crate::command::run_with_timeout(cmd, Duration::from_secs(60)).stdout
    }
}

fn uri_of(addrs: &[SocketAddr]) -> String {
    let hosts: Vec<String> = addrs.iter().map(|a| a.to_string()).collect();
    site::qjournal_uri(&hosts, TEST_JOURNAL_ID)
}
