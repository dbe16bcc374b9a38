//! `hafs dfs`: Hadoop's FsShell (`hdfs dfs`) commands, with its syntax, output and
//! exit codes: 0 on success, 1 when a path failed, -1 on a usage error.
//!
//! The formatting lives in [`format`], mode parsing in [`chmod`], globbing in
//! [`glob`]; [`shell`] runs the commands against a [`hafs_client::DfsClient`].

mod acl;
mod chmod;
mod data_format;
mod format;
mod glob;
mod shell;
mod usage;

use hafs_client::DfsClient;
use hafs_conf::Configuration;

/// Runs one `dfs` command; `args` are the words after `dfs` (generic options such as
/// `-D` and `-fs` already applied to `conf`). Returns the process exit code.
pub async fn run(conf: &Configuration, args: &[String]) -> i32 {
    let Some(cmd) = args.first() else {
        usage::print_all_usage();
        return -1;
    };
    let rest = &args[1..];
    match cmd.as_str() {
        "-help" => {
            usage::print_help(rest);
            return 0;
        }
        "-usage" => {
            usage::print_usage(rest);
            return 0;
        }
        _ => {}
    }
    let Some(name) = usage::known_command(cmd) else {
        eprintln!("{cmd}: Unknown command");
        usage::print_all_usage();
        return -1;
    };
    // Like FsShell, a full hdfs:// URI in the arguments names its own file system, even
    // when fs.defaultFS is another one (e.g. file:///).
    let uri_fs = rest
        .iter()
        .find_map(|a| a.strip_prefix("hdfs://"))
        .map(|r| r.split('/').next().unwrap_or(""))
        .filter(|authority| !authority.is_empty())
        .map(|authority| format!("hdfs://{authority}"));
    let client = match DfsClient::new(conf, uri_fs.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{name}: {e}");
            return 1;
        }
    };
    shell::Shell::new(client, name).run(rest).await
}
