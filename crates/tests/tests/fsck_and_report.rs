//! `hafs fsck` and `hafs dfsadmin -report / -safemode` against real NameNode and
//! DataNode processes (issue 3, part 7): what they say about a healthy, an
//! under-replicated and a corrupt file system, checked against the replicas on disk.

mod common;

use std::time::{Duration, Instant};

use common::*;
use hafs_tests::{
    corrupt_file, hafs_cmd, hafs_dfs, java_fs, test_bytes, ClientTarget, MiniCluster,
};

const MIB: usize = 1024 * 1024;

/// Dead-DataNode detection (2 × 2 s recheck + 10 × 1 s heartbeat) with room for a
/// loaded machine.
const DEAD_TIMEOUT: Duration = Duration::from_secs(60);

/// The value after `label` on the fsck summary line that starts with it.
fn summary_value<'a>(report: &'a str, label: &str) -> &'a str {
    report
        .lines()
        .find_map(|l| l.trim_start().strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label:?} line in:\n{report}"))
        .trim()
}

fn count(report: &str, label: &str) -> u64 {
    let v = summary_value(report, label);
    v.split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{label:?} is not a number: {v:?}"))
}

#[test]
fn fsck_of_a_healthy_tree_lists_blocks_and_their_datanodes() {
    let c = MiniCluster::builder()
        .label("fsck-healthy")
        .datanodes(3)
        .start();
    let big = test_bytes(51, 2 * MIB + MIB / 2);
    put_with_hafs(&c, "/f/big", &big);
    put_with_hafs(&c, "/f/small", b"small");
    hafs_dfs(&c, &["-mkdir", "-p", "/f/empty/dir"]).ok();
    hafs_dfs(&c, &["-touchz", "/f/zero"]).ok();

    let out = hafs_cmd(&c, &["fsck", "/"]).expect_code(0);
    assert!(out.stdout.contains("Status: HEALTHY"), "{out}");
    assert!(
        out.stdout
            .trim_end()
            .ends_with("The filesystem under path '/' is HEALTHY"),
        "{out}"
    );
    assert_eq!(count(&out.stdout, "Total files:"), 3, "{out}");
    // /, /f, /f/empty, /f/empty/dir.
    assert_eq!(count(&out.stdout, "Total dirs:"), 4, "{out}");
    assert_eq!(count(&out.stdout, "Total blocks (validated):"), 4, "{out}");
    assert_eq!(
        count(&out.stdout, "Total size:"),
        big.len() as u64 + 5,
        "{out}"
    );
    assert_eq!(count(&out.stdout, "Under-replicated blocks:"), 0, "{out}");
    assert_eq!(count(&out.stdout, "Missing blocks:"), 0, "{out}");
    assert_eq!(count(&out.stdout, "Corrupt blocks:"), 0, "{out}");
    assert_eq!(
        summary_value(&out.stdout, "Average block replication:"),
        "3.0"
    );
    assert_eq!(
        summary_value(&out.stdout, "Default replication factor:"),
        "3"
    );

    // -files -blocks -locations: one line per block with the DataNodes that hold it,
    // which must be the ones with the replica on disk.
    let out = hafs_cmd(&c, &["fsck", "/f/big", "-files", "-blocks", "-locations"]).expect_code(0);
    assert!(
        out.stdout.contains(&format!(
            "/f/big {} bytes, replicated: replication=3, 3 block(s):  OK",
            big.len()
        )),
        "{out}"
    );
    let on_disk = c.finalized_replicas(&[0, 1, 2]);
    assert_eq!(on_disk.len(), 4, "{on_disk:?}");
    let block_lines: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.contains(":blk_") && l.contains(" len="))
        .collect();
    assert_eq!(block_lines.len(), 3, "{out}");
    for (i, line) in block_lines.iter().enumerate() {
        assert!(line.starts_with(&format!("{i}. BP-")), "{line}");
        let id: u64 = line
            .split(":blk_")
            .nth(1)
            .and_then(|r| r.split('_').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no block id in {line}"));
        let want_len = (big.len() - i * MIB).min(MIB);
        assert!(
            line.contains(&format!(" len={want_len} Live_repl=3  [")),
            "{line}"
        );
        let mut listed: Vec<usize> = line
            .split("DatanodeInfoWithStorage[127.0.0.1:")
            .skip(1)
            .map(|r| {
                let port: u16 = r.split(',').next().unwrap().parse().unwrap();
                c.datanode_by_xfer_port(port)
                    .unwrap_or_else(|| panic!("unknown DataNode port {port} in {line}"))
            })
            .collect();
        listed.sort();
        let mut holders: Vec<usize> = on_disk[&id].iter().map(|r| r.datanode).collect();
        holders.sort();
        assert_eq!(listed, holders, "block {id}: {line}");
    }

    // A path that does not exist: Hadoop's words, exit 0 as DFSck.
    let out = hafs_cmd(&c, &["fsck", "/no/such/path"]);
    assert!(
        out.stdout.contains("Path '/no/such/path' does not exist")
            || out.stderr.contains("Path '/no/such/path' does not exist"),
        "{out}"
    );
    assert_eq!(out.code(), Some(0), "{out}");

    // fsck runs on the NameNode as the calling user: a directory bob may not list
    // ends his check with Hadoop's permission error, FAILED, exit status -1.
    hafs_dfs(&c, &["-mkdir", "-p", "/private/inner"]).ok();
    hafs_dfs(&c, &["-chmod", "700", "/private"]).ok();
    let bob = ClientTarget {
        conf_dir: c.conf_dir().to_path_buf(),
        fs_uri: c.fs_uri(),
        env: vec![("HADOOP_USER_NAME".into(), "bob".into())],
    };
    let out = hafs_cmd(&bob, &["fsck", "/private", "-files"]);
    assert_eq!(out.code(), Some(255), "{out}");
    assert!(
        out.stdout.contains("FSCK started by bob (auth:SIMPLE)"),
        "{out}"
    );
    assert!(out.stdout.contains("Permission denied: user=bob"), "{out}");
    assert!(
        out.stdout.contains("Fsck on path '/private' FAILED"),
        "{out}"
    );
    assert!(!out.stdout.contains("/private/inner"), "{out}");
    let out = hafs_cmd(&c, &["fsck", "/private", "-files"]).expect_code(0);
    assert!(out.stdout.contains("/private/inner <dir>"), "{out}");
}

