//! `hafs bench restart`: how fast a NameNode comes back. Builds a namespace of N closed
//! one-block files with the namespace's plan/apply API, checkpoints it into a freshly
//! formatted name dir as the NameNode does, logs M more edits after the image into the
//! name dir's edit log (the edits a real client's create → addBlock → complete makes),
//! and then times what a NameNode restart runs: the image load
//! (`NameStorage::load_newest_image`), the replay of the edits after it
//! (`storage::replay_edits`), and, with `-lookups`, a whole NameNode start on that
//! name dir and reads from it over RPC. The baseline, measured in the same run, is
//! reading the image file and verifying its checksum — the floor of any load. Each
//! load's namespace must save to exactly the bytes of the namespace that was built, so
//! a fast but wrong loader fails the benchmark.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use bytes::BytesMut;
use hafs_client::DfsClient;
use hafs_conf::Configuration;
use hafs_namenode::fsimage;
use hafs_namenode::namespace::{BlockInfo, Caller, EditOp, Namespace, NamespaceConfig, Planned};
use hafs_namenode::storage::{self, NameStorage};
use hafs_namenode::NameNode;
use hafs_util::XorShift64;
use prost::Message;

use super::baseline::process_cpu_time;
use super::memory::FILES_PER_DIR;
use super::nnthroughput::loopback_config;
use super::report::{bytes, percentile, ratio, thousands};

const USAGE: &str = "\
Usage: hafs bench restart [-files N] [-edits N] [-runs N] [-lookups N] [-dir DIR]

  -files   closed one-block files in the fsimage (default 1000000)
  -edits   edits logged after the fsimage, replayed by the second load (default
           1000000): each new file is three edits, as a client's create, addBlock
           and complete make them, plus a mkdirs for every 1000 files
  -runs    loads of each kind; the median is reported (default 3)
  -lookups then start a NameNode on the name dir (in this process, on a loopback
           port), time its start, and time N getFileInfo calls of random files and
           N/10 listings of random directories over RPC (default 10000; 0 = skip)
  -dir     local directory for the name dir (default: the system temp dir); a fresh
           subdirectory is used and removed afterwards
";

const DEFAULT_FILES: u64 = 1_000_000;
const DEFAULT_EDITS: u64 = 1_000_000;
const DEFAULT_RUNS: usize = 3;
const DEFAULT_LOOKUPS: u64 = 10_000;
const MAX_LOOKUPS: u64 = 10_000_000;
/// Bounds that keep a typo from asking for something absurd.
const MAX_FILES: u64 = 200_000_000;
const MAX_EDITS: u64 = 200_000_000;
const MAX_RUNS: usize = 100;
/// Edits per segment write: the journal batches as the NameNode's group commit does.
const EDITS_PER_WRITE: u64 = 1000;
const CLIENT: &str = "DFSClient_NONMAPREDUCE_bench_1";

struct Options {
    files: u64,
    edits: u64,
    runs: usize,
    lookups: u64,
    dir: Option<PathBuf>,
}

fn parse(args: &[String]) -> anyhow::Result<Option<Options>> {
    let mut o = Options {
        files: DEFAULT_FILES,
        edits: DEFAULT_EDITS,
        runs: DEFAULT_RUNS,
        lookups: DEFAULT_LOOKUPS,
        dir: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .with_context(|| format!("{name} needs a value\n{USAGE}"))
                .cloned()
        };
        match a.trim_start_matches('-') {
            "help" | "h" => return Ok(None),
            "files" => o.files = number(&value("-files")?, "-files", 1, MAX_FILES)?,
            "edits" => o.edits = number(&value("-edits")?, "-edits", 0, MAX_EDITS)?,
            "runs" => o.runs = number(&value("-runs")?, "-runs", 1, MAX_RUNS as u64)? as usize,
            "lookups" => o.lookups = number(&value("-lookups")?, "-lookups", 0, MAX_LOOKUPS)?,
            "dir" => o.dir = Some(PathBuf::from(value("-dir")?)),
            _ => bail!("unknown option {a}\n{USAGE}"),
        }
    }
    Ok(Some(o))
}

fn number(s: &str, name: &str, min: u64, max: u64) -> anyhow::Result<u64> {
    let n: u64 = s
        .replace('_', "")
        .parse()
        .with_context(|| format!("{name}: '{s}' is not a number"))?;
    if !(min..=max).contains(&n) {
        bail!("{name}: {n} is outside {min}..={max}");
    }
    Ok(n)
}

