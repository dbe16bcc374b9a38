//! `hafs sandbox [--dir DIR] [--zookeeper | --manual-failover]`: a complete local HA
//! cluster in the foreground, for trying hafs and for demos: three JournalNodes, two
//! NameNodes of nameservice `hafs` each with its failover controller (`hafs zkfc`),
//! and three DataNodes (replication 3). The controllers elect the Active through the
//! JournalNodes (the built-in election) by default, or through a standalone ZooKeeper
//! the sandbox starts with `--zookeeper` (Debian package `zookeeper`);
//! `--manual-failover` runs no controllers and makes nn1 Active by hand, as before.
//! Each role runs as its own child process (`hafs journalnode`, `hafs namenode`,
//! `hafs zkfc`, `hafs datanode`) so it can be killed, failed over and restarted like a
//! real daemon. It writes a Hadoop conf dir to `DIR/conf` (an HA nameservice:
//! `fs.defaultFS = hdfs://hafs`) that hafs, the Java client and hdfs-native use as is,
//! prints one `sandbox ready:` line listing every daemon with its pid, which NameNode
//! is Active and which pid to kill to see a failover, and stops every child cleanly on
//! SIGINT/SIGTERM.
//!
//! `--nameservices N` runs N such nameservices, `ns1`..`nsN` (a federation): each with
//! its own NameNodes and controllers (daemons `ns1-nn1`, `zkfc-ns1-nn1`, ...), all
//! sharing the JournalNodes (one journal each) and the DataNodes (one block pool
//! each). The conf dir then makes `fs.defaultFS` the ViewFs mount table
//! `viewfs://hafs`, with `/nsK` mounted on `hdfs://nsK/` and every other path falling
//! back to `hdfs://ns1/`: paths read as on one nameservice, and `/nsK` says where a
//! file lives (see `hafs_cluster::site::viewfs_site`).
//!
//! The sandbox supervises its daemons, like monit or systemd's `Restart=on-failure`
//! (policy in `hafs_cluster::supervisor`; the cluster itself is
//! `hafs_cluster::HaCluster`): any daemon that exits (NameNode, controller,
//! JournalNode, DataNode, ZooKeeper) is reported in one line (name, pid, exit status
//! or signal) and started again with the same conf dir, ports and storage, so that it
//! rejoins (a JournalNode catches up, a DataNode registers again and reports its
//! blocks), after a back-off of 0.5 s that doubles with each recent restart up to 8 s.
//! A dead NameNode under automatic failover is started again only once the other one
//! took over, so it comes back as Standby. `<name> is back (pid N)` is printed when it
//! serves again, and each change of the Active. A daemon that keeps dying (a sixth
//! death after five restarts within a minute) is given up on, with the last lines of
//! its log; the rest keeps serving.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use hafs_cluster::ha_cluster::NameNodeInfo;
use hafs_cluster::{AutoTimeouts, Control, Election, HaCluster, Layout};
use hafs_conf::Configuration;

mod secure_sandbox;

use hafs_cluster::supervisor::{
    Decision, Supervisor, MAX_RESTARTS, RESTART_WINDOW, START_TIMEOUT, TAKEOVER_WAIT,
};

const USAGE: &str = "\
Usage: hafs sandbox [--dir DIR] [--zookeeper | --manual-failover] [--secure [PROTECTION]]
                    [--racks R] [--observers K] [--nameservices N]

  --dir DIR           where the cluster lives (default: $TMPDIR/hafs-sandbox); kept
                      across runs
  --zookeeper         elect the Active through a standalone ZooKeeper started by the
                      sandbox (Debian package `zookeeper`) instead of the JournalNodes
  --manual-failover   no failover controllers: nn1 is made Active, failovers are
                      `hafs haadmin -failover nn1 nn2`
  --secure [PROT]     Kerberos: a throwaway KDC (realm HAFS.TEST, needs the Debian
                      packages krb5-kdc, krb5-admin-server, krb5-user), every daemon
                      with its own keytab, hadoop.rpc.protection PROT (authentication,
                      integrity or privacy; default privacy); the ready line says how
                      to get a ticket
  --racks R           rack awareness: each DataNode on its own address (dn1 on
                      127.0.0.2, dn2 on 127.0.0.3, ...), max(3, R) DataNodes spread
                      over /rack1../rackR by a topology script in the conf dir
  --observers K       K more NameNodes (nn3, ...; up to 3) started as Observers: they
                      serve reads of clients using ObserverReadProxyProvider, which
                      the conf dir names (dfs.namenode.state.context.enabled is on)
  --nameservices N    N HA nameservices ns1..nsN (a federation; up to 8), each with
                      its own NameNodes (and Observers), sharing the JournalNodes and
                      the DataNodes; the conf dir's fs.defaultFS is the ViewFs mount
                      table viewfs://hafs: /nsK is nameservice nsK, every other path
                      is on ns1
