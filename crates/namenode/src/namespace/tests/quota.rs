//! Quotas enforced (Hadoop's DirectoryWithQuotaFeature): the counters follow every op,
//! plans refuse what would exceed a quota with Hadoop's exception and words, and a
//! replayed log or a loaded image counts the same.

use super::*;

const MB: u64 = 1 << 20;

fn set_quota(ns: &mut Namespace, p: &str, nsq: i64, dsq: i64) {
    run_op(ns, |ns| ns.plan_set_quota(&su(), p, nsq, dsq, None)).unwrap();
}

fn usage(ns: &Namespace, p: &str) -> (u64, u64) {
    let u = ns.quota_usage(&su(), p).unwrap();
    (u.file_and_directory_count, u.space_consumed)
}

/// Creates `p` (replication `repl`, 1 MB blocks) and writes `lens` into it, closing it.
fn write(ns: &mut Namespace, p: &str, repl: u16, lens: &[u64]) -> Result<(), NamespaceError> {
    let c = su();
    run_op(ns, |ns| {
        ns.plan_create(&c, p, 0o644, "w", "h", false, true, repl, MB, 3000)
    })?;
    let mut previous = None;
    for &len in lens {
        let plan = ns.plan_add_block("w", p, 0, previous)?;
        ns.apply(&plan.op.expect("a new block")).unwrap();
        previous = Some(BlockInfo {
            num_bytes: len,
            ..plan.block.block
        });
    }
    let (op, _) = ns.plan_complete("w", p, 0, previous, 4000)?;
    ns.apply(&op).unwrap();
    Ok(())
}

#[test]
fn namespace_quota_refuses_mkdirs_create_and_rename_in() {
    let mut ns = new_ns();
    let c = su();
    mkdirs(&mut ns, &c, "/q").unwrap();
    mkdirs(&mut ns, &c, "/other/x").unwrap();
    set_quota(&mut ns, "/q", 2, -1);
    mkdirs(&mut ns, &c, "/q/a").unwrap();
    let e = mkdirs(&mut ns, &c, "/q/b").unwrap_err();
    assert_eq!(
        e.to_string(),
        "The NameSpace quota (directories and files) of directory /q is exceeded: quota=2 file count=3"
    );
    assert_eq!(
        e.java_class(),
        "org.apache.hadoop.hdfs.protocol.NSQuotaExceededException"
    );
    let e = create(&mut ns, &c, "/q/a/f", "w").unwrap_err();
    assert!(matches!(e, NamespaceError::NsQuotaExceeded(_)), "{e}");
    let e = run_op(&mut ns, |ns| {
        ns.plan_rename2(&c, "/other/x", "/q/x", false, 5000)
    })
    .unwrap_err();
    assert!(matches!(e, NamespaceError::NsQuotaExceeded(_)), "{e}");
    // The old rename refuses too (it answers errors for quotas, not false).
    let e = run(&mut ns, |ns| ns.plan_rename(&c, "/other/x", "/q/a", 5000)).unwrap_err();
    assert!(matches!(e, NamespaceError::NsQuotaExceeded(_)), "{e}");
    // Within the quota directory a rename moves nothing across it.
    run_op(&mut ns, |ns| {
        ns.plan_rename2(&c, "/q/a", "/q/a2", false, 5000)
    })
    .unwrap();
    assert_eq!(usage(&ns, "/q"), (2, 0));
    // Raising the quota lets the name in; clearing it removes the counters.
    set_quota(&mut ns, "/q", 10, -1);
    run_op(&mut ns, |ns| {
        ns.plan_rename2(&c, "/other/x", "/q/x", false, 5000)
    })
    .unwrap();
    assert_eq!(usage(&ns, "/q"), (3, 0));
    run(&mut ns, |ns| ns.plan_delete(&c, "/q/x", true, 6000)).unwrap();
    assert_eq!(usage(&ns, "/q"), (2, 0));
    ns.check_invariants();
}

