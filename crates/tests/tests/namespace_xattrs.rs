//! Extended attributes with the real Java shell (`-setfattr`, `-getfattr`) on an HA
//! pair: text, hex (0x) and base64 (0s) values, a binary value round trip, the
//! CREATE / REPLACE flags through Hadoop's FileSystem API, the per-inode and size
//! limits answered with Hadoop's exceptions, another user refused by the permission
//! bits, trusted.* refused to a non-superuser; the attributes survive a failover (the
//! Standby tailed them) and a restart of both NameNodes (fsimage + edits).
//!
//! And the ClientProtocol methods hafs does not implement: `hadoop fs -expunge` runs
//! clean (it lists encryption zones and trash roots), the erasure coding and
//! encryption zone queries answer as an HDFS without them (through Hadoop's API and
//! Apache's `hdfs ec`, `crypto`, `lsSnapshottableDir`, `dfsadmin -listOpenFiles`), and
//! each kind of refused call comes back as one line naming its exception, never
//! `Unknown method`.
//!
//! hdfs-native (0.14) exposes no xattr call in Python, so the Java client is the only
//! real client here.

use std::time::Duration;

use hafs_tests::{hafs_cmd, hdfs_tool, run_java_class, MiniCluster, TempDir};

/// Hadoop's per-inode limit lowered so the test reaches it in a few calls (the key is
/// read, the check is the same).
const MAX_XATTRS: usize = 3;

