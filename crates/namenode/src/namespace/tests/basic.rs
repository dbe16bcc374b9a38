use super::*;
use crate::namespace::path::components;

#[test]
fn path_validation_follows_hadoop_is_valid_name() {
    assert_eq!(components("/").unwrap(), Vec::<&str>::new());
    assert_eq!(components("/a/b").unwrap(), vec!["a", "b"]);
    assert_eq!(
        components("/a/b/").unwrap(),
        vec!["a", "b"],
        "trailing slash ignored"
    );
    assert_eq!(components("/a//").unwrap(), vec!["a"]);
    for bad in [
        "", "a/b", "/a//b", "/a/./b", "/a/../b", "/..", "/a:b", "/x/c:d/e",
    ] {
        let e = components(bad).unwrap_err();
        assert_eq!(
            e.java_class(),
            "org.apache.hadoop.fs.InvalidPathException",
            "{bad}"
        );
        assert_eq!(e.to_string(), format!("Invalid path name {bad}"));
    }
    let mut ns = new_ns();
    let e = mkdirs(&mut ns, &su(), "/a/../b").unwrap_err();
    assert!(matches!(e, NamespaceError::InvalidPath(_)));
}

#[test]
fn ids_start_after_root_and_replay_reproduces_them() {
    let mut ns = new_ns();
    assert_eq!(
        ns.get_file_info(&su(), "/").unwrap().unwrap().inode_id,
        16385
    );
    let op = ns.plan_mkdirs(&su(), "/a/b", 0o750, true, 5).unwrap();
    let Planned::Apply(op) = op else {
        panic!("expected op")
    };
    let out = ns.apply(&op).unwrap();
    assert_eq!(out.inode_id, Some(16387));
    assert_eq!(
        ns.get_file_info(&su(), "/a").unwrap().unwrap().inode_id,
        16386
    );
    let a = ns.get_file_info(&su(), "/a").unwrap().unwrap();
    assert_eq!(a.permission, 0o750 | 0o300, "ancestors get u+wx");
    assert_eq!(
        ns.get_file_info(&su(), "/a/b").unwrap().unwrap().permission,
        0o750
    );
    assert_eq!(ns.last_inode_id(), 16387);
    let mut replay = new_ns();
    replay.apply(&op).unwrap();
    assert_eq!(replay.save_image(), ns.save_image());
    // Applying it again does not fit the tree: refused, state unchanged.
    let before = ns.save_image();
    assert!(matches!(ns.apply(&op), Err(NamespaceError::Corrupt(_))));
    assert_eq!(before, ns.save_image());
    ns.check_invariants();
}

