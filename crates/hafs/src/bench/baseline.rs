//! Baselines measured in the same run as the benchmark: the disk's fsync rate (what
//! one edit-log sync costs at best) and the process's resident memory.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;

/// The size of one baseline write: a small edit-log batch.
const FSYNC_WRITE_BYTES: usize = 4096;
/// Upper bound on baseline iterations, for disks that sync (or pretend to) very fast.
const FSYNC_MAX_ITERATIONS: u64 = 200_000;

#[derive(Debug, Clone, Copy)]
pub struct FsyncRate {
    pub syncs: u64,
    pub elapsed: Duration,
}

impl FsyncRate {
    pub fn per_sec(&self) -> f64 {
        self.syncs as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn avg_ms(&self) -> f64 {
        self.elapsed.as_secs_f64() * 1000.0 / self.syncs.max(1) as f64
    }
}

/// Appends 4 KiB and calls fdatasync, over and over for about `duration`, to a new file
/// in `dir` (removed afterwards) — the pattern of an edit log that syncs every batch.
/// Blocking: call from a blocking thread.
pub fn measure_fsync_rate(dir: &Path, duration: Duration) -> anyhow::Result<FsyncRate> {
    let path = dir.join("fsync-baseline.dat");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    let block = vec![0x5au8; FSYNC_WRITE_BYTES];
    // One untimed round so file creation is not counted.
    file.write_all(&block)?;
    file.sync_all()?;
    let start = Instant::now();
    let mut syncs = 0;
    while syncs < FSYNC_MAX_ITERATIONS && start.elapsed() < duration {
        file.write_all(&block)
            .with_context(|| format!("writing {}", path.display()))?;
        file.sync_data()
            .with_context(|| format!("fdatasync of {}", path.display()))?;
        syncs += 1;
    }
    let elapsed = start.elapsed();
    drop(file);
    let _ = std::fs::remove_file(&path);
    Ok(FsyncRate { syncs, elapsed })
}

/// Resident pages from the text of `/proc/self/statm` (its second field).
pub fn parse_statm_resident_pages(statm: &str) -> Option<u64> {
    statm.split_whitespace().nth(1)?.parse().ok()
}

/// The process's resident set size in bytes, if the platform tells.
pub fn rss_bytes() -> Option<u64> {
    rss_bytes_of(None)
}

/// The resident set size of process `pid` (None: this one), if readable.
pub fn rss_bytes_of(pid: Option<u32>) -> Option<u64> {
    let path = match pid {
        None => "/proc/self/statm".to_string(),
        Some(pid) => format!("/proc/{pid}/statm"),
    };
    let statm = std::fs::read_to_string(path).ok()?;
    let pages = parse_statm_resident_pages(&statm)?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let page = u64::try_from(page).ok().filter(|p| *p > 0)?;
    pages.checked_mul(page)
}

/// CPU time (user + system) this process has used so far, all threads.
pub fn process_cpu_time() -> Duration {
    // SAFETY: getrusage writes into the struct we pass; zeroed is a valid rusage.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to a rusage for RUSAGE_SELF.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) } != 0 {
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
    fn statm_resident_is_the_second_field() {
        assert_eq!(
            parse_statm_resident_pages("1024 256 100 10 0 500 0\n"),
            Some(256)
        );
        assert_eq!(parse_statm_resident_pages("1024"), None);
        assert_eq!(parse_statm_resident_pages("1024 x"), None);
        assert_eq!(parse_statm_resident_pages(""), None);
    }

    #[test]
    fn cpu_time_grows_with_work() {
        let before = process_cpu_time();
        let mut x = 1u64;
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_millis(30) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        assert!(x != 0);
        assert!(process_cpu_time() > before);
    }

    #[test]
    fn rss_is_readable_here() {
        let rss = rss_bytes().expect("/proc/self/statm on Linux");
        assert!(rss > 0);
    }

    #[test]
    fn fsync_baseline_counts_syncs_and_cleans_up() {
        let dir = std::env::temp_dir().join(format!("hafs-bench-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let r = measure_fsync_rate(&dir, Duration::from_millis(50)).unwrap();
        assert!(r.syncs > 0);
        assert!(r.per_sec() > 0.0);
        assert!(!dir.join("fsync-baseline.dat").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
