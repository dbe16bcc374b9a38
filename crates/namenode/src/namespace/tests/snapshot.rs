//! Snapshots: plan/apply, `.snapshot` reads, block retention, replay and the fsimage.

use super::*;

fn ids(ns: &Namespace, p: &str) -> Vec<u64> {
    let (_, blocks) = ns.get_blocks(&su(), p).unwrap();
    blocks.iter().map(|b| b.block_id).collect()
}

fn names(ns: &Namespace, p: &str) -> Vec<String> {
    let (list, _) = ns.list(&su(), p, b"", 1000).unwrap();
    list.iter()
        .map(|s| String::from_utf8(s.name.clone()).unwrap())
        .collect()
}

/// Plans and applies, logging every op so a replay can be checked.
fn logged(
    ns: &mut Namespace,
    log: &mut Vec<EditOp>,
    plan: impl FnOnce(&Namespace) -> Result<Planned, NamespaceError>,
) -> Result<ApplyOutcome, NamespaceError> {
    match plan(ns)? {
        Planned::Apply(op) => {
            let out = ns.apply(&op).expect("a planned op applies");
            log.push(op);
            Ok(out)
        }
        Planned::Done(_) => Ok(ApplyOutcome::default()),
    }
}

#[test]
fn snapshot_reads_old_tree_and_holds_blocks_until_deleted() {
    let mut ns = new_ns();
    let c = su();
    mkdirs(&mut ns, &c, "/d/sub").unwrap();
    write_file(&mut ns, "/d/a", &[100], 1 << 20);
    write_file(&mut ns, "/d/sub/b", &[200, 50], 1 << 20);
    let a_blocks = ids(&ns, "/d/a");

    // Not snapshottable yet.
    let e = ns
        .plan_create_snapshot(&c, "/d", Some("s1"), 5000)
        .unwrap_err();
    assert_eq!(
        e,
        NamespaceError::Snapshot("Directory is not a snapshottable directory: /d".into())
    );
    run(&mut ns, |ns| ns.plan_allow_snapshot(&c, "/d")).unwrap();
    // Nested snapshottable directories are refused.
    let e = run(&mut ns, |ns| ns.plan_allow_snapshot(&c, "/d/sub")).unwrap_err();
    assert!(matches!(e, NamespaceError::Snapshot(m) if m.contains("the ancestor /d is already")));

    let (op, path) = ns.plan_create_snapshot(&c, "/d", Some("s1"), 5000).unwrap();
    assert_eq!(path, "/d/.snapshot/s1");
    ns.apply(&op).unwrap();
    let e = ns
        .plan_create_snapshot(&c, "/d", Some("s1"), 5001)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Failed to add snapshot: there is already a snapshot with the same name \"s1\"."
    );

    // Change the live tree: delete a, rename sub/b.
    let out = run_op(&mut ns, |ns| {
        ns.plan_delete(&c, "/d/a", false, 6000)
            .map(|p| p.op().unwrap().clone())
    })
    .unwrap();
    assert!(out.removed_blocks.is_empty(), "a snapshot holds a's block");
    run(&mut ns, |ns| ns.plan_rename(&c, "/d/sub/b", "/d/c", 6001)).unwrap();

    assert_eq!(names(&ns, "/d"), ["c", "sub"]);
    assert_eq!(names(&ns, "/d/.snapshot"), ["s1"]);
    assert_eq!(names(&ns, "/d/.snapshot/s1"), ["a", "sub"]);
    assert_eq!(names(&ns, "/d/.snapshot/s1/sub"), ["b"]);
    assert_eq!(ids(&ns, "/d/.snapshot/s1/a"), a_blocks);
    let st = ns
        .get_file_info(&c, "/d/.snapshot/s1/sub/b")
        .unwrap()
        .unwrap();
    assert_eq!(st.length, 250);
    assert!(ns
        .get_file_info(&c, "/d/.snapshot/s1/zz")
        .unwrap()
        .is_none());
    assert!(ns.get_file_info(&c, "/d/.snapshot/s9").unwrap().is_none());
    assert_eq!(
        ns.content_summary(&c, "/d/.snapshot/s1").unwrap().length,
        350
    );
    assert_eq!(ns.snapshot_only_blocks().len(), 1);

    // Changes under .snapshot are refused.
    let e = mkdirs(&mut ns, &c, "/d/.snapshot/s1/x").unwrap_err();
    assert_eq!(
        e,
        NamespaceError::SnapshotAccessControl(
            "Modification on a read-only snapshot is disallowed".into()
        )
    );
    let e = ns
        .plan_delete(&c, "/d/.snapshot/s1/a", false, 1)
        .unwrap_err();
    assert!(matches!(e, NamespaceError::SnapshotAccessControl(_)));
    // `.snapshot` elsewhere is a reserved name.
    let e = mkdirs(&mut ns, &c, "/e/.snapshot").unwrap_err();
    assert_eq!(e.to_string(), "\".snapshot\" is a reserved name.");

    // The directory cannot go, nor stop being snapshottable, while it has snapshots.
    let e = ns.plan_delete(&c, "/d", true, 7000).unwrap_err();
    assert_eq!(
        e.to_string(),
        "The directory /d cannot be deleted since /d is snapshottable and already has snapshots"
    );
    let e = ns.plan_disallow_snapshot(&c, "/d").unwrap_err();
    assert!(matches!(e, NamespaceError::Snapshot(_)));
    // Nor be overwritten by a rename: an empty snapshottable directory with a snapshot.
    mkdirs(&mut ns, &c, "/d2").unwrap();
    mkdirs(&mut ns, &c, "/e2").unwrap();
    run(&mut ns, |ns| ns.plan_allow_snapshot(&c, "/d2")).unwrap();
    let (op, _) = ns.plan_create_snapshot(&c, "/d2", Some("t"), 5000).unwrap();
    ns.apply(&op).unwrap();
    let e = ns.plan_rename2(&c, "/e2", "/d2", true, 7000).unwrap_err();
    assert!(matches!(e, NamespaceError::Snapshot(_)), "{e:?}");
    assert_eq!(
        ns.existing_snapshot_path("/d2", None).as_deref(),
        Some("/d2/.snapshot/t")
    );

    // Rename, then delete: a's block (no live file has it) is freed; b's is not.
    run(&mut ns, |ns| {
        ns.plan_rename_snapshot(&c, "/d", "s1", "s2", 7000)
    })
    .unwrap();
    assert_eq!(names(&ns, "/d/.snapshot"), ["s2"]);
    let out = run_op(&mut ns, |ns| {
        ns.plan_delete_snapshot(&c, "/d", "s2", 8000)
            .map(|p| p.op().unwrap().clone())
    })
    .unwrap();
    let freed: Vec<u64> = out.removed_blocks.iter().map(|b| b.block_id).collect();
    assert_eq!(freed, a_blocks);
    assert!(ns.snapshot_only_blocks().is_empty());
    run(&mut ns, |ns| ns.plan_disallow_snapshot(&c, "/d")).unwrap();
    run(&mut ns, |ns| ns.plan_delete(&c, "/d", true, 9000)).unwrap();
    ns.check_invariants();
}

