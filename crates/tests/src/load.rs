//! Continuous write/read load from real clients, for failover tests: each writer puts
//! files one after another until told to stop, reads back some of the ones it wrote,
//! and records every file whose write was acknowledged (the client exited 0 / closed
//! the stream without error). File contents follow from the path alone
//! ([`load_content`]), so a verifier needs only the list of acknowledged paths.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::tools::{hafs_dfs, java_fs, python, ClientTarget};

/// What one writer did.
#[derive(Debug, Default, Clone)]
pub struct LoadReport {
    /// Which client ("hafs", "java", "hdfs-native").
    pub client: String,
    /// Paths whose write was acknowledged, in order.
    pub acked: Vec<String>,
    /// Read-backs that returned exactly the written bytes.
    pub reads_ok: usize,
    /// Every failed write or read and every wrong read, with the client's words
    /// (hdfs-native's end with ` at=<Unix time in seconds>`, see [`failure_time`]).
    pub failures: Vec<String>,
}

impl LoadReport {
    /// Panics unless this writer saw no failure and had at least `min_acked` writes
    /// acknowledged; `across` names what the load ran through ("the failover").
    #[track_caller]
    pub fn assert_clean(&self, across: &str, min_acked: usize) {
        self.assert_clean_but(across, min_acked, 0, |_| false);
    }

