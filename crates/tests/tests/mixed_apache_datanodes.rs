//! A mixed cluster: a hafs NameNode with real Apache Hadoop 3.5.0 DataNodes
//! (scripts/hdfs datanode, each its own JVM with a bounded heap). The Apache DataNodes
//! register over DatanodeProtocol, Java's `hadoop fs` writes and reads through them,
//! `hdfs fsck` finds the namespace HEALTHY; and after a NameNode restart the block
//! locations come back from the DataNodes' full block reports alone (Hadoop's legacy
//! long-array encoding, sent under a full-block-report lease the NameNode grants).

use std::process::Command;
use std::time::{Duration, Instant};

use hafs_tests::{
    free_port, hafs_cache, hdfs_tool, java_fs, parse_live_datanodes, test_bytes, workspace_root,
    Daemon, MiniCluster,
};

const APACHE_DATANODES: usize = 2;
/// JVM start and registration on a loaded 2-core machine.
const REGISTER_TIMEOUT: Duration = Duration::from_secs(120);

fn start_apache_datanode(cluster: &MiniCluster, i: usize) -> Daemon {
    let data_dir = cluster.dir().join(format!("apache-dn{i}"));
    let mut cmd = Command::new("bash");
    cmd.arg(workspace_root().join("scripts/hdfs"))
        .arg("datanode")
        .args([
            "-D",
            &format!("dfs.datanode.data.dir={}", data_dir.display()),
        ])
        .args([
            "-D",
            &format!("dfs.datanode.address=127.0.0.1:{}", free_port()),
        ])
        .args([
            "-D",
            &format!("dfs.datanode.http.address=127.0.0.1:{}", free_port()),
        ])
        .args([
            "-D",
            &format!("dfs.datanode.ipc.address=127.0.0.1:{}", free_port()),
        ])
        .env("HAFS_CACHE", hafs_cache())
        .env("HADOOP_CONF_DIR", cluster.conf_dir())
        .env("HDFS_HEAP", "192m")
        .env_remove("HADOOP_USER_NAME");
    Daemon::spawn(
        &format!("apache-dn{i}"),
        cmd,
        &cluster.dir().join(format!("apache-dn{i}.log")),
    )
}

/// Polls Hadoop's `dfsadmin -report` until it lists `n` live DataNodes.
fn wait_for_live_datanodes(cluster: &MiniCluster, dns: &mut [Daemon], n: usize) {
    let deadline = Instant::now() + REGISTER_TIMEOUT;
    loop {
        let report = hdfs_tool(cluster, &["dfsadmin", "-report"]);
        if report.success() && parse_live_datanodes(&report.stdout) == Some(n) {
            return;
        }
        for dn in dns.iter_mut() {
            assert!(
                dn.is_running(),
                "Apache DataNode {} exited:\n{}",
                dn.name(),
                dn.log_tail(40)
            );
        }
        if Instant::now() > deadline {
            panic!(
                "{n} Apache DataNodes did not register in {REGISTER_TIMEOUT:?}:\n{report}\n\
                 NameNode log:\n{}\nDataNode log:\n{}",
                cluster.namenode_log(),
                dns[0].log_tail(40)
            );
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

#[track_caller]
fn assert_healthy(cluster: &MiniCluster, when: &str) {
    let fsck = hdfs_tool(cluster, &["fsck", "/", "-files", "-blocks", "-locations"]);
    assert!(
        fsck.success() && fsck.stdout.contains("is HEALTHY"),
        "{when}: fsck is not HEALTHY:\n{fsck}"
    );
}

#[test]
fn apache_datanodes_serve_a_hafs_namenode_and_report_their_blocks_after_its_restart() {
    let mut cluster = MiniCluster::builder()
        .label("mixed-apache-dn")
        .conf("dfs.replication", APACHE_DATANODES.to_string())
        .conf("dfs.blocksize", "1048576")
        .conf("dfs.namenode.fs-limits.min-block-size", "4096")
        .conf("dfs.heartbeat.interval", "1")
        .start();
    let mut dns: Vec<Daemon> = (1..=APACHE_DATANODES)
        .map(|i| start_apache_datanode(&cluster, i))
        .collect();
    wait_for_live_datanodes(&cluster, &mut dns, APACHE_DATANODES);

    // Three blocks and a partial one, each written through a pipeline of both
    // Apache DataNodes by the Java client.
    let data = test_bytes(13, 3 * 1024 * 1024 + 4321);
    let local = cluster.dir().join("data.bin");
    std::fs::write(&local, &data).unwrap();
    java_fs(&cluster, &["-put", local.to_str().unwrap(), "/mixed.bin"]).ok();
    let back = cluster.dir().join("back.bin");
    java_fs(&cluster, &["-get", "/mixed.bin", back.to_str().unwrap()]).ok();
    assert!(
        std::fs::read(&back).unwrap() == data,
        "bytes read back through the Apache DataNodes differ"
    );
    assert_healthy(&cluster, "after the write");

    // A restarted NameNode knows the file but no replica: the locations can only come
    // from the DataNodes' full block reports (finalized replicas send no incremental
    // report). The Apache DataNodes re-register, ask for a report lease, and report.
    cluster.restart_namenode();
    wait_for_live_datanodes(&cluster, &mut dns, APACHE_DATANODES);
    let deadline = Instant::now() + REGISTER_TIMEOUT;
    loop {
        let fsck = hdfs_tool(&cluster, &["fsck", "/", "-files", "-blocks", "-locations"]);
        // Every block with both replicas: `Live_repl=2` on each of the four block lines.
        if fsck.stdout.contains("is HEALTHY") && fsck.stdout.matches("Live_repl=2").count() == 4 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the restarted NameNode did not get the Apache DataNodes' full block reports:\n\
             {fsck}\nNameNode log:\n{}",
            cluster.namenode_log()
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    std::fs::remove_file(&back).unwrap();
    java_fs(&cluster, &["-get", "/mixed.bin", back.to_str().unwrap()]).ok();
    assert!(
        std::fs::read(&back).unwrap() == data,
        "bytes read back after the NameNode restart differ"
    );
    for dn in &mut dns {
        dn.terminate(Duration::from_secs(10));
    }
}
