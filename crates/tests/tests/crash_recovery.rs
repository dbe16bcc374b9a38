//! Crash recovery of a single NameNode: "durable before acknowledged" seen from outside.
//! Concurrent clients write while the NameNode is killed with SIGKILL; after a restart
//! every acknowledged operation must be there, and nothing that was never attempted.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hafs_tests::{fields, hafs_cmd, hafs_dfs, java_fs, parse_ls, MiniCluster, XorShift64};

const WORKERS: usize = 8;
/// Acknowledged operations to wait for (per round) before pulling the plug.
const ACKS_BEFORE_KILL: usize = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Dir,
    File,
}

#[derive(Default)]
struct Record {
    /// Every path an operation was started for, with what it would create.
    attempted: BTreeMap<String, Kind>,
    /// Paths whose operation exited 0 (the NameNode answered success).
    acked: BTreeMap<String, Kind>,
    /// Failures while the NameNode was meant to be up: always a bug.
    unexpected: Vec<String>,
}

/// Every path under `root` (recursively) as the listing shows it, with its kind.
fn listing(cluster: &MiniCluster, root: &str) -> BTreeMap<String, Kind> {
    let out = hafs_dfs(cluster, &["-ls", "-R", root]).ok();
    parse_ls(&out.stdout)
        .into_iter()
        .map(|e| {
            let kind = if e.is_dir() { Kind::Dir } else { Kind::File };
            (e.path, kind)
        })
        .collect()
}

