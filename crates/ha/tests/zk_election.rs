//! Automatic failover through a real ZooKeeper (Debian's `zookeeper` package): two
//! controllers beside two fake NameNodes.

mod zk_support;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use hafs_conf::Configuration;
use hafs_ha::zkfc::health::HealthSettings;
use hafs_ha::zkfc::protocol::{ZkfcClient, ZkfcOps, ZkfcProtocolService};
use hafs_ha::zkfc::{
    zk_elector, ActiveNodeInfo, FailoverRequestError, ZkConf, ZkElector, Zkfc, ZkfcSettings,
};
use hafs_ha::{FailoverTimeouts, HaServiceState, HaTarget, NodeFencer};
use hafs_ipc::{ClientConfig, RpcService, Server, ServerConfig};
use zk_support::{wait_until, FakeNameNode, ZkServer};

const NS: &str = "ns1";
const SESSION_MS: u64 = 2000;

fn zk_conf(zk: &ZkServer) -> ZkConf {
    let mut c = Configuration::new();
    c.set("ha.zookeeper.quorum", zk.connect_string());
    c.set("ha.zookeeper.session-timeout.ms", SESSION_MS.to_string());
    ZkConf::from_conf(&c, NS).unwrap().unwrap()
}

async fn format(zk: &ZkServer) {
    let conf = zk_conf(zk);
    let client = zk_elector::admin_connect(&conf).await.unwrap();
    zk_elector::ensure_parent(&client, &conf).await.unwrap();
}

fn target(id: &str, nn: &FakeNameNode) -> HaTarget {
    HaTarget {
        nameservice_id: NS.into(),
        namenode_id: id.into(),
        address: nn.addr.to_string(),
        host: "127.0.0.1".into(),
        port: nn.addr.port(),
        auto_failover_enabled: true,
    }
}

#[derive(Default)]
struct LateOps(OnceLock<Arc<dyn ZkfcOps>>);

#[async_trait]
impl ZkfcOps for LateOps {
    async fn cede_active(&self, millis: u32) -> Result<(), FailoverRequestError> {
        self.0.get().expect("set").cede_active(millis).await
    }
    async fn graceful_failover(&self) -> Result<(), FailoverRequestError> {
        self.0.get().expect("set").graceful_failover().await
    }
}