#[test]
fn owners_only_and_snapshot_reads_check_permissions() {
    let mut ns = new_ns();
    let c = su();
    let alice = Caller::new("alice", &["users"]);
    mkdirs(&mut ns, &c, "/d").unwrap();
    run(&mut ns, |ns| ns.plan_allow_snapshot(&c, "/d")).unwrap();
    let e = ns
        .plan_create_snapshot(&alice, "/d", None, 5000)
        .unwrap_err();
    assert!(matches!(e, NamespaceError::AccessControl(_)), "{e:?}");
    let (op, path) = ns.plan_create_snapshot(&c, "/d", None, 0).unwrap();
    assert_eq!(path, "/d/.snapshot/s19700101-000000.000");
    ns.apply(&op).unwrap();
    assert_eq!(ns.snapshottable_dirs(&alice), []);
    let dirs = ns.snapshottable_dirs(&c);
    assert_eq!((dirs[0].path.as_str(), dirs[0].snapshot_count), ("/d", 1));
}

#[test]
fn replay_and_image_rebuild_the_same_snapshots() {
    let mut ns = new_ns();
    let mut log = Vec::new();
    let c = su();
    let base = ns.clone();
    logged(&mut ns, &mut log, |ns| {
        ns.plan_mkdirs(&c, "/d/x", 0o755, true, 2000)
    })
    .unwrap();
    run(&mut ns, |_| Ok(Planned::Done(true))).unwrap();
    logged(&mut ns, &mut log, |ns| ns.plan_allow_snapshot(&c, "/d")).unwrap();
    logged(&mut ns, &mut log, |ns| {
        ns.plan_create_snapshot(&c, "/d", Some("s1"), 3000)
            .map(|(op, _)| Planned::Apply(op))
    })
    .unwrap();
    logged(&mut ns, &mut log, |ns| {
        ns.plan_delete(&c, "/d/x", true, 3500)
    })
    .unwrap();
    logged(&mut ns, &mut log, |ns| {
        ns.plan_create_snapshot(&c, "/d", Some("s2"), 4000)
            .map(|(op, _)| Planned::Apply(op))
    })
    .unwrap();
    logged(&mut ns, &mut log, |ns| {
        ns.plan_rename_snapshot(&c, "/d", "s1", "old", 4500)
    })
    .unwrap();

    let mut replayed = base;
    for op in &log {
        replayed.apply(op).unwrap();
    }
    assert_eq!(names(&replayed, "/d/.snapshot"), ["old", "s2"]);
    assert_eq!(names(&replayed, "/d/.snapshot/old"), ["x"]);
    assert!(names(&replayed, "/d/.snapshot/s2").is_empty());
    assert_eq!(replayed.save_image(), ns.save_image());

    let loaded = Namespace::load_image(NamespaceConfig::default(), &ns.save_image()).unwrap();
    assert_eq!(names(&loaded, "/d/.snapshot"), ["old", "s2"]);
    assert_eq!(names(&loaded, "/d/.snapshot/old"), ["x"]);
    assert_eq!(loaded.save_image(), ns.save_image());
}