#[test]
fn killed_datanode_shows_in_report_and_fsck_counts_under_replicated_blocks() {
    // Three DataNodes and replication 3: with one dead there is nowhere to re-replicate.
    let mut c = MiniCluster::builder()
        .label("fsck-under")
        .datanodes(3)
        .start();
    let data = test_bytes(52, 2 * MIB + 100);
    put_with_hafs(&c, "/u/f", &data);
    wait_replicated(&mut c, &data, 3, Duration::from_secs(30));

    let report = hafs_cmd(&c, &["dfsadmin", "-report"]).ok();
    assert!(report.stdout.contains("Live datanodes (3):"), "{report}");
    for i in 0..3 {
        let addr = c.datanode_xfer_addr(i).to_string();
        assert!(
            report.stdout.contains(&format!("Name: {addr} ")),
            "no section for dn{} ({addr}):\n{report}",
            i + 1
        );
    }
    assert_eq!(
        report
            .stdout
            .matches("Decommission Status : Normal")
            .count(),
        3,
        "{report}"
    );

    c.kill_datanode(2);
    let dead_addr = c.datanode_xfer_addr(2).to_string();
    c.wait_live_datanodes(2, DEAD_TIMEOUT);
    let report = hafs_cmd(&c, &["dfsadmin", "-report"]).ok();
    assert!(report.stdout.contains("Live datanodes (2):"), "{report}");
    assert!(report.stdout.contains("Dead datanodes (1):"), "{report}");
    let dead_section = report.stdout.split("Dead datanodes (1):").nth(1).unwrap();
    assert!(
        dead_section.contains(&format!("Name: {dead_addr} ")),
        "dn3 is not listed as dead:\n{report}"
    );

    let out = hafs_cmd(&c, &["fsck", "/"]).expect_code(0);
    assert!(out.stdout.contains("is HEALTHY"), "{out}");
    assert_eq!(count(&out.stdout, "Under-replicated blocks:"), 3, "{out}");
    assert_eq!(count(&out.stdout, "Missing replicas:"), 3, "{out}");
    assert_eq!(
        summary_value(&out.stdout, "Average block replication:"),
        "2.0"
    );
    assert!(
        out.stdout
            .contains("Target Replicas is 3 but found 2 live replica(s)"),
        "{out}"
    );
    // The data is all still readable.
    assert_same_bytes(
        &get_with_hafs(&c, "/u/f"),
        &data,
        "read with a DataNode dead",
    );

    // Back: the counts return to normal.
    c.start_datanode(2);
    c.wait_live_datanodes(3, DEAD_TIMEOUT);
    let deadline = Instant::now() + DEAD_TIMEOUT;
    loop {
        let out = hafs_cmd(&c, &["fsck", "/"]).expect_code(0);
        if count(&out.stdout, "Under-replicated blocks:") == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "still under-replicated:\n{out}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn fsck_reports_a_block_with_every_replica_corrupt() {
    // The block scanner finds the corruption (a reading client does not report a block
    // whose every replica is bad, as in Hadoop); a short scan period makes it rescan.
    let mut c = MiniCluster::builder()
        .label("fsck-corrupt")
        .datanodes(3)
        .conf("dfs.block.scanner.volume.bytes.per.second", "104857600")
        .conf("internal.dfs.datanode.scan.period.ms.key", "1000")
        .start();
    let data = test_bytes(53, MIB + 1000);
    put_with_hafs(&c, "/k/f", &data);
    put_with_hafs(&c, "/k/fine", b"fine");
    wait_for_blocks(&mut c, 3);
    let (good, _) = classify_replicas(&mut c, &data);
    // Every replica of the file's first block.
    let first = good.get(&0).cloned().unwrap_or_default();
    assert_eq!(first.len(), 3, "{good:?}");
    for r in &first {
        corrupt_file(&r.path, 10, 100);
    }

    let deadline = Instant::now() + Duration::from_secs(90);
    let out = loop {
        let out = hafs_cmd(&c, &["fsck", "/"]);
        if out.code() == Some(1) {
            break out;
        }
        assert!(
            Instant::now() < deadline,
            "fsck never reported the corrupt block:\n{out}"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(out.stdout.contains("Status: CORRUPT"), "{out}");
    assert!(
        out.stdout
            .trim_end()
            .ends_with("The filesystem under path '/' is CORRUPT"),
        "{out}"
    );
    assert!(out.stdout.contains("/k/f: CORRUPT blockpool"), "{out}");
    assert_eq!(count(&out.stdout, "Corrupt blocks:"), 1, "{out}");
    assert_eq!(count(&out.stdout, "CORRUPT FILES:"), 1, "{out}");
    // A healthy subtree is still healthy.
    let fine = hafs_cmd(&c, &["fsck", "/k/fine"]).expect_code(0);
    assert!(fine.stdout.contains("is HEALTHY"), "{fine}");
    // Reading the file fails cleanly; the Java shell agrees it cannot be read.
    hafs_dfs(&c, &["-cat", "/k/f"]).expect_code(1);
    java_fs(&c, &["-cat", "/k/f"]).expect_failure();
}

/// Waits until `n` blocks have all their replicas finalized on disk.
fn wait_for_blocks(c: &mut MiniCluster, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let running = c.running_datanodes();
        let by_block = c.finalized_replicas(&running);
        if by_block.len() == n && by_block.values().all(|v| v.len() == 3) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "blocks not replicated: {by_block:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn safemode_get_enter_leave_wait_and_writes_refused() {
    let c = MiniCluster::builder()
        .label("safemode")
        .datanodes(1)
        .start();
    let dfsadmin = |args: &[&str]| {
        let mut full = vec!["dfsadmin"];
        full.extend_from_slice(args);
        hafs_cmd(&c, &full)
    };
    assert_eq!(
        dfsadmin(&["-safemode", "get"]).ok().stdout,
        "Safe mode is OFF\n"
    );
    assert_eq!(
        dfsadmin(&["-safemode", "enter"]).ok().stdout,
        "Safe mode is ON\n"
    );
    assert_eq!(
        dfsadmin(&["-safemode", "get"]).ok().stdout,
        "Safe mode is ON\n"
    );

    // Writes are refused with Hadoop's SafeModeException text, by both shells.
    let local = write_scratch(&c, "sm", b"data");
    for out in [
        hafs_dfs(&c, &["-mkdir", "/sm"]),
        java_fs(&c, &["-mkdir", "/sm"]),
        hafs_dfs(&c, &["-put", local.to_str().unwrap(), "/sm-file"]),
        java_fs(&c, &["-put", local.to_str().unwrap(), "/sm-file"]),
    ] {
        assert_eq!(out.code(), Some(1), "{out}");
        assert!(
            out.stderr.contains("Name node is in safe mode."),
            "not Hadoop's safe mode message:\n{out}"
        );
    }
    // Reads still work.
    hafs_dfs(&c, &["-ls", "/"]).ok();

    // -safemode wait blocks until someone else leaves safe mode.
    let waiter = {
        let conf = c.conf_dir().to_path_buf();
        std::thread::spawn(move || {
            let mut cmd = std::process::Command::new(hafs_tests::hafs_bin());
            cmd.env_remove("HADOOP_CONF_DIR")
                .arg("--config")
                .arg(conf)
                .args(["dfsadmin", "-safemode", "wait"]);
            let started = Instant::now();
            let out = hafs_tests::run_with_timeout(cmd, Duration::from_secs(60));
            (out, started.elapsed())
        })
    };
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        !waiter.is_finished(),
        "-safemode wait returned while in safe mode"
    );
    assert_eq!(
        dfsadmin(&["-safemode", "leave"]).ok().stdout,
        "Safe mode is OFF\n"
    );
    let (out, waited) = waiter.join().unwrap();
    let out = out.ok();
    assert_eq!(out.stdout, "Safe mode is OFF\n");
    assert!(waited >= Duration::from_secs(2), "{waited:?}");
    hafs_dfs(&c, &["-mkdir", "/sm"]).ok();
    hafs_dfs(&c, &["-put", local.to_str().unwrap(), "/sm/file"]).ok();

    let bad = dfsadmin(&["-safemode", "sideways"]);
    assert_ne!(bad.code(), Some(0), "{bad}");
}
