use hafs_proto::hafs::{self as pb, edit_op::Op};

use super::*;

fn add_file(path: String, inode_id: u64, now: i64) -> EditOp {
    EditOp {
        retry_cache: None,
        op: Some(Op::AddFile(pb::AddFileOp {
            path,
            inode_id,
            perm: 0o644,
            owner: "hdfs".into(),
            group: "supergroup".into(),
            mtime: now,
            replication: 3,
            block_size: 128 << 20,
            client_name: "DFSClient_1".into(),
            client_machine: "10.0.0.1".into(),
            overwrite: false,
            parents: vec![],
        })),
    }
}

/// 1000 directories × 1000 files, applied as edit ops (as a replay builds them; the
/// first directory's files go through plan_create to check the ops match live ones).
#[test]
fn one_million_files_fit_150_bytes_each() {
    let mut ns = new_ns();
    let c = su();
    let mut now = 1_000;
    for d in 0..1000 {
        let dir = format!("/dir{d:04}");
        let Planned::Apply(op) = ns.plan_mkdirs(&c, &dir, 0o755, true, now).unwrap() else {
            panic!("mkdir planned nothing")
        };
        ns.apply(&op).unwrap();
        for f in 0..1000 {
            now += 1;
            // ~10-byte names, like part files.
            let path = format!("{dir}/part-{f:05}");
            let op = if d == 0 {
                let planned = ns.plan_create(
                    &c,
                    &path,
                    0o644,
                    "DFSClient_1",
                    "10.0.0.1",
                    false,
                    false,
                    3,
                    128 << 20,
                    now,
                );
                let planned = planned.unwrap();
                assert_eq!(planned, add_file(path, ns.last_inode_id() + 1, now));
                planned
            } else {
                add_file(path, ns.last_inode_id() + 1, now)
            };
            ns.apply(&op).unwrap();
        }
    }
    assert_eq!(
        ns.stats(),
        NamespaceStats {
            files: 1_000_000,
            dirs: 1001
        }
    );
    // Close them all (an open file also costs its lease-table entry).
    for d in 0..1000u64 {
        for f in 0..1000u64 {
            let id = ROOT_INODE_ID + 1 + d * 1001 + 1 + f;
            let op = EditOp {
                retry_cache: None,
                op: Some(Op::Close(pb::CloseOp {
                    path: String::new(),
                    inode_id: id,
                    mtime: now,
                    atime: now,
                    blocks: vec![],
                })),
            };
            ns.apply(&op).unwrap();
        }
    }
    ns.under_construction.shrink_to_fit();
    let m = ns.memory_estimate();
    let per_file = m.bytes_total as f64 / 1_000_000.0;
    println!(
        "namespace memory: {} inodes, {} bytes, {:.1} bytes/inode, {:.1} bytes/file; size_of::<Inode>() = {}",
        m.inodes,
        m.bytes_total,
        m.bytes_per_inode,
        per_file,
        std::mem::size_of::<inode::Inode>()
    );
    assert_eq!(m.inodes, 1_001_001);
    assert!(per_file <= 150.0, "{per_file:.1} bytes per file");
    let st = ns
        .get_file_info(&c, "/dir0999/part-00999")
        .unwrap()
        .unwrap();
    assert!(!st.under_construction);
}
