//! Snapshots with the real Java shell and Apache's `hdfs` tools on an HA pair: the
//! superuser allows snapshots (`hdfs dfsadmin -allowSnapshot`), `-createSnapshot`
//! freezes a directory; the live tree then loses a file, renames one, appends to one
//! and overwrites one, and `-cat` under `.snapshot/s1/` still gives the old bytes
//! exactly - after the DataNode has had the heartbeats in which it would have deleted
//! the replicas (none goes). Writes under `.snapshot` are refused with Hadoop's
//! message; `-renameSnapshot`, `hdfs lsSnapshottableDir`; the snapshot survives a
//! failover (the Standby tailed it) and a restart of both NameNodes from a checkpoint;
//! `hdfs snapshotDiff` lists exactly the changes, against the live tree and between
//! two snapshots (paged, two entries a page), and `hdfs lsSnapshot` lists them;
//! `-deleteSnapshot` frees the blocks only the snapshot held (their replica files go).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use hafs_tests::{fsimage_txids, hafs_cmd, hdfs_tool, MiniCluster, TempDir};

fn cat(c: &MiniCluster, p: &str) -> String {
    c.shell().run(&["-cat", p]).ok().stdout
}

fn replica_ids(c: &MiniCluster) -> BTreeSet<u64> {
    c.finalized_replicas(&[0]).keys().copied().collect()
}

/// The old bytes, read under the snapshot.
fn check_snapshot(c: &MiniCluster, snap: &str, when: &str) {
    let base = format!("/snap/.snapshot/{snap}");
    assert_eq!(cat(c, &format!("{base}/a")), "alpha file\n", "{when}");
    assert_eq!(cat(c, &format!("{base}/b")), "bravo file\n", "{when}");
    assert_eq!(cat(c, &format!("{base}/c")), "charlie\n", "{when}");
    assert_eq!(cat(c, &format!("{base}/d")), "delta, the first\n", "{when}");
    let ls = c.shell().run(&["-ls", &base]).ok();
    let names: Vec<&str> = ls
        .stdout_lines()
        .into_iter()
        .filter_map(|l| l.split_whitespace().last())
        .filter(|n| n.starts_with('/'))
        .collect();
    let want: Vec<String> = ["a", "b", "c", "d"]
        .iter()
        .map(|n| format!("{base}/{n}"))
        .collect();
    assert_eq!(names, want, "{when}: {ls}");
}

