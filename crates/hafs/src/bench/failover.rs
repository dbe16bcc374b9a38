//! `hafs bench failover --manual`: how long a manual failover takes and how far a
//! Standby trails the Active, on a local HA cluster of child processes (3 JournalNodes,
//! 2 NameNodes, DataNodes) under a continuous write load.
//!
//! Method (also in docs/ha.md):
//! - Load: `--writers` tasks, each creating directories (`mkdirs`, one edit each)
//!   through the nameservice with our client, as fast as acknowledgements come back.
//! - Failover time, per round: t0 when the failover starts; `transitionToStandby` of the
//!   Active, then `transitionToActive` of the Standby (what `hafs haadmin -failover`
//!   does when the graceful step succeeds); a probe client pinned to the new Active then
//!   retries one `mkdirs` every millisecond until it is acknowledged at t1. Failover
//!   time = t1 − t0: from the failover command to the new Active serving writes.
//!   Reported next to it: the first acknowledged load write after the transition
//!   (what a client of the nameservice sees, including its failover back-off).
//! - Tailing lag: with `dfs.ha.allow.stale.reads = true` (Hadoop's key; a Standby
//!   then serves reads of its possibly stale namespace), a probe creates a directory on
//!   the Active (acknowledged at ta) and polls `getFileInfo` of it on the Standby
//!   every millisecond until it is seen at ts; lag = ts − ta, while the load runs. A
//!   Standby that refuses reads leaves the lag unmeasured (reported as such). The
//!   Standbys tail with the NameNode's default `dfs.ha.tail-edits.period` and the
//!   journal's default commit heartbeat (`hafs.qjournal.commit-heartbeat.ms`).

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use hafs_client::DfsClient;
use hafs_conf::Configuration;

use super::failover_common::{met, ms, pinned_client, stats, Load};
use hafs_cluster::{Control, HaCluster, Layout};

const USAGE: &str = "\
Usage: hafs bench failover --manual [options]

Runs a local HA cluster (3 JournalNodes, 2 NameNodes, DataNodes) as child processes,
a write load, then manual failovers in both directions, and reports the failover time
(failover command -> first write acknowledged by the new Active) and the Standby's
tailing lag under load (write acknowledged by the Active -> visible on the Standby).

