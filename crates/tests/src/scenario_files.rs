//! A scenario's files, written and read back by two clients no one here wrote: Java
//! (`hadoop fs -put` / `-get` of a whole tree) and hdfs-native (each file), and the
//! moment an open file's block has its pipeline. Shared by the scale-out scenarios on
//! hafs and their control on the real HDFS, so that "reads never fail" means the same
//! on both.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use hafs_proto::hdfs as pb;

use crate::replicas::test_bytes;
use crate::streaming::StreamingClient;
use crate::tools::{hafs_cmd, java_fs, python, ConfTarget};

/// Writes `files` files with Java (one `-put` of a local dir into `<root>/java`, file
/// `i` of `1 + i * java_step` bytes) and `files` with hdfs-native (`<root>/native/n<100+i>`,
/// `5 + i * 311_111` bytes); returns every path with its bytes.
pub fn write_with_java_and_hdfs_native(
    target: &impl ConfTarget,
    local: &Path,
    root: &str,
    files: usize,
    java_step: usize,
) -> BTreeMap<String, Vec<u8>> {
    let mut expected = BTreeMap::new();
    let java_dir = local.join("java");
    std::fs::create_dir_all(&java_dir).unwrap();
    for i in 0..files {
        let data = test_bytes(i as u64, 1 + i * java_step);
        std::fs::write(java_dir.join(format!("j{i}")), &data).unwrap();
        expected.insert(format!("{root}/java/j{i}"), data);
    }
    hafs_cmd(target, &["dfs", "-mkdir", "-p", &format!("{root}/native")]).ok();
    java_fs(
        target,
        &[
            "-put",
            &java_dir.display().to_string(),
            &format!("{root}/java"),
        ],
    )
    .ok();
    let mut native = String::from(
        "import os\nfrom hdfs_native import Client\nc = Client(os.environ['HAFS_FS_URI'])\n",
    );
    for i in 0..files {
        let n = 100 + i;
        let data = test_bytes(n as u64, 5 + i * 311_111);
        let copy = local.join(format!("n{n}"));
        std::fs::write(&copy, &data).unwrap();
        native.push_str(&format!(
            "with c.create('{root}/native/n{n}') as w:\n    w.write(open('{}', 'rb').read())\n",
            copy.display()
        ));
        expected.insert(format!("{root}/native/n{n}"), data);
    }
    python(target, &native).ok();
    expected
}

/// Waits (60 s at most) until the last block of the file being written at `path` has
/// a pipeline on the NameNode at `nn_addr`; returns its DataNodes' IPs and its id.
pub fn wait_for_open_block(
    nn_addr: &str,
    path: &str,
    writer: &StreamingClient,
) -> (Vec<String>, u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let blocks: Vec<pb::LocatedBlockProto> =
            crate::located_blocks(nn_addr, hafs_ipc::ClientConfig::default(), path);
        if let Some(b) = blocks.last().filter(|b| !b.locs.is_empty()) {
            return (
                b.locs.iter().map(|d| d.id.ip_addr.clone()).collect(),
                b.b.block_id,
            );
        }
        assert!(
            Instant::now() < deadline,
            "{path} has no block with a pipeline after 60 s: {blocks:?}\n{}",
            writer.output()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Reads every file of `expected` (absolute paths under `root`) with Java (one `-get`
/// of `root` into `local`) and hdfs-native; panics naming `when` and the file on any
/// difference or failure.
pub fn read_back_with_java_and_hdfs_native(
    target: &impl ConfTarget,
    local: &Path,
    root: &str,
    expected: &BTreeMap<String, Vec<u8>>,
    when: &str,
) {
    let got = local.join(format!("got-{}", when.replace(' ', "-")));
    java_fs(target, &["-get", root, &got.display().to_string()]).ok();
    let mut check = String::from(
        "import os, sys\nfrom hdfs_native import Client\nc = Client(os.environ['HAFS_FS_URI'])\nbad = []\n",
    );
    for (path, data) in expected {
        let rel = path.trim_start_matches(root).trim_start_matches('/');
        let read = std::fs::read(got.join(rel)).unwrap_or_else(|e| panic!("{when}: {rel}: {e}"));
        assert!(
            read == *data,
            "{when}: Java read {path}: {} bytes differ from the {} written",
            read.len(),
            data.len()
        );
        let copy = local.join(format!("expected-{}", rel.replace('/', "-")));
        std::fs::write(&copy, data).unwrap();
        check.push_str(&format!(
            "with c.read('{path}') as r:\n    d = r.read()\nif d != open('{}', 'rb').read():\n    bad.append('{path}')\n",
            copy.display()
        ));
    }
    check.push_str(
        "if bad:\n    sys.exit('hdfs-native read different bytes: ' + ', '.join(bad))\nprint('native ok')\n",
    );
    let out = python(target, &check).ok();
    assert!(out.stdout.contains("native ok"), "{when}: {}", out.stdout);
}
