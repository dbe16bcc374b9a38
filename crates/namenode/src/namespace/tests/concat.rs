//! concat (Hadoop's FSDirConcatOp) and the reserved `/.reserved/.inodes/<id>` paths.

use super::*;

fn block_ids(ns: &Namespace, p: &str) -> Vec<u64> {
    let (_, blocks) = ns.get_blocks(&su(), p).unwrap();
    blocks.iter().map(|b| b.block_id).collect()
}

fn concat(ns: &mut Namespace, target: &str, srcs: &[&str]) -> Result<ApplyOutcome, NamespaceError> {
    let srcs: Vec<String> = srcs.iter().map(|s| s.to_string()).collect();
    run_op(ns, |ns| ns.plan_concat(&su(), target, &srcs, 9000))
}

#[test]
fn concat_moves_blocks_in_order_and_removes_the_sources() {
    let mut ns = new_ns();
    mkdirs(&mut ns, &su(), "/d").unwrap();
    let t = write_file(&mut ns, "/d/t", &[10, 3], 1 << 20);
    write_file(&mut ns, "/d/a", &[1024, 7], 1 << 20);
    write_file(&mut ns, "/d/b", &[5], 1 << 20);
    let (ta, aa, ba) = (
        block_ids(&ns, "/d/t"),
        block_ids(&ns, "/d/a"),
        block_ids(&ns, "/d/b"),
    );
    let image_before = ns.save_image();

    let out = concat(&mut ns, "/d/t", &["/d/b", "/d/a"]).unwrap();
    assert_eq!(out.inode_id, Some(t));
    assert!(out.removed_blocks.is_empty(), "moved blocks are not freed");
    let want: Vec<u64> = ta.iter().chain(&ba).chain(&aa).copied().collect();
    assert_eq!(block_ids(&ns, "/d/t"), want);
    let st = ns.get_file_info(&su(), "/d/t").unwrap().unwrap();
    assert_eq!(st.length, 10 + 3 + 5 + 1024 + 7);
    assert_eq!(st.mtime, 9000);
    assert_eq!(st.inode_id, t, "the target keeps its inode");
    assert!(ns.get_file_info(&su(), "/d/a").unwrap().is_none());
    assert!(ns.get_file_info(&su(), "/d/b").unwrap().is_none());
    assert_eq!(ns.get_file_info(&su(), "/d").unwrap().unwrap().mtime, 9000);
    assert_eq!(ns.list(&su(), "/d", b"", 100).unwrap().0.len(), 1);

    // Replay of the same op on the image from before gives the same namespace.
    let mut replayed = Namespace::load_image(NamespaceConfig::default(), &image_before).unwrap();
    let op = ns_concat_op("/d/t", &["/d/b", "/d/a"]);
    replayed.apply(&op).unwrap();
    assert_eq!(replayed.save_image(), ns.save_image());
}

fn ns_concat_op(target: &str, srcs: &[&str]) -> EditOp {
    EditOp {
        retry_cache: None,
        op: Some(hafs_proto::hafs::edit_op::Op::Concat(
            hafs_proto::hafs::ConcatOp {
                target: target.into(),
                srcs: srcs.iter().map(|s| s.to_string()).collect(),
                mtime: 9000,
            },
        )),
    }
}