#[test]
fn space_quota_refuses_add_block_and_set_replication() {
    let mut ns = new_ns();
    let c = su();
    mkdirs(&mut ns, &c, "/q").unwrap();
    // Two blocks at replication 1 fit, a third does not.
    set_quota(&mut ns, "/q", i64::MAX, (2 * MB + MB / 2) as i64);
    let e = write(&mut ns, "/q/f", 1, &[MB, MB, 10]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "The DiskSpace quota of /q is exceeded: quota = 2621440 B = 2.50 MB but diskspace consumed = 3145728 B = 3 MB"
    );
    assert_eq!(
        e.java_class(),
        "org.apache.hadoop.hdfs.protocol.DSQuotaExceededException"
    );
    // The file keeps its blocks; its open last block counts at the preferred size.
    assert_eq!(usage(&ns, "/q"), (2, 2 * MB));
    ns.check_invariants();

    mkdirs(&mut ns, &c, "/r").unwrap();
    write(&mut ns, "/r/g", 1, &[MB / 2]).unwrap();
    set_quota(&mut ns, "/r", i64::MAX, (MB + MB / 4) as i64);
    assert_eq!(usage(&ns, "/r"), (2, MB / 2));
    run(&mut ns, |ns| ns.plan_set_replication(&c, "/r/g", 2)).unwrap();
    assert_eq!(usage(&ns, "/r"), (2, MB));
    let e = run(&mut ns, |ns| ns.plan_set_replication(&c, "/r/g", 3)).unwrap_err();
    assert!(matches!(e, NamespaceError::DsQuotaExceeded(_)), "{e}");
    // Lowering replication is always allowed, even over a quota.
    set_quota(&mut ns, "/r", i64::MAX, 1);
    run(&mut ns, |ns| ns.plan_set_replication(&c, "/r/g", 1)).unwrap();
    assert_eq!(usage(&ns, "/r"), (2, MB / 2));
    ns.check_invariants();
}

const DISK: i32 = 1;
const SSD: i32 = 2;

fn set_type_quota(ns: &mut Namespace, p: &str, t: i32, q: i64) {
    run_op(ns, |ns| ns.plan_set_quota(&su(), p, i64::MAX, q, Some(t))).unwrap();
}

fn set_policy(ns: &mut Namespace, p: &str, name: Option<&str>) {
    run_op(ns, |ns| ns.plan_set_storage_policy(&su(), p, name)).unwrap();
}

/// (SSD, DISK) consumed under `p` as getQuotaUsage answers.
fn ssd_disk(ns: &Namespace, p: &str) -> (u64, u64) {
    let u = ns.quota_usage(&su(), p).unwrap();
    let of = |t: i32| u.type_quotas.iter().find(|q| q.0 == t).map_or(0, |q| q.2);
    (of(SSD), of(DISK))
}

