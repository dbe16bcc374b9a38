//! truncate: the plan's answers and refusals (Hadoop's FSDirTruncateOp), the cut
//! applied, the recovery's close, and replay and image giving the same namespace.

use hafs_proto::hafs::{self as pb, edit_op::Op};

use super::*;

const MB: u64 = 1 << 20;

/// Creates `p` (replication 3, 1 MB blocks) holding blocks of `lens`, closed; logs
/// every op into `log`.
fn write(ns: &mut Namespace, log: &mut Vec<EditOp>, p: &str, lens: &[u64]) {
    let c = su();
    let op = ns
        .plan_create(&c, p, 0o644, "w", "h", false, true, 3, MB, 3000)
        .unwrap();
    ns.apply(&op).unwrap();
    log.push(op);
    let mut previous = None;
    for &len in lens {
        let plan = ns.plan_add_block("w", p, 0, previous).unwrap();
        let op = plan.op.unwrap();
        ns.apply(&op).unwrap();
        log.push(op);
        previous = Some(BlockInfo {
            num_bytes: len,
            ..plan.block.block
        });
    }
    let (op, _) = ns.plan_complete("w", p, 0, previous, 4000).unwrap();
    ns.apply(&op).unwrap();
    log.push(op);
}

fn truncate(
    ns: &Namespace,
    p: &str,
    len: u64,
    holder: &str,
) -> Result<TruncatePlan, NamespaceError> {
    ns.plan_truncate(&su(), p, len, holder, "10.0.0.1", 5000)
}

fn status(ns: &Namespace, p: &str) -> FileStatus {
    ns.get_file_info(&su(), p).unwrap().unwrap()
}

fn space(ns: &Namespace, p: &str) -> u64 {
    ns.quota_usage(&su(), p).unwrap().space_consumed
}

#[test]
fn at_a_block_boundary_the_later_blocks_go_and_the_file_stays_closed() {
    let mut ns = new_ns();
    let mut log = Vec::new();
    mkdirs(&mut ns, &su(), "/d").unwrap();
    write(&mut ns, &mut log, "/d/f", &[MB, MB, 500]);
    let blocks = ns.get_blocks(&su(), "/d/f").unwrap().1;
    assert_eq!(space(&ns, "/d"), 3 * (2 * MB + 500));
    let TruncatePlan::Apply(t) = truncate(&ns, "/d/f", MB, "c").unwrap() else {
        panic!("a cut is logged");
    };
    assert_eq!(t.recover, None);
    let out = ns.apply(&t.op).unwrap();
    assert_eq!(out.removed_blocks, blocks[1..].to_vec());
    let st = status(&ns, "/d/f");
    assert_eq!(st.length, MB);
    assert!(!st.under_construction);
    assert_eq!(st.mtime, 5000);
    // The freed space goes back to the quota counters.
    assert_eq!(space(&ns, "/d"), 3 * MB);
    // To zero: no block left.
    let TruncatePlan::Apply(t) = truncate(&ns, "/d/f", 0, "c").unwrap() else {
        panic!("a cut is logged");
    };
    assert_eq!(
        ns.apply(&t.op).unwrap().removed_blocks,
        blocks[..1].to_vec()
    );
    assert_eq!(status(&ns, "/d/f").length, 0);
    assert_eq!(space(&ns, "/d"), 0);
    ns.check_invariants();
}

