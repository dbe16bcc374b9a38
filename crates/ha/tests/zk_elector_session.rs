//! The ZooKeeper elector alone against a real ZooKeeper: one winner, and when the
//! winner's session dies (its client is dropped, as when its process is killed) the
//! other wins and learns from the breadcrumb whom to fence.

mod zk_support;

use std::time::Duration;

use hafs_conf::Configuration;
use hafs_ha::zkfc::{zk_elector, ActiveNodeInfo, Elector, ElectorEvent, ZkConf, ZkElector};
use tokio::time::timeout;
use zk_support::ZkServer;

fn conf(zk: &ZkServer) -> ZkConf {
    let mut c = Configuration::new();
    c.set("ha.zookeeper.quorum", zk.connect_string());
    c.set("ha.zookeeper.session-timeout.ms", "2000");
    c.set("hafs.ha.zookeeper.read-guard", "true");
    ZkConf::from_conf(&c, "ns1").unwrap().unwrap()
}

fn node(id: &str, port: u16) -> ActiveNodeInfo {
    ActiveNodeInfo {
        nameservice_id: "ns1".into(),
        namenode_id: id.into(),
        hostname: "127.0.0.1".into(),
        port,
        zkfc_port: port + 1,
    }
}

async fn next(ev: &mut hafs_ha::zkfc::ElectorEvents) -> ElectorEvent {
    timeout(Duration::from_secs(20), ev.recv())
        .await
        .expect("an election event within 20 s")
        .expect("elector running")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_winner_and_a_dead_session_hands_over_with_the_breadcrumb() {
    let zk = ZkServer::start(200);
    let c = conf(&zk);
    let admin = zk_elector::admin_connect(&c).await.unwrap();

    // Not formatted: no lock can be taken; the elector stays neutral and keeps trying.
    let mut e1 = ZkElector::start(c.clone());
    let mut ev1 = e1.take_events().unwrap();
    assert!(e1.take_events().is_none());
    e1.join(node("nn1", 1000)).await.unwrap();
    assert_eq!(next(&mut ev1).await, ElectorEvent::Neutral);
    assert!(timeout(Duration::from_millis(800), ev1.recv())
        .await
        .is_err());
    assert_eq!(e1.current_active().await.unwrap(), None);
    zk_elector::ensure_parent(&admin, &c).await.unwrap();
    assert_eq!(
        next(&mut ev1).await,
        ElectorEvent::BecameActive { previous: None }
    );
    e1.write_breadcrumb(&node("nn1", 1000)).await.unwrap();
    assert_eq!(e1.current_active().await.unwrap(), Some(node("nn1", 1000)));

    let mut e2 = ZkElector::start(c.clone());
    let mut ev2 = e2.take_events().unwrap();
    e2.join(node("nn2", 2000)).await.unwrap();
    assert_eq!(next(&mut ev2).await, ElectorEvent::BecameStandby);
    assert!(
        e2.write_breadcrumb(&node("nn2", 2000)).await.is_err(),
        "a loser cannot write the breadcrumb"
    );

    // The winner's session dies without a goodbye.
    drop(e1);
    assert_eq!(
        next(&mut ev2).await,
        ElectorEvent::BecameActive {
            previous: Some(node("nn1", 1000))
        }
    );
    e2.write_breadcrumb(&node("nn2", 2000)).await.unwrap();
    assert_eq!(e2.current_active().await.unwrap(), Some(node("nn2", 2000)));

    // A graceful quit (need_fence = false) also deletes our breadcrumb: the next winner
    // has nobody to fence.
    let mut e3 = ZkElector::start(c.clone());
    let mut ev3 = e3.take_events().unwrap();
    e3.join(node("nn3", 3000)).await.unwrap();
    assert_eq!(next(&mut ev3).await, ElectorEvent::BecameStandby);
    e2.quit(false).await.unwrap();
    assert_eq!(
        next(&mut ev3).await,
        ElectorEvent::BecameActive { previous: None }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn format_creates_checks_and_clears_the_parent_znode() {
    let zk = ZkServer::start(200);
    let c = conf(&zk);
    let admin = zk_elector::admin_connect(&c).await.unwrap();
    assert!(!zk_elector::parent_exists(&admin, &c).await.unwrap());
    zk_elector::ensure_parent(&admin, &c).await.unwrap();
    assert!(zk_elector::parent_exists(&admin, &c).await.unwrap());
    assert!(admin.check_stat("/hadoop-ha").await.unwrap().is_some());
    // Idempotent, and clear removes the election's znodes too.
    zk_elector::ensure_parent(&admin, &c).await.unwrap();
    let mut e = ZkElector::start(c.clone());
    let mut ev = e.take_events().unwrap();
    e.join(node("nn1", 1000)).await.unwrap();
    assert!(matches!(
        next(&mut ev).await,
        ElectorEvent::BecameActive { .. }
    ));
    e.write_breadcrumb(&node("nn1", 1000)).await.unwrap();
    drop(e);
    zk_elector::clear_parent(&admin, &c).await.unwrap();
    assert!(!zk_elector::parent_exists(&admin, &c).await.unwrap());
    assert!(
        admin.check_stat("/hadoop-ha").await.unwrap().is_some(),
        "only <parent>/<ns> is cleared"
    );
}

/// The read guard (docs/election.md): only the lock holder publishes a deadline, never
/// later than its session allows (`sent + timeout − margin`, `sent` before a request
/// ZooKeeper answered), and its periodic refresh keeps the deadline moving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_lock_holder_publishes_a_read_guard_deadline_bounded_by_its_session() {
    let zk = ZkServer::start(200);
    let c = conf(&zk);
    let admin = zk_elector::admin_connect(&c).await.unwrap();
    zk_elector::ensure_parent(&admin, &c).await.unwrap();
    // 2 s session, 1 % drift: margin 41 ms.
    let bound = Duration::from_millis(2000 - 41);

    let mut e1 = ZkElector::start(c.clone());
    let mut ev1 = e1.take_events().unwrap();
    let mut d1 = e1
        .lease_deadline()
        .expect("the ZooKeeper elector guards reads");
    assert_eq!(*d1.borrow(), None, "no deadline before winning");
    let joined = tokio::time::Instant::now();
    e1.join(node("nn1", 1000)).await.unwrap();
    assert!(matches!(
        next(&mut ev1).await,
        ElectorEvent::BecameActive { .. }
    ));
    // Published before the event: the controller hands it over before transitionToActive.
    let first = d1.borrow_and_update().expect("the winner has a deadline");
    assert!(first > joined && first <= joined + bound + Duration::from_secs(1));
    assert!(first <= tokio::time::Instant::now() + bound);

    // Refreshed every quarter session: it moves forward, never past the bound.
    let mut latest = first;
    let watch_until = tokio::time::Instant::now() + Duration::from_millis(2500);
    let mut moves = 0;
    while tokio::time::Instant::now() < watch_until {
        if timeout(Duration::from_millis(200), d1.changed())
            .await
            .is_ok()
        {
            let d = d1.borrow_and_update().expect("still the holder");
            assert!(d > latest, "the deadline went back");
            assert!(d <= tokio::time::Instant::now() + bound);
            latest = d;
            moves += 1;
        }
    }
    assert!(moves >= 2, "the deadline moved {moves} times in 2.5 s");
    assert!(
        latest > tokio::time::Instant::now(),
        "the guard lapsed while held"
    );

    // A loser has none; a quitting holder drops its own before the other wins.
    let mut e2 = ZkElector::start(c.clone());
    let mut ev2 = e2.take_events().unwrap();
    let d2 = e2.lease_deadline().unwrap();
    e2.join(node("nn2", 2000)).await.unwrap();
    assert_eq!(next(&mut ev2).await, ElectorEvent::BecameStandby);
    assert_eq!(*d2.borrow(), None);
    e1.quit(true).await.unwrap();
    assert_eq!(
        *d1.borrow(),
        None,
        "a controller out of the election has no deadline"
    );
    assert!(matches!(
        next(&mut ev2).await,
        ElectorEvent::BecameActive { .. }
    ));
    assert!(d2.borrow().is_some());
}
