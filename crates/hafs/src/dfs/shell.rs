//! The FsShell commands, run against one file system.

use std::future::Future;
use std::io::Write;
use std::pin::Pin;

use hafs_client::proto::{hdfs_file_status_proto::FileType, HdfsFileStatusProto};
use hafs_client::{paths, ClientError, CreateOptions, DfsClient};

use super::acl;
use super::chmod::{self, Mode};
use super::format::{self, CountEntry, LsEntry, LsWidths, StatEntry};
use super::glob;
use super::usage;

mod data;

/// Most alternatives one `{a,b}` pattern may expand to.
const MAX_BRACE_ALTERNATIVES: usize = 1024;

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// A path argument: as shown to the user, as sent to the NameNode, and its status
/// (`None` when it does not exist).
#[derive(Debug, Clone)]
struct Item {
    display: String,
    abs: String,
    stat: Option<HdfsFileStatusProto>,
}

pub struct Shell {
    client: DfsClient,
    cmd: &'static str,
    errors: usize,
    /// Under a ViewFs mount table: (mount point, its target path), so absolute paths
    /// are shown as the user named them (`/ns1/a`, not the target's `/a`).
    view: Option<(String, String)>,
}

/// Writes a line to stdout, ignoring a closed pipe (`hafs dfs -ls | head`).
fn out(line: &str) {
    let mut o = std::io::stdout().lock();
    let _ = writeln!(o, "{line}");
}

fn is_dir(st: &HdfsFileStatusProto) -> bool {
    st.file_type == FileType::IsDir as i32
}

fn is_file(st: &HdfsFileStatusProto) -> bool {
    st.file_type == FileType::IsFile as i32
}

fn name_of(st: &HdfsFileStatusProto) -> String {
    String::from_utf8_lossy(&st.path).into_owned()
}

fn perm_of(st: &HdfsFileStatusProto) -> u16 {
    (st.permission.perm & 0o7777) as u16
}

/// The display form of a child of a path shown as `parent`.
fn child_display(parent: &str, name: &str) -> String {
    if parent == "." {
        name.to_string()
    } else {
        paths::join(parent, name)
    }
}

fn not_found(display: &str) -> String {
    format!("`{display}': No such file or directory")
}

/// Splits leading options from paths the way Hadoop's CommandFormat does: options
/// must match exactly (no combined flags); the first non-option ends them.
fn parse_opts(args: &[String], allowed: &[&str]) -> Result<(Vec<String>, Vec<String>), String> {
    let mut opts = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--" {
            i += 1;
            break;
        }
        if a.len() < 2 || !a.starts_with('-') {
            break;
        }
        let name = a.trim_start_matches('-');
        if !allowed.contains(&name) && !allowed.contains(&a.as_str()) {
            return Err(format!("Illegal option {a}"));
        }
        opts.push(name.to_string());
        i += 1;
    }
    Ok((opts, args[i..].to_vec()))
}

impl Shell {
    pub fn new(client: DfsClient, cmd: &'static str) -> Self {
        Shell {
            client,
            cmd,
            errors: 0,
            view: None,
        }
    }

    /// Shows target paths under `target` as paths under the view's `mount`.
    pub fn with_view(mut self, mount: String, target: String) -> Self {
        self.view = Some((mount, target));
        self
    }

    fn error(&mut self, msg: &str) {
        self.errors += 1;
        eprintln!("{}: {msg}", self.cmd);
    }

    fn remote_error(&mut self, e: &ClientError) {
        self.error(&e.user_message());
    }

    fn usage_error(&self, msg: &str) -> i32 {
        eprintln!("-{}: {msg}", self.cmd);
        usage::print_command_usage(self.cmd);
        -1
    }

    fn exit_code(&self) -> i32 {
        i32::from(self.errors > 0)
    }

