//! Block replicas as they lie on the DataNodes' disks, for fault tests that count
//! replicas or corrupt one without asking hafs (the layout is Hadoop's, see
//! docs/architecture.md: `<data dir>/current/<bpid>/current/{finalized/…, rbw}/blk_<id>`
//! next to `blk_<id>_<genstamp>.meta`).

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::cluster::MiniCluster;

/// One replica's block file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaFile {
    pub block_id: u64,
    /// The `blk_<id>` file.
    pub path: PathBuf,
    /// Its length in bytes.
    pub len: u64,
    /// Under a `finalized` dir (as opposed to `rbw` or elsewhere).
    pub finalized: bool,
    /// The DataNode index.
    pub datanode: usize,
}

/// Every `blk_<id>` file (not `.meta`) under `dirs`, recursively; depth-bounded.
pub fn block_files(dirs: &[PathBuf]) -> Vec<(u64, PathBuf, u64)> {
    let mut out = Vec::new();
    for d in dirs {
        walk(d, 0, &mut out);
    }
    out.sort();
    out
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<(u64, PathBuf, u64)>) {
    // Hadoop's layout is 8 levels deep at most; anything deeper is not a replica.
    if depth > 12 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            walk(&path, depth + 1, out);
        } else if ft.is_file() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if let Some(id) = name
                .strip_prefix("blk_")
                .and_then(|r| r.parse::<u64>().ok())
            {
                let len = e.metadata().map(|m| m.len()).unwrap_or(0);
                out.push((id, path, len));
            }
        }
    }
}

impl MiniCluster {
    /// Replicas on DataNode `i`'s disks (whether it runs or not).
    pub fn replicas_on(&self, i: usize) -> Vec<ReplicaFile> {
        block_files(self.datanode_data_dirs(i))
            .into_iter()
            .map(|(block_id, path, len)| ReplicaFile {
                finalized: path.components().any(|c| c.as_os_str() == "finalized"),
                block_id,
                path,
                len,
                datanode: i,
            })
            .collect()
    }

    /// Finalized replicas on the DataNodes in `nodes`, by block id.
    pub fn finalized_replicas(&self, nodes: &[usize]) -> BTreeMap<u64, Vec<ReplicaFile>> {
        let mut map: BTreeMap<u64, Vec<ReplicaFile>> = BTreeMap::new();
        for &i in nodes {
            for r in self.replicas_on(i).into_iter().filter(|r| r.finalized) {
                map.entry(r.block_id).or_default().push(r);
            }
        }
        map
    }

    /// Indexes of the DataNodes that are running now.
    pub fn running_datanodes(&mut self) -> Vec<usize> {
        (0..self.datanode_count())
            .filter(|&i| self.datanode_running(i))
            .collect()
    }
}

/// Flips every bit of `len` bytes at `offset` of `path` (a replica's block file),
/// keeping its length, as silent disk corruption would.
pub fn corrupt_file(path: &Path, offset: u64, len: usize) {
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap_or_else(|e| panic!("open {} to corrupt it: {e}", path.display()));
    let mut buf = vec![0u8; len];
    f.seek(SeekFrom::Start(offset)).expect("seek");
    f.read_exact(&mut buf)
        .unwrap_or_else(|e| panic!("read {len} bytes at {offset} of {}: {e}", path.display()));
    for b in &mut buf {
        *b = !*b;
    }
    f.seek(SeekFrom::Start(offset)).expect("seek");
    f.write_all(&buf).expect("write corruption");
    f.sync_all().expect("sync corruption");
}

/// Deterministic test bytes: the same `(seed, len)` always gives the same content,
/// and different seeds give unrelated content.
pub fn test_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = hafs_util::XorShift64::new(seed);
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        out.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    out.truncate(len);
    out
}

/// getBlockLocations of `path` from the NameNode at `nn_addr` over a raw ClientProtocol
/// call with `cfg` (e.g. a client bound to a DataNode's address): the located blocks,
/// an open file's last block (with its pipeline) included; empty when the file has none.
#[track_caller]
pub fn located_blocks(
    nn_addr: &str,
    cfg: hafs_ipc::ClientConfig,
    path: &str,
) -> Vec<hafs_proto::hdfs::LocatedBlockProto> {
    use hafs_proto::hdfs as pb;
    let client = hafs_ipc::RpcClient::new(
        nn_addr.to_string(),
        "org.apache.hadoop.hdfs.protocol.ClientProtocol",
        cfg,
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let resp: pb::GetBlockLocationsResponseProto = rt
        .block_on(client.call(
            "getBlockLocations",
            &pb::GetBlockLocationsRequestProto {
                src: path.to_string(),
                offset: 0,
                // Long.MAX_VALUE, as Hadoop's client asks: Apache's NameNode reads the
                // field as a signed long and refuses a negative one.
                length: i64::MAX as u64,
            },
        ))
        .unwrap_or_else(|e| panic!("getBlockLocations {path} from {nn_addr}: {e}"));
    let Some(located) = resp.locations else {
        return Vec::new();
    };
    let mut blocks = located.blocks;
    blocks.extend(located.last_block);
    blocks
}