Options:
  --manual            manual failover (HAServiceProtocol transitions); required
  --rounds N          failovers (default 10, alternating nn1->nn2, nn2->nn1)
  --writers N         concurrent load writers (default 4)
  --interval-ms MS    load time between failovers (default 1000)
  --lag-probes N      tailing-lag samples (default 300)
  --datanodes N       DataNodes (default 1)
  --files N           both NameNodes start holding N closed one-block files (an
                      fsimage built here, past the journals' last txid; default 0).
                      No DataNode holds those blocks: safe mode is off
                      (threshold 0) and the blocks count as missing
  --kill              each round kills the Active (kill -9) instead of asking it to
                      step down, makes the Standby Active, and restarts the killed
                      NameNode as the next Standby
  --dir DIR           work dir (default: a fresh temp dir, removed afterwards)
";

/// Aims from the HA issue.
const AIM_FAILOVER: Duration = Duration::from_millis(300);
const AIM_LAG_P99: Duration = Duration::from_millis(50);
/// Bounds on each wait, so a broken cluster ends the benchmark instead of hanging it.
const PROBE_LIMIT: Duration = Duration::from_secs(20);
const LAG_LIMIT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
struct Options {
    rounds: usize,
    writers: usize,
    interval: Duration,
    lag_probes: usize,
    datanodes: usize,
    files: u64,
    kill: bool,
    dir: Option<std::path::PathBuf>,
}

fn parse(args: &[String]) -> anyhow::Result<Option<Options>> {
    let mut o = Options {
        rounds: 10,
        writers: 4,
        interval: Duration::from_millis(1000),
        lag_probes: 300,
        datanodes: 1,
        files: 0,
        kill: false,
        dir: None,
    };
    let mut manual = false;
    let mut i = 0;
    while i < args.len() {
        let flag = args[i].clone();
        let next = args.get(i + 1).cloned();
        let mut value = |what: &str| -> anyhow::Result<String> {
            i += 1;
            next.clone().with_context(|| format!("{flag} needs {what}"))
        };
        match flag.as_str() {
            "--manual" | "-manual" => manual = true,
            "--rounds" => o.rounds = value("a count")?.parse().context("--rounds")?,
            "--writers" => o.writers = value("a count")?.parse().context("--writers")?,
            "--interval-ms" => {
                o.interval = Duration::from_millis(value("ms")?.parse().context("--interval-ms")?)
            }
            "--lag-probes" => o.lag_probes = value("a count")?.parse().context("--lag-probes")?,
            "--datanodes" => o.datanodes = value("a count")?.parse().context("--datanodes")?,
            "--files" => o.files = value("a count")?.parse().context("--files")?,
            "--kill" => o.kill = true,
            "--dir" => o.dir = Some(value("a directory")?.into()),
            "-h" | "-help" | "--help" => {
                print!("{USAGE}");
                return Ok(None);
            }
            other => bail!("unknown option '{other}'\n{USAGE}"),
        }
        i += 1;
    }
    if !manual {
        bail!("only manual failover is measured here: pass --manual\n{USAGE}");
    }
    if o.files > 200_000_000 {
        bail!("--files: at most 200000000");
    }
    if o.rounds == 0 || o.writers == 0 || o.writers > 64 || o.lag_probes > 100_000 {
        bail!("--rounds and --writers must be positive, --writers at most 64, --lag-probes at most 100000");
    }
    Ok(Some(o))
}

pub async fn run(_conf: &Configuration, args: &[String]) -> anyhow::Result<i32> {
    let Some(opts) = parse(args)? else {
        return Ok(0);
    };
    let (dir, remove) = match &opts.dir {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!("hafs-bench-failover-{}", std::process::id())),
            true,
        ),
    };
    let mut layout = Layout {
        nameservice: "benchfo".to_string(),
        nameservices: 1,
        namenodes: 2,
        journalnodes: 3,
        datanodes: opts.datanodes,
        racks: 0,
        observers: 0,
        extra: vec![
            ("dfs.ha.allow.stale.reads".into(), "true".into()),
            // The NameNode's own default (the sandbox's conf sets a slower one).
            (
                "dfs.ha.tail-edits.period".into(),
                format!(
                    "{}ms",
                    hafs_namenode::config::HA_TAIL_PERIOD_DEFAULT.as_millis()
                ),
            ),
            ("dfs.client.failover.sleep.base.millis".into(), "10".into()),
            ("dfs.client.failover.sleep.max.millis".into(), "200".into()),
            ("dfs.client.failover.max.attempts".into(), "100".into()),
        ],
    };
    eprintln!("starting the cluster in {}", dir.display());
    // Any free port for nn1: a benchmark must not compete with a sandbox for 8020.
    let control = Control {
        nn1_port: None,
        ..Control::MANUAL
    };
    if opts.files > 0 {
        // The seeded blocks have no replicas anywhere: without this the NameNodes
        // would wait in safe mode for block reports that never come.
        layout
            .extra
            .push(("dfs.namenode.safemode.threshold-pct".into(), "0".into()));
    }
    let hafs_bin = std::env::current_exe().context("locating the hafs binary")?;
    let mut cluster = HaCluster::start_with(&hafs_bin, &dir, &layout, control).await?;
    if opts.files > 0 {
        // Formatted and bootstrapped as usual; now both name dirs get the big image
        // and the same cluster comes up again on it.
        cluster.stop().await;
        seed(&cluster, &dir, opts.files)?;
        eprintln!("starting the cluster again on the seeded name dirs");
        let t = Instant::now();
        cluster = HaCluster::start_with(&hafs_bin, &dir, &layout, control).await?;
        eprintln!(
            "cluster up (nn1 Active, nn2 Standby) in {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    let result = measure(&mut cluster, &opts).await;
    cluster.stop().await;
    if remove {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result?;
    Ok(0)
}

/// Writes an fsimage of `files` one-block files into both NameNodes' name dirs, at a
/// txid past every edit the JournalNodes hold (so the Active's next segment starts
/// after it and the Standby tails from there).
fn seed(cluster: &HaCluster, dir: &std::path::Path, files: u64) -> anyhow::Result<()> {
    let mut last = 0u64;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)?.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.file_type()?.is_dir() {
                if name.starts_with("jn") || d != dir {
                    stack.push(e.path());
                }
            } else if let Some(rest) = name.strip_prefix("edits_") {
                let rest = rest.trim_start_matches("inprogress_");
                for part in rest.split('-') {
                    last = last.max(part.parse().unwrap_or(0));
                }
            }
        }
    }
    // An in-progress segment's name gives only its first txid: leave a wide margin.
    let txid = last + 1_000_000;
    let t = Instant::now();
    let image = super::restart::build_image(files)?;
    eprintln!(
        "built an fsimage of {files} one-block files ({} MB) in {:.1} s; writing it at txid {txid}",
        image.len() >> 20,
        t.elapsed().as_secs_f64()
    );
    for nn in &cluster.namenodes {
        let st = hafs_namenode::storage::NameStorage::open(std::slice::from_ref(&nn.name_dir))?;
        st.save_image(txid, &image, 1)?;
    }
    Ok(())
}

