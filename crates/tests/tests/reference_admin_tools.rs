//! Hadoop's own admin tools against hafs, side by side with the reference HDFS: the
//! real `hdfs dfsadmin`, `hdfs haadmin`, `hdfs fsck` (which reads the NameNode's HTTP
//! `/fsck`) and `hdfs getconf` (scripts/hdfs, Apache Hadoop 3.5.0's classes) run
//! against a hafs HA nameservice and against real Apache HDFS (scripts/reference-hdfs.sh),
//! each command against both, and must exit with the same status and print the same
//! shape: the same lines and field names once what must differ (hosts, ports, ids,
//! sizes, dates, counts) is masked.
//!
//! One reference cluster and one hafs cluster serve every comparison (each reference
//! start is eleven JVMs); the two runs of a command go at once.

use std::time::{Duration, Instant};

use hafs_tests::{
    hafs_cmd, hdfs_tool, workspace_root, Backend, CmdOutput, ConfTarget, MiniCluster, ReferenceHdfs,
};

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// What of a tool's output must be equal on both clusters: every line with digit runs
/// as `N`, Java dates as `DATE`, hosts (`localhost`, `127.0.0.1`) as `HOST`, storage
/// ids as `DS-ID`, `(12.5 GB)`-style sizes as `(SIZE)`, runs of spaces as one (column
/// padding follows the addresses' lengths), trailing blanks dropped.
fn shape(text: &str) -> Vec<String> {
    text.lines().map(shape_line).collect()
}

fn shape_line(line: &str) -> String {
    // Storage ids first: they hold hex digits.
    let mut s = String::new();
    let mut rest = line;
    while let Some(i) = rest.find("DS-") {
        s.push_str(&rest[..i]);
        s.push_str("DS-ID");
        let tail = &rest[i + 3..];
        let end = tail
            .find(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
            .unwrap_or(tail.len());
        rest = &tail[end..];
    }
    s.push_str(rest);
    // Digit runs.
    let mut out = String::new();
    let mut in_digits = false;
    for c in s.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('N');
            }
            in_digits = true;
        } else {
            in_digits = false;
            out.push(c);
        }
    }
    let mut out = out.replace("localhost", "HOST").replace("N.N.N.N", "HOST");
    for wd in WEEKDAYS {
        for mon in MONTHS {
            let prefix = format!("{wd} {mon} N N:N:N ");
            while let Some(i) = out.find(&prefix) {
                // `<zone> N` (the zone is a word: UTC, CET, …).
                let after = &out[i + prefix.len()..];
                let zone_end = after.find(' ').unwrap_or(after.len());
                let year_end = (zone_end + 2).min(after.len());
                let end = i + prefix.len() + year_end;
                out.replace_range(i..end, "DATE");
            }
        }
    }
    for unit in ["B", "KB", "MB", "GB", "TB", "PB"] {
        out = out
            .replace(&format!("(N.N {unit})"), "(SIZE)")
            .replace(&format!("(N {unit})"), "(SIZE)");
    }
    let mut collapsed = String::new();
    for c in out.chars() {
        if c == ' ' && collapsed.ends_with(' ') {
            continue;
        }
        collapsed.push(c);
    }
    collapsed.trim_end().to_string()
}

/// The same command against both clusters, at once.
struct Both {
    reference: CmdOutput,
    hafs: CmdOutput,
}

fn both(reference: &ReferenceHdfs, hafs: &MiniCluster, args: &[&str]) -> Both {
    std::thread::scope(|s| {
        let r = s.spawn(|| hdfs_tool(reference, args));
        let h = hdfs_tool(hafs, args);
        Both {
            reference: r.join().expect("the reference run panicked"),
            hafs: h,
        }
    })
}

/// Runs `args` on both clusters; asserts the same exit status and the same shape of
/// stdout and stderr; returns both outputs for the caller's own checks.
#[track_caller]
fn same(reference: &ReferenceHdfs, hafs: &MiniCluster, args: &[&str]) -> Both {
    let b = both(reference, hafs, args);
    let what = format!(
        "`hdfs {}`\n--- reference HDFS:\n{}\n--- hafs:\n{}",
        args.join(" "),
        b.reference,
        b.hafs
    );
    assert_eq!(
        b.hafs.status.code(),
        b.reference.status.code(),
        "exit status differs: {what}"
    );
    assert_eq!(
        shape(&b.hafs.stdout),
        shape(&b.reference.stdout),
        "stdout shape differs: {what}"
    );
    assert_eq!(
        shape(&b.hafs.stderr),
        shape(&b.reference.stderr),
        "stderr shape differs: {what}"
    );
    b
}

