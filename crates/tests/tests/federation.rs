//! Federation: two HA nameservices (two NameNodes each) whose edits share one
//! JournalNode quorum, three DataNodes serving both (one block pool each), and clients
//! that see one tree through a ViewFs mount table (`fs.defaultFS=viewfs://cluster`,
//! `/ns1` → `hdfs://ns1/`, `/ns2` → `hdfs://ns2/`, fallback `hdfs://ns1/`), with no
//! router.
//!
//! One cluster serves the whole scenario (CI time): files written through the mount
//! table by `hafs dfs`, the Java `hadoop fs` and hdfs-native land in the right
//! namespace (checked through `hdfs://ns1` and `hdfs://ns2` directly, and in the
//! DataNodes' per-pool directories and VERSION files); a cross-mount rename is refused
//! cleanly by each client; kill -9 of ns1's Active under a read/write load on ns2 →
//! ns2's client never sees an error while ns1 fails over; all of ns1's NameNodes
//! stopped → ns2 fully served (writes and reads by every client), the DataNodes still
//! up; every byte read back equal.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hafs_tests::{block_files, hafs_dfs, java_fs, python, test_bytes, Federation, TempDir};

const PY_PRELUDE: &str = "\
import os, sys
from hdfs_native import Client, WriteOptions
c = Client(os.environ['HAFS_FS_URI'])
";

/// `key=value` of a Java-properties VERSION file.
fn version_prop(file: &Path, key: &str) -> String {
    let text = std::fs::read_to_string(file)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("{} has no {key}:\n{text}", file.display()))
        .to_string()
}

fn nn_version(fed: &Federation, ns: &str) -> PathBuf {
    fed.dir()
        .join(format!("{ns}-nn1"))
        .join("name/current/VERSION")
}

fn write_local(dir: &TempDir, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write local file");
    p.display().to_string()
}