#[test]
fn storage_type_quota_follows_the_storage_policy() {
    let mut ns = new_ns();
    let c = su();
    for d in ["/t/one", "/t/all", "/t/hot", "/t/plain", "/other"] {
        mkdirs(&mut ns, &c, d).unwrap();
    }
    set_policy(&mut ns, "/t/one", Some("ONE_SSD"));
    set_policy(&mut ns, "/t/all", Some("ALL_SSD"));
    set_policy(&mut ns, "/t/hot", Some("HOT"));
    set_type_quota(&mut ns, "/t", SSD, 2 * MB as i64);
    set_type_quota(&mut ns, "/t", DISK, 4 * MB as i64);
    // No policy on the path: no type is charged (Hadoop counts types only under a
    // policy), though the storage space is.
    write(&mut ns, "/t/plain/f", 3, &[1000]).unwrap();
    assert_eq!(ssd_disk(&ns, "/t"), (0, 0));
    assert_eq!(usage(&ns, "/t").1, 3000);
    // ONE_SSD x 3: one SSD replica and two DISK ones; HOT x 3: three DISK.
    write(&mut ns, "/t/one/f", 3, &[100]).unwrap();
    assert_eq!(ssd_disk(&ns, "/t"), (100, 200));
    write(&mut ns, "/t/hot/f", 3, &[100]).unwrap();
    assert_eq!(ssd_disk(&ns, "/t"), (100, 500));
    // ALL_SSD x 3: the open block counts 3 x 1 MB on SSD, past the 2 MB quota.
    let e = write(&mut ns, "/t/all/f", 3, &[10]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Quota by storage type : SSD on path : /t is exceeded. quota = 2 MB but space consumed = 3.00 MB"
    );
    assert_eq!(
        e.java_class(),
        "org.apache.hadoop.hdfs.protocol.QuotaByStorageTypeExceededException"
    );
    // At replication 1 it fits.
    write(&mut ns, "/t/all/g", 1, &[10]).unwrap();
    assert_eq!(ssd_disk(&ns, "/t"), (110, 500));
    ns.check_invariants();

    // setReplication: ONE_SSD x 1 is SSD only; raising ALL_SSD past the quota fails.
    run(&mut ns, |ns| ns.plan_set_replication(&c, "/t/one/f", 1)).unwrap();
    assert_eq!(ssd_disk(&ns, "/t"), (110, 300));
    set_type_quota(&mut ns, "/t/all", SSD, 25);
    let e = run(&mut ns, |ns| ns.plan_set_replication(&c, "/t/all/g", 3)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Quota by storage type : SSD on path : /t/all is exceeded. quota = 25 B but space consumed = 30 B"
    );
    run(&mut ns, |ns| ns.plan_set_replication(&c, "/t/all/g", 2)).unwrap();
    assert_eq!(ssd_disk(&ns, "/t/all"), (20, 0));
    set_type_quota(&mut ns, "/t/all", SSD, -1);
    run(&mut ns, |ns| ns.plan_set_replication(&c, "/t/all/g", 1)).unwrap();
    ns.check_invariants();

    // Rename: the moved file counts under the destination's policy, and the check
    // uses it (Hadoop's verifyQuotaForRename).
    run(&mut ns, |ns| ns.plan_rename(&c, "/t/hot/f", "/t/all/h", 10)).unwrap();
    assert_eq!(ssd_disk(&ns, "/t"), (410, 0));
    write(&mut ns, "/other/big", 3, &[MB]).unwrap();
    let e = run_op(&mut ns, |ns| {
        ns.plan_rename2(&c, "/other/big", "/t/all/big", false, 11)
    })
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Quota by storage type : SSD on path : /t is exceeded. quota = 2 MB but space consumed = 3.00 MB"
    );
    // A file with a policy of its own keeps it wherever it goes.
    set_policy(&mut ns, "/other/big", Some("HOT"));
    run_op(&mut ns, |ns| {
        ns.plan_rename2(&c, "/other/big", "/t/all/big", false, 12)
    })
    .unwrap();
    assert_eq!(ssd_disk(&ns, "/t"), (410, 3 * MB));
    ns.check_invariants();

    // A policy set or unset on a directory recounts its files at once, nested quota
    // directories included (Hadoop leaves the counters stale until a restart).
    set_type_quota(&mut ns, "/t", SSD, 8 * MB as i64);
    mkdirs(&mut ns, &c, "/t/all/q").unwrap();
    set_quota(&mut ns, "/t/all/q", 100, -1);
    write(&mut ns, "/t/all/q/x", 2, &[50]).unwrap();
    assert_eq!(ssd_disk(&ns, "/t/all/q"), (100, 0));
    assert_eq!(ssd_disk(&ns, "/t"), (510, 3 * MB));
    set_policy(&mut ns, "/t/all", Some("ONE_SSD"));
    assert_eq!(ssd_disk(&ns, "/t/all/q"), (50, 50));
    ns.check_invariants();
    set_policy(&mut ns, "/t/all", None);
    assert_eq!(ssd_disk(&ns, "/t/all/q"), (0, 0));
    assert_eq!(ssd_disk(&ns, "/t"), (100, 3 * MB));
    ns.check_invariants();
    // Delete gives back what the file was charged.
    run(&mut ns, |ns| ns.plan_delete(&c, "/t/one/f", false, 13)).unwrap();
    assert_eq!(ssd_disk(&ns, "/t"), (0, 3 * MB));
    ns.check_invariants();

    // RAM_DISK takes no quota; a storage type with a namespace quota is refused.
    let e = ns
        .plan_set_quota(&c, "/t", i64::MAX, 1024, Some(4))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Quota for storage type 'RAM_DISK' is not supported"
    );
    assert!(ns.plan_set_quota(&c, "/t", 5, 1024, Some(1)).is_err());
    // Clearing the type quotas leaves no quota at all.
    set_type_quota(&mut ns, "/t", SSD, -1);
    set_type_quota(&mut ns, "/t", DISK, -1);
    let u = ns.quota_usage(&c, "/t").unwrap();
    assert!(
        u.type_quotas.iter().all(|q| q.1 == -1),
        "{:?}",
        u.type_quotas
    );
    ns.check_invariants();
}