#[test]
fn java_snapshots_keep_old_bytes_across_failover_and_restart() {
    let mut c = MiniCluster::builder()
        .label("snapshots")
        .namenodes(2)
        .journalnodes(3)
        .datanodes(1)
        .conf("dfs.replication", "1")
        .conf("dfs.heartbeat.interval", "1")
        .conf("dfs.namenode.checkpoint.txns", "10")
        .conf("dfs.namenode.checkpoint.check.period", "1")
        .conf("dfs.snapshotdiff-report.limit", "2")
        .start();
    c.wait_for_state(0, "active", Duration::from_secs(30));
    let tmp = TempDir::new("snapshots-local");
    let put = |name: &str, body: &str| {
        let local = tmp.path().join(name);
        std::fs::write(&local, body).unwrap();
        local.to_str().unwrap().to_string()
    };
    c.shell().run(&["-mkdir", "-p", "/snap"]).ok();
    for (n, body) in [
        ("a", "alpha file\n"),
        ("b", "bravo file\n"),
        ("c", "charlie\n"),
        ("d", "delta, the first\n"),
    ] {
        c.shell()
            .run(&["-put", &put(n, body), &format!("/snap/{n}")])
            .ok();
    }

    // Not snapshottable yet: Hadoop's SnapshotException text, one line.
    c.shell()
        .run(&["-createSnapshot", "/snap", "s1"])
        .expect_code(1)
        .expect_stderr_contains("Directory is not a snapshottable directory: /snap");
    let allow = hdfs_tool(&c, &["dfsadmin", "-allowSnapshot", "/snap"]).ok();
    assert!(
        allow
            .stdout
            .contains("Allowing snapshot on /snap succeeded"),
        "{allow}"
    );
    let created = c.shell().run(&["-createSnapshot", "/snap", "s1"]).ok();
    assert_eq!(created.stdout.trim(), "Created snapshot /snap/.snapshot/s1");
    c.shell()
        .run(&["-createSnapshot", "/snap", "s1"])
        .expect_code(1)
        .expect_stderr_contains("there is already a snapshot with the same name \"s1\"");
    let before = replica_ids(&c);
    assert_eq!(before.len(), 4, "{before:?}");

    // The live tree changes.
    c.shell().run(&["-rm", "-skipTrash", "/snap/a"]).ok();
    c.shell().run(&["-mv", "/snap/b", "/snap/b2"]).ok();
    c.shell()
        .run(&["-appendToFile", &put("c+", "more\n"), "/snap/c"])
        .ok();
    c.shell()
        .run(&["-put", "-f", &put("d2", "delta, again\n"), "/snap/d"])
        .ok();
    assert_eq!(cat(&c, "/snap/c"), "charlie\nmore\n");
    assert_eq!(cat(&c, "/snap/d"), "delta, again\n");
    c.shell()
        .run(&["-cat", "/snap/a"])
        .expect_code(1)
        .expect_stderr_contains("No such file or directory");

    // Heartbeats come every second: give the DataNode several in which a freed block
    // would be invalidated; every replica the snapshot names is still there.
    std::thread::sleep(Duration::from_secs(6));
    let held = replica_ids(&c);
    assert!(held.is_superset(&before), "{before:?} -> {held:?}");
    assert_eq!(held.len(), 5, "d's new block joins: {held:?}");
    check_snapshot(&c, "s1", "after the live changes");

    // Apache's `hdfs snapshotDiff` lists exactly those changes (matched by inode: the
    // overwrite is a new inode under the old name); HDFS gives no order.
    let diff = hdfs_tool(&c, &["snapshotDiff", "/snap", "s1", "."]).ok();
    let mut lines = diff.stdout_lines();
    assert_eq!(
        lines.first().copied(),
        Some("Difference between snapshot s1 and current directory under directory /snap:"),
        "{diff}"
    );
    lines.remove(0);
    lines.sort();
    assert_eq!(
        lines,
        [
            "+\t./d",
            "-\t./a",
            "-\t./d",
            "M\t.",
            "M\t./c",
            "R\t./b -> ./b2"
        ],
        "{diff}"
    );

    // A second snapshot: between two snapshots Apache's client asks for the diff page
    // by page (getSnapshotDiffReportListing, two entries a page here) and prints it in
    // its own order: each changed directory, then its creations, deletions, renames.
    c.shell().run(&["-createSnapshot", "/snap", "later"]).ok();
    c.shell()
        .run(&["-put", &put("e", "echo\n"), "/snap/e"])
        .ok(); // after both: not shown
    let diff = hdfs_tool(&c, &["snapshotDiff", "/snap", "s1", "later"]).ok();
    assert_eq!(
        diff.stdout_lines(),
        [
            "Difference between snapshot s1 and snapshot later under directory /snap:",
            "M\t.",
            "+\t./d",
            "-\t./a",
            "R\t./b -> ./b2",
            "-\t./d",
            "M\t./c",
        ],
        "{diff}"
    );
    // The listing was served: the client falls back to the one-shot call (with a
    // warning) only when the listing fails.
    assert!(!diff.stderr.contains("Falling back"), "{diff}");
    let back = hdfs_tool(&c, &["snapshotDiff", "/snap", "later", "s1"]).ok();
    assert_eq!(
        back.stdout_lines(),
        [
            "Difference between snapshot later and snapshot s1 under directory /snap:",
            "M\t.",
            "+\t./a",
            "+\t./d",
            "R\t./b2 -> ./b",
            "-\t./d",
            "M\t./c",
        ],
        "{back}"
    );
    hdfs_tool(&c, &["snapshotDiff", "/snap", "s1", "nope"])
        .expect_code(1)
        .expect_stderr_contains("Cannot find the snapshot of directory /snap with name nope");
    // `hdfs lsSnapshot`: each snapshot as a directory line, then its id, ACTIVE and
    // its path; oldest first.
    let ls = hdfs_tool(&c, &["lsSnapshot", "/snap"]).ok();
    let owner = c.shell().run(&["-stat", "%u", "/snap"]).ok().stdout;
    let rows: Vec<Vec<&str>> = ls
        .stdout_lines()
        .into_iter()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 2, "{ls}");
    for (row, (id, name)) in rows.iter().zip([("1", "s1"), ("2", "later")]) {
        let path = format!("/snap/.snapshot/{name}");
        let want = ["drwxr-xr-x", "0", owner.trim(), "supergroup", "0"];
        assert_eq!(row[..5], want, "{ls}");
        assert_eq!(row[7..], [id, "ACTIVE", path.as_str()], "{ls}");
        // The modification time, yyyy-MM-dd HH:mm.
        assert!(row[5].len() == 10 && row[6].len() == 5, "{ls}");
    }
    hdfs_tool(&c, &["lsSnapshot", "/snap/b2"])
        .expect_code(1)
        .expect_stderr_contains("Directory is not a snapshottable directory: /snap/b2");
    c.shell().run(&["-deleteSnapshot", "/snap", "later"]).ok();
    c.shell().run(&["-rm", "-skipTrash", "/snap/e"]).ok();

    // Read-only: Hadoop's SnapshotAccessControlException message.
    c.shell()
        .run(&["-put", &put("x", "x"), "/snap/.snapshot/s1/x"])
        .expect_code(1)
        .expect_stderr_contains("Modification on a read-only snapshot is disallowed");
    c.shell()
        .run(&["-rm", "-skipTrash", "/snap/.snapshot/s1/a"])
        .expect_code(1)
        .expect_stderr_contains("Modification on a read-only snapshot is disallowed");
    // The directory cannot be deleted while it has snapshots.
    c.shell()
        .run(&["-rm", "-r", "-skipTrash", "/snap"])
        .expect_code(1)
        .expect_stderr_contains(
            "The directory /snap cannot be deleted since /snap is snapshottable and already \
             has snapshots",
        );

    c.shell()
        .run(&["-renameSnapshot", "/snap", "s1", "s2"])
        .ok();
    let ls = c.shell().run(&["-ls", "/snap/.snapshot"]).ok();
    assert!(ls.stdout.contains("/snap/.snapshot/s2"), "{ls}");
    assert!(!ls.stdout.contains("/snap/.snapshot/s1"), "{ls}");
    let listed = hdfs_tool(&c, &["lsSnapshottableDir"]).ok();
    assert!(listed.stdout.trim_end().ends_with("/snap"), "{listed}");
    assert!(listed.stdout.contains(" 1 65536 "), "{listed}");

    // The Standby tailed every snapshot op.
    c.failover(0, 1);
    c.wait_for_state(1, "active", Duration::from_secs(30));
    check_snapshot(&c, "s2", "after failover");

    // Both NameNodes restart from a checkpoint written after the snapshot ops.
    let last = c.nn_last_txid(1).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while fsimage_txids(c.nn_name_dir_of(1))
        .last()
        .copied()
        .unwrap_or(0)
        < last.saturating_sub(10)
    {
        assert!(Instant::now() < deadline, "no checkpoint after txid {last}");
        std::thread::sleep(Duration::from_millis(300));
    }
    c.restart_nn(0);
    c.restart_nn(1);
    c.wait_for_state(0, "standby", Duration::from_secs(60));
    c.wait_for_state(1, "standby", Duration::from_secs(60));
    c.transition_to_active(0);
    c.wait_for_state(0, "active", Duration::from_secs(30));
    check_snapshot(&c, "s2", "after restart");
    assert_eq!(replica_ids(&c), held, "nothing freed across the restart");

    // Deleting the snapshot frees a's block and d's first block on the DataNode.
    c.shell().run(&["-deleteSnapshot", "/snap", "s2"]).ok();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = replica_ids(&c);
        if now.len() == 3 {
            assert!(now.is_subset(&held), "{now:?}");
            break;
        }
        assert!(Instant::now() < deadline, "held blocks not freed: {now:?}");
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(cat(&c, "/snap/b2"), "bravo file\n");
    assert_eq!(cat(&c, "/snap/c"), "charlie\nmore\n");
    c.shell()
        .run(&["-cat", "/snap/.snapshot/s2/b"])
        .expect_code(1)
        .expect_stderr_contains("No such file or directory");
    // hafs's own dfsadmin says what Hadoop's does.
    let disallow = hafs_cmd(&c, &["dfsadmin", "-disallowSnapshot", "/snap"]).ok();
    assert_eq!(
        disallow.stdout.trim(),
        "Disallowing snapshot on /snap succeeded"
    );
    assert!(hdfs_tool(&c, &["lsSnapshottableDir"])
        .ok()
        .stdout
        .trim()
        .is_empty());
}
