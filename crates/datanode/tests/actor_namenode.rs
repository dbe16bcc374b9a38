//! The NameNode actors against fake NameNodes served over real IPC: registration,
//! heartbeats, full and incremental reports, commands obeyed only from the Active,
//! re-registration, and serving several NameNodes at once.

mod actor_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use actor_support::*;
use hafs_datanode::actor::{BlockCommand, BlockPoolService};
use hafs_datanode::storage::{BlockEvent, ExtendedBlock};
use hafs_proto::block_list::decode_legacy_block_list;
use hafs_proto::hdfs::datanode::nnha_status_heartbeat_proto::State;
use hafs_proto::hdfs::datanode::received_deleted_block_info_proto::BlockStatus;
use hafs_proto::hdfs::datanode::ReplicaStateProto;

fn start(addrs: &[std::net::SocketAddr], ops: Arc<FakeOps>) -> BlockPoolService {
    BlockPoolService::start(
        addrs.iter().map(|a| a.to_string()).collect(),
        datanode_id(),
        fast_settings(),
        ops,
    )
}

fn invalidated(ops: &FakeOps) -> Vec<u64> {
    ops.executed()
        .iter()
        .filter_map(|c| match c {
            BlockCommand::Invalidate { blocks } => Some(blocks[0].block_id),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn registers_heartbeats_and_reports() {
    let nn = FakeNameNode::new(State::Active, 5);
    let served = serve_nn(&nn).await;
    let ops = FakeOps::new();
    let svc = start(&[served.addr], ops.clone());

    wait_for("a full block report", 5, || {
        nn.rec(|r| !r.block_reports.is_empty())
    })
    .await;
    wait_for("three heartbeats", 5, || {
        nn.rec(|r| r.heartbeats.len() >= 3)
    })
    .await;
    nn.rec(|r| {
        assert_eq!(&r.calls[..2], &["versionRequest", "registerDatanode"]);
        let reg = &r.registrations[0];
        assert_eq!(reg.datanode_id.datanode_uuid, "dn-uuid-1");
        assert_eq!(reg.storage_info.cluster_id, CLUSTER);
        let hb = &r.heartbeats[0];
        assert_eq!(hb.reports.len(), 2);
        assert_eq!(hb.reports[0].capacity, Some(1000));
        assert_eq!(hb.reports[0].remaining, Some(800));
        assert_eq!(hb.xceiver_count, Some(3));
        assert_eq!(hb.failed_volumes, Some(0));
        let fbr = &r.block_reports[0];
        assert_eq!(fbr.block_pool_id, BPID);
        assert_eq!(fbr.reports.len(), 2);
        let ds1 = fbr
            .reports
            .iter()
            .find(|s| s.storage.storage_uuid == "DS-1")
            .unwrap();
        let ds1 = decode_legacy_block_list(&ds1.blocks).unwrap();
        assert_eq!(ds1.len(), 1);
        assert_eq!(ds1[0].block_id, 1001);
        assert_eq!(ds1[0].num_bytes, 1024);
        let ds2 = fbr
            .reports
            .iter()
            .find(|s| s.storage.storage_uuid == "DS-2")
            .unwrap();
        let ds2 = decode_legacy_block_list(&ds2.blocks).unwrap();
        assert_eq!(ds2[0].state, ReplicaStateProto::Rbw);
    });
    assert_eq!(svc.block_pool_id().as_deref(), Some(BPID));

    // Incremental reports arrive promptly, several events batched per storage.
    let events = svc.events();
    let sent = Instant::now();
    events.send(BlockEvent::Receiving {
        block: ExtendedBlock::new(BPID, 2001, 9, 0),
        storage_id: "DS-1".into(),
    });
    events.send(BlockEvent::Received {
        block: ExtendedBlock::new(BPID, 2001, 9, 4096),
        storage_id: "DS-1".into(),
        del_hint: String::new(),
    });
    events.send(BlockEvent::Received {
        block: ExtendedBlock::new(BPID, 2002, 9, 100),
        storage_id: "DS-2".into(),
        del_hint: String::new(),
    });
    events.deleted("DS-1", &ExtendedBlock::new(BPID, 1001, 7, 1024));
    wait_for("incremental reports", 5, || {
        nn.rec(|r| {
            r.ibrs
                .iter()
                .map(|i| i.blocks.iter().map(|s| s.blocks.len()).sum::<usize>())
                .sum::<usize>()
                >= 3
        })
    })
    .await;
    let took = sent.elapsed();
    assert!(took < Duration::from_millis(1000), "IBR took {took:?}");
    nn.rec(|r| {
        let all: Vec<(String, u64, i32, Option<u64>)> = r
            .ibrs
            .iter()
            .flat_map(|i| i.blocks.iter())
            .flat_map(|s| {
                s.blocks.iter().map(move |b| {
                    (
                        s.storage.as_ref().unwrap().storage_uuid.clone(),
                        b.block.block_id,
                        b.status,
                        b.block.num_bytes,
                    )
                })
            })
            .collect();
        // RECEIVED replaced RECEIVING for 2001 (same batch) or followed it.
        assert!(
            all.contains(&(
                "DS-1".into(),
                2001,
                BlockStatus::Received as i32,
                Some(4096)
            )),
            "{all:?}"
        );
        assert!(
            all.contains(&("DS-2".into(), 2002, BlockStatus::Received as i32, Some(100))),
            "{all:?}"
        );
        assert!(
            all.contains(&("DS-1".into(), 1001, BlockStatus::Deleted as i32, Some(1024))),
            "{all:?}"
        );
        assert!(r.ibrs.iter().all(|i| i.block_pool_id == BPID));
    });

    // Corrupt replicas and failed volumes reach the NameNode.
    events.send(BlockEvent::Corrupt {
        block: ExtendedBlock::new(BPID, 1002, 8, 10),
        storage_id: "DS-2".into(),
        reason: "checksum mismatch".into(),
    });
    events.send(BlockEvent::VolumeFailed {
        storage_id: "DS-2".into(),
        dir: "/data/DS-2".into(),
        reason: "EIO".into(),
    });
    wait_for("bad block and error reports", 5, || {
        nn.rec(|r| !r.bad_blocks.is_empty() && !r.errors.is_empty())
    })
    .await;
    nn.rec(|r| {
        let lb = &r.bad_blocks[0].blocks[0];
        assert_eq!(lb.b.block_id, 1002);
        assert_eq!(lb.locs[0].id.datanode_uuid, "dn-uuid-1");
        assert_eq!(lb.storage_i_ds, vec!["DS-2".to_string()]);
        assert!(
            r.errors[0].msg.contains("/data/DS-2"),
            "{}",
            r.errors[0].msg
        );
        assert_eq!(r.errors[0].error_code, 1); // DISK_ERROR: other volumes still serve
    });
    svc.stop().await;
    served.stop().await;
}

#[tokio::test]
async fn commands_only_from_the_active_namenode() {
    let nn0 = FakeNameNode::new(State::Standby, 10);
    let nn1 = FakeNameNode::new(State::Active, 20);
    let s0 = serve_nn(&nn0).await;
    let s1 = serve_nn(&nn1).await;
    let ops = FakeOps::new();
    let svc = start(&[s0.addr, s1.addr], ops.clone());
    wait_for("heartbeats to both", 5, || {
        nn0.rec(|r| r.heartbeats.len() >= 2) && nn1.rec(|r| r.heartbeats.len() >= 2)
    })
    .await;

    // The Standby's command is ignored; the Active's is executed.
    nn0.push_command(invalidate_cmd(100));
    nn1.push_command(invalidate_cmd(200));
    wait_for("the Active's command", 5, || {
        invalidated(&ops).contains(&200)
    })
    .await;
    let hb0 = nn0.rec(|r| r.heartbeats.len());
    wait_for("the Standby's next heartbeats", 5, || {
        nn0.rec(|r| r.heartbeats.len() >= hb0 + 2)
    })
    .await;
    assert_eq!(invalidated(&ops), vec![200]);

    // A stale Active (claims ACTIVE at a lower txid than the current Active) is ignored.
    nn0.set_ha(State::Active, 15);
    let hb0 = nn0.rec(|r| r.heartbeats.len());
    wait_for("heartbeats", 5, || {
        nn0.rec(|r| r.heartbeats.len() >= hb0 + 2)
    })
    .await;
    nn0.push_command(invalidate_cmd(101));
    let hb0 = nn0.rec(|r| r.heartbeats.len());
    wait_for("heartbeats", 5, || {
        nn0.rec(|r| r.heartbeats.len() >= hb0 + 2)
    })
    .await;
    assert_eq!(invalidated(&ops), vec![200]);

    // Failover: nn0 claims ACTIVE at a higher txid; now its commands run and the old
    // Active's (still claiming at txid 20) do not.
    nn0.set_ha(State::Active, 30);
    let hb0 = nn0.rec(|r| r.heartbeats.len());
    wait_for("heartbeats", 5, || {
        nn0.rec(|r| r.heartbeats.len() >= hb0 + 2)
    })
    .await;
    nn1.push_command(invalidate_cmd(201));
    nn0.push_command(invalidate_cmd(102));
    wait_for("the new Active's command", 5, || {
        invalidated(&ops).contains(&102)
    })
    .await;
    let hb1 = nn1.rec(|r| r.heartbeats.len());
    wait_for("the old Active's next heartbeats", 5, || {
        nn1.rec(|r| r.heartbeats.len() >= hb1 + 2)
    })
    .await;
    assert_eq!(invalidated(&ops), vec![200, 102]);
    assert_eq!(svc.active().addr(), Some(s0.addr.to_string()));

    // Every NameNode got the full report and the incremental ones.
    svc.events().send(BlockEvent::Received {
        block: ExtendedBlock::new(BPID, 3001, 1, 5),
        storage_id: "DS-1".into(),
        del_hint: String::new(),
    });
    for nn in [&nn0, &nn1] {
        wait_for("IBR at every NameNode", 5, || {
            nn.rec(|r| !r.ibrs.is_empty() && !r.block_reports.is_empty())
        })
        .await;
    }
    svc.stop().await;
    s0.stop().await;
    s1.stop().await;
}

#[tokio::test]
async fn registers_again_when_asked_and_after_a_namenode_restart() {
    let nn = FakeNameNode::new(State::Active, 1);
    let served = serve_nn(&nn).await;
    let addr = served.addr;
    let ops = FakeOps::new();
    let svc = start(&[addr], ops.clone());
    wait_for("registration", 5, || nn.rec(|r| r.block_reports.len() == 1)).await;

    // A REGISTER command: register again, then a new full report.
    nn.push_command(register_cmd());
    wait_for("second registration", 5, || {
        nn.rec(|r| r.registrations.len() == 2 && r.block_reports.len() == 2)
    })
    .await;

    // The NameNode forgot the DataNode (UnregisteredNodeException).
    nn.behaviour.lock().unwrap().forget_datanode = true;
    wait_for("third registration", 5, || {
        nn.rec(|r| r.registrations.len() == 3 && r.block_reports.len() == 3)
    })
    .await;

    // The NameNode process goes away and comes back on the same port: reports arrive
    // at once after it is back (no waiting for the periodic report).
    served.stop().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let nn2 = FakeNameNode::new(State::Active, 2);
    let served2 = serve(vec![nn2.clone()], addr).await;
    let back = Instant::now();
    wait_for("registration with the restarted NameNode", 5, || {
        nn2.rec(|r| r.registrations.len() == 1 && r.block_reports.len() == 1)
    })
    .await;
    assert!(
        back.elapsed() < Duration::from_secs(3),
        "took {:?}",
        back.elapsed()
    );
    nn2.rec(|r| {
        let n: usize = r.block_reports[0]
            .reports
            .iter()
            .map(|s| decode_legacy_block_list(&s.blocks).unwrap().len())
            .sum();
        assert_eq!(n, 2);
    });
    svc.stop().await;
    served2.stop().await;
}

#[tokio::test]
async fn refuses_a_namenode_of_another_cluster() {
    let nn = FakeNameNode::new(State::Active, 1);
    nn.behaviour.lock().unwrap().cluster_id = "CID-other".into();
    let served = serve_nn(&nn).await;
    let ops = FakeOps::new();
    let svc = start(&[served.addr], ops.clone());
    tokio::time::timeout(Duration::from_secs(5), svc.all_refused())
        .await
        .expect("the only NameNode is refused");
    let st = svc.status();
    assert!(
        st[0].refused.as_deref().unwrap().contains("CID-other"),
        "{st:?}"
    );
    assert!(nn.rec(|r| r.registrations.is_empty()));
    svc.stop().await;
    served.stop().await;
}