    pub async fn run(mut self, args: &[String]) -> i32 {
        let r = match self.cmd {
            "ls" => self.ls(args).await,
            "mkdir" => self.mkdir(args).await,
            "rm" => self.rm(args).await,
            "rmdir" => self.rmdir(args).await,
            "mv" => self.mv(args).await,
            "stat" => self.stat(args).await,
            "test" => self.test(args).await,
            "touchz" => self.touchz(args).await,
            "chmod" => self.chmod(args).await,
            "chown" => self.chown(args, false).await,
            "chgrp" => self.chown(args, true).await,
            "du" => self.du(args).await,
            "count" => self.count(args).await,
            "put" | "copyFromLocal" => self.put(args).await,
            "get" | "copyToLocal" => self.get(args).await,
            "cat" => self.cat(args).await,
            "head" => self.head(args).await,
            "tail" => self.tail(args).await,
            "cp" => self.cp(args).await,
            "appendToFile" => self.append_to_file(args).await,
            "setrep" => self.setrep(args).await,
            "checksum" => self.checksum(args).await,
            "df" => self.df(args).await,
            "truncate" => self.truncate(args).await,
            "concat" => self.concat(args).await,
            "getfacl" => self.getfacl(args).await,
            "setfacl" => self.setfacl(args).await,
            other => Err(format!("Unknown command {other}")),
        };
        match r {
            Ok(()) => self.exit_code(),
            Err(msg) => self.usage_error(&msg),
        }
    }

    // ------------------------------------------------------------ path arguments

    /// How `abs` is shown for an argument written as `arg`: full URI, absolute, or
    /// relative to the home directory, as the user wrote it.
    fn display_for(&self, arg: &str, abs: &str) -> String {
        if let Ok((Some(auth), _)) = paths::split_uri(arg) {
            let scheme = &arg[..arg.find("://").unwrap_or(0)];
            return format!("{scheme}://{auth}{abs}");
        }
        if arg.starts_with('/') {
            if let Some((mount, target)) = &self.view {
                let rest = if target == "/" {
                    Some(abs)
                } else {
                    abs.strip_prefix(target.as_str())
                        .filter(|r| r.is_empty() || r.starts_with('/'))
                };
                if let Some(rest) = rest {
                    return match (mount.as_str(), rest) {
                        (m, "") => m.to_string(),
                        ("/", r) => r.to_string(),
                        (m, r) => format!("{m}{r}"),
                    };
                }
            }
            return abs.to_string();
        }
        let home = self.client.home_dir();
        if abs == home {
            return ".".to_string();
        }
        match abs.strip_prefix(&format!("{home}/")) {
            Some(rel) => rel.to_string(),
            None => abs.to_string(),
        }
    }

    /// Expands one argument (globs included) into items. A glob matching nothing,
    /// or a bad path, is an error message; a plain missing path is an item without
    /// status (commands decide what that means).
    async fn expand(&self, arg: &str) -> Result<Vec<Item>, String> {
        let abs = self.client.resolve(arg).map_err(|e| e.user_message())?;
        if !glob::has_glob(arg) {
            let stat = self
                .client
                .get_file_info(&abs)
                .await
                .map_err(|e| e.user_message())?;
            return Ok(vec![Item {
                display: self.display_for(arg, &abs),
                abs,
                stat,
            }]);
        }
        let mut current: Vec<(String, Option<HdfsFileStatusProto>)> = vec![("/".to_string(), None)];
        for comp in abs.split('/').filter(|c| !c.is_empty()) {
            let mut next = Vec::new();
            if glob::has_glob(comp) {
                let alts = glob::expand_braces(comp, MAX_BRACE_ALTERNATIVES)?;
                for (dir, _) in &current {
                    // Unreadable or missing directories simply match nothing.
                    let Ok(children) = self.client.list_status(dir).await else {
                        continue;
                    };
                    for c in children {
                        let name = name_of(&c);
                        if glob::matches_any(&alts, &name) {
                            next.push((paths::join(dir, &name), Some(c)));
                        }
                    }
                }
            } else {
                let lit = glob::unescape(comp);
                next = current
                    .iter()
                    .map(|(d, _)| (paths::join(d, &lit), None))
                    .collect();
            }
            current = next;
            if current.is_empty() {
                break;
            }
        }
        let mut items = Vec::new();
        for (p, stat) in current {
            let stat = match stat {
                Some(s) => Some(s),
                None => self
                    .client
                    .get_file_info(&p)
                    .await
                    .map_err(|e| e.user_message())?,
            };
            if stat.is_some() {
                items.push(Item {
                    display: self.display_for(arg, &p),
                    abs: p,
                    stat,
                });
            }
        }
        if items.is_empty() {
            return Err(not_found(arg));
        }
        Ok(items)
    }

    /// Expands every argument; failures are reported and skipped.
    async fn expand_all(&mut self, args: &[String]) -> Vec<Item> {
        let mut items = Vec::new();
        for a in args {
            match self.expand(a).await {
                Ok(mut v) => items.append(&mut v),
                Err(msg) => self.error(&msg),
            }
        }
        items
    }

