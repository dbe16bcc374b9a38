//! The control for the scale-out scenarios: racks.rs and decommission.rs run against
//! the real Apache HDFS (Hadoop 3.5.0's NameNodes, DataNodes, JournalNodes and
//! controllers, `ReferenceHdfs`), asserting the same outcomes with the same parsers
//! (`hafs_tests::scaleout_checks`), so a property the hafs tests demand is one real
//! HDFS shows too.
//!
//! One reference cluster serves the whole scenario (it is slow to start: 13 JVMs,
//! each with a bounded heap): five DataNodes, each on its own loopback address
//! (127.0.0.2..6), on two racks by a topology script (127.0.0.2-4 on /rack1, .5-6 on
//! /rack2), an exclude file (`dfs.hosts.exclude`) the test edits, 1 s heartbeats and
//! decommission checks, 1 MiB blocks.
//!
//! Racks: `dfsadmin -printTopology` (Apache's and ours against the real NameNode) lists
//! the five hosts on their racks; files written by the Java `hadoop fs -put`
//! (replication 3 and 2) and hdfs-native have every block at full replication on
//! exactly two racks, as Apache's `fsck -files -blocks -racks` reports it.
//!
//! Decommission: a file held open by a Java `hadoop fs -put -` with its block on the
//! victim; a Java and an hdfs-native write load that read back what they write; the
//! victim added to the exclude file and `dfsadmin -refreshNodes` sent to both
//! NameNodes: "Decommission in progress" in Apache's report (and ours), then
//! "Decommissioned" with every block at full live replication elsewhere — while the
//! open file is still open, where hafs keeps the node in progress until it closes (the
//! one difference, in docs/compatibility.md); the open file then closes; no new replica
//! on the victim's disk once it is in progress, the load never failed, and every file reads
//! back byte-exact by Java and hdfs-native. Recommissioned: "Normal" again with no
//! replica in excess.
//!
//! Balancer: an empty sixth DataNode joins (127.0.0.7, /rack2); Apache's `hdfs
//! balancer -threshold 10` and `hafs balancer -threshold 10` both run against the real
//! NameNodes and find the cluster balanced (on a shared disk nothing is unbalanced: see
//! docs/reference-hdfs.md).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use hafs_ipc::ClientConfig;
use hafs_tests::scaleout_checks::{
    decommission_status, fsck_blocks, fsck_summary_count, tail, topology, write_topology_script,
    FsckBlock,
};
use hafs_tests::{
    assert_acked_intact, block_files, hafs_cmd, hdfs_tool, java_fs, python,
    read_back_with_java_and_hdfs_native, test_bytes, ClientTarget, ConfTarget, ReferenceHdfs,
    StreamingClient, TempDir, Writer,
};

const RACK1: [&str; 3] = ["127.0.0.2", "127.0.0.3", "127.0.0.4"];
const RACK2: [&str; 2] = ["127.0.0.5", "127.0.0.6"];
/// The DataNode added for the balancer (dn6), on /rack2.
const ADDED: &str = "127.0.0.7";
const DATANODES: usize = 5;
const FILES_PER_CLIENT: usize = 8;
const BLOCK_SIZE: usize = 1 << 20;
/// The open file: written in two halves, before the decommission and after it ended.
const OPEN_HALF: usize = 600_000;
/// `dfs.namenode.decommission.interval`: long enough that "Decommission in progress"
/// lasts for a report or two (Apache's monitor needs two passes over the node's blocks).
const DECOMMISSION_INTERVAL: Duration = Duration::from_secs(30);

/// File `i`'s size: from a byte to 2.5 blocks.
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

fn target(r: &ReferenceHdfs) -> ClientTarget {
    ClientTarget {
        conf_dir: r.conf_dir().to_path_buf(),
        fs_uri: r.fs_uri(),
        env: Vec::new(),
    }
}

