//! The election's lease calls on in-process JournalNodes over real IPC: grants, refusals
//! while another holder is live, expiry, and a restart that must not allow a second
//! holder.

mod qjm_common;

use std::time::{Duration, Instant};

use hafs_ipc::{ClientConfig, RpcClient};
use hafs_journal::protocol::{jid, QJOURNAL_PROTOCOL};
use hafs_proto::qjournal as pb;
use qjm_common::Quorum;

const JID: &str = "ns1";

fn client(addr: &str) -> RpcClient {
    let cfg = ClientConfig {
        connect_timeout: Duration::from_secs(2),
        call_timeout: Duration::from_secs(5),
        ..ClientConfig::default()
    };
    RpcClient::new(addr.to_string(), QJOURNAL_PROTOCOL, cfg)
}

async fn acquire(
    c: &RpcClient,
    who: &str,
    term: u64,
    ms: u64,
) -> Result<pb::LeaseStateProto, String> {
    let r: pb::AcquireLeaseResponseProto = c
        .call(
            "acquireLease",
            &pb::AcquireLeaseRequestProto {
                jid: jid(JID),
                candidate: who.into(),
                term,
                duration_ms: ms,
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(r.state)
}

async fn renew(c: &RpcClient, who: &str, term: u64) -> Result<pb::LeaseStateProto, String> {
    let r: pb::RenewLeaseResponseProto = c
        .call(
            "renewLease",
            &pb::RenewLeaseRequestProto {
                jid: jid(JID),
                holder: who.into(),
                term,
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(r.state)
}

async fn state(c: &RpcClient) -> pb::LeaseStateProto {
    let r: pb::GetLeaseStateResponseProto = c
        .call(
            "getLeaseState",
            &pb::GetLeaseStateRequestProto { jid: jid(JID) },
        )
        .await
        .unwrap();
    r.state
}

#[tokio::test]
async fn grant_refuse_while_live_then_grant_after_expiry() {
    let q = Quorum::start(3).await;
    let cs: Vec<RpcClient> = q.addrs().iter().map(|a| client(a)).collect();
    let t0 = Instant::now();
    for c in &cs {
        let s = acquire(c, "a", 1, 800).await.unwrap();
        assert!(s.live && s.holder.as_deref() == Some("a") && s.term == 1);
    }
    for c in &cs {
        let e = acquire(c, "b", 2, 800).await.unwrap_err();
        assert!(e.contains("held by a"), "{e}");
    }
    // Breadcrumb: only the live holder writes it; everyone reads it.
    let w: Result<pb::WriteBreadcrumbResponseProto, _> = cs[0]
        .call(
            "writeBreadcrumb",
            &pb::WriteBreadcrumbRequestProto {
                jid: jid(JID),
                holder: "b".into(),
                term: 2,
                data: b"B".to_vec().into(),
            },
        )
        .await;
    assert!(w.is_err());
    let w: pb::WriteBreadcrumbResponseProto = cs[0]
        .call(
            "writeBreadcrumb",
            &pb::WriteBreadcrumbRequestProto {
                jid: jid(JID),
                holder: "a".into(),
                term: 1,
                data: b"A".to_vec().into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(w.state.breadcrumb.unwrap().data.as_ref(), b"A");
    // Expiry by the nodes' clocks: at least the duration after the grant was requested.
    loop {
        if acquire(&cs[0], "b", 2, 800).await.is_ok() {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(5), "never expired");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        t0.elapsed() >= Duration::from_millis(800),
        "granted early: {:?}",
        t0.elapsed()
    );
    // The old holder can no longer renew there; the new one sees a's breadcrumb.
    assert!(renew(&cs[0], "a", 1).await.is_err());
    let s = state(&cs[0]).await;
    assert_eq!((s.term, s.holder.as_deref(), s.live), (2, Some("b"), true));
    assert_eq!(s.breadcrumb.unwrap().data.as_ref(), b"A");
}

#[tokio::test]
async fn a_restarted_journalnode_does_not_grant_a_second_holder() {
    let mut q = Quorum::start(3).await;
    let addrs = q.addrs();
    let lease = 1500;
    {
        let cs: Vec<RpcClient> = addrs.iter().map(|a| client(a)).collect();
        for c in &cs {
            acquire(c, "a", 7, lease).await.unwrap();
        }
    }
    // Crash and restart two of the three right after the grant: a majority that has
    // forgotten every clock reading.
    let restarted = Instant::now();
    q.jns[0].restart_with_peers(vec![]).await;
    q.jns[1].restart_with_peers(vec![]).await;
    let cs: Vec<RpcClient> = q.addrs().iter().map(|a| client(a)).collect();
    let s = state(&cs[0]).await;
    assert!(s.live, "the persisted holder is live after a restart");
    assert_eq!((s.term, s.holder.as_deref()), (7, Some("a")));
    for c in &cs {
        let e = acquire(c, "b", 8, lease).await.unwrap_err();
        assert!(e.contains("held by a"), "{e}");
    }
    // The holder keeps its lease across the restart by renewing.
    for c in &cs[..2] {
        renew(c, "a", 7).await.unwrap();
    }
    let renewed = Instant::now();
    // No grant to b on the restarted nodes before a full duration after that renewal.
    loop {
        let ok = acquire(&cs[0], "b", 8, lease).await.is_ok();
        if ok {
            break;
        }
        assert!(
            restarted.elapsed() < Duration::from_secs(10),
            "never granted"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        renewed.elapsed() >= Duration::from_millis(lease),
        "granted {:?} after the last renewal (lease {lease} ms)",
        renewed.elapsed()
    );
}

#[tokio::test]
async fn terms_only_go_up_across_restarts() {
    let mut q = Quorum::start(1).await;
    let c = client(&q.addrs()[0]);
    acquire(&c, "a", 3, 100).await.unwrap();
    q.jns[0].restart_with_peers(vec![]).await;
    let c = client(&q.addrs()[0]);
    // The restarted node loads the lease at its first use and waits a full duration
    // from then.
    assert!(state(&c).await.live);
    tokio::time::sleep(Duration::from_millis(150)).await;
    let e = acquire(&c, "b", 3, 100).await.unwrap_err();
    assert!(e.contains("not above the last granted term 3"), "{e}");
    acquire(&c, "b", 4, 100).await.unwrap();
    let s = state(&c).await;
    assert_eq!(s.term, 4);
}
