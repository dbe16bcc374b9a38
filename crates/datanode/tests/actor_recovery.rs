//! Block recovery end to end over real IPC: the primary asks two other DataNodes
//! (InterDatanodeProtocol servers with fake storage) and itself, agrees on a length,
//! updates the participants and commits on the Active NameNode.

mod actor_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actor_support::*;
use hafs_datanode::actor::BlockPoolService;
use hafs_datanode::interdatanode::InterDatanodeService;
use hafs_datanode::recovery::{BlockRecoveryWorker, LocalRecovery, ReplicaRecoveryInfo};
use hafs_datanode::storage::{ExtendedBlock, ReplicaState};
use hafs_ipc::{RpcError, RpcService};
use hafs_proto::hdfs::datanode::nnha_status_heartbeat_proto::State;
use hafs_proto::hdfs::datanode::RecoveringBlockProto;
use hafs_proto::hdfs::{DatanodeIdProto, DatanodeInfoProto, ExtendedBlockProto, LocatedBlockProto};

/// One replica holder's storage: what it has, and the updates it was asked for.
struct FakeReplica {
    found: Option<ReplicaRecoveryInfo>,
    storage: String,
    updates: Mutex<Vec<(u64, u64, u64)>>, // (gen stamp as found, recovery id, new length)
}

#[async_trait::async_trait]
impl LocalRecovery for FakeReplica {
    async fn init_replica_recovery(
        &self,
        _block: &ExtendedBlock,
        _recovery_id: u64,
    ) -> Result<Option<ReplicaRecoveryInfo>, RpcError> {
        Ok(self.found)
    }
    async fn update_replica_under_recovery(
        &self,
        block: &ExtendedBlock,
        recovery_id: u64,
        new_length: u64,
    ) -> Result<String, RpcError> {
        self.updates
            .lock()
            .unwrap()
            .push((block.gen_stamp, recovery_id, new_length));
        Ok(self.storage.clone())
    }
}

fn replica(len: u64, state: ReplicaState, storage: &str) -> Arc<FakeReplica> {
    Arc::new(FakeReplica {
        found: Some(ReplicaRecoveryInfo {
            block_id: 77,
            gen_stamp: 5,
            num_bytes: len,
            original_state: state,
        }),
        storage: storage.into(),
        updates: Mutex::new(Vec::new()),
    })
}

fn loc(uuid: &str, ipc_port: u16) -> DatanodeInfoProto {
    DatanodeInfoProto {
        id: DatanodeIdProto {
            ip_addr: "127.0.0.1".into(),
            host_name: "localhost".into(),
            datanode_uuid: uuid.into(),
            xfer_port: 1,
            info_port: 1,
            ipc_port: u32::from(ipc_port),
            info_secure_port: None,
        },
        ..Default::default()
    }
}