#[test]
fn type_usage_replays_and_loads_the_same() {
    let mut ns = new_ns();
    let c = su();
    let start = ns.clone();
    let mut log = Vec::new();
    let mut apply = |ns: &mut Namespace, op: EditOp| {
        ns.apply(&op).unwrap();
        log.push(op);
    };
    let op = ns.plan_mkdirs(&c, "/p/a", 0o755, true, 1).unwrap();
    apply(&mut ns, op.op().cloned().unwrap());
    let op = ns.plan_mkdirs(&c, "/p/b", 0o755, true, 1).unwrap();
    apply(&mut ns, op.op().cloned().unwrap());
    let op = ns.plan_set_quota(&c, "/p", i64::MAX, 100 * MB as i64, Some(SSD));
    apply(&mut ns, op.unwrap());
    let op = ns.plan_set_quota(&c, "/p/a", 10, -1, None);
    apply(&mut ns, op.unwrap());
    for (p, name) in [("/p/a", "ALL_SSD"), ("/p/b", "ONE_SSD")] {
        let op = ns.plan_set_storage_policy(&c, p, Some(name)).unwrap();
        apply(&mut ns, op);
    }
    let op = ns
        .plan_create(&c, "/p/a/f", 0o644, "w", "h", false, true, 2, MB, 3)
        .unwrap();
    apply(&mut ns, op);
    let plan = ns.plan_add_block("w", "/p/a/f", 0, None).unwrap();
    apply(&mut ns, plan.op.unwrap());
    // Open: the block counts at its preferred size on both SSD replicas.
    assert_eq!(ssd_disk(&ns, "/p"), (2 * MB, 0));
    let (op, _) = ns
        .plan_complete(
            "w",
            "/p/a/f",
            0,
            Some(BlockInfo {
                num_bytes: 300,
                ..plan.block.block
            }),
            4,
        )
        .unwrap();
    apply(&mut ns, op);
    assert_eq!(ssd_disk(&ns, "/p"), (600, 0));
    let op = ns.plan_rename2(&c, "/p/a/f", "/p/b/f", false, 5).unwrap();
    apply(&mut ns, op);
    assert_eq!(ssd_disk(&ns, "/p"), (300, 300));
    assert_eq!(ssd_disk(&ns, "/p/a"), (0, 0));
    let op = ns.plan_set_storage_policy(&c, "/p", Some("COLD")).unwrap();
    apply(&mut ns, op);
    let op = ns.plan_set_storage_policy(&c, "/p/b", None).unwrap();
    apply(&mut ns, op);
    // Under COLD now: two ARCHIVE replicas.
    let u = ns.quota_usage(&c, "/p").unwrap();
    assert!(u.type_quotas.contains(&(3, -1, 600)), "{:?}", u.type_quotas);
    ns.check_invariants();

    let mut replayed = start;
    for op in &log {
        replayed.apply(op).unwrap();
    }
    replayed.check_invariants();
    let loaded = Namespace::load_image(NamespaceConfig::default(), &ns.save_image()).unwrap();
    loaded.check_invariants();
    for p in ["/", "/p", "/p/a", "/p/b", "/p/b/f"] {
        assert_eq!(ns.quota_usage(&c, p), replayed.quota_usage(&c, p), "{p}");
        assert_eq!(ns.quota_usage(&c, p), loaded.quota_usage(&c, p), "{p}");
    }
    // The content summary reports the same per-type space for closed files.
    let s = ns.content_summary(&c, "/p").unwrap();
    assert_eq!(s.type_consumed[2], 600);
    assert_eq!(s.type_quotas[1], 100 * MB as i64);
}

