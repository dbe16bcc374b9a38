//! Storage types and storage policies end to end, on one HA cluster whose DataNodes
//! have typed volumes: dn1..dn4 each a `[DISK]` and an `[SSD]` dir, dn5 and dn6 one
//! `[ARCHIVE]` dir each.
//!
//! - `hdfs storagepolicies` (the real Apache tool) and `hafs storagepolicies` print the
//!   same suite, set policies on directories, read them back (inherited by files),
//!   unset one, and refuse a bad name, a missing path and a missing `-path` with the
//!   same lines and exit codes;
//! - files written by the Java `hadoop fs -put` and by hdfs-native under ALL_SSD,
//!   ONE_SSD, HOT and COLD directories have their replicas on volumes of the types the
//!   policy asks for, read from the DataNodes' disks;
//! - after a failover the new Active has every policy (the Standby tailed them), and
//!   so do both NameNodes restarted from a checkpoint written after the policies (the
//!   fsimage's `storage_policy`) plus the edits after it;
//! - a DataNode holding SSD replicas is killed: re-replication puts the missing
//!   replicas on the types the policies ask for (SSD for ALL_SSD and ONE_SSD's first);
//! - and, on the same cluster, `hafs dfs -setfacl / -getfacl` against the Java shell's
//!   `-getfacl` on the same paths.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use hafs_tests::{
    block_files, fsimage_txids, hafs_cmd, hdfs_tool, java_fs, python, test_bytes, MiniCluster,
    TempDir,
};

const DISK_SSD: &[&str] = &["DISK", "SSD"];
const ARCHIVE: &[&str] = &["ARCHIVE"];
const STORAGE: &[&[&str]] = &[DISK_SSD, DISK_SSD, DISK_SSD, DISK_SSD, ARCHIVE, ARCHIVE];

/// Each data dir of the cluster with its DataNode index and storage type.
fn typed_dirs(c: &MiniCluster) -> Vec<(usize, &'static str, PathBuf)> {
    let mut out = Vec::new();
    for (i, types) in STORAGE.iter().enumerate() {
        for (dir, t) in c.datanode_data_dirs(i).iter().zip(types.iter()) {
            out.push((i, *t, dir.clone()));
        }
    }
    out
}