#[test]
fn two_nameservices_share_datanodes_behind_one_mount_table() {
    let mut fed = Federation::start(2, 3, "federation");
    let local = TempDir::new("federation-local");

    // ---- Block pools: one cluster id, two pools with distinct ids.
    let bp1 = version_prop(&nn_version(&fed, "ns1"), "blockpoolID");
    let bp2 = version_prop(&nn_version(&fed, "ns2"), "blockpoolID");
    assert_ne!(bp1, bp2, "each nameservice has its own block pool");
    for (ns, bp) in [("ns1", &bp1), ("ns2", &bp2)] {
        assert_eq!(
            version_prop(&nn_version(&fed, ns), "clusterID"),
            hafs_tests::FEDERATION_CLUSTER_ID
        );
        let parts: Vec<&str> = bp.split('-').collect();
        assert!(
            parts.len() == 4
                && parts[0] == "BP"
                && parts[1].parse::<u32>().is_ok()
                && parts[2] == "127.0.0.1"
                && parts[3].parse::<u64>().is_ok(),
            "{ns}'s block pool id {bp} is not BP-<random>-<ip>-<ms>"
        );
    }
    // One JournalNode quorum holds both nameservices' journals.
    let journals = fed.journalnodes().journal_dir(0);
    let edits_root = journals.parent().expect("edits dir");
    for ns in ["ns1", "ns2"] {
        assert!(
            edits_root.join(ns).is_dir(),
            "JournalNode 1 has no journal {ns} in {}",
            edits_root.display()
        );
    }

    // ---- Writes through the mount table, by every client.
    let a = test_bytes(1, 1_500_000);
    let b = test_bytes(2, 700_000);
    let c = test_bytes(3, 2_100_000);
    hafs_dfs(&fed, &["-mkdir", "-p", "/ns1/hafs", "/ns2/hafs"]).ok();
    hafs_dfs(
        &fed,
        &["-put", &write_local(&local, "a", &a), "/ns1/hafs/a"],
    )
    .ok();
    hafs_dfs(
        &fed,
        &["-put", &write_local(&local, "b", &b), "/ns2/hafs/b"],
    )
    .ok();
    java_fs(&fed, &["-mkdir", "-p", "/ns2/java"]).ok();
    java_fs(
        &fed,
        &["-put", &write_local(&local, "c", &c), "/ns2/java/c"],
    )
    .ok();
    java_fs(
        &fed,
        &["-put", &write_local(&local, "a2", &a), "/ns1/java-a"],
    )
    .ok();
    // Under no mount point: the fallback (ns1).
    hafs_dfs(&fed, &["-mkdir", "-p", "/unmounted"]).ok();
    let py = python(
        &fed,
        &format!(
            "{PY_PRELUDE}
data = bytes((i * 7 + 5) % 251 for i in range(600000))
with c.create('/ns2/native/n', WriteOptions(create_parent=True)) as w:
    w.write(data)
with c.create('/ns1/native/m', WriteOptions(create_parent=True)) as w:
    w.write(data)
with c.read('/ns2/native/n') as r:
    assert r.read() == data
try:
    c.rename('/ns1/native/m', '/ns2/native/m')
    sys.exit('cross-mount rename succeeded')
except Exception as e:
    print('rename refused:', type(e).__name__, e)
print('done')
"
        ),
    )
    .ok();
    assert!(py.stdout.contains("done"), "{py}");
    assert!(
        py.stdout
            .contains("Cannot rename across different name services"),
        "hdfs-native's cross-mount rename error: {py}"
    );

    // Each file is in its own namespace, and only there.
    for (present, absent) in [
        ("hdfs://ns1/hafs/a", "hdfs://ns2/hafs/a"),
        ("hdfs://ns2/hafs/b", "hdfs://ns1/hafs/b"),
        ("hdfs://ns2/java/c", "hdfs://ns1/java/c"),
        ("hdfs://ns1/java-a", "hdfs://ns2/java-a"),
        ("hdfs://ns2/native/n", "hdfs://ns1/native/n"),
        ("hdfs://ns1/native/m", "hdfs://ns2/native/m"),
        ("hdfs://ns1/unmounted", "hdfs://ns2/unmounted"),
    ] {
        hafs_dfs(&fed, &["-test", "-e", present]).ok();
        hafs_dfs(&fed, &["-test", "-e", absent]).expect_code(1);
    }
    // Listing / shows the mount points and the fallback's own entries.
    for out in [
        hafs_dfs(&fed, &["-ls", "/"]).ok(),
        java_fs(&fed, &["-ls", "/"]).ok(),
    ] {
        for name in ["/ns1", "/ns2"] {
            assert!(
                out.stdout.lines().any(|l| l.contains(&format!(" {name}"))),
                "ls / lacks {name}:\n{out}"
            );
        }
    }
    let ls = hafs_dfs(&fed, &["-ls", "/"]).ok();
    assert!(
        ls.stdout.lines().any(|l| l.ends_with("/unmounted")),
        "hafs dfs -ls / lacks the fallback's /unmounted:\n{ls}"
    );
    // hafs dfs shows view paths, not the target's.
    let ls = hafs_dfs(&fed, &["-ls", "/ns2/hafs"]).ok();
    assert!(
        ls.stdout.lines().any(|l| l.ends_with(" /ns2/hafs/b")),
        "{ls}"
    );

    // ---- A rename across mount points is refused by every client; nothing moves.
    hafs_dfs(&fed, &["-mv", "/ns1/hafs/a", "/ns2/hafs/a"])
        .expect_code(1)
        .expect_stderr_contains("Renames across Mount points not supported");
    java_fs(&fed, &["-mv", "/ns1/java-a", "/ns2/java-a"])
        .expect_failure()
        .expect_stderr_contains("Renames across Mount points not supported");
    hafs_dfs(&fed, &["-test", "-e", "hdfs://ns1/hafs/a"]).ok();
    hafs_dfs(&fed, &["-test", "-e", "hdfs://ns1/java-a"]).ok();
    // Within one mount point it works.
    hafs_dfs(&fed, &["-mv", "/ns2/hafs/b", "/ns2/hafs/b2"]).ok();
    hafs_dfs(&fed, &["-test", "-e", "hdfs://ns2/hafs/b2"]).ok();

    // ---- The DataNodes keep one block pool per nameservice.
    for i in 0..3 {
        for (bp, ns) in [(&bp1, "ns1"), (&bp2, "ns2")] {
            let mut blocks = 0;
            for dir in fed.datanode_data_dirs(i) {
                let pool = dir.join("current").join(bp);
                let version = pool.join("current/VERSION");
                assert!(
                    version.is_file(),
                    "dn{} has no VERSION for {ns}'s pool in {}",
                    i + 1,
                    dir.display()
                );
                assert_eq!(version_prop(&version, "blockpoolID"), *bp);
                assert_eq!(
                    version_prop(&version, "namespaceID"),
                    version_prop(&nn_version(&fed, ns), "namespaceID")
                );
                blocks += block_files(&[pool]).len();
            }
            assert!(blocks > 0, "dn{} holds no replica of {ns}'s files", i + 1);
        }
    }

    // ---- kill -9 ns1's Active under a read/write load on ns2.
    let load = {
        let target = fed.client();
        std::thread::spawn(move || {
            python(
                &target,
                &format!(
                    "{PY_PRELUDE}
import time
errors = 0
done = 0
deadline = time.time() + 20
i = 0
while time.time() < deadline:
    data = bytes((i + j) % 256 for j in range(150000))
    p = f'/ns2/load/f{{i}}'
    try:
        with c.create(p, WriteOptions(create_parent=True)) as w:
            w.write(data)
        with c.read(p) as r:
            assert r.read() == data, p
        done += 1
    except Exception as e:
        errors += 1
        print('error', p, type(e).__name__, e)
    i += 1
print('ops', done, 'errors', errors)
"
                ),
            )
        })
    };
    std::thread::sleep(Duration::from_secs(3));
    fed.kill_nn("ns1", "nn1");
    fed.haadmin(&["-ns", "ns1", "-failover", "nn1", "nn2"]).ok();
    fed.wait_for_state("ns1", "nn2", "active", Duration::from_secs(30));
    let d = test_bytes(4, 300_000);
    hafs_dfs(
        &fed,
        &["-put", &write_local(&local, "d", &d), "/ns1/after-failover"],
    )
    .ok();
    let load = load.join().expect("load thread").ok();
    let summary = load
        .stdout
        .lines()
        .find(|l| l.starts_with("ops "))
        .unwrap_or_else(|| panic!("no load summary: {load}"))
        .to_string();
    assert!(
        summary.ends_with("errors 0"),
        "ns2's client saw errors: {load}"
    );
    eprintln!("ns2 load across ns1's failover: {summary}");
    let ops: usize = summary.split(' ').nth(1).unwrap().parse().unwrap();
    assert!(ops > 0, "{load}");
    assert_eq!(fed.ha_state("ns2", "nn1"), Ok("active"), "ns2 untouched");

    // ---- All of ns1's NameNodes gone: ns2 stays fully served.
    fed.stop_nn("ns1", "nn2");
    let e = test_bytes(5, 1_200_000);
    let e_path = write_local(&local, "e", &e);
    hafs_dfs(&fed, &["-put", &e_path, "/ns2/after-ns1-hafs"]).ok();
    java_fs(&fed, &["-put", &e_path, "/ns2/after-ns1-java"]).ok();
    let py = python(
        &fed,
        &format!(
            "{PY_PRELUDE}
data = open('{e_path}', 'rb').read()
with c.create('/ns2/after-ns1-native', WriteOptions(create_parent=True)) as w:
    w.write(data)
for p in ['/ns2/after-ns1-hafs', '/ns2/after-ns1-java', '/ns2/after-ns1-native']:
    with c.read(p) as r:
        assert r.read() == data, p
print('done')
"
        ),
    )
    .ok();
    assert!(py.stdout.contains("done"), "{py}");
    hafs_dfs(&fed, &["-mkdir", "-p", "/ns2/hafs"]).ok();
    for i in 0..3 {
        assert!(
            fed.datanode_running(i),
            "dn{} stopped with ns1 gone:\n{}",
            i + 1,
            fed.datanode_log(i)
        );
    }

    // ---- Every byte read back equal, through the view and directly.
    let read = |args: &[&str]| -> Vec<u8> {
        let out = local.join(format!("read-{}", args.join("_").replace('/', "_")));
        let _ = std::fs::remove_file(&out);
        let mut all: Vec<&str> = vec!["-get"];
        all.extend_from_slice(args);
        let out_s = out.display().to_string();
        all.push(&out_s);
        hafs_dfs(&fed, &all).ok();
        std::fs::read(&out).expect("read back")
    };
    assert_eq!(read(&["/ns2/hafs/b2"]), b);
    assert_eq!(read(&["hdfs://ns2/java/c"]), c);
    assert_eq!(read(&["/ns2/after-ns1-hafs"]), e);
    let java_copy = local.join("java-copy");
    java_fs(
        &fed,
        &[
            "-get",
            "/ns2/after-ns1-java",
            &java_copy.display().to_string(),
        ],
    )
    .ok();
    assert_eq!(std::fs::read(&java_copy).expect("Java's copy"), e);
}