#[test]
fn mkdirs_create_and_errors_match_hadoop() {
    let mut ns = new_ns();
    let c = su();
    assert_eq!(mkdirs(&mut ns, &c, "/d"), Ok(true));
    assert_eq!(mkdirs(&mut ns, &c, "/d"), Ok(true), "existing dir is fine");
    create(&mut ns, &c, "/d/f", "client1").unwrap();
    let e = mkdirs(&mut ns, &c, "/d/f").unwrap_err();
    assert_eq!(e.to_string(), "Path is not a directory: /d/f");
    assert_eq!(
        e.java_class(),
        "org.apache.hadoop.fs.FileAlreadyExistsException"
    );
    let e = mkdirs(&mut ns, &c, "/d/f/x").unwrap_err();
    assert_eq!(
        e.java_class(),
        "org.apache.hadoop.fs.ParentNotDirectoryException"
    );
    assert_eq!(e.to_string(), "/d/f (is not a directory)");
    let e = create(&mut ns, &c, "/d", "client1").unwrap_err();
    assert_eq!(e.to_string(), "/d already exists as a directory");
    let e = ns.plan_mkdirs(&c, "/x/y", 0o755, false, 1).unwrap_err();
    assert_eq!(e.java_class(), "java.io.FileNotFoundException");
    assert_eq!(e.to_string(), "Parent directory doesn't exist: /x");

    // Same client re-creating, another client, and a closed file.
    let e = create(&mut ns, &c, "/d/f", "client1").unwrap_err();
    assert_eq!(
        e.java_class(),
        "org.apache.hadoop.hdfs.protocol.AlreadyBeingCreatedException"
    );
    assert!(e
        .to_string()
        .contains("current leaseholder is trying to recreate file"));
    let e = create(&mut ns, &c, "/d/f", "client2").unwrap_err();
    assert!(
        e.to_string()
            .contains("currently owned by client1 on 127.0.0.1"),
        "{e}"
    );
    let e = run_op(&mut ns, |ns| ns.plan_close("client2", "/d/f", 0, &[], 9)).unwrap_err();
    assert_eq!(
        e.java_class(),
        "org.apache.hadoop.hdfs.server.namenode.LeaseExpiredException"
    );
    let blocks = [BlockInfo {
        block_id: 1,
        gen_stamp: 1001,
        num_bytes: 100,
    }];
    let id = ns.get_file_info(&c, "/d/f").unwrap().unwrap().inode_id;
    run_op(&mut ns, |ns| {
        ns.plan_close("client1", "/ignored", id, &blocks, 9)
    })
    .unwrap();
    let st = ns.get_file_info(&c, "/d/f").unwrap().unwrap();
    assert_eq!(
        (st.length, st.under_construction, st.mtime),
        (100, false, 9)
    );
    let e = run_op(&mut ns, |ns| {
        ns.plan_close("client1", "/d/f", 0, &blocks, 9)
    })
    .unwrap_err();
    assert!(
        e.to_string().contains("File is not open for writing"),
        "{e}"
    );
    let e = create(&mut ns, &c, "/d/f", "client1").unwrap_err();
    assert_eq!(e.to_string(), "/d/f for client 127.0.0.1 already exists");
    // Overwrite reports the old blocks.
    let op = ns
        .plan_create(&c, "/d/f", 0o600, "c3", "h", true, false, 2, 1 << 20, 10)
        .unwrap();
    let out = ns.apply(&op).unwrap();
    assert_eq!(out.removed_blocks, blocks.to_vec());
    assert_eq!(ns.get_file_info(&c, "/d/f").unwrap().unwrap().length, 0);

    // Block size and replication bounds.
    let e = ns
        .plan_create(&c, "/d/g", 0o644, "c", "h", false, true, 3, 1024, 1)
        .unwrap_err();
    assert!(e
        .to_string()
        .starts_with("Specified block size is less than configured minimum value"));
    let e = ns
        .plan_create(&c, "/d/g", 0o644, "c", "h", false, true, 600, 1 << 20, 1)
        .unwrap_err();
    assert!(e.to_string().contains("exceeds maximum of 512"));

    // Delete.
    let e = run(&mut ns, |ns| ns.plan_delete(&c, "/d", false, 11)).unwrap_err();
    assert_eq!(
        e.java_class(),
        "org.apache.hadoop.fs.PathIsNotEmptyDirectoryException"
    );
    assert_eq!(e.to_string(), "`/d is non empty': Directory is not empty");
    assert_eq!(
        run(&mut ns, |ns| ns.plan_delete(&c, "/", true, 11)),
        Ok(false)
    );
    assert_eq!(
        run(&mut ns, |ns| ns.plan_delete(&c, "/nope", true, 11)),
        Ok(false)
    );
    let op = ns.plan_delete(&c, "/d", true, 12).unwrap();
    let out = ns.apply(op.op().unwrap()).unwrap();
    assert_eq!(
        out.removed_under_construction.len(),
        1,
        "the open file's lease ends"
    );
    assert_eq!(ns.get_file_info(&c, "/d").unwrap(), None);
    assert_eq!(ns.stats(), NamespaceStats { files: 0, dirs: 1 });
    assert_eq!(ns.get_file_info(&c, "/").unwrap().unwrap().mtime, 12);
    ns.check_invariants();
}

