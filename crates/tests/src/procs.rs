//! Finding processes by what they were started with, to prove nothing was left behind.

/// A process seen in /proc.
#[derive(Debug, Clone)]
pub struct ProcessInfo {
    pub pid: u32,
    pub pgid: u32,
    pub state: char,
    pub cmdline: String,
}

/// Every live (not zombie) process other than this one whose command line contains
/// `needle` or whose process group is `pgid`.
pub fn processes_matching(needle: &str, pgid: Option<u32>) -> Vec<ProcessInfo> {
    let me = std::process::id();
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        let dir = entry.path();
        let Ok(stat) = std::fs::read_to_string(dir.join("stat")) else {
            continue;
        };
        // Format: pid (comm) state ppid pgrp …; comm may contain spaces and parens.
        let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let fields: Vec<&str> = after.split_whitespace().collect();
        if fields.len() < 3 {
            continue;
        }
        let state = fields[0].chars().next().unwrap_or('?');
        let proc_pgid: u32 = fields[2].parse().unwrap_or(0);
        if state == 'Z' || state == 'X' {
            continue;
        }
        let cmdline = std::fs::read(dir.join("cmdline"))
            .map(|b| {
                String::from_utf8_lossy(&b)
                    .replace('\0', " ")
                    .trim()
                    .to_string()
            })
            .unwrap_or_default();
        if cmdline.contains(needle) || pgid == Some(proc_pgid) {
            found.push(ProcessInfo {
                pid,
                pgid: proc_pgid,
                state,
                cmdline,
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn finds_a_child_by_its_command_line() {
        let marker = format!("hafs-procs-marker-{}", std::process::id());
        // The marker rides along as $0; the loop keeps sh itself alive (no exec).
        let mut child = Command::new("sh")
            .args(["-c", "while :; do sleep 0.05; done", &marker])
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
        let found = processes_matching(&marker, None);
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(found.iter().any(|p| p.pid == child.id()), "{found:?}");
        assert!(processes_matching(&marker, None)
            .iter()
            .all(|p| p.pid != child.id()));
    }
}