";
/// The most nameservices `--nameservices` starts: each brings two or more NameNodes,
/// and a laptop runs them all.
const MAX_NAMESERVICES: usize = 8;
/// The sandbox's nameservice id.
pub const NAMESERVICE: &str = "hafs";

pub async fn run(_conf: Configuration, args: &[String]) -> anyhow::Result<i32> {
    let mut dir = std::env::temp_dir().join("hafs-sandbox");
    let (mut zookeeper, mut manual) = (false, false);
    let mut secure: Option<String> = None;
    let mut racks = 0usize;
    let mut observers = 0usize;
    let mut nameservices = 1usize;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--dir" | "-dir" => {
                dir = PathBuf::from(args.get(i + 1).context("--dir needs a directory")?);
                i += 1;
            }
            "--zookeeper" | "-zookeeper" => zookeeper = true,
            "--manual-failover" | "-manual-failover" => manual = true,
            "--secure" | "-secure" => {
                let protection = match args.get(i + 1) {
                    Some(p) if !p.starts_with('-') => {
                        i += 1;
                        p.clone()
                    }
                    _ => "privacy".to_string(),
                };
                secure = Some(protection);
            }
            "--racks" | "-racks" => {
                let v = args.get(i + 1).context("--racks needs a number of racks")?;
                racks = match v.parse::<usize>() {
                    Ok(r) if (1..=hafs_cluster::topology::MAX_HOSTS).contains(&r) => r,
                    _ => bail!(
                        "--racks takes 1 to {} racks, not '{v}'\n{USAGE}",
                        hafs_cluster::topology::MAX_HOSTS
                    ),
                };
                i += 1;
            }
            "--observers" | "-observers" => {
                let v = args.get(i + 1).context("--observers needs a number")?;
                observers = match v.parse::<usize>() {
                    // HDFS allows five NameNodes per nameservice; two are not Observers.
                    Ok(k) if k <= 3 => k,
                    _ => bail!("--observers takes 0 to 3 Observers, not '{v}'\n{USAGE}"),
                };
                i += 1;
            }
            "--nameservices" | "-nameservices" => {
                let v = args.get(i + 1).context("--nameservices needs a number")?;
                nameservices = match v.parse::<usize>() {
                    Ok(n) if (1..=MAX_NAMESERVICES).contains(&n) => n,
                    _ => bail!(
                        "--nameservices takes 1 to {MAX_NAMESERVICES} nameservices, not '{v}'\n{USAGE}"
                    ),
                };
                i += 1;
            }
            "-h" | "--help" | "-help" => {
                print!("{USAGE}");
                return Ok(0);
            }
            other => bail!("unknown option '{other}'\n{USAGE}"),
        }
        i += 1;
    }
    let election = match (zookeeper, manual) {
        (true, true) => bail!("--zookeeper and --manual-failover exclude each other\n{USAGE}"),
        (true, false) => Election::ZooKeeper,
        (false, true) => Election::Manual,
        (false, false) => Election::Journal,
    };
    let realm = match &secure {
        Some(protection) => Some(secure_sandbox::start(&dir, protection)?),
        None => None,
    };
    let mut layout = Layout {
        nameservice: NAMESERVICE.to_string(),
        nameservices,
        namenodes: 2,
        journalnodes: 3,
        datanodes: racks.max(3),
        racks,
        observers,
        // A JournalNode the sandbox restarted is written to again from the next log
        // segment on; the segments it missed meanwhile come from its peers' copies
        // (the JournalNode syncer). Every 5 s rather than Hadoop's 2 minutes, so that
        // it holds the whole journal again while the user still watches: one manifest
        // call per peer per round, nothing on loopback.
        extra: vec![
            (
                "dfs.journalnode.sync.interval".to_string(),
                "5000".to_string(),
            ),
            // Every daemon serves /prom, for a Prometheus pointed at the sandbox.
            (
                "hadoop.prometheus.endpoint.enabled".to_string(),
                "true".to_string(),
            ),
        ],
    };
    if let Some(realm) = &realm {
        layout.extra.extend(realm.site.iter().cloned());
    }
    let control = Control {
        election,
        timeouts: AutoTimeouts::SANDBOX,
        nn1_port: Some(8020),
    };
    let hafs_bin = std::env::current_exe().context("locating the hafs binary")?;
    let mut cluster = HaCluster::start_with(&hafs_bin, &dir, &layout, control).await?;
    let actives = cluster.actives().await;
    let mut ready = ready_line(&cluster, &actives).await;
    if let Some(realm) = &realm {
        if let Err(e) = realm.prepare_namespace(&hafs_bin, &cluster.conf_dir) {
            cluster.stop().await;
            return Err(e);
        }
        ready.push_str(&realm.ready_hint());
    }
    println!("{ready}");
    let _ = std::io::stdout().flush();

    watch(&mut cluster, &actives).await;
    cluster.stop().await;
    eprintln!("sandbox stopped");
    Ok(0)
}