/// One burst: WORKERS threads creating dirs and empty files under `root` until the
/// NameNode is killed. Returns what was attempted and acknowledged.
fn burst_then_kill(cluster: &mut MiniCluster, root: &str, seed: u64) -> Record {
    let worker_dirs: Vec<String> = (0..WORKERS).map(|w| format!("{root}/w{w}")).collect();
    let mut args = vec!["-mkdir", "-p"];
    args.extend(worker_dirs.iter().map(String::as_str));
    hafs_dfs(cluster, &args).ok();

    let record = Arc::new(Mutex::new(Record::default()));
    let killing = Arc::new(AtomicBool::new(false));
    let acks = Arc::new(AtomicUsize::new(0));
    let conf = cluster.conf_dir().to_path_buf();
    let target = hafs_tests::ClientTarget {
        conf_dir: conf,
        fs_uri: cluster.fs_uri(),
        env: Vec::new(),
    };

    let handles: Vec<_> = worker_dirs
        .into_iter()
        .enumerate()
        .map(|(w, dir)| {
            let record = Arc::clone(&record);
            let killing = Arc::clone(&killing);
            let acks = Arc::clone(&acks);
            let target = target.clone();
            std::thread::spawn(move || {
                let mut rng = XorShift64::new(seed ^ (w as u64 + 1));
                for i in 0.. {
                    if killing.load(Ordering::SeqCst) {
                        return;
                    }
                    let (kind, path) = if rng.below(2) == 0 {
                        (Kind::Dir, format!("{dir}/d{i}"))
                    } else {
                        (Kind::File, format!("{dir}/f{i}"))
                    };
                    record.lock().unwrap().attempted.insert(path.clone(), kind);
                    let op = if kind == Kind::Dir {
                        "-mkdir"
                    } else {
                        "-touchz"
                    };
                    let out = hafs_dfs(&target, &[op, &path]);
                    let mut rec = record.lock().unwrap();
                    if out.success() {
                        rec.acked.insert(path, kind);
                        acks.fetch_add(1, Ordering::SeqCst);
                    } else if killing.load(Ordering::SeqCst) {
                        // The NameNode died under this call: its outcome is unknown.
                        return;
                    } else {
                        rec.unexpected.push(out.to_string());
                        return;
                    }
                }
            })
        })
        .collect();

    let deadline = Instant::now() + Duration::from_secs(120);
    while acks.load(Ordering::SeqCst) < ACKS_BEFORE_KILL {
        let failed = !record.lock().unwrap().unexpected.is_empty();
        if failed || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    killing.store(true, Ordering::SeqCst);
    cluster.kill_namenode();
    for h in handles {
        h.join().expect("worker thread panicked");
    }
    let record = std::mem::take(&mut *record.lock().unwrap());
    assert!(
        record.unexpected.is_empty(),
        "operations failed while the NameNode was up:\n{}",
        record.unexpected.join("\n")
    );
    assert!(
        record.acked.len() >= ACKS_BEFORE_KILL,
        "only {} operations were acknowledged within the deadline",
        record.acked.len()
    );
    record
}

/// Checks the namespace under `root` against what was attempted and acknowledged.
fn verify(cluster: &MiniCluster, root: &str, record: &Record) {
    let present = listing(cluster, root);
    for (path, kind) in &record.acked {
        assert_eq!(
            present.get(path),
            Some(kind),
            "acknowledged {kind:?} {path} is missing or of the wrong kind after the crash"
        );
    }
    for (path, kind) in &present {
        let is_worker_dir = path.rsplit('/').next().is_some_and(|n| n.starts_with('w'))
            && path.matches('/').count() == root.matches('/').count() + 1;
        if is_worker_dir {
            assert_eq!(*kind, Kind::Dir, "{path}");
            continue;
        }
        assert_eq!(
            record.attempted.get(path),
            Some(kind),
            "{path} ({kind:?}) exists but was never attempted as such"
        );
    }
    eprintln!(
        "{root}: {} attempted, {} acknowledged, {} present",
        record.attempted.len(),
        record.acked.len(),
        present.len()
    );
}

#[test]
fn acknowledged_operations_survive_kill_9() {
    let seed = XorShift64::seed_from_time();
    eprintln!("seed {seed}");
    let mut cluster = MiniCluster::builder().label("crash").start();

    let first = burst_then_kill(&mut cluster, "/crash/r1", seed);
    cluster.restart_namenode();
    verify(&cluster, "/crash/r1", &first);

    // The recovered NameNode takes writes again, and survives a second crash with both
    // rounds intact (recovery must not have left a damaged log tail behind).
    let second = burst_then_kill(&mut cluster, "/crash/r2", seed.rotate_left(17));
    cluster.restart_namenode();
    verify(&cluster, "/crash/r1", &first);
    verify(&cluster, "/crash/r2", &second);

    // A client no one here wrote agrees with the totals.
    let all = listing(&cluster, "/crash");
    let dirs = all.values().filter(|k| **k == Kind::Dir).count() + 1; // + /crash itself
    let files = all.values().filter(|k| **k == Kind::File).count();
    let count = java_fs(&cluster, &["-count", "/crash"]).ok();
    assert_eq!(
        fields(&count.stdout),
        vec![vec![
            dirs.to_string(),
            files.to_string(),
            "0".to_string(),
            "/crash".to_string()
        ]],
        "{count}"
    );
}

/// A namespace built by every kind of mutation, as `-ls -R` shows it (dates included).
fn build_namespace(cluster: &MiniCluster) -> String {
    for args in [
        &["-mkdir", "-p", "/keep/a/b", "/keep/c", "/gone/x"][..],
        &["-touchz", "/keep/a/f", "/keep/c/g", "/gone/x/y"],
        &["-chmod", "700", "/keep/a/b"],
        &["-chown", "alice:staff", "/keep/c/g"],
        &["-mv", "/keep/c/g", "/keep/a/moved"],
        &["-rm", "-r", "/gone"],
    ] {
        hafs_dfs(cluster, args).ok();
    }
    hafs_dfs(cluster, &["-ls", "-R", "/"]).ok().stdout
}

#[test]
fn clean_restart_preserves_the_namespace() {
    let mut cluster = MiniCluster::builder().label("restart").start();
    let before = build_namespace(&cluster);
    let stopped = cluster.stop();
    assert_eq!(stopped.len(), 1);
    assert_eq!(
        stopped[0].1.and_then(|s| s.code()),
        Some(0),
        "the NameNode must exit 0 on SIGTERM: {stopped:?}"
    );
    cluster.restart_namenode();
    let after = hafs_dfs(&cluster, &["-ls", "-R", "/"]).ok().stdout;
    assert_eq!(after, before, "namespace changed across a clean restart");
}

#[test]
fn save_namespace_then_crash_keeps_image_and_later_edits() {
    let mut cluster = MiniCluster::builder().label("savens").start();
    let _ = build_namespace(&cluster);
    // As in Hadoop, saving the namespace needs safe mode.
    let refused = hafs_cmd(&cluster, &["dfsadmin", "-saveNamespace"]);
    refused
        .expect_failure()
        .expect_stderr_contains("Safe mode should be turned ON");
    hafs_cmd_ok(&cluster, &["dfsadmin", "-safemode", "enter"]);
    hafs_cmd_ok(&cluster, &["dfsadmin", "-saveNamespace"]);
    hafs_cmd_ok(&cluster, &["dfsadmin", "-safemode", "leave"]);
    // Edits after the checkpoint must be replayed on top of the image.
    hafs_dfs(&cluster, &["-mkdir", "/after-image"]).ok();
    hafs_dfs(&cluster, &["-chmod", "711", "/keep/a"]).ok();
    let before = hafs_dfs(&cluster, &["-ls", "-R", "/"]).ok().stdout;
    let names: BTreeSet<String> = parse_ls(&before).into_iter().map(|e| e.path).collect();
    assert!(
        names.contains("/after-image") && names.contains("/keep/a/moved"),
        "{before}"
    );

    cluster.kill_namenode();
    cluster.restart_namenode();
    let after = hafs_dfs(&cluster, &["-ls", "-R", "/"]).ok().stdout;
    assert_eq!(
        after, before,
        "namespace changed across saveNamespace + kill -9"
    );
}

fn hafs_cmd_ok(cluster: &MiniCluster, args: &[&str]) {
    hafs_tests::hafs_cmd(cluster, args).ok();
}