#[test]
fn listing_and_content_summary() {
    let mut ns = new_ns();
    let c = su();
    mkdirs(&mut ns, &c, "/d/sub").unwrap();
    for name in ["b", "a", "c", "e"] {
        create(&mut ns, &c, &format!("/d/{name}"), "cl").unwrap();
    }
    let names = |v: &[FileStatus]| {
        v.iter()
            .map(|s| String::from_utf8(s.name.clone()).unwrap())
            .collect::<Vec<_>>()
    };
    let (l, rem) = ns.list(&c, "/d", b"", 2).unwrap();
    assert_eq!((names(&l), rem), (vec!["a".to_string(), "b".into()], 3));
    let (l, rem) = ns.list(&c, "/d", b"b", 10).unwrap();
    assert_eq!(
        (names(&l), rem),
        (vec!["c".to_string(), "e".into(), "sub".into()], 0)
    );
    let (l, rem) = ns.list(&c, "/d", b"d", 1).unwrap();
    assert_eq!((names(&l), rem), (vec!["e".to_string()], 1));
    let (l, _) = ns.list(&c, "/d/a", b"", 10).unwrap();
    assert_eq!(l.len(), 1);
    assert_eq!(l[0].kind, FileKind::File);
    let e = ns.list(&c, "/zz", b"", 10).unwrap_err();
    assert_eq!(e.java_class(), "java.io.FileNotFoundException");
    let d = ns.get_file_info(&c, "/d").unwrap().unwrap();
    assert_eq!((d.kind, d.children_num), (FileKind::Directory, 5));

    let id = ns.get_file_info(&c, "/d/a").unwrap().unwrap().inode_id;
    let blocks = [
        BlockInfo {
            block_id: 7,
            gen_stamp: 1,
            num_bytes: 10,
        },
        BlockInfo {
            block_id: 8,
            gen_stamp: 1,
            num_bytes: 5,
        },
    ];
    run_op(&mut ns, |ns| {
        ns.plan_update_blocks("cl", "/d/a", id, &blocks)
    })
    .unwrap();
    assert_eq!(ns.get_blocks(&c, "/d/a").unwrap().1, blocks.to_vec());
    run_op(&mut ns, |ns| ns.plan_set_quota(&c, "/d", 100, -1, None)).unwrap();
    let s = ns.content_summary(&c, "/d").unwrap();
    assert_eq!(
        s,
        ContentSummary {
            length: 15,
            file_count: 4,
            directory_count: 2,
            quota: 100,
            // /d/a is still open: its last block counts at the preferred block size
            // (128 MB), as HDFS counts it.
            space_consumed: 3 * (10 + (128 << 20)),
            space_quota: -1,
            type_quotas: [-1; 6],
            type_consumed: [0; 6],
        }
    );
    assert_eq!(ns.path_of(id).as_deref(), Some("/d/a"));
}

#[test]
fn limits_component_length_and_directory_items() {
    let mut ns = Namespace::new(
        NamespaceConfig {
            max_component_length: 5,
            max_dir_items: 2,
            ..Default::default()
        },
        "hdfs",
        "supergroup",
        0,
    );
    let c = su();
    let e = mkdirs(&mut ns, &c, "/abcdef").unwrap_err();
    assert_eq!(
        e.java_class(),
        "org.apache.hadoop.hdfs.protocol.FSLimitException$PathComponentTooLongException"
    );
    assert_eq!(e.to_string(), "The maximum path component name limit of abcdef in directory / is exceeded: limit=5 length=6");
    mkdirs(&mut ns, &c, "/a").unwrap();
    mkdirs(&mut ns, &c, "/b").unwrap();
    let e = create(&mut ns, &c, "/c", "x").unwrap_err();
    assert_eq!(
        e.java_class(),
        "org.apache.hadoop.hdfs.protocol.FSLimitException$MaxDirectoryItemsExceededException"
    );
    assert_eq!(
        e.to_string(),
        "The directory item limit of / is exceeded: limit=2 items=2"
    );
    // Renaming within the same directory is not limited by item count.
    assert_eq!(
        run(&mut ns, |ns| ns.plan_rename(&c, "/a", "/c", 1)),
        Ok(true)
    );
    // 0 disables both limits.
    ns.set_config(NamespaceConfig {
        max_component_length: 0,
        max_dir_items: 0,
        ..Default::default()
    });
    mkdirs(&mut ns, &c, "/a-very-long-name").unwrap();
}

