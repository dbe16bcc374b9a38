//! The write path over real IPC against an in-process NameNode, with fake DataNodes
//! fed straight into its block manager: addBlock places replicas on live DataNodes,
//! complete waits for dfs.namenode.replication.min replicas, and block ids and
//! generation stamps survive a restart (replay) without reuse.

// The deprecated storageUuid fields are still required on the wire.
#![allow(deprecated)]

use bytes::Bytes;
use hafs_proto::hdfs as pb;

mod common;

use common::*;
use hafs_proto::hdfs::datanode as dpb;

fn register(fsn: &hafs_namenode::namesystem::Namesystem, n: u32) -> dpb::DatanodeRegistrationProto {
    let id = fsn.bm.identity();
    let reg = dpb::DatanodeRegistrationProto {
        datanode_id: pb::DatanodeIdProto {
            ip_addr: "127.0.0.1".into(),
            host_name: "localhost".into(),
            datanode_uuid: format!("dn-{n}"),
            xfer_port: 9866 + n,
            info_port: 9864,
            ipc_port: 9867,
            info_secure_port: Some(0),
        },
        storage_info: dpb::StorageInfoProto {
            layout_version: id.layout_version as u32,
            namespce_id: id.namespace_id,
            cluster_id: id.cluster_id.clone(),
            c_time: id.ctime as u64,
        },
        keys: None,
        software_version: "test".into(),
    };
    let reg = fsn.bm.register_datanode(&reg, None).unwrap();
    let hb = dpb::HeartbeatRequestProto {
        registration: reg.clone(),
        reports: vec![pb::StorageReportProto {
            storage_uuid: format!("DS-{n}"),
            capacity: Some(1 << 40),
            remaining: Some(1 << 39),
            storage: Some(pb::DatanodeStorageProto {
                storage_uuid: format!("DS-{n}"),
                ..Default::default()
            }),
            ..Default::default()
        }],
        ..Default::default()
    };
    fsn.bm.handle_heartbeat(&hb, true);
    reg
}

fn received(
    fsn: &hafs_namenode::namesystem::Namesystem,
    reg: &dpb::DatanodeRegistrationProto,
    n: u32,
    b: &pb::ExtendedBlockProto,
) {
    use dpb::received_deleted_block_info_proto::BlockStatus;
    let req = dpb::BlockReceivedAndDeletedRequestProto {
        registration: reg.clone(),
        block_pool_id: fsn.bm.block_pool_id(),
        blocks: vec![dpb::StorageReceivedDeletedBlocksProto {
            storage_uuid: format!("DS-{n}"),
            blocks: vec![dpb::ReceivedDeletedBlockInfoProto {
                block: pb::BlockProto {
                    block_id: b.block_id,
                    gen_stamp: b.generation_stamp,
                    num_bytes: b.num_bytes,
                },
                delete_hint: None,
                status: BlockStatus::Received as i32,
            }],
            storage: None,
        }],
    };
    fsn.bm.process_incremental_block_report(&req).unwrap();
}

fn create_req(src: &str) -> pb::CreateRequestProto {
    pb::CreateRequestProto {
        src: src.into(),
        masked: pb::FsPermissionProto { perm: 0o644 },
        client_name: "DFSClient_w".into(),
        create_flag: 0x01,
        create_parent: true,
        replication: 2,
        block_size: 1 << 20,
        ..Default::default()
    }
}

fn add_block_req(
    src: &str,
    file_id: u64,
    previous: Option<pb::ExtendedBlockProto>,
) -> pb::AddBlockRequestProto {
    pb::AddBlockRequestProto {
        src: src.into(),
        client_name: "DFSClient_w".into(),
        previous,
        file_id: Some(file_id),
        ..Default::default()
    }
}

/// A formatted NameNode out of safe mode with two fake DataNodes (dn-1, dn-2) and a
/// connection whose client id is `[client; 16]`; the name dir is returned for restarts.
async fn setup(
    name: &str,
    client: u8,
) -> (
    std::path::PathBuf,
    Running,
    [dpb::DatanodeRegistrationProto; 2],
    hafs_ipc::Connection,
) {
    let dir = temp_dir(name);
    format(&dir);
    let nn = start(&dir).await;
    nn.fsn.set_safe_mode(false);
    let regs = [register(&nn.fsn, 1), register(&nn.fsn, 2)];
    let c = connect(&nn.addr, &Bytes::from(vec![client; 16])).await;
    (dir, nn, regs, c)
}

