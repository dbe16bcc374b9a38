//! Running a fencing command: its own process group, output logged line by line, a
//! deadline after which the whole group is killed.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

/// How a fencing command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exited with this code (a signal death counts as 128 + signal, as in a shell).
    Exited(i32),
    /// Still running at the deadline; its process group was killed.
    TimedOut,
}

/// Longest output line logged; longer lines are cut (a runaway script must not fill
/// memory).
const MAX_LOGGED_LINE: usize = 4096;

/// Runs `cmd` with stdin closed and stdout/stderr logged under `label`, for at most
/// `timeout`.
pub async fn run(mut cmd: Command, label: &str, timeout: Duration) -> std::io::Result<Outcome> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        // A group of its own, so a timeout kills the script's children too.
        .process_group(0);
    let mut child = cmd.spawn()?;
    let pid = child.id();
    let label = match pid {
        Some(p) => format!("[PID {p}] {label}"),
        None => label.to_string(),
    };
    let out = child
        .stdout
        .take()
        .map(|s| tokio::spawn(pump(s, label.clone(), false)));
    let err = child
        .stderr
        .take()
        .map(|s| tokio::spawn(pump(s, label.clone(), true)));
    let outcome = match tokio::time::timeout(timeout, child.wait()).await {
        Ok(status) => {
            let status = status?;
            use std::os::unix::process::ExitStatusExt;
            Outcome::Exited(
                status
                    .code()
                    .or_else(|| status.signal().map(|s| 128 + s))
                    .unwrap_or(-1),
            )
        }
        Err(_) => {
            tracing::warn!("{label}: still running after {timeout:?}; killing it");
            kill_group(pid);
            let _ = child.wait().await;
            Outcome::TimedOut
        }
    };
    // A background child of the script may hold the pipes open: wait for the output
    // only briefly, then stop logging it.
    for pump in [out, err].into_iter().flatten() {
        if tokio::time::timeout(Duration::from_secs(1), pump)
            .await
            .is_err()
        {
            tracing::debug!("{label}: output still open after exit; not waiting for it");
        }
    }
    Ok(outcome)
}

fn kill_group(pid: Option<u32>) {
    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
        // SAFETY: kill(2) with a negative pid signals the process group we created.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

async fn pump(mut stream: impl AsyncRead + Unpin, label: String, stderr: bool) {
    let mut chunk = [0u8; 4096];
    let mut line: Vec<u8> = Vec::new();
    loop {
        let n = match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        for &b in &chunk[..n] {
            if b == b'\n' {
                log_line(&label, &line, stderr);
                line.clear();
            } else if line.len() < MAX_LOGGED_LINE {
                line.push(b);
            }
        }
    }
    if !line.is_empty() {
        log_line(&label, &line, stderr);
    }
}

fn log_line(label: &str, line: &[u8], stderr: bool) {
    let line = String::from_utf8_lossy(line);
    let line = line.trim_end();
    if stderr {
        tracing::warn!("{label}: [stderr] {line}");
    } else {
        tracing::info!("{label}: [stdout] {line}");
    }
}