#[test]
fn rename_semantics() {
    let mut ns = new_ns();
    let c = su();
    mkdirs(&mut ns, &c, "/a/x").unwrap();
    mkdirs(&mut ns, &c, "/b").unwrap();
    create(&mut ns, &c, "/f", "c").unwrap();
    create(&mut ns, &c, "/g", "c").unwrap();
    // Old rename: false rather than errors.
    assert_eq!(
        run(&mut ns, |ns| ns.plan_rename(&c, "/missing", "/z", 1)),
        Ok(false)
    );
    assert_eq!(
        run(&mut ns, |ns| ns.plan_rename(&c, "/f", "/g", 1)),
        Ok(false),
        "dst file exists"
    );
    assert_eq!(
        run(&mut ns, |ns| ns.plan_rename(&c, "/a", "/a/x/y", 1)),
        Ok(false),
        "into itself"
    );
    assert_eq!(
        run(&mut ns, |ns| ns.plan_rename(&c, "/f", "/nope/z", 1)),
        Ok(false),
        "no dst parent"
    );
    assert_eq!(
        run(&mut ns, |ns| ns.plan_rename(&c, "/f", "/f", 1)),
        Ok(true)
    );
    assert_eq!(
        run(&mut ns, |ns| ns.plan_rename(&c, "/", "/b", 1)),
        Ok(false)
    );
    // Into an existing directory.
    assert_eq!(
        run(&mut ns, |ns| ns.plan_rename(&c, "/f", "/b", 2)),
        Ok(true)
    );
    assert!(ns.get_file_info(&c, "/b/f").unwrap().is_some());
    assert_eq!(ns.get_file_info(&c, "/").unwrap().unwrap().mtime, 2);
    assert_eq!(ns.get_file_info(&c, "/b").unwrap().unwrap().mtime, 2);
    let e = ns.plan_rename(&c, "/b", "/a:b", 1).unwrap_err();
    assert_eq!(
        (e.java_class(), e.to_string().as_str()),
        ("java.io.IOException", "Invalid name: /a:b")
    );

    // rename2.
    let r2 = |ns: &mut Namespace, s: &str, d: &str, o: bool| {
        run_op(ns, |ns| ns.plan_rename2(&c, s, d, o, 3))
    };
    let e = r2(&mut ns, "/missing", "/z", false).unwrap_err();
    assert_eq!(e.to_string(), "rename source /missing is not found.");
    let e = r2(&mut ns, "/g", "/b/f", false).unwrap_err();
    assert_eq!(
        (e.java_class(), e.to_string()),
        (
            "org.apache.hadoop.fs.FileAlreadyExistsException",
            "rename destination /b/f already exists".to_string()
        )
    );
    let e = r2(&mut ns, "/g", "/b", true).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Source /g and destination /b must both be directories"
    );
    let e = r2(&mut ns, "/b", "/a", true).unwrap_err();
    assert_eq!(
        e.to_string(),
        "rename destination directory is not empty: /a"
    );
    let e = r2(&mut ns, "/a", "/a/x/q", false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Rename destination /a/x/q is a directory or file under source /a"
    );
    let e = r2(&mut ns, "/g", "/g", false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "The source /g and destination /g are the same"
    );
    let e = r2(&mut ns, "/g", "/q/r", false).unwrap_err();
    assert_eq!(
        (e.java_class(), e.to_string()),
        (
            "java.io.FileNotFoundException",
            "rename destination parent /q/r not found.".to_string()
        )
    );
    let e = r2(&mut ns, "/g", "/b/f/x", false).unwrap_err();
    assert_eq!(
        e.java_class(),
        "org.apache.hadoop.fs.ParentNotDirectoryException"
    );
    let out = r2(&mut ns, "/g", "/b/f", true).unwrap();
    assert_eq!(
        out.removed_under_construction.len(),
        1,
        "overwritten open file"
    );
    assert!(ns.get_file_info(&c, "/g").unwrap().is_none());
    mkdirs(&mut ns, &c, "/empty").unwrap();
    r2(&mut ns, "/empty", "/a/x", true).unwrap();
    assert_eq!(ns.stats(), NamespaceStats { files: 1, dirs: 4 });
    ns.check_invariants();
}