    /// The existing items of the arguments; missing ones are reported.
    async fn existing(&mut self, args: &[String]) -> Vec<(Item, HdfsFileStatusProto)> {
        let mut v = Vec::new();
        for item in self.expand_all(args).await {
            match item.stat.clone() {
                Some(st) => v.push((item, st)),
                None => self.error(&not_found(&item.display)),
            }
        }
        v
    }

    async fn children(&mut self, item: &Item) -> Option<Vec<(Item, HdfsFileStatusProto)>> {
        match self.client.list_status(&item.abs).await {
            Ok(list) => Some(
                list.into_iter()
                    .map(|st| {
                        let name = name_of(&st);
                        let child = Item {
                            display: child_display(&item.display, &name),
                            abs: paths::join(&item.abs, &name),
                            stat: Some(st.clone()),
                        };
                        (child, st)
                    })
                    .collect(),
            ),
            Err(e) => {
                self.remote_error(&e);
                None
            }
        }
    }

    // ------------------------------------------------------------ ls

    async fn ls(&mut self, args: &[String]) -> Result<(), String> {
        let (opts, mut paths_) = parse_opts(args, &["d", "h", "R"])?;
        let has = |o: &str| opts.iter().any(|x| x == o);
        let (dir_as_file, human) = (has("d"), has("h"));
        let recursive = has("R") && !dir_as_file;
        if paths_.is_empty() {
            paths_.push(".".to_string());
        }
        let mut widths = LsWidths::default();
        for (item, st) in self.existing(&paths_).await {
            if is_dir(&st) && !dir_as_file {
                self.ls_dir(item, recursive, human, &mut widths).await;
            } else {
                let e = ls_entry(&st, &item.display);
                widths.adjust(std::slice::from_ref(&e));
                out(&widths.line(&e, human, &format::local_minutes(e.mtime_ms)));
            }
        }
        Ok(())
    }