/// create `src` and its first block (call ids `first_call` and the next); returns the
/// file id and the block.
async fn create_with_block(
    c: &hafs_ipc::Connection,
    src: &str,
    first_call: i32,
) -> (u64, pb::ExtendedBlockProto) {
    let created: pb::CreateResponseProto = call(c, "create", &create_req(src), first_call, 0)
        .await
        .unwrap();
    let file_id = created.fs.unwrap().file_id.unwrap();
    let added: pb::AddBlockResponseProto = call(
        c,
        "addBlock",
        &add_block_req(src, file_id, None),
        first_call + 1,
        0,
    )
    .await
    .unwrap();
    (file_id, added.block.b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_block_complete_and_replay() {
    let dir = temp_dir("writepath");
    format(&dir);
    let nn = start(&dir).await;
    nn.fsn.set_safe_mode(false);
    let regs = [register(&nn.fsn, 1), register(&nn.fsn, 2)];
    let c = connect(&nn.addr, &Bytes::from_static(&[3u8; 16])).await;
    let created: pb::CreateResponseProto =
        call(&c, "create", &create_req("/w/f"), 1, 0).await.unwrap();
    let file_id = created.fs.unwrap().file_id.unwrap();
    let added: pb::AddBlockResponseProto =
        call(&c, "addBlock", &add_block_req("/w/f", file_id, None), 2, 0)
            .await
            .unwrap();
    let lb = added.block;
    assert_eq!(lb.locs.len(), 2, "two DataNodes for replication 2");
    assert_eq!(lb.storage_i_ds.len(), 2);
    assert_eq!(lb.offset, 0);
    let mut written = lb.b.clone();
    written.num_bytes = Some(100);
    // Not yet reported by any DataNode: complete answers false (the client retries).
    let complete = pb::CompleteRequestProto {
        src: "/w/f".into(),
        client_name: "DFSClient_w".into(),
        last: Some(written.clone()),
        file_id: Some(file_id),
    };
    let r: pb::CompleteResponseProto = call(&c, "complete", &complete, 3, 0).await.unwrap();
    assert!(!r.result, "complete must wait for min replication");
    received(&nn.fsn, &regs[0], 1, &written);
    let r: pb::CompleteResponseProto = call(&c, "complete", &complete, 4, 0).await.unwrap();
    assert!(
        r.result,
        "one replica meets dfs.namenode.replication.min = 1"
    );
    let locs: pb::GetBlockLocationsResponseProto = call(
        &c,
        "getBlockLocations",
        &pb::GetBlockLocationsRequestProto {
            src: "/w/f".into(),
            offset: 0,
            length: 1000,
        },
        5,
        0,
    )
    .await
    .unwrap();
    let locs = locs.locations.unwrap();
    assert_eq!(locs.file_length, 100);
    assert_eq!(locs.blocks.len(), 1);
    assert!(locs.is_last_block_complete && !locs.under_construction);
    assert_eq!(locs.blocks[0].b.block_id, written.block_id);
    assert_eq!(locs.blocks[0].locs[0].id.datanode_uuid, "dn-1");
    let (last_id, gs) = {
        let ns = nn.fsn.read();
        (ns.last_block_id(), ns.gen_stamp())
    };
    assert_eq!(last_id, written.block_id);
    stop(nn).await;

    // Replay: the file, its block and the counters come back; nothing is reused.
    let nn = start(&dir).await;
    nn.fsn.set_safe_mode(false);
    {
        let ns = nn.fsn.read();
        assert_eq!((ns.last_block_id(), ns.gen_stamp()), (last_id, gs));
    }
    register(&nn.fsn, 1);
    let c = connect(&nn.addr, &Bytes::from_static(&[4u8; 16])).await;
    let created: pb::CreateResponseProto =
        call(&c, "create", &create_req("/w/g"), 1, 0).await.unwrap();
    let g_id = created.fs.unwrap().file_id.unwrap();
    let added: pb::AddBlockResponseProto =
        call(&c, "addBlock", &add_block_req("/w/g", g_id, None), 2, 0)
            .await
            .unwrap();
    assert_eq!(added.block.b.block_id, last_id + 1);
    assert!(added.block.b.generation_stamp > gs);
    let st: pb::GetFileInfoResponseProto = call(
        &c,
        "getFileInfo",
        &pb::GetFileInfoRequestProto { src: "/w/f".into() },
        3,
        0,
    )
    .await
    .unwrap();
    assert_eq!(st.fs.unwrap().length, 100);
    stop(nn).await;
}

/// Issue 10's root cause. hdfs-native finishes a 1 MiB block in a few milliseconds and
/// asks for the next block at once; the DataNodes' "received" report of the block
/// before the one just finished may still be on its way (it was held back 10 ms for
/// batching). addBlock must wait a moment for it (Hadoop's checkFileProgress) instead
/// of answering NotReplicatedYetException at once: hdfs-native does not retry that,
/// its write fails, and the file never closes. Also: with no report at all within the
/// wait, the answer is still NotReplicatedYetException (the Java client retries it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_block_waits_for_a_late_report_of_the_penultimate_block() {
    let (_dir, nn, regs, c) = setup("writepath-late-report", 5).await;
    let (file_id, mut b1) = create_with_block(&c, "/w/late", 1).await;
    b1.num_bytes = Some(1 << 20);
    // Block 1 finished; its report has not arrived. Block 2 is allocated (only the
    // block before the one finished must be complete).
    let b2: pb::AddBlockResponseProto = call(
        &c,
        "addBlock",
        &add_block_req("/w/late", file_id, Some(b1.clone())),
        3,
        0,
    )
    .await
    .unwrap();
    let mut b2 = b2.block.b;
    b2.num_bytes = Some(1 << 20);
    // Block 2 finished too; block 1's report arrives 50 ms after the next addBlock.
    let fsn = nn.fsn.clone();
    let (reg, late) = (regs[0].clone(), b1.clone());
    let reporter = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        received(&fsn, &reg, 1, &late);
    });
    let b3: Result<pb::AddBlockResponseProto, _> = call(
        &c,
        "addBlock",
        &add_block_req("/w/late", file_id, Some(b2.clone())),
        4,
        0,
    )
    .await;
    reporter.await.unwrap();
    let b3 = b3.expect("addBlock must wait for the late report, not refuse");
    assert_ne!(b3.block.b.block_id, b2.block_id, "a new block");
    assert_eq!(b3.block.offset, 2 << 20);

    // Block 2's report never comes: after the wait, NotReplicatedYetException.
    let mut b3 = b3.block.b;
    b3.num_bytes = Some(1 << 20);
    let r: Result<pb::AddBlockResponseProto, _> = call(
        &c,
        "addBlock",
        &add_block_req("/w/late", file_id, Some(b3)),
        5,
        0,
    )
    .await;
    let e = r.expect_err("block 2 has no replica: not replicated yet");
    assert!(
        e.to_string().contains("NotReplicatedYetException"),
        "unexpected error: {e}"
    );
    stop(nn).await;
}

