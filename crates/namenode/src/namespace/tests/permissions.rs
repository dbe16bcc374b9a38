use super::*;

/// /user/alice (alice:staff 0755) with a file, /tmp (sticky 1777).
fn setup() -> Namespace {
    let mut ns = new_ns();
    let c = su();
    mkdirs(&mut ns, &c, "/user/alice").unwrap();
    run_op(&mut ns, |ns| {
        ns.plan_set_owner(&c, "/user/alice", Some("alice"), Some("staff"))
    })
    .unwrap();
    mkdirs(&mut ns, &c, "/tmp").unwrap();
    run_op(&mut ns, |ns| ns.plan_set_permission(&c, "/tmp", 0o1777)).unwrap();
    let alice = Caller::new("alice", &["staff"]);
    create(&mut ns, &alice, "/user/alice/f", "ca").unwrap();
    create(&mut ns, &alice, "/tmp/a", "ca").unwrap();
    ns
}

#[test]
fn write_on_parent_is_required() {
    let mut ns = setup();
    let bob = Caller::new("bob", &["users"]);
    let e = mkdirs(&mut ns, &bob, "/user/alice/x").unwrap_err();
    assert_eq!(
        e.java_class(),
        "org.apache.hadoop.security.AccessControlException"
    );
    assert_eq!(
        e.to_string(),
        "Permission denied: user=bob, access=WRITE, inode=\"/user/alice\":alice:staff:drwxr-xr-x"
    );
    let e = run(&mut ns, |ns| {
        ns.plan_delete(&bob, "/user/alice/f", false, 1)
    })
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("access=WRITE, inode=\"/user/alice\""),
        "{e}"
    );
    let e = run_op(&mut ns, |ns| {
        ns.plan_rename2(&bob, "/user/alice/f", "/tmp/f", false, 1)
    })
    .unwrap_err();
    assert!(e.to_string().contains("access=WRITE"), "{e}");
    // New inodes inherit the parent's group; the creator owns them.
    let alice = Caller::new("alice", &["staff"]);
    mkdirs(&mut ns, &alice, "/user/alice/x/y").unwrap();
    let st = ns
        .get_file_info(&alice, "/user/alice/x/y")
        .unwrap()
        .unwrap();
    assert_eq!((st.owner.as_str(), st.group.as_str()), ("alice", "staff"));
    // Group members use the group bits.
    run_op(&mut ns, |ns| {
        ns.plan_set_permission(&alice, "/user/alice", 0o770)
    })
    .unwrap();
    let carol = Caller::new("carol", &["staff"]);
    mkdirs(&mut ns, &carol, "/user/alice/carol").unwrap();
}

#[test]
fn traverse_needs_execute_on_every_ancestor() {
    let mut ns = setup();
    let alice = Caller::new("alice", &["staff"]);
    run_op(&mut ns, |ns| {
        ns.plan_set_permission(&alice, "/user/alice", 0o700)
    })
    .unwrap();
    let bob = Caller::new("bob", &[]);
    let e = ns.get_file_info(&bob, "/user/alice/f").unwrap_err();
    assert_eq!(
        e.to_string(),
        "Permission denied: user=bob, access=EXECUTE, inode=\"/user/alice\":alice:staff:drwx------"
    );
    let e = ns.list(&bob, "/user/alice", b"", 10).unwrap_err();
    assert!(e.to_string().contains("access=READ_EXECUTE"), "{e}");
    assert!(ns.get_file_info(&alice, "/user/alice/f").unwrap().is_some());
    // A path through a file: AccessControlException for users, None for the superuser.
    let e = ns.get_file_info(&alice, "/user/alice/f/x").unwrap_err();
    assert_eq!(e.to_string(), "/user/alice/f (is not a directory)");
    assert_eq!(ns.get_file_info(&su(), "/user/alice/f/x").unwrap(), None);
    // Reading a file needs READ.
    run_op(&mut ns, |ns| {
        ns.plan_set_permission(&alice, "/user/alice", 0o755)
    })
    .unwrap();
    run_op(&mut ns, |ns| {
        ns.plan_set_permission(&alice, "/user/alice/f", 0o600)
    })
    .unwrap();
    let e = ns.get_blocks(&bob, "/user/alice/f").unwrap_err();
    assert!(e.to_string().contains("access=READ,"), "{e}");
}

#[test]
fn sticky_bit_protects_other_users_entries() {
    let mut ns = setup();
    let bob = Caller::new("bob", &[]);
    create(&mut ns, &bob, "/tmp/b", "cb").unwrap();
    let e = run(&mut ns, |ns| ns.plan_delete(&bob, "/tmp/a", false, 1)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Permission denied by sticky bit: user=bob, path=\"/tmp/a\":alice:supergroup:-rw-r--r--, parent=\"/tmp\":hdfs:supergroup:drwxrwxrwt"
    );
    let e = run(&mut ns, |ns| ns.plan_rename(&bob, "/tmp/a", "/tmp/c", 1)).unwrap_err();
    assert!(e.to_string().starts_with("Permission denied by sticky bit"));
    assert_eq!(
        run(&mut ns, |ns| ns.plan_delete(&bob, "/tmp/b", false, 1)),
        Ok(true)
    );
    assert_eq!(
        run(&mut ns, |ns| ns.plan_delete(&su(), "/tmp/a", false, 1)),
        Ok(true)
    );
}