#[test]
fn counters_survive_replay_and_image_and_follow_every_op() {
    let mut ns = new_ns();
    let c = su();
    let mut log = Vec::new();
    let mut apply = |ns: &mut Namespace, op: EditOp| {
        ns.apply(&op).unwrap();
        log.push(op);
    };
    let op = ns.plan_mkdirs(&c, "/a/b", 0o755, true, 1).unwrap();
    apply(&mut ns, op.op().cloned().unwrap());
    let op = ns
        .plan_set_quota(&c, "/a", 100, 100 * MB as i64, None)
        .unwrap();
    apply(&mut ns, op);
    let op = ns.plan_set_quota(&c, "/a/b", 50, -1, None).unwrap();
    apply(&mut ns, op);
    let op = ns
        .plan_create(&c, "/a/b/f", 0o644, "w", "h", false, true, 3, MB, 3)
        .unwrap();
    apply(&mut ns, op);
    let plan = ns.plan_add_block("w", "/a/b/f", 0, None).unwrap();
    apply(&mut ns, plan.op.unwrap());
    // Open: the block counts at its preferred size.
    assert_eq!(usage(&ns, "/a"), (3, 3 * MB));
    let (op, _) = ns
        .plan_complete(
            "w",
            "/a/b/f",
            0,
            Some(BlockInfo {
                num_bytes: 100,
                ..plan.block.block
            }),
            4,
        )
        .unwrap();
    apply(&mut ns, op);
    assert_eq!(usage(&ns, "/a"), (3, 300));
    let (op, _) = ns.plan_append(&c, "/a/b/f", "w2", "h", false).unwrap();
    apply(&mut ns, op);
    assert_eq!(usage(&ns, "/a"), (3, 3 * MB));
    let (op, _) = ns
        .plan_recovery_close(
            ns.get_file_info(&c, "/a/b/f").unwrap().unwrap().inode_id,
            false,
            5,
        )
        .unwrap();
    apply(&mut ns, op);
    let op = ns.plan_rename2(&c, "/a/b/f", "/g", false, 6).unwrap();
    apply(&mut ns, op);
    assert_eq!(usage(&ns, "/a"), (2, 0));
    assert_eq!(usage(&ns, "/"), (4, 300));
    ns.check_invariants();

    let mut replayed = new_ns();
    for op in &log {
        replayed.apply(op).unwrap();
    }
    replayed.check_invariants();
    let loaded = Namespace::load_image(NamespaceConfig::default(), &ns.save_image()).unwrap();
    loaded.check_invariants();
    for p in ["/", "/a", "/a/b"] {
        assert_eq!(ns.quota_usage(&c, p), replayed.quota_usage(&c, p), "{p}");
        assert_eq!(ns.quota_usage(&c, p), loaded.quota_usage(&c, p), "{p}");
    }
    assert_eq!(ns.quota_usage(&c, "/").unwrap().quota, i64::MAX);
}
