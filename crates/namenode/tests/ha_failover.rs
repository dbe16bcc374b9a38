//! Two NameNodes of one HA nameservice in this process, on three in-process
//! JournalNodes, driven over real IPC: both start Standby; HAServiceProtocol makes one
//! Active; a Standby refuses client calls with StandbyException; the Standby's
//! namespace equals the Active's at the same txid (tailing, with its lag measured);
//! transitions repeat both ways under writes and are idempotent; a retried
//! at-most-once call gets its original answer from the new Active; a file open across
//! a failover is completed on the new Active; an addBlock whose answer was lost when
//! the Active died, retried on the new Active (which knows the block only from the edit
//! log), gets a fresh pipeline of live DataNodes.

use std::time::Duration;

use bytes::Bytes;
use hafs_namenode::client_protocol::PROTOCOL;
use hafs_namenode::namesystem::HaState;
use hafs_proto::common as cpb;
use hafs_proto::hdfs as pb;
use prost::Message;

mod common;

use common::datanode::FakeDn;
use common::ha::{
    assert_standby_equal, create_req, mkdirs_req, service_state, to_active, to_standby, HaCluster,
};
use common::{call, connect_to as connect, stop, temp_dir};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn standby_tails_refuses_clients_and_failovers_keep_answers() {
    let dir = temp_dir("ha-failover");
    let cluster = HaCluster::new(&dir, "hans", &[("dfs.ha.tail-edits.period", "20ms")]).await;
    cluster.format().await;
    let nn1 = cluster.start("nn1").await;
    let nn2 = cluster.start("nn2").await;
    assert_eq!(nn1.fsn.ha_state(), HaState::Standby);
    assert_eq!(nn2.fsn.ha_state(), HaState::Standby);

    // Idempotent: twice Active is one transition.
    to_active(&nn1.addr).await;
    to_active(&nn1.addr).await;
    assert_eq!(
        service_state(&nn1.addr).await,
        cpb::HaServiceStateProto::Active
    );
    assert_eq!(
        service_state(&nn2.addr).await,
        cpb::HaServiceStateProto::Standby
    );

    let client_id = Bytes::from_static(&[7u8; 16]);
    let c1 = connect(&nn1.addr, PROTOCOL, &client_id).await;
    let c2 = connect(&nn2.addr, PROTOCOL, &client_id).await;

    // The Standby refuses reads and writes with StandbyException.
    for (method, req) in [
        ("mkdirs", mkdirs_req("/x").encode_to_vec()),
        (
            "getFileInfo",
            pb::GetFileInfoRequestProto { src: "/".into() }.encode_to_vec(),
        ),
    ] {
        let e = c2
            .call_raw(method, Bytes::from(req), 5, 0, Duration::from_secs(10))
            .await
            .unwrap_err();
        assert!(e.is_standby(), "{method} on a Standby: {e:?}");
    }

    // Writes on the Active; the Standby follows to the same namespace.
    let mut lags = Vec::new();
    let mut call_id = 100;
    for i in 0..60 {
        let _: pb::MkdirsResponseProto = call(
            &c1,
            "mkdirs",
            &mkdirs_req(&format!("/d{}/e{i}", i % 7)),
            call_id,
            0,
        )
        .await
        .unwrap();
        call_id += 1;
        if i % 3 == 0 {
            let _: pb::CreateResponseProto = call(
                &c1,
                "create",
                &create_req(&format!("/d{}/f{i}", i % 5), 1),
                call_id,
                0,
            )
            .await
            .unwrap();
            call_id += 1;
        }
        if i % 10 == 9 {
            lags.push(assert_standby_equal(&nn1.fsn, &nn2.fsn).await);
        }
    }
    lags.sort();
    eprintln!(
        "standby catch-up after a write burst: p50 {:?}, max {:?}",
        lags[lags.len() / 2],
        lags[lags.len() - 1]
    );

    // An at-most-once call on the old Active, then a failover.
    let original: pb::CreateResponseProto =
        call(&c1, "create", &create_req("/retry/f", 1), 9000, 0)
            .await
            .unwrap();
    assert_standby_equal(&nn1.fsn, &nn2.fsn).await;
    to_standby(&nn1.addr).await;
    to_standby(&nn1.addr).await;
    to_active(&nn2.addr).await;
    assert_eq!(
        service_state(&nn1.addr).await,
        cpb::HaServiceStateProto::Standby
    );
    assert_eq!(
        service_state(&nn2.addr).await,
        cpb::HaServiceStateProto::Active
    );

    // The same (clientId, callId) retried on the new Active: the original answer.
    let retried: pb::CreateResponseProto = call(&c2, "create", &create_req("/retry/f", 1), 9000, 0)
        .await
        .unwrap();
    assert_eq!(
        retried.fs.as_ref().map(|s| s.file_id),
        original.fs.as_ref().map(|s| s.file_id)
    );
    assert_eq!(retried, original);
    // A new call id is a new call: the file exists (and is being written).
    let again = c2
        .call_raw(
            "create",
            Bytes::from(create_req("/retry/f", 1).encode_to_vec()),
            9001,
            0,
            Duration::from_secs(10),
        )
        .await
        .unwrap_err();
    assert!(!again.is_standby(), "{again:?}");

    // The file open across the failover completes on the new Active.
    let _: pb::RenewLeaseResponseProto = call(
        &c2,
        "renewLease",
        &pb::RenewLeaseRequestProto {
            client_name: "DFSClient_hatest".into(),
            ..Default::default()
        },
        9002,
        0,
    )
    .await
    .unwrap();
    let done: pb::CompleteResponseProto = call(
        &c2,
        "complete",
        &pb::CompleteRequestProto {
            src: "/retry/f".into(),
            client_name: "DFSClient_hatest".into(),
            last: None,
            file_id: original.fs.as_ref().and_then(|s| s.file_id),
        },
        9003,
        0,
    )
    .await
    .unwrap();
    assert!(done.result);

    // Back and forth under writes: each new Active continues from the other's edits,
    // and the Standby stays equal.
    let nns = [nn1, nn2];
    let mut active = 1usize;
    for round in 0..4 {
        let a = &nns[active];
        let c = connect(&a.addr, PROTOCOL, &client_id).await;
        for i in 0..10 {
            let _: pb::MkdirsResponseProto = call(
                &c,
                "mkdirs",
                &mkdirs_req(&format!("/round{round}/d{i}")),
                20_000 + round * 100 + i,
                0,
            )
            .await
            .unwrap();
        }
        let other = 1 - active;
        assert_standby_equal(&nns[active].fsn, &nns[other].fsn).await;
        to_standby(&nns[active].addr).await;
        to_active(&nns[other].addr).await;
        active = other;
        let c = connect(&nns[active].addr, PROTOCOL, &client_id).await;
        let st: pb::GetFileInfoResponseProto = call(
            &c,
            "getFileInfo",
            &pb::GetFileInfoRequestProto {
                src: format!("/round{round}/d9"),
            },
            30_000 + round,
            0,
        )
        .await
        .unwrap();
        assert!(
            st.fs.is_some(),
            "round {round}: the new Active lacks the old one's edits"
        );
    }
    let [a, b] = nns;
    stop(a).await;
    stop(b).await;
    cluster.shutdown().await;
}

