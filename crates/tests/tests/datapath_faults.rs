//! Fault tests of the block data path (issue 3, part 9): real NameNode and DataNode
//! processes, real clients, faults injected with signals and by editing block files.
//! Replica placement is checked on the DataNodes' disks, independently of what hafs
//! reports about itself.

mod common;

use std::time::{Duration, Instant};

use common::*;
use hafs_tests::{
    corrupt_file, hafs_cmd, hafs_dfs, java_fs, test_bytes, MiniCluster, StreamingClient,
    TEST_BLOCK_SIZE,
};

const MIB: usize = 1024 * 1024;

/// Dead-DataNode detection (2 × 2 s recheck + 10 × 1 s heartbeat = 14 s) plus
/// re-replication rounds, with room for a loaded 2-core machine.
const HEAL_TIMEOUT: Duration = Duration::from_secs(120);

fn cluster(label: &str, datanodes: usize) -> MiniCluster {
    MiniCluster::builder()
        .label(label)
        .datanodes(datanodes)
        .start()
}

#[test]
fn multi_block_file_with_replication_3_round_trips_byte_for_byte() {
    let mut c = cluster("dp-roundtrip", 3);
    // 3.5 blocks: a short last block, and a last chunk that is not 512-aligned.
    let data = test_bytes(1, 3 * MIB + MIB / 2 + 77);
    put_with_hafs(&c, "/data/f", &data);

    assert_same_bytes(&get_with_hafs(&c, "/data/f"), &data, "hafs -get");
    assert_same_bytes(&get_with_java(&c, "/data/f"), &data, "java -get");
    assert_same_bytes(&get_with_native(&c, "/data/f"), &data, "hdfs-native read");

    let stat = hafs_dfs(&c, &["-stat", "%b %r %o", "/data/f"]).ok();
    assert_eq!(
        stat.stdout.trim(),
        format!("{} 3 {}", data.len(), TEST_BLOCK_SIZE),
        "{stat}"
    );
    // Every block on all three DataNodes, finalized, with the file's bytes.
    wait_replicated(&mut c, &data, 3, Duration::from_secs(10));
}

#[test]
fn empty_and_tiny_files_round_trip() {
    let c = cluster("dp-tiny", 3);
    for (i, len) in [0usize, 1, 511, 512, 513].into_iter().enumerate() {
        let data = test_bytes(100 + i as u64, len);
        let path = format!("/tiny/{len}");
        put_with_hafs(&c, &path, &data);
        assert_same_bytes(
            &get_with_java(&c, &path),
            &data,
            &format!("java -get of {len} bytes"),
        );
        assert_same_bytes(
            &get_with_native(&c, &path),
            &data,
            &format!("native read of {len} bytes"),
        );
    }
}

/// Which DataNodes hold a replica being written (rbw) right now.
fn datanodes_with_rbw(c: &mut MiniCluster) -> Vec<usize> {
    let running = c.running_datanodes();
    running
        .into_iter()
        .filter(|&i| c.replicas_on(i).iter().any(|r| !r.finalized))
        .collect()
}