/// `-getfattr -d` (or other args) output, without the `# file:` header line.
fn getfattr(c: &MiniCluster, args: &[&str]) -> Vec<String> {
    let mut full = vec!["-getfattr"];
    full.extend_from_slice(args);
    let out = c.shell().run(&full).ok();
    out.stdout_lines()
        .into_iter()
        .filter(|l| !l.starts_with("# file:") && !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Everything the test set, as `-getfattr -d -e hex` prints it.
fn expected_hex() -> Vec<String> {
    sorted(vec![
        "user.text=0x68656c6c6f20776f726c64".to_string(),
        "user.bin=0x00ff10800a".to_string(),
        "user.b64=0x68692074686572652e".to_string(),
    ])
}

fn check_all(c: &MiniCluster, when: &str) {
    assert_eq!(
        sorted(getfattr(c, &["-d", "-e", "hex", "/x/f"])),
        expected_hex(),
        "{when}"
    );
    assert_eq!(
        getfattr(c, &["-n", "user.dirattr", "/x"]),
        ["user.dirattr=\"on the dir\""],
        "{when}"
    );
    assert_eq!(
        getfattr(c, &["-n", "trusted.admin", "-e", "text", "/x/f2"]),
        ["trusted.admin=\"root only\""],
        "{when}"
    );
}

#[test]
fn java_shell_xattrs_limits_access_and_failover_restart() {
    let mut c = MiniCluster::builder()
        .label("xattrs")
        .namenodes(2)
        .journalnodes(3)
        .datanodes(1)
        .conf(
            "dfs.namenode.fs-limits.max-xattrs-per-inode",
            MAX_XATTRS.to_string(),
        )
        .start();
    c.wait_for_state(0, "active", Duration::from_secs(30));
    let tmp = TempDir::new("xattrs-local");
    let local = tmp.path().join("f");
    std::fs::write(&local, b"data").unwrap();
    c.shell().run(&["-mkdir", "-p", "/x"]).ok();
    c.shell()
        .run(&["-put", local.to_str().unwrap(), "/x/f"])
        .ok();
    c.shell()
        .run(&["-put", local.to_str().unwrap(), "/x/f2"])
        .ok();

    // Text, hex and base64 values in; text, hex and base64 out.
    c.shell()
        .run(&["-setfattr", "-n", "user.text", "-v", "hello world", "/x/f"])
        .ok();
    c.shell()
        .run(&["-setfattr", "-n", "user.bin", "-v", "0x00ff10800a", "/x/f"])
        .ok();
    c.shell()
        .run(&[
            "-setfattr",
            "-n",
            "USER.b64",
            "-v",
            "0saGkgdGhlcmUu",
            "/x/f",
        ])
        .ok();
    assert_eq!(
        getfattr(&c, &["-n", "user.text", "/x/f"]),
        ["user.text=\"hello world\""]
    );
    assert_eq!(
        getfattr(&c, &["-n", "user.text", "-e", "base64", "/x/f"]),
        ["user.text=0saGVsbG8gd29ybGQ="]
    );
    assert_eq!(
        getfattr(&c, &["-n", "user.b64", "-e", "text", "/x/f"]),
        ["user.b64=\"hi there.\""]
    );
    // The binary value round-trips byte for byte (base64 of 00 ff 10 80 0a).
    assert_eq!(
        getfattr(&c, &["-n", "user.bin", "-e", "base64", "/x/f"]),
        ["user.bin=0sAP8QgAo="]
    );
    assert_eq!(
        sorted(getfattr(&c, &["-d", "-e", "hex", "/x/f"])),
        expected_hex()
    );
    // A name is case-sensitive (the prefix is not): user.TEXT is another attribute.
    c.shell()
        .run(&["-getfattr", "-n", "user.TEXT", "/x/f"])
        .expect_code(1)
        .expect_stderr_contains("At least one of the attributes provided was not found.");
    // No value: the attribute is there, without `=`.
    c.shell()
        .run(&["-setfattr", "-n", "user.dirattr", "/x"])
        .ok();
    assert_eq!(getfattr(&c, &["-d", "/x"]), ["user.dirattr"]);
    c.shell()
        .run(&["-setfattr", "-n", "user.dirattr", "-v", "on the dir", "/x"])
        .ok();

    // CREATE and REPLACE alone, through Hadoop's FileSystem API.
    let flags = run_java_class(&c, "HafsClientProtocolCalls", &["flags", "/x/f2"]).ok();
    assert_eq!(
        flags.stdout_lines(),
        [
            "replace-missing: java.io.IOException: XAttr: flag does not exist. The CREATE flag must be specified.",
            "create: ok",
            "create-again: java.io.IOException: XAttr: flag already exists. The REPLACE flag must be specified.",
            "replace: ok",
            "value: two",
            "list: user.flag",
        ],
        "{flags}"
    );
    c.shell()
        .run(&["-setfattr", "-x", "user.flag", "/x/f2"])
        .ok();
    c.shell()
        .run(&["-setfattr", "-x", "user.flag", "/x/f2"])
        .expect_code(1)
        .expect_stderr_contains("No matching attributes found for remove operation");

    // Limits: the per-inode count, then the size (name + value over 16384 bytes).
    c.shell()
        .run(&["-setfattr", "-n", "user.fourth", "-v", "x", "/x/f"])
        .expect_code(1)
        .expect_stderr_contains(&format!(
            "Cannot add additional XAttr to inode, would exceed limit of {MAX_XATTRS}"
        ));
    let big = format!("0x{}", "ab".repeat(16384));
    c.shell()
        .run(&["-setfattr", "-n", "user.big", "-v", &big, "/x/f2"])
        .expect_code(1)
        .expect_stderr_contains(
            "The XAttr is too big. The maximum combined size of the name and value is 16384, \
             but the total size is 16387",
        );
    // A bad prefix is refused by the shell itself (a usage error) with Hadoop's words.
    c.shell().run(&["-setfattr", "-n", "color", "-v", "x", "/x/f2"])
        .expect_code(255)
        .expect_stderr_contains(
            "An XAttr name must be prefixed with user/trusted/security/system/raw, followed by a '.'",
        );

    // Another user: reads user.* of a world-readable file, cannot write it (0644), and
    // cannot read once the file is 0600; trusted.* is refused to them and invisible.
    assert_eq!(
        c.shell()
            .run_as("bob", &["-getfattr", "-n", "user.text", "/x/f"])
            .ok()
            .stdout_lines()
            .last()
            .copied(),
        Some("user.text=\"hello world\"")
    );
    c.shell()
        .run_as("bob", &["-setfattr", "-n", "user.bob", "-v", "1", "/x/f2"])
        .expect_code(1)
        .expect_stderr_contains("Permission denied: user=bob, access=WRITE");
    c.shell()
        .run_as("bob", &["-setfattr", "-x", "user.text", "/x/f"])
        .expect_code(1)
        .expect_stderr_contains("Permission denied: user=bob, access=WRITE");
    c.shell()
        .run_as("bob", &["-setfattr", "-n", "trusted.t", "-v", "1", "/x/f2"])
        .expect_code(1)
        .expect_stderr_contains("User doesn't have permission for xattr: trusted.t");
    c.shell()
        .run(&[
            "-setfattr",
            "-n",
            "trusted.admin",
            "-v",
            "root only",
            "/x/f2",
        ])
        .ok();
    let bob_view = c.shell().run_as("bob", &["-getfattr", "-d", "/x/f2"]).ok();
    assert!(!bob_view.stdout.contains("trusted."), "{bob_view}");
    // A file marked unreadable by the superuser: its data is refused to the superuser
    // (the marker has no value and cannot be removed); others still read it.
    c.shell()
        .run(&["-put", local.to_str().unwrap(), "/x/secret"])
        .ok();
    c.shell()
        .run(&[
            "-setfattr",
            "-n",
            "security.hdfs.unreadable.by.superuser",
            "/x/secret",
        ])
        .ok();
    c.shell()
        .run(&["-cat", "/x/secret"])
        .expect_code(1)
        .expect_stderr_contains("since the superuser is not allowed to perform this operation");
    assert_eq!(
        c.shell().run_as("bob", &["-cat", "/x/secret"]).ok().stdout,
        "data"
    );
    c.shell()
        .run(&[
            "-setfattr",
            "-x",
            "security.hdfs.unreadable.by.superuser",
            "/x/secret",
        ])
        .expect_code(1)
        .expect_stderr_contains("can not be deleted");
    c.shell().run(&["-chmod", "600", "/x/f"]).ok();
    c.shell()
        .run_as("bob", &["-getfattr", "-d", "/x/f"])
        .expect_code(1)
        .expect_stderr_contains("Permission denied: user=bob, access=READ");
    c.shell().run(&["-chmod", "644", "/x/f"]).ok();
    check_all(&c, "before failover");

    // The Standby tailed every change: after a failover the new Active has them.
    c.failover(0, 1);
    c.wait_for_state(1, "active", Duration::from_secs(30));
    check_all(&c, "after failover");

    // Into an fsimage on both NameNodes, one more change in the edits after it, then
    // both NameNodes restart: the image and the edits bring everything back.
    hafs_cmd(&c, &["dfsadmin", "-safemode", "enter"]).ok();
    hafs_cmd(&c, &["dfsadmin", "-saveNamespace"]).ok();
    hafs_cmd(&c, &["dfsadmin", "-safemode", "leave"]).ok();
    c.shell()
        .run(&["-setfattr", "-x", "user.dirattr", "/x"])
        .ok();
    c.shell()
        .run(&["-setfattr", "-n", "user.dirattr", "-v", "on the dir", "/x"])
        .ok();
    c.stop_nn(0);
    c.stop_nn(1);
    c.start_nn(0);
    c.start_nn(1);
    c.wait_for_state(0, "standby", Duration::from_secs(60));
    c.wait_for_state(1, "standby", Duration::from_secs(60));
    c.transition_to_active(0);
    c.wait_for_state(0, "active", Duration::from_secs(30));
    check_all(&c, "after both NameNodes restarted");
}

#[test]
fn what_hafs_does_not_offer_answers_cleanly() {
    let c = MiniCluster::builder()
        .label("absent-features")
        .namenodes(2)
        .journalnodes(3)
        .datanodes(1)
        .conf("fs.trash.interval", "10")
        .start();
    c.wait_for_state(0, "active", Duration::from_secs(30));
    c.shell().run(&["-mkdir", "-p", "/d"]).ok();

    // -expunge lists encryption zones and trash roots: it runs without a warning or a
    // stack trace.
    let expunge = c.shell().run(&["-expunge"]).ok();
    assert!(
        !expunge.stderr.contains("Exception") && !expunge.stderr.contains("WARN"),
        "{expunge}"
    );

    let calls = run_java_class(&c, "HafsClientProtocolCalls", &["absent", "/d"]).ok();
    let lines = calls.stdout_lines();
    let want = [
        "ec-policies: RS-6-3-1024k=DISABLED RS-3-2-1024k=DISABLED RS-LEGACY-6-3-1024k=DISABLED \
         XOR-2-1-1024k=DISABLED RS-10-4-1024k=DISABLED",
        "ec-policy: null",
        "ec-codecs: 0",
        "encryption-zones: false",
        "ez-for-path: null",
        "snapshottable-dirs: null",
        "trash-roots: 0",
        "open-files: 0",
        "enclosing-root: /",
        "access: ok",
        "access-missing: java.io.FileNotFoundException: Path not found",
        "create-snapshot: org.apache.hadoop.hdfs.protocol.SnapshotException: Directory is not \
         a snapshottable directory: /d",
        "satisfy-storage-policy: java.lang.UnsupportedOperationException: satisfyStoragePolicy \
         (the storage policy satisfier, Hadoop's SPS) is not supported by hafs: new blocks \
         follow the policy, existing replicas are not moved",
        "set-ec-policy: java.lang.UnsupportedOperationException: Erasure coding is not supported \
         by hafs: every file is replicated and no erasure coding policy can be enabled",
        "create-encryption-zone: java.io.IOException: Can't create an encryption zone since no \
         key provider is available (hafs does not support encryption zones)",
        "add-cache-pool: java.lang.UnsupportedOperationException: Centralized cache management \
         is not supported by hafs",
    ];
    assert_eq!(lines, want, "{calls}");
    assert!(!calls.stderr.contains("Unknown method"), "{calls}");

    // Apache's own admin tools (`hdfs ec`, `crypto`, `lsSnapshottableDir`, `dfsadmin
    // -listOpenFiles`) read the same answers: exit 0, nothing on stderr.
    let tool = |args: &[&str]| {
        let out = hdfs_tool(&c, args).ok();
        assert_eq!(out.stderr, "", "{out}");
        out.stdout_lines()
            .into_iter()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect::<Vec<String>>()
    };
    let policies = tool(&["ec", "-listPolicies"]);
    assert_eq!(policies.len(), 6, "{policies:?}");
    assert_eq!(policies[0], "Erasure Coding Policies:");
    assert!(
        policies[1..].iter().all(|l| l.ends_with("State=DISABLED")),
        "{policies:?}"
    );
    assert!(policies[1].starts_with(
        "ErasureCodingPolicy=[Name=RS-6-3-1024k, Schema=[ECSchema=[Codec=rs, numDataUnits=6, \
         numParityUnits=3]], CellSize=1048576, Id=1]"
    ));
    assert_eq!(
        tool(&["ec", "-getPolicy", "-path", "/d"]),
        ["The erasure coding policy of /d is unspecified"]
    );
    assert_eq!(
        tool(&["ec", "-listCodecs"]),
        ["No erasure coding codecs are supported on the cluster."]
    );
    assert!(tool(&["crypto", "-listZones"]).is_empty());
    assert!(tool(&["lsSnapshottableDir"]).is_empty());
    let open = tool(&["dfsadmin", "-listOpenFiles"]);
    assert_eq!(open.len(), 1, "only the header: {open:?}");
    // A refusal through the shell: one line, no stack trace.
    let snap = c
        .shell()
        .run(&["-createSnapshot", "/d", "s1"])
        .expect_code(1);
    let err_lines: Vec<&str> = snap.stderr.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(
        err_lines,
        ["createSnapshot: Directory is not a snapshottable directory: /d"],
        "{snap}"
    );
}
