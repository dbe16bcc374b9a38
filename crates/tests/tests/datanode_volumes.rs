//! DataNode storage faults with real processes (issue 3, parts 1, 6 and 9): a failed
//! volume among two, a data dir formatted for another cluster, and the block scanner
//! finding silent corruption that no client read.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::*;
use hafs_tests::{corrupt_file, run_with_timeout, test_bytes, MiniCluster};

const MIB: usize = 1024 * 1024;
const HEAL_TIMEOUT: Duration = Duration::from_secs(120);

#[test]
fn failed_volume_is_taken_out_and_its_replicas_re_replicated() {
    let mut c = MiniCluster::builder()
        .label("dn-volume-failure")
        .datanodes(4)
        .conf("dfs.datanode.failed.volumes.tolerated", "1")
        .start();
    let data = test_bytes(61, 6 * MIB + 10);
    put_with_hafs(&c, "/v/f", &data);
    wait_replicated(&mut c, &data, 3, Duration::from_secs(30));

    // The DataNode with replicas on its first volume; that volume "fails": its
    // `current` dir is moved out of the data dir and a regular file put in its place,
    // so every IO under it fails while the process runs.
    let victim = (0..4)
        .max_by_key(|&i| {
            c.replicas_on(i)
                .iter()
                .filter(|r| r.path.starts_with(&c.datanode_data_dirs(i)[0]))
                .count()
        })
        .unwrap();
    let dir = c.datanode_data_dirs(victim)[0].clone();
    let lost: Vec<u64> = c
        .replicas_on(victim)
        .iter()
        .filter(|r| r.path.starts_with(&dir))
        .map(|r| r.block_id)
        .collect();
    assert!(
        !lost.is_empty(),
        "dn{} has nothing on {}",
        victim + 1,
        dir.display()
    );
    let moved: PathBuf = c.dir().join(format!("dn{}-failed-volume", victim + 1));
    std::fs::rename(dir.join("current"), &moved).expect("move the volume's current dir");
    std::fs::write(dir.join("current"), b"not a directory").unwrap();

    // The DataNode notices, says so, and keeps running on its other volume.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !c.datanode_log(victim).contains("volume failed") {
        assert!(
            Instant::now() < deadline,
            "dn{} did not report the failed volume:\n{}",
            victim + 1,
            c.datanode_log(victim)
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(c.datanode_running(victim), "dn{} stopped", victim + 1);

    // Every block gets back to three good replicas on volumes in service.
    wait_replicated(&mut c, &data, 3, HEAL_TIMEOUT);
    assert!(c.datanode_running(victim), "dn{} stopped", victim + 1);
    c.wait_live_datanodes(4, Duration::from_secs(10));
    assert_same_bytes(
        &get_with_hafs(&c, "/v/f"),
        &data,
        "read after the volume failed",
    );

    // New writes still land on the surviving volume of that DataNode.
    let good_dir = c.datanode_data_dirs(victim)[1].clone();
    let finalized_on_good = |c: &MiniCluster| {
        c.replicas_on(victim)
            .iter()
            .filter(|r| r.finalized && r.path.starts_with(&good_dir))
            .count()
    };
    let before = finalized_on_good(&c);
    let more = test_bytes(62, 3 * MIB);
    hafs_dfs_put(&c, "/v/g", &more, "4");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        // Replication 4 on 4 DataNodes: every block of /v/g has a replica here.
        if finalized_on_good(&c) >= before + 3 {
            break;
        }
        let on_victim = c.replicas_on(victim);
        assert!(
            Instant::now() < deadline,
            "dn{} did not store the new blocks on its good volume: {on_victim:?}",
            victim + 1
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(
        !c.replicas_on(victim)
            .iter()
            .any(|r| r.path.starts_with(&dir)),
        "a replica was written to the failed volume"
    );
}

/// `-put -f` with a replication factor.
fn hafs_dfs_put(c: &MiniCluster, path: &str, data: &[u8], replication: &str) {
    let local = write_scratch(c, "put-rep", data);
    hafs_tests::hafs_dfs(
        c,
        &[
            "-D",
            &format!("dfs.replication={replication}"),
            "-put",
            "-f",
            local.to_str().unwrap(),
            path,
        ],
    )
    .ok();
}

#[test]
fn datanode_formatted_for_another_cluster_is_refused() {
    let mut c = MiniCluster::builder()
        .label("dn-cluster-id")
        .datanodes(1)
        .start();
    put_with_hafs(&c, "/x", b"x");
    c.stop_datanode(0);
    // Its storage now says it belongs to another cluster.
    let mut edited = 0;
    for d in c.datanode_data_dirs(0).to_vec() {
        let version = d.join("current").join("VERSION");
        let text = std::fs::read_to_string(&version)
            .unwrap_or_else(|e| panic!("read {}: {e}", version.display()));
        assert!(text.contains("clusterID=test"), "{text}");
        std::fs::write(
            &version,
            with_checksum(&text.replace("clusterID=test", "clusterID=elsewhere")),
        )
        .unwrap();
        edited += 1;
    }
    assert_eq!(edited, 2);

    let mut cmd = std::process::Command::new(hafs_tests::hafs_bin());
    cmd.env_remove("HADOOP_CONF_DIR")
        .arg("--config")
        .arg(c.datanode_conf_dir(0))
        .arg("datanode");
    let out = run_with_timeout(cmd, Duration::from_secs(60));
    assert!(!out.success(), "the DataNode started anyway:\n{out}");
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("elsewhere") && all.contains("test"),
        "the refusal does not name both cluster ids:\n{out}"
    );
    assert!(
        all.to_lowercase().contains("cluster"),
        "the refusal does not say what is wrong:\n{out}"
    );
    // The NameNode never accepted it again: one registration, from its first start.
    let nn = c.namenode_log();
    assert_eq!(nn.matches("registered DataNode").count(), 1, "{nn}");
}

#[test]
fn block_scanner_finds_and_replaces_a_corrupt_replica_nobody_read() {
    let mut c = MiniCluster::builder()
        .label("dn-block-scanner")
        .datanodes(4)
        .conf("dfs.block.scanner.volume.bytes.per.second", "104857600")
        .conf("internal.dfs.datanode.scan.period.ms.key", "1000")
        .start();
    let data = test_bytes(63, 2 * MIB + 77);
    put_with_hafs(&c, "/s/f", &data);
    wait_replicated(&mut c, &data, 3, Duration::from_secs(30));
    let (good, _) = classify_replicas(&mut c, &data);
    let target = good[&1][0].clone();
    corrupt_file(&target.path, 4096, 10);

    // No client reads the file: only the scanner can find it.
    let started = Instant::now();
    wait_replicated(&mut c, &data, 3, HEAL_TIMEOUT);
    eprintln!(
        "corrupt replica on dn{} replaced in {:?}",
        target.datanode + 1,
        started.elapsed()
    );
    let log = c.datanode_log(target.datanode);
    assert!(
        log.contains("block scanner found a corrupt replica"),
        "dn{} log:\n{log}",
        target.datanode + 1
    );
    assert_same_bytes(&get_with_native(&c, "/s/f"), &data, "read after repair");
}

/// A hafs VERSION text with its `checksum=` line recomputed: CRC32C over the property
/// lines, each trimmed and followed by a newline (see the DataNode's storage/version.rs).
fn with_checksum(text: &str) -> String {
    let props: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('!'))
        .filter(|l| !l.starts_with("checksum="))
        .collect();
    let mut covered = Vec::new();
    for l in &props {
        covered.extend_from_slice(l.as_bytes());
        covered.push(b'\n');
    }
    let mut out: String = props.iter().map(|l| format!("{l}\n")).collect();
    out.push_str(&format!("checksum={:08x}\n", crc32c(&covered)));
    out
}

fn crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
