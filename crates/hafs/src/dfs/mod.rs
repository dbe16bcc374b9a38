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
mod viewfs;

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
    let view = conf
        .default_fs()
        .ok()
        .filter(|fs| fs.scheme == viewfs::VIEWFS_SCHEME);
    if let (None, Some(view)) = (&uri_fs, view) {
        return run_in_view(conf, name, rest, &view.authority).await;
    }
    let client = match DfsClient::new(conf, uri_fs.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{name}: {e}");
            return 1;
        }
    };
    shell::Shell::new(client, name).run(rest).await
}

/// Positions of `args` that are local paths, not paths of the file system.
fn local_positions(cmd: &str, args: &[String]) -> Vec<usize> {
    let operands: Vec<usize> = (0..args.len())
        .filter(|&i| !args[i].starts_with('-') || args[i] == "-")
        .collect();
    match cmd {
        "put" | "copyFromLocal" | "appendToFile" => {
            operands[..operands.len().saturating_sub(1)].to_vec()
        }
        "get" | "copyToLocal" => operands.last().copied().into_iter().collect(),
        _ => Vec::new(),
    }
}

/// Runs a command under `fs.defaultFS=viewfs://<table>`: every absolute path argument
/// is resolved through the mount table and the command runs against the nameservice
/// it lands in (once per argument when they land in several). Relative paths are
/// resolved by the target file system's client; `mv` across mount points is refused
/// with Hadoop's message; `ls` of an internal directory (such as `/`) lists its mount
/// points and, at `/`, the fallback's entries.
async fn run_in_view(
    conf: &Configuration,
    name: &'static str,
    args: &[String],
    table: &str,
) -> i32 {
    let table = match viewfs::MountTable::from_conf(conf, table) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{name}: {e}");
            return 1;
        }
    };
    let local = local_positions(name, args);
    let mut paths: Vec<(usize, viewfs::Resolved)> = Vec::new();
    for (i, arg) in args.iter().enumerate() {
        if local.contains(&i) {
            continue;
        }
        let path = match arg.strip_prefix(&format!("{}://", viewfs::VIEWFS_SCHEME)) {
            Some(rest) => format!("/{}", rest.split_once('/').map_or("", |(_, p)| p)),
            None if arg.starts_with('/') => arg.clone(),
            None => continue,
        };
        if name == "ls" && table.is_internal_dir(&path) {
            return list_internal_dir(conf, &table, &path).await;
        }
        match table.resolve(&path) {
            Some(r) => paths.push((i, r)),
            None => {
                eprintln!("{name}: `{arg}': No such file or directory");
                return 1;
            }
        }
    }
    if paths.is_empty() {
        // Only relative paths (or none): they live under the view's home directory.
        let home = table.home_dir(hafs_conf::current_user_name());
        let Some(r) = table.resolve(&home) else {
            eprintln!("{name}: `{home}': No such file or directory");
            return 1;
        };
        return run_on(conf, name, args.to_vec(), r).await;
    }
    let same_mount = paths.windows(2).all(|w| w[0].1.mount == w[1].1.mount);
    if name == "mv" && !same_mount {
        eprintln!("{name}: {}", viewfs::CROSS_MOUNT_RENAME);
        return 1;
    }
    if same_mount {
        let mut rewritten = args.to_vec();
        for (i, r) in &paths {
            rewritten[*i] = r.path.clone();
        }
        return run_on(conf, name, rewritten, paths[0].1.clone()).await;
    }
    if matches!(name, "cp" | "concat") {
        eprintln!(
            "{name}: the paths are under different mount points ({}); hafs dfs copies \
             within one mount point only",
            paths
                .iter()
                .map(|(_, r)| r.mount.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return 1;
    }
    // Each path on its own, with the other (option) arguments.
    let path_positions: Vec<usize> = paths.iter().map(|(i, _)| *i).collect();
    let mut code = 0;
    for (i, r) in &paths {
        let one: Vec<String> = args
            .iter()
            .enumerate()
            .filter(|(j, _)| j == i || !path_positions.contains(j))
            .map(|(j, a)| if j == *i { r.path.clone() } else { a.clone() })
            .collect();
        code = code.max(run_on(conf, name, one, r.clone()).await);
    }
    code
}

async fn run_on(
    conf: &Configuration,
    name: &'static str,
    args: Vec<String>,
    at: viewfs::Resolved,
) -> i32 {
    let client = match DfsClient::new(conf, Some(at.fs.as_str())) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{name}: {e}");
            return 1;
        }
    };
    shell::Shell::new(client, name)
        .with_view(at.mount.clone(), at.target_root.clone())
        .run(&args)
        .await
}

/// `ls` of a directory that exists only in the view (`/`, or a parent of mount
/// points): its mount points, as read-only directories, and the fallback's entries at
/// the same path that no mount point hides.
async fn list_internal_dir(conf: &Configuration, table: &viewfs::MountTable, dir: &str) -> i32 {
    use format::{LsEntry, LsWidths};
    let user = hafs_conf::current_user_name();
    let base = if dir.ends_with('/') {
        dir.to_string()
    } else {
        format!("{dir}/")
    };
    let mounts = table.children_of(dir);
    let mut entries: Vec<LsEntry> = mounts
        .iter()
        .map(|m| LsEntry {
            is_dir: true,
            is_file: false,
            perm: 0o555,
            has_acl: false,
            replication: 0,
            owner: user.to_string(),
            group: user.to_string(),
            length: 0,
            mtime_ms: 0,
            display: format!("{base}{m}"),
        })
        .collect();
    if let Some(fb) = table.resolve(dir).filter(|r| r.mount == "/") {
        let client = match DfsClient::new(conf, Some(fb.fs.as_str())) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("ls: {e}");
                return 1;
            }
        };
        match client.list_status(&fb.path).await {
            Ok(children) => {
                for st in children {
                    let name = String::from_utf8_lossy(&st.path).into_owned();
                    if !mounts.contains(&name) {
                        entries.push(shell::ls_entry(&st, &format!("{base}{name}")));
                    }
                }
            }
            Err(e) if e.is_file_not_found() => {}
            Err(e) => {
                eprintln!("ls: {}", e.user_message());
                return 1;
            }
        }
    }
    entries.sort_by(|a, b| a.display.cmp(&b.display));
    if !entries.is_empty() {
        println!("Found {} items", entries.len());
    }
    let mut widths = LsWidths::default();
    widths.adjust(&entries);
    for e in &entries {
        println!(
            "{}",
            widths.line(e, false, &format::local_minutes(e.mtime_ms))
        );
    }
    0
}