    /// As `assert_clean`, but up to `max_tolerated` failures that `tolerated` accepts
    /// are allowed (a known client behaviour the caller documents).
    #[track_caller]
    pub fn assert_clean_but(
        &self,
        across: &str,
        min_acked: usize,
        max_tolerated: usize,
        tolerated: impl Fn(&str) -> bool,
    ) {
        let (accepted, others): (Vec<&String>, Vec<&String>) =
            self.failures.iter().partition(|f| tolerated(f));
        assert!(
            accepted.len() <= max_tolerated,
            "{} lost more than {max_tolerated} writes across {across}: {accepted:?}",
            self.client
        );
        assert!(
            others.is_empty(),
            "the {} writer saw errors across {across}:\n{}",
            self.client,
            others
                .iter()
                .map(|f| f.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
        assert!(
            self.acked.len() >= min_acked,
            "{} wrote only {} files across {across} (at least {min_acked} expected; {} \
             reads verified, {} failures)",
            self.client,
            self.acked.len(),
            self.reads_ok,
            self.failures.len()
        );
    }
}

/// The length of the `i`th file of a writer: mostly small, every tenth spans two
/// blocks of the test block size (1 MiB).
pub fn load_len(i: usize) -> usize {
    if i % 10 == 9 {
        1_500_000
    } else {
        1000 + (i * 7919) % 200_000
    }
}

/// The bytes of load file `path` of length `len`: lines `"<path> line <k>\n"` cut at
/// `len`. (The hdfs-native writer computes the same in Python.)
pub fn load_content(path: &str, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    let mut k = 0u64;
    while out.len() < len {
        out.extend_from_slice(format!("{path} line {k}\n").as_bytes());
        k += 1;
    }
    out.truncate(len);
    out
}

/// The length encoded in a load file's name (`.../f<i>`).
pub fn load_len_of(path: &str) -> Option<usize> {
    let name = path.rsplit('/').next()?;
    name.strip_prefix('f')?.parse().ok().map(load_len)
}

/// A running writer: stop it with [`Writer::stop`] to get its report.
pub struct Writer {
    stop: Arc<AtomicBool>,
    /// Writes acknowledged so far (not counted for hdfs-native, whose one Python
    /// process reports only when it ends).
    acked: Arc<AtomicUsize>,
    handle: JoinHandle<LoadReport>,
}

impl Writer {
    /// Our client: `hafs dfs -put` of each file, `hafs dfs -cat` of every other one.
    pub fn hafs(target: ClientTarget, dir: &str, scratch: std::path::PathBuf) -> Writer {
        let dir = dir.to_string();
        Writer::spawn(move |stop, acked| {
            put_loop("hafs", &stop, &acked, &dir, &scratch, 2, |args| {
                hafs_dfs(&target, args)
            })
        })
    }

    /// The Java shell (`hadoop fs -put` / `-cat`), one JVM per command.
    pub fn java(target: ClientTarget, dir: &str, scratch: std::path::PathBuf) -> Writer {
        let dir = dir.to_string();
        Writer::spawn(move |stop, acked| {
            put_loop("java", &stop, &acked, &dir, &scratch, 4, |args| {
                java_fs(&target, args)
            })
        })
    }

    /// hdfs-native in one Python process that writes for `seconds` (it cannot be told
    /// to stop early; [`Writer::stop`] waits for it).
    pub fn hdfs_native(target: ClientTarget, dir: &str, seconds: u64) -> Writer {
        let dir = dir.to_string();
        Writer::spawn(move |_stop, _acked| native_loop(&target, &dir, seconds))
    }

    fn spawn(
        f: impl FnOnce(Arc<AtomicBool>, Arc<AtomicUsize>) -> LoadReport + Send + 'static,
    ) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(AtomicUsize::new(0));
        let (flag, count) = (stop.clone(), acked.clone());
        Writer {
            stop,
            acked,
            handle: std::thread::spawn(move || f(flag, count)),
        }
    }

    /// How many writes were acknowledged so far (always 0 for hdfs-native).
    pub fn acked_so_far(&self) -> usize {
        self.acked.load(Ordering::SeqCst)
    }

    /// Waits until the writer has had `more` writes acknowledged beyond `from`;
    /// false if `timeout` passed first (or the writer ended).
    pub fn wait_for_acks(&self, from: usize, more: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.acked_so_far() < from + more {
            if Instant::now() >= deadline || self.handle.is_finished() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        true
    }

    /// Asks the writer to stop after its current file and returns its report.
    pub fn stop(self) -> LoadReport {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.join().expect("writer thread panicked")
    }
}

fn put_loop(
    client: &str,
    stop: &AtomicBool,
    acked: &AtomicUsize,
    dir: &str,
    scratch: &std::path::Path,
    read_every: usize,
    run: impl Fn(&[&str]) -> crate::command::CmdOutput,
) -> LoadReport {
    let mut report = LoadReport {
        client: client.to_string(),
        ..LoadReport::default()
    };
    std::fs::create_dir_all(scratch).expect("create scratch dir");
    let local = scratch.join(format!("{client}-put"));
    // `-put` does not create parents.
    let out = run(&["-mkdir", "-p", dir]);
    if !out.success() {
        report.failures.push(format!("mkdir {dir}:\n{out}"));
    }
    let mut i = 0usize;
    while !stop.load(Ordering::SeqCst) {
        let path = format!("{dir}/f{i}");
        let content = load_content(&path, load_len(i));
        std::fs::write(&local, &content).expect("write local file");
        let out = run(&["-put", "-f", local.to_str().expect("utf-8 path"), &path]);
        if out.success() {
            report.acked.push(path);
            acked.fetch_add(1, Ordering::SeqCst);
        } else {
            report.failures.push(format!("put {path}:\n{out}"));
        }
        if i.is_multiple_of(read_every) && !report.acked.is_empty() {
            // Read back an earlier file (the newest one too, now and then).
            let which = report.acked[(i * 31) % report.acked.len()].clone();
            let want = load_content(&which, load_len_of(&which).expect("load file name"));
            let out = run(&["-cat", &which]);
            if !out.success() {
                report.failures.push(format!("cat {which}:\n{out}"));
            } else if out.stdout.as_bytes() != want.as_slice() {
                report.failures.push(format!(
                    "cat {which}: {} bytes differ from the {} written",
                    out.stdout.len(),
                    want.len()
                ));
            } else {
                report.reads_ok += 1;
            }
        }
        i += 1;
    }
    report
}

const NATIVE_SCRIPT: &str = r#"
import io, os, sys, time
from hdfs_native import Client, WriteOptions
c = Client(os.environ['HAFS_FS_URI'])
d = DIR
def length(i):
    return 1500000 if i % 10 == 9 else 1000 + (i * 7919) % 200000
def content(path, n):
    out = bytearray()
    k = 0
    while len(out) < n:
        out += f"{path} line {k}\n".encode()
        k += 1
    return bytes(out[:n])
def describe(e):
    # hdfs-native's writer closes itself on leaving the `with` even after a failed
    # write, so the close's error hides the first one: name the whole chain.
    parts = []
    while e is not None and len(parts) < 4:
        parts.append(repr(e).replace("\n", " "))
        e = e.__cause__ or e.__context__
    return " | while handling: ".join(parts)
acked = []
deadline = time.time() + SECONDS
i = 0
while time.time() < deadline:
    path = f"{d}/f{i}"
    data = content(path, length(i))
    w = None
    try:
        w = c.create(path, WriteOptions(overwrite=True, create_parent=True))
        for off in range(0, len(data), 65536):
            w.write(data[off:off + 65536])
        w.close()
        # Only now: close() returned, so complete() said yes.
        acked.append(path)
        print("ACK", path, flush=True)
    except Exception as e:
        print("FAIL put", path, describe(e), f"at={time.time():.3f}", flush=True)
    finally:
        # hdfs-native's FileWriter is an io.RawIOBase whose close() never marks it
        # closed, so garbage collection calls close() again; after a failed close
        # that retries complete() with no last block for ~15 s (it can never
        # succeed) and stalls the next write. Mark it closed here; a failed file
        # is left to lease recovery, as for any crashed writer.
        if w is not None:
            io.RawIOBase.close(w)
        w = None
    if i % 2 == 0 and acked:
        which = acked[(i * 31) % len(acked)]
        want = content(which, length(int(which.rsplit('/f', 1)[1])))
        try:
            with c.read(which) as r:
                got = r.read()
            if got == want:
                print("READ_OK", which, flush=True)
            else:
                print("FAIL read", which, f"{len(got)} bytes differ from {len(want)}", f"at={time.time():.3f}", flush=True)
        except Exception as e:
            print("FAIL read", which, describe(e), f"at={time.time():.3f}", flush=True)
    i += 1
print("DONE", i, flush=True)
"#;

fn native_loop(target: &ClientTarget, dir: &str, seconds: u64) -> LoadReport {
    let script = NATIVE_SCRIPT
        .replace("DIR", &format!("{dir:?}"))
        .replace("SECONDS", &seconds.to_string());
    let started = Instant::now();
    let out = python(target, &script);
    let mut report = LoadReport {
        client: "hdfs-native".to_string(),
        ..LoadReport::default()
    };
    for line in out.stdout.lines() {
        if let Some(path) = line.strip_prefix("ACK ") {
            report.acked.push(path.to_string());
        } else if line.starts_with("READ_OK ") {
            report.reads_ok += 1;
        } else if line.starts_with("FAIL ") {
            report.failures.push(line.to_string());
        }
    }
    if !out.success() || !out.stdout.contains("DONE ") {
        report.failures.push(format!(
            "the hdfs-native writer died after {:?}:\n{out}",
            started.elapsed()
        ));
    }
    report
}

/// When an hdfs-native failure happened (its ` at=` suffix), for tests that relate a
/// failure to a fault they injected.
pub fn failure_time(failure: &str) -> Option<std::time::SystemTime> {
    let secs: f64 = failure.rsplit(" at=").next()?.trim().parse().ok()?;
    Some(std::time::UNIX_EPOCH + Duration::from_secs_f64(secs))
}

/// Checks every acknowledged file of `reports` with `hafs dfs -cat`: present and
/// byte-exact. Returns the problems found (empty: all good).
pub fn verify_acked(target: &ClientTarget, reports: &[LoadReport]) -> Vec<String> {
    let mut problems = Vec::new();
    for report in reports {
        for path in &report.acked {
            let want = load_content(path, load_len_of(path).expect("load file name"));
            let out = hafs_dfs(target, &["-cat", path]);
            if !out.success() {
                problems.push(format!(
                    "{} acknowledged {path}, now unreadable:\n{out}",
                    report.client
                ));
            } else if out.stdout.as_bytes() != want.as_slice() {
                problems.push(format!(
                    "{} acknowledged {path}: {} bytes read, {} written, contents differ",
                    report.client,
                    out.stdout.len(),
                    want.len()
                ));
            }
        }
    }
    problems
}

/// Panics unless every acknowledged file of `reports` reads back byte-exact
/// (`verify_acked`); `when` says at which point of the test, for the message.
#[track_caller]
pub fn assert_acked_intact(target: &ClientTarget, reports: &[LoadReport], when: &str) {
    let problems = verify_acked(target, reports);
    assert!(
        problems.is_empty(),
        "acknowledged files damaged {when}:\n{}",
        problems.join("\n")
    );
}

/// Sleeps in small steps until `deadline` (so a long wait is visibly bounded).
pub fn sleep_until(deadline: Instant) {
    while Instant::now() < deadline {
        std::thread::sleep((deadline - Instant::now()).min(Duration::from_millis(100)));
    }
}
