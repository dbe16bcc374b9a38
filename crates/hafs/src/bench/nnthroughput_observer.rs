//! `hafs bench nnthroughput -observer`: how much read load an Observer NameNode takes
//! off the Active, measured in one run on a local HA cluster (3 JournalNodes, nn1
//! Active, nn2 Standby, nn3 Observer, `dfs.namenode.state.context.enabled`).
//!
//! 1. **Active alone**: `-threads` client tasks, each with its own connection to the
//!    Active, call getFileInfo on existing directories: the read rate one NameNode
//!    gives.
//! 2. **On the Observer, no writes**: the same tasks read from the Observer, each call
//!    carrying the client's state id (as ObserverReadProxyProvider's clients do), taken
//!    from an msync on the Active: the Observer's own read rate.
//! 3. **On the Observer under writes**: as 2, while one writer task keeps creating
//!    directories on the Active and shares that state id, so every read asks the
//!    Observer for the newest state (the strictest alignment: each read waits for the
//!    tailer).
//!
//! A read the Observer refuses (RetriableException, StandbyException) is retried on
//! the Active and counted there. The ratio printed is the share of phase 3's reads the
//! Observer served: the read load moved off the Active; next to it the Observer's read
//! rates against the Active's alone, and the writes the Active took meanwhile.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use hafs_cluster::{AutoTimeouts, Control, Election, HaCluster, Layout};
use hafs_ipc::{ClientConfig, RpcClient};
use hafs_proto::hdfs as pb;

const USAGE: &str = "\
Usage: hafs bench nnthroughput -observer [-threads N] [-ops N] [-dirs N] [-dir DIR]

  -threads  concurrent reader tasks, each with its own connection (default 16)
  -ops      getFileInfo calls per phase (default 100000)
  -dirs     directories read (default 1000)
  -dir      local directory for the cluster (default: the system temp dir); a fresh
            subdirectory is used and removed afterwards
";

const PROTOCOL: &str = "org.apache.hadoop.hdfs.protocol.ClientProtocol";
const BASE: &str = "/nnThroughputBenchmark/observer";
const MAX_THREADS: usize = 4096;
const MAX_DIRS: u64 = 1_000_000;

#[derive(Debug, Clone, PartialEq)]
struct Options {
    threads: usize,
    ops: u64,
    dirs: u64,
    dir: Option<PathBuf>,
}

fn parse(args: &[String]) -> anyhow::Result<Option<Options>> {
    let mut o = Options {
        threads: 16,
        ops: 100_000,
        dirs: 1000,
        dir: None,
    };
    let mut i = 0;
    while i < args.len() {
        let flag = args[i].as_str();
        if matches!(flag, "-h" | "-help" | "--help") {
            return Ok(None);
        }
        if flag == "-observer" {
            i += 1;
            continue;
        }
        let v = args
            .get(i + 1)
            .with_context(|| format!("{flag} needs a value"))?;
        let number = || {
            v.parse::<u64>()
                .with_context(|| format!("{flag}: '{v}' is not a whole number"))
        };
        match flag {
            "-threads" => o.threads = number()? as usize,
            "-ops" => o.ops = number()?,
            "-dirs" => o.dirs = number()?,
            "-dir" => o.dir = Some(PathBuf::from(v)),
            other => bail!("unknown option '{other}'"),
        }
        i += 2;
    }
    if o.threads == 0 || o.threads > MAX_THREADS {
        bail!("-threads must be between 1 and {MAX_THREADS}");
    }
    if o.ops == 0 {
        bail!("-ops must be at least 1");
    }
    if o.dirs == 0 || o.dirs > MAX_DIRS {
        bail!("-dirs must be between 1 and {MAX_DIRS}");
    }
    Ok(Some(o))
}

