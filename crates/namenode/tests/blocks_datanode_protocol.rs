//! Block management driven by fake DataNodes speaking DatanodeProtocol over real IPC to
//! an in-process NameNode: registration and HA status, dead-node detection leading to
//! TRANSFER commands, over-replication leading to INVALIDATE, corrupt replicas copied
//! then deleted, replicas of unknown blocks deleted.

use std::path::Path;
use std::time::{Duration, Instant};

use hafs_conf::Configuration;
use hafs_ipc::{ClientConfig, Connection};
use hafs_namenode::blockmanagement::{Block, DatanodeReportKind};
use hafs_namenode::datanode_protocol::PROTOCOL;
use hafs_namenode::{storage, NameNode, NameNodeConfig};
use hafs_proto::hdfs as pb;
use hafs_proto::hdfs::datanode as dpb;

use dpb::block_command_proto::Action;

mod common;

use common::datanode::{call, registration, FakeDn};
use common::{spawn, stop, temp_dir, Running};

fn config(dir: &Path) -> NameNodeConfig {
    let mut conf = Configuration::new();
    conf.set("fs.defaultFS", "hdfs://127.0.0.1:0");
    conf.set("dfs.namenode.http-address", "127.0.0.1:0");
    conf.set(
        "dfs.namenode.name.dir",
        format!("file://{}/n1", dir.display()),
    );
    let mut c = NameNodeConfig::from_conf(&conf).unwrap();
    // Dead after 2 × 100ms + 10 × 50ms = 700ms of silence.
    c.blocks.heartbeat_interval = Duration::from_millis(50);
    c.blocks.heartbeat_recheck_interval = Duration::from_millis(100);
    c.blocks.redundancy_interval = Duration::from_millis(50);
    c.blocks.safemode_extension = Duration::ZERO;
    c
}

async fn start(name: &str) -> Running {
    let dir = temp_dir(&format!("blocks-{name}"));
    let c = config(&dir);
    let info = storage::new_storage_info(Some(common::CLUSTER_ID));
    storage::format(&c.name_dirs, &info, &c.superuser, "supergroup", false).unwrap();
    spawn(NameNode::start(c).await.unwrap())
}

const GS: u64 = 1001;
const LEN: u64 = 4096;

