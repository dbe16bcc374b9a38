//! HDFS ACLs with the real clients on an HA pair: the Java shell's `-setfacl` (-m, -x,
//! -b, -k, --set, -R, default: entries) and `-getfacl` (entries and `#effective:`),
//! `-ls` showing '+', and what another user (HADOOP_USER_NAME) may then do — granted
//! by a named-user or named-group entry, denied once the mask removes it, a default ACL
//! inherited by new files and directories; hdfs-native's ACL calls; the same ACLs and
//! outcomes after a failover and after both NameNodes restart (from a checkpoint plus
//! edits); bad specs get Hadoop's AclException text and the shell's exit code.

use std::time::{Duration, Instant};

use hafs_tests::{fsimage_txids, python, CmdOutput, MiniCluster, TempDir};

/// The shell run as `user` (simple auth: HADOOP_USER_NAME).
fn as_user(c: &MiniCluster, user: &str, args: &[&str]) -> CmdOutput {
    c.shell().run_as(user, args)
}

/// `-getfacl` output without the trailing blank line.
fn getfacl(c: &MiniCluster, path: &str) -> String {
    let out = c.shell().run(&["-getfacl", path]).ok();
    out.stdout.trim_end().to_string()
}

/// The mode column of `-ls -d`.
fn mode_of(c: &MiniCluster, path: &str) -> String {
    let out = c.shell().run(&["-ls", "-d", path]).ok();
    out.stdout
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

const DIR_ACL: &str = "# file: /acl/dir\n# owner: alice\n# group: staff\nuser::rwx\n\
user:bob:r-x\ngroup::r-x\ngroup:eng:--x\nmask::r-x\nother::---\ndefault:user::rwx\n\
default:user:bob:rwx\ndefault:group::r-x\ndefault:mask::rwx\ndefault:other::---";

/// What every NameNode that serves the namespace must show and enforce.
fn check_acls_and_outcomes(c: &MiniCluster) {
    assert_eq!(getfacl(c, "/acl/dir"), DIR_ACL);
    assert_eq!(mode_of(c, "/acl/dir"), "drwxr-x---+");
    assert_eq!(
        getfacl(c, "/acl/dir/new"),
        "# file: /acl/dir/new\n# owner: alice\n# group: staff\nuser::rw-\n\
         user:bob:rwx\t#effective:rw-\ngroup::r-x\t#effective:r--\nmask::rw-\nother::---"
    );
    // bob: named-user entries on the directory and the inherited one on the file.
    let cat = as_user(c, "bob", &["-cat", "/acl/dir/new"]).ok();
    assert_eq!(cat.stdout, "");
    // carol (group eng): may traverse (--x) but not list.
    as_user(c, "carol", &["-cat", "/acl/dir/data"]).ok();
    as_user(c, "carol", &["-ls", "/acl/dir"])
        .expect_code(1)
        .expect_stderr_contains(
            "Permission denied: user=carol, access=READ_EXECUTE, \
             inode=\"/acl/dir\":alice:staff:drwxr-x---+",
        );
    // dave: no entry, other is ---.
    as_user(c, "dave", &["-cat", "/acl/dir/data"])
        .expect_code(1)
        .expect_stderr_contains("Permission denied: user=dave, access=EXECUTE");
}

#[test]
fn java_setfacl_getfacl_and_enforcement_survive_failover_and_restart() {
    let mut c = MiniCluster::builder()
        .label("acls")
        .namenodes(2)
        .journalnodes(3)
        .datanodes(1)
        .conf(
            "hadoop.user.group.static.mapping.overrides",
            "alice=staff;bob=users;carol=eng;dave=users",
        )
        .conf("dfs.replication", "1")
        // Standby checkpoints often, so the restarts below load ACLs from an fsimage.
        .conf("dfs.namenode.checkpoint.txns", "10")
        .conf("dfs.namenode.checkpoint.check.period", "1")
        .start();
    c.wait_for_state(0, "active", Duration::from_secs(30));
    let tmp = TempDir::new("acls-local");
    let local = tmp.path().join("data");
    std::fs::write(&local, b"secret\n").unwrap();

    c.shell().run(&["-mkdir", "-p", "/acl/dir"]).ok();
    c.shell()
        .run(&["-put", local.to_str().unwrap(), "/acl/dir/data"])
        .ok();
    c.shell().run(&["-chown", "-R", "alice:staff", "/acl"]).ok();
    c.shell().run(&["-chmod", "750", "/acl/dir"]).ok();
    c.shell().run(&["-chmod", "640", "/acl/dir/data"]).ok();

    // Without an ACL bob (other) cannot even traverse.
    as_user(&c, "bob", &["-cat", "/acl/dir/data"])
        .expect_code(1)
        .expect_stderr_contains(
            "Permission denied: user=bob, access=EXECUTE, \
             inode=\"/acl/dir\":alice:staff:drwxr-x---",
        );
    assert_eq!(
        getfacl(&c, "/acl/dir/data"),
        "# file: /acl/dir/data\n# owner: alice\n# group: staff\nuser::rw-\ngroup::r--\nother::---"
    );
    assert_eq!(mode_of(&c, "/acl/dir/data"), "-rw-r-----");

    // -m by the owner: named-user entries grant bob.
    as_user(&c, "alice", &["-setfacl", "-m", "user:bob:r-x", "/acl/dir"]).ok();
    as_user(
        &c,
        "alice",
        &["-setfacl", "-m", "user:bob:r--", "/acl/dir/data"],
    )
    .ok();
    assert_eq!(mode_of(&c, "/acl/dir"), "drwxr-x---+");
    let ls = c.shell().run(&["-ls", "/acl/dir"]).ok();
    assert!(
        ls.stdout_lines()
            .iter()
            .any(|l| l.starts_with("-rw-r-----+") && l.ends_with("/acl/dir/data")),
        "{ls}"
    );
    assert_eq!(
        getfacl(&c, "/acl/dir/data"),
        "# file: /acl/dir/data\n# owner: alice\n# group: staff\nuser::rw-\nuser:bob:r--\n\
         group::r--\nmask::r--\nother::---"
    );
    let cat = as_user(&c, "bob", &["-cat", "/acl/dir/data"]).ok();
    assert_eq!(cat.stdout, "secret\n");
    // Not the owner: bob may not change the ACL.
    as_user(
        &c,
        "bob",
        &["-setfacl", "-m", "user:bob:rwx", "/acl/dir/data"],
    )
    .expect_code(1)
    .expect_stderr_contains("Permission denied. user=bob is not the owner of inode=/acl/dir/data");

    // The mask (chmod's group bits) takes bob's access away: getfacl shows the
    // effective permission, and the denial ends in '+'.
    as_user(&c, "alice", &["-chmod", "700", "/acl/dir"]).ok();
    assert!(
        getfacl(&c, "/acl/dir").contains("user:bob:r-x\t#effective:---"),
        "{}",
        getfacl(&c, "/acl/dir")
    );
    as_user(&c, "bob", &["-cat", "/acl/dir/data"])
        .expect_code(1)
        .expect_stderr_contains(
            "Permission denied: user=bob, access=EXECUTE, \
             inode=\"/acl/dir\":alice:staff:drwx------+",
        );
    as_user(&c, "alice", &["-setfacl", "-m", "mask::r-x", "/acl/dir"]).ok();
    as_user(&c, "bob", &["-cat", "/acl/dir/data"]).ok();

    // -x removes one entry, -b all of them.
    as_user(
        &c,
        "alice",
        &["-setfacl", "-x", "user:bob", "/acl/dir/data"],
    )
    .ok();
    as_user(&c, "bob", &["-cat", "/acl/dir/data"])
        .expect_code(1)
        .expect_stderr_contains("access=READ, inode=\"/acl/dir/data\":alice:staff:-rw-r-----");
    as_user(
        &c,
        "alice",
        &["-setfacl", "-m", "group:eng:r--", "/acl/dir/data"],
    )
    .ok();
    assert_eq!(mode_of(&c, "/acl/dir/data"), "-rw-r-----+");
    as_user(&c, "alice", &["-setfacl", "-b", "/acl/dir/data"]).ok();
    assert_eq!(mode_of(&c, "/acl/dir/data"), "-rw-r-----");
    // --set replaces the access ACL whole; a named group grants carol.
    as_user(
        &c,
        "alice",
        &[
            "-setfacl",
            "--set",
            "user::rw-,group::r--,group:eng:r--,other::---",
            "/acl/dir/data",
        ],
    )
    .ok();
    as_user(
        &c,
        "alice",
        &["-setfacl", "-m", "group:eng:--x", "/acl/dir"],
    )
    .ok();
    as_user(&c, "carol", &["-cat", "/acl/dir/data"]).ok();

    // default: entries, inherited by what alice creates next.
    as_user(
        &c,
        "alice",
        &["-setfacl", "-m", "default:user:bob:rwx", "/acl/dir"],
    )
    .ok();
    assert_eq!(getfacl(&c, "/acl/dir"), DIR_ACL);
    as_user(&c, "alice", &["-touchz", "/acl/dir/new"]).ok();
    as_user(&c, "alice", &["-mkdir", "/acl/dir/sub"]).ok();
    let sub = getfacl(&c, "/acl/dir/sub");
    assert!(
        sub.contains("user:bob:rwx\n") && sub.contains("default:user:bob:rwx"),
        "{sub}"
    );
    // bob writes in the new directory through the inherited entry (mask rwx: the
    // shell sent mode 0777 unmasked, and the default ACL, not the umask, filters it).
    assert_eq!(mode_of(&c, "/acl/dir/sub"), "drwxrwx---+");
    as_user(&c, "bob", &["-touchz", "/acl/dir/sub/bobs"]).ok();
    check_acls_and_outcomes(&c);

    // -R: the directory and everything below it.
    // (bob's file too: as the superuser.)
    c.shell()
        .run(&["-setfacl", "-R", "-m", "user:dave:r-x", "/acl/dir/sub"])
        .ok();
    for p in ["/acl/dir/sub", "/acl/dir/sub/bobs"] {
        let acl = getfacl(&c, p);
        assert!(acl.contains("user:dave:r-x"), "{p}: {acl}");
    }
    // -k drops the default ACL only.
    as_user(&c, "alice", &["-setfacl", "-k", "/acl/dir/sub"]).ok();
    let sub = getfacl(&c, "/acl/dir/sub");
    assert!(
        !sub.contains("default:") && sub.contains("user:dave:r-x"),
        "{sub}"
    );

    // Bad specs: Hadoop's AclException text, the shell's exit code 1, nothing changed.
    let many: Vec<String> = (0..33).map(|i| format!("user:u{i}:r--")).collect();
    let many = many.join(",");
    let refusals: [(&[&str], &str); 5] = [
        (
            &["-m", "default:user:bob:rwx", "/acl/dir/data"],
            "Invalid ACL: only directories may have a default ACL.",
        ),
        (
            &["-x", "mask::", "/acl/dir"],
            "Invalid ACL: mask is required, but it was deleted.",
        ),
        (
            &["--set", "user::rwx,group::r-x", "/acl/dir/data"],
            "Invalid ACL: the user, group and other entries are required.",
        ),
        (
            &[
                "--set",
                "user::rwx,user:bob:rwx,user:bob:r--,group::r-x,other::---",
                "/acl/dir/data",
            ],
            "Invalid ACL: multiple entries with same scope, type and name.",
        ),
        (
            &["-m", &many, "/acl/dir/data"],
            "Invalid ACL: ACL spec has 33 entries, which exceeds maximum of 32.",
        ),
    ];
    for (args, words) in refusals {
        let mut full = vec!["-setfacl"];
        full.extend_from_slice(args);
        let out = as_user(&c, "alice", &full).expect_code(1);
        assert!(
            out.stderr.contains(&format!("setfacl: {words}")),
            "{args:?}: {out}"
        );
    }
    assert_eq!(getfacl(&c, "/acl/dir"), DIR_ACL);

    // hdfs-native reads the same ACL and changes it through its own calls.
    let script = "import os\nfrom hdfs_native import Client, AclEntry\n\
        c = Client(os.environ['HAFS_FS_URI'])\n\
        s = c.get_acl_status('/acl/dir')\n\
        print(s.owner, s.group, oct(s.permission), s.sticky)\n\
        for e in s.entries:\n    print(e.scope, e.type, e.name, e.permissions)\n\
        c.modify_acl_entries('/acl/dir/data', [AclEntry('user', 'access', 'r--', 'erin')])\n\
        c.remove_acl_entries('/acl/dir/data', [AclEntry('group', 'access', 'r--', 'eng')])\n";
    let out = python(&c, script).ok();
    let lines = out.stdout_lines();
    assert_eq!(lines[0], "alice staff 0o750 False", "{out}");
    assert_eq!(
        lines[1..].to_vec(),
        [
            "access user bob r-x",
            "access group None r-x",
            "access group eng --x",
            "default user None rwx",
            "default user bob rwx",
            "default group None r-x",
            "default mask None rwx",
            "default other None ---",
        ],
        "{out}"
    );
    let data = getfacl(&c, "/acl/dir/data");
    assert!(
        data.contains("user:erin:r--") && !data.contains("group:eng"),
        "{data}"
    );
    // Put carol's entry back for the checks after failover.
    as_user(
        &c,
        "alice",
        &["-setfacl", "-m", "group:eng:r--", "/acl/dir/data"],
    )
    .ok();
    let before_restart = getfacl(&c, "/acl/dir/data");

    // The Standby tailed every change: after a failover the new Active shows and
    // enforces the same ACLs.
    c.failover(0, 1);
    c.wait_for_state(1, "active", Duration::from_secs(30));
    check_acls_and_outcomes(&c);
    assert_eq!(getfacl(&c, "/acl/dir/data"), before_restart);

    // Both NameNodes restart: from the latest checkpoint (written after the ACLs) and
    // the edits after it.
    let last_acl_txid = c.nn_last_txid(1).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while fsimage_txids(c.nn_name_dir_of(1))
        .last()
        .copied()
        .unwrap_or(0)
        < last_acl_txid.saturating_sub(10)
    {
        assert!(
            Instant::now() < deadline,
            "no checkpoint after txid {last_acl_txid}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    c.restart_nn(0);
    c.restart_nn(1);
    c.wait_for_state(0, "standby", Duration::from_secs(60));
    c.wait_for_state(1, "standby", Duration::from_secs(60));
    c.transition_to_active(0);
    c.wait_for_state(0, "active", Duration::from_secs(30));
    check_acls_and_outcomes(&c);
    assert_eq!(getfacl(&c, "/acl/dir/data"), before_restart);
}

#[test]
fn acls_disabled_answer_hadoops_acl_exception() {
    let c = MiniCluster::builder()
        .label("acls-off")
        .datanodes(0)
        .conf("dfs.namenode.acls.enabled", "false")
        .start();
    c.shell().run(&["-mkdir", "/d"]).ok();
    let words = "The ACL operation has been rejected.  Support for ACLs has been disabled \
                 by setting dfs.namenode.acls.enabled to false.";
    c.shell()
        .run(&["-setfacl", "-m", "user:bob:rwx", "/d"])
        .expect_code(1)
        .expect_stderr_contains(words);
    // getfacl of an inode without an ACL never asks the NameNode; the call itself
    // is refused.
    let out = python(
        &c,
        "import os\nfrom hdfs_native import Client\nc = Client(os.environ['HAFS_FS_URI'])\n\
         try:\n    c.get_acl_status('/d')\nexcept Exception as e:\n    print(e)\n",
    )
    .ok();
    assert!(out.stdout.contains("AclException"), "{out}");
    assert!(
        out.stdout.contains("Support for ACLs has been disabled"),
        "{out}"
    );
}
