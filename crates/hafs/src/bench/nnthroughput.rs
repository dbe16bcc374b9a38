//! `hafs bench nnthroughput`: NameNode throughput in the spirit of Hadoop's
//! NNThroughputBenchmark. Concurrent client tasks, each with its own `DfsClient` and so
//! its own IPC connection, drive a NameNode over TCP — by default one started in this
//! process on loopback with fresh storage, so the edit log's group commit can be
//! observed (edits per fsync) — and every mutation's rate is compared with the disk's
//! fsync rate measured in the same run. A separate step measures the namespace's
//! memory per file.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use hafs_client::DfsClient;
use hafs_conf::Configuration;
use hafs_namenode::namesystem::Namesystem;
use hafs_namenode::{storage, NameNode, NameNodeConfig, NameNodeError};

use super::baseline::{measure_fsync_rate, process_cpu_time, rss_bytes_of, FsyncRate};
use super::memory::{measure_namespace_memory, MemoryResult, FILES_PER_DIR};
use super::nn_process;
use super::report::{bytes, percentile, ratio, thousands};
use super::tiny_datanode::{self, TinyDatanode};
use super::workload::{exec, task_range, Files, Layout, Op};

const USAGE: &str = "\
Usage: hafs bench nnthroughput [-op all|mkdirs|create|fileStatus|listing|rename|delete]
         [-threads N] [-ops N] [-blocksPerFile 0|1] [-memory N_FILES] [-dir DIR]
         [-base PATH] [-fs URI [-nnpid PID]]

  -op       the operation to measure; 'all' (default) runs them in the order above,
            each later one working on the files 'create' made
  -threads  concurrent client tasks, each with its own connection (default 16)
  -ops      operations per measured op (default 100000)
  -blocksPerFile
            0 (default): create makes empty files; 1: each file gets one one-byte
            block at replication 1 (addBlock, reported by a storage-less DataNode
            this benchmark registers, then complete)
  -memory   also build a namespace of N closed files in this process and report
            its bytes per inode (default 1000000 with -op all, else 0 = skip)
  -dir      local directory for the in-process NameNode's storage and the fsync
            baseline (default: the system temp dir); a fresh subdirectory is used
            and removed afterwards
  -base     the benchmark's directory in the file system (default
            /nnThroughputBenchmark)
  -fs URI   benchmark an existing NameNode (hdfs://host:port) instead of starting one
            in this process; edits per fsync are then not available
  -nnpid    with -fs: the NameNode's process id, whose resident memory the create
            step reports per file; by default the local process listening on the
            -fs port (none for a remote NameNode)
";

const DEFAULT_THREADS: usize = 16;
const DEFAULT_OPS: u64 = 100_000;
const DEFAULT_MEMORY_FILES: u64 = 1_000_000;
/// Bounds that keep a typo from asking for something absurd.
const MAX_THREADS: usize = 4096;
const MAX_MEMORY_FILES: u64 = 100_000_000;
const MAX_BLOCKS_PER_FILE: u32 = 1;
/// How long the fsync baseline runs.
const FSYNC_BASELINE_TIME: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub ops: Vec<Op>,
    pub threads: usize,
    pub ops_per_op: u64,
    pub memory_files: u64,
    pub dir: Option<PathBuf>,
    pub base: String,
    /// An existing file system to benchmark; `None` starts a NameNode in-process.
    pub fs: Option<String>,
    /// Blocks each created file gets (0 or 1).
    pub blocks_per_file: u32,
    /// With `fs`: the NameNode's pid, for its resident memory.
    pub nnpid: Option<u32>,
    pub help: bool,
}