fn block(id: u64) -> Block {
    Block {
        id,
        gen_stamp: GS,
        num_bytes: LEN,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registration_heartbeat_carries_ha_status_and_checks_cluster() {
    let nn = start("register").await;
    let dn = FakeDn::join(&nn.addr, 1).await;
    let r = dn.heartbeat().await;
    assert_eq!(
        r.ha_status.state,
        dpb::nnha_status_heartbeat_proto::State::Active as i32
    );
    assert!(r.cmds.is_empty());
    let live = nn.bm.datanode_report(DatanodeReportKind::Live);
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].id.datanode_uuid, "dn-1");
    assert_eq!(live[0].capacity, Some(100 << 30));
    assert_eq!(live[0].remaining, Some(90 << 30));
    assert_eq!(nn.bm.fs_stats().capacity, 100 << 30);

    // Another cluster's DataNode is refused.
    let bad = registration(41000, "CID-other", "dn-x");
    let err = call::<_, dpb::RegisterDatanodeResponseProto>(
        &dn.conn,
        "registerDatanode",
        &dpb::RegisterDatanodeRequestProto { registration: bad },
    )
    .await
    .unwrap_err();
    let remote = err.remote().expect("remote error");
    assert!(
        remote.class_name.ends_with("IncorrectVersionException"),
        "{err}"
    );
    assert!(remote.message.contains("Incompatible clusterIDs"), "{err}");

    // A DataNode the NameNode does not know is told to register.
    let stranger = FakeDn {
        conn: Connection::connect(&nn.addr, PROTOCOL, &ClientConfig::new("dn"))
            .await
            .unwrap(),
        reg: registration(42000, "CID-test", "dn-unknown"),
        storage: "DS-u".into(),
        bpid: dn.bpid.clone(),
    };
    let r = stranger.heartbeat().await;
    assert_eq!(r.cmds.len(), 1);
    assert_eq!(
        r.cmds[0].cmd_type,
        dpb::datanode_command_proto::Type::RegisterCommand as i32
    );
    // ... and its reports are refused.
    let err = stranger.full_report(&[]).await.unwrap_err();
    assert!(
        err.remote()
            .unwrap()
            .class_name
            .ends_with("UnregisteredNodeException"),
        "{err}"
    );
    stop(nn).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_datanode_leads_to_transfer_and_recovery() {
    let nn = start("dead").await;
    let dns = [
        FakeDn::join(&nn.addr, 1).await,
        FakeDn::join(&nn.addr, 2).await,
        FakeDn::join(&nn.addr, 3).await,
        FakeDn::join(&nn.addr, 4).await,
    ];
    nn.bm.add_block_collection(16386, 3, &[block(7)], false);
    for dn in &dns[..3] {
        dn.full_report(&[(7, GS, LEN)]).await.unwrap();
    }
    assert_eq!(nn.bm.live_replicas(7), 3);
    assert_eq!(nn.bm.fs_stats().under_replicated, 0);

    // dn-3 goes silent; the others keep heartbeating until it is declared dead.
    let deadline = Instant::now() + Duration::from_secs(10);
    while nn.bm.datanode_report(DatanodeReportKind::Dead).is_empty() {
        for dn in [&dns[0], &dns[1], &dns[3]] {
            dn.heartbeat().await;
        }
        assert!(Instant::now() < deadline, "dn-3 never declared dead");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        nn.bm.datanode_report(DatanodeReportKind::Dead)[0]
            .id
            .datanode_uuid,
        "dn-3"
    );
    assert_eq!(nn.bm.live_replicas(7), 2);
    assert_eq!(nn.bm.fs_stats().under_replicated, 1);

    // A holder (dn-1 or dn-2) is told to copy the block to dn-4, the only free node.
    let deadline = Instant::now() + Duration::from_secs(10);
    let (source, cmd) = 'found: loop {
        dns[3].heartbeat().await;
        for dn in &dns[..2] {
            for c in dn.heartbeat().await.cmds {
                if let Some(b) = c.blk_cmd.filter(|b| b.action == Action::Transfer as i32) {
                    break 'found (dn.uuid().to_string(), b);
                }
            }
        }
        assert!(Instant::now() < deadline, "no TRANSFER command");
        tokio::time::sleep(Duration::from_millis(30)).await;
    };
    assert!(source == "dn-1" || source == "dn-2");
    assert_eq!(cmd.blocks.len(), 1);
    assert_eq!(cmd.blocks[0].block_id, 7);
    assert_eq!(cmd.blocks[0].gen_stamp, GS);
    assert_eq!(cmd.targets.len(), 1);
    let targets: Vec<&str> = cmd.targets[0]
        .datanodes
        .iter()
        .map(|d| d.id.datanode_uuid.as_str())
        .collect();
    assert_eq!(targets, vec!["dn-4"]);
    assert_eq!(cmd.block_pool_id, dns[0].bpid);

    // The copy arrives: the block is back at 3 replicas.
    dns[3].received(7, GS, LEN).await;
    assert_eq!(nn.bm.live_replicas(7), 3);
    assert_eq!(nn.bm.fs_stats().under_replicated, 0);

    // The dead node comes back and is told to register again.
    let r = dns[2].heartbeat().await;
    assert_eq!(
        r.cmds[0].cmd_type,
        dpb::datanode_command_proto::Type::RegisterCommand as i32
    );
    stop(nn).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lowering_replication_invalidates_the_excess() {
    let nn = start("excess").await;
    let dns = [
        FakeDn::join(&nn.addr, 1).await,
        FakeDn::join(&nn.addr, 2).await,
        FakeDn::join(&nn.addr, 3).await,
    ];
    nn.bm.add_block_collection(16386, 3, &[block(9)], false);
    for dn in &dns {
        dn.full_report(&[(9, GS, LEN)]).await.unwrap();
    }
    nn.bm.set_replication(&[9], 1);
    assert_eq!(nn.bm.live_replicas(9), 1);
    let mut invalidated = 0;
    for dn in &dns {
        for c in dn.heartbeat().await.cmds {
            if let Some(b) = c.blk_cmd.filter(|b| b.action == Action::Invalidate as i32) {
                assert_eq!(b.blocks.len(), 1);
                assert_eq!(b.blocks[0].block_id, 9);
                invalidated += 1;
            }
        }
    }
    assert_eq!(invalidated, 2, "two of three replicas must be deleted");
    stop(nn).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_replica_is_copied_then_deleted() {
    let nn = start("corrupt").await;
    let dns = [
        FakeDn::join(&nn.addr, 1).await,
        FakeDn::join(&nn.addr, 2).await,
        FakeDn::join(&nn.addr, 3).await,
    ];
    nn.bm.add_block_collection(16386, 2, &[block(11)], false);
    dns[0].full_report(&[(11, GS, LEN)]).await.unwrap();
    // dn-2 has a stale generation stamp: corrupt.
    dns[1].full_report(&[(11, GS - 1, LEN)]).await.unwrap();
    let stats = nn.bm.fs_stats();
    assert_eq!(stats.corrupt_blocks, 1);
    assert_eq!(stats.under_replicated, 1);
    assert_eq!(nn.bm.live_replicas(11), 1);

    // The good replica on dn-1 is copied to dn-3 (dn-2 already holds a copy).
    let cmd = dns[0]
        .await_command(Action::Transfer, &[&dns[1], &dns[2]])
        .await;
    assert_eq!(cmd.targets[0].datanodes[0].id.datanode_uuid, "dn-3");
    dns[2].received(11, GS, LEN).await;
    assert_eq!(nn.bm.live_replicas(11), 2);

    // Now the corrupt replica is deleted, named with its own generation stamp.
    let cmd = dns[1]
        .await_command(Action::Invalidate, &[&dns[0], &dns[2]])
        .await;
    assert_eq!(cmd.blocks[0].block_id, 11);
    assert_eq!(cmd.blocks[0].gen_stamp, GS - 1);
    assert_eq!(nn.bm.fs_stats().corrupt_blocks, 0);

    // A reader reports dn-3's replica bad: it is marked corrupt and replaced via dn-2.
    let lb = nn.bm.located_block(block(11), 0, None);
    assert_eq!(lb.locs.len(), 2);
    let bad = pb::LocatedBlockProto {
        locs: lb
            .locs
            .iter()
            .filter(|d| d.id.datanode_uuid == "dn-3")
            .cloned()
            .collect(),
        ..lb
    };
    let _: dpb::ReportBadBlocksResponseProto = call(
        &dns[0].conn,
        "reportBadBlocks",
        &dpb::ReportBadBlocksRequestProto { blocks: vec![bad] },
    )
    .await
    .unwrap();
    assert_eq!(nn.bm.live_replicas(11), 1);
    assert_eq!(nn.bm.fs_stats().corrupt_blocks, 1);
    let lb = nn.bm.located_block(block(11), 0, None);
    assert_eq!(
        lb.locs.len(),
        1,
        "corrupt replicas are not offered to readers"
    );
    assert_eq!(lb.locs[0].id.datanode_uuid, "dn-1");
    stop(nn).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_of_unknown_blocks_and_vanished_replicas() {
    let nn = start("unknown").await;
    let dn = FakeDn::join(&nn.addr, 1).await;
    // With no blocks yet, startup safe mode ends at its first check (here, not by a
    // racing monitor tick): only then are unknown replicas deleted.
    assert!(!nn.bm.safe_mode_status().on);
    nn.bm.add_block_collection(16386, 1, &[block(21)], false);
    // 99 belongs to no file: deleted. 21 is recorded.
    dn.full_report(&[(21, GS, LEN), (99, 5, 10)]).await.unwrap();
    assert_eq!(nn.bm.live_replicas(21), 1);
    let cmd = dn.await_command(Action::Invalidate, &[]).await;
    assert_eq!(cmd.blocks.len(), 1);
    assert_eq!(cmd.blocks[0].block_id, 99);
    // A later report without 21: the replica is gone, the block is missing.
    dn.full_report(&[]).await.unwrap();
    assert_eq!(nn.bm.live_replicas(21), 0);
    let s = nn.bm.fs_stats();
    assert_eq!(s.missing_blocks, 1);
    assert_eq!(s.missing_repl_one_blocks, 1);
    // Deleting the file's blocks clears them.
    nn.bm.remove_blocks(&[21]);
    assert_eq!(nn.bm.fs_stats().missing_blocks, 0);
    stop(nn).await;
}
