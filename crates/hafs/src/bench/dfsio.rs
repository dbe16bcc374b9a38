//! `hafs bench dfsio`: read and write throughput of the data path in the spirit of
//! Hadoop's TestDFSIO. N files of S bytes are written concurrently (one task per file)
//! with replication R, then read back and checked byte for byte, against a cluster of
//! child `hafs` processes started for the run (or an existing one with `-fs`). The same
//! bytes are written, copied and read through the local file system of the same disk
//! in the same run (see `local`), and each figure is printed next to that baseline.

mod local;
mod pattern;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use hafs_client::{CreateOptions, DfsClient, DfsInputStream, DfsOutputStream};
use hafs_conf::Configuration;

use super::baseline::process_cpu_time;
use hafs_cluster::non_ha::{self, ClusterCpu, NonHaCluster};
use local::LocalFiles;
use pattern::Pattern;

const USAGE: &str = "\
Usage: hafs bench dfsio [-write|-read|-all] [-nrFiles N] [-size S] [-replication R]
         [-bufferSize B] [-dir DIR] [-fs URI [-nnpid PID] [-dnpids PID,PID,...]]

  -write, -read, -all
               the phases to measure (default -all: write, then read back)
  -nrFiles     files written and read concurrently, one task each (default 4)
  -size        bytes per file; suffixes k, m, g, t (powers of 1024); a bare number
               means MiB, as in TestDFSIO (default 256m)
  -replication replication of the files (default: a round with 1, then one with 3)
  -bufferSize  bytes per write and read call (default 1m)
  -dir         local directory for the cluster's storage and the baseline's files
               (default: the system temp dir); a fresh subdirectory is used and
               removed afterwards
  -fs URI      use an existing cluster (hdfs://host:port) instead of starting a
               NameNode and three DataNodes; its daemons' CPU is reported only for
               the local processes named by -nnpid and -dnpids (any HDFS, e.g. the
               reference Apache HDFS's JVMs). -write leaves the files for a later
               -read; -all removes them
  -nnpid PID   with -fs: the NameNode process whose CPU the nn_cpu column adds up
  -dnpids PIDS with -fs: the DataNode processes (comma-separated) for dn_cpu
";

const DEFAULT_FILES: u32 = 4;
const DEFAULT_SIZE: u64 = 256 << 20;
const DEFAULT_BUFFER: usize = 1 << 20;
const MAX_FILES: u32 = 1024;
const MAX_SIZE: u64 = 1 << 40;
const MAX_BUFFER: usize = 64 << 20;
/// Where the files go in the file system, as TestDFSIO's default.
const BASE_DIR: &str = "/benchmarks/TestDFSIO";
const MIB: f64 = 1024.0 * 1024.0;
const GIB: f64 = 1024.0 * MIB;
/// The aims of the issue: reads and unreplicated writes at 0.8x the local file system;
/// replicated writes at 0.8x of it divided by the replication (every replica lands on
/// this one disk).
const AIM: f64 = 0.8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Write,
    Read,
    All,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub mode: Mode,
    pub files: u32,
    pub size: u64,
    pub replications: Vec<u16>,
    pub buffer: usize,
    pub dir: Option<PathBuf>,
    pub fs: Option<String>,
    /// With `-fs`: local daemon processes whose CPU each phase adds up.
    pub nnpid: Option<u32>,
    pub dnpids: Vec<u32>,
    pub help: bool,
}

impl Options {
    /// Parses the benchmark's arguments. As in `nnthroughput`, a `fs.defaultFS` set on
    /// the command line (`-fs`, `-D`) selects an existing cluster; one from a config
    /// file does not.
    pub fn parse(args: &[String], conf: &Configuration) -> anyhow::Result<Options> {
        let mut o = Options {
            mode: Mode::All,
            files: DEFAULT_FILES,
            size: DEFAULT_SIZE,
            replications: vec![1, 3],
            buffer: DEFAULT_BUFFER,
            dir: None,
            fs: None,
            nnpid: None,
            dnpids: Vec::new(),
            help: false,
        };
        let mut i = 0;
        while i < args.len() {
            let flag = args[i].as_str();
            let value = || {
                args.get(i + 1)
                    .cloned()
                    .with_context(|| format!("{flag} needs a value"))
            };
            let mut step = 2;
            match flag {
                "-write" => (o.mode, step) = (Mode::Write, 1),
                "-read" => (o.mode, step) = (Mode::Read, 1),
                "-all" => (o.mode, step) = (Mode::All, 1),
                "-nrFiles" => {
                    o.files = value()?
                        .parse()
                        .with_context(|| format!("{flag}: not a whole number"))?
                }
                "-size" | "-fileSize" => o.size = parse_size(&value()?, 1 << 20)?,
                "-replication" => {
                    let r: u16 = value()?
                        .parse()
                        .with_context(|| format!("{flag}: not a whole number"))?;
                    o.replications = vec![r];
                }
                "-bufferSize" => {
                    o.buffer = usize::try_from(parse_size(&value()?, 1)?).unwrap_or(usize::MAX)
                }
                "-dir" => o.dir = Some(PathBuf::from(value()?)),
                "-fs" => o.fs = Some(value()?),
                "-nnpid" => {
                    o.nnpid = Some(
                        value()?
                            .parse()
                            .with_context(|| format!("{flag}: not a process id"))?,
                    )
                }
                "-dnpids" => {
                    o.dnpids = value()?
                        .split(',')
                        .map(|p| p.trim().parse::<u32>())
                        .collect::<Result<_, _>>()
                        .with_context(|| {
                            format!("{flag}: not a comma-separated list of process ids")
                        })?
                }
                "-h" | "-help" | "--help" => {
                    o.help = true;
                    return Ok(o);
                }
                other => bail!("unknown option '{other}'"),
            }
            i += step;
        }
        if o.files == 0 || o.files > MAX_FILES {
            bail!("-nrFiles must be between 1 and {MAX_FILES}");
        }
        if o.size == 0 || o.size > MAX_SIZE {
            bail!("-size must be between 1 byte and 1t");
        }
        if o.buffer < 4096 || o.buffer > MAX_BUFFER {
            bail!("-bufferSize must be between 4k and 64m");
        }
        if o.replications.iter().any(|&r| r == 0 || r > 512) {
            bail!("-replication must be between 1 and 512");
        }
        if o.fs.is_none() && conf.source(hafs_conf::keys::FS_DEFAULT_FS) == Some("programmatically")
        {
            o.fs = conf.get_trimmed(hafs_conf::keys::FS_DEFAULT_FS);
        }
        if o.fs.is_none() && (o.nnpid.is_some() || !o.dnpids.is_empty()) {
            bail!("-nnpid and -dnpids go with -fs (a cluster started here reports its own CPU)");
        }
        if let Some(uri) = &o.fs {
            if !uri.starts_with("hdfs://") {
                bail!("-fs must name an HDFS file system (hdfs://host:port), not '{uri}'");
            }
        }
        if o.fs.is_none()
            && o.replications
                .iter()
                .any(|&r| usize::from(r) > non_ha::DATANODES)
        {
            bail!(
                "-replication above {} needs an existing cluster (-fs)",
                non_ha::DATANODES
            );
        }
        Ok(o)
    }
}

/// `256m` → 268435456. Suffixes k, m, g, t (optionally followed by `b` or `ib`) are
/// powers of 1024; a bare number is in units of `bare_unit`.
pub fn parse_size(v: &str, bare_unit: u64) -> anyhow::Result<u64> {
    let s = v.trim().to_ascii_lowercase();
    let s = s
        .strip_suffix("ib")
        .or_else(|| s.strip_suffix('b'))
        .unwrap_or(&s);
    let (digits, unit) = match s.char_indices().last() {
        Some((at, 'k')) => (&s[..at], 1u64 << 10),
        Some((at, 'm')) => (&s[..at], 1 << 20),
        Some((at, 'g')) => (&s[..at], 1 << 30),
        Some((at, 't')) => (&s[..at], 1 << 40),
        _ => (s, bare_unit),
    };
    let n: u64 = digits
        .parse()
        .with_context(|| format!("'{v}' is not a size (like 256m, 1g, 64k)"))?;
    n.checked_mul(unit)
        .with_context(|| format!("'{v}' is too large"))
}

/// What one phase (baseline or benchmark) achieved.
#[derive(Debug, Clone)]
pub struct Measured {
    pub bytes: u64,
    pub file_size: u64,
    pub wall: Duration,
    /// Each file's own time, for TestDFSIO's average IO rate.
    pub per_file: Vec<Duration>,
    /// CPU of whoever moved the bytes (this process, or the baseline's children).
    pub cpu: Duration,
}

impl Measured {
    /// Aggregate rate: all bytes over the wall time.
    pub fn mib_per_sec(&self) -> f64 {
        self.bytes as f64 / MIB / self.wall.as_secs_f64().max(1e-9)
    }

    /// TestDFSIO's "Average IO rate": the mean of each file's own rate.
    pub fn avg_io_rate(&self) -> f64 {
        let rates: f64 = self
            .per_file
            .iter()
            .map(|t| self.file_size as f64 / MIB / t.as_secs_f64().max(1e-9))
            .sum();
        rates / self.per_file.len().max(1) as f64
    }

    /// CPU seconds per GiB of file data for a CPU time measured over this phase.
    pub fn per_gib(&self, cpu: Duration) -> f64 {
        cpu.as_secs_f64() / (self.bytes as f64 / GIB).max(1e-12)
    }
}

/// A benchmark phase: what the client measured plus the cluster's CPU meanwhile.
struct Phase {
    name: String,
    m: Measured,
    cluster_cpu: Option<ClusterCpu>,
    /// Which baseline it is compared with (measured just before its round), and the
    /// ratio that meets the aim.
    baseline: &'static str,
    base: Measured,
    aim: f64,
    /// Mean time a file spent in `close()` (last acks, then `complete` on the
    /// NameNode); zero for reads.
    close_avg: Duration,
}

impl Phase {
    fn ratio(&self) -> f64 {
        self.m.mib_per_sec() / self.base.mib_per_sec()
    }
}

struct Baseline {
    write: Measured,
    cp: Measured,
    cat: Measured,
}

pub async fn run(conf: &Configuration, args: &[String]) -> anyhow::Result<i32> {
    let opts = match Options::parse(args, conf) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("hafs bench dfsio: {e:#}");
            eprint!("{USAGE}");
            return Ok(1);
        }
    };
    if opts.help {
        print!("{USAGE}");
        return Ok(0);
    }
    let work = WorkDir::create(opts.dir.as_deref())?;
    // An interrupt ends the run through the normal path, so the cluster is stopped and
    // the work dir removed.
    tokio::select! {
        r = run_in(conf, &opts, &work) => r.map(|()| 0),
        _ = crate::shutdown::shutdown_signal() => {
            eprintln!("hafs bench dfsio: interrupted; cleaning up");
            Ok(130)
        }
    }
}

