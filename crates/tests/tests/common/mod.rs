//! Helpers shared by the data-path test files: byte-exact reads through every client
//! and waits on replica placement.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hafs_tests::{hafs_dfs, java_fs, python, MiniCluster, ReplicaFile, TEST_BLOCK_SIZE};

/// Reads `path` with `hafs dfs -get` into the cluster dir and returns the bytes.
#[track_caller]
pub fn get_with_hafs(cluster: &MiniCluster, path: &str) -> Vec<u8> {
    let local = scratch(cluster, "hafs-get");
    hafs_dfs(cluster, &["-get", path, local.to_str().unwrap()]).ok();
    read_and_remove(&local)
}

/// Reads `path` with the Java shell's `-get`.
#[track_caller]
pub fn get_with_java(cluster: &MiniCluster, path: &str) -> Vec<u8> {
    let local = scratch(cluster, "java-get");
    java_fs(cluster, &["-get", path, local.to_str().unwrap()]).ok();
    read_and_remove(&local)
}

/// Reads `path` with hdfs-native.
#[track_caller]
pub fn get_with_native(cluster: &MiniCluster, path: &str) -> Vec<u8> {
    let local = scratch(cluster, "native-get");
    let script = format!(
        "import os\nfrom hdfs_native import Client\nc = Client(os.environ['HAFS_FS_URI'])\n\
         with c.read({path:?}) as r:\n    data = r.read()\n\
         open({local:?}, 'wb').write(data)\nprint(len(data))\n",
        local = local.display().to_string()
    );
    python(cluster, &script).ok();
    read_and_remove(&local)
}

/// Writes `data` to `path` with hdfs-native (overwriting).
#[track_caller]
pub fn put_with_native(cluster: &MiniCluster, path: &str, data: &[u8]) {
    let local = write_scratch(cluster, "native-put", data);
    let script = format!(
        "import os\nfrom hdfs_native import Client, WriteOptions\nc = Client(os.environ['HAFS_FS_URI'])\n\
         data = open({local:?}, 'rb').read()\n\
         with c.create({path:?}, WriteOptions(overwrite=True, create_parent=True)) as w:\n\
         \x20   for i in range(0, len(data), 100000):\n\
         \x20       w.write(data[i:i + 100000])\n",
        local = local.display().to_string()
    );
    python(cluster, &script).ok();
    let _ = std::fs::remove_file(local);
}

/// Appends `data` to `path` with hdfs-native.
#[track_caller]
pub fn append_with_native(cluster: &MiniCluster, path: &str, data: &[u8]) {
    let local = write_scratch(cluster, "native-append", data);
    let script = format!(
        "import os\nfrom hdfs_native import Client\nc = Client(os.environ['HAFS_FS_URI'])\n\
         data = open({local:?}, 'rb').read()\n\
         with c.append({path:?}) as w:\n    w.write(data)\n",
        local = local.display().to_string()
    );
    python(cluster, &script).ok();
    let _ = std::fs::remove_file(local);
}

/// Writes `data` to a local scratch file and `-put`s it with `hafs dfs`.
#[track_caller]
pub fn put_with_hafs(cluster: &MiniCluster, path: &str, data: &[u8]) {
    let local = write_scratch(cluster, "hafs-put", data);
    hafs_dfs(cluster, &["-mkdir", "-p", parent(path)]).ok();
    hafs_dfs(cluster, &["-put", "-f", local.to_str().unwrap(), path]).ok();
    let _ = std::fs::remove_file(local);
}

/// Writes `data` to a local scratch file and `-put`s it with the Java shell.
#[track_caller]
pub fn put_with_java(cluster: &MiniCluster, path: &str, data: &[u8]) {
    let local = write_scratch(cluster, "java-put", data);
    java_fs(cluster, &["-mkdir", "-p", parent(path)]).ok();
    java_fs(cluster, &["-put", "-f", local.to_str().unwrap(), path]).ok();
    let _ = std::fs::remove_file(local);
}

/// Asserts two byte strings are equal without printing megabytes.
#[track_caller]
pub fn assert_same_bytes(got: &[u8], want: &[u8], what: &str) {
    if got != want {
        let first = got
            .iter()
            .zip(want)
            .position(|(a, b)| a != b)
            .unwrap_or(got.len().min(want.len()));
        panic!(
            "{what}: {} bytes read, {} expected; first difference at offset {first}",
            got.len(),
            want.len()
        );
    }
}

/// The parent directory of an absolute HDFS path.
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

pub fn scratch(cluster: &MiniCluster, name: &str) -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    cluster.dir().join(format!("{name}-{n}"))
}

pub fn write_scratch(cluster: &MiniCluster, name: &str, data: &[u8]) -> PathBuf {
    let p = scratch(cluster, name);
    std::fs::write(&p, data).expect("write scratch file");
    p
}

fn read_and_remove(p: &Path) -> Vec<u8> {
    let data = std::fs::read(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
    let _ = std::fs::remove_file(p);
    data
}

/// Number of blocks a file of `len` bytes has with the test block size.
pub fn block_count(len: usize) -> usize {
    len.div_ceil(TEST_BLOCK_SIZE as usize)
}

/// Finalized replicas on running DataNodes whose content equals the corresponding
/// slice of `data` (blocks in id order are the file's blocks in order), and those whose
/// content differs (corrupt or stale), by block index.
pub fn classify_replicas(
    cluster: &mut MiniCluster,
    data: &[u8],
) -> (
    BTreeMap<usize, Vec<ReplicaFile>>,
    BTreeMap<usize, Vec<ReplicaFile>>,
) {
    let running = cluster.running_datanodes();
    let by_block = cluster.finalized_replicas(&running);
    let mut good: BTreeMap<usize, Vec<ReplicaFile>> = BTreeMap::new();
    let mut bad: BTreeMap<usize, Vec<ReplicaFile>> = BTreeMap::new();
    for (index, (_id, replicas)) in by_block.into_iter().enumerate() {
        let start = (index * TEST_BLOCK_SIZE as usize).min(data.len());
        let end = (start + TEST_BLOCK_SIZE as usize).min(data.len());
        for r in replicas {
            let content = std::fs::read(&r.path).unwrap_or_default();
            if content == data[start..end] {
                good.entry(index).or_default().push(r);
            } else {
                bad.entry(index).or_default().push(r);
            }
        }
    }
    (good, bad)
}

/// Waits until every one of the file's blocks has exactly `replication` good finalized
/// replicas on running DataNodes and no bad ones. The cluster must hold only this file.
#[track_caller]
pub fn wait_replicated(
    cluster: &mut MiniCluster,
    data: &[u8],
    replication: usize,
    timeout: Duration,
) {
    let blocks = block_count(data.len());
    let deadline = Instant::now() + timeout;
    loop {
        let (good, bad) = classify_replicas(cluster, data);
        let ok =
            good.len() == blocks && good.values().all(|v| v.len() == replication) && bad.is_empty();
        if ok {
            return;
        }
        if Instant::now() >= deadline {
            let summary: Vec<String> = (0..blocks)
                .map(|b| {
                    format!(
                        "block {b}: good on {:?}, bad on {:?}",
                        good.get(&b)
                            .map(|v| v.iter().map(|r| r.datanode).collect::<Vec<_>>()),
                        bad.get(&b)
                            .map(|v| v.iter().map(|r| r.datanode).collect::<Vec<_>>())
                    )
                })
                .collect();
            panic!(
                "blocks did not reach {replication} good replicas within {timeout:?}:\n{}",
                summary.join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}