    fn ls_dir<'a>(
        &'a mut self,
        dir: Item,
        recursive: bool,
        human: bool,
        widths: &'a mut LsWidths,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let Some(children) = self.children(&dir).await else {
                return;
            };
            if !recursive && !children.is_empty() {
                out(&format!("Found {} items", children.len()));
            }
            let entries: Vec<LsEntry> = children
                .iter()
                .map(|(c, st)| ls_entry(st, &c.display))
                .collect();
            widths.adjust(&entries);
            for ((child, st), e) in children.into_iter().zip(entries) {
                out(&widths.line(&e, human, &format::local_minutes(e.mtime_ms)));
                if recursive && is_dir(&st) {
                    self.ls_dir(child, recursive, human, widths).await;
                }
            }
        })
    }

    // ------------------------------------------------------------ mkdir, touchz

    async fn mkdir(&mut self, args: &[String]) -> Result<(), String> {
        let (opts, paths_) = parse_opts(args, &["p"])?;
        let parents = opts.iter().any(|o| o == "p");
        if paths_.is_empty() {
            return Err("Not enough arguments: expected 1 but got 0".into());
        }
        for item in self.expand_all(&paths_).await {
            match &item.stat {
                Some(st) if !is_dir(st) => {
                    self.error(&format!("`{}': Is not a directory", item.display))
                }
                Some(_) if !parents => self.error(&format!("`{}': File exists", item.display)),
                Some(_) => {}
                None => {
                    if !parents {
                        if let Some(parent) = paths::parent(&item.abs) {
                            match self.client.get_file_info(parent).await {
                                Ok(Some(_)) => {}
                                Ok(None) => {
                                    let shown =
                                        paths::parent(&item.display).unwrap_or(parent).to_string();
                                    self.error(&not_found(&shown));
                                    continue;
                                }
                                Err(e) => {
                                    self.remote_error(&e);
                                    continue;
                                }
                            }
                        }
                    }
                    match self.client.mkdirs(&item.abs, 0o777, parents).await {
                        Ok(true) => {}
                        Ok(false) => self.error(&format!("`{}': Input/output error", item.display)),
                        Err(e) => self.remote_error(&e),
                    }
                }
            }
        }
        Ok(())
    }

    async fn touchz(&mut self, args: &[String]) -> Result<(), String> {
        let (_, paths_) = parse_opts(args, &[])?;
        if paths_.is_empty() {
            return Err("Not enough arguments: expected 1 but got 0".into());
        }
        for item in self.expand_all(&paths_).await {
            if let Some(st) = &item.stat {
                if is_dir(st) {
                    self.error(&format!("`{}': Is a directory", item.display));
                    continue;
                }
                if st.length != 0 {
                    self.error(&format!("`{}': Not a zero-length file", item.display));
                    continue;
                }
            } else if let Some(parent) = paths::parent(&item.abs) {
                if let Ok(None) = self.client.get_file_info(parent).await {
                    self.error(&not_found(&item.display));
                    continue;
                }
            }
            if let Err(e) = self.create_empty(&item.abs).await {
                self.remote_error(&e);
            }
        }
        Ok(())
    }

    /// Creates (or truncates) an empty file and closes it.
    async fn create_empty(&self, abs: &str) -> Result<(), ClientError> {
        let opts = CreateOptions {
            overwrite: true,
            create_parent: false,
            ..Default::default()
        };
        let st = self.client.create(abs, &opts).await?;
        let file_id = st.file_id.unwrap_or(0);
        // An empty file has no last block, so complete succeeds at once; retry
        // briefly anyway, as Hadoop's client does for "not yet".
        for attempt in 0..10u64 {
            if self.client.complete(abs, file_id, None).await? {
                return Ok(());
            }
            tokio::time::sleep(std::time::Duration::from_millis(100 * (attempt + 1))).await;
        }
        self.client.forget_lease(abs);
        Err(ClientError::remote(
            "java.io.IOException",
            format!("Unable to close file {abs}: the NameNode did not complete it"),
        ))
    }

    // ------------------------------------------------------------ rm, rmdir, mv

    async fn rm(&mut self, args: &[String]) -> Result<(), String> {
        let (opts, paths_) = parse_opts(args, &["f", "r", "R", "skipTrash", "safely"])?;
        let has = |o: &str| opts.iter().any(|x| x == o);
        let (force, recursive, skip_trash) = (has("f"), has("r") || has("R"), has("skipTrash"));
        if paths_.is_empty() && !force {
            return Err("Not enough arguments: expected 1 but got 0".into());
        }
        let use_trash = !skip_trash && self.trash_enabled().await;
        for arg in &paths_ {
            let items = match self.expand(arg).await {
                Ok(v) => v,
                Err(msg) => {
                    if !force {
                        self.error(&msg);
                    }
                    continue;
                }
            };
            for item in items {
                let Some(st) = &item.stat else {
                    if !force {
                        self.error(&not_found(&item.display));
                    }
                    continue;
                };
                if is_dir(st) && !recursive {
                    self.error(&format!("`{}': Is a directory", item.display));
                    continue;
                }
                if use_trash {
                    match self.move_to_trash(&item.abs).await {
                        Ok(Some(target)) => {
                            let fs = self.client.fs_uri();
                            out(&format!(
                                "Moved: '{fs}{}' to trash at: {fs}{target}",
                                item.abs
                            ));
                            continue;
                        }
                        Ok(None) => {}
                        Err(e) => {
                            self.error(&format!(
                                "Failed to move to trash: {}{}: {}",
                                self.client.fs_uri(),
                                item.abs,
                                e.user_message()
                            ));
                            continue;
                        }
                    }
                }
                match self.client.delete(&item.abs, recursive).await {
                    Ok(true) => out(&format!("Deleted {}", item.display)),
                    Ok(false) => self.error(&format!("`{}': Input/output error", item.display)),
                    Err(e) if e.is_path_is_not_empty_directory() => {
                        self.error(&format!("`{}': Directory is not empty", item.display))
                    }
                    Err(e) => self.remote_error(&e),
                }
            }
        }
        Ok(())
    }

    async fn trash_enabled(&self) -> bool {
        if self.client.settings().trash_interval_minutes > 0.0 {
            return true;
        }
        matches!(self.client.get_server_defaults().await, Ok(d) if d.trash_interval.unwrap_or(0) > 0)
    }

    /// Moves `abs` under `/user/<user>/.Trash/Current`, keeping its full path, as
    /// Hadoop's TrashPolicyDefault does. `None` when the path is already in the trash
    /// (then it is deleted for real).
    async fn move_to_trash(&self, abs: &str) -> Result<Option<String>, ClientError> {
        let root = format!("{}/.Trash", self.client.home_dir());
        if abs == root || abs.starts_with(&format!("{root}/")) || abs == "/" {
            return Ok(None);
        }
        let mut target = format!("{root}/Current{abs}");
        if let Some(parent) = paths::parent(&target) {
            self.client.mkdirs(parent, 0o700, true).await?;
        }
        if self.client.get_file_info(&target).await?.is_some() {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or(0);
            target = format!("{target}{now}");
        }
        if self.client.rename(abs, &target).await? {
            Ok(Some(target))
        } else {
            Err(ClientError::remote(
                "java.io.IOException",
                format!("rename of {abs} to {target} failed"),
            ))
        }
    }

    async fn rmdir(&mut self, args: &[String]) -> Result<(), String> {
        let (opts, paths_) = parse_opts(args, &["ignore-fail-on-non-empty"])?;
        let ignore_non_empty = !opts.is_empty();
        if paths_.is_empty() {
            return Err("Not enough arguments: expected 1 but got 0".into());
        }
        for (item, st) in self.existing(&paths_).await {
            if !is_dir(&st) {
                self.error(&format!("`{}': Is not a directory", item.display));
                continue;
            }
            match self.client.get_listing(&item.abs, &[], false).await {
                Ok(Some(l)) if !l.partial_listing.is_empty() => {
                    if !ignore_non_empty {
                        self.error(&format!("`{}': Directory is not empty", item.display));
                    }
                    continue;
                }
                Ok(_) => {}
                Err(e) => {
                    self.remote_error(&e);
                    continue;
                }
            }
            match self.client.delete(&item.abs, false).await {
                Ok(true) => {}
                Ok(false) => self.error(&format!("`{}': Input/output error", item.display)),
                Err(e) => self.remote_error(&e),
            }
        }
        Ok(())
    }

    async fn mv(&mut self, args: &[String]) -> Result<(), String> {
        let (_, paths_) = parse_opts(args, &[])?;
        if paths_.len() < 2 {
            return Err(format!(
                "Not enough arguments: expected 2 but got {}",
                paths_.len()
            ));
        }
        let (srcs, dst_arg) = paths_.split_at(paths_.len() - 1);
        let dst_arg = &dst_arg[0];
        let dst = match self.expand(dst_arg).await {
            Ok(mut v) if v.len() == 1 => v.remove(0),
            Ok(_) => {
                self.error(&format!("`{dst_arg}': Too many matches"));
                return Ok(());
            }
            Err(msg) => {
                self.error(&msg);
                return Ok(());
            }
        };
        let dst_is_dir = dst.stat.as_ref().is_some_and(is_dir);
        if srcs.len() > 1 && !dst_is_dir {
            let msg = if dst.stat.is_none() {
                not_found(&dst.display)
            } else {
                format!("`{}': Is not a directory", dst.display)
            };
            self.error(&msg);
            return Ok(());
        }
        for (src, _) in self.existing(srcs).await {
            let name = paths::file_name(&src.abs);
            let (target_abs, target_display) = if dst_is_dir {
                (
                    paths::join(&dst.abs, name),
                    child_display(&dst.display, name),
                )
            } else {
                (dst.abs.clone(), dst.display.clone())
            };
            if target_abs == src.abs || target_abs.starts_with(&format!("{}/", src.abs)) {
                self.error(&format!(
                    "`{}': Invalid path name: cannot move to a subdirectory of itself: `{}'",
                    src.display, target_display
                ));
                continue;
            }
            match self.client.get_file_info(&target_abs).await {
                Ok(Some(_)) => {
                    self.error(&format!("`{target_display}': File exists"));
                    continue;
                }
                Ok(None) => {}
                Err(e) => {
                    self.remote_error(&e);
                    continue;
                }
            }
            match self.client.rename(&src.abs, &target_abs).await {
                Ok(true) => {}
                Ok(false) => self.error(&format!("`{}': Input/output error", src.display)),
                Err(e) => self.remote_error(&e),
            }
        }
        Ok(())
    }

    // ------------------------------------------------------------ stat, test

    async fn stat(&mut self, args: &[String]) -> Result<(), String> {
        let (_, mut paths_) = parse_opts(args, &[])?;
        let mut fmt = "%y".to_string();
        if paths_.first().is_some_and(|a| a.contains('%')) {
            fmt = paths_.remove(0);
        }
        if paths_.is_empty() {
            return Err("Not enough arguments: expected 1 but got 0".into());
        }
        for (item, st) in self.existing(&paths_).await {
            let kind = if is_dir(&st) {
                "directory"
            } else if is_file(&st) {
                "regular file"
            } else {
                "symlink"
            };
            let e = StatEntry {
                kind,
                perm: perm_of(&st),
                length: st.length,
                block_size: st.blocksize.unwrap_or(0),
                replication: st.block_replication.unwrap_or(0) as u16,
                owner: st.owner.clone(),
                group: st.group.clone(),
                name: paths::file_name(&item.abs).to_string(),
                mtime_ms: st.modification_time as i64,
                atime_ms: st.access_time as i64,
            };
            out(&format::stat_line(&fmt, &e));
        }
        Ok(())
    }

    async fn test(&mut self, args: &[String]) -> Result<(), String> {
        let flags = ["e", "d", "f", "s", "z"];
        let (opts, paths_) = parse_opts(args, &flags)?;
        if opts.len() != 1 {
            return Err(if opts.is_empty() {
                "No test flag given".into()
            } else {
                "Only one test flag is allowed".into()
            });
        }
        if paths_.len() != 1 {
            return Err(format!(
                "Not enough arguments: expected 1 but got {}",
                paths_.len()
            ));
        }
        let st = match self.expand(&paths_[0]).await {
            Ok(mut v) if v.len() == 1 => v.remove(0).stat,
            Ok(_) => return Err("Too many arguments: expected 1".into()),
            Err(_) => None,
        };
        let ok = match (opts[0].as_str(), &st) {
            (_, None) => false,
            ("e", Some(_)) => true,
            ("d", Some(s)) => is_dir(s),
            ("f", Some(s)) => is_file(s),
            ("s", Some(s)) => s.length > 0,
            ("z", Some(s)) => s.length == 0,
            _ => false,
        };
        if !ok {
            // Silent failure: the answer is the exit code.
            self.errors += 1;
        }
        Ok(())
    }

    // ------------------------------------------------------------ chmod, chown, chgrp

    async fn chmod(&mut self, args: &[String]) -> Result<(), String> {
        let (opts, mut rest) = parse_opts(args, &["R"])?;
        if rest.len() < 2 {
            return Err(format!(
                "Not enough arguments: expected 2 but got {}",
                rest.len()
            ));
        }
        let mode = Mode::parse(&rest.remove(0))?;
        let recursive = !opts.is_empty();
        for (item, st) in self.existing(&rest).await {
            self.chmod_one(item, st, &mode, recursive).await;
        }
        Ok(())
    }

    fn chmod_one<'a>(
        &'a mut self,
        item: Item,
        st: HdfsFileStatusProto,
        mode: &'a Mode,
        recursive: bool,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let old = perm_of(&st);
            let new = mode.apply(old, is_dir(&st));
            if new != old {
                if let Err(e) = self.client.set_permission(&item.abs, new).await {
                    self.remote_error(&e);
                }
            }
            if recursive && is_dir(&st) {
                if let Some(children) = self.children(&item).await {
                    for (c, cst) in children {
                        self.chmod_one(c, cst, mode, true).await;
                    }
                }
            }
        })
    }

    // ------------------------------------------------------------ ACLs

    /// `-getfacl [-R] <path>` (Hadoop's GetfaclCommand).
    async fn getfacl(&mut self, args: &[String]) -> Result<(), String> {
        let (opts, rest) = parse_opts(args, &["R"])?;
        if rest.is_empty() {
            return Err("<path> is missing".into());
        }
        if rest.len() > 1 {
            return Err("Too many arguments".into());
        }
        let recursive = !opts.is_empty();
        for (item, st) in self.existing(&rest).await {
            self.getfacl_one(item, st, recursive).await;
        }
        Ok(())
    }

    fn getfacl_one(
        &mut self,
        item: Item,
        st: HdfsFileStatusProto,
        recursive: bool,
    ) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            // Only an inode with an ACL bit has extended entries to fetch.
            let status = if st.flags.unwrap_or(0) & 1 != 0 {
                match self.client.get_acl_status(&item.abs).await {
                    Ok(s) => Some(s),
                    Err(e) => {
                        self.remote_error(&e);
                        return;
                    }
                }
            } else {
                None
            };
            for line in acl::getfacl_lines(
                &item.display,
                &st.owner,
                &st.group,
                perm_of(&st),
                status.as_ref(),
            ) {
                out(&line);
            }
            if recursive && is_dir(&st) {
                if let Some(children) = self.children(&item).await {
                    for (c, cst) in children {
                        self.getfacl_one(c, cst, true).await;
                    }
                }
            }
        })
    }

    /// `-setfacl [-R] [{-b|-k} {-m|-x <acl_spec>} <path>]|[--set <acl_spec> <path>]`
    /// (Hadoop's SetfaclCommand: its checks and messages, in its order).
    async fn setfacl(&mut self, args: &[String]) -> Result<(), String> {
        let (opts, mut rest) = parse_opts(args, &["b", "k", "R", "m", "x", "--set"])?;
        let has = |o: &str| opts.iter().any(|x| x == o);
        let (b, k, m, x, set) = (has("b"), has("k"), has("m"), has("x"), has("set"));
        let one_remove = b || k;
        let one_modify = m || x;
        if (b && k) || (m && x) || (one_remove && one_modify) || (set && (one_remove || one_modify))
        {
            return Err("Specified flags contains both remove and modify flags".into());
        }
        let mut spec = Vec::new();
        if one_modify || set {
            if rest.is_empty() {
                return Err("Missing arguments: <acl_spec> <path>".into());
            }
            if rest.len() < 2 {
                return Err("Missing either <acl_spec> or <path>".into());
            }
            spec = acl::parse_acl_spec(&rest.remove(0), !x)?;
            if spec.is_empty() {
                return Err("Missing <acl_spec> entry".into());
            }
        }
        if rest.is_empty() {
            return Err("<path> is missing".into());
        }
        if rest.len() > 1 {
            return Err("Too many arguments".into());
        }
        if !(one_remove || one_modify || set) {
            return Err("Expected one of -b, -k, -m, -x or --set options".into());
        }
        let method = if b {
            "removeAcl"
        } else if k {
            "removeDefaultAcl"
        } else if m {
            "modifyAclEntries"
        } else if x {
            "removeAclEntries"
        } else {
            "setAcl"
        };
        let recursive = has("R");
        for (item, st) in self.existing(&rest).await {
            self.setfacl_one(item, st, method, &spec, recursive).await;
        }
        Ok(())
    }

    fn setfacl_one<'a>(
        &'a mut self,
        item: Item,
        st: HdfsFileStatusProto,
        method: &'static str,
        spec: &'a [hafs_client::proto::AclEntryProto],
        recursive: bool,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            // A file takes only the access entries (Hadoop's getAclEntries).
            let entries: Vec<_> = spec
                .iter()
                .filter(|e| is_dir(&st) || e.scope == 0)
                .cloned()
                .collect();
            let with_spec = matches!(method, "setAcl" | "modifyAclEntries" | "removeAclEntries");
            if !with_spec || !entries.is_empty() {
                if let Err(e) = self.client.change_acl(method, &item.abs, entries).await {
                    self.remote_error(&e);
                }
            }
            if recursive && is_dir(&st) {
                if let Some(children) = self.children(&item).await {
                    for (c, cst) in children {
                        self.setfacl_one(c, cst, method, spec, true).await;
                    }
                }
            }
        })
    }

    async fn chown(&mut self, args: &[String], group_only: bool) -> Result<(), String> {
        let (opts, mut rest) = parse_opts(args, &["R"])?;
        if rest.len() < 2 {
            return Err(format!(
                "Not enough arguments: expected 2 but got {}",
                rest.len()
            ));
        }
        let spec = rest.remove(0);
        let (owner, group) = if group_only {
            (None, Some(chmod::parse_group(&spec)?))
        } else {
            chmod::parse_owner_group(&spec)?
        };
        let recursive = !opts.is_empty();
        for (item, st) in self.existing(&rest).await {
            self.chown_one(item, st, owner.as_deref(), group.as_deref(), recursive)
                .await;
        }
        Ok(())
    }

    fn chown_one<'a>(
        &'a mut self,
        item: Item,
        st: HdfsFileStatusProto,
        owner: Option<&'a str>,
        group: Option<&'a str>,
        recursive: bool,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let new_owner = owner.filter(|o| *o != st.owner);
            let new_group = group.filter(|g| *g != st.group);
            if new_owner.is_some() || new_group.is_some() {
                if let Err(e) = self.client.set_owner(&item.abs, new_owner, new_group).await {
                    self.remote_error(&e);
                }
            }
            if recursive && is_dir(&st) {
                if let Some(children) = self.children(&item).await {
                    for (c, cst) in children {
                        self.chown_one(c, cst, owner, group, true).await;
                    }
                }
            }
        })
    }

    // ------------------------------------------------------------ du, count

    async fn du(&mut self, args: &[String]) -> Result<(), String> {
        let (opts, mut paths_) = parse_opts(args, &["s", "h", "v", "x"])?;
        let has = |o: &str| opts.iter().any(|x| x == o);
        let (summary, human, header) = (has("s"), has("h"), has("v"));
        if paths_.is_empty() {
            paths_.push(".".to_string());
        }
        let mut rows: Vec<Vec<String>> = Vec::new();
        if header {
            rows.push(vec![
                "SIZE".into(),
                "DISK_SPACE_CONSUMED_WITH_ALL_REPLICAS".into(),
                "FULL_PATH_NAME".into(),
            ]);
        }
        let header_rows = rows.len();
        for (item, st) in self.existing(&paths_).await {
            let targets = if !summary && is_dir(&st) {
                match self.children(&item).await {
                    Some(c) => c.into_iter().map(|(i, _)| i).collect(),
                    None => continue,
                }
            } else {
                vec![item]
            };
            for t in targets {
                match self.client.get_content_summary(&t.abs).await {
                    Ok(cs) => rows.push(vec![
                        format::size(cs.length, human),
                        format::size(cs.space_consumed, human),
                        t.display.clone(),
                    ]),
                    Err(e) => self.remote_error(&e),
                }
            }
        }
        if rows.len() > header_rows {
            for line in format::table(&rows) {
                out(&line);
            }
        }
        Ok(())
    }

    async fn count(&mut self, args: &[String]) -> Result<(), String> {
        let (opts, mut paths_) = parse_opts(args, &["q", "h", "v"])?;
        let has = |o: &str| opts.iter().any(|x| x == o);
        let (quota, human) = (has("q"), has("h"));
        if paths_.is_empty() {
            paths_.push(".".to_string());
        }
        if has("v") {
            out(&format!("{}PATHNAME", format::count_header(quota)));
        }
        for (item, _) in self.existing(&paths_).await {
            match self.client.get_content_summary(&item.abs).await {
                Ok(cs) => {
                    let c = CountEntry {
                        directories: cs.directory_count,
                        files: cs.file_count,
                        length: cs.length,
                        quota: cs.quota as i64,
                        space_consumed: cs.space_consumed,
                        space_quota: cs.space_quota as i64,
                    };
                    out(&format!(
                        "{}{}",
                        format::count_line(&c, quota, human),
                        item.display
                    ));
                }
                Err(e) => self.remote_error(&e),
            }
        }
        Ok(())
    }
}

