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
//! SIGINT/SIGTERM. With automatic failover a NameNode that dies is started again
//! (as Standby) once the other one has taken over, a controller that dies is started
//! again at once, and each change of the Active is printed.

pub mod ha_cluster;
pub mod zookeeper;

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context};
use hafs_conf::Configuration;

use ha_cluster::{AutoTimeouts, Control, Election, HaCluster, Layout};

const USAGE: &str = "\
Usage: hafs sandbox [--dir DIR] [--zookeeper | --manual-failover]

  --dir DIR           where the cluster lives (default: $TMPDIR/hafs-sandbox); kept
                      across runs
  --zookeeper         elect the Active through a standalone ZooKeeper started by the
                      sandbox (Debian package `zookeeper`) instead of the JournalNodes
  --manual-failover   no failover controllers: nn1 is made Active, failovers are
                      `hafs haadmin -failover nn1 nn2`
";
/// The sandbox's nameservice id.
pub const NAMESERVICE: &str = "hafs";
/// How long a dead NameNode's partner gets to take over before the sandbox restarts
/// the dead one anyway.
const TAKEOVER_WAIT: Duration = Duration::from_secs(30);

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {},
                _ = tokio::signal::ctrl_c() => {},
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

pub async fn run(_conf: Configuration, args: &[String]) -> anyhow::Result<i32> {
    let mut dir = std::env::temp_dir().join("hafs-sandbox");
    let (mut zookeeper, mut manual) = (false, false);
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--dir" | "-dir" => {
                dir = PathBuf::from(args.get(i + 1).context("--dir needs a directory")?);
                i += 1;
            }
            "--zookeeper" | "-zookeeper" => zookeeper = true,
            "--manual-failover" | "-manual-failover" => manual = true,
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
    let layout = Layout {
        nameservice: NAMESERVICE.to_string(),
        namenodes: 2,
        journalnodes: 3,
        datanodes: 3,
        // A JournalNode the sandbox restarted is written to again from the next log
        // segment on; the segments it missed meanwhile come from its peers' copies
        // (the JournalNode syncer). Every 5 s rather than Hadoop's 2 minutes, so that
        // it holds the whole journal again while the user still watches: one manifest
        // call per peer per round, nothing on loopback.
        extra: vec![(
            "dfs.journalnode.sync.interval".to_string(),
            "5000".to_string(),
        )],
    };
    let control = Control {
        election,
        timeouts: AutoTimeouts::SANDBOX,
        nn1_port: Some(8020),
    };
    let mut cluster = HaCluster::start_with(&dir, &layout, control).await?;
    let active = cluster.active().await;
    println!("{}", ready_line(&cluster, active).await);
    let _ = std::io::stdout().flush();

    let code = watch(&mut cluster, active).await;
    cluster.stop().await;
    eprintln!("sandbox stopped");
    Ok(code)
}

