//! The memory that Hadoop's `*.heap.percent` settings are a share of. Hadoop takes the
//! JVM's maximum heap; a hafs NameNode has no heap limit of its own, so it takes
//! `hafs.namenode.memory.bytes` if set, else the memory its cgroup may use, else the
//! machine's memory (the smaller of the two when both are known).

use std::path::Path;

/// Reads the limit from the system; None when neither source is readable.
pub fn detect() -> Option<u64> {
    let total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| mem_total(&s));
    let limit = cgroup_limit(Path::new("/sys/fs/cgroup"));
    match (total, limit) {
        (Some(t), Some(l)) => Some(t.min(l)),
        (t, l) => t.or(l),
    }
}

/// `MemTotal:  24683592 kB` → bytes.
pub fn mem_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kb.checked_mul(1024)
}

/// A cgroup memory limit file's value: a byte count, or "max" (v2) / a huge number
/// (v1, the page-rounded i64::MAX) for no limit.
pub fn parse_limit(text: &str) -> Option<u64> {
    let v: u64 = text.trim().parse().ok()?;
    // cgroup v1 reports "no limit" as i64::MAX rounded down to a page.
    (v < (1u64 << 62)).then_some(v)
}

/// The process's cgroup limit: v2 (`memory.max` in its own cgroup, whose path
/// `/proc/self/cgroup` gives as `0::/path`), else v1's root `memory.limit_in_bytes`.
fn cgroup_limit(root: &Path) -> Option<u64> {
    let own = std::fs::read_to_string("/proc/self/cgroup")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("0::").map(|p| p.trim().to_string()))
        })
        .unwrap_or_default();
    let candidates = [
        root.join(own.trim_start_matches('/')).join("memory.max"),
        root.join("memory.max"),
        root.join("memory/memory.limit_in_bytes"),
    ];
    candidates.iter().find_map(|p| {
        std::fs::read_to_string(p)
            .ok()
            .and_then(|s| parse_limit(&s))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meminfo_and_limits_parse() {
        let meminfo = "MemTotal:       24683592 kB\nMemFree:         8093476 kB\n";
        assert_eq!(mem_total(meminfo), Some(24_683_592 * 1024));
        assert_eq!(mem_total("MemFree: 1 kB\n"), None);
        assert_eq!(parse_limit("1073741824\n"), Some(1 << 30));
        assert_eq!(parse_limit("max\n"), None);
        assert_eq!(parse_limit("9223372036854771712\n"), None);
    }

    #[test]
    fn this_machine_has_some_memory() {
        // Linux test machines always have /proc/meminfo.
        assert!(detect().is_some_and(|m| m > 1 << 20));
    }
}
