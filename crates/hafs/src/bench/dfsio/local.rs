//! The baseline: the same bytes through the local file system of the disk the cluster
//! stores its blocks on, in the same run. Three measurements, each with one thread or
//! process per file like the benchmark's tasks:
//! - `write+fsync`: this process writes each file from the pattern and fsyncs it (what
//!   a DataNode does with a replica, without the network);
//! - `cp+sync`: the system `cp` copies each file, then `sync FILE` fsyncs the copy;
//! - `cat`: the system `cat` reads each copy to /dev/null. Nothing is dropped from the
//!   page cache first, so, as for the benchmark's own reads, the data is warm.
//!
//! Files of an earlier measurement are removed first: every write creates new files,
//! as a DataNode does.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use super::pattern::Pattern;
use super::Measured;
use crate::bench::baseline::process_cpu_time;

/// Where the baseline's files live: `DIR/written_i` and `DIR/copied_i`.
pub struct LocalFiles {
    dir: PathBuf,
    count: u32,
    size: u64,
}

impl LocalFiles {
    pub fn new(dir: &Path, count: u32, size: u64) -> anyhow::Result<LocalFiles> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(LocalFiles {
            dir: dir.to_path_buf(),
            count,
            size,
        })
    }

    fn written(&self, i: u32) -> PathBuf {
        self.dir.join(format!("written_{i}"))
    }

    fn copied(&self, i: u32) -> PathBuf {
        self.dir.join(format!("copied_{i}"))
    }

    /// Writes every file from the pattern in `pattern.max_chunk()` pieces and fsyncs it.
    /// CPU is this process's.
    pub fn write_fsync(&self, pattern: &Pattern) -> anyhow::Result<Measured> {
        self.remove(|i| self.written(i))?;
        let cpu0 = process_cpu_time();
        let m = self.per_file(|i| {
            let path = self.written(i);
            let mut f = std::fs::File::create(&path)
                .with_context(|| format!("creating {}", path.display()))?;
            let mut pos = 0u64;
            while pos < self.size {
                let want = (self.size - pos).min(pattern.max_chunk() as u64) as usize;
                let chunk = pattern.slice(i, pos, want);
                f.write_all(chunk)
                    .with_context(|| format!("writing {}", path.display()))?;
                pos += chunk.len() as u64;
            }
            f.sync_all()
                .with_context(|| format!("fsync of {}", path.display()))
        })?;
        Ok(Measured {
            cpu: process_cpu_time().saturating_sub(cpu0),
            ..m
        })
    }

    /// `cp written_i copied_i && sync copied_i` per file. CPU is the children's.
    pub fn cp_sync(&self) -> anyhow::Result<Measured> {
        self.remove(|i| self.copied(i))?;
        let cpu0 = children_cpu_time();
        let m = self.per_file(|i| {
            let copied = self.copied(i);
            run(Command::new("cp").arg(self.written(i)).arg(&copied))?;
            run(Command::new("sync").arg(&copied))
        })?;
        Ok(Measured {
            cpu: children_cpu_time().saturating_sub(cpu0),
            ..m
        })
    }

    /// `cat copied_i > /dev/null` per file. CPU is the children's.
    pub fn cat(&self) -> anyhow::Result<Measured> {
        let cpu0 = children_cpu_time();
        let m = self.per_file(|i| run(Command::new("cat").arg(self.copied(i))))?;
        Ok(Measured {
            cpu: children_cpu_time().saturating_sub(cpu0),
            ..m
        })
    }

    /// Removes files of an earlier measurement (untimed), so every measurement creates
    /// new files as a DataNode does with every replica, rather than rewriting old ones.
    fn remove(&self, path: impl Fn(u32) -> PathBuf) -> anyhow::Result<()> {
        for i in 0..self.count {
            let p = path(i);
            match std::fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("removing {}", p.display())),
            }
        }
        Ok(())
    }

    /// Runs `work` for every file on its own thread; times each and the whole.
    fn per_file<F>(&self, work: F) -> anyhow::Result<Measured>
    where
        F: Fn(u32) -> anyhow::Result<()> + Sync,
    {
        let start = Instant::now();
        let results: Vec<anyhow::Result<Duration>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..self.count)
                .map(|i| {
                    let work = &work;
                    s.spawn(move || {
                        let t0 = Instant::now();
                        work(i).map(|()| t0.elapsed())
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(anyhow::anyhow!("a baseline thread panicked")))
                })
                .collect()
        });
        let wall = start.elapsed();
        let per_file = results.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Measured {
            bytes: self.size * u64::from(self.count),
            file_size: self.size,
            wall,
            per_file,
            cpu: Duration::ZERO,
        })
    }
}

/// Runs a command with output to /dev/null; an unsuccessful exit is an error.
fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let what = format!("{cmd:?}");
    let out = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("running {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// CPU time (user + system) of this process's waited-for children so far.
fn children_cpu_time() -> Duration {
    // SAFETY: getrusage writes into the struct we pass; zeroed is a valid rusage.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to a rusage for RUSAGE_CHILDREN.
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) } != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
    };
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_writes_copies_and_reads_the_pattern() {
        let dir = std::env::temp_dir().join(format!("hafs-dfsio-local-{}", std::process::id()));
        let pattern = Pattern::new(64 * 1024);
        let files = LocalFiles::new(&dir, 2, 300_000).unwrap();
        let w = files.write_fsync(&pattern).unwrap();
        assert_eq!((w.bytes, w.per_file.len()), (600_000, 2));
        let c = files.cp_sync().unwrap();
        assert_eq!(c.per_file.len(), 2);
        let r = files.cat().unwrap();
        assert!(r.mib_per_sec() > 0.0);
        for i in 0..2 {
            let data = std::fs::read(files.copied(i)).unwrap();
            assert_eq!(data.len(), 300_000);
            assert!(pattern.matches(i, 0, &data));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
