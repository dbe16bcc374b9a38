//! `hafs sandbox [--dir DIR]`: a complete local cluster in the foreground, for trying
//! hafs and for demos: a NameNode and three DataNodes (replication 3). Each role runs
//! as its own child process (`hafs namenode`, `hafs datanode`, ...)
//! so it can be killed and restarted like a real daemon. It writes a Hadoop conf dir
//! to `DIR/conf` that any client can use, prints one `sandbox ready:` line when it
//! serves, and stops every child cleanly on SIGINT/SIGTERM.

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context};
use hafs_conf::Configuration;
use tokio::process::{Child, Command};

const USAGE: &str = "Usage: hafs sandbox [--dir DIR]";
/// How long a child gets to stop after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// How long the NameNode gets to start serving.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// DataNodes in the sandbox: enough for replication 3.
const DATANODES: [&str; 3] = ["datanode1", "datanode2", "datanode3"];

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

struct Daemon {
    name: &'static str,
    child: Child,
    log: PathBuf,
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
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let dir = dir.canonicalize()?;
    let conf_dir = dir.join("conf");
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs)?;
    let nn_port = previous_port(&conf_dir).unwrap_or_else(|| pick_port(8020));
    let hdfs_site = write_conf(&dir, &conf_dir, nn_port)?;
    let exe = std::env::current_exe().context("locating the hafs binary")?;

    let name_dir = dir.join("nn1").join("name");
    if !name_dir.join("current").join("VERSION").exists() {
        let status = Command::new(&exe)
            .arg("--config")
            .arg(&conf_dir)
            .args(["namenode", "-format", "-nonInteractive", "-force"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(logs.join("format.log"))?)
            .status()
            .await?;
        if !status.success() {
            bail!(
                "formatting the NameNode failed; see {}",
                logs.join("format.log").display()
            );
        }
    }

    let mut daemons = vec![spawn(&exe, &conf_dir, &logs, "namenode", &["namenode"])?];
    let addr = format!("127.0.0.1:{nn_port}");
    if let Err(e) = wait_for_port(&addr, &mut daemons).await {
        stop_all(&mut daemons).await;
        return Err(e);
    }
    let pid = daemons[0].child.id().unwrap_or(0);
    let mut dn_summary = Vec::new();
    for (i, name) in DATANODES.iter().enumerate() {
        let (dn_conf, xfer) = write_datanode_conf(&dir, &conf_dir, &hdfs_site, i + 1)?;
        daemons.push(spawn(&exe, &dn_conf, &logs, name, &["datanode"])?);
        if let Err(e) = wait_for_port(&xfer, &mut daemons).await {
            stop_all(&mut daemons).await;
            return Err(e);
        }
        let pid = daemons.last().and_then(|d| d.child.id()).unwrap_or(0);
        dn_summary.push(format!("{name} {xfer} (pid {pid})"));
    }
    println!(
        "sandbox ready: namenode hdfs://{addr} (pid {pid}); datanodes {}; conf {}; logs {}; \
         try: HADOOP_CONF_DIR={} hafs dfs -ls /",
        dn_summary.join(", "),
        conf_dir.display(),
        logs.display(),
        conf_dir.display()
    );
    let _ = std::io::stdout().flush();

    let code = tokio::select! {
        _ = shutdown_signal() => 0,
        (name, status) = first_exit(&mut daemons) => {
            eprintln!("sandbox: {name} exited unexpectedly ({status}); stopping the others");
            1
        }
    };
    stop_all(&mut daemons).await;
    eprintln!("sandbox stopped");
    Ok(code)
}

