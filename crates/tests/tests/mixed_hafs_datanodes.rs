//! A mixed cluster the other way round from mixed_apache_datanodes.rs: a real Apache
//! Hadoop 3.5.0 NameNode (scripts/hdfs namenode, its own JVM) with hafs DataNodes.
//! The hafs DataNodes register over DatanodeProtocol (with Hadoop's dummy block keys
//! and its legacy long-array block reports), Java's `hadoop fs` writes and reads
//! through them, `hdfs fsck` finds the namespace HEALTHY; a hafs DataNode killed with
//! SIGKILL is declared dead and the Apache NameNode's re-replication commands, carried
//! out by the other hafs DataNodes, bring every block back to two replicas; and after
//! a restart of the Apache NameNode the locations come back from the hafs DataNodes'
//! full block reports alone.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use hafs_tests::{
    free_port, hafs_bin, hafs_cache, hdfs_tool, java_fs, parse_live_datanodes, test_bytes,
    workspace_root, write_site_xml, ClientTarget, Daemon, TempDir, DATANODE_READY,
};

const DATANODES: usize = 3;
/// JVM start, registration and dead-node detection on a loaded 2-core machine.
const TIMEOUT: Duration = Duration::from_secs(180);

fn kv(k: &str, v: impl ToString) -> (String, String) {
    (k.to_string(), v.to_string())
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], free_port()))
}

struct Cluster {
    dir: TempDir,
    client: ClientTarget,
    namenode: Option<Daemon>,
    datanodes: Vec<Daemon>,
    /// Each hafs DataNode's data transfer address, as the NameNode lists it.
    xfer_addrs: Vec<SocketAddr>,
}

impl Cluster {
    fn start() -> Cluster {
        let dir = TempDir::new("mixed-hafs-dn");
        let conf_dir = dir.join("conf");
        std::fs::create_dir_all(&conf_dir).unwrap();
        let rpc = loopback();
        let fs_uri = format!("hdfs://{rpc}");
        let core = vec![kv("fs.defaultFS", &fs_uri)];
        let hdfs = vec![
            kv(
                "dfs.namenode.name.dir",
                format!("file://{}", dir.join("name").display()),
            ),
            kv("dfs.namenode.rpc-address", rpc),
            kv("dfs.namenode.http-address", loopback()),
            kv("dfs.replication", 2),
            kv("dfs.blocksize", 1_048_576),
            kv("dfs.namenode.fs-limits.min-block-size", 4096),
            kv("dfs.heartbeat.interval", 1),
            // Dead after 2 × recheck + 10 × heartbeat = 14 s.
            kv("dfs.namenode.heartbeat.recheck-interval", 2000),
            kv("dfs.namenode.redundancy.interval.seconds", 1),
            kv("dfs.namenode.safemode.extension", 0),
        ];
        write_site_xml(&conf_dir.join("core-site.xml"), &core);
        write_site_xml(&conf_dir.join("hdfs-site.xml"), &hdfs);
        let client = ClientTarget {
            conf_dir: conf_dir.clone(),
            fs_uri,
            env: Vec::new(),
        };
        let format = hdfs_tool(
            &client,
            &["namenode", "-format", "-force", "-nonInteractive"],
        );
        assert!(format.success(), "Apache NameNode format failed:\n{format}");
        let mut cluster = Cluster {
            dir,
            client,
            namenode: None,
            datanodes: Vec::new(),
            xfer_addrs: Vec::new(),
        };
        cluster.start_namenode();
        for i in 1..=DATANODES {
            cluster.start_hafs_datanode(i, &core, &hdfs);
        }
        cluster.wait_for_live_datanodes(DATANODES);
        cluster
    }