/// Writes one closed file `src` of one 100-byte block (reported by dn-1) through `c`,
/// with call ids from `first_call`; returns (file id, its block).
async fn closed_file(
    nn: &Running,
    c: &hafs_ipc::Connection,
    reg: &dpb::DatanodeRegistrationProto,
    src: &str,
    first_call: i32,
) -> (u64, pb::ExtendedBlockProto) {
    let (file_id, mut b) = create_with_block(c, src, first_call).await;
    b.num_bytes = Some(100);
    received(&nn.fsn, reg, 1, &b);
    let complete = pb::CompleteRequestProto {
        src: src.into(),
        client_name: "DFSClient_w".into(),
        last: Some(b.clone()),
        file_id: Some(file_id),
    };
    let r: pb::CompleteResponseProto = call(c, "complete", &complete, first_call + 2, 0)
        .await
        .unwrap();
    assert!(r.result, "{src} closes");
    (file_id, b)
}

/// Calls that Hadoop's NameNode answers the same when a client sends them again (its
/// answer lost, or after a failover), and calls out of the Java client's order:
/// append and updatePipeline are at-most-once; complete of a closed file is "true"
/// only for the same last block (HDFS-3031), never for a file closed under another
/// view of it; abandonBlock of a block that is not (or no longer) the file's last is
/// a harmless no-op, and never drops another file's block.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retried_and_reordered_write_calls_answer_as_hadoop() {
    let (_dir, nn, regs, c) = setup("writepath-retries", 6).await;
    let (file_id, b) = closed_file(&nn, &c, &regs[0], "/r/f", 1).await;

    // complete sent again with the same last block: true.
    let mut complete = pb::CompleteRequestProto {
        src: "/r/f".into(),
        client_name: "DFSClient_w".into(),
        last: Some(b.clone()),
        file_id: Some(file_id),
    };
    let r: pb::CompleteResponseProto = call(&c, "complete", &complete, 10, 0).await.unwrap();
    assert!(
        r.result,
        "a retried complete of the same last block answers true"
    );
    // ... with a last block the file does not end with: refused, not "true".
    let mut other = b.clone();
    other.generation_stamp += 7;
    complete.last = Some(other);
    let r: Result<pb::CompleteResponseProto, _> = call(&c, "complete", &complete, 11, 0).await;
    let e = r.expect_err("complete of a closed file with another last block");
    assert!(e.to_string().contains("LeaseExpired"), "unexpected: {e}");

    // append, then the same call again (same client id and call id): same answer.
    let append = pb::AppendRequestProto {
        src: "/r/f".into(),
        client_name: "DFSClient_w".into(),
        flag: None,
    };
    let first: pb::AppendResponseProto = call(&c, "append", &append, 20, 0).await.unwrap();
    let again: pb::AppendResponseProto = call(&c, "append", &append, 20, 1).await.unwrap();
    let lb = first
        .block
        .clone()
        .expect("the partial last block is continued");
    assert_eq!(lb.b.block_id, b.block_id);
    assert_eq!(
        again.block, first.block,
        "a retried append gets the first answer"
    );
    // A new append (another call) of the file the client already holds is refused.
    let r: Result<pb::AppendResponseProto, _> = call(&c, "append", &append, 21, 0).await;
    assert!(r.unwrap_err().to_string().contains("AlreadyBeingCreated"));

    // updatePipeline (after updateBlockForPipeline), then the same call again.
    let ubp: pb::UpdateBlockForPipelineResponseProto = call(
        &c,
        "updateBlockForPipeline",
        &pb::UpdateBlockForPipelineRequestProto {
            block: lb.b.clone(),
            client_name: "DFSClient_w".into(),
        },
        30,
        0,
    )
    .await
    .unwrap();
    let mut new_block = ubp.block.b.clone();
    new_block.num_bytes = Some(100);
    let up = pb::UpdatePipelineRequestProto {
        client_name: "DFSClient_w".into(),
        old_block: lb.b.clone(),
        new_block: new_block.clone(),
        new_nodes: vec![regs[0].datanode_id.clone()],
        storage_i_ds: vec!["DS-1".into()],
    };
    let _: pb::UpdatePipelineResponseProto = call(&c, "updatePipeline", &up, 31, 0).await.unwrap();
    let r: Result<pb::UpdatePipelineResponseProto, _> =
        call(&c, "updatePipeline", &up, 31, 1).await;
    r.expect("a retried updatePipeline gets the first answer");

    // abandonBlock of a block that is not the file's last (the client moved on) and of
    // another file's block: no-ops; the other file stays readable.
    let (_, g_block) = closed_file(&nn, &c, &regs[0], "/r/g", 40).await;
    let added: pb::AddBlockResponseProto = call(
        &c,
        "addBlock",
        &add_block_req("/r/f", file_id, Some(new_block.clone())),
        50,
        0,
    )
    .await
    .unwrap();
    for (n, victim) in [(51, new_block.clone()), (52, g_block.clone())] {
        let abandon = pb::AbandonBlockRequestProto {
            b: victim,
            src: "/r/f".into(),
            holder: "DFSClient_w".into(),
            file_id: Some(file_id),
        };
        let _: pb::AbandonBlockResponseProto =
            call(&c, "abandonBlock", &abandon, n, 0).await.unwrap();
    }
    let blocks = nn.fsn.read().file_blocks(file_id).unwrap().0;
    let ids: Vec<u64> = blocks.iter().map(|b| b.block_id).collect();
    assert_eq!(ids, vec![b.block_id, added.block.b.block_id]);
    let g: pb::GetBlockLocationsResponseProto = call(
        &c,
        "getBlockLocations",
        &pb::GetBlockLocationsRequestProto {
            src: "/r/g".into(),
            offset: 0,
            length: 100,
        },
        53,
        0,
    )
    .await
    .unwrap();
    let g = g.locations.unwrap();
    assert_eq!(g.blocks[0].b.block_id, g_block.block_id);
    assert_eq!(
        g.blocks[0].locs.len(),
        1,
        "the other file's replica is still known"
    );
    stop(nn).await;
}

