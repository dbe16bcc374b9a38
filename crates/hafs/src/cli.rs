//! Top-level argument handling shared by every command: `--config`, `--loglevel`,
//! Hadoop's generic options, and logging setup.

use std::path::PathBuf;

use anyhow::{bail, Context};
use hafs_conf::Configuration;

pub const USAGE: &str = "\
Usage: hafs [--config CONFDIR] [--loglevel LEVEL] COMMAND [GENERIC_OPTIONS] [ARGS]

  CONFDIR defaults to $HADOOP_CONF_DIR; it holds core-site.xml and hdfs-site.xml.
  LEVEL (or $HAFS_LOG): error, warn, info, debug, trace, or per-target like
  'info,hafs_ipc=debug'. Logs go to stderr.

Commands:
  dfs          run a filesystem command (hafs dfs -help lists them); same as 'hdfs dfs'
  namenode     run the NameNode; -format [-clusterid ID] [-force] [-nonInteractive],
               -initializeSharedEdits, -bootstrapStandby
  datanode     run a DataNode
  journalnode  run a JournalNode; -status shows every JournalNode's state
  dfsadmin     administration: -report, -safemode, -saveNamespace, -rollEdits,
               -refreshSuperUserGroupsConfiguration, -refreshUserToGroupsMappings,
               -setQuota, -clrQuota, -setSpaceQuota, -clrSpaceQuota, -allowSnapshot,
               -disallowSnapshot
  haadmin      HA administration: -getServiceState, -transitionToActive, -failover, ...
  zkfc         run the automatic failover controller; -formatZK [-force] [-nonInteractive]
  fsck         check the health of files and blocks: fsck <path> [-files [-blocks [-locations]]]
  fetchdt      fetch a delegation token into a file: [--renewer NAME] [--print|--renew|--cancel] FILE
  storagepolicies  block storage policies: -listPolicies, -setStoragePolicy -path P -policy N,
               -getStoragePolicy -path P, -unsetStoragePolicy -path P
  debug        advanced: recoverLease -path <path> [-retries <n>]
  sandbox      run a complete local HA cluster in the foreground [--dir DIR] [--zookeeper | --manual-failover]
  bench        benchmarks: nnthroughput, restart, dfsio, failover (hafs bench -help)
  version      print the version

Generic options (after the command):
  -D key=value      set a configuration value
  -fs URI           the default filesystem (same as -D fs.defaultFS=URI)
  -conf FILE        add a configuration file
";

#[derive(Debug, Default, Clone)]
pub struct Invocation {
    pub conf_dir: Option<PathBuf>,
    pub loglevel: Option<String>,
    pub help: bool,
    pub command: Option<String>,
    /// Words after the command, generic options still in them.
    pub args: Vec<String>,
}

impl Invocation {
    pub fn parse(args: &[String]) -> anyhow::Result<Invocation> {
        let mut inv = Invocation::default();
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            match a.as_str() {
                "--config" | "--conf-dir" => {
                    let v = args.get(i + 1).context("--config needs a directory")?;
                    inv.conf_dir = Some(PathBuf::from(v));
                    i += 2;
                }
                "--loglevel" => {
                    let v = args.get(i + 1).context("--loglevel needs a level")?;
                    inv.loglevel = Some(v.clone());
                    i += 2;
                }
                "-h" | "--help" | "-help" | "help" => {
                    inv.help = true;
                    return Ok(inv);
                }
                s if s.starts_with("--") => bail!("unknown option '{s}'"),
                _ => {
                    inv.command = Some(a.clone());
                    inv.args = args[i + 1..].to_vec();
                    return Ok(inv);
                }
            }
        }
        Ok(inv)
    }

    /// Loads the configuration and applies the generic options; returns it with the
    /// command's own arguments.
    pub fn load_conf(&self) -> anyhow::Result<(Configuration, Vec<String>)> {
        let mut conf = Configuration::load(self.conf_dir.as_deref())?;
        let rest = apply_generic_options(&mut conf, &self.args)?;
        Ok((conf, rest))
    }
}

/// Hadoop's GenericOptionsParser: `-D k=v` / `-Dk=v`, `-fs URI`, `-conf FILE`, taken from
/// anywhere before `--`; everything else is returned in order.
pub fn apply_generic_options(
    conf: &mut Configuration,
    args: &[String],
) -> anyhow::Result<Vec<String>> {
    let mut rest = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        match a {
            "--" => {
                rest.extend(args[i + 1..].iter().cloned());
                break;
            }
            "-D" => {
                let v = args.get(i + 1).context("-D needs key=value")?;
                conf.set_definition(v)?;
                i += 2;
            }
            "-fs" => {
                let v = args.get(i + 1).context("-fs needs a URI")?;
                conf.set("fs.defaultFS", v.as_str());
                i += 2;
            }
            "-conf" => {
                let v = args.get(i + 1).context("-conf needs a file")?;
                conf.add_resource(std::path::Path::new(v))?;
                i += 2;
            }
            _ if a.starts_with("-D") && a.len() > 2 => {
                conf.set_definition(&a[2..])?;
                i += 1;
            }
            _ => {
                rest.push(args[i].clone());
                i += 1;
            }
        }
    }
    Ok(rest)
}

/// Logs to stderr through `tracing`; level from the flag, else `HAFS_LOG`, else `info`.
pub fn init_logging(flag: Option<&str>) {
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::prelude::*;
    let spec = flag
        .map(str::to_string)
        .or_else(|| std::env::var("HAFS_LOG").ok())
        .unwrap_or_else(|| "info".to_string());
    let targets: Targets = spec.parse().unwrap_or_else(|e| {
        eprintln!("hafs: ignoring bad log level '{spec}': {e}");
        Targets::new().with_default(tracing::Level::INFO)
    });
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(true);
    let _ = tracing_subscriber::registry()
        .with(fmt)
        .with(targets)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn parses_top_level_and_generic_options() {
        let inv = Invocation::parse(&s(&["--config", "/c", "dfs", "-Dx.y=1", "-ls", "/"])).unwrap();
        assert_eq!(inv.conf_dir.as_deref(), Some(std::path::Path::new("/c")));
        assert_eq!(inv.command.as_deref(), Some("dfs"));
        let mut conf = Configuration::new();
        let rest = apply_generic_options(
            &mut conf,
            &s(&["-D", "a.b=2", "-Dx.y=1", "-fs", "hdfs://h:1", "-ls", "/"]),
        )
        .unwrap();
        assert_eq!(rest, s(&["-ls", "/"]));
        assert_eq!(conf.get("a.b").as_deref(), Some("2"));
        assert_eq!(conf.get("x.y").as_deref(), Some("1"));
        assert_eq!(conf.get("fs.defaultFS").as_deref(), Some("hdfs://h:1"));
        assert!(apply_generic_options(&mut conf, &s(&["-D", "novalue"])).is_err());
        assert!(Invocation::parse(&s(&["--bogus"])).is_err());
    }
}