impl Options {
    /// Parses the benchmark's own arguments. `-fs` usually arrives already applied to
    /// `conf` by the generic options; a `fs.defaultFS` set on the command line (source
    /// "programmatically") counts as `-fs`, one from a config file does not, so an
    /// ambient HADOOP_CONF_DIR never points the benchmark at a real cluster by accident.
    pub fn parse(args: &[String], conf: &Configuration) -> anyhow::Result<Options> {
        let mut op: Option<String> = None;
        let mut threads = DEFAULT_THREADS;
        let mut ops_per_op = DEFAULT_OPS;
        let mut memory: Option<u64> = None;
        let mut dir = None;
        let mut base = "/nnThroughputBenchmark".to_string();
        let mut fs = None;
        let mut blocks_per_file = 0;
        let mut nnpid = None;
        let mut i = 0;
        while i < args.len() {
            let flag = args[i].as_str();
            let value = |what: &str| {
                args.get(i + 1)
                    .cloned()
                    .with_context(|| format!("{flag} needs {what}"))
            };
            match flag {
                "-op" => op = Some(value("an operation")?),
                "-threads" => threads = parse_count(flag, &value("a number")?)? as usize,
                "-ops" => ops_per_op = parse_count(flag, &value("a number")?)?,
                "-memory" => memory = Some(parse_count(flag, &value("a number of files")?)?),
                "-dir" => dir = Some(PathBuf::from(value("a directory")?)),
                "-base" => base = value("a path")?,
                "-fs" => fs = Some(value("a URI")?),
                "-blocksPerFile" => blocks_per_file = parse_count(flag, &value("0 or 1")?)?,
                "-nnpid" => nnpid = Some(parse_count(flag, &value("a process id")?)?),
                "-h" | "-help" | "--help" => {
                    return Ok(Options {
                        help: true,
                        ..Options::defaults()
                    })
                }
                other => bail!("unknown option '{other}'"),
            }
            i += 2;
        }
        if threads == 0 || threads > MAX_THREADS {
            bail!("-threads must be between 1 and {MAX_THREADS}");
        }
        if ops_per_op == 0 {
            bail!("-ops must be at least 1");
        }
        if blocks_per_file > u64::from(MAX_BLOCKS_PER_FILE) {
            bail!("-blocksPerFile must be 0 or {MAX_BLOCKS_PER_FILE}");
        }
        let nnpid = nnpid
            .map(|p| u32::try_from(p).context("-nnpid: not a process id"))
            .transpose()?;
        if memory.is_some_and(|m| m > MAX_MEMORY_FILES) {
            bail!("-memory is limited to {MAX_MEMORY_FILES} files");
        }
        if !base.starts_with('/') || base == "/" || base.ends_with('/') {
            bail!("-base must be an absolute path below / without a trailing slash");
        }
        let (ops, all) = match op.as_deref() {
            None | Some("all") => (Op::ALL.to_vec(), true),
            Some(name) => match Op::parse(name) {
                Some(op) => (vec![op], false),
                None => bail!("unknown operation '{name}'"),
            },
        };
        let memory_files = memory.unwrap_or(if all { DEFAULT_MEMORY_FILES } else { 0 });
        if fs.is_none() && conf.source(hafs_conf::keys::FS_DEFAULT_FS) == Some("programmatically") {
            fs = conf.get_trimmed(hafs_conf::keys::FS_DEFAULT_FS);
        }
        if let Some(uri) = &fs {
            if !uri.starts_with("hdfs://") {
                bail!("-fs must name an HDFS file system (hdfs://host:port), not '{uri}'");
            }
        }
        if nnpid.is_some() && fs.is_none() {
            bail!("-nnpid goes with -fs (an in-process NameNode is this process)");
        }
        Ok(Options {
            ops,
            threads,
            ops_per_op,
            memory_files,
            dir,
            base,
            blocks_per_file: blocks_per_file as u32,
            nnpid,
            fs,
            help: false,
        })
    }

    fn defaults() -> Options {
        Options {
            ops: Op::ALL.to_vec(),
            threads: DEFAULT_THREADS,
            ops_per_op: DEFAULT_OPS,
            memory_files: DEFAULT_MEMORY_FILES,
            dir: None,
            base: "/nnThroughputBenchmark".into(),
            fs: None,
            blocks_per_file: 0,
            nnpid: None,
            help: false,
        }
    }
}