/// An append to a file that ends exactly on a block boundary: the client gets no
/// partial block and asks addBlock with no previous block (Hadoop's analyzeFileState
/// case 1). The plan accepted that and the apply refused it, so the NameNode aborted
/// ("planned op failed to apply") on a legitimate `hadoop fs -appendToFile`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn append_at_a_block_boundary_adds_a_block() {
    let (dir, nn, regs, c) = setup("writepath-append-boundary", 7).await;
    let (file_id, mut b1) = create_with_block(&c, "/a/full", 1).await;
    b1.num_bytes = Some(1 << 20); // exactly the file's block size
    received(&nn.fsn, &regs[0], 1, &b1);
    let complete = |last: pb::ExtendedBlockProto| pb::CompleteRequestProto {
        src: "/a/full".into(),
        client_name: "DFSClient_w".into(),
        last: Some(last),
        file_id: Some(file_id),
    };
    let r: pb::CompleteResponseProto = call(&c, "complete", &complete(b1.clone()), 3, 0)
        .await
        .unwrap();
    assert!(r.result);
    let append = pb::AppendRequestProto {
        src: "/a/full".into(),
        client_name: "DFSClient_w".into(),
        flag: None,
    };
    let a: pb::AppendResponseProto = call(&c, "append", &append, 4, 0).await.unwrap();
    assert!(a.block.is_none(), "a full last block is not continued");
    let b2: pb::AddBlockResponseProto = call(
        &c,
        "addBlock",
        &add_block_req("/a/full", file_id, None),
        5,
        0,
    )
    .await
    .unwrap();
    assert_eq!(b2.block.offset, 1 << 20);
    // The same call again (its answer lost): the same block, not a third one.
    let again: pb::AddBlockResponseProto = call(
        &c,
        "addBlock",
        &add_block_req("/a/full", file_id, None),
        6,
        0,
    )
    .await
    .unwrap();
    assert_eq!(again.block.b.block_id, b2.block.b.block_id);
    let mut b2 = b2.block.b;
    b2.num_bytes = Some(10);
    received(&nn.fsn, &regs[1], 2, &b2);
    let r: pb::CompleteResponseProto = call(&c, "complete", &complete(b2), 7, 0).await.unwrap();
    assert!(r.result);
    assert_eq!(nn.fsn.read().file_blocks(file_id).unwrap().0.len(), 2);
    stop(nn).await;
    // The edits replay (the same apply) after a restart.
    let nn = start(&dir).await;
    assert_eq!(nn.fsn.read().file_blocks(file_id).unwrap().0.len(), 2);
    stop(nn).await;
}