#[track_caller]
fn wait_for_rbw(c: &mut MiniCluster, timeout: Duration) -> Vec<usize> {
    let deadline = Instant::now() + timeout;
    loop {
        let nodes = datanodes_with_rbw(c);
        if !nodes.is_empty() {
            return nodes;
        }
        assert!(
            Instant::now() < deadline,
            "no DataNode has a replica being written after {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn killed_mid_write(java: bool) {
    let label = if java {
        "dp-kill-mid-write-java"
    } else {
        "dp-kill-mid-write-hafs"
    };
    let mut c = cluster(label, 4);
    let data = test_bytes(2, 3 * MIB + 12345);
    let log = c.dir().join("writer.log");
    let mut writer = if java {
        StreamingClient::java(&c, &["-put", "-", "/w-f"], &log)
    } else {
        StreamingClient::hafs_dfs(&c, &["-put", "-", "/w-f"], &log)
    };
    // Past the first block, into the second.
    let first = MIB + MIB / 2;
    writer.write(&data[..first]);
    let pipeline = wait_for_rbw(&mut c, Duration::from_secs(60));
    let victim = pipeline[0];
    c.kill_datanode(victim);
    writer.write(&data[first..]);
    let result = writer.finish(Duration::from_secs(180));
    assert!(
        result.status.success(),
        "writer failed after dn{} died:\n{}",
        victim + 1,
        result.output
    );

    assert_same_bytes(
        &get_with_hafs(&c, "/w-f"),
        &data,
        "hafs -get after pipeline recovery",
    );
    assert_same_bytes(
        &get_with_java(&c, "/w-f"),
        &data,
        "java -get after pipeline recovery",
    );
    // With a fourth DataNode available the NameNode restores three replicas.
    wait_replicated(&mut c, &data, 3, HEAL_TIMEOUT);
}

#[test]
fn datanode_killed_mid_write_java_writer_completes() {
    killed_mid_write(true);
}

#[test]
fn datanode_killed_mid_write_hafs_writer_completes() {
    killed_mid_write(false);
}

#[test]
fn killed_datanode_blocks_return_to_three_replicas() {
    let mut c = cluster("dp-rereplicate", 4);
    let data = test_bytes(3, 4 * MIB + 999);
    put_with_hafs(&c, "/r/f", &data);
    wait_replicated(&mut c, &data, 3, Duration::from_secs(20));
    // The DataNode holding the most replicas.
    let victim = (0..4).max_by_key(|&i| c.replicas_on(i).len()).unwrap();
    assert!(!c.replicas_on(victim).is_empty());
    c.kill_datanode(victim);
    let started = Instant::now();
    wait_replicated(&mut c, &data, 3, HEAL_TIMEOUT);
    eprintln!(
        "re-replicated after dn{} died in {:?}",
        victim + 1,
        started.elapsed()
    );
    c.wait_live_datanodes(3, Duration::from_secs(30));
    assert_same_bytes(
        &get_with_native(&c, "/r/f"),
        &data,
        "read after re-replication",
    );
}

#[test]
fn corrupt_block_file_is_read_around_reported_and_replaced() {
    let mut c = cluster("dp-corrupt", 4);
    let data = test_bytes(4, 2 * MIB + 4321);
    put_with_hafs(&c, "/c/f", &data);
    wait_replicated(&mut c, &data, 3, Duration::from_secs(20));

    // Silent corruption of one replica of the first block, in its second chunk.
    let (good, _) = classify_replicas(&mut c, &data);
    let target = good[&0][0].clone();
    corrupt_file(&target.path, 700, 100);

    // Reads keep succeeding from the other replicas, through every client, and the
    // readers' reports (or the block scanner) get the bad replica replaced. Readers
    // reach the bad replica only if the NameNode spreads reads over replicas (Hadoop
    // shuffles equally distant ones); otherwise the block scanner must find it.
    let deadline = Instant::now() + HEAL_TIMEOUT;
    let mut round = 0;
    loop {
        let got = match round % 3 {
            0 => get_with_hafs(&c, "/c/f"),
            1 => get_with_java(&c, "/c/f"),
            _ => get_with_native(&c, "/c/f"),
        };
        assert_same_bytes(
            &got,
            &data,
            &format!(
                "read {round} with a corrupt replica on dn{}",
                target.datanode + 1
            ),
        );
        round += 1;
        let (good, bad) = classify_replicas(&mut c, &data);
        if bad.is_empty()
            && good.values().all(|v| v.len() == 3)
            && good.len() == block_count(data.len())
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the corrupt replica on dn{} was not replaced within {HEAL_TIMEOUT:?} ({round} reads); bad: {bad:?}",
            target.datanode + 1
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn killed_writer_lease_is_recovered_with_recover_lease() {
    let mut c = cluster("dp-lease-recover", 3);
    let data = test_bytes(5, MIB + MIB / 2);
    let log = c.dir().join("writer.log");
    let mut writer = StreamingClient::java(&c, &["-put", "-", "/l-f"], &log);
    writer.write(&data);
    // Wait until the second block is being written, so there is a block to recover.
    let deadline = Instant::now() + Duration::from_secs(60);
    while c.finalized_replicas(&[0, 1, 2]).is_empty() || datanodes_with_rbw(&mut c).is_empty() {
        assert!(
            Instant::now() < deadline,
            "writer made no progress:\n{}",
            writer.output()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    writer.kill();

    // FsShell writes to <name>._COPYING_ and renames at the end.
    let path = "/l-f._COPYING_";
    let out = hafs_cmd(
        &c,
        &["debug", "recoverLease", "-path", path, "-retries", "30"],
    )
    .ok();
    assert!(out.stdout.contains("recoverLease SUCCEEDED"), "{out}");
    assert_closed_with_prefix_of(&c, path, &data);
}

#[test]
fn killed_writer_lease_is_recovered_by_the_namenode_after_the_hard_limit() {
    let c = MiniCluster::builder()
        .label("dp-lease-hard-limit")
        .datanodes(3)
        .conf("dfs.namenode.lease-hard-limit-sec", "3")
        .start();
    let data = test_bytes(6, MIB / 2);
    let log = c.dir().join("writer.log");
    let mut writer = StreamingClient::hafs_dfs(&c, &["-put", "-", "/l-g"], &log);
    writer.write(&data);
    std::thread::sleep(Duration::from_secs(2));
    writer.kill();
    let path = "/l-g._COPYING_";
    // Appending needs the lease: it succeeds once the NameNode has recovered the file.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = java_fs(&c, &["-stat", "%b", path]);
        if out.success() && hafs_dfs(&c, &["-appendToFile", "/dev/null", path]).success() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "lease of {path} not recovered within 60 s: {out}"
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    assert_closed_with_prefix_of(&c, path, &data);
}

/// The file is closed (another writer can append) and holds a prefix of what the dead
/// writer sent, the same for every reader.
#[track_caller]
fn assert_closed_with_prefix_of(c: &MiniCluster, path: &str, data: &[u8]) {
    let got = get_with_hafs(c, path);
    assert!(
        got.len() <= data.len(),
        "{} bytes recovered, only {} written",
        got.len(),
        data.len()
    );
    assert_same_bytes(&got, &data[..got.len()], "recovered prefix");
    assert_same_bytes(
        &get_with_java(c, path),
        &got,
        "java reads the recovered length",
    );
    let tail = test_bytes(7, 1000);
    let local = write_scratch(c, "append", &tail);
    java_fs(c, &["-appendToFile", local.to_str().unwrap(), path]).ok();
    let mut want = got.clone();
    want.extend_from_slice(&tail);
    assert_same_bytes(
        &get_with_native(c, path),
        &want,
        "append after lease recovery",
    );
}

#[test]
fn restarted_datanode_with_its_storage_causes_no_re_replication() {
    let mut c = cluster("dp-restart", 3);
    let data = test_bytes(8, 3 * MIB + 5);
    put_with_hafs(&c, "/s/f", &data);
    wait_replicated(&mut c, &data, 3, Duration::from_secs(20));
    let before: Vec<(u64, usize)> = placement(&c);

    c.restart_datanode(1);
    c.wait_live_datanodes(3, Duration::from_secs(60));
    // Give the NameNode's redundancy monitor several rounds to do anything wrong.
    std::thread::sleep(Duration::from_secs(8));
    assert_eq!(
        placement(&c),
        before,
        "replica placement changed after a DataNode restart"
    );
    wait_replicated(&mut c, &data, 3, Duration::from_secs(5));
    assert_same_bytes(&get_with_java(&c, "/s/f"), &data, "read after restart");
    let log = c.datanode_log(1);
    assert!(!log.contains("panicked"), "dn2 log:\n{log}");
}

/// (block id, DataNode) for every replica file on every DataNode.
fn placement(c: &MiniCluster) -> Vec<(u64, usize)> {
    let mut v: Vec<(u64, usize)> = (0..c.datanode_count())
        .flat_map(|i| c.replicas_on(i).into_iter().map(move |r| (r.block_id, i)))
        .collect();
    v.sort();
    v
}