#[tokio::test]
async fn primary_agrees_on_the_shortest_rbw_and_commits_on_the_active() {
    // The Active NameNode, reached through the actors.
    let nn = FakeNameNode::new(State::Active, 9);
    let nn_served = serve_nn(&nn).await;
    let svc = BlockPoolService::start(
        vec![nn_served.addr.to_string()],
        datanode_id(),
        fast_settings(),
        FakeOps::new(),
    );
    wait_for("the Active", 5, || svc.active().addr().is_some()).await;

    let me = replica(300, ReplicaState::Rbw, "DS-me");
    let other = replica(200, ReplicaState::Rbw, "DS-other");
    let stale = Arc::new(FakeReplica {
        found: Some(ReplicaRecoveryInfo {
            block_id: 77,
            gen_stamp: 4, // missed the last pipeline: takes no part
            num_bytes: 100,
            original_state: ReplicaState::Rbw,
        }),
        storage: "DS-stale".into(),
        updates: Mutex::new(Vec::new()),
    });
    let s_other = serve(
        vec![Arc::new(InterDatanodeService::new(other.clone())) as Arc<dyn RpcService>],
        "127.0.0.1:0".parse().unwrap(),
    )
    .await;
    let s_stale = serve(
        vec![Arc::new(InterDatanodeService::new(stale.clone())) as Arc<dyn RpcService>],
        "127.0.0.1:0".parse().unwrap(),
    )
    .await;

    let rb = RecoveringBlockProto {
        new_gen_stamp: 6,
        block: LocatedBlockProto {
            b: ExtendedBlockProto {
                pool_id: BPID.into(),
                block_id: 77,
                generation_stamp: 5,
                num_bytes: Some(300),
            },
            locs: vec![
                loc("dn-uuid-1", 1),
                loc("dn-other", s_other.addr.port()),
                loc("dn-stale", s_stale.addr.port()),
            ],
            ..Default::default()
        },
        truncate_block: None,
    };
    let worker = BlockRecoveryWorker::new(me.clone(), "dn-uuid-1".into(), Duration::from_secs(5));
    worker.recover(&rb, &svc.active()).await.expect("recovery");

    assert_eq!(*me.updates.lock().unwrap(), vec![(5, 6, 200)]);
    assert_eq!(*other.updates.lock().unwrap(), vec![(5, 6, 200)]);
    assert!(stale.updates.lock().unwrap().is_empty());
    nn.rec(|r| {
        assert_eq!(r.commits.len(), 1);
        let c = &r.commits[0];
        assert_eq!(c.block.block_id, 77);
        assert_eq!(c.block.generation_stamp, 5);
        assert_eq!(c.new_gen_stamp, 6);
        assert_eq!(c.new_length, 200);
        assert!(c.close_file);
        assert!(!c.delete_block);
        let uuids: Vec<&str> = c
            .new_taragets
            .iter()
            .map(|t| t.datanode_uuid.as_str())
            .collect();
        assert_eq!(uuids, vec!["dn-uuid-1", "dn-other"]);
        assert_eq!(c.new_target_storages, vec!["DS-me", "DS-other"]);
    });
    svc.stop().await;
    s_other.stop().await;
    s_stale.stop().await;
    nn_served.stop().await;
}

#[tokio::test]
async fn a_truncate_recovery_cuts_the_replicas_to_the_truncate_block() {
    let nn = FakeNameNode::new(State::Active, 9);
    let nn_served = serve_nn(&nn).await;
    let svc = BlockPoolService::start(
        vec![nn_served.addr.to_string()],
        datanode_id(),
        fast_settings(),
        FakeOps::new(),
    );
    wait_for("the Active", 5, || svc.active().addr().is_some()).await;

    // A closed file's last block: finalized replicas of the same length.
    let me = replica(300, ReplicaState::Finalized, "DS-me");
    let other = replica(300, ReplicaState::Finalized, "DS-other");
    let s_other = serve(
        vec![Arc::new(InterDatanodeService::new(other.clone())) as Arc<dyn RpcService>],
        "127.0.0.1:0".parse().unwrap(),
    )
    .await;
    let rb = |truncate_id: u64| RecoveringBlockProto {
        new_gen_stamp: 6,
        block: LocatedBlockProto {
            b: ExtendedBlockProto {
                pool_id: BPID.into(),
                block_id: 77,
                generation_stamp: 5,
                num_bytes: Some(300),
            },
            locs: vec![loc("dn-uuid-1", 1), loc("dn-other", s_other.addr.port())],
            ..Default::default()
        },
        truncate_block: Some(hafs_proto::hdfs::BlockProto {
            block_id: truncate_id,
            gen_stamp: 6,
            num_bytes: Some(120),
        }),
    };
    let worker = BlockRecoveryWorker::new(me.clone(), "dn-uuid-1".into(), Duration::from_secs(5));

    // Copy-on-truncate (a new block id) is refused before any replica is touched.
    let e = worker.recover(&rb(78), &svc.active()).await.unwrap_err();
    assert!(e.to_string().contains("copy-on-truncate"), "{e}");
    assert!(me.updates.lock().unwrap().is_empty());

    // In place: every replica is cut to the truncate block's length, not the
    // finalized length the replicas agree on.
    worker
        .recover(&rb(77), &svc.active())
        .await
        .expect("recovery");
    assert_eq!(*me.updates.lock().unwrap(), vec![(5, 6, 120)]);
    assert_eq!(*other.updates.lock().unwrap(), vec![(5, 6, 120)]);
    nn.rec(|r| {
        assert_eq!(r.commits.len(), 1);
        let c = &r.commits[0];
        assert_eq!((c.new_gen_stamp, c.new_length), (6, 120));
        assert!(c.close_file && !c.delete_block);
    });
    svc.stop().await;
    s_other.stop().await;
    nn_served.stop().await;
}
