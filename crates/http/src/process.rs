//! The process bean every daemon shows (Hadoop shows the JVM's; hafs has no JVM):
//! resident memory, threads, open descriptors and uptime, read from `/proc/self`.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::jmx::Bean;
use crate::prom::PromText;

/// Figures of this process; zero where the system does not tell.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcessFigures {
    pub resident_bytes: u64,
    pub virtual_bytes: u64,
    pub threads: u64,
    pub open_fds: u64,
    pub max_fds: u64,
}

impl ProcessFigures {
    pub fn read() -> ProcessFigures {
        let mut f = ProcessFigures::default();
        if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
            for line in status.lines() {
                let kib = |l: &str| {
                    l.split_whitespace()
                        .nth(1)
                        .and_then(|v| v.parse::<u64>().ok())
                        .unwrap_or(0)
                        * 1024
                };
                if line.starts_with("VmRSS:") {
                    f.resident_bytes = kib(line);
                } else if line.starts_with("VmSize:") {
                    f.virtual_bytes = kib(line);
                } else if let Some(t) = line.strip_prefix("Threads:") {
                    f.threads = t.trim().parse().unwrap_or(0);
                }
            }
        }
        // Bounded by the process's own descriptor limit.
        f.open_fds = std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as u64);
        if let Ok(limits) = std::fs::read_to_string("/proc/self/limits") {
            if let Some(l) = limits.lines().find(|l| l.starts_with("Max open files")) {
                f.max_fds = l
                    .split_whitespace()
                    .nth(3)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
            }
        }
        f
    }
}

/// When this process started, in ms since the epoch (the first call fixes it; daemons
/// call [`start_time_ms`] at startup).
pub fn start_time_ms() -> u64 {
    static START: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *START.get_or_init(now_ms)
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// `hafs:service=<daemon>,name=Process`.
pub fn bean(daemon: &str) -> Bean {
    let f = ProcessFigures::read();
    let start = start_time_ms();
    Bean::new(format!("hafs:service={daemon},name=Process"), "Process")
        .attr("StartTime", start)
        .attr("UptimeMillis", now_ms().saturating_sub(start))
        .attr("ResidentBytes", f.resident_bytes)
        .attr("VirtualBytes", f.virtual_bytes)
        .attr("Threads", f.threads)
        .attr("OpenFileDescriptors", f.open_fds)
        .attr("MaxFileDescriptors", f.max_fds)
}

/// The standard `process_*` series Prometheus client libraries export.
pub fn prometheus(out: &mut PromText) {
    let f = ProcessFigures::read();
    out.gauge(
        "process_resident_memory_bytes",
        &[],
        f.resident_bytes as f64,
    );
    out.gauge("process_virtual_memory_bytes", &[], f.virtual_bytes as f64);
    out.gauge("process_open_fds", &[], f.open_fds as f64);
    out.gauge("process_max_fds", &[], f.max_fds as f64);
    out.gauge("process_threads", &[], f.threads as f64);
    out.gauge(
        "process_start_time_seconds",
        &[],
        start_time_ms() as f64 / 1000.0,
    );
}