/// Polls `check` (every 500 ms) until it returns `Ok`; fails with its last `Err` and
/// the Active NameNode's log tail after `timeout`.
#[track_caller]
fn wait_for<T>(
    r: &ReferenceHdfs,
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> Result<T, String>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        match check() {
            Ok(v) => return v,
            Err(last) => assert!(
                Instant::now() < deadline,
                "{what}: not reached within {timeout:?}; last:\n{last}\nActive NameNode log tail:\n{}",
                r.log_tail(&r.first_active, 40)
            ),
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Apache `fsck <path> -files -blocks -racks` (its exit code says HEALTHY or not,
/// which a poll must not fail on).
fn fsck(r: &ReferenceHdfs, path: &str) -> String {
    hdfs_tool(r, &["fsck", path, "-files", "-blocks", "-racks"]).stdout
}

/// Apache `dfsadmin -report` until the DataNode at `xfer` is `want`.
#[track_caller]
fn wait_for_status(r: &ReferenceHdfs, xfer: &str, want: &str, timeout: Duration) -> String {
    wait_for(r, &format!("{xfer} \"{want}\""), timeout, || {
        let out = hdfs_tool(r, &["dfsadmin", "-report"]).ok();
        if decommission_status(&out.stdout, xfer).as_deref() == Some(want) {
            Ok(out.stdout)
        } else {
            Err(out.stdout)
        }
    })
}

/// The ids of the block replicas in a DataNode's data dir (finalized or being written).
fn replicas_in(dir: &Path) -> std::collections::BTreeSet<u64> {
    block_files(&[dir.to_path_buf()])
        .into_iter()
        .map(|(id, _, _)| id)
        .collect()
}

#[test]
fn racks_and_decommission_on_apache_hdfs_as_on_hafs() {
    let started = Instant::now();
    let local = TempDir::new("refscale-local");
    let script = local.join("topology.sh");
    write_topology_script(
        &script,
        &[("/rack1", &RACK1), ("/rack2", &[RACK2[0], RACK2[1], ADDED])],
    );
    let exclude = local.join("dfs.exclude");
    std::fs::write(&exclude, "").unwrap();
    let r = ReferenceHdfs::builder("scaleout")
        .datanodes(DATANODES)
        .own_datanode_hosts()
        .site(
            "net.topology.script.file.name",
            script.display().to_string(),
        )
        .site("dfs.hosts.exclude", exclude.display().to_string())
        .site("dfs.heartbeat.interval", "1")
        .site(
            "dfs.namenode.decommission.interval",
            format!("{}s", DECOMMISSION_INTERVAL.as_secs()),
        )
        .site("dfs.namenode.redundancy.interval.seconds", "1s")
        .site("dfs.blocksize", BLOCK_SIZE.to_string())
        .site("dfs.replication", "3")
        .start();
    eprintln!("reference cluster up after {:?}", started.elapsed());
    let dn_addr = |ip: &str| -> String {
        r.datanodes()
            .into_iter()
            .find(|d| d.addr.starts_with(&format!("{ip}:")))
            .unwrap_or_else(|| panic!("no DataNode on {ip}: {}", r.ready))
            .addr
            .clone()
    };

    // ---- Racks: five hosts on two racks, in Apache's -printTopology and in ours.
    let expected_topology: BTreeMap<String, Vec<String>> =
        [("/rack1", RACK1.as_slice()), ("/rack2", RACK2.as_slice())]
            .into_iter()
            .map(|(rack, ips)| {
                let mut nodes: Vec<String> = ips.iter().map(|ip| dn_addr(ip)).collect();
                nodes.sort();
                (rack.to_string(), nodes)
            })
            .collect();
    let theirs = hdfs_tool(&r, &["dfsadmin", "-printTopology"]).ok();
    assert_eq!(
        topology(&theirs.stdout),
        expected_topology,
        "Apache hdfs dfsadmin -printTopology:\n{}",
        theirs.stdout
    );
    let ours = hafs_cmd(&r, &["dfsadmin", "-printTopology"]).ok();
    assert_eq!(
        topology(&ours.stdout),
        expected_topology,
        "hafs dfsadmin -printTopology against Apache HDFS:\n{}",
        ours.stdout
    );

    // Files from Java (replication 3 and 2: one -put each) and from hdfs-native.
    let mut expected: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let java3 = local.join("java3");
    let java2 = local.join("java2");
    std::fs::create_dir_all(&java3).unwrap();
    std::fs::create_dir_all(&java2).unwrap();
    for i in 0..FILES_PER_CLIENT {
        let data = test_bytes(i as u64, size_of(i));
        let (dir, sub) = if replication_of(i) == 3 {
            (&java3, "java3")
        } else {
            (&java2, "java2")
        };
        std::fs::write(dir.join(format!("j{i:02}")), &data).unwrap();
        expected.insert(format!("/scale/{sub}/j{i:02}"), data);
    }
    java_fs(&r, &["-mkdir", "-p", "/scale/native"]).ok();
    for (dir, sub, repl) in [(&java3, "java3", "3"), (&java2, "java2", "2")] {
        java_fs(
            &r,
            &[
                "-D",
                &format!("dfs.replication={repl}"),
                "-put",
                &dir.display().to_string(),
                &format!("/scale/{sub}"),
            ],
        )
        .ok();
    }
    let mut native = String::from(
        "import os\nfrom hdfs_native import Client, WriteOptions\nc = Client(os.environ['HAFS_FS_URI'])\n",
    );
    for n in FILES_PER_CLIENT..2 * FILES_PER_CLIENT {
        let data = test_bytes(n as u64, size_of(n));
        let copy = local.join(format!("n{n:02}"));
        std::fs::write(&copy, &data).unwrap();
        native.push_str(&format!(
            "with c.create('/scale/native/n{n:02}', WriteOptions(replication={})) as w:\n    w.write(open('{}', 'rb').read())\n",
            replication_of(n),
            copy.display()
        ));
        expected.insert(format!("/scale/native/n{n:02}"), data);
    }
    python(&r, &native).ok();
    let total_blocks: usize = expected
        .values()
        .map(|d| d.len().div_ceil(BLOCK_SIZE).max(1))
        .sum();

    // Every block at full replication on exactly two racks, nothing mis-replicated.
    let blocks: Vec<FsckBlock> = wait_for(
        &r,
        "every block on two racks after the writes",
        Duration::from_secs(60),
        || {
            let text = fsck(&r, "/scale");
            let blocks = fsck_blocks(&text, "/scale/");
            let bad = blocks
                .iter()
                .filter(|b| b.replicas.len() != b.replication || b.racks().len() != 2)
                .count();
            let summary_ok = fsck_summary_count(&text, "Mis-replicated blocks") == Some(0)
                && fsck_summary_count(&text, "Number of racks") == Some(2);
            if blocks.len() == total_blocks && bad == 0 && summary_ok {
                Ok(blocks)
            } else {
                Err(format!(
                    "{} blocks (expected {total_blocks}), {bad} not on 2 racks at full replication\n{text}",
                    blocks.len()
                ))
            }
        },
    );
    assert!(blocks.iter().any(|b| b.replication == 3) && blocks.iter().any(|b| b.replication == 2));
    eprintln!(
        "racks: {total_blocks} blocks on two racks after {:?}",
        started.elapsed()
    );

    // ---- Decommission. The open file: Java `-put -` fed through stdin.
    let open_data = test_bytes(999, 2 * OPEN_HALF);
    // `-put` does not create parents.
    java_fs(&r, &["-mkdir", "-p", "/open"]).ok();
    let mut open_writer = StreamingClient::java(
        &r,
        &["-put", "-", "/open/file"],
        &local.join("open-put.log"),
    );
    open_writer.write(&open_data[..OPEN_HALF]);
    let open_tmp = "/open/file._COPYING_";
    let active = r.daemon(&r.first_active).addr.clone();
    let pipeline: Vec<String> = wait_for(
        &r,
        "the open file's pipeline",
        Duration::from_secs(60),
        || {
            let blocks = hafs_tests::located_blocks(&active, ClientConfig::default(), open_tmp);
            match blocks.last().filter(|b| !b.locs.is_empty()) {
                Some(b) => Ok(b.locs.iter().map(|d| d.id.ip_addr.clone()).collect()),
                None => Err(format!("{blocks:?}\n{}", open_writer.output())),
            }
        },
    );
    let victim_ip = pipeline[0].clone();
    let victim_xfer = dn_addr(&victim_ip);
    let victim_name = r
        .datanodes()
        .into_iter()
        .find(|d| d.addr == victim_xfer)
        .unwrap()
        .name
        .clone();
    let victim_dir = r.dir().join(&victim_name);
    eprintln!("victim: {victim_name} at {victim_xfer}; open file pipeline {pipeline:?}");

    // A small continuous load: Java and hdfs-native writers reading back what they wrote.
    let java_load = Writer::java(target(&r), "/load/java", local.join("scratch"));
    let native_load = Writer::hdfs_native(target(&r), "/load/native", 30);

    writeln!(
        std::fs::OpenOptions::new()
            .append(true)
            .open(&exclude)
            .unwrap(),
        "{victim_ip}"
    )
    .unwrap();
    let refresh = hdfs_tool(&r, &["dfsadmin", "-refreshNodes"]).ok();
    assert_eq!(
        refresh
            .stdout
            .matches("Refresh nodes successful for ")
            .count(),
        2,
        "{refresh}"
    );

    // "Decommission in progress" in Apache's report and in ours: the node stays so
    // from the refresh until a monitor pass (every DECOMMISSION_INTERVAL) finds each of
    // its blocks fully replicated elsewhere, which the pass before queued.
    let report = wait_for_status(
        &r,
        &victim_xfer,
        "Decommission in progress",
        DECOMMISSION_INTERVAL,
    );
    assert!(
        report.contains("Decommissioning datanodes (1):"),
        "{report}"
    );
    let ours = hafs_cmd(&r, &["dfsadmin", "-report"]).ok();
    assert_eq!(
        decommission_status(&ours.stdout, &victim_xfer).as_deref(),
        Some("Decommission in progress"),
        "hafs dfsadmin -report against Apache HDFS:\n{}",
        ours.stdout
    );
    assert!(
        ours.stdout.contains("Decommissioning datanodes (1):"),
        "{ours}"
    );
    // What the victim holds once it is in progress: the writers' blocks placed while
    // the refresh's JVM started are there legitimately; none may come after.
    let on_victim_at_refresh = replicas_in(&victim_dir);
    read_back_with_java_and_hdfs_native(
        &r,
        local.path(),
        "/scale",
        &expected,
        "during the decommission",
    );

    // Unlike hafs (decommission.rs), Apache's NameNode does not wait for the open file:
    // a block being written is not among the node's blocks until it is committed, so
    // the node is Decommissioned while the file is still open, and no open file is
    // listed as blocking (docs/compatibility.md).
    let report = wait_for_status(&r, &victim_xfer, "Decommissioned", Duration::from_secs(120));
    assert!(!report.contains("Decommissioning datanodes"), "{report}");
    let still_open = hafs_tests::located_blocks(&active, ClientConfig::default(), open_tmp);
    // `-put` renames its `._COPYING_` file only once it is closed.
    assert!(
        !still_open.is_empty(),
        "{open_tmp} should still be open, with its block"
    );
    let blocking = hdfs_tool(&r, &["dfsadmin", "-listOpenFiles", "-blockingDecommission"]).ok();
    assert!(!blocking.stdout.contains(open_tmp), "{blocking}");
    let text = wait_for(
        &r,
        "every block at full replication off the victim",
        Duration::from_secs(120),
        || {
            let text = fsck(&r, "/scale");
            let blocks = fsck_blocks(&text, "/scale/");
            let short = blocks
                .iter()
                .filter(|b| {
                    let off_victim = b.replicas.iter().filter(|(_, a)| *a != victim_xfer).count();
                    b.live_replicas != Some(b.replication) || off_victim < b.replication
                })
                .count();
            if blocks.len() == total_blocks
                && short == 0
                && fsck_summary_count(&text, "Under-replicated blocks") == Some(0)
                && fsck_summary_count(&text, "Missing blocks") == Some(0)
                && fsck_summary_count(&text, "DecommissionedReplicas") > Some(0)
            {
                Ok(text)
            } else {
                Err(format!(
                    "{short} blocks short of live replicas off the victim\n{text}"
                ))
            }
        },
    );
    eprintln!("fsck once decommissioned:\n{}", tail(&text, 25));
    let ours = hafs_cmd(&r, &["dfsadmin", "-report"]).ok();
    assert_eq!(
        decommission_status(&ours.stdout, &victim_xfer).as_deref(),
        Some("Decommissioned"),
        "hafs dfsadmin -report against Apache HDFS:\n{}",
        ours.stdout
    );

    // The open file closes through its pipeline, the decommissioned node included.
    open_writer.write(&open_data[OPEN_HALF..]);
    let result = open_writer.finish(Duration::from_secs(120));
    assert!(
        result.status.success(),
        "the open file's put: {}",
        result.output
    );

    // Nothing new landed on the victim since it was in progress (the open file's block
    // was there before).
    let new: Vec<u64> = replicas_in(&victim_dir)
        .difference(&on_victim_at_refresh)
        .copied()
        .collect();
    assert!(
        new.is_empty(),
        "replicas placed on the decommissioning node once it was in progress: {new:?}"
    );

    // The load never failed, and every file reads back exactly.
    let java_report = java_load.stop();
    let native_report = native_load.stop();
    java_report.assert_clean("the decommission", 1);
    native_report.assert_clean("the decommission", 1);
    assert_acked_intact(
        &target(&r),
        &[java_report, native_report],
        "after the decommission",
    );
    expected.insert("/open/file".to_string(), open_data);
    let open_only: BTreeMap<String, Vec<u8>> = expected
        .iter()
        .filter(|(p, _)| p.starts_with("/open/"))
        .map(|(p, d)| (p.clone(), d.clone()))
        .collect();
    expected.retain(|p, _| p.starts_with("/scale/"));
    read_back_with_java_and_hdfs_native(&r, local.path(), "/scale", &expected, "decommissioned");
    read_back_with_java_and_hdfs_native(&r, local.path(), "/open", &open_only, "open file closed");

    // Recommission: Normal again, and the replicas the node holds in excess go.
    std::fs::write(&exclude, "").unwrap();
    let refresh = hdfs_tool(&r, &["dfsadmin", "-refreshNodes"]).ok();
    assert_eq!(
        refresh
            .stdout
            .matches("Refresh nodes successful for ")
            .count(),
        2,
        "{refresh}"
    );
    wait_for_status(&r, &victim_xfer, "Normal", Duration::from_secs(30));
    wait_for(
        &r,
        "no excess replicas after recommission",
        Duration::from_secs(120),
        || {
            let text = fsck(&r, "/scale");
            if fsck_summary_count(&text, "Over-replicated blocks") == Some(0)
                && fsck_summary_count(&text, "Under-replicated blocks") == Some(0)
                && !text.contains("Decommission")
            {
                Ok(())
            } else {
                Err(text)
            }
        },
    );
    eprintln!("decommission done after {:?}", started.elapsed());

    // ---- Balancer: an empty DataNode joins; Apache's balancer and ours, against the
    // real NameNodes, find the cluster balanced and leave no lock file. Only that: every
    // DataNode's capacity is the whole shared disk, on which a few MiB are far below any
    // threshold, and Apache's DataNode cannot be given a smaller capacity here (see
    // docs/reference-hdfs.md); the moving balancer is balancer.rs's, on hafs.
    let mut r = r;
    let added = r.add_datanode();
    assert!(added.addr.starts_with(&format!("{ADDED}:")), "{added:?}");
    let topo = hdfs_tool(&r, &["dfsadmin", "-printTopology"]).ok();
    assert!(
        topology(&topo.stdout)["/rack2"].contains(&added.addr),
        "{}",
        topo.stdout
    );
    for (tool, out) in [
        (
            "Apache hdfs balancer",
            hdfs_tool(&r, &["balancer", "-threshold", "10"]),
        ),
        (
            "hafs balancer",
            hafs_cmd(&r, &["balancer", "-threshold", "10"]),
        ),
    ] {
        assert_eq!(out.code(), Some(0), "{tool} against Apache HDFS: {out}");
        assert!(
            out.stdout.contains("The cluster is balanced. Exiting..."),
            "{tool} against Apache HDFS: {out}"
        );
        let lock = hdfs_tool(&r, &["dfs", "-test", "-e", "/system/balancer.id"]);
        assert_eq!(lock.code(), Some(1), "{tool} left its lock file: {lock}");
    }
    eprintln!("scenario done after {:?}", started.elapsed());
}