async fn measure(cluster: &mut HaCluster, opts: &Options) -> anyhow::Result<()> {
    let conf = Configuration::load(Some(&cluster.conf_dir))?;
    let setup = DfsClient::new(&conf, None)?;
    setup.mkdirs("/bench/failover/lag", 0o755, true).await?;
    setup.mkdirs("/bench/failover/probe", 0o755, true).await?;

    let mut load = Load::start(&conf, "/bench/failover", opts.writers)?;
    tokio::time::sleep(opts.interval).await;

    // Tailing lag, nn1 Active and nn2 Standby, under the load.
    let lags = measure_lag(cluster, &conf, opts.lag_probes).await?;

    // Failover rounds.
    let mut active = 0usize;
    let mut rounds = Vec::new();
    for r in 0..opts.rounds {
        tokio::time::sleep(opts.interval).await;
        let to = 1 - active;
        let probe = pinned_client(&conf, &cluster.namenodes[to].rpc)?;
        let (t0, t_standby) = if opts.kill {
            cluster.kill_namenode(active).await?;
            (Instant::now(), Duration::ZERO)
        } else {
            let t0 = Instant::now();
            cluster.transition(active, false).await?;
            (t0, t0.elapsed())
        };
        cluster.transition(to, true).await?;
        let t_active = Instant::now();
        let path = format!("/bench/failover/probe/r{r}");
        let served = loop {
            match probe.mkdirs(&path, 0o755, true).await {
                Ok(_) => break t0.elapsed(),
                Err(e) if t0.elapsed() > PROBE_LIMIT => {
                    bail!("round {r}: the new Active accepted no write in {PROBE_LIMIT:?}: {e}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(1)).await,
            }
        };
        // Give the load a moment to land its first write on the new Active.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let client_seen = load.first_ack_after(t_active).map(|d| d + (t_active - t0));
        eprintln!(
            "round {r}: {} -> {}: standby {:.1} ms, writes on the new Active after {:.1} ms, \
             first load write {}",
            cluster.namenodes[active].id,
            cluster.namenodes[to].id,
            ms(t_standby),
            ms(served),
            client_seen.map_or("none".to_string(), |d| format!("{:.1} ms", ms(d)))
        );
        rounds.push((t_standby, served, client_seen));
        if opts.kill {
            let t = Instant::now();
            cluster.restart_namenode(active).await?;
            eprintln!(
                "round {r}: {} restarted as the Standby in {:.1} s",
                cluster.namenodes[active].id,
                t.elapsed().as_secs_f64()
            );
        }
        active = to;
    }
    let acked = load.count();
    let errors = load.stop().await;

    print_report(opts, &rounds, &lags, acked, errors);
    Ok(())
}

/// Samples the tailing lag; `Ok(None)` when the Standby refuses reads.
async fn measure_lag(
    cluster: &HaCluster,
    conf: &Configuration,
    probes: usize,
) -> anyhow::Result<Option<Vec<Duration>>> {
    let on_active = pinned_client(conf, &cluster.namenodes[0].rpc)?;
    let on_standby = pinned_client(conf, &cluster.namenodes[1].rpc)?;
    let mut lags = Vec::with_capacity(probes);
    for p in 0..probes {
        let path = format!("/bench/failover/lag/p{p}");
        on_active.mkdirs(&path, 0o755, false).await?;
        let acked = Instant::now();
        loop {
            match on_standby.get_file_info(&path).await {
                Ok(Some(_)) => break,
                Ok(None) => {}
                Err(e) if is_standby(&e) => {
                    eprintln!(
                        "tailing lag not measured: the Standby refuses reads even with \
                         dfs.ha.allow.stale.reads = true ({e})"
                    );
                    return Ok(None);
                }
                Err(e) => return Err(e.into()),
            }
            if acked.elapsed() > LAG_LIMIT {
                bail!("{path} not visible on the Standby {LAG_LIMIT:?} after the Active acknowledged it");
            }
            // Every millisecond: finer than the aim, without a busy loop taking CPU
            // from the NameNodes on a small machine.
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        lags.push(acked.elapsed());
        // Spread the samples over the load rather than back to back.
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    Ok(Some(lags))
}

fn is_standby(e: &hafs_client::ClientError) -> bool {
    match e {
        hafs_client::ClientError::Remote { class_name, .. } => {
            class_name == "org.apache.hadoop.ipc.StandbyException"
        }
        hafs_client::ClientError::Ipc(ipc) => ipc.is_standby(),
        _ => false,
    }
}

/// p50, p99 and max in milliseconds of a list of durations.
fn p50_p99(ds: &[Duration]) -> (f64, f64, f64) {
    let (p50, p99, max, _) = stats(ds.iter().copied());
    (p50, p99, max)
}

fn print_report(
    opts: &Options,
    rounds: &[(Duration, Duration, Option<Duration>)],
    lags: &Option<Vec<Duration>>,
    acked: usize,
    errors: u64,
) {
    let served: Vec<Duration> = rounds.iter().map(|r| r.1).collect();
    let standby: Vec<Duration> = rounds.iter().map(|r| r.0).collect();
    let client: Vec<Duration> = rounds.iter().filter_map(|r| r.2).collect();
    let (s50, s99, smax) = p50_p99(&served);
    let (t50, _, tmax) = p50_p99(&standby);
    let (c50, c99, cmax) = p50_p99(&client);
    println!("hafs bench failover --manual");
    println!(
        "  cluster: 3 JournalNodes, 2 NameNodes, {} DataNode(s); load: {} mkdirs writers",
        opts.datanodes, opts.writers
    );
    if opts.files > 0 {
        println!("  namespace: {} seeded one-block files", opts.files);
    }
    if opts.kill {
        println!("  failover: kill -9 of the Active, then transitionToActive of the Standby");
    }
    println!(
        "  failovers: {} (alternating); load writes acknowledged: {acked}; load errors: {errors}",
        rounds.len()
    );
    println!("                                          p50 ms    p99 ms    max ms");
    println!("  failover -> new Active serves writes  {s50:>8.1}  {s99:>8.1}  {smax:>8.1}");
    println!(
        "    of which transitionToStandby        {t50:>8.1}  {:>8}  {tmax:>8.1}",
        ""
    );
    println!(
        "  failover -> first load write ({:>2}/{:>2})  {c50:>8.1}  {c99:>8.1}  {cmax:>8.1}",
        client.len(),
        rounds.len()
    );
    match lags {
        Some(l) => {
            let (l50, l99, lmax) = p50_p99(l);
            println!(
                "  tailing lag ({} samples)              {l50:>8.1}  {l99:>8.1}  {lmax:>8.1}",
                l.len()
            );
            println!(
                "  aims: failover < {} ms: {}; tailing lag p99 < {} ms: {}",
                AIM_FAILOVER.as_millis(),
                met(smax < ms(AIM_FAILOVER)),
                AIM_LAG_P99.as_millis(),
                met(l99 < ms(AIM_LAG_P99))
            );
        }
        None => {
            println!("  tailing lag: not measured (the Standby refuses reads)");
            println!(
                "  aims: failover < {} ms: {}",
                AIM_FAILOVER.as_millis(),
                met(smax < ms(AIM_FAILOVER))
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn options() {
        assert!(parse(&s(&[])).is_err(), "--manual is required");
        let o = parse(&s(&["--manual", "--rounds", "4", "--writers", "2"]))
            .unwrap()
            .unwrap();
        assert_eq!((o.rounds, o.writers, o.lag_probes), (4, 2, 300));
        assert!(parse(&s(&["--manual", "--rounds", "0"])).is_err());
        assert!(parse(&s(&["--manual", "--bogus"])).is_err());
        assert!(parse(&s(&["--manual", "--rounds"])).is_err());
        assert!(parse(&s(&["--help"])).unwrap().is_none());
    }

    #[test]
    fn percentiles_in_milliseconds() {
        let ds: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let (p50, p99, max) = p50_p99(&ds);
        assert!((49.0..=51.0).contains(&p50), "{p50}");
        assert!((98.0..=100.0).contains(&p99), "{p99}");
        assert_eq!(max, 100.0);
    }
}
