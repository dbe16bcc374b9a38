//! Rack awareness on one machine: six DataNodes, each on its own loopback address
//! (127.0.0.2..7) for its listeners and its NameNode connections, on two racks by a
//! topology script this test writes (`net.topology.script.file.name`): 127.0.0.2-4 on
//! /rack1, 127.0.0.5-7 on /rack2.
//!
//! One cluster serves the whole scenario (CI time): `dfsadmin -printTopology` from hafs
//! and from the real Apache `hdfs`; 40 files of varied sizes (some of several 1 MiB
//! blocks, replication 3 and 2), half written by the Java `hadoop fs -put`, half by
//! hdfs-native; every block on exactly two racks as `hafs fsck -files -blocks -racks`
//! reports it; getBlockLocations from a DataNode's address sorted nearest first; rack2
//! taken away (its three DataNodes stopped until declared dead) → every block back at
//! full replication on /rack1; rack2 back → every block on two racks again with no
//! replica in excess (in fsck and on the DataNodes' disks); and every byte read back
//! equal by both clients.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use hafs_ipc::ClientConfig;
use hafs_proto::hdfs as pb;
use hafs_tests::scaleout_checks::{
    self, fsck_summary_count as summary_count, tail, topology, write_topology_script, FsckBlock,
};
use hafs_tests::{
    block_files, hafs_cmd, hdfs_tool, java_fs, python, read_back_with_java_and_hdfs_native,
    test_bytes, MiniCluster, TempDir,
};

const RACK1: [&str; 3] = ["127.0.0.2", "127.0.0.3", "127.0.0.4"];
const RACK2: [&str; 3] = ["127.0.0.5", "127.0.0.6", "127.0.0.7"];
/// DataNode indexes (0-based) of rack2's nodes: DataNode i is on 127.0.0.(i+2).
const RACK2_NODES: [usize; 3] = [3, 4, 5];
const FILES_PER_CLIENT: usize = 20;

/// File `i`'s size: from a few bytes to 2.5 blocks, so some files have 3 blocks.
fn size_of(i: usize) -> usize {
    [
        1,
        4096,
        700_000,
        1 << 20,
        (1 << 20) + 1,
        2_600_000,
        123_457,
        2 << 20,
    ][i % 8]
        + i
}

/// Replication of file `i`: 3 for even, 2 for odd.
fn replication_of(i: usize) -> u16 {
    if i.is_multiple_of(2) {
        3
    } else {
        2
    }
}

/// The blocks of `fsck /racks -files -blocks -racks` and its whole text.
fn fsck_blocks(cluster: &MiniCluster) -> (Vec<FsckBlock>, String) {
    let out = hafs_cmd(cluster, &["fsck", "/racks", "-files", "-blocks", "-racks"]);
    (
        scaleout_checks::fsck_blocks(&out.stdout, "/racks/"),
        out.stdout,
    )
}