#[test]
fn image_keeps_snapshot_only_blocks() {
    let mut ns = new_ns();
    let c = su();
    mkdirs(&mut ns, &c, "/d").unwrap();
    write_file(&mut ns, "/d/f", &[10, 20], 1 << 20);
    run(&mut ns, |ns| ns.plan_allow_snapshot(&c, "/d")).unwrap();
    let (op, _) = ns.plan_create_snapshot(&c, "/d", Some("s"), 5000).unwrap();
    ns.apply(&op).unwrap();
    // Overwrite: the old blocks are only in the snapshot now.
    write_file(&mut ns, "/d/f", &[5], 1 << 20);
    assert_eq!(ns.snapshot_only_blocks().len(), 2);
    let mut loaded = Namespace::load_image(NamespaceConfig::default(), &ns.save_image()).unwrap();
    let mut only = loaded.snapshot_only_blocks();
    only.sort_by_key(|b| b.2.block_id);
    assert_eq!(only.len(), 2);
    assert_eq!(
        ids(&loaded, "/d/.snapshot/s/f"),
        [only[0].2.block_id, only[1].2.block_id]
    );
    let out = run_op(&mut loaded, |ns| {
        ns.plan_delete_snapshot(&c, "/d", "s", 6000)
            .map(|p| p.op().unwrap().clone())
    })
    .unwrap();
    assert_eq!(out.removed_blocks.len(), 2);
}

/// The cost docs/architecture.md reports: heap and fsimage bytes one snapshot adds per
/// file of the directory it copies (one-block files with 8-byte names). Run with
/// `--nocapture` for the figures.
#[test]
fn snapshot_cost_per_file() {
    const FILES: usize = 2000;
    let mut ns = new_ns();
    let c = su();
    mkdirs(&mut ns, &c, "/d").unwrap();
    for i in 0..FILES {
        write_file(&mut ns, &format!("/d/f{i:07}"), &[1000], 1 << 20);
    }
    run(&mut ns, |ns| ns.plan_allow_snapshot(&c, "/d")).unwrap();
    let image_before = ns.save_image().len();
    let (_, _, heap_before) = ns.snapshot_memory();
    let (op, _) = ns.plan_create_snapshot(&c, "/d", Some("s1"), 5000).unwrap();
    ns.apply(&op).unwrap();
    let (snaps, nodes, heap_after) = ns.snapshot_memory();
    let image_after = ns.save_image().len();
    assert_eq!((snaps, nodes), (1, FILES as u64 + 1));
    let heap_per_file = (heap_after - heap_before) as f64 / FILES as f64;
    let image_per_file = (image_after - image_before) as f64 / FILES as f64;
    println!(
        "snapshot of {FILES} files: {heap_per_file:.1} heap bytes and {image_per_file:.1} \
         fsimage bytes per file"
    );
    // A frozen one-block file: the record, its name and block, a held-block entry.
    assert!((100.0..256.0).contains(&heap_per_file), "{heap_per_file}");
    assert!((20.0..100.0).contains(&image_per_file), "{image_per_file}");
}

fn diff_lines(ns: &Namespace, from: &str, to: &str) -> Vec<String> {
    let (_, entries) = ns.snapshot_diff(&su(), "/d", from, to).unwrap();
    let shown = |p: &[u8]| {
        if p.is_empty() {
            ".".to_string()
        } else {
            format!("./{}", String::from_utf8_lossy(p))
        }
    };
    let mut lines: Vec<String> = entries
        .iter()
        .map(|e| match &e.target {
            Some(t) => format!("{} {} -> {}", e.kind.label(), shown(&e.path), shown(t)),
            None => format!("{} {}", e.kind.label(), shown(&e.path)),
        })
        .collect();
    lines.sort();
    lines
}