fn parse_count(flag: &str, v: &str) -> anyhow::Result<u64> {
    let cleaned: String = v.chars().filter(|c| *c != '_' && *c != ',').collect();
    cleaned
        .parse()
        .with_context(|| format!("{flag}: '{v}' is not a non-negative whole number"))
}

/// The steps to run for `ops`: the measured ones, preceded (for an op that works on
/// existing files) by an unmeasured `create` that makes them.
pub fn plan_steps(ops: &[Op]) -> Vec<(Op, bool)> {
    let mut steps = Vec::new();
    let mut have_files = false;
    for &op in ops {
        if op.needs_files() && !have_files {
            steps.push((Op::Create, false));
        }
        steps.push((op, true));
        have_files |= op == Op::Create || op.needs_files();
    }
    steps
}

pub async fn run(conf: &Configuration, args: &[String]) -> anyhow::Result<i32> {
    let opts = match Options::parse(args, conf) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("hafs bench nnthroughput: {e:#}");
            eprint!("{USAGE}");
            return Ok(1);
        }
    };
    if opts.help {
        print!("{USAGE}");
        return Ok(0);
    }
    let work = WorkDir::create(opts.dir.as_deref())?;
    println!("hafs NNThroughputBenchmark");
    println!(
        "ops: {}; {} client tasks, one connection each; {} operations per op",
        opts.ops
            .iter()
            .map(|o| o.name())
            .collect::<Vec<_>>()
            .join(", "),
        opts.threads,
        thousands(opts.ops_per_op as f64)
    );

    // Memory first, while the process is small and no freed memory can be reused.
    if opts.memory_files > 0 {
        let files = opts.memory_files;
        let m = tokio::task::spawn_blocking(move || measure_namespace_memory(files))
            .await
            .context("the memory step panicked")??;
        print_memory(&m);
    }

    let dir = work.path.clone();
    let fsync = tokio::task::spawn_blocking(move || measure_fsync_rate(&dir, FSYNC_BASELINE_TIME))
        .await
        .context("the fsync baseline panicked")??;
    println!(
        "baseline: 4 KiB append + fdatasync in {}: {} fsyncs/s ({:.2} ms each, {} in {:.1} s)",
        work.path.display(),
        thousands(fsync.per_sec()),
        fsync.avg_ms(),
        fsync.syncs,
        fsync.elapsed.as_secs_f64()
    );

    let result = run_target(conf, &opts, &work, &fsync).await;
    if result.is_ok() {
        let dir = work.path.clone();
        let again =
            tokio::task::spawn_blocking(move || measure_fsync_rate(&dir, FSYNC_BASELINE_TIME))
                .await
                .context("the fsync baseline panicked")??;
        println!(
            "baseline again after the run: {} fsyncs/s ({:.2} ms each); the ratios above use \
             the first measurement",
            thousands(again.per_sec()),
            again.avg_ms()
        );
    }
    result.map(|()| 0)
}