/// Lease recovery of a file whose writer died while writing its last block, before
/// any DataNode reported the replica (RECEIVING rides with the next heartbeat): the
/// pipeline's targets hold data, so the block is recovered, not dropped as "never
/// written" (which deleted the written data).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lease_recovery_keeps_a_last_block_known_only_by_its_pipeline() {
    let (_dir, nn, _regs, c) = setup("writepath-recover-pipeline", 8).await;
    let (file_id, _) = create_with_block(&c, "/l/f", 1).await;
    let recover = pb::RecoverLeaseRequestProto {
        src: "/l/f".into(),
        client_name: "DFSClient_other".into(),
    };
    let r: pb::RecoverLeaseResponseProto = call(&c, "recoverLease", &recover, 3, 0).await.unwrap();
    assert!(
        !r.result,
        "block recovery must start, the file is not closed yet"
    );
    let (blocks, _, open) = nn.fsn.read().file_blocks(file_id).unwrap();
    assert_eq!(blocks.len(), 1, "the last block was dropped");
    assert!(open);
    let closed: pb::IsFileClosedResponseProto = call(
        &c,
        "isFileClosed",
        &pb::IsFileClosedRequestProto { src: "/l/f".into() },
        5,
        0,
    )
    .await
    .unwrap();
    assert!(!closed.result, "the file is still under recovery");

    // A missing file: Hadoop's FileNotFoundException and words (recoverLease and
    // isFileClosed), which Hadoop's LeaseRecovery contract suite matches.
    let missing = pb::RecoverLeaseRequestProto {
        src: "/l/missing".into(),
        client_name: "DFSClient_other".into(),
    };
    let e = call::<_, pb::RecoverLeaseResponseProto>(&c, "recoverLease", &missing, 4, 0)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("java.io.FileNotFoundException")
            && e.contains("File does not exist: /l/missing"),
        "{e}"
    );
    let e = call::<_, pb::IsFileClosedResponseProto>(
        &c,
        "isFileClosed",
        &pb::IsFileClosedRequestProto {
            src: "/l/missing".into(),
        },
        6,
        0,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("java.io.FileNotFoundException")
            && e.contains("File does not exist: /l/missing"),
        "{e}"
    );
    stop(nn).await;
}
