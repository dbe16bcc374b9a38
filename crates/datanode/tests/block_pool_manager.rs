//! `refreshNamenodes` on the DataNode's side: the BlockPoolManager against fake
//! NameNodes served over real IPC — a nameservice dropped from the configuration stops
//! being served (no more heartbeats), a new one registers, one whose NameNode list
//! changed is restarted, and one left alone is not disturbed.

mod actor_support;

use std::net::SocketAddr;

use actor_support::*;
use hafs_datanode::block_pool_manager::{BlockPoolManager, RefreshOutcome};
use hafs_datanode::datanode::BlockPoolConfig;
use hafs_proto::hdfs::datanode::nnha_status_heartbeat_proto::State;

fn pool(ns: &str, addrs: &[SocketAddr]) -> BlockPoolConfig {
    BlockPoolConfig {
        nameservice: ns.to_string(),
        namenodes: addrs.iter().map(|a| a.to_string()).collect(),
    }
}

fn heartbeats(nn: &FakeNameNode) -> usize {
    nn.rec(|r| r.heartbeats.len())
}

fn registrations(nn: &FakeNameNode) -> usize {
    nn.rec(|r| r.registrations.len())
}

/// Waits for `n` more heartbeats at `nn` (the services that run go on running).
async fn more_heartbeats(nn: &FakeNameNode, n: usize) {
    let from = heartbeats(nn);
    wait_for("more heartbeats", 5, || heartbeats(nn) >= from + n).await;
}

#[tokio::test]
async fn refresh_starts_new_stops_dropped_and_restarts_changed_nameservices() {
    let nns: Vec<_> = (0..4)
        .map(|_| FakeNameNode::new(State::Active, 1))
        .collect();
    let mut served = Vec::new();
    for nn in &nns {
        served.push(serve_nn(nn).await);
    }
    let [a, b, c, d] = [0, 1, 2, 3].map(|i| served[i].addr);
    let (ns1, ns2, ns3, ns1b) = (&nns[0], &nns[1], &nns[2], &nns[3]);
    let m = BlockPoolManager::start(
        &[pool("ns1", &[a]), pool("ns2", &[b])],
        datanode_id(),
        fast_settings(),
        FakeOps::new(),
    );
    more_heartbeats(ns2, 2).await;
    more_heartbeats(ns1, 2).await;
    assert!(m.serves_block_pool(BPID).await);

    // ns2 dropped, ns3 added; ns1 untouched.
    let out = m.refresh(&[pool("ns1", &[a]), pool("ns3", &[c])]).await;
    assert_eq!(
        out,
        RefreshOutcome {
            added: vec!["ns3".into()],
            removed: vec!["ns2".into()],
            refreshed: vec![],
        }
    );
    assert_eq!(m.nameservices().await, ["ns1", "ns3"]);
    wait_for("ns3's registration", 5, || registrations(ns3) == 1).await;
    more_heartbeats(ns1, 3).await;
    let ns2_heartbeats = heartbeats(ns2);
    more_heartbeats(ns1, 5).await;
    assert_eq!(heartbeats(ns2), ns2_heartbeats, "ns2 is still served");
    assert_eq!(registrations(ns1), 1, "ns1's service was restarted");

    // ns1 gains a NameNode: its service restarts with both; ns3 untouched.
    let out = m.refresh(&[pool("ns1", &[a, d]), pool("ns3", &[c])]).await;
    assert_eq!(
        out,
        RefreshOutcome {
            refreshed: vec!["ns1".into()],
            ..RefreshOutcome::default()
        }
    );
    wait_for("ns1 registered at both NameNodes", 5, || {
        registrations(ns1) == 2 && registrations(ns1b) == 1
    })
    .await;
    assert_eq!(registrations(ns3), 1);

    // The same configuration again changes nothing.
    assert_eq!(
        m.refresh(&[pool("ns1", &[a, d]), pool("ns3", &[c])]).await,
        RefreshOutcome::default()
    );
    m.stop_all().await;
    assert!(!m.serves_block_pool(BPID).await);
    assert!(m.nameservices().await.is_empty());
}

#[tokio::test]
async fn all_refused_follows_the_refreshed_set() {
    let foreign = FakeNameNode::new(State::Active, 1);
    foreign.behaviour.lock().unwrap().cluster_id = "CID-other".into();
    let good = FakeNameNode::new(State::Active, 1);
    let (sf, sg) = (serve_nn(&foreign).await, serve_nn(&good).await);
    let m = BlockPoolManager::start(
        &[pool("ns1", &[sf.addr]), pool("ns2", &[sg.addr])],
        datanode_id(),
        fast_settings(),
        FakeOps::new(),
    );
    more_heartbeats(&good, 2).await;
    // ns2 is served: not everything refused.
    let waited = tokio::time::timeout(std::time::Duration::from_millis(300), m.all_refused()).await;
    assert!(waited.is_err(), "all_refused fired while ns2 is served");
    // A refresh leaving only the foreign nameservice: now everything refused.
    m.refresh(&[pool("ns1", &[sf.addr])]).await;
    tokio::time::timeout(std::time::Duration::from_secs(5), m.all_refused())
        .await
        .expect("only a refusing nameservice is left");
    m.stop_all().await;
}