/// Block ids of a file, from `hafs fsck <file> -files -blocks`.
fn block_ids(c: &MiniCluster, file: &str) -> Vec<u64> {
    let out = hafs_cmd(c, &["fsck", file, "-files", "-blocks"]).ok();
    let mut ids = Vec::new();
    for word in out.stdout.split_whitespace() {
        if let Some(rest) = word.split("blk_").nth(1) {
            if let Ok(id) = rest.split('_').next().unwrap_or("").parse::<u64>() {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
    }
    assert!(
        !ids.is_empty(),
        "no block of {file} in fsck:\n{}",
        out.stdout
    );
    ids
}

/// For each block id, the (DataNode, storage type) of every finalized replica on the
/// disks of the DataNodes not in `dead`, sorted.
fn replica_types(
    c: &MiniCluster,
    ids: &[u64],
    dead: &[usize],
) -> BTreeMap<u64, Vec<(usize, &'static str)>> {
    let mut out: BTreeMap<u64, Vec<(usize, &'static str)>> =
        ids.iter().map(|id| (*id, Vec::new())).collect();
    for (dn, t, dir) in typed_dirs(c) {
        if dead.contains(&dn) {
            continue;
        }
        for (id, path, _) in block_files(&[dir]) {
            let finalized = path.components().any(|p| p.as_os_str() == "finalized");
            if let Some(v) = out.get_mut(&id).filter(|_| finalized) {
                v.push((dn, t));
            }
        }
    }
    for v in out.values_mut() {
        v.sort();
    }
    out
}

fn types_only(v: &[(usize, &'static str)]) -> Vec<&'static str> {
    let mut t: Vec<&str> = v.iter().map(|(_, t)| *t).collect();
    t.sort();
    t
}

/// Polls until every block of `files` has its replicas on `want` types (sorted), on
/// distinct live DataNodes; panics with the last placement seen.
#[track_caller]
fn wait_for_types(c: &MiniCluster, files: &[String], want: &[&str], dead: &[usize], what: &str) {
    let ids: Vec<u64> = files.iter().flat_map(|f| block_ids(c, f)).collect();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let seen = replica_types(c, &ids, dead);
        let good = seen.values().all(|v| {
            let mut nodes: Vec<usize> = v.iter().map(|(n, _)| *n).collect();
            nodes.dedup();
            types_only(v) == want && nodes.len() == v.len()
        });
        if good {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: wanted every block of {files:?} on {want:?}, found {seen:?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The same `storagepolicies` command through the real `hdfs` and through hafs: the
/// same exit code, stdout and first stderr line. Returns the exit code and stdout.
#[track_caller]
fn both(c: &MiniCluster, args: &[&str]) -> (i32, String) {
    let mut full = vec!["storagepolicies"];
    full.extend_from_slice(args);
    let java = hdfs_tool(c, &full);
    let ours = hafs_cmd(c, &full);
    let first_err = |s: &str| {
        s.lines()
            .find(|l| !l.trim().is_empty() && !l.contains("WARN") && !l.contains("INFO"))
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(
        java.code(),
        ours.code(),
        "exit codes of {args:?}:\n{java}\n{ours}"
    );
    assert_eq!(java.stdout, ours.stdout, "stdout of {args:?}");
    assert_eq!(
        first_err(&java.stderr),
        first_err(&ours.stderr),
        "stderr of {args:?}:\n{java}\n{ours}"
    );
    (ours.code().unwrap_or(-1), ours.stdout)
}

/// `hafs dfs -getfacl` and the Java `hadoop fs -getfacl`: the same lines and exit.
#[track_caller]
fn same_getfacl(c: &MiniCluster, args: &[&str]) -> String {
    let mut full = vec!["-getfacl"];
    full.extend_from_slice(args);
    let java = java_fs(c, &full);
    let mut ours_args = vec!["dfs"];
    ours_args.extend_from_slice(&full);
    let ours = hafs_cmd(c, &ours_args);
    assert_eq!(
        java.code(),
        ours.code(),
        "exit of {args:?}:\n{java}\n{ours}"
    );
    assert_eq!(java.stdout, ours.stdout, "-getfacl {args:?}");
    ours.stdout
}

/// `hafs dfs -setfacl` (every flag) and `-getfacl [-R]`, compared with the Java shell
/// on the same paths, errors included.
fn acls_hafs_shell_against_java(c: &MiniCluster) {
    let dfs = |args: &[&str]| {
        let mut full = vec!["dfs"];
        full.extend_from_slice(args);
        hafs_cmd(c, &full)
    };
    dfs(&["-mkdir", "-p", "/acl/d/sub"]).ok();
    dfs(&["-touchz", "/acl/d/f"]).ok();
    let plain = same_getfacl(c, &["/acl/d"]);
    assert!(
        plain.contains("user::rwx\ngroup::r-x\nother::r-x\n"),
        "{plain}"
    );
    dfs(&["-setfacl", "-m", "user:bob:rwx,group::r-x", "/acl/d"]).ok();
    // Default entries go to directories only; files take none (no call for them).
    dfs(&["-setfacl", "-R", "-m", "default:user:carol:r-x", "/acl/d"]).ok();
    dfs(&[
        "-setfacl",
        "--set",
        "user::rw-,group::r--,other::---,user:dave:rw-",
        "/acl/d/f",
    ])
    .ok();
    // A narrower mask shows the #effective column; the sticky bit a flags line.
    dfs(&["-chmod", "1740", "/acl/d"]).ok();
    let out = same_getfacl(c, &["-R", "/acl"]);
    for line in [
        "# flags: --T",
        "user:bob:rwx\t#effective:r--",
        "default:user:carol:r-x",
        "user:dave:rw-",
    ] {
        assert!(
            out.lines().any(|l| l == line),
            "{line} missing from:\n{out}"
        );
    }
    dfs(&["-setfacl", "-x", "user:dave", "/acl/d/f"]).ok();
    dfs(&["-setfacl", "-k", "/acl/d"]).ok();
    dfs(&["-setfacl", "-b", "/acl/d/sub"]).ok();
    let out = same_getfacl(c, &["-R", "/acl"]);
    assert!(
        !out.contains("dave") && !out.contains("default:user:carol"),
        "{out}"
    );
    same_getfacl(c, &["/acl/nope"]);
    // Usage errors: Hadoop's words, exit -1.
    for args in [
        vec!["-setfacl", "-m", "user:bob", "/acl/d"],
        vec!["-setfacl", "-b", "-m", "user:bob:rwx", "/acl/d"],
        vec!["-setfacl", "/acl/d"],
    ] {
        let java = java_fs(c, &args);
        let mut ours_args = vec!["dfs"];
        ours_args.extend_from_slice(&args);
        let ours = hafs_cmd(c, &ours_args);
        assert_eq!(
            (java.code(), ours.code()),
            (Some(255), Some(255)),
            "{args:?}\n{java}\n{ours}"
        );
        let first = |s: &str| s.lines().next().unwrap_or("").to_string();
        assert_eq!(first(&java.stderr), first(&ours.stderr), "{args:?}");
    }
}

#[test]
fn storage_types_policies_placement_failover_and_re_replication() {
    let mut c = MiniCluster::builder()
        .label("storage-policies")
        .namenodes(2)
        .journalnodes(3)
        .datanode_storage(STORAGE)
        // The Standby checkpoints often, so the restart below loads policies from an
        // fsimage.
        .conf("dfs.namenode.checkpoint.txns", "10")
        .conf("dfs.namenode.checkpoint.check.period", "1")
        .start();
    c.wait_for_state(0, "active", Duration::from_secs(30));

    // The suite, as both tools print it.
    let (code, list) = both(&c, &["-listPolicies"]);
    assert_eq!(code, 0);
    assert!(list.starts_with("Block Storage Policies:\n"), "{list}");
    for line in [
        "\tBlockStoragePolicy{COLD:2, storageTypes=[ARCHIVE], creationFallbacks=[], replicationFallbacks=[]}",
        "\tBlockStoragePolicy{HOT:7, storageTypes=[DISK], creationFallbacks=[], replicationFallbacks=[ARCHIVE]}",
        "\tBlockStoragePolicy{ONE_SSD:10, storageTypes=[SSD, DISK], creationFallbacks=[SSD, DISK], replicationFallbacks=[SSD, DISK]}",
        "\tBlockStoragePolicy{ALL_SSD:12, storageTypes=[SSD], creationFallbacks=[DISK], replicationFallbacks=[DISK]}",
    ] {
        assert!(list.lines().any(|l| l == line), "{line} missing from:\n{list}");
    }

    // Policies on directories, set by both tools.
    java_fs(
        &c,
        &[
            "-mkdir",
            "-p",
            "/sp/allssd",
            "/sp/onessd",
            "/sp/hot",
            "/sp/cold",
            "/sp/warm",
        ],
    )
    .ok();
    let set = |tool: &str, path: &str, policy: &str| {
        let args = [
            "storagepolicies",
            "-setStoragePolicy",
            "-path",
            path,
            "-policy",
            policy,
        ];
        let out = if tool == "hdfs" {
            hdfs_tool(&c, &args)
        } else {
            hafs_cmd(&c, &args)
        }
        .ok();
        assert_eq!(
            out.stdout,
            format!("Set storage policy {policy} on {path}\n")
        );
    };
    set("hdfs", "/sp/allssd", "ALL_SSD");
    set("hafs", "/sp/onessd", "ONE_SSD");
    set("hdfs", "/sp/cold", "COLD");
    set("hafs", "/sp/hot", "hot");
    set("hafs", "/sp/warm", "WARM");
    let (code, out) = both(&c, &["-getStoragePolicy", "-path", "/sp"]);
    assert_eq!(
        (code, out.as_str()),
        (0, "The storage policy of /sp is unspecified\n")
    );
    let (_, out) = both(&c, &["-getStoragePolicy", "-path", "/sp/allssd"]);
    assert_eq!(
        out,
        "The storage policy of /sp/allssd:\nBlockStoragePolicy{ALL_SSD:12, storageTypes=[SSD], \
         creationFallbacks=[DISK], replicationFallbacks=[DISK]}\n"
    );
    // Unset: the directory is unspecified again.
    let (code, out) = both(&c, &["-unsetStoragePolicy", "-path", "/sp/warm"]);
    assert_eq!(
        (code, out.as_str()),
        (0, "Unset storage policy from /sp/warm\n")
    );
    let (_, out) = both(&c, &["-getStoragePolicy", "-path", "/sp/warm"]);
    assert_eq!(out, "The storage policy of /sp/warm is unspecified\n");

    // Refusals, worded and coded as Hadoop's.
    let (code, _) = both(
        &c,
        &["-setStoragePolicy", "-path", "/sp/hot", "-policy", "SILVER"],
    );
    assert_eq!(code, 2);
    hafs_cmd(
        &c,
        &[
            "storagepolicies",
            "-setStoragePolicy",
            "-path",
            "/sp/hot",
            "-policy",
            "SILVER",
        ],
    )
    .expect_code(2)
    .expect_stderr_contains("Cannot find a block policy with the name SILVER");
    let (code, _) = both(
        &c,
        &["-setStoragePolicy", "-path", "/nope", "-policy", "HOT"],
    );
    assert_eq!(code, 2);
    hafs_cmd(
        &c,
        &[
            "storagepolicies",
            "-setStoragePolicy",
            "-path",
            "/nope",
            "-policy",
            "HOT",
        ],
    )
    .expect_stderr_contains("FileNotFoundException: File/Directory does not exist: /nope");
    let (code, _) = both(&c, &["-getStoragePolicy", "-path", "/nope"]);
    assert_eq!(code, 2);
    let (code, _) = both(&c, &["-getStoragePolicy"]);
    assert_eq!(code, 1);
    let (code, _) = both(&c, &["-setStoragePolicy", "-path", "/sp/hot"]);
    assert_eq!(code, 1);

    // Files by the Java shell and by hdfs-native under each policy: two blocks each.
    let tmp = TempDir::new("storage-policies-local");
    let local = tmp.path().join("data");
    let size = (2 << 20) - 1000;
    std::fs::write(&local, test_bytes(7, size)).unwrap();
    let local_s = local.to_str().unwrap();
    let mut native = format!(
        "import os\nfrom hdfs_native import Client, WriteOptions\nc = Client(os.environ['HAFS_FS_URI'])\ndata = open('{local_s}', 'rb').read()\n"
    );
    for (dir, rep) in [("allssd", 3), ("onessd", 3), ("hot", 3), ("cold", 2)] {
        java_fs(
            &c,
            &[
                "-D",
                &format!("dfs.replication={rep}"),
                "-put",
                local_s,
                &format!("/sp/{dir}/j"),
            ],
        )
        .ok();
        native.push_str(&format!(
            "with c.create('/sp/{dir}/n', WriteOptions(replication={rep})) as w:\n    w.write(data)\n"
        ));
    }
    python(&c, &native).ok();
    let files = |dir: &str| vec![format!("/sp/{dir}/j"), format!("/sp/{dir}/n")];
    wait_for_types(&c, &files("allssd"), &["SSD", "SSD", "SSD"], &[], "ALL_SSD");
    wait_for_types(
        &c,
        &files("onessd"),
        &["DISK", "DISK", "SSD"],
        &[],
        "ONE_SSD",
    );
    wait_for_types(&c, &files("hot"), &["DISK", "DISK", "DISK"], &[], "HOT");
    wait_for_types(&c, &files("cold"), &["ARCHIVE", "ARCHIVE"], &[], "COLD");
    // Files inherit their directory's policy.
    let (_, out) = both(&c, &["-getStoragePolicy", "-path", "/sp/cold/n"]);
    assert!(
        out.starts_with("The storage policy of /sp/cold/n:\nBlockStoragePolicy{COLD:2"),
        "{out}"
    );

    // The Standby tailed every policy: after a failover the new Active has them.
    c.failover(0, 1);
    c.wait_for_state(1, "active", Duration::from_secs(30));
    let (_, out) = both(&c, &["-getStoragePolicy", "-path", "/sp/onessd/j"]);
    assert!(out.contains("BlockStoragePolicy{ONE_SSD:10"), "{out}");
    let (_, out) = both(&c, &["-getStoragePolicy", "-path", "/sp/warm"]);
    assert_eq!(out, "The storage policy of /sp/warm is unspecified\n");

    // Both NameNodes restart: from the latest checkpoint (written after the policies)
    // and the edits after it.
    let last_policy_txid = c.nn_last_txid(1).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while fsimage_txids(c.nn_name_dir_of(1))
        .last()
        .copied()
        .unwrap_or(0)
        < last_policy_txid.saturating_sub(10)
    {
        assert!(
            Instant::now() < deadline,
            "no checkpoint after txid {last_policy_txid}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    c.restart_nn(0);
    c.restart_nn(1);
    c.wait_for_state(0, "standby", Duration::from_secs(60));
    c.wait_for_state(1, "standby", Duration::from_secs(60));
    c.transition_to_active(1);
    c.wait_for_state(1, "active", Duration::from_secs(30));
    for (path, policy) in [
        ("/sp/onessd/j", "ONE_SSD:10"),
        ("/sp/allssd/n", "ALL_SSD:12"),
        ("/sp/cold/n", "COLD:2"),
    ] {
        let (_, out) = both(&c, &["-getStoragePolicy", "-path", path]);
        assert!(
            out.contains(&format!("BlockStoragePolicy{{{policy}")),
            "after restart, {path}: {out}"
        );
    }
    let (_, out) = both(&c, &["-getStoragePolicy", "-path", "/sp/warm"]);
    assert_eq!(out, "The storage policy of /sp/warm is unspecified\n");

    acls_hafs_shell_against_java(&c);

    // Kill the DataNode holding the SSD replica of ONE_SSD's first block: the new
    // Active copies every lost replica to the type its policy asks for.
    let first = block_ids(&c, "/sp/onessd/j")[0];
    let holders = replica_types(&c, &[first], &[]);
    let victim = holders[&first]
        .iter()
        .find(|(_, t)| *t == "SSD")
        .map(|(n, _)| *n)
        .expect("an SSD replica");
    c.kill_datanode(victim);
    wait_for_types(
        &c,
        &files("onessd"),
        &["DISK", "DISK", "SSD"],
        &[victim],
        "ONE_SSD after a DataNode died",
    );
    wait_for_types(
        &c,
        &files("allssd"),
        &["SSD", "SSD", "SSD"],
        &[victim],
        "ALL_SSD after a DataNode died",
    );
    wait_for_types(
        &c,
        &files("hot"),
        &["DISK", "DISK", "DISK"],
        &[victim],
        "HOT after a DataNode died",
    );

    // Every byte reads back.
    let back = tmp.path().join("back");
    java_fs(&c, &["-get", "/sp/allssd/n", back.to_str().unwrap()]).ok();
    assert_eq!(std::fs::read(&back).unwrap(), test_bytes(7, size));
}