    fn log_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.log"))
    }

    /// The Apache NameNode, in the foreground of its own JVM; waits until it answers
    /// `dfsadmin -report`.
    fn start_namenode(&mut self) {
        let mut cmd = Command::new("bash");
        cmd.arg(workspace_root().join("scripts/hdfs"))
            .arg("namenode")
            .env("HAFS_CACHE", hafs_cache())
            .env("HADOOP_CONF_DIR", &self.client.conf_dir)
            .env("HDFS_HEAP", "256m")
            .env_remove("HADOOP_USER_NAME");
        self.namenode = Some(Daemon::spawn("apache-nn", cmd, &self.log_path("apache-nn")));
        let deadline = Instant::now() + TIMEOUT;
        while !hdfs_tool(&self.client, &["dfsadmin", "-report"]).success() {
            let nn = self.namenode.as_mut().unwrap();
            assert!(
                nn.is_running(),
                "the Apache NameNode exited:\n{}",
                nn.log_tail(40)
            );
            assert!(
                Instant::now() < deadline,
                "the Apache NameNode did not serve in {TIMEOUT:?}:\n{}",
                nn.log_tail(40)
            );
            std::thread::sleep(Duration::from_secs(1));
        }
    }

    fn start_hafs_datanode(
        &mut self,
        i: usize,
        core: &[(String, String)],
        hdfs: &[(String, String)],
    ) {
        let home = self.dir.join(format!("dn{i}"));
        let conf_dir = home.join("conf");
        std::fs::create_dir_all(&conf_dir).unwrap();
        let xfer_addr = loopback();
        let mut site = hdfs.to_vec();
        site.extend([
            kv(
                "dfs.datanode.data.dir",
                format!("file://{}", home.join("data").display()),
            ),
            kv("dfs.datanode.address", xfer_addr),
            kv("dfs.datanode.ipc.address", loopback()),
            kv("dfs.datanode.http.address", loopback()),
        ]);
        write_site_xml(&conf_dir.join("core-site.xml"), core);
        write_site_xml(&conf_dir.join("hdfs-site.xml"), &site);
        let mut cmd = Command::new(hafs_bin());
        cmd.env_remove("HADOOP_CONF_DIR")
            .arg("--config")
            .arg(&conf_dir)
            .arg("datanode");
        let name = format!("hafs-dn{i}");
        let mut daemon = Daemon::spawn(&name, cmd, &self.log_path(&name));
        daemon.wait_for_log_line(DATANODE_READY, TIMEOUT);
        self.datanodes.push(daemon);
        self.xfer_addrs.push(xfer_addr);
    }

    fn namenode_log(&self) -> String {
        self.namenode
            .as_ref()
            .map(|nn| nn.log_tail(60))
            .unwrap_or_default()
    }

    /// Polls Hadoop's `dfsadmin -report` until it lists `n` live DataNodes.
    fn wait_for_live_datanodes(&mut self, n: usize) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let report = hdfs_tool(&self.client, &["dfsadmin", "-report"]);
            if report.success() && parse_live_datanodes(&report.stdout) == Some(n) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{n} hafs DataNodes did not register in {TIMEOUT:?}:\n{report}\n\
                 Apache NameNode log:\n{}\nhafs DataNode log:\n{}",
                self.namenode_log(),
                self.datanodes[0].log_tail(40)
            );
            std::thread::sleep(Duration::from_secs(1));
        }
    }

    /// Waits until fsck is HEALTHY with `blocks` block lines, each naming two live
    /// replicas, none on the DataNode listening on `not_on` (if given).
    #[track_caller]
    fn wait_for_two_replicas_each(&self, blocks: usize, not_on: Option<&str>, when: &str) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let fsck = hdfs_tool(
                &self.client,
                &["fsck", "/", "-files", "-blocks", "-locations"],
            );
            let placed = not_on.is_none_or(|addr| !fsck.stdout.contains(addr));
            if fsck.stdout.contains("is HEALTHY")
                && fsck.stdout.matches("Live_repl=2").count() == blocks
                && placed
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{when}: not every block has two live replicas:\n{fsck}\n\
                 Apache NameNode log:\n{}",
                self.namenode_log()
            );
            std::thread::sleep(Duration::from_secs(1));
        }
    }

    fn read_back(&self, path: &str, want: &[u8], when: &str) {
        let local = self.dir.join("back.bin");
        let _ = std::fs::remove_file(&local);
        java_fs(&self.client, &["-get", path, local.to_str().unwrap()]).ok();
        assert!(
            std::fs::read(&local).unwrap() == want,
            "{when}: bytes of {path} read back through the hafs DataNodes differ"
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for dn in &mut self.datanodes {
            dn.terminate(Duration::from_secs(10));
        }
        if let Some(nn) = &mut self.namenode {
            nn.terminate(Duration::from_secs(10));
        }
    }
}

#[test]
fn hafs_datanodes_serve_an_apache_namenode_through_failures_and_its_restart() {
    let mut cluster = Cluster::start();

    // Two files written by the Java client through pipelines of hafs DataNodes: three
    // whole blocks and a partial one, and one block smaller than a packet.
    let big = test_bytes(31, 3 * 1024 * 1024 + 4321);
    let small = test_bytes(32, 777);
    for (name, data) in [("big", &big), ("small", &small)] {
        let local = cluster.dir.join(format!("{name}.bin"));
        std::fs::write(&local, data).unwrap();
        java_fs(
            &cluster.client,
            &["-put", local.to_str().unwrap(), &format!("/{name}.bin")],
        )
        .ok();
    }
    cluster.read_back("/big.bin", &big, "after the write");
    cluster.read_back("/small.bin", &small, "after the write");
    cluster.wait_for_two_replicas_each(5, None, "after the write");

    // SIGKILL a hafs DataNode: the Apache NameNode declares it dead and tells the
    // others (hafs DataNodes) to copy its replicas until every block has two again.
    let victim_addr = cluster.xfer_addrs[0].to_string();
    let fsck = hdfs_tool(
        &cluster.client,
        &["fsck", "/", "-files", "-blocks", "-locations"],
    );
    assert!(
        fsck.stdout.contains(&victim_addr),
        "the DataNode to kill ({victim_addr}) holds no replica, so its death would prove \
         nothing:\n{fsck}"
    );
    cluster.datanodes[0].kill();
    cluster.wait_for_live_datanodes(DATANODES - 1);
    cluster.wait_for_two_replicas_each(5, Some(&victim_addr), "after a DataNode died");
    cluster.read_back("/big.bin", &big, "after re-replication");

    // A restarted Apache NameNode knows the files but no replica: the locations can
    // only come from the hafs DataNodes' full block reports.
    cluster
        .namenode
        .take()
        .unwrap()
        .terminate(Duration::from_secs(20));
    cluster.start_namenode();
    cluster.wait_for_live_datanodes(DATANODES - 1);
    cluster.wait_for_two_replicas_each(5, Some(&victim_addr), "after the NameNode restart");
    cluster.read_back("/big.bin", &big, "after the NameNode restart");
    cluster.read_back("/small.bin", &small, "after the NameNode restart");
}