#[test]
fn owner_rules_for_set_permission_and_set_owner() {
    let mut ns = setup();
    let alice = Caller::new("alice", &["staff", "eng"]);
    let bob = Caller::new("bob", &["eng"]);
    let e = run_op(&mut ns, |ns| {
        ns.plan_set_permission(&bob, "/user/alice/f", 0o777)
    })
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Permission denied. user=bob is not the owner of inode=/user/alice/f"
    );
    run_op(&mut ns, |ns| {
        ns.plan_set_owner(&alice, "/user/alice/f", None, Some("eng"))
    })
    .unwrap();
    assert_eq!(
        ns.get_file_info(&alice, "/user/alice/f")
            .unwrap()
            .unwrap()
            .group,
        "eng"
    );
    let e = run_op(&mut ns, |ns| {
        ns.plan_set_owner(&alice, "/user/alice/f", None, Some("wheel"))
    })
    .unwrap_err();
    assert_eq!(e.to_string(), "User alice does not belong to wheel");
    let e = run_op(&mut ns, |ns| {
        ns.plan_set_owner(&alice, "/user/alice/f", Some("bob"), None)
    })
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "User alice is not a super user (non-super user cannot change owner)."
    );
    run_op(&mut ns, |ns| {
        ns.plan_set_owner(&su(), "/user/alice/f", Some("bob"), None)
    })
    .unwrap();
    assert_eq!(
        ns.get_file_info(&bob, "/user/alice/f")
            .unwrap()
            .unwrap()
            .owner,
        "bob"
    );
    let e = run_op(&mut ns, |ns| {
        ns.plan_set_owner(&su(), "/nope", Some("bob"), None)
    })
    .unwrap_err();
    assert_eq!(e.to_string(), "File does not exist: /nope");
    let e = run_op(&mut ns, |ns| {
        ns.plan_set_quota(&alice, "/user/alice", 10, -1, None)
    })
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Access denied for user alice. Superuser privilege is required"
    );
    let e = run_op(&mut ns, |ns| ns.plan_set_times(&alice, "/user", 5, 5)).unwrap_err();
    assert!(e.to_string().contains("access=WRITE"), "{e}");
}

#[test]
fn permissions_can_be_disabled() {
    let mut ns = setup();
    ns.set_config(NamespaceConfig {
        permissions_enabled: false,
        ..Default::default()
    });
    let bob = Caller::new("bob", &[]);
    mkdirs(&mut ns, &bob, "/user/alice/bobs").unwrap();
    run_op(&mut ns, |ns| {
        ns.plan_set_owner(&bob, "/user/alice", Some("bob"), Some("x"))
    })
    .unwrap();
    assert_eq!(
        run(&mut ns, |ns| ns.plan_delete(&bob, "/tmp/a", false, 1)),
        Ok(true)
    );
    // Structure is still checked.
    let e = mkdirs(&mut ns, &bob, "/user/alice/f/z").unwrap_err();
    assert_eq!(
        e.java_class(),
        "org.apache.hadoop.fs.ParentNotDirectoryException"
    );
}

#[test]
fn mode_strings() {
    assert_eq!(mode_string(true, 0o755), "drwxr-xr-x");
    assert_eq!(mode_string(false, 0o640), "-rw-r-----");
    assert_eq!(mode_string(true, 0o1777), "drwxrwxrwt");
    assert_eq!(mode_string(true, 0o1770), "drwxrwx--T");
}

/// checkAccess: the permission check of a path, as FileSystem.access asks for it.
#[test]
fn check_access_answers_the_permission_check_of_a_path() {
    let mut ns = setup();
    let bob = Caller::new("bob", &[]);
    run_op(&mut ns, |ns| {
        ns.plan_set_permission(&su(), "/user/alice", 0o750)
    })
    .unwrap();
    let e = ns
        .check_path_access(&bob, "/user/alice", Access::READ)
        .unwrap_err();
    assert_eq!(
        e.java_class(),
        "org.apache.hadoop.security.AccessControlException"
    );
    assert!(e.to_string().contains("user=bob, access=READ"), "{e}");
    ns.check_path_access(&su(), "/user/alice", Access::ALL)
        .unwrap();
    ns.check_path_access(&bob, "/user", Access::READ_EXECUTE)
        .unwrap();
    let e = ns
        .check_path_access(&bob, "/nope", Access::READ)
        .unwrap_err();
    assert_eq!(e.java_class(), "java.io.FileNotFoundException");
    assert_eq!(e.to_string(), "Path not found");
}
