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

#[test]
fn storage_type_quota_counts_disk() {
    let mut ns = new_ns();
    let c = su();
    mkdirs(&mut ns, &c, "/t").unwrap();
    run_op(&mut ns, |ns| {
        ns.plan_set_quota(&c, "/t", i64::MAX, 1024, Some(1))
    })
    .unwrap();
    let e = write(&mut ns, "/t/f", 1, &[10]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Quota by storage type : DISK on path : /t is exceeded. quota = 1 KB but space consumed = 1 MB"
    );
    let u = ns.quota_usage(&c, "/t").unwrap();
    assert_eq!((u.quota, u.space_quota), (-1, -1));
    assert!(u.type_quotas.contains(&(1, 1024, 0)), "{:?}", u.type_quotas);
    // RAM_DISK takes no quota; a storage type with a namespace quota is refused.
    let e = ns
        .plan_set_quota(&c, "/t", i64::MAX, 1024, Some(4))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Quota for storage type 'RAM_DISK' is not supported"
    );
    assert!(ns.plan_set_quota(&c, "/t", 5, 1024, Some(1)).is_err());
    // Clearing the type quota leaves no quota at all.
    run_op(&mut ns, |ns| {
        ns.plan_set_quota(&c, "/t", i64::MAX, -1, Some(1))
    })
    .unwrap();
    assert_eq!(ns.quota_usage(&c, "/t").unwrap().type_quotas[1].1, -1);
    ns.check_invariants();
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