#[test]
fn concat_refusals_match_hadoop() {
    let mut ns = new_ns();
    mkdirs(&mut ns, &su(), "/d").unwrap();
    mkdirs(&mut ns, &su(), "/e").unwrap();
    write_file(&mut ns, "/d/t", &[10], 1 << 20);
    write_file(&mut ns, "/d/a", &[10], 1 << 20);
    write_file(&mut ns, "/d/big", &[10], 4 << 20);
    write_file(&mut ns, "/e/other", &[10], 1 << 20);
    run_op(&mut ns, |ns| {
        ns.plan_create(
            &su(),
            "/d/empty",
            0o644,
            "w",
            "h",
            false,
            true,
            3,
            1 << 20,
            1,
        )
    })
    .unwrap();
    let (op, _) = ns.plan_complete("w", "/d/empty", 0, None, 2).unwrap();
    ns.apply(&op).unwrap();
    run_op(&mut ns, |ns| {
        ns.plan_create(
            &su(),
            "/d/open",
            0o644,
            "w",
            "h",
            false,
            true,
            3,
            1 << 20,
            1,
        )
    })
    .unwrap();
    let image = ns.save_image();

    let err = |ns: &mut Namespace, t: &str, s: &[&str]| concat(ns, t, s).unwrap_err();
    let e = err(&mut ns, "/d/t", &[]);
    assert_eq!(e.java_class(), "java.lang.IllegalArgumentException");
    assert_eq!(e.to_string(), "No sources given");
    let e = err(&mut ns, "/d/missing", &["/d/a"]);
    assert_eq!(e.to_string(), "File does not exist: /d/missing");
    assert_eq!(e.java_class(), "java.io.FileNotFoundException");
    let e = err(&mut ns, "/d", &["/d/a"]);
    assert_eq!(e.to_string(), "Path is not a file: /d");
    let e = err(&mut ns, "/d/t", &["/d/t"]);
    assert_eq!(
        e.java_class(),
        "org.apache.hadoop.HadoopIllegalArgumentException"
    );
    assert_eq!(
        e.to_string(),
        "concat: the src file /d/t is the same with the target file /d/t"
    );
    let e = err(&mut ns, "/d/t", &["/e/other"]);
    assert_eq!(
        e.to_string(),
        "Source file /e/other is not in the same directory with the target /d/t"
    );
    let e = err(&mut ns, "/d/t", &["/d/empty"]);
    assert_eq!(
        e.to_string(),
        "concat: source file /d/empty is invalid or empty or underConstruction"
    );
    let e = err(&mut ns, "/d/t", &["/d/open"]);
    assert!(
        e.to_string()
            .ends_with("is invalid or empty or underConstruction"),
        "{e}"
    );
    let e = err(&mut ns, "/d/open", &["/d/a"]);
    assert_eq!(
        e.to_string(),
        "concat: target file /d/open is under construction"
    );
    let e = err(&mut ns, "/d/t", &["/d/big"]);
    assert!(
        e.to_string().contains("preferred block size 4194304"),
        "{e}"
    );
    let e = err(&mut ns, "/d/t", &["/d/a", "/d/a"]);
    assert_eq!(
        e.to_string(),
        "concat: at least two of the source files are the same"
    );
    let e = err(&mut ns, "/d/t", &["/d/a", "/d/gone"]);
    assert_eq!(e.java_class(), "java.io.FileNotFoundException");
    // Refusals changed nothing.
    assert_eq!(ns.save_image(), image);

    // A user who may not write the target (nor delete the sources) is refused.
    let alice = Caller::new("alice", &["users"]);
    let e = concat_as(&mut ns, &alice, "/d/t", &["/d/a"]);
    assert_eq!(
        e.java_class(),
        "org.apache.hadoop.security.AccessControlException"
    );
    assert_eq!(ns.save_image(), image);

    // apply refuses an op that does not fit the tree (a corrupt log).
    let mut copy = Namespace::load_image(NamespaceConfig::default(), &image).unwrap();
    for (t, s) in [
        ("/d/t", "/d/t"),
        ("/d/t", "/e/other"),
        ("/d/t", "/d/open"),
        ("/d/open", "/d/a"),
    ] {
        let e = copy.apply(&ns_concat_op(t, &[s])).unwrap_err();
        assert!(matches!(e, NamespaceError::Corrupt(_)), "{t} <- {s}: {e}");
    }
    assert_eq!(copy.save_image(), image);
}

fn concat_as(ns: &mut Namespace, c: &Caller, t: &str, s: &[&str]) -> NamespaceError {
    let srcs: Vec<String> = s.iter().map(|s| s.to_string()).collect();
    ns.plan_concat(c, t, &srcs, 1).unwrap_err()
}

#[test]
fn reserved_inode_paths_resolve_to_the_current_path() {
    let mut ns = new_ns();
    mkdirs(&mut ns, &su(), "/d/sub").unwrap();
    let id = write_file(&mut ns, "/d/sub/f", &[10], 1 << 20);
    let dir = ns.get_file_info(&su(), "/d").unwrap().unwrap().inode_id;
    let by_id = format!("/.reserved/.inodes/{id}");
    assert_eq!(ns.real_path(&by_id).unwrap(), "/d/sub/f");
    assert_eq!(
        ns.real_path(&format!("/.reserved/.inodes/{dir}/sub/f"))
            .unwrap(),
        "/d/sub/f"
    );
    assert_eq!(ns.real_path("/.reserved/raw/d/sub").unwrap(), "/d/sub");
    assert_eq!(ns.real_path("/d/sub").unwrap(), "/d/sub");
    let st = ns.get_file_info(&su(), &by_id).unwrap().unwrap();
    assert_eq!(st.inode_id, id);
    // After a rename the handle still finds the file.
    run(&mut ns, |ns| {
        ns.plan_rename(&su(), "/d/sub/f", "/d/g", 5000)
    })
    .unwrap();
    assert_eq!(ns.real_path(&by_id).unwrap(), "/d/g");
    assert_eq!(ns.get_blocks(&su(), &by_id).unwrap().0.inode_id, id);
    for bad in [
        "/.reserved/.inodes/999999",
        "/.reserved/.inodes/x",
        "/.reserved/.inodes/",
    ] {
        let e = ns.get_file_info(&su(), bad).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("File for given inode path does not exist: {bad}")
        );
    }
}
