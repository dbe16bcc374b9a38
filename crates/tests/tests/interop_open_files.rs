//! Reading a file another client is still writing: Hadoop's client asks the DataNode
//! for the replica's visible length (ClientDatanodeProtocol.getReplicaVisibleLength)
//! and must see a prefix of what was written so far — and the whole file once closed.

mod common;

use std::time::{Duration, Instant};

use common::*;
use hafs_tests::{hafs_dfs, java_fs, test_bytes, MiniCluster, StreamingClient};

#[test]
fn java_reads_a_file_that_hafs_is_still_writing() {
    let c = MiniCluster::builder()
        .label("open-file-read")
        .datanodes(3)
        .start();
    java_reads_the_open_file(&c);
}

/// The same on a secure cluster: the Java reader reaches the DataNode's IPC port
/// holding nothing but the block's access token (TOKEN authentication there, and the
/// token checked against the block it asks about).
#[test]
fn java_reads_an_open_file_on_a_secure_cluster() {
    let c = MiniCluster::builder()
        .label("open-file-krb")
        .datanodes(3)
        .kerberos("integrity")
        .start();
    java_reads_the_open_file(&c);
}

fn java_reads_the_open_file(c: &MiniCluster) {
    // Two and a half blocks (1 MiB blocks in tests): the reader sees complete blocks
    // from the NameNode and the last one's visible length from a DataNode.
    let data = test_bytes(21, 2 * 1024 * 1024 + 300_000);
    // As the superuser: the default client of a secure cluster is alice.
    hafs_dfs(&c.as_user("hdfs"), &["-mkdir", "/open"]).ok();
    hafs_dfs(&c.as_user("hdfs"), &["-chmod", "777", "/open"]).ok();
    let log = c.dir().join("writer.log");
    let mut writer = StreamingClient::hafs_dfs(c, &["-put", "-", "/open/f"], &log);
    writer.write(&data);
    // FsShell-style copies write to <name>._COPYING_ until closed.
    let open = "/open/f._COPYING_";
    let deadline = Instant::now() + Duration::from_secs(60);
    let local = scratch(c, "open-copy");
    let seen = loop {
        let _ = std::fs::remove_file(&local);
        let out = java_fs(c, &["-get", open, local.to_str().unwrap()]);
        let got = std::fs::read(&local).unwrap_or_default();
        if out.success() && got.len() > 2 * 1024 * 1024 {
            break got;
        }
        assert!(
            Instant::now() < deadline,
            "the Java shell never read past the complete blocks of the open file:\n{out}\n{}",
            writer.output()
        );
        std::thread::sleep(Duration::from_millis(300));
    };
    assert!(seen.len() <= data.len());
    assert_same_bytes(&seen, &data[..seen.len()], "java -get of the open file");
    let r = writer.finish(Duration::from_secs(60));
    assert!(r.status.success(), "writer failed: {}", r.output);
    assert_same_bytes(&get_with_java(c, "/open/f"), &data, "java -get after close");
}
