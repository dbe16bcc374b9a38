//! The data writer's view of a failover for `hafs bench failover --load hdfs-native`:
//! one hdfs-native process (Python bindings of the Rust client no one here wrote)
//! with a few threads, each writing small multi-block files (1 MiB blocks, 2.5 MiB
//! per file) through the nameservice in a loop. A file counts as acknowledged when
//! its `close()` returned; a writer whose write failed is set aside without closing
//! (hdfs-native would spend 15.5 s retrying its complete(); docs/benchmarks.md); the process prints the wall-clock instant of each, and the
//! benchmark maps them onto its monotonic clock. At the end the same process reads
//! every acknowledged file back through the nameservice and reports any that is
//! missing or differs (content is a function of the path).
//!
//! The interpreter: `$HAFS_PYTHON`, else `python3`; it must import `hdfs_native`
//! (`pip install hdfs-native`), which is checked before the cluster starts.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};

/// The writer and, on stdin EOF, the verifier.
const SCRIPT: &str = r#"
import hashlib, os, sys, threading, time
from hdfs_native import Client, WriteOptions
c = Client()
run, threads = sys.argv[1], int(sys.argv[2])
BLOCK, SIZE = 1 << 20, (5 << 20) // 2
stop = threading.Event()
lock = threading.Lock()
acked = []
# Writers whose write failed are set aside, never closed: hdfs-native's FileWriter is an
# io.RawIOBase, whose finalizer calls close(), and closing a file whose last block the
# client never committed retries complete() for 15.5 s (the NameNode, like Hadoop's,
# answers false), stalling this thread. The benchmark measures the failover, not that.
abandoned = []

def out(line):
    with lock:
        sys.stdout.write(line + '\n')
        sys.stdout.flush()

def content(path):
    seed = hashlib.sha256(path.encode()).digest()
    return (seed * (SIZE // len(seed) + 1))[:SIZE]

def writer(t):
    n = 0
    while not stop.is_set():
        path = f'{run}/native/t{t}/f{n}'
        n += 1
        w = None
        try:
            w = c.create(path, WriteOptions(block_size=BLOCK, overwrite=True, create_parent=True))
            data = content(path)
            for i in range(0, SIZE, 100003):
                w.write(data[i:i + 100003])
            w.close()
            with lock:
                acked.append(path)
            out(f'ACK {time.time():.6f} {path}')
        except Exception as e:
            if w is not None:
                with lock:
                    abandoned.append(w)
            out(f'FAIL {path} {e!r}'.replace('\n', ' '))
            time.sleep(0.01)

ts = [threading.Thread(target=writer, args=(t,), daemon=True) for t in range(threads)]
for t in ts:
    t.start()
out('STARTED')
sys.stdin.read()
stop.set()
for t in ts:
    t.join(120)
lost = 0
for path in list(acked):
    try:
        with c.read(path) as f:
            ok = f.read() == content(path)
    except Exception as e:
        ok = False
    if not ok:
        lost += 1
        out(f'LOST {path}')
out(f'VERIFIED {len(acked)} LOST {lost}')
# Exit without finalizing the abandoned writers (see above).
os._exit(0)
"#;

/// What the writer printed so far.
#[derive(Default)]
struct Seen {
    acks: Vec<Instant>,
    failures: u64,
    verified: Option<(usize, usize)>,
}

/// A running hdfs-native write load.
pub struct NativeLoad {
    child: Child,
    stdin: Option<ChildStdin>,
    seen: Arc<Mutex<Seen>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

/// The Python interpreter to run hdfs-native with.
fn python() -> String {
    std::env::var("HAFS_PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// Fails with what to install when hdfs-native cannot be imported.
pub fn check_available() -> anyhow::Result<()> {
    let py = python();
    let ok = Command::new(&py)
        .args(["-c", "import hdfs_native"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        bail!(
            "--load hdfs-native needs a Python with hdfs-native: `pip install hdfs-native`, \
             or set HAFS_PYTHON to an interpreter that has it (tried {py})"
        );
    }
    Ok(())
}

impl NativeLoad {
    /// Starts `threads` writers under `<run>/native`, with the cluster's conf dir.
    pub fn start(conf_dir: &Path, run: &str, threads: usize) -> anyhow::Result<NativeLoad> {
        let mut child = Command::new(python())
            .args(["-c", SCRIPT, run, &threads.to_string()])
            .env("HADOOP_CONF_DIR", conf_dir)
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting the hdfs-native writer")?;
        let stdout = child.stdout.take().context("writer stdout")?;
        let seen = Arc::new(Mutex::new(Seen::default()));
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let sink = seen.clone();
        // Wall clock → monotonic: one pair read together, the writer's instants are
        // on the same host clock.
        let (base_wall, base) = (SystemTime::now(), Instant::now());
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let mut s = sink.lock().expect("load lock");
                let f: Vec<&str> = line.splitn(3, ' ').collect();
                match f.as_slice() {
                    ["STARTED"] => {
                        let _ = started_tx.send(());
                    }
                    ["ACK", t, _path] => {
                        if let Ok(secs) = t.parse::<f64>() {
                            let wall = UNIX_EPOCH + Duration::from_secs_f64(secs);
                            let at = match wall.duration_since(base_wall) {
                                Ok(d) => base + d,
                                Err(e) => base.checked_sub(e.duration()).unwrap_or(base),
                            };
                            s.acks.push(at);
                        }
                    }
                    ["FAIL", ..] => s.failures += 1,
                    ["VERIFIED", rest @ ..] => {
                        let n: Vec<usize> = rest
                            .join(" ")
                            .split(' ')
                            .filter_map(|x| x.parse().ok())
                            .collect();
                        if let [acked, lost] = n.as_slice() {
                            s.verified = Some((*acked, *lost));
                        }
                    }
                    ["LOST", rest @ ..] => {
                        eprintln!("hdfs-native: acknowledged but lost: {rest:?}")
                    }
                    _ => {}
                }
            }
        });
        started_rx
            .recv_timeout(Duration::from_secs(30))
            .context("the hdfs-native writer did not start within 30 s")?;
        Ok(NativeLoad {
            stdin: child.stdin.take(),
            child,
            seen,
            reader: Some(reader),
        })
    }

    /// Time from `t` to the first acknowledged close() after it.
    pub fn first_ack_after(&self, t: Instant) -> Option<Duration> {
        let s = self.seen.lock().expect("load lock");
        s.acks.iter().filter(|a| **a > t).map(|a| *a - t).min()
    }

    /// Stops the writers, lets the process read every acknowledged file back, and
    /// returns (acknowledged, lost, failed writes).
    pub fn stop(mut self) -> anyhow::Result<(usize, usize, u64)> {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.flush();
        }
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            if self.child.try_wait()?.is_some() {
                break;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                bail!("the hdfs-native writer did not finish verifying within 600 s");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        let s = self.seen.lock().expect("load lock");
        let (acked, lost) = s
            .verified
            .context("the hdfs-native writer ended without verifying")?;
        Ok((acked, lost, s.failures))
    }
}

impl Drop for NativeLoad {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
