//! `shell(cmd)`: runs `bash -e -c cmd` with the whole configuration in the environment
//! (keys with '.' and '-' turned into '_') and the target as `$target_host`,
//! `$target_port`, `$target_address`, `$target_nameserviceid`, `$target_namenodeid`.
//! Exit status 0 means the target is fenced; anything else, or still running at the
//! deadline (`dfs.ha.fencing.shell.timeout`), means this method failed.
//!
//! This is also how a STONITH device is driven: the script powers the target's machine
//! off through the power switch's API and exits 0 only when the switch confirms it.

use std::time::Duration;

use tokio::process::Command;

use super::process::{self, Outcome};
use crate::target::HaTarget;

/// Length a command is cut to in log prefixes.
const ABBREV_LENGTH: usize = 20;

pub async fn try_fence(
    cmd: &str,
    target: &HaTarget,
    conf_env: &[(String, String)],
    timeout: Duration,
) -> bool {
    let mut command = Command::new("bash");
    command.arg("-e").arg("-c").arg(cmd);
    for (k, v) in conf_env {
        command.env(k, v);
    }
    for (k, v) in target.fencing_parameters() {
        command.env(format!("target_{k}"), v);
    }
    let label = abbreviate(cmd, ABBREV_LENGTH);
    tracing::info!("Launching fencing command '{cmd}' for {target}");
    match process::run(command, &label, timeout).await {
        Ok(Outcome::Exited(0)) => true,
        Ok(Outcome::Exited(rc)) => {
            tracing::warn!("fencing command '{cmd}' exited with status {rc}");
            false
        }
        Ok(Outcome::TimedOut) => {
            tracing::warn!("fencing command '{cmd}' timed out after {timeout:?}");
            false
        }
        Err(e) => {
            tracing::warn!("Unable to execute {cmd}: {e}");
            false
        }
    }
}

/// Shortens a long command for log prefixes by putting "..." in its middle.
pub fn abbreviate(cmd: &str, len: usize) -> String {
    let chars: Vec<char> = cmd.chars().collect();
    if chars.len() <= len || len < 5 {
        return cmd.to_string();
    }
    let first = (len - 3) / 2;
    let rest = len - first - 3;
    let head: String = chars[..first].iter().collect();
    let tail: String = chars[chars.len() - rest..].iter().collect();
    format!("{head}...{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abbreviates_in_the_middle() {
        assert_eq!(abbreviate("short", 20), "short");
        let a = abbreviate("/usr/local/bin/fence-the-namenode.sh --now", 20);
        assert_eq!(a.chars().count(), 20);
        assert!(a.starts_with("/usr/loc") && a.contains("...") && a.ends_with("--now"));
    }
}