/// Polls fsck until `good` holds for every block (and the summary), or fails with the
/// last report.
#[track_caller]
fn wait_for_fsck(
    cluster: &MiniCluster,
    what: &str,
    timeout: Duration,
    expected_blocks: usize,
    good: impl Fn(&FsckBlock) -> bool,
    summary_ok: impl Fn(&str) -> bool,
) -> Vec<FsckBlock> {
    let deadline = Instant::now() + timeout;
    loop {
        let (blocks, text) = fsck_blocks(cluster);
        let bad: Vec<&FsckBlock> = blocks.iter().filter(|b| !good(b)).collect();
        if blocks.len() == expected_blocks && bad.is_empty() && summary_ok(&text) {
            return blocks;
        }
        if Instant::now() > deadline {
            panic!(
                "{what}: not reached within {timeout:?}: {} blocks (expected {expected_blocks}), {} not yet right, first: {:?}\nfsck:\n{text}\nNameNode log tail:\n{}",
                blocks.len(),
                bad.len(),
                bad.first(),
                tail(&cluster.namenode_log(), 40)
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// getBlockLocations of `path` asked from `from` (a DataNode's own address), with a
/// client bound to it, as a reader on that host would.
fn locations_from(cluster: &MiniCluster, from: &str, path: &str) -> Vec<pb::LocatedBlockProto> {
    let cfg = ClientConfig {
        bind_address: Some(from.parse().unwrap()),
        ..ClientConfig::default()
    };
    let blocks = hafs_tests::located_blocks(&cluster.nn_rpc_addr().to_string(), cfg, path);
    assert!(!blocks.is_empty(), "{path}: no blocks located");
    blocks
}

#[test]
fn two_racks_placement_loss_and_return_with_java_and_hdfs_native() {
    let local = TempDir::new("racks-local");
    let script = local.join("topology.sh");
    write_topology_script(&script, &[("/rack1", &RACK1), ("/rack2", &RACK2)]);
    let mut cluster = MiniCluster::builder()
        .label("racks")
        .datanodes(6)
        .own_datanode_hosts()
        .conf(
            "net.topology.script.file.name",
            script.display().to_string(),
        )
        .start();

    // The NameNode sees six hosts on two racks: hafs and the real Apache dfsadmin agree.
    let ours = hafs_cmd(&cluster, &["dfsadmin", "-printTopology"]).ok();
    let expected: BTreeMap<String, Vec<String>> = [("/rack1", RACK1), ("/rack2", RACK2)]
        .into_iter()
        .map(|(rack, ips)| {
            let mut nodes: Vec<String> = ips
                .iter()
                .map(|ip| {
                    let i = ip.rsplit('.').next().unwrap().parse::<usize>().unwrap() - 2;
                    cluster.datanode_xfer_addr(i).to_string()
                })
                .collect();
            nodes.sort();
            (rack.to_string(), nodes)
        })
        .collect();
    assert_eq!(
        topology(&ours.stdout),
        expected,
        "hafs dfsadmin -printTopology:\n{}",
        ours.stdout
    );
    let theirs = hdfs_tool(&cluster, &["dfsadmin", "-printTopology"]).ok();
    assert_eq!(
        topology(&theirs.stdout),
        expected,
        "Apache hdfs dfsadmin -printTopology:\n{}",
        theirs.stdout
    );
    let report = hafs_cmd(&cluster, &["dfsadmin", "-report"]).ok();
    assert_eq!(
        report.stdout.matches("Rack: /rack1").count(),
        3,
        "{}",
        report.stdout
    );
    assert_eq!(
        report.stdout.matches("Rack: /rack2").count(),
        3,
        "{}",
        report.stdout
    );

    // 20 files from Java (replication 3 and 2: two -put calls, one JVM each) and 20
    // from hdfs-native.
    let java_dir3 = local.join("java3");
    let java_dir2 = local.join("java2");
    std::fs::create_dir_all(&java_dir3).unwrap();
    std::fs::create_dir_all(&java_dir2).unwrap();
    let mut expected_files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for i in 0..FILES_PER_CLIENT {
        let data = test_bytes(i as u64, size_of(i));
        let dir = if replication_of(i) == 3 {
            &java_dir3
        } else {
            &java_dir2
        };
        std::fs::write(dir.join(format!("j{i:02}")), &data).unwrap();
        let sub = if replication_of(i) == 3 {
            "java3"
        } else {
            "java2"
        };
        expected_files.insert(format!("/racks/{sub}/j{i:02}"), data);
    }
    hafs_cmd(&cluster, &["dfs", "-mkdir", "-p", "/racks/native"]).ok();
    java_fs(
        &cluster,
        &[
            "-D",
            "dfs.replication=3",
            "-put",
            &java_dir3.display().to_string(),
            "/racks/java3",
        ],
    )
    .ok();
    java_fs(
        &cluster,
        &[
            "-D",
            "dfs.replication=2",
            "-put",
            &java_dir2.display().to_string(),
            "/racks/java2",
        ],
    )
    .ok();
    let mut native = String::from(
        "import os\nfrom hdfs_native import Client, WriteOptions\nc = Client(os.environ['HAFS_FS_URI'])\n",
    );
    native.push_str(&format!("src = '{}'\n", local.path().display()));
    for i in 0..FILES_PER_CLIENT {
        let n = i + FILES_PER_CLIENT;
        let data = test_bytes(n as u64, size_of(n));
        std::fs::write(local.join(format!("n{n:02}")), &data).unwrap();
        expected_files.insert(format!("/racks/native/n{n:02}"), data);
        native.push_str(&format!(
            "with c.create('/racks/native/n{n:02}', WriteOptions(replication={})) as w:\n    w.write(open(os.path.join(src, 'n{n:02}'), 'rb').read())\n",
            replication_of(n)
        ));
    }
    python(&cluster, &native).ok();
    let total_blocks: usize = expected_files
        .values()
        .map(|d| d.len().div_ceil(1 << 20).max(1))
        .sum();

    // Every block at full replication on exactly two racks, nothing mis-replicated.
    let blocks = wait_for_fsck(
        &cluster,
        "every block on two racks after the writes",
        Duration::from_secs(60),
        total_blocks,
        |b| b.replicas.len() == b.replication && b.racks().len() == 2,
        |t| {
            summary_count(t, "Mis-replicated blocks").is_some_and(|n| n == 0)
                && summary_count(t, "Number of racks").is_some_and(|n| n == 2)
        },
    );
    assert!(blocks.iter().any(|b| b.replication == 3) && blocks.iter().any(|b| b.replication == 2));
    assert_eq!(
        blocks
            .iter()
            .map(|b| b.file.as_str())
            .collect::<BTreeSet<_>>()
            .len(),
        2 * FILES_PER_CLIENT
    );

    // Read locations from a DataNode's own host: that node first when it holds a
    // replica, then its rack, then the other rack.
    let mut checked = 0;
    for (reader, reader_rack) in [("127.0.0.5", RACK2), ("127.0.0.2", RACK1)] {
        for path in expected_files.keys().take(10) {
            for lb in locations_from(&cluster, reader, path) {
                let ips: Vec<&str> = lb.locs.iter().map(|d| d.id.ip_addr.as_str()).collect();
                let distance = |ip: &str| {
                    if ip == reader {
                        0
                    } else if reader_rack.contains(&ip) {
                        2
                    } else {
                        4
                    }
                };
                let d: Vec<u32> = ips.iter().map(|ip| distance(ip)).collect();
                assert!(
                    d.windows(2).all(|w| w[0] <= w[1]),
                    "{path} read from {reader}: locations {ips:?} are not nearest first"
                );
                for loc in &lb.locs {
                    let rack = if RACK1.contains(&loc.id.ip_addr.as_str()) {
                        "/rack1"
                    } else {
                        "/rack2"
                    };
                    assert_eq!(loc.location.as_deref(), Some(rack), "{path}: {loc:?}");
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "only {checked} blocks checked");

    // Take rack2 away: once its nodes are dead, every block is re-replicated on rack1.
    for i in RACK2_NODES {
        cluster.stop_datanode(i);
    }
    cluster.wait_live_datanodes(3, Duration::from_secs(60));
    wait_for_fsck(
        &cluster,
        "full replication on /rack1 with rack2 gone",
        Duration::from_secs(120),
        total_blocks,
        |b| b.replicas.len() == b.replication && b.replicas.iter().all(|(r, _)| r == "/rack1"),
        |t| {
            summary_count(t, "Number of racks").is_some_and(|n| n == 1)
                && summary_count(t, "Under-replicated blocks").is_some_and(|n| n == 0)
        },
    );

    // Bring rack2 back: every block on two racks again, no replica in excess.
    for i in RACK2_NODES {
        cluster.start_datanode(i);
    }
    cluster.wait_live_datanodes(6, Duration::from_secs(60));
    wait_for_fsck(
        &cluster,
        "two racks per block again, no excess",
        Duration::from_secs(120),
        total_blocks,
        |b| b.replicas.len() == b.replication && b.racks().len() == 2,
        |t| {
            summary_count(t, "Mis-replicated blocks").is_some_and(|n| n == 0)
                && summary_count(t, "Over-replicated blocks").is_some_and(|n| n == 0)
                && summary_count(t, "Number of racks").is_some_and(|n| n == 2)
        },
    );
    // The excess replicas are gone from the DataNodes' disks too.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (blocks, text) = fsck_blocks(&cluster);
        let want: BTreeMap<u64, usize> = text
            .lines()
            .filter(|l| l.contains(":blk_") && l.contains(" len="))
            .zip(blocks.iter())
            .map(|(l, b)| {
                let id = l
                    .split(":blk_")
                    .nth(1)
                    .and_then(|r| r.split('_').next())
                    .and_then(|r| r.parse().ok())
                    .expect("block id");
                (id, b.replication)
            })
            .collect();
        let mut on_disk: BTreeMap<u64, usize> = BTreeMap::new();
        for i in 0..6 {
            let dirs = cluster.datanode_data_dirs(i).to_vec();
            let ids: BTreeSet<u64> = block_files(&dirs)
                .into_iter()
                .map(|(id, _, _)| id)
                .collect();
            for id in ids {
                *on_disk.entry(id).or_default() += 1;
            }
        }
        let wrong: Vec<(u64, usize, Option<&usize>)> = want
            .iter()
            .filter(|(id, n)| on_disk.get(id) != Some(n))
            .map(|(id, n)| (*id, *n, on_disk.get(id)))
            .collect();
        if wrong.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "replicas on disk differ from the replication (block, wanted, found): {wrong:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    // Every byte equal, read by Java (one -get of the whole tree) and by hdfs-native.
    read_back_with_java_and_hdfs_native(
        &cluster,
        local.path(),
        "/racks",
        &expected_files,
        "after the rack checks",
    );
}