/// The `sandbox ready:` line: every daemon with its pid and state, and what to try.
async fn ready_line(cluster: &HaCluster, active: Option<usize>) -> String {
    let pid = |name: &str| cluster.pid(name).unwrap_or(0);
    let mut nns = Vec::new();
    for (i, nn) in cluster.namenodes.iter().enumerate() {
        let state = cluster
            .state(i)
            .await
            .map_or("not answering", |s| s.as_str());
        let zkfc = nn.zkfc.as_ref().map_or(String::new(), |a| {
            format!(", controller {a} pid {}", pid(&format!("zkfc-{}", nn.id)))
        });
        nns.push(format!(
            "{} {} (pid {}, {state}{zkfc})",
            nn.id,
            nn.rpc,
            pid(&nn.id)
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
    let active_id = active.map_or("none (see the NameNode logs)", |i| {
        cluster.namenodes[i].id.as_str()
    });
    let try_failover = match (cluster.election, active) {
        (Election::Manual, _) => {
            format!("hafs --config {conf_dir} haadmin -failover nn1 nn2")
        }
        (_, Some(i)) => {
            let other = &cluster.namenodes[(i + 1) % cluster.namenodes.len()].id;
            let p = pid(&cluster.namenodes[i].id);
            format!(
                "{} is Active (pid {p}): try kill -9 {p} and watch {other} take over",
                cluster.namenodes[i].id
            )
        }
        (_, None) => "no NameNode is Active yet; see the controllers' logs".to_string(),
    };
    format!(
        "sandbox ready: nameservice hdfs://{NAMESERVICE}; {election}; active {active_id}; \
         namenodes {}; journalnodes {}; datanodes {}; conf {conf_dir}; logs {}; \
         try: HADOOP_CONF_DIR={conf_dir} hafs dfs -ls / ; {try_failover}",
        nns.join(", "),
        list(&cluster.journalnodes),
        list(&cluster.datanodes),
        cluster.logs.display(),
    )
}

/// Runs until SIGINT/SIGTERM (0) or a child that is not a NameNode or controller exits
/// (1). With automatic failover, prints each change of the Active, restarts a
/// NameNode that died once the other one took over, and a controller that died.
async fn watch(cluster: &mut HaCluster, mut active: Option<usize>) -> i32 {
    let automatic = cluster.election.is_automatic();
    let stop = shutdown_signal();
    tokio::pin!(stop);
    loop {
        let exit = tokio::select! {
            _ = &mut stop => return 0,
            exit = cluster.first_exit() => exit,
            _ = tokio::time::sleep(Duration::from_millis(250)), if automatic => {
                let now = cluster.active().await;
                if now.is_some() && now != active {
                    let id = now.map_or("", |i| cluster.namenodes[i].id.as_str());
                    println!("sandbox: {id} is now Active (pid {})", cluster.pid(id).unwrap_or(0));
                    let _ = std::io::stdout().flush();
                    active = now;
                }
                continue;
            }
        };
        let (name, status) = exit;
        let controller_of = cluster
            .namenodes
            .iter()
            .position(|n| format!("zkfc-{}", n.id) == name);
        if let Some(i) = controller_of {
            // Its lease or ZooKeeper session ends on its own; the other controller takes
            // over if this one's NameNode was Active. The new incarnation joins afresh.
            println!("sandbox: {name} exited ({status}); restarting it");
            let _ = std::io::stdout().flush();
            if let Err(e) = cluster.restart_controller(i).await {
                eprintln!("sandbox: restarting {name} failed: {e:#}; stopping the others");
                return 1;
            }
            println!(
                "sandbox: {name} is back (pid {})",
                cluster.pid(&name).unwrap_or(0)
            );
            let _ = std::io::stdout().flush();
            continue;
        }
        let nn = cluster.namenodes.iter().position(|n| n.id == name);
        let Some(nn) = nn.filter(|_| automatic) else {
            eprintln!("sandbox: {name} exited unexpectedly ({status}); stopping the others");
            return 1;
        };
        println!("sandbox: {name} exited ({status}); its controller leaves the election");
        let _ = std::io::stdout().flush();
        let deadline = tokio::time::Instant::now() + TAKEOVER_WAIT;
        let mut took_over = None;
        while took_over.is_none() && tokio::time::Instant::now() < deadline {
            took_over = cluster.active().await.filter(|&i| i != nn);
            if took_over.is_none() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        if let Some(i) = took_over.filter(|&i| Some(i) != active) {
            let id = &cluster.namenodes[i].id;
            println!(
                "sandbox: {id} is now Active (pid {})",
                cluster.pid(id).unwrap_or(0)
            );
            active = Some(i);
        }
        println!("sandbox: restarting {name}; it comes back as Standby");
        let _ = std::io::stdout().flush();
        if let Err(e) = cluster.restart_namenode(nn).await {
            eprintln!("sandbox: restarting {name} failed: {e:#}; stopping the others");
            return 1;
        }
        println!(
            "sandbox: {name} is back (pid {})",
            cluster.pid(&name).unwrap_or(0)
        );
        let _ = std::io::stdout().flush();
    }
}
