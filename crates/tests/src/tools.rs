//! Running clients against a cluster: our `hafs` CLI, the Java `hadoop fs` shell and
//! Python hdfs-native. Each returns a [`CmdOutput`]; chain `.ok()` to require success.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cluster::MiniCluster;
use crate::command::{run_with_timeout, CmdOutput, DEFAULT_CMD_TIMEOUT};
use crate::paths::{hadoop_fs_script, hafs_bin, hafs_cache, jars_dir, python_bin};

/// Something clients can be pointed at: a conf dir and the default file system URI.
pub trait ConfTarget {
    fn conf_dir(&self) -> &Path;
    fn fs_uri(&self) -> String;
    /// Environment a client of this target runs with (a Kerberos ticket cache and
    /// krb5.conf in a secure cluster).
    fn client_env(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}

impl ConfTarget for MiniCluster {
    fn conf_dir(&self) -> &Path {
        MiniCluster::conf_dir(self)
    }
    fn fs_uri(&self) -> String {
        MiniCluster::fs_uri(self)
    }
    /// In a secure cluster, clients run as `alice` with her ticket.
    fn client_env(&self) -> Vec<(String, String)> {
        self.user_env("alice")
    }
}

/// A conf dir written by someone else (e.g. `hafs sandbox`), or a cluster seen as some
/// user ([`MiniCluster::as_user`]).
#[derive(Debug, Clone)]
pub struct ClientTarget {
    pub conf_dir: PathBuf,
    pub fs_uri: String,
    pub env: Vec<(String, String)>,
}

impl ConfTarget for ClientTarget {
    fn conf_dir(&self) -> &Path {
        &self.conf_dir
    }
    fn fs_uri(&self) -> String {
        self.fs_uri.clone()
    }
    fn client_env(&self) -> Vec<(String, String)> {
        self.env.clone()
    }
}

/// `hafs --config <conf dir> <args…>`.
#[track_caller]
pub fn hafs_cmd(target: &impl ConfTarget, args: &[&str]) -> CmdOutput {
    let mut cmd = Command::new(hafs_bin());
    cmd.env_remove("HADOOP_CONF_DIR")
        .envs(target.client_env())
        .arg("--config")
        .arg(target.conf_dir())
        .args(args);
    run_with_timeout(cmd, DEFAULT_CMD_TIMEOUT)
}

/// The Java `hadoop fs` shell (scripts/hadoop-fs) with `HADOOP_CONF_DIR` = the conf dir:
/// `java_fs(&cluster, &["-ls", "/"])`.
#[track_caller]
pub fn java_fs(target: &impl ConfTarget, args: &[&str]) -> CmdOutput {
    run_with_timeout(java_command(target, args), DEFAULT_CMD_TIMEOUT)
}

/// Like [`java_fs`], as another user (`HADOOP_USER_NAME`, honoured by Hadoop's simple
/// authentication).
#[track_caller]
pub fn java_fs_as(target: &impl ConfTarget, user: &str, args: &[&str]) -> CmdOutput {
    let mut cmd = java_command(target, args);
    cmd.env("HADOOP_USER_NAME", user);
    run_with_timeout(cmd, DEFAULT_CMD_TIMEOUT)
}

fn java_command(target: &impl ConfTarget, args: &[&str]) -> Command {
    let jars = jars_dir();
    let mut cmd = Command::new("bash");
    cmd.arg(hadoop_fs_script())
        .args(args)
        .env("HAFS_CACHE", hafs_cache())
        .env("HAFS_JARS", jars)
        .env("HADOOP_CONF_DIR", target.conf_dir())
        .env_remove("HADOOP_USER_NAME")
        .envs(target.client_env());
    cmd
}

/// Runs a Python snippet with the hdfs-native venv. The snippet sees `HAFS_FS_URI` and
/// `HADOOP_CONF_DIR`; it typically starts with
/// `import os; from hdfs_native import Client; c = Client(os.environ["HAFS_FS_URI"])`.
#[track_caller]
pub fn python(target: &impl ConfTarget, script: &str) -> CmdOutput {
    let mut cmd = Command::new(python_bin());
    cmd.arg("-c")
        .arg(script)
        .env("HAFS_FS_URI", target.fs_uri())
        .env("HADOOP_CONF_DIR", target.conf_dir())
        .env("PYTHONUNBUFFERED", "1")
        .env_remove("HADOOP_USER_NAME")
        .envs(target.client_env());
    run_with_timeout(cmd, DEFAULT_CMD_TIMEOUT)
}

/// `hafs --config <conf dir> dfs <args…>`.
#[track_caller]
pub fn hafs_dfs(target: &impl ConfTarget, args: &[&str]) -> CmdOutput {
    let mut full = vec!["dfs"];
    full.extend_from_slice(args);
    hafs_cmd(target, &full)
}