#[test]
fn inside_a_block_the_file_reopens_until_the_recovery_commits() {
    let mut ns = new_ns();
    let mut log = Vec::new();
    write(&mut ns, &mut log, "/f", &[MB, MB, 500]);
    let blocks = ns.get_blocks(&su(), "/f").unwrap().1;
    let gs = ns.gen_stamp;
    let TruncatePlan::Apply(t) = truncate(&ns, "/f", MB + 1000, "c").unwrap() else {
        panic!("a cut is logged");
    };
    let (old, tb) = t.recover.expect("the second block is cut");
    assert_eq!(old, blocks[1]);
    assert_eq!(
        tb,
        BlockInfo {
            block_id: blocks[1].block_id,
            gen_stamp: gs + 1,
            num_bytes: 1000,
        }
    );
    let out = ns.apply(&t.op).unwrap();
    log.push(t.op.clone());
    assert_eq!(out.removed_blocks, vec![blocks[2]]);
    assert_eq!(ns.gen_stamp, gs + 1, "the recovery's stamp is handed out");
    // The file is open, leased to the caller; as in Hadoop its status keeps the old
    // length until the recovery commits (getBlockLocations answers the truncate
    // block's length meanwhile).
    let st = status(&ns, "/f");
    assert_eq!(st.length, 2 * MB);
    assert!(st.under_construction);
    let uc = ns.under_construction(st.inode_id).unwrap();
    assert_eq!(
        (uc.client_name.as_str(), uc.client_machine.as_str()),
        ("c", "10.0.0.1")
    );
    assert_eq!(ns.truncate_block(st.inode_id), Some(tb));
    let last = *ns.get_blocks(&su(), "/f").unwrap().1.last().unwrap();
    assert_eq!(last, blocks[1], "the block changes at the commit");
    // The same truncate again waits; another length is refused; so is a writer.
    assert_eq!(
        truncate(&ns, "/f", MB + 1000, "c").unwrap(),
        TruncatePlan::Done(false)
    );
    let e = truncate(&ns, "/f", 10, "c").unwrap_err();
    assert!(matches!(e, NamespaceError::AlreadyBeingCreated(_)), "{e:?}");
    assert_eq!(
        e.to_string(),
        "Failed to TRUNCATE_FILE /f for c on 10.0.0.1 because /f is being truncated."
    );
    assert!(ns.plan_append(&su(), "/f", "c", "h", false).is_err());

    // The primary DataNode commits the cut block: the file closes at the new length.
    let sync = ns
        .plan_commit_block_sync(tb.block_id, tb.gen_stamp, 1000, true, false, 6000)
        .unwrap();
    ns.apply(&sync.op).unwrap();
    log.push(sync.op);
    let st = status(&ns, "/f");
    assert!(!st.under_construction);
    assert_eq!(st.length, MB + 1000);
    assert_eq!(ns.truncate_block(st.inode_id), None);
    assert_eq!(ns.get_blocks(&su(), "/f").unwrap().1.last(), Some(&tb));
    assert_eq!(space(&ns, "/"), 3 * (MB + 1000));
    ns.check_invariants();

    let mut replayed = new_ns();
    for op in &log {
        replayed.apply(op).unwrap();
    }
    replayed.check_invariants();
    assert_eq!(replayed.save_image(), ns.save_image());
}

#[test]
fn a_truncate_waiting_for_recovery_survives_replay_and_the_image() {
    let mut ns = new_ns();
    let mut log = Vec::new();
    write(&mut ns, &mut log, "/f", &[MB, 700]);
    let TruncatePlan::Apply(t) = truncate(&ns, "/f", MB + 333, "c").unwrap() else {
        panic!("a cut is logged");
    };
    ns.apply(&t.op).unwrap();
    log.push(t.op);
    let (_, tb) = t.recover.unwrap();
    let id = status(&ns, "/f").inode_id;

    let mut replayed = new_ns();
    for op in &log {
        replayed.apply(op).unwrap();
    }
    let loaded = Namespace::load_image(NamespaceConfig::default(), &ns.save_image()).unwrap();
    for other in [&replayed, &loaded] {
        other.check_invariants();
        assert_eq!(other.truncate_block(id), Some(tb));
        assert_eq!(other.gen_stamp, ns.gen_stamp);
        assert_eq!(status(other, "/f").length, MB + 700);
        assert_eq!(other.under_construction(id), ns.under_construction(id));
        assert_eq!(other.save_image(), ns.save_image());
    }
}