/// Runs the measured steps against an existing NameNode or one started here.
async fn run_target(
    conf: &Configuration,
    opts: &Options,
    work: &WorkDir,
    fsync: &FsyncRate,
) -> anyhow::Result<()> {
    match &opts.fs {
        Some(uri) => {
            println!("namenode: existing, {uri} (edits per fsync not observable from here)");
            let pid = opts
                .nnpid
                .or_else(|| nn_process::local_port(uri).and_then(nn_process::listener_pid));
            let target = Target {
                fsn: None,
                pid: pid.map_or(NnPid::Unknown, NnPid::Pid),
                dn: join_datanode(opts, uri).await?,
            };
            let clients = connect(&client_conf(conf, uri), uri, opts.threads).await?;
            let layout = Layout {
                base: opts.base.clone(),
            };
            // Like Hadoop's benchmark: start from, and leave, a clean base directory.
            clients[0].delete(&layout.base, true).await?;
            let result = run_steps(opts, &clients, &layout, &target, fsync).await;
            let cleanup = clients[0].delete(&layout.base, true).await;
            target.stop();
            result?;
            cleanup?;
        }
        None => {
            let nn = InProcess::start(conf, &work.path).await?;
            println!(
                "namenode: in-process, {} (name dir {})",
                nn.uri,
                nn.name_dir.display()
            );
            let result = async {
                let target = Target {
                    fsn: Some(nn.fsn.clone()),
                    pid: NnPid::ThisProcess,
                    dn: join_datanode(opts, &nn.uri).await?,
                };
                let clients = connect(&client_conf(conf, &nn.uri), &nn.uri, opts.threads).await?;
                let layout = Layout {
                    base: opts.base.clone(),
                };
                let r = run_steps(opts, &clients, &layout, &target, fsync).await;
                target.stop();
                r
            }
            .await;
            let stopped = nn.stop().await;
            result?;
            stopped?;
        }
    }
    Ok(())
}

fn client_conf(conf: &Configuration, uri: &str) -> Configuration {
    let mut c = conf.clone();
    c.set("fs.defaultFS", uri);
    c
}

/// With `-blocksPerFile 1`: a storage-less DataNode registered with the NameNode and
/// heartbeating until the run ends, so `addBlock` has somewhere to place replicas.
async fn join_datanode(
    opts: &Options,
    uri: &str,
) -> anyhow::Result<Option<(Arc<TinyDatanode>, tokio::task::JoinHandle<()>)>> {
    if opts.blocks_per_file == 0 {
        return Ok(None);
    }
    let addr = uri.trim_start_matches("hdfs://").trim_end_matches('/');
    let dn = Arc::new(TinyDatanode::join(addr).await?);
    let beating = dn.clone();
    let heartbeats = tokio::spawn(async move {
        loop {
            tokio::time::sleep(tiny_datanode::HEARTBEAT_INTERVAL).await;
            if let Err(e) = beating.heartbeat().await {
                eprintln!("hafs bench: tiny DataNode heartbeat failed: {e:#}");
            }
        }
    });
    println!("datanode: a storage-less DataNode registered for -blocksPerFile 1");
    Ok(Some((dn, heartbeats)))
}

/// What the steps run against: the NameNode (its namesystem when in this process),
/// where to read its memory, and the benchmark's DataNode if any.
struct Target {
    fsn: Option<Arc<Namesystem>>,
    pid: NnPid,
    dn: Option<(Arc<TinyDatanode>, tokio::task::JoinHandle<()>)>,
}

/// Whose resident memory is the NameNode's.
#[derive(Clone, Copy)]
enum NnPid {
    ThisProcess,
    Pid(u32),
    Unknown,
}

impl Target {
    fn stop(&self) {
        if let Some((_, heartbeats)) = &self.dn {
            heartbeats.abort();
        }
    }

    fn datanode(&self) -> Option<Arc<TinyDatanode>> {
        self.dn.as_ref().map(|(dn, _)| dn.clone())
    }

    fn sample(&self) -> MemorySample {
        let rss = match self.pid {
            NnPid::ThisProcess => rss_bytes_of(None),
            NnPid::Pid(pid) => rss_bytes_of(Some(pid)),
            NnPid::Unknown => None,
        };
        MemorySample {
            rss,
            estimate: self.fsn.as_ref().map(|f| f.memory_report().bytes_total),
        }
    }
}

