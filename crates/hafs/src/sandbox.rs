//! `hafs sandbox [--dir DIR]`: a complete local HA cluster in the foreground, for
//! trying hafs and for demos: three JournalNodes, two NameNodes of nameservice `hafs`
//! (nn1 Active, nn2 Standby) and three DataNodes (replication 3). Each role runs as its
//! own child process (`hafs journalnode`, `hafs namenode`, `hafs datanode`) so it can
//! be killed, failed over and restarted like a real daemon. It writes a Hadoop conf
//! dir to `DIR/conf` (an HA nameservice: `fs.defaultFS = hdfs://hafs`) that hafs, the
//! Java client and hdfs-native use as is, prints one `sandbox ready:` line listing
//! every daemon with its pid and which NameNode is Active, and stops every child
//! cleanly on SIGINT/SIGTERM.

pub mod ha_cluster;

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};
use hafs_conf::Configuration;

use ha_cluster::{HaCluster, Layout};

const USAGE: &str = "Usage: hafs sandbox [--dir DIR]";
/// The sandbox's nameservice id.
pub const NAMESERVICE: &str = "hafs";

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
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--dir" | "-dir" => {
                dir = PathBuf::from(args.get(i + 1).context("--dir needs a directory")?);
                i += 2;
            }
            "-h" | "--help" | "-help" => {
                println!("{USAGE}");
                return Ok(0);
            }
            other => bail!("unknown option '{other}'\n{USAGE}"),
        }
    }
    let layout = Layout {
        nameservice: NAMESERVICE.to_string(),
        namenodes: 2,
        journalnodes: 3,
        datanodes: 3,
        extra: Vec::new(),
    };
    let mut cluster = HaCluster::start(&dir, &layout).await?;
    let mut states = Vec::new();
    for i in 0..cluster.namenodes.len() {
        states.push(
            cluster
                .state(i)
                .await
                .map_or("not answering", |s| s.as_str()),
        );
    }
    let active = states
        .iter()
        .position(|s| *s == "active")
        .map_or("none (see the NameNode logs)", |i| {
            cluster.namenodes[i].id.as_str()
        });
    let pid = |name: &str| cluster.pid(name).unwrap_or(0);
    let jns: Vec<String> = cluster
        .journalnodes
        .iter()
        .map(|(n, a)| format!("{n} {a} (pid {})", pid(n)))
        .collect();
    let mut nns = Vec::new();
    for (nn, state) in cluster.namenodes.iter().zip(&states) {
        nns.push(format!(
            "{} {} (pid {}, {state})",
            nn.id,
            nn.rpc,
            pid(&nn.id)
        ));
    }
    let dns: Vec<String> = cluster
        .datanodes
        .iter()
        .map(|(n, a)| format!("{n} {a} (pid {})", pid(n)))
        .collect();
    let conf_dir = cluster.conf_dir.display().to_string();
    println!(
        "sandbox ready: nameservice hdfs://{NAMESERVICE}; active {active}; namenodes {}; \
         journalnodes {}; datanodes {}; conf {conf_dir}; logs {}; \
         try: HADOOP_CONF_DIR={conf_dir} hafs dfs -ls / ; hafs --config {conf_dir} haadmin -failover nn1 nn2",
        nns.join(", "),
        jns.join(", "),
        dns.join(", "),
        cluster.logs.display(),
    );
    let _ = std::io::stdout().flush();

    let code = tokio::select! {
        _ = shutdown_signal() => 0,
        (name, status) = cluster.first_exit() => {
            eprintln!("sandbox: {name} exited unexpectedly ({status}); stopping the others");
            1
        }
    };
    cluster.stop().await;
    eprintln!("sandbox stopped");
    Ok(code)
}
