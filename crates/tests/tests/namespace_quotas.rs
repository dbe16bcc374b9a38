//! Quotas enforced, with the real clients on an HA pair: quotas set by `hafs dfsadmin`
//! and by Hadoop's own `hdfs dfsadmin`; the Java shell's creates, mkdirs, renames,
//! writes and setrep refused with Hadoop's exceptions and words once a quota would be
//! exceeded; `hadoop fs -count -q` (and `-q -h -v`, `-u`, `-t`) as HDFS prints it;
//! SSD and DISK type quotas charged by the files' storage policies (Java shell and
//! hdfs-native writers, WebHDFS's typeQuota); the same counts after a failover and
//! after a restarted NameNode replays the log.

use std::time::{Duration, Instant};

use hafs_tests::{
    hafs_cmd, hafs_dfs, hdfs_tool, test_bytes, ClientTarget, CmdOutput, MiniCluster, TempDir,
};

const MB: usize = 1 << 20;

/// `-count -q` fields of one path: QUOTA REM_QUOTA SPACE_QUOTA REM_SPACE_QUOTA
/// DIR_COUNT FILE_COUNT CONTENT_SIZE PATHNAME.
fn count_q(c: &MiniCluster, path: &str) -> Vec<String> {
    let out = c.shell().run(&["-count", "-q", path]).ok();
    let lines = out.stdout_lines();
    assert_eq!(lines.len(), 1, "{out}");
    lines[0].split_whitespace().map(str::to_string).collect()
}

/// `-count -q -t SSD,DISK` fields of one path: SSD_QUOTA REM_SSD_QUOTA DISK_QUOTA
/// REM_DISK_QUOTA PATHNAME.
fn type_counts(c: &MiniCluster, path: &str) -> Vec<String> {
    let out = c
        .shell()
        .run(&["-count", "-q", "-t", "SSD,DISK", path])
        .ok();
    let lines = out.stdout_lines();
    assert_eq!(lines.len(), 1, "{out}");
    lines[0].split_whitespace().map(str::to_string).collect()
}

/// The whole `-count -q` output for the quota directories, and the type quotas of /t
/// (to compare across a failover and a restart).
fn counts(c: &MiniCluster) -> String {
    let plain = c
        .shell()
        .run(&["-count", "-q", "/", "/q", "/s", "/r", "/t"])
        .ok()
        .stdout;
    format!("{plain}{}", type_counts(c, "/t").join(" "))
}

fn put_local(tmp: &TempDir, name: &str, data: &[u8]) -> String {
    let p = tmp.path().join(name);
    std::fs::write(&p, data).unwrap();
    p.to_str().unwrap().to_string()
}

fn as_alice(c: &MiniCluster) -> ClientTarget {
    let mut t = c.as_user("alice");
    t.env.push(("HADOOP_USER_NAME".into(), "alice".into()));
    t
}

/// hafs's dfsadmin and Hadoop's print the same error lines (but for the tool's name in
/// the usage line) and exit alike.
fn same_as_hadoop(c: &MiniCluster, target: Option<&ClientTarget>, args: &[&str]) -> CmdOutput {
    let mut full = vec!["dfsadmin"];
    full.extend_from_slice(args);
    let (ours, theirs) = match target {
        Some(t) => (hafs_cmd(t, &full), hdfs_tool(t, &full)),
        None => (hafs_cmd(c, &full), hdfs_tool(c, &full)),
    };
    assert_eq!(
        ours.code(),
        theirs.code(),
        "{args:?}\nhafs: {ours}\nhdfs: {theirs}"
    );
    let errors = |o: &CmdOutput| -> Vec<String> {
        o.stderr
            .lines()
            .filter(|l| !l.contains(" WARN ") && !l.trim().is_empty())
            .map(|l| l.replace("Usage: hdfs dfsadmin", "Usage: hafs dfsadmin"))
            .collect()
    };
    assert_eq!(errors(&ours), errors(&theirs), "{args:?}");
    assert_eq!(ours.stdout.trim(), theirs.stdout.trim(), "{args:?}");
    ours
}

