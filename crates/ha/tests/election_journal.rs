//! The built-in election end to end: `JournalElector`s against three in-process
//! JournalNodes over real IPC.

use std::time::{Duration, Instant};

use hafs_ha::zkfc::{ActiveNodeInfo, Elector, ElectorEvent, ElectorEvents};
use hafs_ha::zkfc::{JournalElector, JournalElectorConfig};
use hafs_journal::election::candidate::ElectionTiming;
use hafs_journal::protocol::QjournalUri;
use hafs_journal::server::JournalNodeConfig;
use hafs_testkit::{TempDir, TestJournalNode};

const LEASE: u64 = 900;
const RENEW: u64 = 200;
const MARGIN: u64 = 150;

struct Cluster {
    _tmp: TempDir,
    jns: Vec<TestJournalNode>,
}

impl Cluster {
    async fn start() -> Cluster {
        let tmp = TempDir::new("election");
        let mut jns = Vec::new();
        for i in 0..3 {
            // No peers and no sync-format: each node keeps exactly what it was sent.
            let config = JournalNodeConfig {
                sync_format: false,
                ..TestJournalNode::config(tmp.path().join(format!("jn{i}")))
            };
            jns.push(TestJournalNode::start(config, "127.0.0.1:0".parse().unwrap()).await);
        }
        Cluster { _tmp: tmp, jns }
    }

    fn elector(&self) -> (JournalElector, ElectorEvents) {
        let mut e = JournalElector::new(JournalElectorConfig {
            uri: QjournalUri {
                addrs: self.jns.iter().map(|j| j.addr.to_string()).collect(),
                journal_id: "ns1".into(),
            },
            timing: ElectionTiming::new(LEASE, RENEW, MARGIN, 10_000).unwrap(),
            rpc_timeout: Duration::from_millis(500),
        });
        let ev = e.take_events().unwrap();
        (e, ev)
    }
}

fn info(nn: &str, port: u16) -> ActiveNodeInfo {
    ActiveNodeInfo {
        nameservice_id: "ns1".into(),
        namenode_id: nn.into(),
        hostname: "127.0.0.1".into(),
        port,
        zkfc_port: port + 1,
    }
}

async fn next(ev: &mut ElectorEvents, within: Duration) -> Option<ElectorEvent> {
    tokio::time::timeout(within, ev.recv()).await.ok().flatten()
}

/// Waits for `want` (skipping other events).
async fn wait_for(
    ev: &mut ElectorEvents,
    within: Duration,
    want: fn(&ElectorEvent) -> bool,
) -> ElectorEvent {
    let end = Instant::now() + within;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match next(ev, left).await {
            Some(e) if want(&e) => return e,
            Some(_) => {}
            None => panic!("no matching event within {within:?}"),
        }
    }
}

fn active(e: &ElectorEvent) -> bool {
    matches!(e, ElectorEvent::BecameActive { .. })
}

fn standby(e: &ElectorEvent) -> bool {
    matches!(e, ElectorEvent::BecameStandby)
}

