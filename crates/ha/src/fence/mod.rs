//! Fencing: making sure a NameNode that was Active can no longer act as one.
//!
//! `dfs.ha.fencing.methods` lists methods one per line, tried in order until one
//! succeeds (Hadoop's NodeFencer); a line is `name(arg)` or `name`, and `#` starts a
//! comment. hafs knows Hadoop's two portable methods:
//! - `shell(cmd)`: `bash -e -c cmd` with the configuration and the target in its
//!   environment; exit status 0 means fenced ([`shell`]).
//! - `sshfence([[user][:port]])`: ssh to the target's host and kill whatever listens on
//!   its RPC port ([`ssh`]).
//!
//! Graceful fencing (asking the old Active to become Standby) is not a method here: the
//! failover controller tries it before the fencer.

mod process;
pub mod shell;
pub mod ssh;

use std::time::Duration;

use hafs_conf::keys::{self, DFS_HA_FENCING_METHODS};
use hafs_conf::{Configuration, TimeUnit};

use crate::error::FenceConfigError;
use crate::target::HaTarget;

pub use process::Outcome;

/// `dfs.ha.fencing.ssh.private-key-files`: comma-separated key files for sshfence.
pub const SSH_PRIVATE_KEY_FILES: &str = keys::DFS_HA_FENCING_SSH_PRIVATE_KEY_FILES;
/// `dfs.ha.fencing.ssh.connect-timeout`: milliseconds, default 30 000 (Hadoop's).
pub const SSH_CONNECT_TIMEOUT: &str = keys::DFS_HA_FENCING_SSH_CONNECT_TIMEOUT;
pub const SSH_CONNECT_TIMEOUT_DEFAULT: Duration =
    Duration::from_millis(keys::DFS_HA_FENCING_SSH_CONNECT_TIMEOUT_DEFAULT_MS);
/// `dfs.ha.fencing.shell.timeout`: how long a `shell(...)` command may run before it is
/// killed and counted as failed. An hafs addition: Hadoop's shell fencer waits forever.
pub const SHELL_TIMEOUT: &str = keys::DFS_HA_FENCING_SHELL_TIMEOUT;
pub const SHELL_TIMEOUT_DEFAULT: Duration =
    Duration::from_secs(keys::DFS_HA_FENCING_SHELL_TIMEOUT_DEFAULT_SECS);

/// One configured fencing method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FenceMethod {
    /// `shell(cmd)`.
    Shell { cmd: String },
    /// `sshfence([[user][:port]])`.
    Ssh { user: String, port: u16 },
}

impl std::fmt::Display for FenceMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FenceMethod::Shell { cmd } => write!(f, "shell({cmd})"),
            FenceMethod::Ssh { user, port } => write!(f, "sshfence({user}:{port})"),
        }
    }
}

/// The configured fencing methods and the settings they run with.
#[derive(Debug, Clone)]
pub struct NodeFencer {
    methods: Vec<FenceMethod>,
    /// The configuration as `key_with_underscores=value`, for `shell(...)`.
    conf_env: Vec<(String, String)>,
    shell_timeout: Duration,
    ssh_key_files: Vec<String>,
    ssh_connect_timeout: Duration,
}

impl NodeFencer {
    /// The fencer of `dfs.ha.fencing.methods`, or `None` when the key is unset (Hadoop:
    /// no fencer; a failover then refuses to run).
    pub fn from_conf(conf: &Configuration) -> Result<Option<NodeFencer>, FenceConfigError> {
        let Some(spec) = conf.get(DFS_HA_FENCING_METHODS) else {
            return Ok(None);
        };
        let methods = parse_methods(&spec)?;
        let shell_timeout = conf
            .get_time_duration(SHELL_TIMEOUT, SHELL_TIMEOUT_DEFAULT, TimeUnit::Seconds)
            .map_err(|e| FenceConfigError(e.to_string()))?;
        let ssh_connect_timeout = conf
            .get_time_duration(
                SSH_CONNECT_TIMEOUT,
                SSH_CONNECT_TIMEOUT_DEFAULT,
                TimeUnit::Millis,
            )
            .map_err(|e| FenceConfigError(e.to_string()))?;
        let conf_env = conf
            .iter()
            .map(|(k, raw)| {
                let value = conf.get(k).unwrap_or_else(|| raw.to_string());
                (env_name(k), value)
            })
            .collect();
        Ok(Some(NodeFencer {
            methods,
            conf_env,
            shell_timeout,
            ssh_key_files: conf.get_trimmed_strings(SSH_PRIVATE_KEY_FILES),
            ssh_connect_timeout,
        }))
    }