/// One controller with its ZKFCProtocol server.
struct Controller {
    zkfc: Option<Zkfc>,
    zkfc_addr: String,
    stop_server: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Controller {
    async fn stop(&mut self) {
        if let Some(z) = self.zkfc.take() {
            z.stop().await.unwrap();
        }
        if let Some(s) = self.stop_server.take() {
            let _ = s.send(());
        }
    }
}

/// Starts controllers for `nns` (ids nn1, nn2, ...); every NameNode is fenced by a
/// shell method that records `<id>` in `fence_log`.
async fn start_controllers(
    zk: &ZkServer,
    nns: &[&FakeNameNode],
    fence_log: &std::path::Path,
) -> Vec<Controller> {
    let ids: Vec<String> = (1..=nns.len()).map(|i| format!("nn{i}")).collect();
    let mut servers = Vec::new();
    for _ in nns {
        let ops = Arc::new(LateOps::default());
        let svc: Arc<dyn RpcService> = Arc::new(ZkfcProtocolService::new(ops.clone()));
        let server = Server::bind(ServerConfig::new(([127, 0, 0, 1], 0).into()), vec![svc])
            .await
            .unwrap();
        servers.push((ops, server));
    }
    let addrs: Vec<String> = servers
        .iter()
        .map(|(_, s)| s.local_addr().to_string())
        .collect();
    let mut conf = Configuration::new();
    conf.set(
        "dfs.ha.fencing.methods",
        format!("shell(echo $target_namenodeid >> {})", fence_log.display()),
    );
    conf.set(
        "ha.failover-controller.graceful-fence.rpc-timeout.ms",
        "1000",
    );
    conf.set("ha.failover-controller.new-active.rpc-timeout.ms", "5000");
    let mut out = Vec::new();
    for (i, (ops, server)) in servers.into_iter().enumerate() {
        let me = ActiveNodeInfo {
            nameservice_id: NS.into(),
            namenode_id: ids[i].clone(),
            hostname: "127.0.0.1".into(),
            port: nns[i].addr.port(),
            zkfc_port: server.local_addr().port(),
        };
        let peers = (0..nns.len())
            .filter(|&j| j != i)
            .map(|j| (target(&ids[j], nns[j]), addrs[j].clone()))
            .collect();
        let settings = ZkfcSettings {
            me,
            local: target(&ids[i], nns[i]),
            peers,
            health: HealthSettings {
                check_interval: Duration::from_millis(100),
                rpc_timeout: Duration::from_millis(1000),
            },
            timeouts: FailoverTimeouts::from_conf(&conf),
            base: ClientConfig::new("zkfc-test"),
            fencer: NodeFencer::from_conf(&conf).unwrap().unwrap(),
        };
        let zkfc = Zkfc::start(settings, Box::new(ZkElector::start(zk_conf(zk)))).unwrap();
        let _ = ops.0.set(zkfc.ops());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(server.run(async move {
            let _ = rx.await;
        }));
        out.push(Controller {
            zkfc: Some(zkfc),
            zkfc_addr: addrs[i].clone(),
            stop_server: Some(tx),
        });
    }
    out
}

fn actives(nns: &[&FakeNameNode]) -> Vec<usize> {
    nns.iter()
        .enumerate()
        .filter(|(_, n)| n.ha_state() == HaServiceState::Active)
        .map(|(i, _)| i)
        .collect()
}

fn fence_log(name: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("hafs-zkfc-{name}-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&p);
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_controllers_elect_one_and_the_survivor_fences_the_dead_one_via_the_breadcrumb() {
    let zk = ZkServer::start(200);
    format(&zk).await;
    let (a, b) = (FakeNameNode::start().await, FakeNameNode::start().await);
    let nns = [&a, &b];
    let log = fence_log("elect");
    let mut ctl = start_controllers(&zk, &nns, &log).await;
    wait_until(Duration::from_secs(20), "one Active", || {
        actives(&nns).len() == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let winner = actives(&nns);
    assert_eq!(winner.len(), 1, "exactly one Active after the election");
    let (w, l) = (winner[0], 1 - winner[0]);
    assert_eq!(nns[l].ha_state(), HaServiceState::Standby);
    assert!(
        nns[l]
            .state
            .lock()
            .unwrap()
            .transitions
            .contains(&HaServiceState::Standby),
        "the loser was made Standby by its controller"
    );
    // The breadcrumb names the winner.
    let conf = zk_conf(&zk);
    let client = zk_elector::admin_connect(&conf).await.unwrap();
    let (data, _) = client.get_data(&conf.breadcrumb_path()).await.unwrap();
    assert_eq!(
        ActiveNodeInfo::from_bytes(&data).unwrap().namenode_id,
        format!("nn{}", w + 1)
    );

    // The winner's controller goes away while its NameNode stays up and Active, and
    // refuses to step down: the lock is released but the breadcrumb still names it, so
    // the other controller must fence it with the configured method.
    nns[w].state.lock().unwrap().refuse_standby = true;
    ctl[w].zkfc.take().unwrap().stop().await.unwrap();
    wait_until(
        Duration::from_secs(20),
        "the survivor becomes Active",
        || nns[l].ha_state() == HaServiceState::Active,
    )
    .await;
    let fenced = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(
        fenced.trim(),
        format!("nn{}", w + 1),
        "the old Active was fenced by shell()"
    );
    let (data, _) = client.get_data(&conf.breadcrumb_path()).await.unwrap();
    assert_eq!(
        ActiveNodeInfo::from_bytes(&data).unwrap().namenode_id,
        format!("nn{}", l + 1)
    );
    for c in &mut ctl {
        c.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zookeeper_down_keeps_the_active_and_elections_resume_when_it_returns() {
    let mut zk = ZkServer::start(200);
    format(&zk).await;
    let (a, b) = (FakeNameNode::start().await, FakeNameNode::start().await);
    let nns = [&a, &b];
    let log = fence_log("zkdown");
    let mut ctl = start_controllers(&zk, &nns, &log).await;
    wait_until(Duration::from_secs(20), "one Active", || {
        actives(&nns).len() == 1
    })
    .await;
    let w = actives(&nns)[0];
    let l = 1 - w;

    zk.kill();
    // Well past the session timeout: the sessions expire on the client side too.
    for _ in 0..(3 * SESSION_MS / 100) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            actives(&nns),
            vec![w],
            "the Active stays Active while ZooKeeper is down"
        );
    }
    assert!(
        std::fs::read_to_string(&log).unwrap_or_default().is_empty(),
        "nobody was fenced"
    );

    zk.restart();
    for _ in 0..(3 * SESSION_MS / 100) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(actives(&nns), vec![w], "no flapping when ZooKeeper returns");
    }
    // Elections work again: the Active becomes unhealthy, the other takes over.
    nns[w].set_healthy(false);
    wait_until(
        Duration::from_secs(20),
        "the other NameNode becomes Active",
        || nns[l].ha_state() == HaServiceState::Active,
    )
    .await;
    assert_eq!(
        nns[w].ha_state(),
        HaServiceState::Standby,
        "fenced gracefully"
    );
    for c in &mut ctl {
        c.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_failover_through_the_controllers_moves_the_active() {
    let zk = ZkServer::start(200);
    format(&zk).await;
    let (a, b) = (FakeNameNode::start().await, FakeNameNode::start().await);
    let nns = [&a, &b];
    let log = fence_log("graceful");
    let mut ctl = start_controllers(&zk, &nns, &log).await;
    wait_until(Duration::from_secs(20), "one Active", || {
        actives(&nns).len() == 1
    })
    .await;
    let w = actives(&nns)[0];
    let l = 1 - w;
    // The Active's own controller: already Active, nothing to do.
    let client = |i: usize| ZkfcClient::new(ctl[i].zkfc_addr.clone(), ClientConfig::new("test"));
    client(w).graceful_failover().await.unwrap();
    assert_eq!(actives(&nns), vec![w]);
    // The Standby's controller takes over: the Active cedes, no fencing method runs.
    client(l).graceful_failover().await.unwrap();
    assert_eq!(actives(&nns), vec![l]);
    assert_eq!(nns[w].ha_state(), HaServiceState::Standby);
    assert!(
        std::fs::read_to_string(&log).unwrap_or_default().is_empty(),
        "no fencing needed"
    );
    // And back.
    tokio::time::sleep(Duration::from_millis(300)).await;
    client(w).graceful_failover().await.unwrap();
    assert_eq!(actives(&nns), vec![w]);
    for c in &mut ctl {
        c.stop().await;
    }
}