/// Elects one of two electors; returns (winner index, electors, event streams).
async fn elect_one(c: &Cluster) -> (usize, [(JournalElector, ElectorEvents); 2]) {
    let mut es = [c.elector(), c.elector()];
    es[0].0.join(info("nn1", 8020)).await.unwrap();
    es[1].0.join(info("nn2", 9020)).await.unwrap();
    // Exactly one wins; the other reports Standby. Both streams are read together and
    // every event is kept: the loser's one BecameStandby (not repeated while nothing
    // changes) may come first, and waiting on one stream at a time lost it (a 30 s
    // timeout now and then under load).
    let [(_, ev0), (_, ev1)] = &mut es;
    let end = Instant::now() + Duration::from_secs(30);
    let (mut winner, mut standby_seen) = (None, [false, false]);
    while winner.is_none_or(|w: usize| !standby_seen[1 - w]) {
        let left = end.saturating_duration_since(Instant::now());
        let (i, e) = tokio::select! {
            e = next(ev0, left) => (0, e),
            e = next(ev1, left) => (1, e),
        };
        match e {
            Some(e) if active(&e) => {
                assert!(winner.is_none(), "two electors became Active");
                winner = Some(i);
            }
            Some(e) if standby(&e) => standby_seen[i] = true,
            Some(_) => {}
            None => panic!("no election result within 30s (winner {winner:?})"),
        }
    }
    let winner = winner.expect("a winner");
    let loser = 1 - winner;
    assert!(es[winner].0.is_holder() && !es[loser].0.is_holder());
    (winner, es)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_electors_one_wins_and_the_breadcrumb_names_it() {
    let c = Cluster::start().await;
    let (w, es) = elect_one(&c).await;
    let me = if w == 0 {
        info("nn1", 8020)
    } else {
        info("nn2", 9020)
    };
    es[w].0.write_breadcrumb(&me).await.unwrap();
    let other = &es[1 - w].0;
    assert_eq!(other.current_active().await.unwrap(), Some(me.clone()));
    let e = other.write_breadcrumb(&info("x", 1)).await.unwrap_err();
    assert!(e.to_string().contains("not the lock holder"), "{e}");
    // The winner keeps the lease across many renewals; the loser never wins meanwhile.
    let end = Instant::now() + Duration::from_millis(LEASE * 3);
    while Instant::now() < end {
        assert!(es[w].0.is_holder() && !other.is_holder());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_winner_is_replaced_only_after_its_lease_expires() {
    let c = Cluster::start().await;
    let (w, es) = elect_one(&c).await;
    let [a, b] = es;
    let ((winner, _), (loser, mut loser_ev)) = if w == 0 { (a, b) } else { (b, a) };
    let winner_info = if w == 0 {
        info("nn1", 8020)
    } else {
        info("nn2", 9020)
    };
    winner.write_breadcrumb(&winner_info).await.unwrap();
    // The controller dies: nothing renews or releases the lease.
    drop(winner);
    let dropped = Instant::now();
    let e = wait_for(&mut loser_ev, Duration::from_secs(30), active).await;
    // The last renewal was at most RENEW before the drop, and the nodes wait a full
    // lease after it.
    assert!(
        dropped.elapsed() >= Duration::from_millis(LEASE - RENEW),
        "took over after {:?}",
        dropped.elapsed()
    );
    // It is told whom to fence.
    assert_eq!(
        e,
        ElectorEvent::BecameActive {
            previous: Some(winner_info)
        }
    );
    assert!(loser.is_holder());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_quit_hands_over_at_once_with_nothing_to_fence() {
    let c = Cluster::start().await;
    let (w, mut es) = elect_one(&c).await;
    let me = if w == 0 {
        info("nn1", 8020)
    } else {
        info("nn2", 9020)
    };
    es[w].0.write_breadcrumb(&me).await.unwrap();
    let t = Instant::now();
    es[w].0.quit(false).await.unwrap();
    let e = wait_for(&mut es[1 - w].1, Duration::from_secs(30), active).await;
    assert!(
        t.elapsed() < Duration::from_millis(LEASE),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(e, ElectorEvent::BecameActive { previous: None });
    // Joining again: standby behind the new holder.
    es[w].0.join(me).await.unwrap();
    wait_for(&mut es[w].1, Duration::from_secs(30), standby).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journalnode_restarts_never_allow_a_second_holder() {
    let mut c = Cluster::start().await;
    let (w, es) = elect_one(&c).await;
    // Restart every JournalNode, one after the other, while both electors run; at every
    // moment at most one believes it holds the lease.
    for i in 0..3 {
        c.jns[i].restart().await;
        let end = Instant::now() + Duration::from_millis(300);
        while Instant::now() < end {
            assert!(!(es[0].0.is_holder() && es[1].0.is_holder()), "two holders");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    // A majority was up all the time: the holder kept its lease.
    assert!(es[w].0.is_holder() && !es[1 - w].0.is_holder());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_minority_cannot_elect_and_the_holder_steps_down() {
    let mut c = Cluster::start().await;
    let (w, mut es) = elect_one(&c).await;
    // Cut the majority: two JournalNodes gone.
    c.jns[1].stop().await;
    c.jns[2].stop().await;
    let cut = Instant::now();
    wait_for(&mut es[w].1, Duration::from_millis(LEASE * 2), standby).await;
    // It stepped down no later than its deadline (lease - margin after its last renewal).
    assert!(
        cut.elapsed() <= Duration::from_millis(LEASE),
        "{:?}",
        cut.elapsed()
    );
    assert!(!es[w].0.is_holder());
    // Nobody is elected while only one node answers.
    let end = Instant::now() + Duration::from_millis(LEASE * 2);
    while Instant::now() < end {
        assert!(!es[0].0.is_holder() && !es[1].0.is_holder());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Back to a majority: someone is elected again.
    // (restart: on its address and dir again; it is already stopped.)
    c.jns[1].restart().await;
    let end = Instant::now() + Duration::from_secs(10);
    while !(es[0].0.is_holder() || es[1].0.is_holder()) {
        assert!(
            Instant::now() < end,
            "no holder after the majority came back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!(es[0].0.is_holder() && es[1].0.is_holder()));
}