#[test]
fn quotas_are_enforced_counted_and_survive_failover_and_restart() {
    let mut c = MiniCluster::builder()
        .label("quotas")
        .namenodes(2)
        .journalnodes(3)
        .datanodes(3)
        .start();
    c.wait_for_state(0, "active", Duration::from_secs(30));
    let tmp = TempDir::new("quota-local");
    c.shell()
        .run(&["-mkdir", "-p", "/q", "/s", "/r", "/t", "/src/x", "/src/y"])
        .ok();

    // ---- dfsadmin: hafs's and Hadoop's agree on arguments and refusals.
    c.shell().run(&["-touchz", "/src/file"]).ok();
    for args in [
        &["-setQuota"][..],
        &["-setQuota", "5"],
        &["-setQuota", "abc", "/q"],
        &["-setQuota", "-5", "/q"],
        &["-setQuota", "0", "/q"],
        &["-setQuota", "5", "/missing"],
        &["-setQuota", "5", "/src/file"],
        &["-clrQuota"],
        &["-setSpaceQuota", "1z", "/q"],
        &["-setSpaceQuota", "1k", "-storageType", "FOO", "/q"],
        &["-setSpaceQuota", "1k", "-storageType", "RAM_DISK", "/q"],
        &["-clrSpaceQuota", "-storageType", "FOO", "/q"],
        &["-clrSpaceQuota", "/missing", "/q"],
    ] {
        same_as_hadoop(&c, None, args);
    }
    let denied = same_as_hadoop(&c, Some(&as_alice(&c)), &["-setQuota", "5", "/q"]);
    assert_eq!(denied.code(), Some(255), "{denied}");
    assert!(
        denied
            .stderr
            .contains("setQuota: Access denied for user alice. Superuser privilege is required"),
        "{denied}"
    );

    // ---- namespace quota: /q holds itself and two more names.
    hafs_cmd(&c, &["dfsadmin", "-setQuota", "3", "/q"]).ok();
    assert_eq!(
        count_q(&c, "/q"),
        ["3", "2", "none", "inf", "1", "0", "0", "/q"]
    );
    c.shell().run(&["-mkdir", "/q/a"]).ok();
    c.shell().run(&["-touchz", "/q/f"]).ok();
    let words = "The NameSpace quota (directories and files) of directory /q is exceeded: quota=3 file count=4";
    c.shell()
        .run(&["-mkdir", "/q/b"])
        .expect_code(1)
        .expect_stderr_contains(&format!("mkdir: {words}"));
    c.shell()
        .run(&["-touchz", "/q/g"])
        .expect_code(1)
        .expect_stderr_contains(words);
    c.shell()
        .run(&["-mv", "/src/x", "/q/x"])
        .expect_code(1)
        .expect_stderr_contains(words);
    // hdfs-native's rename: the same exception class reaches another client.
    let native = hafs_tests::python(
        &c,
        "import os\nfrom hdfs_native import Client\nc = Client(os.environ['HAFS_FS_URI'])\n\
         try:\n    c.rename('/src/y', '/q/y')\n    print('renamed')\nexcept Exception as e:\n    print('refused', e)\n",
    )
    .ok();
    assert!(native.stdout.contains("refused"), "{native}");
    assert!(native.stdout.contains("NameSpace quota"), "{native}");
    // Moving within /q, and out of it, is always allowed; out frees a name.
    c.shell().run(&["-mv", "/q/a", "/q/a2"]).ok();
    c.shell().run(&["-mv", "/q/f", "/src/f"]).ok();
    c.shell().run(&["-mv", "/src/x", "/q/x"]).ok();
    assert_eq!(
        count_q(&c, "/q"),
        ["3", "0", "none", "inf", "3", "0", "0", "/q"]
    );

    // ---- space quota with Hadoop's own dfsadmin: 2.5 blocks of 1 MB at replication 1.
    hdfs_tool(&c, &["dfsadmin", "-setSpaceQuota", "2560k", "/s"]).ok();
    let data = test_bytes(7, 4 * MB);
    let local = put_local(&tmp, "big", &data);
    let put = c.shell().run(&[
        "-D",
        "dfs.blocksize=1048576",
        "-D",
        "dfs.replication=1",
        "-put",
        "-d",
        &local,
        "/s/big",
    ]);
    assert_eq!(put.code(), Some(1), "{put}");
    assert!(
        put.stderr.contains("DSQuotaExceededException")
            || put.stderr.contains(
                "The DiskSpace quota of /s is exceeded: quota = 2621440 B = 2.50 MB but diskspace consumed = 3145728 B = 3 MB"
            ),
        "{put}"
    );
    assert!(
        put.stderr.contains(
            "The DiskSpace quota of /s is exceeded: quota = 2621440 B = 2.50 MB but diskspace consumed = 3145728 B = 3 MB"
        ),
        "{put}"
    );
    // The writer is gone; its file keeps the blocks it completed once the lease is
    // recovered.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = hafs_cmd(
            &c,
            &["debug", "recoverLease", "-path", "/s/big", "-retries", "1"],
        );
        if r.success() {
            break;
        }
        assert!(Instant::now() < deadline, "lease never recovered: {r}");
        std::thread::sleep(Duration::from_millis(500));
    }
    let got = tmp.path().join("big-back");
    c.shell()
        .run(&["-get", "/s/big", got.to_str().unwrap()])
        .ok();
    let back = std::fs::read(&got).unwrap();
    assert_eq!(back.len(), 2 * MB, "the two completed blocks");
    assert!(back == data[..2 * MB], "the completed blocks' bytes");
    assert_eq!(
        count_q(&c, "/s"),
        ["none", "inf", "2621440", "524288", "1", "1", "2097152", "/s"]
    );

    // ---- setrep: more replicas take more space.
    let half = put_local(&tmp, "half", &test_bytes(8, MB / 2));
    c.shell()
        .run(&["-D", "dfs.blocksize=1048576", "-put", &half, "/r/g"])
        .ok();
    hafs_cmd(&c, &["dfsadmin", "-setSpaceQuota", "1280k", "/r"]).ok();
    c.shell().run(&["-setrep", "2", "/r/g"]).ok();
    c.shell().run(&["-setrep", "3", "/r/g"])
        .expect_code(1)
        .expect_stderr_contains(
            "The DiskSpace quota of /r is exceeded: quota = 1310720 B = 1.25 MB but diskspace consumed = 1572864 B = 1.50 MB",
        );
    assert_eq!(
        c.shell().run(&["-stat", "%r", "/r/g"]).ok().stdout.trim(),
        "2"
    );

    // ---- quota by storage type: each block's bytes count once per type the file's
    // policy chooses for its replication, wherever the replicas landed (these
    // DataNodes have DISK volumes only; ALL_SSD and ONE_SSD fall back to DISK).
    hdfs_tool(
        &c,
        &[
            "dfsadmin",
            "-setSpaceQuota",
            "3m",
            "-storageType",
            "SSD",
            "/t",
        ],
    )
    .ok();
    hafs_cmd(
        &c,
        &[
            "dfsadmin",
            "-setSpaceQuota",
            "512m",
            "-storageType",
            "DISK",
            "/t",
        ],
    )
    .ok();
    c.shell()
        .run(&["-mkdir", "/t/one", "/t/all", "/t/hot", "/t/plain"])
        .ok();
    hdfs_tool(
        &c,
        &[
            "storagepolicies",
            "-setStoragePolicy",
            "-path",
            "/t/one",
            "-policy",
            "ONE_SSD",
        ],
    )
    .ok();
    for (dir, policy) in [("/t/all", "ALL_SSD"), ("/t/hot", "HOT")] {
        hafs_cmd(
            &c,
            &[
                "storagepolicies",
                "-setStoragePolicy",
                "-path",
                dir,
                "-policy",
                policy,
            ],
        )
        .ok();
    }
    let put = |local: &str, repl: &str, dst: &str| {
        c.shell().run(&[
            "-D",
            "dfs.blocksize=1048576",
            "-D",
            &format!("dfs.replication={repl}"),
            "-put",
            "-d",
            local,
            dst,
        ])
    };
    // ONE_SSD x 3: 1 x SSD + 2 x DISK.
    put(
        &put_local(&tmp, "a", &test_bytes(11, 100_000)),
        "3",
        "/t/one/a",
    )
    .ok();
    // HOT x 3 by hdfs-native: 3 x DISK.
    let b = put_local(&tmp, "b", &test_bytes(12, 50_000));
    hafs_tests::python(
        &c,
        &format!(
            "import os\nfrom hdfs_native import Client, WriteOptions\n\
             c = Client(os.environ['HAFS_FS_URI'])\n\
             with c.create('/t/hot/b', WriteOptions(block_size=1048576, replication=3)) as w:\n    \
             w.write(open('{b}', 'rb').read())\n"
        ),
    )
    .ok();
    // ALL_SSD x 3: the open block counts 3 x 1 MB on SSD, past the 3 MB quota.
    put(&put_local(&tmp, "c", b"0123456789"), "3", "/t/all/c")
        .expect_code(1)
        .expect_stderr_contains(
            "Quota by storage type : SSD on path : /t is exceeded. quota = 3 MB but space consumed = 3.10 MB",
        );
    // The refused writer's empty file goes (as an operator would clean it up).
    c.shell().run(&["-rm", "/t/all/c"]).ok();
    // ALL_SSD x 1 fits; a file with no policy on its path charges no type.
    put(
        &put_local(&tmp, "d", &test_bytes(13, 2_000)),
        "1",
        "/t/all/d",
    )
    .ok();
    put(
        &put_local(&tmp, "e", &test_bytes(14, 3_000)),
        "3",
        "/t/plain/e",
    )
    .ok();
    // SSD: a 100000 + d 2000; DISK: a 2 x 100000 + b 3 x 50000.
    assert_eq!(
        type_counts(&c, "/t"),
        ["3145728", "3043728", "536870912", "536520912", "/t"]
    );
    // A policy set on a directory recounts its files at once; a file moved under no
    // policy leaves the type counts.
    hafs_cmd(
        &c,
        &[
            "storagepolicies",
            "-setStoragePolicy",
            "-path",
            "/t/hot",
            "-policy",
            "ONE_SSD",
        ],
    )
    .ok();
    c.shell().run(&["-mv", "/t/one/a", "/t/plain/a"]).ok();
    // SSD: b 50000 + d 2000; DISK: b 2 x 50000.
    let expected_types = ["3145728", "3093728", "536870912", "536770912", "/t"];
    assert_eq!(type_counts(&c, "/t"), expected_types);
    // WebHDFS's content summary lists each type with a quota (the summary counts the
    // same bytes by type: every file here is closed).
    let url = format!(
        "http://{}/webhdfs/v1/t?op=GETCONTENTSUMMARY&user.name=alice",
        c.nn_http_addr()
    );
    let web = std::process::Command::new("curl")
        .args(["-sS", "--fail", &url])
        .output()
        .expect("curl must be installed");
    assert!(web.status.success(), "{web:?}");
    let summary: serde_json::Value = serde_json::from_slice(&web.stdout).unwrap();
    assert_eq!(
        summary["ContentSummary"]["typeQuota"],
        serde_json::json!({
            "DISK": {"consumed": 100_000, "quota": 536_870_912},
            "SSD": {"consumed": 52_000, "quota": 3_145_728},
        }),
        "{summary}"
    );
    // The plain counts: five directories, four files, their bytes.
    assert_eq!(
        count_q(&c, "/t"),
        ["none", "inf", "none", "inf", "5", "4", "155000", "/t"]
    );

    // ---- -count -q -h -v and -u as HDFS prints them.
    let hv = c.shell().run(&["-count", "-q", "-h", "-v", "/s"]).ok();
    let lines = hv.stdout_lines();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        [
            "QUOTA",
            "REM_QUOTA",
            "SPACE_QUOTA",
            "REM_SPACE_QUOTA",
            "DIR_COUNT",
            "FILE_COUNT",
            "CONTENT_SIZE",
            "PATHNAME"
        ],
        "{hv}"
    );
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        ["none", "inf", "2.5", "M", "512", "K", "1", "1", "2", "M", "/s"],
        "{hv}"
    );
    let u = c.shell().run(&["-count", "-u", "/q"]).ok();
    assert_eq!(
        u.stdout.split_whitespace().collect::<Vec<_>>(),
        ["3", "0", "none", "inf", "/q"],
        "{u}"
    );
    // The root has HDFS's default namespace quota.
    let root = count_q(&c, "/");
    assert_eq!(root[0], i64::MAX.to_string(), "{root:?}");
    // hafs's own shell prints the same counts.
    let ours = hafs_dfs(&c, &["-count", "-q", "/q"]);
    assert_eq!(
        ours.stdout.split_whitespace().collect::<Vec<_>>(),
        ["3", "0", "none", "inf", "3", "0", "0", "/q"],
        "{ours}"
    );
    // -du is unaffected by quotas.
    let du = c.shell().run(&["-du", "-s", "/s"]).ok();
    assert_eq!(
        du.stdout.split_whitespace().collect::<Vec<_>>(),
        ["2097152", "2097152", "/s"],
        "{du}"
    );

    // ---- the same counts on the Standby after a failover, and after a restart.
    let before = counts(&c);
    c.failover(0, 1);
    c.wait_for_state(1, "active", Duration::from_secs(30));
    assert_eq!(counts(&c), before, "after failover");
    c.shell()
        .run(&["-mkdir", "/q/b"])
        .expect_code(1)
        .expect_stderr_contains(words);
    c.restart_nn(0);
    c.wait_for_state(0, "standby", Duration::from_secs(60));
    c.failover(1, 0);
    c.wait_for_state(0, "active", Duration::from_secs(30));
    assert_eq!(counts(&c), before, "after restart and replay");
    assert_eq!(type_counts(&c, "/t"), expected_types, "after restart");
    c.shell()
        .run(&["-mkdir", "/q/b"])
        .expect_code(1)
        .expect_stderr_contains(words);
    // Clearing the quotas lifts the refusals.
    hafs_cmd(&c, &["dfsadmin", "-clrQuota", "/q"]).ok();
    hdfs_tool(&c, &["dfsadmin", "-clrSpaceQuota", "/s", "/r"]).ok();
    c.shell().run(&["-mkdir", "/q/b"]).ok();
    c.shell().run(&["-setrep", "3", "/r/g"]).ok();
    assert_eq!(
        count_q(&c, "/q")[..4],
        ["none", "inf", "none", "inf"].map(String::from)[..]
    );
}