fn spawn(
    exe: &Path,
    conf_dir: &Path,
    logs: &Path,
    name: &'static str,
    args: &[&str],
) -> anyhow::Result<Daemon> {
    let log = logs.join(format!("{name}.log"));
    let out = std::fs::File::create(&log)?;
    let child = Command::new(exe)
        .arg("--config")
        .arg(conf_dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {name}"))?;
    Ok(Daemon { name, child, log })
}

async fn wait_for_port(addr: &str, daemons: &mut [Daemon]) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + START_TIMEOUT;
    // Bounded by START_TIMEOUT.
    while tokio::time::Instant::now() < deadline {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        for d in daemons.iter_mut() {
            if let Ok(Some(status)) = d.child.try_wait() {
                bail!(
                    "{} exited during startup ({status}); see {}",
                    d.name,
                    d.log.display()
                );
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("nothing started serving on {addr} within {START_TIMEOUT:?}")
}

async fn first_exit(daemons: &mut [Daemon]) -> (&'static str, std::process::ExitStatus) {
    // Polled: a handful of children, checked every 200 ms.
    loop {
        for d in daemons.iter_mut() {
            if let Ok(Some(status)) = d.child.try_wait() {
                return (d.name, status);
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn stop_all(daemons: &mut [Daemon]) {
    for d in daemons.iter() {
        if let Some(pid) = d.child.id() {
            // SAFETY: kill(2) on our own child's pid.
            unsafe {
                libc::kill(pid as libc::pid_t, libc::SIGTERM);
            }
        }
    }
    for d in daemons.iter_mut() {
        match tokio::time::timeout(STOP_GRACE, d.child.wait()).await {
            Ok(_) => {}
            Err(_) => {
                eprintln!(
                    "sandbox: {} did not stop in {STOP_GRACE:?}; killing it",
                    d.name
                );
                let _ = d.child.kill().await;
            }
        }
    }
}

fn previous_port(conf_dir: &Path) -> Option<u16> {
    let conf = Configuration::load(Some(conf_dir)).ok()?;
    let fs = conf.get("fs.defaultFS")?;
    fs.rsplit(':').next()?.trim_end_matches('/').parse().ok()
}

fn pick_port(preferred: u16) -> u16 {
    if TcpListener::bind(("127.0.0.1", preferred)).is_ok() {
        return preferred;
    }
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(preferred)
}

/// Writes the shared conf dir; returns the hdfs-site.xml entries, which each
/// DataNode's own conf dir extends.
fn write_conf(
    dir: &Path,
    conf_dir: &Path,
    nn_port: u16,
) -> anyhow::Result<Vec<(&'static str, String)>> {
    std::fs::create_dir_all(conf_dir)?;
    let fs = format!("hdfs://127.0.0.1:{nn_port}");
    hafs_conf::write_site_xml(
        &conf_dir.join("core-site.xml"),
        &[("fs.defaultFS", fs.as_str())],
    )?;
    let name_dir = format!("file://{}", dir.join("nn1").join("name").display());
    let hdfs_site: Vec<(&'static str, String)> = vec![
        ("dfs.namenode.name.dir", name_dir),
        ("dfs.replication", "3".into()),
        // A local sandbox: clients should give up quickly when it is down.
        ("dfs.client.failover.max.attempts", "3".into()),
        ("dfs.client.failover.sleep.base.millis", "100".into()),
        ("dfs.client.failover.sleep.max.millis", "1000".into()),
        ("ipc.client.connect.max.retries", "3".into()),
        ("ipc.client.connect.retry.interval", "200".into()),
    ];
    write_pairs(&conf_dir.join("hdfs-site.xml"), &hdfs_site)?;
    Ok(hdfs_site)
}

fn write_pairs(path: &Path, pairs: &[(&str, String)]) -> anyhow::Result<()> {
    let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    hafs_conf::write_site_xml(path, &refs)?;
    Ok(())
}

/// Writes DataNode `n`'s conf dir (`DIR/dn<n>/conf`): the shared files plus its own
/// data dir and ports, kept from a previous run so its storage stays where it was.
/// Returns the conf dir and the data transfer address.
fn write_datanode_conf(
    dir: &Path,
    conf_dir: &Path,
    shared_hdfs: &[(&'static str, String)],
    n: usize,
) -> anyhow::Result<(PathBuf, String)> {
    let home = dir.join(format!("dn{n}"));
    let dn_conf = home.join("conf");
    let previous = Configuration::load(Some(&dn_conf)).ok();
    let port_of = |key: &str| {
        previous
            .as_ref()
            .and_then(|c| c.get(key))
            .and_then(|v| v.rsplit(':').next().and_then(|p| p.parse::<u16>().ok()))
            .unwrap_or_else(free_port)
    };
    let xfer = format!("127.0.0.1:{}", port_of("dfs.datanode.address"));
    let ipc = format!("127.0.0.1:{}", port_of("dfs.datanode.ipc.address"));
    let http = format!("127.0.0.1:{}", port_of("dfs.datanode.http.address"));
    std::fs::create_dir_all(&dn_conf)?;
    std::fs::copy(
        conf_dir.join("core-site.xml"),
        dn_conf.join("core-site.xml"),
    )?;
    let mut hdfs = shared_hdfs.to_vec();
    hdfs.push((
        "dfs.datanode.data.dir",
        format!("file://{}", home.join("data").display()),
    ));
    hdfs.push(("dfs.datanode.address", xfer.clone()));
    hdfs.push(("dfs.datanode.ipc.address", ipc));
    hdfs.push(("dfs.datanode.http.address", http));
    write_pairs(&dn_conf.join("hdfs-site.xml"), &hdfs)?;
    Ok((dn_conf, xfer))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(9866)
}
