use super::*;

/// 1000 directories × 1000 files, built through plan + apply like live calls.
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
            let op = ns
                .plan_create(
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
                )
                .unwrap();
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
            let op = ns.plan_close("DFSClient_1", "", id, &[], now).unwrap();
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