pub async fn run(conf: &Configuration, args: &[String]) -> anyhow::Result<i32> {
    let Some(o) = parse(args)? else {
        print!("{USAGE}");
        return Ok(0);
    };
    let base = o.dir.clone().unwrap_or_else(std::env::temp_dir);
    let work = base.join(format!("hafs-bench-restart-{}", std::process::id()));
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    let result = run_in(conf, &o, &work).await;
    std::fs::remove_dir_all(&work).ok();
    let r = result?;
    r.print(&o);
    Ok(0)
}

struct Figures {
    inodes: u64,
    image_bytes: u64,
    image_txid: u64,
    edits: u64,
    edit_bytes: u64,
    build: Duration,
    read_verify: Duration,
    image_load: Duration,
    /// CPU time (all threads) of the median image load.
    image_cpu: Duration,
    /// Replaying the edits into the loaded image: wall and CPU time (medians).
    replay: Duration,
    replay_cpu: Duration,
    /// The namespace's own estimate of its bytes, after image and edits.
    memory: hafs_namenode::namespace::MemoryStats,
    served: Option<Served>,
}

/// A NameNode serving the namespace: its start and the latency of reads over RPC.
struct Served {
    start: Duration,
    /// Microseconds, sorted.
    file_info_us: Vec<u32>,
    listing_us: Vec<u32>,
    listing_entries: u64,
}

async fn run_in(conf: &Configuration, o: &Options, work: &Path) -> anyhow::Result<Figures> {
    let name_dir = work.join("name");
    let info = storage::new_storage_info(None);
    storage::format(
        std::slice::from_ref(&name_dir),
        &info,
        "hafs",
        "supergroup",
        false,
    )?;

    // The namespace in the image, and the edits that follow it.
    let start = Instant::now();
    let mut b = Builder::new();
    b.files(0..o.files, &mut |_| Ok(()))?;
    let image_txid = b.ops;
    let inodes = b.ns.memory_estimate().inodes;
    let image = b.ns.save_image();
    let expected_image_only = image.clone();
    let st = NameStorage::open(std::slice::from_ref(&name_dir))?;
    st.save_image(image_txid, &image, 2)?;
    drop(image);
    let journal = st.journal();
    let mut edit_bytes = 0u64;
    let mut next = image_txid + 1;
    if o.edits > 0 {
        journal.recover_unfinalized_segments().await?;
        journal.start_log_segment(next).await?;
        let mut pending: Vec<EditOp> = Vec::new();
        let mut file = o.files;
        // Whole files only, so the log may run up to three edits past -edits.
        while b.ops - image_txid < o.edits {
            b.files(file..file + 1, &mut |op| {
                pending.push(op);
                Ok(())
            })?;
            file += 1;
            if pending.len() as u64 >= EDITS_PER_WRITE || b.ops - image_txid >= o.edits {
                let n = pending.len() as u64;
                let mut buf = BytesMut::new();
                for (i, op) in pending.drain(..).enumerate() {
                    hafs_journal::record::encode(&mut buf, next + i as u64, &op.encode_to_vec())?;
                }
                edit_bytes += buf.len() as u64;
                journal.journal(next, n as u32, buf.freeze()).await?;
                next += n;
            }
        }
        journal
            .finalize_log_segment(image_txid + 1, next - 1)
            .await?;
    }
    let edits = next - 1 - image_txid;
    assert_eq!(edits, b.ops - image_txid, "every planned edit is logged");
    let expected_full = b.ns.save_image();
    let build = start.elapsed();
    drop(b);
    drop(st);
    drop(journal);

    let image_path = fsimage::list(&name_dir.join("current"))?
        .into_iter()
        .find(|(t, _)| *t == image_txid)
        .map(|(_, p)| p)
        .context("the checkpoint just saved is not in the name dir")?;
    let image_bytes = std::fs::metadata(&image_path)?.len();

    // Baseline: read the file and verify its framing and checksum.
    let read_verify = median(o.runs, || {
        let t = Instant::now();
        let raw = std::fs::read(&image_path)?;
        fsimage::decode(&image_path, &raw)?;
        Ok(t.elapsed())
    })?;

    let mut image_cpu = Vec::with_capacity(o.runs);
    let image_load = median(o.runs, || {
        let st = NameStorage::open(std::slice::from_ref(&name_dir))?;
        let (t, cpu) = (Instant::now(), process_cpu_time());
        let (txid, ns) = st.load_newest_image(NamespaceConfig::default())?;
        let took = t.elapsed();
        image_cpu.push(process_cpu_time().saturating_sub(cpu));
        if txid != image_txid || ns.save_image() != expected_image_only {
            bail!("the loaded image differs from the namespace that was saved");
        }
        Ok(took)
    })?;

    // Replay alone, timed from the image already in memory, as a restart runs it.
    let mut replay = Vec::with_capacity(o.runs);
    let mut replay_cpu = Vec::with_capacity(o.runs);
    let mut memory = None;
    for _ in 0..o.runs {
        let st = NameStorage::open(std::slice::from_ref(&name_dir))?;
        let journal = st.journal();
        let (txid, mut ns) = st.load_newest_image(NamespaceConfig::default())?;
        journal.recover_unfinalized_segments().await?;
        let (t, cpu) = (Instant::now(), process_cpu_time());
        let (last, _) = storage::replay_edits(&mut ns, &*journal, txid).await?;
        replay.push(t.elapsed());
        replay_cpu.push(process_cpu_time().saturating_sub(cpu));
        if last != image_txid + edits || ns.save_image() != expected_full {
            bail!("the namespace loaded from image and edits differs from the one built");
        }
        memory.get_or_insert_with(|| ns.memory_estimate());
    }
    let memory = memory.context("no load ran")?;
    replay.sort();
    replay_cpu.sort();
    let served = if o.lookups > 0 {
        Some(serve(conf, o, &name_dir, image_txid + edits).await?)
    } else {
        None
    };
    Ok(Figures {
        inodes,
        image_bytes,
        image_txid,
        edits,
        edit_bytes,
        build,
        read_verify,
        image_load,
        replay: replay[replay.len() / 2],
        replay_cpu: replay_cpu[replay_cpu.len() / 2],
        image_cpu: {
            image_cpu.sort();
            image_cpu[image_cpu.len() / 2]
        },
        memory,
        served,
    })
}