/// The old Active allocates a block (logged, answer sent) and dies before any DataNode
/// reports it. The new Active read the block from the edit log, which carries no
/// pipeline, and no DataNode holds a replica. The client's addBlock retried there (same
/// client and call id, same `previous`) must get the same block with a pipeline chosen
/// now from the live DataNodes, as Hadoop does, not an empty location list ("no
/// DataNodes" to the client).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_block_retried_on_new_active_gets_a_fresh_pipeline() {
    let dir = temp_dir("ha-add-block-retry");
    let cluster = HaCluster::new(
        &dir,
        "haab",
        &[
            ("dfs.ha.tail-edits.period", "20ms"),
            ("dfs.namenode.safemode.extension", "0"),
        ],
    )
    .await;
    cluster.format().await;
    let nn1 = cluster.start("nn1").await;
    let nn2 = cluster.start("nn2").await;
    to_active(&nn1.addr).await;
    // HA DataNodes register with both NameNodes.
    let mut dns1 = Vec::new();
    let mut dns2 = Vec::new();
    for n in 1..=3 {
        dns1.push(FakeDn::join(&nn1.addr, n).await);
        dns2.push(FakeDn::join(&nn2.addr, n).await);
    }
    let live: Vec<String> = dns2.iter().map(|d| d.uuid().to_string()).collect();

    let client_id = Bytes::from_static(&[8u8; 16]);
    let c1 = connect(&nn1.addr, PROTOCOL, &client_id).await;
    let created: pb::CreateResponseProto = call(&c1, "create", &create_req("/pipeline/f", 3), 1, 0)
        .await
        .unwrap();
    let file_id = created.fs.as_ref().and_then(|s| s.file_id);
    let add_block = pb::AddBlockRequestProto {
        src: "/pipeline/f".into(),
        client_name: "DFSClient_hatest".into(),
        previous: None,
        file_id,
        ..Default::default()
    };
    let first: pb::AddBlockResponseProto = call(&c1, "addBlock", &add_block, 2, 0).await.unwrap();
    assert_eq!(first.block.locs.len(), 3, "pipeline on the old Active");
    let block = first.block.b.clone();

    // The Standby has tailed the block; then the Active dies.
    assert_standby_equal(&nn1.fsn, &nn2.fsn).await;
    stop(nn1).await;
    to_active(&nn2.addr).await;
    assert_eq!(
        nn2.bm.live_replicas(block.block_id),
        0,
        "no DataNode may have reported the block to the new Active"
    );
    for dn in &dns2 {
        dn.heartbeat().await;
    }

    let c2 = connect(&nn2.addr, PROTOCOL, &client_id).await;
    let retried: pb::AddBlockResponseProto = call(&c2, "addBlock", &add_block, 2, 0)
        .await
        .unwrap_or_else(|e| panic!("addBlock retried on the new Active: {e:?}"));
    assert_eq!(
        retried.block.b.block_id, block.block_id,
        "not the same block"
    );
    assert_eq!(
        retried.block.b.generation_stamp, block.generation_stamp,
        "not the same generation"
    );
    let mut chosen: Vec<String> = retried
        .block
        .locs
        .iter()
        .map(|l| l.id.datanode_uuid.clone())
        .collect();
    chosen.sort();
    assert_eq!(
        chosen, live,
        "the retried addBlock must get a pipeline of the three live DataNodes"
    );
    // The pipeline is remembered: the same retry again answers the same nodes.
    let again: pb::AddBlockResponseProto = call(&c2, "addBlock", &add_block, 3, 0).await.unwrap();
    assert_eq!(again.block.b.block_id, block.block_id);
    assert_eq!(again.block.locs.len(), 3, "{again:?}");

    drop(dns1);
    stop(nn2).await;
    cluster.shutdown().await;
}