    pub fn methods(&self) -> &[FenceMethod] {
        &self.methods
    }

    /// Tries each method in order; true as soon as one fences `target`, false when all
    /// fail (the failover must then abort).
    pub async fn fence(&self, target: &HaTarget) -> bool {
        tracing::info!("====== Beginning Service Fencing Process... ======");
        let n = self.methods.len();
        for (i, method) in self.methods.iter().enumerate() {
            tracing::info!("Trying method {}/{n}: {method}", i + 1);
            let fenced = match method {
                FenceMethod::Shell { cmd } => {
                    shell::try_fence(cmd, target, &self.conf_env, self.shell_timeout).await
                }
                FenceMethod::Ssh { user, port } => {
                    let opts = ssh::SshOptions {
                        user: user.clone(),
                        port: *port,
                        key_files: self.ssh_key_files.clone(),
                        connect_timeout: self.ssh_connect_timeout,
                        command_timeout: self.shell_timeout,
                    };
                    ssh::try_fence(&opts, target).await
                }
            };
            if fenced {
                tracing::info!("====== Fencing successful by method {method} ======");
                return true;
            }
            tracing::warn!("Fencing method {method} was unsuccessful.");
        }
        tracing::error!("Unable to fence service by any configured method.");
        false
    }
}

/// Hadoop's conversion of a configuration key to an environment variable name: '.' and
/// '-' become '_'.
pub fn env_name(key: &str) -> String {
    key.chars()
        .map(|c| if c == '.' || c == '-' { '_' } else { c })
        .collect()
}

/// Parses the method list: one method per line, `#` comments, blank lines skipped.
pub fn parse_methods(spec: &str) -> Result<Vec<FenceMethod>, FenceConfigError> {
    let mut methods = Vec::new();
    for line in spec.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        methods.push(parse_method(line)?);
    }
    if methods.is_empty() {
        return Err(FenceConfigError("no fencing method configured".to_string()));
    }
    Ok(methods)
}

fn parse_method(line: &str) -> Result<FenceMethod, FenceConfigError> {
    let (name, arg) = match line.find('(') {
        Some(open) => {
            let Some(inner) = line[open + 1..].strip_suffix(')') else {
                return Err(FenceConfigError(format!("Unable to parse line: '{line}'")));
            };
            (&line[..open], Some(inner))
        }
        None => (line, None),
    };
    let valid_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '$');
    if !valid_name || arg.is_some_and(str::is_empty) {
        return Err(FenceConfigError(format!("Unable to parse line: '{line}'")));
    }
    match name {
        "shell" => match arg {
            Some(cmd) => Ok(FenceMethod::Shell {
                cmd: cmd.to_string(),
            }),
            None => Err(FenceConfigError(
                "No argument passed to 'shell' fencing method".to_string(),
            )),
        },
        "sshfence" => {
            let (user, port) = ssh::parse_args(arg)?;
            Ok(FenceMethod::Ssh { user, port })
        }
        other => Err(FenceConfigError(format!(
            "Could not find configured fencing method {other} (hafs supports shell(...) \
             and sshfence)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hadoop_method_lists() {
        let spec = "  sshfence(hdfs:2222)  \n# a comment line\n\nshell(/bin/fence.sh --force $target_host) # trailing\nsshfence";
        let m = parse_methods(spec).unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(
            m[0],
            FenceMethod::Ssh {
                user: "hdfs".into(),
                port: 2222
            }
        );
        assert_eq!(
            m[1],
            FenceMethod::Shell {
                cmd: "/bin/fence.sh --force $target_host".into()
            }
        );
        assert!(matches!(&m[2], FenceMethod::Ssh { port: 22, .. }));
    }

    #[test]
    fn rejects_bad_lines() {
        for bad in [
            "shell",
            "shell()",
            "shell(/bin/true",
            "powershell(x)",
            "com.example.MyFencer",
            "sshfence(user:notaport)",
            "sshfence(:70000)",
            "",
            "# only a comment",
            "bad name(x)",
        ] {
            assert!(parse_methods(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn env_names_replace_dots_and_dashes() {
        assert_eq!(
            env_name("dfs.ha.fencing.ssh.connect-timeout"),
            "dfs_ha_fencing_ssh_connect_timeout"
        );
    }
}