#[test]
fn refusals_and_answers_without_a_change() {
    let mut ns = new_ns();
    let mut log = Vec::new();
    mkdirs(&mut ns, &su(), "/dir").unwrap();
    write(&mut ns, &mut log, "/f", &[100]);
    assert_eq!(
        truncate(&ns, "/f", 100, "c").unwrap(),
        TruncatePlan::Done(true)
    );
    let e = truncate(&ns, "/f", 101, "c").unwrap_err();
    assert_eq!(
        e.java_class(),
        "org.apache.hadoop.HadoopIllegalArgumentException"
    );
    assert_eq!(
        e.to_string(),
        "Cannot truncate to a larger file size. Current size: 100, truncate size: 101."
    );
    let e = truncate(&ns, "/dir", 0, "c").unwrap_err();
    assert_eq!(e.java_class(), "java.io.FileNotFoundException");
    assert_eq!(e.to_string(), "Path is not a file: /dir");
    let e = truncate(&ns, "/nope", 0, "c").unwrap_err();
    assert_eq!(e.to_string(), "File does not exist: /nope");
    // Without write permission on the file.
    let alice = Caller::new("alice", &["users"]);
    let e = ns.plan_truncate(&alice, "/f", 0, "c", "h", 1).unwrap_err();
    assert_eq!(
        e.java_class(),
        "org.apache.hadoop.security.AccessControlException"
    );
    // A file being written: its own writer and another client are both refused.
    create(&mut ns, &su(), "/open", "w").unwrap();
    let e = truncate(&ns, "/open", 0, "w").unwrap_err();
    assert_eq!(
        e.to_string(),
        "Failed to TRUNCATE_FILE /open for w on 10.0.0.1 because current leaseholder is \
         trying to recreate file."
    );
    let e = truncate(&ns, "/open", 0, "c").unwrap_err();
    assert_eq!(
        e.java_class(),
        "org.apache.hadoop.hdfs.protocol.AlreadyBeingCreatedException"
    );
    assert!(
        e.to_string().ends_with("currently owned by w on 127.0.0.1"),
        "{e}"
    );
}

#[test]
fn apply_refuses_a_truncate_that_does_not_fit_the_file() {
    let mut ns = new_ns();
    let mut log = Vec::new();
    write(&mut ns, &mut log, "/f", &[MB, 10]);
    let TruncatePlan::Apply(t) = truncate(&ns, "/f", 5, "c").unwrap() else {
        panic!("a cut is logged");
    };
    let with = |f: &dyn Fn(&mut pb::TruncateOp)| {
        let mut bad = t.op.clone();
        if let Some(Op::Truncate(x)) = bad.op.as_mut() {
            f(x);
        }
        bad
    };
    let no_block = with(&|x| x.truncate_block = None);
    assert!(matches!(
        ns.apply(&no_block),
        Err(NamespaceError::Corrupt(_))
    ));
    let too_long = with(&|x| x.new_length = 2 * MB);
    assert!(matches!(
        ns.apply(&too_long),
        Err(NamespaceError::Corrupt(_))
    ));
    assert_eq!(
        status(&ns, "/f").length,
        MB + 10,
        "a refused op changes nothing"
    );
    ns.apply(&t.op).unwrap();
    // Applied twice (a misordered log): the file is open by then.
    assert!(matches!(ns.apply(&t.op), Err(NamespaceError::Corrupt(_))));
    ns.check_invariants();
}

#[test]
fn a_snapshot_keeps_its_bytes_truncate_refuses_to_cut_its_block_and_keeps_whole_ones() {
    let mut ns = new_ns();
    let mut log = Vec::new();
    mkdirs(&mut ns, &su(), "/s").unwrap();
    write(&mut ns, &mut log, "/s/f", &[MB, MB, 500]);
    let blocks = ns.get_blocks(&su(), "/s/f").unwrap().1;
    run(&mut ns, |ns| ns.plan_allow_snapshot(&su(), "/s")).unwrap();
    let (op, _) = ns
        .plan_create_snapshot(&su(), "/s", Some("s1"), 4500)
        .unwrap();
    ns.apply(&op).unwrap();

    // Mid-block: cutting the block in place would cut the snapshot's copy too.
    let e = truncate(&ns, "/s/f", MB + 10, "c").unwrap_err();
    assert!(
        matches!(&e, NamespaceError::UnsupportedAction(m) if m.contains("is in a snapshot")),
        "{e:?}"
    );
    assert_eq!(status(&ns, "/s/f").length, 2 * MB + 500);

    // At a boundary: the live file loses its last two blocks, the block manager is not
    // told to remove them (the snapshot still names them), and the snapshot reads the
    // old length.
    let TruncatePlan::Apply(t) = truncate(&ns, "/s/f", MB, "c").unwrap() else {
        panic!("a boundary cut applies at once");
    };
    let out = ns.apply(&t.op).unwrap();
    assert!(out.removed_blocks.is_empty(), "{:?}", out.removed_blocks);
    assert_eq!(status(&ns, "/s/f").length, MB);
    assert_eq!(status(&ns, "/s/.snapshot/s1/f").length, 2 * MB + 500);
    assert_eq!(
        ns.get_blocks(&su(), "/s/.snapshot/s1/f").unwrap().1.len(),
        blocks.len()
    );
}