#[test]
fn diff_report_lists_exactly_the_changes() {
    let mut ns = new_ns();
    let c = su();
    mkdirs(&mut ns, &c, "/d/sub").unwrap();
    for f in ["/d/a", "/d/b", "/d/c", "/d/e", "/d/sub/x"] {
        write_file(&mut ns, f, &[10], 1 << 20);
    }
    run(&mut ns, |ns| ns.plan_allow_snapshot(&c, "/d")).unwrap();
    let (op, _) = ns.plan_create_snapshot(&c, "/d", Some("s1"), 5000).unwrap();
    ns.apply(&op).unwrap();
    assert!(diff_lines(&ns, "s1", "").is_empty());

    run(&mut ns, |ns| ns.plan_delete(&c, "/d/a", false, 6000)).unwrap();
    run(&mut ns, |ns| ns.plan_rename(&c, "/d/b", "/d/sub/b2", 6001)).unwrap();
    write_file(&mut ns, "/d/c", &[20], 1 << 20); // overwrite: a new inode
    write_file(&mut ns, "/d/new", &[1], 1 << 20);
    run_op(&mut ns, |ns| ns.plan_set_permission(&c, "/d/e", 0o600)).unwrap();
    assert_eq!(
        diff_lines(&ns, "s1", ""),
        [
            "+ ./c",
            "+ ./new",
            "- ./a",
            "- ./c",
            "M .",
            "M ./e",
            "M ./sub",
            "R ./b -> ./sub/b2",
        ]
    );
    // Between two snapshots, and from the live tree back to a snapshot.
    let (op, _) = ns.plan_create_snapshot(&c, "/d", Some("s2"), 7000).unwrap();
    ns.apply(&op).unwrap();
    assert_eq!(diff_lines(&ns, "s1", "s2"), diff_lines(&ns, "s1", ""));
    assert!(diff_lines(&ns, "s2", "").is_empty());
    assert!(diff_lines(&ns, "", "s1").contains(&"R ./sub/b2 -> ./b".to_string()));
    let e = ns.snapshot_diff(&c, "/d", "s1", "nope").unwrap_err();
    assert_eq!(
        e.to_string(),
        "Cannot find the snapshot of directory /d with name nope"
    );
}

fn inode(ns: &Namespace, p: &str) -> u64 {
    ns.get_file_info(&su(), p).unwrap().unwrap().inode_id
}

/// Two snapshots with changes between them, and more changes after the second that the
/// s1 → s2 diff must not show.
fn two_snapshots() -> Namespace {
    let mut ns = new_ns();
    let c = su();
    mkdirs(&mut ns, &c, "/d/sub").unwrap();
    for f in ["/d/a", "/d/b", "/d/e", "/d/sub/x"] {
        write_file(&mut ns, f, &[10], 1 << 20);
    }
    run(&mut ns, |ns| ns.plan_allow_snapshot(&c, "/d")).unwrap();
    let (op, _) = ns.plan_create_snapshot(&c, "/d", Some("s1"), 5000).unwrap();
    ns.apply(&op).unwrap();
    run(&mut ns, |ns| ns.plan_delete(&c, "/d/a", false, 6000)).unwrap();
    run(&mut ns, |ns| ns.plan_rename(&c, "/d/b", "/d/sub/b2", 6001)).unwrap();
    write_file(&mut ns, "/d/new", &[1], 1 << 20);
    run_op(&mut ns, |ns| ns.plan_set_permission(&c, "/d/e", 0o600)).unwrap();
    let (op, _) = ns.plan_create_snapshot(&c, "/d", Some("s2"), 7000).unwrap();
    ns.apply(&op).unwrap();
    write_file(&mut ns, "/d/after", &[1], 1 << 20);
    run(&mut ns, |ns| ns.plan_delete(&c, "/d/sub/x", false, 8000)).unwrap();
    ns
}