pub async fn run(args: &[String]) -> anyhow::Result<i32> {
    let opts = match parse(args) {
        Ok(Some(o)) => o,
        Ok(None) => {
            print!("{USAGE}");
            return Ok(0);
        }
        Err(e) => {
            eprintln!("hafs bench nnthroughput -observer: {e:#}");
            eprint!("{USAGE}");
            return Ok(1);
        }
    };
    let parent = opts.dir.clone().unwrap_or_else(std::env::temp_dir);
    let dir = parent.join(format!("hafs-nnthroughput-observer-{}", std::process::id()));
    let result = bench(&opts, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result.map(|()| 0)
}

async fn bench(opts: &Options, dir: &Path) -> anyhow::Result<()> {
    let layout = Layout {
        nameservice: "benchobs".to_string(),
        nameservices: 1,
        namenodes: 2,
        journalnodes: 3,
        datanodes: 1,
        racks: 0,
        observers: 1,
        extra: Vec::new(),
    };
    let control = Control {
        election: Election::Manual,
        timeouts: AutoTimeouts::SANDBOX,
        nn1_port: None,
    };
    let exe = std::env::current_exe().context("locating the hafs binary")?;
    println!("hafs NNThroughputBenchmark, Observer read offload");
    println!("cluster: 3 JournalNodes, nn1 Active, nn2 Standby, nn3 Observer (starting)");
    let mut cluster = HaCluster::start_with(&exe, dir, &layout, control).await?;
    let active = cluster.namenodes[0].rpc.clone();
    let observer = cluster.namenodes[2].rpc.clone();
    let r = phases(opts, &active, &observer).await;
    cluster.stop().await;
    r
}

fn client(addr: &str, state: Option<Arc<AtomicI64>>) -> RpcClient {
    let cfg = ClientConfig {
        state_id: state,
        call_timeout: Duration::from_secs(30),
        ..ClientConfig::new(hafs_client::identity::current_user())
    };
    RpcClient::new(addr.to_string(), PROTOCOL, cfg)
}

fn dir_path(i: u64) -> String {
    format!("{BASE}/d{i:07}")
}

async fn mkdirs(c: &RpcClient, path: String) -> anyhow::Result<()> {
    let req = pb::MkdirsRequestProto {
        src: path.clone(),
        masked: pb::FsPermissionProto { perm: 0o755 },
        create_parent: true,
        ..Default::default()
    };
    let _: pb::MkdirsResponseProto = c
        .call("mkdirs", &req)
        .await
        .with_context(|| format!("mkdirs {path}"))?;
    Ok(())
}

async fn get_file_info(c: &RpcClient, path: String) -> Result<(), hafs_ipc::IpcError> {
    let req = pb::GetFileInfoRequestProto { src: path };
    let r: pb::GetFileInfoResponseProto = c.call("getFileInfo", &req).await?;
    match r.fs {
        Some(_) => Ok(()),
        None => Err(hafs_ipc::IpcError::Protocol {
            addr: c.addr().to_string(),
            msg: "a directory the benchmark made is missing".into(),
        }),
    }
}

/// What one phase measured.
struct Phase {
    elapsed: Duration,
    by_observer: u64,
    by_active: u64,
}

impl Phase {
    fn rate(&self) -> f64 {
        (self.by_observer + self.by_active) as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

async fn phases(opts: &Options, active: &str, observer: &str) -> anyhow::Result<()> {
    // Directories to read, made on the Active.
    let setup = Arc::new(client(active, None));
    let started = Instant::now();
    for i in 0..opts.dirs {
        mkdirs(&setup, dir_path(i)).await?;
    }
    println!(
        "setup: {} directories in {:.1} s",
        opts.dirs,
        started.elapsed().as_secs_f64()
    );

    let alone = read_phase(opts, active, None, false).await?;
    let state = Arc::new(AtomicI64::new(0));
    // Align with the Active first (msync), as ObserverReadProxyProvider does.
    let primed = client(active, Some(state.clone()));
    let _: pb::MsyncResponseProto = primed.call("msync", &pb::MsyncRequestProto {}).await?;
    let quiet = read_phase(opts, active, Some((observer, state.clone())), false).await?;
    let with = read_phase(opts, active, Some((observer, state)), true).await?;

    let total = with.by_observer + with.by_active;
    println!(
        "phase 1, reads on the Active alone: {:.0} getFileInfo/s ({} threads, {} reads)",
        alone.rate(),
        opts.threads,
        alone.by_active
    );
    println!(
        "phase 2, reads on the Observer, no writes: {:.0} getFileInfo/s ({:.2} × the \
         Active alone); {} served by the Observer, {} sent back to the Active",
        quiet.rate(),
        quiet.rate() / alone.rate().max(1e-9),
        quiet.by_observer,
        quiet.by_active
    );
    println!(
        "phase 3, reads on the Observer at the writer's state: {:.0} getFileInfo/s; \
         {} served by the Observer, {} sent back to the Active",
        with.rate(),
        with.by_observer,
        with.by_active
    );
    println!(
        "read load moved off the Active: {:.1}% ({} of {} reads of phase 3); its read rate / \
         Active alone: {:.2}",
        100.0 * with.by_observer as f64 / total.max(1) as f64,
        with.by_observer,
        total,
        with.rate() / alone.rate().max(1e-9)
    );
    Ok(())
}

/// `opts.ops` getFileInfo calls by `opts.threads` tasks: on the Active, or on the
/// Observer (falling back to the Active) while a writer creates directories.
async fn read_phase(
    opts: &Options,
    active: &str,
    observer: Option<(&str, Arc<AtomicI64>)>,
    with_writer: bool,
) -> anyhow::Result<Phase> {
    let next = Arc::new(AtomicU64::new(0));
    let by_observer = Arc::new(AtomicU64::new(0));
    let by_active = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let state = observer.as_ref().map(|(_, s)| s.clone());
    let writer = with_writer.then(|| {
        let c = client(active, state.clone());
        let done = done.clone();
        tokio::spawn(async move {
            let mut n = 0u64;
            while !done.load(Ordering::SeqCst) {
                mkdirs(&c, format!("{BASE}-writes/w{n:09}")).await?;
                n += 1;
            }
            anyhow::Ok(n)
        })
    });
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..opts.threads {
        let primary = match &observer {
            Some((addr, s)) => client(addr, Some(s.clone())),
            None => client(active, None),
        };
        let fallback = client(active, state.clone());
        let on_observer = observer.is_some();
        let (next, by_observer, by_active) = (next.clone(), by_observer.clone(), by_active.clone());
        let (ops, dirs) = (opts.ops, opts.dirs);
        tasks.push(tokio::spawn(async move {
            let mut rng = hafs_util::XorShift64::new(t as u64 + 1);
            while next.fetch_add(1, Ordering::Relaxed) < ops {
                let path = dir_path(rng.below(dirs));
                match get_file_info(&primary, path.clone()).await {
                    Ok(()) if on_observer => by_observer.fetch_add(1, Ordering::Relaxed),
                    Ok(()) => by_active.fetch_add(1, Ordering::Relaxed),
                    Err(e) if on_observer && e.remote().is_some() => {
                        get_file_info(&fallback, path).await?;
                        by_active.fetch_add(1, Ordering::Relaxed)
                    }
                    Err(e) => return Err(anyhow::Error::new(e)),
                };
            }
            anyhow::Ok(())
        }));
    }
    let mut failure = None;
    for t in tasks {
        if let Err(e) = t.await.context("reader task")? {
            failure.get_or_insert(e);
        }
    }
    let elapsed = started.elapsed();
    done.store(true, Ordering::SeqCst);
    if let Some(w) = writer {
        let writes = w.await.context("writer task")??;
        println!(
            "writer: {writes} mkdirs on the Active during phase 3 ({:.0}/s)",
            writes as f64 / elapsed.as_secs_f64().max(1e-9)
        );
    }
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(Phase {
        elapsed,
        by_observer: by_observer.load(Ordering::Relaxed),
        by_active: by_active.load(Ordering::Relaxed),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options_parse_and_bound() {
        let o = parse(&args(&["-observer", "-threads", "4", "-ops", "10"]))
            .unwrap()
            .unwrap();
        assert_eq!((o.threads, o.ops, o.dirs), (4, 10, 1000));
        assert!(parse(&args(&["-threads", "0"])).is_err());
        assert!(parse(&args(&["-dirs", "0"])).is_err());
        assert!(parse(&args(&["-ops"])).is_err());
        assert!(parse(&args(&["-bogus", "1"])).is_err());
        assert_eq!(parse(&args(&["-help"])).unwrap(), None);
    }
}