fn median(
    runs: usize,
    mut f: impl FnMut() -> anyhow::Result<Duration>,
) -> anyhow::Result<Duration> {
    let mut v = (0..runs).map(|_| f()).collect::<anyhow::Result<Vec<_>>>()?;
    v.sort();
    Ok(v[v.len() / 2])
}

impl Figures {
    fn print(&self, o: &Options) {
        let secs = |d: Duration| d.as_secs_f64().max(1e-9);
        println!(
            "restart: {} files with one block each ({} inodes) in an fsimage at txid {}, \
             then {} edits (create, addBlock, complete); median of {} loads",
            thousands(o.files as f64),
            thousands(self.inodes as f64),
            self.image_txid,
            thousands(self.edits as f64),
            o.runs
        );
        println!("  built and checkpointed in {:.1} s", secs(self.build));
        println!(
            "  fsimage:            {} ({:.0} bytes per inode)",
            bytes(self.image_bytes as f64),
            self.image_bytes as f64 / self.inodes.max(1) as f64
        );
        println!(
            "  read + verify:      {:>8.3} s  {}/s  (baseline)",
            secs(self.read_verify),
            bytes(self.image_bytes as f64 / secs(self.read_verify))
        );
        println!(
            "  image load:         {:>8.3} s  {} inodes/s  ({} of the baseline's time; \
             {:.3} s of CPU on {} threads)",
            secs(self.image_load),
            thousands(self.inodes as f64 / secs(self.image_load)),
            ratio(secs(self.image_load) / secs(self.read_verify)),
            secs(self.image_cpu),
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
        if self.edits > 0 {
            println!(
                "  edit replay:        {:>8.3} s  {} edits/s  ({} of edits; {:.3} s of CPU)",
                secs(self.replay),
                thousands(self.edits as f64 / secs(self.replay)),
                bytes(self.edit_bytes as f64),
                secs(self.replay_cpu)
            );
        }
        println!(
            "  namespace memory:   {} ({:.0} bytes per inode, the namespace's estimate)",
            bytes(self.memory.bytes_total as f64),
            self.memory.bytes_per_inode
        );
        if let Some(s) = &self.served {
            let us = |v: &[u32], p: f64| percentile(v, p);
            println!(
                "  NameNode start:     {:>8.3} s  (storage load, services, RPC port open)",
                secs(s.start)
            );
            println!(
                "  getFileInfo:        p50 {} us  p99 {} us  ({} random files, one client)",
                us(&s.file_info_us, 50.0),
                us(&s.file_info_us, 99.0),
                thousands(s.file_info_us.len() as f64)
            );
            println!(
                "  getListing:         p50 {} us  p99 {} us  ({} random directories, {} entries each)",
                us(&s.listing_us, 50.0),
                us(&s.listing_us, 99.0),
                thousands(s.listing_us.len() as f64),
                s.listing_entries / s.listing_us.len().max(1) as u64
            );
        }
    }
}

/// Starts a NameNode on `name_dir` in this process and times reads over RPC.
async fn serve(
    conf: &Configuration,
    o: &Options,
    name_dir: &Path,
    last_txid: u64,
) -> anyhow::Result<Served> {
    let config = loopback_config(conf, name_dir)?;
    let t = Instant::now();
    let nn = NameNode::start(config).await?;
    let start = t.elapsed();
    let uri = format!("hdfs://{}", nn.rpc_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(nn.run(async move {
        let _ = stopped.await;
    }));
    let result = async {
        let client = DfsClient::new(conf, Some(&uri))?;
        let mut rng = XorShift64::new(0x05EE_D0FF_11E5 ^ last_txid);
        let mut file_info_us = Vec::with_capacity(o.lookups as usize);
        for _ in 0..o.lookups {
            let i = rng.below(o.files);
            let path = format!(
                "/dir_{:04}/file_{:06}",
                i / FILES_PER_DIR,
                i % FILES_PER_DIR
            );
            let t = Instant::now();
            let st = client.get_file_info(&path).await?;
            file_info_us.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
            if st.is_none() {
                bail!("{path} is missing from the restarted NameNode");
            }
        }
        let dirs = o.files.div_ceil(FILES_PER_DIR);
        let mut listing_us = Vec::new();
        let mut listing_entries = 0;
        for _ in 0..(o.lookups / 10).max(1) {
            let dir = format!("/dir_{:04}", rng.below(dirs));
            let t = Instant::now();
            let page = client
                .get_listing(&dir, &[], false)
                .await?
                .with_context(|| format!("{dir} is missing from the restarted NameNode"))?;
            listing_us.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
            listing_entries += page.partial_listing.len() as u64;
        }
        file_info_us.sort_unstable();
        listing_us.sort_unstable();
        Ok(Served {
            start,
            file_info_us,
            listing_us,
            listing_entries,
        })
    }
    .await;
    let _ = stop.send(());
    task.await.context("the NameNode task panicked")??;
    result
}

/// The fsimage body of a namespace of `files` closed one-block files (this benchmark's
/// layout), built with the plan/apply API: to seed a benchmark cluster's name dirs.
pub(super) fn build_image(files: u64) -> anyhow::Result<Vec<u8>> {
    let mut b = Builder::new();
    b.files(0..files, &mut |_| Ok(()))?;
    Ok(b.ns.save_image())
}

/// Builds files as a client would (create, addBlock, complete), counting ops.
struct Builder {
    ns: Namespace,
    caller: Caller,
    now: i64,
    ops: u64,
}

impl Builder {
    fn new() -> Builder {
        let now = storage::now_ms();
        Builder {
            ns: Namespace::new(NamespaceConfig::default(), "hafs", "supergroup", now),
            caller: Caller::superuser("hafs"),
            now,
            ops: 0,
        }
    }

    fn apply(
        &mut self,
        op: EditOp,
        sink: &mut dyn FnMut(EditOp) -> anyhow::Result<()>,
    ) -> anyhow::Result<Option<u64>> {
        let outcome = self.ns.apply(&op)?;
        self.ops += 1;
        sink(op)?;
        Ok(outcome.inode_id)
    }

    /// Files `range` of the `/dir_NNNN/file_NNNNNN` layout, each closed with one block.
    fn files(
        &mut self,
        range: std::ops::Range<u64>,
        sink: &mut dyn FnMut(EditOp) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        for i in range {
            let dir = format!("/dir_{:04}", i / FILES_PER_DIR);
            let path = format!("{dir}/file_{:06}", i % FILES_PER_DIR);
            self.now += 1;
            if i % FILES_PER_DIR == 0 {
                match self
                    .ns
                    .plan_mkdirs(&self.caller, &dir, 0o755, true, self.now)?
                {
                    Planned::Apply(op) => {
                        self.apply(op, sink)?;
                    }
                    Planned::Done(_) => bail!("{dir} already exists in a fresh namespace"),
                }
            }
            let op = self.ns.plan_create(
                &self.caller,
                &path,
                0o644,
                CLIENT,
                "127.0.0.1",
                false,
                false,
                3,
                128 << 20,
                self.now,
            )?;
            let id = self
                .apply(op, sink)?
                .with_context(|| format!("create {path} reported no inode id"))?;
            let plan = self.ns.plan_add_block(CLIENT, &path, id, None)?;
            let block = plan.block.block;
            self.apply(plan.op.context("a first addBlock always logs")?, sink)?;
            let last = BlockInfo {
                num_bytes: 1 + i % 4096,
                ..block
            };
            let (op, _) = self
                .ns
                .plan_complete(CLIENT, &path, id, Some(last), self.now)?;
            self.apply(op, sink)?;
        }
        Ok(())
    }
}