async fn run_in(conf: &Configuration, opts: &Options, work: &WorkDir) -> anyhow::Result<()> {
    let pattern = Arc::new(Pattern::new(opts.buffer));
    println!("hafs TestDFSIO");
    println!(
        "{} files of {} ({} MiB in all), {} bytes per call, replication {}; work dir {}",
        opts.files,
        size_text(opts.size),
        thousands_mib(opts.size * u64::from(opts.files)),
        opts.buffer,
        opts.replications
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(" then "),
        work.path.display()
    );
    println!("MiB = 1,048,576 bytes; MiB/s is all bytes over the wall time; io_rate is the mean of each file's own rate (TestDFSIO's \"Average IO rate\")");

    let local = Arc::new(LocalFiles::new(
        &work.path.join("baseline"),
        opts.files,
        opts.size,
    )?);
    let phases = match &opts.fs {
        None => {
            let t0 = Instant::now();
            let hafs_bin = std::env::current_exe().context("locating the hafs binary")?;
            let cluster = NonHaCluster::start(&hafs_bin, &work.path.join("cluster")).await?;
            println!(
                "cluster: child processes, {} ({}), started in {:.1} s; storage in {}",
                cluster.uri,
                cluster
                    .pids()
                    .iter()
                    .map(|(n, p)| format!("{n} pid {p}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                t0.elapsed().as_secs_f64(),
                work.path.join("cluster").display()
            );
            let cpu = CpuSource::Children(&cluster);
            let r = run_phases(conf, opts, &cluster.uri, &cpu, &local, &pattern).await;
            cluster.stop().await;
            r?
        }
        Some(uri) => {
            let cpu = CpuSource::Pids {
                namenode: opts.nnpid,
                datanodes: opts.dnpids.clone(),
            };
            if opts.nnpid.is_none() && opts.dnpids.is_empty() {
                println!("cluster: existing, {uri} (daemon CPU not observed: no -nnpid/-dnpids)");
            } else {
                println!(
                    "cluster: existing, {uri}; CPU of NameNode pid {}, DataNode pids {:?}",
                    opts.nnpid.map_or("-".to_string(), |p| p.to_string()),
                    opts.dnpids
                );
                // Fail now, not after the first phase, on a pid that is not there.
                cpu.cpu()?;
            }
            run_phases(conf, opts, uri, &cpu, &local, &pattern).await?
        }
    };
    print_phases(&phases);
    println!(
        "page cache: warm for every read (cat reads the copies cp just wrote; the \
         DataNodes read replicas written moments before); nothing is dropped"
    );
    println!();
    for p in &phases {
        let ratio = p.ratio();
        println!(
            "{}: {:.0} MiB/s, {} {}, aim {} -> {}",
            p.name,
            p.m.mib_per_sec(),
            super::report::ratio(ratio),
            p.baseline,
            super::report::ratio(p.aim),
            if ratio >= p.aim { "met" } else { "NOT met" }
        );
    }
    Ok(())
}

async fn measure_baseline(
    local: &Arc<LocalFiles>,
    pattern: &Arc<Pattern>,
) -> anyhow::Result<Baseline> {
    let (local, pattern) = (local.clone(), pattern.clone());
    tokio::task::spawn_blocking(move || {
        let write = local.write_fsync(&pattern)?;
        let cp = local.cp_sync()?;
        let cat = local.cat()?;
        anyhow::Ok(Baseline { write, cp, cat })
    })
    .await
    .context("the baseline panicked")?
}

async fn run_phases(
    conf: &Configuration,
    opts: &Options,
    uri: &str,
    cpu: &CpuSource<'_>,
    local: &Arc<LocalFiles>,
    pattern: &Arc<Pattern>,
) -> anyhow::Result<Vec<Phase>> {
    let mut client_conf = conf.clone();
    client_conf.set("fs.defaultFS", uri);
    let client = DfsClient::new(&client_conf, Some(uri))?;
    let existing = !matches!(cpu, CpuSource::Children(_));
    let mut phases = Vec::new();
    // With an existing cluster, -read reads what an earlier -write left: one round.
    let rounds: &[u16] = if existing && opts.mode == Mode::Read {
        &opts.replications[..1]
    } else {
        &opts.replications
    };
    let result = async {
        for &r in rounds {
            // The machine is shared and its disk's speed drifts: each round gets its
            // own baseline, measured just before it.
            let base = measure_baseline(local, pattern).await?;
            print_baseline(
                &format!(
                    "baseline for the replication {r} round: the local file system of the \
                     same disk, just before"
                ),
                &base,
            );
            if opts.mode != Mode::Read {
                let (m, cpu, close_avg) =
                    timed(cpu, write_files(&client, opts, r, pattern)).await?;
                phases.push(Phase {
                    name: format!("write_r{r}"),
                    m,
                    cluster_cpu: cpu,
                    baseline: "cp+sync",
                    base: base.cp.clone(),
                    aim: AIM / f64::from(r),
                    close_avg,
                });
            } else if !existing {
                let t0 = Instant::now();
                write_files(&client, opts, r, pattern).await?;
                println!(
                    "(wrote the files with replication {r}, unmeasured, in {:.1} s)",
                    t0.elapsed().as_secs_f64()
                );
            }
            if opts.mode != Mode::Write {
                let (m, cpu, _) = timed(cpu, read_files(&client, opts, pattern)).await?;
                let name = if existing && opts.mode == Mode::Read {
                    "read".to_string()
                } else {
                    format!("read_r{r}")
                };
                phases.push(Phase {
                    name,
                    m,
                    cluster_cpu: cpu,
                    baseline: "cat",
                    base: base.cat.clone(),
                    aim: AIM,
                    close_avg: Duration::ZERO,
                });
            }
        }
        anyhow::Ok(())
    }
    .await;
    // Like TestDFSIO's -clean, but only after a full run: -write leaves its files for a
    // later -read.
    if existing && opts.mode == Mode::All {
        let cleaned = client.delete(BASE_DIR, true).await;
        result?;
        cleaned?;
    } else {
        result?;
    }
    Ok(phases)
}

/// Whose CPU a phase adds up.
enum CpuSource<'a> {
    /// The cluster this run started.
    Children(&'a NonHaCluster),
    /// Local processes of an existing cluster named on the command line (either list
    /// may be empty).
    Pids {
        namenode: Option<u32>,
        datanodes: Vec<u32>,
    },
}

impl CpuSource<'_> {
    /// The daemons' CPU so far; `None` when no daemon is observed.
    fn cpu(&self) -> anyhow::Result<Option<ClusterCpu>> {
        match self {
            CpuSource::Children(c) => Ok(Some(c.cpu()?)),
            CpuSource::Pids {
                namenode: None,
                datanodes,
            } if datanodes.is_empty() => Ok(None),
            CpuSource::Pids {
                namenode,
                datanodes,
            } => {
                let time = |pid: u32| {
                    non_ha::proc_cpu_time(pid)
                        .with_context(|| format!("reading the CPU time of process {pid}"))
                };
                let mut cpu = ClusterCpu::default();
                if let Some(pid) = namenode {
                    cpu.namenode = time(*pid)?;
                }
                for pid in datanodes {
                    cpu.datanodes += time(*pid)?;
                }
                Ok(Some(cpu))
            }
        }
    }
}

/// Runs a phase, adding the observed daemons' CPU meanwhile.
async fn timed(
    cpu: &CpuSource<'_>,
    phase: impl std::future::Future<Output = anyhow::Result<(Measured, Duration)>>,
) -> anyhow::Result<(Measured, Option<ClusterCpu>, Duration)> {
    let before = cpu.cpu()?;
    let (m, close_avg) = phase.await?;
    let used = match before {
        Some(b) => cpu.cpu()?.map(|after| after.since(b)),
        None => None,
    };
    Ok((m, used, close_avg))
}

fn file_path(i: u32) -> String {
    format!("{BASE_DIR}/io_data/test_io_{i}")
}

/// Runs `task(i)` for every file concurrently; times each and the whole, and counts
/// this process's CPU. Tasks return the part of their time spent closing, averaged.
async fn per_file<F, Fut>(opts: &Options, task: F) -> anyhow::Result<(Measured, Duration)>
where
    F: Fn(u32) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Duration>> + Send + 'static,
{
    let cpu0 = process_cpu_time();
    let start = Instant::now();
    let handles: Vec<_> = (0..opts.files)
        .map(|i| {
            let fut = task(i);
            tokio::spawn(async move {
                let t0 = Instant::now();
                fut.await.map(|closing| (t0.elapsed(), closing))
            })
        })
        .collect();
    let mut per_file = Vec::with_capacity(handles.len());
    let mut closing = Duration::ZERO;
    let mut first_err = None;
    for h in handles {
        match h.await.context("a benchmark task panicked")? {
            Ok((t, c)) => {
                per_file.push(t);
                closing += c;
            }
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    let wall = start.elapsed();
    let cpu = process_cpu_time().saturating_sub(cpu0);
    if let Some(e) = first_err {
        return Err(e);
    }
    let close_avg = closing / opts.files.max(1);
    let m = Measured {
        bytes: opts.size * u64::from(opts.files),
        file_size: opts.size,
        wall,
        per_file,
        cpu,
    };
    Ok((m, close_avg))
}

async fn write_files(
    client: &DfsClient,
    opts: &Options,
    replication: u16,
    pattern: &Arc<Pattern>,
) -> anyhow::Result<(Measured, Duration)> {
    let size = opts.size;
    per_file(opts, |i| {
        let (client, pattern) = (client.clone(), pattern.clone());
        async move {
            let path = file_path(i);
            let create = CreateOptions {
                overwrite: true,
                create_parent: true,
                replication: Some(replication),
                ..Default::default()
            };
            let mut out = DfsOutputStream::create(&client, &path, &create)
                .await
                .with_context(|| format!("creating {path}"))?;
            let mut pos = 0u64;
            while pos < size {
                let want = (size - pos).min(pattern.max_chunk() as u64) as usize;
                let chunk = pattern.slice(i, pos, want);
                out.write(chunk)
                    .await
                    .with_context(|| format!("writing {path} at {pos}"))?;
                pos += chunk.len() as u64;
            }
            let t0 = Instant::now();
            out.close()
                .await
                .with_context(|| format!("closing {path}"))?;
            Ok(t0.elapsed())
        }
    })
    .await
}

async fn read_files(
    client: &DfsClient,
    opts: &Options,
    pattern: &Arc<Pattern>,
) -> anyhow::Result<(Measured, Duration)> {
    let (size, buffer) = (opts.size, opts.buffer);
    per_file(opts, |i| {
        let (client, pattern) = (client.clone(), pattern.clone());
        async move {
            let path = file_path(i);
            let mut input = DfsInputStream::open(&client, &path)
                .await
                .with_context(|| format!("opening {path} (for -read, run -write first)"))?;
            if input.len() != size {
                bail!("{path} holds {} bytes, expected {size}", input.len());
            }
            let mut buf = vec![0u8; buffer];
            let mut pos = 0u64;
            // Bounded: every round reads at least one byte of a file of known length.
            loop {
                let n = input
                    .read(&mut buf)
                    .await
                    .with_context(|| format!("reading {path} at {pos}"))?;
                if n == 0 {
                    break;
                }
                if !pattern.matches(i, pos, &buf[..n]) {
                    bail!("{path}: wrong content in the {n} bytes at offset {pos}");
                }
                pos += n as u64;
                if pos > size {
                    bail!("{path}: more than the expected {size} bytes");
                }
            }
            if pos != size {
                bail!("{path}: ended after {pos} of {size} bytes");
            }
            Ok(Duration::ZERO)
        }
    })
    .await
}

fn print_baseline(title: &str, b: &Baseline) {
    println!();
    println!("{title}");
    println!(
        "{:<12} {:>8} {:>8} {:>8} {:>8} {:>10}",
        "baseline", "MiB", "wall_s", "MiB/s", "io_rate", "cpu_s/GiB"
    );
    for (name, m) in [
        ("write+fsync", &b.write),
        ("cp+sync", &b.cp),
        ("cat", &b.cat),
    ] {
        println!(
            "{:<12} {:>8.0} {:>8.2} {:>8.1} {:>8.1} {:>10.2}",
            name,
            m.bytes as f64 / MIB,
            m.wall.as_secs_f64(),
            m.mib_per_sec(),
            m.avg_io_rate(),
            m.per_gib(m.cpu)
        );
    }
    println!("(cpu: this process for write+fsync; the cp, sync and cat processes otherwise)");
}

fn print_phases(phases: &[Phase]) {
    println!();
    println!(
        "{:<9} {:>7} {:>7} {:>8} {:>8} {:>9} {:>9} {:>9} {:<11} {:>10} {:>6} {:>6} {:>4}",
        "phase",
        "MiB",
        "wall_s",
        "MiB/s",
        "io_rate",
        "cli_cpu",
        "dn_cpu",
        "nn_cpu",
        "baseline",
        "base_MiB/s",
        "ratio",
        "aim",
        "met"
    );
    for p in phases {
        let ratio = p.ratio();
        let (dn, nn) = match p.cluster_cpu {
            Some(c) => (
                format!("{:.2}", p.m.per_gib(c.datanodes)),
                format!("{:.2}", p.m.per_gib(c.namenode)),
            ),
            None => ("-".to_string(), "-".to_string()),
        };
        println!(
            "{:<9} {:>7.0} {:>7.2} {:>8.1} {:>8.1} {:>9.2} {:>9} {:>9} {:<11} {:>10.1} {:>6} {:>6} {:>4}",
            p.name,
            p.m.bytes as f64 / MIB,
            p.m.wall.as_secs_f64(),
            p.m.mib_per_sec(),
            p.m.avg_io_rate(),
            p.m.per_gib(p.m.cpu),
            dn,
            nn,
            p.baseline,
            p.base.mib_per_sec(),
            super::report::ratio(ratio),
            super::report::ratio(p.aim),
            if ratio >= p.aim { "yes" } else { "no" }
        );
    }
    println!(
        "(cpu columns: CPU seconds per GiB of file data — cli_cpu this client process, \
         dn_cpu the DataNode processes together, nn_cpu the NameNode)"
    );
    for p in phases.iter().filter(|p| !p.close_avg.is_zero()) {
        println!(
            "{}: each file spent {:.2} s of its {:.2} s in close() (last acks, then \
             complete on the NameNode)",
            p.name,
            p.close_avg.as_secs_f64(),
            p.m.per_file.iter().sum::<Duration>().as_secs_f64() / p.m.per_file.len().max(1) as f64
        );
    }
}

fn size_text(n: u64) -> String {
    for (unit, suffix) in [(1u64 << 30, "g"), (1 << 20, "m"), (1 << 10, "k")] {
        if n >= unit && n.is_multiple_of(unit) {
            return format!("{}{suffix}", n / unit);
        }
    }
    format!("{n} bytes")
}

fn thousands_mib(bytes: u64) -> String {
    super::report::thousands(bytes as f64 / MIB)
}

/// A fresh local directory for the run, removed when dropped.
struct WorkDir {
    path: PathBuf,
}

impl WorkDir {
    fn create(parent: Option<&Path>) -> anyhow::Result<WorkDir> {
        let parent = parent.map_or_else(std::env::temp_dir, Path::to_path_buf);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = parent.join(format!("hafs-dfsio-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        let path = path.canonicalize()?;
        Ok(WorkDir { path })
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.path) {
            eprintln!(
                "hafs bench dfsio: could not remove {}: {e}",
                self.path.display()
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
    fn sizes_take_suffixes_and_bare_numbers_are_mib() {
        assert_eq!(parse_size("256m", 1 << 20).unwrap(), 256 << 20);
        assert_eq!(parse_size("2M", 1 << 20).unwrap(), 2 << 20);
        assert_eq!(parse_size("1g", 1 << 20).unwrap(), 1 << 30);
        assert_eq!(parse_size("64KB", 1 << 20).unwrap(), 64 << 10);
        assert_eq!(parse_size("1gib", 1 << 20).unwrap(), 1 << 30);
        assert_eq!(parse_size("100", 1 << 20).unwrap(), 100 << 20);
        assert_eq!(parse_size("4096", 1).unwrap(), 4096);
        for bad in ["", "m", "x1m", "1.5g", "-1m", "99999999999t"] {
            assert!(parse_size(bad, 1).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn defaults_and_options() {
        let conf = Configuration::new();
        let o = Options::parse(&[], &conf).unwrap();
        assert_eq!(o.mode, Mode::All);
        assert_eq!((o.files, o.size, o.buffer), (4, 256 << 20, 1 << 20));
        assert_eq!(o.replications, vec![1, 3]);
        assert_eq!(o.fs, None);
        let o = Options::parse(
            &s(&[
                "-write",
                "-nrFiles",
                "2",
                "-size",
                "2m",
                "-replication",
                "1",
                "-bufferSize",
                "64k",
            ]),
            &conf,
        )
        .unwrap();
        assert_eq!(o.mode, Mode::Write);
        assert_eq!((o.files, o.size, o.buffer), (2, 2 << 20, 64 << 10));
        assert_eq!(o.replications, vec![1]);
        for bad in [
            &["-nrFiles", "0"][..],
            &["-nrFiles", "x"],
            &["-size", "0"],
            &["-replication", "0"],
            &["-replication", "4"],
            &["-bufferSize", "100"],
            &["-fs", "file:///"],
            &["-bogus"],
            &["-size"],
            &["-nnpid", "12"],
            &["-dnpids", "12,13"],
            &["-fs", "hdfs://nn:9000", "-dnpids", "12,x"],
            &["-fs", "hdfs://nn:9000", "-nnpid", "-1"],
        ] {
            assert!(Options::parse(&s(bad), &conf).is_err(), "{bad:?} accepted");
        }
        let o = Options::parse(&s(&["-fs", "hdfs://nn:9000", "-replication", "5"]), &conf);
        assert_eq!(o.unwrap().fs.as_deref(), Some("hdfs://nn:9000"));
        let o = Options::parse(
            &s(&["-fs", "hdfs://nn:9000", "-nnpid", "7", "-dnpids", "8, 9,10"]),
            &conf,
        )
        .unwrap();
        assert_eq!((o.nnpid, o.dnpids), (Some(7), vec![8, 9, 10]));
    }

    #[test]
    fn rates_follow_testdfsio_definitions() {
        let m = Measured {
            bytes: 4 << 20,
            file_size: 2 << 20,
            wall: Duration::from_secs(2),
            per_file: vec![Duration::from_secs(1), Duration::from_secs(2)],
            cpu: Duration::from_millis(500),
        };
        assert!((m.mib_per_sec() - 2.0).abs() < 1e-9);
        // Files at 2 and 1 MiB/s.
        assert!((m.avg_io_rate() - 1.5).abs() < 1e-9);
        assert!((m.per_gib(m.cpu) - 128.0).abs() < 1e-6);
    }
}
