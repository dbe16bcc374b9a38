//! `sshfence([[user][:port]])`: ssh to the target's host (the system `ssh` client, in
//! batch mode with `dfs.ha.fencing.ssh.private-key-files` and
//! `dfs.ha.fencing.ssh.connect-timeout`) and kill the process listening on the
//! target's RPC port with `fuser -v -k -n tcp <port>`, as Hadoop's SshFenceByTcpPort.
//!
//! Success, as in Hadoop: fuser killed something (exit 0); or fuser found nothing
//! (exit 1) and nothing listens on the port any more. hafs checks the port with
//! `nc -z`, or bash's /dev/tcp where nc is missing, so a host without nc is not taken
//! for fenced. An ssh failure (exit 255) is a failure of this method.

use std::time::Duration;

use tokio::process::Command;

use super::process::{self, Outcome};
use crate::error::FenceConfigError;
use crate::target::HaTarget;

pub const DEFAULT_SSH_PORT: u16 = 22;
/// ssh's own exit status for a connection or authentication failure.
const SSH_FAILED: i32 = 255;

#[derive(Debug, Clone)]
pub struct SshOptions {
    pub user: String,
    pub port: u16,
    pub key_files: Vec<String>,
    pub connect_timeout: Duration,
    /// Bound on each remote command beyond the connect timeout.
    pub command_timeout: Duration,
}

/// Parses `[[user][:port]]`; the user defaults to this process's user, the port to 22.
pub fn parse_args(arg: Option<&str>) -> Result<(String, u16), FenceConfigError> {
    let default_user = hafs_conf::current_user_name().to_string();
    let Some(arg) = arg.filter(|a| !a.is_empty()) else {
        return Ok((default_user, DEFAULT_SSH_PORT));
    };
    let (user, port) = match arg.split_once(':') {
        Some((u, p)) => (u, Some(p)),
        None => (arg, None),
    };
    if user.contains(char::is_whitespace) {
        return Err(FenceConfigError(format!(
            "Unable to parse user and SSH port: {arg}"
        )));
    }
    let user = if user.is_empty() {
        default_user
    } else {
        user.to_string()
    };
    let port = match port {
        None => DEFAULT_SSH_PORT,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| FenceConfigError(format!("Port number '{p}' invalid")))?,
    };
    Ok((user, port))
}

pub async fn try_fence(opts: &SshOptions, target: &HaTarget) -> bool {
    let port = target.port;
    tracing::info!(
        "Connecting to {} as {} (ssh port {}) to fence {target}",
        target.host,
        opts.user,
        opts.port
    );
    let kill = format!("PATH=$PATH:/sbin:/usr/sbin fuser -v -k -n tcp {port}");
    match run_remote(opts, &target.host, &kill).await {
        Some(0) => {
            tracing::info!("Successfully killed process that was listening on port {port}");
            true
        }
        Some(1) => {
            // fuser found nothing it could kill: either nothing listens any more, or the
            // listener belongs to a user we cannot see. Check the port itself.
            tracing::info!(
                "Indeterminate response from trying to kill service. Verifying whether it \
                 is running..."
            );
            let host = &target.host;
            let probe = format!(
                "if command -v nc >/dev/null 2>&1; then nc -z {host} {port}; \
                 else timeout 5 bash -c 'exec 3<>/dev/tcp/{host}/{port}'; fi"
            );
            match run_remote(opts, host, &probe).await {
                Some(0) => {
                    tracing::warn!("Unable to fence - it is running but we cannot kill it");
                    false
                }
                Some(SSH_FAILED) | None => false,
                Some(_) => {
                    tracing::info!("Verified that the service is down.");
                    true
                }
            }
        }
        Some(rc) => {
            tracing::warn!("sshfence: remote fuser/ssh exited with status {rc}");
            false
        }
        None => false,
    }
}

/// Runs `remote` on `host` over ssh; its exit status, or `None` when ssh could not run
/// or timed out.
async fn run_remote(opts: &SshOptions, host: &str, remote: &str) -> Option<i32> {
    let connect_secs = opts.connect_timeout.as_millis().div_ceil(1000).max(1);
    let mut cmd = Command::new("ssh");
    cmd.arg("-o")
        .arg("BatchMode=yes")
        .arg("-o")
        .arg("StrictHostKeyChecking=no")
        .arg("-o")
        .arg("UserKnownHostsFile=/dev/null")
        .arg("-o")
        .arg("LogLevel=ERROR")
        .arg("-o")
        .arg(format!("ConnectTimeout={connect_secs}"))
        .arg("-p")
        .arg(opts.port.to_string())
        .arg("-l")
        .arg(&opts.user);
    for key in &opts.key_files {
        cmd.arg("-i").arg(key);
    }
    cmd.arg(host).arg(remote);
    let label = format!("{remote} via ssh");
    let deadline = opts.connect_timeout + opts.command_timeout;
    match process::run(cmd, &label, deadline).await {
        Ok(Outcome::Exited(rc)) => {
            if rc == SSH_FAILED {
                tracing::warn!("Unable to connect to {host} as user {}", opts.user);
            }
            Some(rc)
        }
        Ok(Outcome::TimedOut) => {
            tracing::warn!("ssh to {host} timed out after {deadline:?}");
            None
        }
        Err(e) => {
            tracing::warn!("Unable to run ssh: {e}");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_user_and_port() {
        let me = hafs_conf::current_user_name().to_string();
        assert_eq!(parse_args(None).unwrap(), (me.clone(), 22));
        assert_eq!(parse_args(Some("hdfs")).unwrap(), ("hdfs".into(), 22));
        assert_eq!(parse_args(Some(":2222")).unwrap(), (me, 2222));
        assert_eq!(
            parse_args(Some("root:2200")).unwrap(),
            ("root".into(), 2200)
        );
        assert!(parse_args(Some("root:x")).is_err());
        assert!(parse_args(Some("root:0")).is_err());
    }
}