pub(super) fn ls_entry(st: &HdfsFileStatusProto, display: &str) -> LsEntry {
    LsEntry {
        is_dir: is_dir(st),
        is_file: is_file(st),
        perm: perm_of(st),
        has_acl: st.flags.unwrap_or(0) & 1 != 0,
        replication: st.block_replication.unwrap_or(0) as u16,
        owner: st.owner.clone(),
        group: st.group.clone(),
        length: st.length,
        mtime_ms: st.modification_time as i64,
        display: display.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn options_split_like_hadoop_command_format() {
        let (o, p) = parse_opts(&s(&["-R", "-h", "/a", "-d"]), &["R", "h", "d"]).unwrap();
        assert_eq!(o, ["R", "h"]);
        assert_eq!(p, ["/a", "-d"]);
        assert_eq!(
            parse_opts(&s(&["-rf", "/a"]), &["r", "f"]).unwrap_err(),
            "Illegal option -rf"
        );
        let (o, p) = parse_opts(
            &s(&["--ignore-fail-on-non-empty", "/d"]),
            &["ignore-fail-on-non-empty"],
        )
        .unwrap();
        assert_eq!(o.len(), 1);
        assert_eq!(p, ["/d"]);
        let (o, p) = parse_opts(&s(&["-", "x"]), &[]).unwrap();
        assert!(o.is_empty());
        assert_eq!(p, ["-", "x"]);
    }

    #[test]
    fn children_of_dot_show_bare_names() {
        assert_eq!(child_display(".", "a"), "a");
        assert_eq!(child_display("/", "a"), "/a");
        assert_eq!(child_display("hdfs://ns/", "a"), "hdfs://ns/a");
        assert_eq!(child_display("d", "a"), "d/a");
    }
}