#[test]
fn diff_between_two_snapshots_carries_the_listing_ids() {
    let ns = two_snapshots();
    let (d, sub, e, new) = (
        inode(&ns, "/d"),
        inode(&ns, "/d/sub"),
        inode(&ns, "/d/e"),
        inode(&ns, "/d/new"),
    );
    let b = inode(&ns, "/d/sub/b2");
    let a = inode(&ns, "/d/.snapshot/s1/a");
    let (_, entries) = ns.snapshot_diff(&su(), "/d", "s1", "s2").unwrap();
    type Row = (&'static str, String, Option<String>, u64, u64, bool);
    let got: Vec<Row> = entries
        .iter()
        .map(|x| {
            (
                x.kind.label(),
                String::from_utf8_lossy(&x.path).into_owned(),
                x.target
                    .as_ref()
                    .map(|t| String::from_utf8_lossy(t).into_owned()),
                x.dir_id,
                x.inode_id,
                x.is_reference(),
            )
        })
        .collect();
    // Report order: each changed directory, its creations, then its deletions and
    // renames; depth first in name order. /d/after and the deletion of /d/sub/x came
    // after s2 and are not there.
    assert_eq!(
        got,
        [
            ("M", "".into(), None, d, d, true),
            ("+", "new".into(), None, d, new, false),
            ("-", "a".into(), None, d, a, false),
            ("R", "b".into(), Some("sub/b2".into()), d, b, true),
            ("M", "e".into(), None, d, e, false),
            ("M", "sub".into(), None, sub, sub, true),
        ]
    );
    // And back: s2 → s1 undoes it.
    assert_eq!(
        diff_lines(&ns, "s2", "s1"),
        [
            "+ ./a",
            "- ./new",
            "M .",
            "M ./e",
            "M ./sub",
            "R ./sub/b2 -> ./b"
        ]
    );
}

#[test]
fn diff_pages_cover_the_report_once_and_refuse_a_stale_cursor() {
    let ns = two_snapshots();
    let (_, entries) = ns.snapshot_diff(&su(), "/d", "s1", "s2").unwrap();
    assert_eq!(entries.len(), 6);
    let mut seen = Vec::new();
    let mut cursor: Option<(Vec<u8>, i32)> = None;
    let mut pages = 0;
    loop {
        let c = cursor.as_ref().map(|(p, i)| (p.as_slice(), *i));
        let (page, next) = diff_page(&entries, c, 4).unwrap();
        pages += 1;
        assert!(page.len() <= 4);
        seen.extend_from_slice(page);
        match next {
            Some((p, i)) => cursor = Some((p.to_vec(), i)),
            None => break,
        }
    }
    assert_eq!(pages, 2);
    assert_eq!(seen, entries);
    // The second page's cursor names entry 4 ("e") by index and path.
    let (_, next) = diff_page(&entries, None, 4).unwrap();
    assert_eq!(next, Some((&b"e"[..], 4)));
    // The first page again, explicitly (Hadoop's client starts with "" and -1).
    let (first, _) = diff_page(&entries, Some((b"", -1)), 4).unwrap();
    assert_eq!(first, &entries[..4]);
    // A cursor whose path no longer matches, or out of range, is refused.
    for bad in [
        (&b"a"[..], 4),
        (&b"e"[..], 9),
        (&b"e"[..], -7),
        (&b""[..], 0),
    ] {
        let err = diff_page(&entries, Some(bad), 4).unwrap_err();
        assert!(err.starts_with("changed between pages"), "{bad:?}: {err}");
    }
    // A single entry per page still ends.
    let (page, next) = diff_page(&entries, Some((b"sub", 5)), 1).unwrap();
    assert_eq!((page.len(), next), (1, None));
}

#[test]
fn snapshot_listing_names_each_snapshot_with_its_id() {
    let mut ns = two_snapshots();
    let c = su();
    let (root, list) = ns.snapshot_listing(&c, "/d").unwrap();
    assert_eq!(root, "/d");
    let got: Vec<(u32, String, bool)> = list
        .iter()
        .map(|(id, s)| {
            (
                *id,
                String::from_utf8_lossy(&s.name).into_owned(),
                s.kind == FileKind::Directory,
            )
        })
        .collect();
    assert_eq!(got.len(), 2);
    assert_eq!((got[0].1.as_str(), got[1].1.as_str()), ("s1", "s2"));
    assert!(got[0].0 < got[1].0 && got[0].2 && got[1].2);
    // Deleted snapshots leave the listing at once.
    run(&mut ns, |ns| ns.plan_delete_snapshot(&c, "/d", "s1", 9000)).unwrap();
    let (_, list) = ns.snapshot_listing(&c, "/d").unwrap();
    assert_eq!(list.len(), 1);
    // Hadoop's errors.
    mkdirs(&mut ns, &c, "/plain").unwrap();
    let e = ns.snapshot_listing(&c, "/plain").unwrap_err();
    assert_eq!(
        e.to_string(),
        "Directory is not a snapshottable directory: /plain"
    );
    assert!(matches!(e, NamespaceError::Snapshot(_)));
    let e = ns.snapshot_listing(&c, "/nope").unwrap_err();
    assert!(matches!(e, NamespaceError::FileNotFound(_)), "{e}");
}