/// Polls `haadmin -getServiceState nn` until it prints `state`.
#[track_caller]
fn wait_service_state(target: &impl ConfTarget, nn: &str, state: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = hdfs_tool(target, &["haadmin", "-getServiceState", nn]);
        if out.success() && out.stdout.trim() == state {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{nn} is not {state} after 60 s: {out}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn shapes_mask_only_what_must_differ() {
    assert_eq!(
        shape_line("Last contact: Sun Dec 06 10:35:03 UTC 2026"),
        "Last contact: DATE"
    );
    assert_eq!(
        shape_line("Name: 127.0.0.1:17813 (localhost)"),
        "Name: HOST:N (HOST)"
    );
    assert_eq!(
        shape_line("DFS Used: 24593 (24.02 KB)"),
        shape_line("DFS Used: 6 (6 B)")
    );
    assert_eq!(
        shape_line("localhost:8020                                     active    "),
        "HOST:N active"
    );
    assert_eq!(
        shape_line("0. BP-1-127.0.0.1-2:blk_3_4 len=6 Live_repl=3  [DatanodeInfoWithStorage[127.0.0.1:1,DS-0bb5cb23-7295,DISK]]"),
        "N. BP-N-HOST-N:blk_N_N len=N Live_repl=N [DatanodeInfoWithStorage[HOST:N,DS-ID,DISK]]"
    );
    // What a tool says is not masked.
    assert_ne!(
        shape_line("Safe mode is ON"),
        shape_line("Safe mode is OFF")
    );
    assert_ne!(
        shape_line("The filesystem under path '/' is HEALTHY"),
        shape_line("The filesystem under path '/' is CORRUPT")
    );
}

#[test]
fn hadoop_admin_tools_behave_the_same_on_hafs_as_on_hdfs() {
    // hafs first (seconds), then the reference cluster (a minute or more).
    let mut hafs = MiniCluster::builder()
        .label("admin-tools")
        .namenodes(2)
        .journalnodes(3)
        .datanodes(3)
        .automatic_failover(Backend::Journal)
        .start();
    let hafs_active = hafs.wait_for_new_active(&[], Duration::from_secs(60));
    for i in 0..2 {
        hafs.wait_for_block_reports(i, Duration::from_secs(60));
    }
    let reference = ReferenceHdfs::start("admin-tools");
    eprintln!("{}", reference.ready);

    // The same namespace on both: two directories and a small file at replication 3.
    let local = workspace_root().join("Cargo.toml");
    let local = local.to_str().unwrap();
    for target in [&reference as &dyn ConfTargetDyn, &hafs] {
        target.hdfs(&["dfs", "-mkdir", "-p", "/tools/empty"]);
        target.hdfs(&["dfs", "-put", local, "/tools/file"]);
    }

    // getconf: the nameservice's NameNode hosts and RPC addresses.
    let b = same(&reference, &hafs, &["getconf", "-namenodes"]);
    assert_eq!(shape(&b.hafs.stdout), vec!["HOST HOST"], "{}", b.hafs);
    let b = same(&reference, &hafs, &["getconf", "-nnRpcAddresses"]);
    assert_eq!(b.hafs.stdout_lines().len(), 2, "{}", b.hafs);

    // dfsadmin -report: the totals, both block sections, and each live DataNode's
    // fields, in Hadoop's order.
    let b = same(&reference, &hafs, &["dfsadmin", "-report"]);
    assert!(b.hafs.success(), "{}", b.hafs);
    assert!(b.hafs.stdout.contains("Live datanodes (3):"), "{}", b.hafs);
    assert!(
        b.hafs.stdout.contains("Erasure Coded Block Groups:"),
        "{}",
        b.hafs
    );

    // Safe mode on every NameNode of the nameservice, saveNamespace (which needs it),
    // rollEdits on the Active.
    let b = same(&reference, &hafs, &["dfsadmin", "-safemode", "get"]);
    assert_eq!(b.hafs.stdout_lines().len(), 2, "{}", b.hafs);
    assert!(b.hafs.stdout.contains("Safe mode is OFF in"), "{}", b.hafs);
    let b = same(&reference, &hafs, &["dfsadmin", "-safemode", "enter"]);
    assert!(b.hafs.stdout.contains("Safe mode is ON in"), "{}", b.hafs);
    let b = same(&reference, &hafs, &["dfsadmin", "-saveNamespace"]);
    assert!(
        b.hafs.stdout.contains("Save namespace successful for"),
        "{}",
        b.hafs
    );
    let b = same(&reference, &hafs, &["dfsadmin", "-safemode", "leave"]);
    assert!(!b.hafs.stdout.contains("Safe mode is ON"), "{}", b.hafs);
    let b = same(&reference, &hafs, &["dfsadmin", "-rollEdits"]);
    assert!(
        b.hafs.stdout.contains("Successfully rolled edit logs."),
        "{}",
        b.hafs
    );
    // A bad safe mode action: the usage on stderr, the same status.
    let b = same(&reference, &hafs, &["dfsadmin", "-safemode", "bogus"]);
    assert!(b.hafs.stderr.contains("Usage: hdfs dfsadmin"), "{}", b.hafs);

    // fsck (the NameNode's HTTP /fsck): the summary's field names and the verdict.
    let b = same(&reference, &hafs, &["fsck", "/"]);
    assert!(
        b.hafs
            .stdout
            .trim_end()
            .ends_with("The filesystem under path '/' is HEALTHY"),
        "{}",
        b.hafs
    );
    let b = same(
        &reference,
        &hafs,
        &["fsck", "/", "-files", "-blocks", "-locations"],
    );
    assert!(
        b.hafs.stdout.contains("/tools/file ") && b.hafs.stdout.contains("Live_repl=3"),
        "{}",
        b.hafs
    );
    // `hafs fsck` reads the same /fsck: the same report as Hadoop's client prints.
    for args in [
        &["fsck", "/", "-files", "-blocks", "-locations"][..],
        &["fsck", "/", "-list-corruptfileblocks"][..],
    ] {
        let theirs = hdfs_tool(&hafs, args);
        let ours = hafs_cmd(&hafs, args);
        assert_eq!(
            ours.status.code(),
            theirs.status.code(),
            "hdfs:\n{theirs}\nhafs:\n{ours}"
        );
        assert_eq!(
            shape(&ours.stdout),
            shape(&theirs.stdout),
            "hdfs:\n{theirs}\nhafs:\n{ours}"
        );
    }
    // No corrupt files to list.
    let b = same(&reference, &hafs, &["fsck", "/", "-list-corruptfileblocks"]);
    assert!(b.hafs.stdout.contains("has 0 CORRUPT blocks"), "{}", b.hafs);
    // An under-replicated file (replication 4 on three DataNodes): the per-block
    // complaint, the counts, still HEALTHY.
    for target in [&reference as &dyn ConfTargetDyn, &hafs] {
        target.hdfs(&["dfs", "-setrep", "4", "/tools/file"]);
    }
    let b = same(&reference, &hafs, &["fsck", "/tools", "-files", "-blocks"]);
    assert!(
        b.hafs
            .stdout
            .contains("Target Replicas is 4 but found 3 live replica(s)"),
        "{}",
        b.hafs
    );
    for target in [&reference as &dyn ConfTargetDyn, &hafs] {
        target.hdfs(&["dfs", "-setrep", "3", "/tools/file"]);
    }
    // A path that does not exist: Hadoop's client says so itself and exits 0.
    let b = same(&reference, &hafs, &["fsck", "/no/such/path"]);
    assert!(b.hafs.stderr.contains("DFSck exiting."), "{}", b.hafs);

    // haadmin: every NameNode's state, one's state, its health, an unknown id.
    let b = same(&reference, &hafs, &["haadmin", "-getAllServiceState"]);
    let mut states: Vec<String> = b
        .hafs
        .stdout_lines()
        .iter()
        .map(|l| l.split_whitespace().last().unwrap_or_default().to_string())
        .collect();
    states.sort();
    assert_eq!(states, vec!["active", "standby"], "{}", b.hafs);
    // Each side's Active and Standby by id (the clusters chose their own).
    let ref_active = reference.first_active.clone();
    let ref_standby = if ref_active == "nn1" { "nn2" } else { "nn1" }.to_string();
    let hafs_active_id = hafs.nn_id(hafs_active).to_string();
    let hafs_standby_id = hafs.nn_id(1 - hafs_active).to_string();
    for (target, nn, state) in [
        (&reference as &dyn ConfTargetDyn, &ref_active, "active"),
        (&reference, &ref_standby, "standby"),
        (&hafs, &hafs_active_id, "active"),
        (&hafs, &hafs_standby_id, "standby"),
    ] {
        let out = target.hdfs(&["haadmin", "-getServiceState", nn]);
        assert_eq!(out.stdout.trim(), state, "{out}");
    }
    let b = same(&reference, &hafs, &["haadmin", "-checkHealth", "nn1"]);
    assert!(b.hafs.success(), "{}", b.hafs);
    let b = same(&reference, &hafs, &["haadmin", "-getServiceState", "nn9"]);
    assert!(!b.hafs.success(), "{}", b.hafs);
    assert!(
        b.hafs
            .stderr
            .contains("Unable to determine service address for namenode 'nn9'"),
        "{}",
        b.hafs
    );

    // -failover from each side's Active to its Standby (through the failover
    // controllers: automatic failover is on in both); both then report the new Active.
    let (r, h) = std::thread::scope(|s| {
        let r = s.spawn(|| {
            hdfs_tool(
                &reference,
                &["haadmin", "-failover", &ref_active, &ref_standby],
            )
        });
        let h = hdfs_tool(
            &hafs,
            &["haadmin", "-failover", &hafs_active_id, &hafs_standby_id],
        );
        (r.join().expect("the reference failover panicked"), h)
    });
    assert_eq!(
        h.status.code(),
        r.status.code(),
        "reference:\n{r}\nhafs:\n{h}"
    );
    assert_eq!(
        shape(&h.stdout),
        shape(&r.stdout),
        "reference:\n{r}\nhafs:\n{h}"
    );
    assert!(h.stdout.contains("Failover to NameNode at"), "{h}");
    wait_service_state(&reference, &ref_standby, "active");
    wait_service_state(&hafs, &hafs_standby_id, "active");
    wait_service_state(&reference, &ref_active, "standby");
    wait_service_state(&hafs, &hafs_active_id, "standby");
    let b = same(&reference, &hafs, &["haadmin", "-getAllServiceState"]);
    let new_active_port = |target: &str, out: &CmdOutput| {
        out.stdout_lines()
            .iter()
            .find(|l| l.split_whitespace().last() == Some("active"))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|a| a.rsplit(':').next())
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no active NameNode listed by {target}:\n{out}"))
    };
    assert_eq!(
        new_active_port("reference", &b.reference),
        reference
            .daemon(&ref_standby)
            .addr
            .rsplit(':')
            .next()
            .unwrap(),
        "{}",
        b.reference
    );
    assert_eq!(
        new_active_port("hafs", &b.hafs),
        hafs.nn_rpc_addr_of(1 - hafs_active).port().to_string(),
        "{}",
        b.hafs
    );
    // fsck follows the new Active on both.
    same(&reference, &hafs, &["fsck", "/tools"]);

    type_quotas_count_alike(&reference, &hafs);
}

/// Quotas by storage type on both: the same dfsadmin, storagepolicies and Java shell
/// sequence gives the same `-count -q -t SSD,DISK` numbers (each block's bytes once
/// per type the policy chooses, none without a policy) and the same refusal; after a
/// policy change on a directory with files HDFS keeps its stale counters where hafs
/// recounts (docs/compatibility.md, "Quotas").
fn type_quotas_count_alike(reference: &ReferenceHdfs, hafs: &MiniCluster) {
    let tmp = hafs_tests::TempDir::new("type-quota-local");
    let local = |name: &str, len: usize| {
        let p = tmp.path().join(name);
        std::fs::write(&p, hafs_tests::test_bytes(len as u64, len)).unwrap();
        p.to_str().unwrap().to_string()
    };
    let (a, b, c, d, e) = (
        local("a", 100_000),
        local("b", 50_000),
        local("c", 10),
        local("d", 2_000),
        local("e", 3_000),
    );
    let put = |src: &str, repl: &str, dst: &str| -> Vec<String> {
        [
            "dfs",
            "-D",
            "dfs.blocksize=1048576",
            "-D",
            &format!("dfs.replication={repl}"),
            "-put",
            "-d",
            src,
            dst,
        ]
        .map(String::from)
        .to_vec()
    };
    let run = |args: &[String]| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        same(reference, hafs, &args)
    };
    let ok = |args: &[&str]| {
        let b = same(reference, hafs, args);
        assert!(b.hafs.success(), "{}", b.hafs);
    };
    ok(&[
        "dfs",
        "-mkdir",
        "-p",
        "/tq/one",
        "/tq/all",
        "/tq/hot",
        "/tq/plain",
    ]);
    ok(&[
        "dfsadmin",
        "-setSpaceQuota",
        "3m",
        "-storageType",
        "SSD",
        "/tq",
    ]);
    ok(&[
        "dfsadmin",
        "-setSpaceQuota",
        "512m",
        "-storageType",
        "DISK",
        "/tq",
    ]);
    for (dir, policy) in [
        ("/tq/one", "ONE_SSD"),
        ("/tq/all", "ALL_SSD"),
        ("/tq/hot", "HOT"),
    ] {
        ok(&[
            "storagepolicies",
            "-setStoragePolicy",
            "-path",
            dir,
            "-policy",
            policy,
        ]);
    }
    for (src, repl, dst) in [(&a, "3", "/tq/one/a"), (&b, "3", "/tq/hot/b")] {
        let r = run(&put(src, repl, dst));
        assert!(r.hafs.success(), "{}", r.hafs);
    }
    let refused = run(&put(&c, "3", "/tq/all/c"));
    assert!(
        refused.hafs.stderr.contains(
            "Quota by storage type : SSD on path : /tq is exceeded. quota = 3 MB but space consumed = 3.10 MB"
        ),
        "{}",
        refused.hafs
    );
    ok(&["dfs", "-rm", "/tq/all/c"]);
    for (src, repl, dst) in [(&d, "1", "/tq/all/d"), (&e, "3", "/tq/plain/e")] {
        let r = run(&put(src, repl, dst));
        assert!(r.hafs.success(), "{}", r.hafs);
    }
    let count = &["dfs", "-count", "-q", "-t", "SSD,DISK", "/tq"];
    let fields =
        |o: &CmdOutput| -> Vec<String> { o.stdout.split_whitespace().map(String::from).collect() };
    let b = same(reference, hafs, count);
    // SSD: a 100000 + d 2000; DISK: a 2 x 100000 + b 3 x 50000; e (no policy) none.
    let expected = ["3145728", "3043728", "536870912", "536520912", "/tq"];
    assert_eq!(fields(&b.reference), expected, "{}", b.reference);
    assert_eq!(fields(&b.hafs), expected, "{}", b.hafs);

    // b goes from HOT to ONE_SSD in place; a moves out from under ONE_SSD to no policy.
    ok(&[
        "storagepolicies",
        "-setStoragePolicy",
        "-path",
        "/tq/hot",
        "-policy",
        "ONE_SSD",
    ]);
    ok(&["dfs", "-mv", "/tq/one/a", "/tq/plain/a"]);
    let b = both(reference, hafs, count);
    // HDFS: the policy change left b counted as HOT (DISK 150000); a's move took back
    // what it was charged. hafs: b now SSD 50000 + DISK 100000, as a restart of HDFS
    // would count it.
    assert_eq!(
        fields(&b.reference),
        ["3145728", "3143728", "536870912", "536720912", "/tq"],
        "{}",
        b.reference
    );
    assert_eq!(
        fields(&b.hafs),
        ["3145728", "3093728", "536870912", "536770912", "/tq"],
        "{}",
        b.hafs
    );
}

/// Either cluster, as a trait object, to run a tool on.
trait ConfTargetDyn {
    fn hdfs(&self, args: &[&str]) -> CmdOutput;
}

impl ConfTargetDyn for ReferenceHdfs {
    fn hdfs(&self, args: &[&str]) -> CmdOutput {
        hdfs_tool(self, args).ok()
    }
}

impl ConfTargetDyn for MiniCluster {
    fn hdfs(&self, args: &[&str]) -> CmdOutput {
        hdfs_tool(self, args).ok()
    }
}