/// The `sandbox ready:` line: every daemon with its pid and state, and what to try.
async fn ready_line(cluster: &HaCluster, actives: &[Option<usize>]) -> String {
    let pid = |name: &str| cluster.pid(name).unwrap_or(0);
    let mut nns = Vec::new();
    for (i, nn) in cluster.namenodes.iter().enumerate() {
        let state = cluster
            .state(i)
            .await
            .map_or("not answering", |s| s.as_str());
        let zkfc = nn.zkfc.as_ref().map_or(String::new(), |a| {
            format!(", controller {a} pid {}", pid(&format!("zkfc-{}", nn.name)))
        });
        nns.push(format!(
            "{} {} (pid {}, {state}{zkfc})",
            nn.name,
            nn.rpc,
            pid(&nn.name)
        ));
    }
    let list = |daemons: &[(String, String)]| -> String {
        daemons
            .iter()
            .map(|(n, a)| format!("{n} {a} (pid {})", pid(n)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let conf_dir = cluster.conf_dir.display().to_string();
    let election = match cluster.election {
        Election::Manual => "manual failover".to_string(),
        Election::Journal => {
            "automatic failover, built-in election on the JournalNodes".to_string()
        }
        Election::ZooKeeper => format!(
            "automatic failover, ZooKeeper election (zookeeper pid {})",
            pid("zookeeper")
        ),
    };
    let active_names: Vec<&str> = actives
        .iter()
        .map(|a| {
            a.map_or("none (see the NameNode logs)", |i| {
                cluster.namenodes[i].name.as_str()
            })
        })
        .collect();
    let federated = cluster.nameservices.len() > 1;
    let first_active = actives.first().copied().flatten();
    let try_failover = match (cluster.election, first_active) {
        (Election::Manual, _) if federated => format!(
            "hafs --config {conf_dir} haadmin -ns {} -failover nn1 nn2",
            cluster.nameservices[0]
        ),
        (Election::Manual, _) => {
            format!("hafs --config {conf_dir} haadmin -failover nn1 nn2")
        }
        (_, Some(i)) => {
            // The next NameNode of the same nameservice.
            let peers: Vec<&NameNodeInfo> = cluster
                .namenodes
                .iter()
                .filter(|n| n.ns == cluster.namenodes[i].ns)
                .collect();
            let at = peers
                .iter()
                .position(|n| n.name == cluster.namenodes[i].name)
                .unwrap_or(0);
            let other = &peers[(at + 1) % peers.len()].name;
            let p = pid(&cluster.namenodes[i].name);
            format!(
                "{} is Active (pid {p}): try kill -9 {p} and watch {other} take over",
                cluster.namenodes[i].name
            )
        }
        (_, None) => "no NameNode is Active yet; see the controllers' logs".to_string(),
    };
    let serves = if federated {
        let table = &cluster.nameservices;
        let mounts: Vec<String> = table
            .iter()
            .map(|ns| format!("/{ns} on hdfs://{ns}"))
            .collect();
        format!(
            "nameservices {}; mount table viewfs://{NAMESERVICE}: {}, every other path on hdfs://{}",
            table
                .iter()
                .map(|ns| format!("hdfs://{ns}"))
                .collect::<Vec<_>>()
                .join(", "),
            mounts.join(", "),
            table[0]
        )
    } else {
        format!("nameservice hdfs://{NAMESERVICE}")
    };
    format!(
        "sandbox ready: {serves}; {election}; active {}; \
         namenodes {}; journalnodes {}; datanodes {}; conf {conf_dir}; logs {}; \
         try: HADOOP_CONF_DIR={conf_dir} hafs dfs -ls / ; {try_failover}",
        active_names.join(", "),
        nns.join(", "),
        list(&cluster.journalnodes),
        list(&cluster.datanodes),
        cluster.logs.display(),
    )
}

/// How often the sandbox looks at its children and asks which NameNode is Active.
const POLL: Duration = Duration::from_millis(250);
/// How much of a given-up daemon's log is printed with the report: enough for the
/// error and what led to it.
const LOG_TAIL_LINES: usize = 20;

/// Supervises every daemon until SIGINT/SIGTERM: reports each exit in one line and
/// restarts it as [`Supervisor`] decides, reports when it serves again, and prints
/// each change of a nameservice's Active NameNode.
async fn watch(cluster: &mut HaCluster, actives: &[Option<usize>]) {
    let mut supervisor = Supervisor::default();
    let automatic = cluster.election.is_automatic();
    for name in cluster.daemon_names() {
        match cluster.namenodes.iter().find(|n| n.name == name) {
            // A NameNode restarted while its controller's election is still running
            // could be chosen again before another took over: wait for the takeover
            // by one of its nameservice.
            Some(nn) if automatic => {
                let peers: Vec<String> = cluster
                    .namenodes
                    .iter()
                    .filter(|p| p.ns == nn.ns && p.name != nn.name)
                    .map(|p| p.name.clone())
                    .collect();
                supervisor.watch_namenode(&name, &peers);
            }
            _ => supervisor.watch(&name, false),
        }
    }
    let mut active: Vec<Option<String>> = actives
        .iter()
        .map(|a| a.map(|i| cluster.namenodes[i].name.clone()))
        .collect();
    let stop = crate::shutdown::shutdown_signal();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = tokio::time::sleep(POLL) => {}
        }
        for exit in cluster.reap() {
            let what = format!("{} (pid {}) exited ({})", exit.name, exit.pid, exit.status);
            decide(cluster, &mut supervisor, &exit.name, &what, Instant::now());
        }
        active = report_active(cluster, active).await;
        let now_active: Vec<&str> = active.iter().flatten().map(String::as_str).collect();
        for name in supervisor.due(Instant::now(), &now_active) {
            if let Err(e) = cluster.start(&name).await {
                let what = format!("{name} could not be started ({e:#})");
                decide(cluster, &mut supervisor, &name, &what, Instant::now());
            }
        }
        check_starting(cluster, &mut supervisor).await;
    }
}

/// Asks the supervisor what to do about daemon `name`, which died as `what` says, and
/// reports it in one line (with the end of its log when it is given up on).
fn decide(cluster: &HaCluster, supervisor: &mut Supervisor, name: &str, what: &str, now: Instant) {
    match supervisor.exited(name, now) {
        Some(Decision::Restart {
            after,
            nth,
            after_takeover,
        }) => {
            let when = if after_takeover {
                format!(
                    "as Standby once the other NameNode is Active (at most {}s)",
                    TAKEOVER_WAIT.as_secs()
                )
            } else {
                format!("in {}s", after.as_secs_f64())
            };
            println!(
                "sandbox: {what}; restarting it {when} (restart {nth} of at most \
                 {MAX_RESTARTS} within {}s)",
                RESTART_WINDOW.as_secs()
            );
        }
        Some(Decision::GiveUp { restarts }) => {
            let log = cluster.log_of(name);
            eprintln!(
                "sandbox: {what}; giving up on it after {restarts} restarts within {}s, \
                 the others keep serving; last lines of {}:",
                RESTART_WINDOW.as_secs(),
                log.display()
            );
            for line in cluster.log_tail(name, LOG_TAIL_LINES) {
                eprintln!("    | {line}");
            }
        }
        // Not supervised or already given up on: nothing to restart.
        None => tracing::debug!(daemon = name, "exit of an unsupervised daemon ignored"),
    }
    let _ = std::io::stdout().flush();
}

/// Reports each restarted daemon that serves again; kills one that did not within
/// [`START_TIMEOUT`] (its exit is reaped and decided on like any other).
async fn check_starting(cluster: &mut HaCluster, supervisor: &mut Supervisor) {
    for name in supervisor.starting() {
        if cluster.serving(&name).await {
            supervisor.serving(&name);
            let pid = cluster.pid(&name).unwrap_or(0);
            let manual_nn = !cluster.election.is_automatic()
                && cluster.namenodes.iter().any(|n| n.name == name);
            let hint = if manual_nn {
                " as Standby; with manual failover `hafs haadmin -transitionToActive` \
                 chooses the Active"
            } else {
                ""
            };
            println!("sandbox: {name} is back (pid {pid}){hint}");
            let _ = std::io::stdout().flush();
        } else if supervisor.start_timed_out(&name, Instant::now()) {
            eprintln!(
                "sandbox: {name} did not serve within {}s of its restart; killing it",
                START_TIMEOUT.as_secs()
            );
            cluster.kill(&name);
        }
    }
}

/// Prints each change of a nameservice's Active NameNode; returns the one Active now
/// per nameservice (the last one known when none answers Active, as during a
/// failover).
async fn report_active(cluster: &HaCluster, known: Vec<Option<String>>) -> Vec<Option<String>> {
    let now = cluster.actives().await;
    now.into_iter()
        .zip(known)
        .map(|(now, known)| {
            let Some(i) = now else {
                return known;
            };
            let name = cluster.namenodes[i].name.clone();
            if known.as_deref() != Some(name.as_str()) {
                println!(
                    "sandbox: {name} is now Active (pid {})",
                    cluster.pid(&name).unwrap_or(0)
                );
                let _ = std::io::stdout().flush();
            }
            Some(name)
        })
        .collect()
}