/// One client per task, each connected (an untimed getFileInfo of /) before any
/// measurement starts.
async fn connect(conf: &Configuration, uri: &str, n: usize) -> anyhow::Result<Vec<DfsClient>> {
    let clients = (0..n)
        .map(|_| DfsClient::new(conf, Some(uri)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut warmups = Vec::with_capacity(n);
    for c in &clients {
        let c = c.clone();
        warmups.push(tokio::spawn(async move { c.get_file_info("/").await }));
    }
    for w in warmups {
        w.await.context("a client task panicked")??;
    }
    Ok(clients)
}

/// What one measured op achieved.
#[derive(Debug, Clone)]
struct StepResult {
    op: Op,
    ops: u64,
    elapsed: Duration,
    /// Per-call latencies in microseconds, sorted.
    latencies: Vec<u32>,
    /// (edits, syncs) written during the step, when the NameNode is in this process.
    edits: Option<(u64, u64)>,
    /// CPU time the whole process (clients and, in-process, the NameNode) used.
    cpu: Duration,
}

impl StepResult {
    fn ops_per_sec(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn cpu_us_per_op(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.ops.max(1) as f64
    }

    fn edits_per_fsync(&self) -> Option<f64> {
        match self.edits {
            Some((edits, syncs)) if syncs > 0 => Some(edits as f64 / syncs as f64),
            _ => None,
        }
    }
}

async fn run_steps(
    opts: &Options,
    clients: &[DfsClient],
    layout: &Layout,
    target: &Target,
    fsync: &FsyncRate,
) -> anyhow::Result<()> {
    let n = opts.ops_per_op;
    let mut files = Files {
        count: 0,
        renamed: false,
    };
    let mut results = Vec::new();
    let mut memory = None;
    let mut header_done = false;
    for (op, measured) in plan_steps(&opts.ops) {
        let before = (op == Op::Create).then(|| target.sample());
        if !measured {
            let start = Instant::now();
            run_step(op, clients, layout, files, n, target).await?;
            println!(
                "(prepared {} files for the next op with unmeasured creates in {:.1} s)",
                thousands(n as f64),
                start.elapsed().as_secs_f64()
            );
        } else {
            if !header_done {
                print_header();
                header_done = true;
            }
            let r = run_step(op, clients, layout, files, n, target).await?;
            print_row(&r, fsync);
            results.push(r);
        }
        if let Some(before) = before {
            memory = Some(CreateMemory {
                files: n,
                blocks_per_file: opts.blocks_per_file,
                before,
                after: target.sample(),
                retry_cache: target.fsn.as_ref().map(|f| f.retry_cache.stats()),
            });
        }
        match op {
            Op::Create => files.count = n,
            Op::Rename => files.renamed = true,
            Op::Delete => files.count = 0,
            _ => {}
        }
    }
    println!();
    for r in &results {
        print_summary(r, fsync);
    }
    if let Some(m) = &memory {
        print_create_memory(m, target.pid);
    }
    Ok(())
}

/// The NameNode's memory, read before and after a step.
#[derive(Debug, Clone, Copy)]
struct MemorySample {
    /// Resident set of the NameNode's process.
    rss: Option<u64>,
    /// The namespace's own estimate (in-process NameNode only).
    estimate: Option<u64>,
}

/// What the create step cost the NameNode in memory, once the load ended.
struct CreateMemory {
    files: u64,
    blocks_per_file: u32,
    before: MemorySample,
    after: MemorySample,
    retry_cache: Option<hafs_namenode::retry_cache::RetryCacheStats>,
}

fn per_file(before: Option<u64>, after: Option<u64>, files: u64) -> Option<f64> {
    let (b, a) = (before?, after?);
    Some((a as f64 - b as f64) / files.max(1) as f64)
}

fn print_create_memory(m: &CreateMemory, pid: NnPid) {
    let whose = match pid {
        NnPid::ThisProcess => "this process (NameNode and the benchmark's clients)".into(),
        NnPid::Pid(p) => format!("NameNode process {p}"),
        NnPid::Unknown => "the NameNode (not local, no -nnpid)".into(),
    };
    println!(
        "memory per created file ({} block{} each), after the create step:",
        m.blocks_per_file,
        if m.blocks_per_file == 1 { "" } else { "s" }
    );
    match per_file(m.before.rss, m.after.rss, m.files) {
        Some(per) => println!(
            "  RSS growth of {whose}: {per:.0} bytes per file ({} over {} files)",
            bytes(
                m.after
                    .rss
                    .unwrap_or(0)
                    .saturating_sub(m.before.rss.unwrap_or(0)) as f64
            ),
            thousands(m.files as f64)
        ),
        None => println!("  RSS growth of {whose}: not readable"),
    }
    match per_file(m.before.estimate, m.after.estimate, m.files) {
        Some(per) => println!("  namespace memory_estimate(): {per:.0} bytes per file"),
        None => println!("  namespace memory_estimate(): only with an in-process NameNode"),
    }
    if let Some(rc) = m.retry_cache {
        println!(
            "  retry cache now: {} entries, {} (budget {}, {} dropped)",
            thousands(rc.entries as f64),
            bytes(rc.bytes as f64),
            bytes(rc.budget as f64),
            thousands(rc.evicted as f64)
        );
    }
}

async fn run_step(
    op: Op,
    clients: &[DfsClient],
    layout: &Layout,
    files: Files,
    n: u64,
    target: &Target,
) -> anyhow::Result<StepResult> {
    let fsn = target.fsn.as_ref();
    let before = fsn.map(|f| f.edit_log.stats());
    let tasks = clients.len() as u64;
    let cpu_before = process_cpu_time();
    let start = Instant::now();
    let mut handles = Vec::with_capacity(clients.len());
    for (t, client) in clients.iter().enumerate() {
        let range = task_range(n, tasks, t as u64);
        let client = client.clone();
        let layout = layout.clone();
        let dn = target.datanode();
        handles.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity((range.end - range.start) as usize);
            for i in range {
                let t0 = Instant::now();
                exec(op, &client, &layout, files, i, dn.as_deref())
                    .await
                    .with_context(|| format!("{} #{i}", op.name()))?;
                latencies.push(u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX));
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::with_capacity(n as usize);
    let mut first_err = None;
    for h in handles {
        match h.await.context("a client task panicked")? {
            Ok(l) => latencies.extend(l),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    let elapsed = start.elapsed();
    let cpu = process_cpu_time().saturating_sub(cpu_before);
    if let Some(e) = first_err {
        return Err(e);
    }
    latencies.sort_unstable();
    let edits = match (fsn, before) {
        (Some(f), Some(b)) => {
            let a = f.edit_log.stats();
            Some((
                a.txns.saturating_sub(b.txns),
                a.syncs.saturating_sub(b.syncs),
            ))
        }
        _ => None,
    };
    Ok(StepResult {
        op,
        ops: n,
        elapsed,
        latencies,
        edits,
        cpu,
    })
}

fn print_memory(m: &MemoryResult) {
    let rss = match (m.rss_delta, m.rss_per_file()) {
        (Some(d), Some(per)) => format!("{:.1} bytes per file ({} in all)", per, bytes(d as f64)),
        _ => "not readable here".to_string(),
    };
    println!(
        "memory: {} closed files in {} dirs of {} (built with plan/apply in {:.1} s)",
        thousands(m.files as f64),
        thousands(m.dirs as f64),
        thousands(FILES_PER_DIR as f64),
        m.build_time.as_secs_f64()
    );
    println!(
        "  memory_estimate(): {:.1} bytes per inode over {} inodes, {:.1} bytes per file, {} in all",
        m.estimate_per_inode,
        thousands(m.inodes as f64),
        m.estimate_per_file(),
        bytes(m.estimate_total as f64)
    );
    println!("  process RSS growth while building: {rss}");
}

fn print_header() {
    println!();
    println!(
        "{:<11} {:>9} {:>9} {:>10} {:>8} {:>8} {:>10} {:>12} {:>9} {:>9}",
        "op",
        "ops",
        "elapsed_s",
        "ops/s",
        "avg_ms",
        "p99_ms",
        "cpu_us/op",
        "edits/fsync",
        "fsyncs/s",
        "vs_fsync"
    );
}

fn print_row(r: &StepResult, fsync: &FsyncRate) {
    let avg_ms = r.latencies.iter().map(|&l| f64::from(l)).sum::<f64>()
        / r.latencies.len().max(1) as f64
        / 1000.0;
    let p99_ms = f64::from(percentile(&r.latencies, 99.0)) / 1000.0;
    let (epf, syncs, vs) = if r.op.is_mutation() {
        (
            r.edits_per_fsync()
                .map_or("-".into(), |e| format!("{e:.1}")),
            r.edits.map_or("-".into(), |(_, syncs)| {
                thousands(syncs as f64 / r.elapsed.as_secs_f64().max(1e-9))
            }),
            ratio(r.ops_per_sec() / fsync.per_sec()),
        )
    } else {
        ("-".to_string(), "-".to_string(), "-".to_string())
    };
    println!(
        "{:<11} {:>9} {:>9.2} {:>10} {:>8.2} {:>8.2} {:>10.0} {:>12} {:>9} {:>9}",
        r.op.name(),
        r.ops,
        r.elapsed.as_secs_f64(),
        thousands(r.ops_per_sec()),
        avg_ms,
        p99_ms,
        r.cpu_us_per_op(),
        epf,
        syncs,
        vs
    );
}

fn print_summary(r: &StepResult, fsync: &FsyncRate) {
    let mut line = format!("{}: {} ops/s", r.op.name(), thousands(r.ops_per_sec()));
    if r.op.is_mutation() {
        if let Some(e) = r.edits_per_fsync() {
            line.push_str(&format!(", {e:.0} edits/fsync"));
        }
        line.push_str(&format!(
            ", {} the disk's fsync rate",
            ratio(r.ops_per_sec() / fsync.per_sec())
        ));
    }
    println!("{line}");
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
        let path = parent.join(format!("hafs-nnbench-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(WorkDir { path })
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.path) {
            eprintln!("hafs bench: could not remove {}: {e}", self.path.display());
        }
    }
}

/// The configuration of a NameNode in this benchmark's process: `conf` with one name
/// dir, RPC and HTTP on ephemeral loopback ports.
pub(super) fn loopback_config(
    conf: &Configuration,
    name_dir: &Path,
) -> anyhow::Result<NameNodeConfig> {
    let mut nn_conf = conf.clone();
    // Any address parses; the server binds to an ephemeral port below.
    nn_conf.set("fs.defaultFS", "hdfs://127.0.0.1:8020");
    nn_conf.set("dfs.namenode.rpc-address", "127.0.0.1:8020");
    nn_conf.set(
        "dfs.namenode.name.dir",
        format!("file://{}", name_dir.display()),
    );
    let mut config = NameNodeConfig::from_conf(&nn_conf)?;
    config.rpc_bind = "127.0.0.1:0".to_string();
    config.http.bind = "127.0.0.1:0".to_string();
    config.name_dirs = vec![name_dir.to_path_buf()];
    Ok(config)
}

/// A NameNode running in this process on a loopback port, with freshly formatted
/// storage.
struct InProcess {
    fsn: Arc<Namesystem>,
    uri: String,
    name_dir: PathBuf,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), NameNodeError>>,
}

impl InProcess {
    async fn start(conf: &Configuration, work: &Path) -> anyhow::Result<InProcess> {
        let name_dir = work.join("name");
        let config = loopback_config(conf, &name_dir)?;
        storage::format(
            &config.name_dirs,
            &storage::new_storage_info(Some("bench")),
            &config.superuser,
            &config.supergroup,
            true,
        )?;
        // With dfs.namenode.shared.edits.dir = qjournal://..., the edit log goes to
        // those JournalNodes (formatted afresh for the run).
        if let Some(uri) = &config.shared_edits {
            storage::format_shared_edits(&config.name_dirs, uri, &config.qjm, true).await?;
            println!("edit log: quorum journal {uri}");
        }
        let nn = NameNode::start(config).await?;
        let uri = format!("hdfs://{}", nn.rpc_addr());
        let fsn = nn.fsn.clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(nn.run(async move {
            let _ = stopped.await;
        }));
        Ok(InProcess {
            fsn,
            uri,
            name_dir,
            stop,
            task,
        })
    }

    async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.task.await.context("the NameNode task panicked")??;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn defaults_run_everything_with_a_million_file_memory_step() {
        let o = Options::parse(&[], &Configuration::new()).unwrap();
        assert_eq!(o.ops, Op::ALL.to_vec());
        assert_eq!(
            (o.threads, o.ops_per_op, o.memory_files),
            (16, 100_000, 1_000_000)
        );
        assert_eq!(o.fs, None);
    }

    #[test]
    fn options_parse_and_reject_bad_values() {
        let conf = Configuration::new();
        let o = Options::parse(
            &s(&[
                "-op",
                "fileStatus",
                "-threads",
                "4",
                "-ops",
                "2_000",
                "-dir",
                "/x",
            ]),
            &conf,
        )
        .unwrap();
        assert_eq!(o.ops, vec![Op::FileStatus]);
        assert_eq!((o.threads, o.ops_per_op, o.memory_files), (4, 2000, 0));
        assert_eq!(o.dir.as_deref(), Some(Path::new("/x")));
        let o = Options::parse(&s(&["-op", "mkdirs", "-memory", "500"]), &conf).unwrap();
        assert_eq!(o.memory_files, 500);
        for bad in [
            &["-op", "open"][..],
            &["-threads", "0"],
            &["-threads", "x"],
            &["-ops", "0"],
            &["-ops"],
            &["-bogus", "1"],
            &["-base", "relative"],
            &["-fs", "file:///"],
        ] {
            assert!(Options::parse(&s(bad), &conf).is_err(), "{bad:?} accepted");
        }
        assert!(Options::parse(&s(&["-help"]), &conf).unwrap().help);
    }

    #[test]
    fn blocks_per_file_and_nnpid() {
        let conf = Configuration::new();
        let o = Options::parse(
            &s(&[
                "-op",
                "create",
                "-blocksPerFile",
                "1",
                "-fs",
                "hdfs://h:1",
                "-nnpid",
                "42",
            ]),
            &conf,
        )
        .unwrap();
        assert_eq!((o.blocks_per_file, o.nnpid), (1, Some(42)));
        assert_eq!(Options::parse(&[], &conf).unwrap().blocks_per_file, 0);
        for bad in [
            &["-blocksPerFile", "2"][..],
            &["-nnpid", "42"],
            &["-fs", "hdfs://h:1", "-nnpid", "99999999999"],
        ] {
            assert!(Options::parse(&s(bad), &conf).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn only_a_command_line_default_fs_selects_an_existing_cluster() {
        let mut conf = Configuration::new();
        conf.add_resource_str(
            "core-site.xml",
            "<configuration><property><name>fs.defaultFS</name>\
             <value>hdfs://from-file:8020</value></property></configuration>",
        )
        .unwrap();
        assert_eq!(Options::parse(&[], &conf).unwrap().fs, None);
        conf.set("fs.defaultFS", "hdfs://nn:9000");
        assert_eq!(
            Options::parse(&[], &conf).unwrap().fs.as_deref(),
            Some("hdfs://nn:9000")
        );
    }

    #[test]
    fn steps_prepare_files_only_when_needed() {
        assert_eq!(
            plan_steps(&Op::ALL),
            Op::ALL.iter().map(|&o| (o, true)).collect::<Vec<_>>()
        );
        assert_eq!(plan_steps(&[Op::Mkdirs]), vec![(Op::Mkdirs, true)]);
        assert_eq!(
            plan_steps(&[Op::Rename]),
            vec![(Op::Create, false), (Op::Rename, true)]
        );
        assert_eq!(
            plan_steps(&[Op::Listing]),
            vec![(Op::Create, false), (Op::Listing, true)]
        );
    }
}
