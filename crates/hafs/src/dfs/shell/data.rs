//! The FsShell commands that move file data: -put/-copyFromLocal, -get/-copyToLocal,
//! -cat, -head, -tail, -cp, -appendToFile, -setrep, -checksum, -df, -truncate.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use hafs_client::file_checksum::get_file_checksum;
use hafs_client::proto::HdfsFileStatusProto;
use hafs_client::{paths, ClientError, CreateOptions, DfsInputStream, DfsOutputStream};

use super::{is_dir, is_file, name_of, not_found, parse_opts, perm_of, Item, Shell};
use crate::dfs::data_format::{self, Progress};

/// Bytes moved per read/write call.
const IO_CHUNK: usize = 64 * 1024;
/// FsShell's temporary suffix while a copy is in progress.
const COPYING: &str = "._COPYING_";
/// How long `-setrep -w` and `-truncate -w` wait at most.
const MAX_WAIT: Duration = Duration::from_secs(600);

fn io_err(e: std::io::Error) -> ClientError {
    ClientError::io(e.to_string())
}

impl Shell {
    // ------------------------------------------------------------ local → hdfs

    pub(super) async fn put(&mut self, args: &[String]) -> Result<(), String> {
        let (opts, paths_) = parse_opts(args, &["f", "p", "l", "d", "t", "q"])?;
        let has = |o: &str| opts.iter().any(|x| x == o);
        let (overwrite, preserve, direct) = (has("f"), has("p"), has("d"));
        if paths_.is_empty() {
            return Err("Not enough arguments: expected 1 but got 0".into());
        }
        let (srcs, dst_arg) = if paths_.len() == 1 {
            (paths_.clone(), ".".to_string())
        } else {
            let (s, d) = paths_.split_at(paths_.len() - 1);
            (s.to_vec(), d[0].clone())
        };
        let Some(dst) = self.single_target(&dst_arg).await else {
            return Ok(());
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
        for src in &srcs {
            if src == "-" {
                let target = if dst_is_dir {
                    self.error(&format!("`{}': Is a directory", dst.display));
                    continue;
                } else {
                    (dst.abs.clone(), dst.display.clone())
                };
                let mut stdin = std::io::stdin().lock();
                let r = self
                    .write_target(&target.0, &target.1, &mut stdin, None, overwrite, direct)
                    .await;
                if let Err(msg) = r {
                    self.error(&msg);
                }
                continue;
            }
            let local = PathBuf::from(src);
            let meta = match std::fs::metadata(&local) {
                Ok(m) => m,
                Err(_) => {
                    self.error(&not_found(src));
                    continue;
                }
            };
            let name = local
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let (abs, display) = if dst_is_dir {
                (
                    paths::join(&dst.abs, &name),
                    super::child_display(&dst.display, &name),
                )
            } else {
                (dst.abs.clone(), dst.display.clone())
            };
            if meta.is_dir() {
                self.put_dir(&local, &abs, &display, overwrite, preserve, direct)
                    .await;
            } else {
                self.put_file(&local, &abs, &display, overwrite, preserve, direct)
                    .await;
            }
        }
        Ok(())
    }

    fn put_dir<'a>(
        &'a mut self,
        local: &'a Path,
        abs: &'a str,
        display: &'a str,
        overwrite: bool,
        preserve: bool,
        direct: bool,
    ) -> super::BoxFuture<'a, ()> {
        Box::pin(async move {
            match self.client.get_file_info(abs).await {
                Ok(Some(st)) if !is_dir(&st) => {
                    self.error(&format!("`{display}': File exists"));
                    return;
                }
                Ok(Some(_)) => {}
                Ok(None) => {
                    if let Err(e) = self.client.mkdirs(abs, 0o777, false).await {
                        self.remote_error(&e);
                        return;
                    }
                }
                Err(e) => {
                    self.remote_error(&e);
                    return;
                }
            }
            let mut entries: Vec<_> = match std::fs::read_dir(local) {
                Ok(rd) => rd.filter_map(Result::ok).collect(),
                Err(e) => {
                    self.error(&format!("`{}': {e}", local.display()));
                    return;
                }
            };
            entries.sort_by_key(|e| e.file_name());
            for e in entries {
                let name = e.file_name().to_string_lossy().into_owned();
                let (cabs, cdisp) = (
                    paths::join(abs, &name),
                    super::child_display(display, &name),
                );
                let p = e.path();
                if p.is_dir() {
                    self.put_dir(&p, &cabs, &cdisp, overwrite, preserve, direct)
                        .await;
                } else {
                    self.put_file(&p, &cabs, &cdisp, overwrite, preserve, direct)
                        .await;
                }
            }
        })
    }

    async fn put_file(
        &mut self,
        local: &Path,
        abs: &str,
        display: &str,
        overwrite: bool,
        preserve: bool,
        direct: bool,
    ) {
        let mut f = match std::fs::File::open(local) {
            Ok(f) => f,
            Err(e) => {
                self.error(&format!("`{}': {e}", local.display()));
                return;
            }
        };
        let meta = f.metadata().ok();
        let size = meta.as_ref().map(|m| m.len());
        if let Err(msg) = self
            .write_target(abs, display, &mut f, size, overwrite, direct)
            .await
        {
            self.error(&msg);
            return;
        }
        if preserve {
            if let Some(m) = meta {
                use std::os::unix::fs::MetadataExt;
                let r = async {
                    self.client
                        .set_times(abs, m.mtime() * 1000, m.atime() * 1000)
                        .await?;
                    self.client
                        .set_permission(abs, (m.mode() & 0o7777) as u16)
                        .await
                }
                .await;
                if let Err(e) = r {
                    self.remote_error(&e);
                }
            }
        }
    }

    /// Copies `input` into the file `abs`: through `<abs>._COPYING_` renamed at the
    /// end (unless `direct`), refusing to replace an existing file without `overwrite`.
    async fn write_target(
        &self,
        abs: &str,
        display: &str,
        input: &mut dyn Read,
        size: Option<u64>,
        overwrite: bool,
        direct: bool,
    ) -> Result<(), String> {
        match self.client.get_file_info(abs).await {
            Ok(Some(st)) if is_dir(&st) => return Err(format!("`{display}': Is a directory")),
            Ok(Some(_)) if !overwrite => return Err(format!("`{display}': File exists")),
            Ok(Some(_)) => {}
            Ok(None) => self.check_parent(abs, display).await?,
            Err(e) => return Err(e.user_message()),
        }
        let tmp = if direct {
            abs.to_string()
        } else {
            format!("{abs}{COPYING}")
        };
        let opts = CreateOptions {
            overwrite: true,
            create_parent: false,
            ..Default::default()
        };
        let r = async {
            let mut out = DfsOutputStream::create(&self.client, &tmp, &opts).await?;
            let mut progress = Progress::new(display, size.unwrap_or(0));
            let mut buf = vec![0u8; IO_CHUNK];
            loop {
                let n = match input.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(io_err(e)),
                };
                out.write(&buf[..n]).await?;
                progress.advance(n as u64);
            }
            out.close().await?;
            progress.finish();
            if !direct {
                self.client.rename2(&tmp, abs, true).await?;
            }
            Ok::<(), ClientError>(())
        }
        .await;
        if let Err(e) = r {
            if !direct {
                let _ = self.client.delete(&tmp, false).await;
            }
            return Err(e.user_message());
        }
        Ok(())
    }

    /// A new target's parent must be a directory; Hadoop's words when it is missing
    /// name the target with and without the file system.
    async fn check_parent(&self, abs: &str, display: &str) -> Result<(), String> {
        let parent = paths::parent(abs).unwrap_or("/");
        match self.client.get_file_info(parent).await {
            Ok(Some(st)) if is_dir(&st) => Ok(()),
            // The NameNode's ParentNotDirectoryException text, as Hadoop shows it.
            Ok(Some(_)) => Err(format!("{parent} (is not a directory)")),
            Ok(None) => Err(format!(
                "`{display}': No such file or directory: `{}{abs}'",
                self.client.fs_uri()
            )),
            Err(e) => Err(e.user_message()),
        }
    }

    /// The one item `arg` names (a missing path is fine); errors are reported.
    async fn single_target(&mut self, arg: &str) -> Option<Item> {
        match self.expand(arg).await {
            Ok(mut v) if v.len() == 1 => Some(v.remove(0)),
            Ok(_) => {
                self.error(&format!("`{arg}': Too many matches"));
                None
            }
            Err(msg) => {
                self.error(&msg);
                None
            }
        }
    }

    // ------------------------------------------------------------ hdfs → local

    pub(super) async fn get(&mut self, args: &[String]) -> Result<(), String> {
        let (opts, paths_) = parse_opts(args, &["p", "ignoreCrc", "crc", "f", "t", "q"])?;
        let has = |o: &str| opts.iter().any(|x| x == o);
        let (preserve, verify, overwrite) = (has("p"), !has("ignoreCrc"), has("f"));
        if paths_.is_empty() {
            return Err("Not enough arguments: expected 1 but got 0".into());
        }
        let (srcs, dst) = if paths_.len() == 1 {
            (paths_.clone(), ".".to_string())
        } else {
            let (s, d) = paths_.split_at(paths_.len() - 1);
            (s.to_vec(), d[0].clone())
        };
        let dst = PathBuf::from(dst);
        let dst_is_dir = dst.is_dir();
        let items = self.existing(&srcs).await;
        if items.len() > 1 && !dst_is_dir {
            self.error(&format!("`{}': Is not a directory", dst.display()));
            return Ok(());
        }
        for (item, st) in items {
            let target = if dst_is_dir {
                dst.join(paths::file_name(&item.abs))
            } else {
                dst.clone()
            };
            self.get_one(item, st, target, preserve, verify, overwrite)
                .await;
        }
        Ok(())
    }

    fn get_one(
        &mut self,
        item: Item,
        st: HdfsFileStatusProto,
        target: PathBuf,
        preserve: bool,
        verify: bool,
        overwrite: bool,
    ) -> super::BoxFuture<'_, ()> {
        Box::pin(async move {
            if is_dir(&st) {
                if target.exists() && !target.is_dir() {
                    self.error(&format!("`{}': File exists", target.display()));
                    return;
                }
                if let Err(e) = std::fs::create_dir_all(&target) {
                    self.error(&format!("`{}': {e}", target.display()));
                    return;
                }
                let Some(children) = self.children(&item).await else {
                    return;
                };
                for (c, cst) in children {
                    let t = target.join(name_of(&cst));
                    self.get_one(c, cst, t, preserve, verify, overwrite).await;
                }
                return;
            }
            if target.exists() && !overwrite {
                self.error(&format!("`{}': File exists", target.display()));
                return;
            }
            let tmp = PathBuf::from(format!("{}{COPYING}", target.display()));
            let r = self.copy_to_local(&item, &st, &tmp, verify).await;
            let r = r.and_then(|()| std::fs::rename(&tmp, &target).map_err(io_err));
            if let Err(e) = r {
                let _ = std::fs::remove_file(&tmp);
                self.remote_error(&e);
                return;
            }
            if preserve {
                let mtime = st.modification_time as i64;
                let atime = st.access_time as i64;
                let _ = set_local_times(&target, atime, mtime);
                let _ = std::fs::set_permissions(
                    &target,
                    std::os::unix::fs::PermissionsExt::from_mode(u32::from(perm_of(&st))),
                );
            }
        })
    }

    async fn copy_to_local(
        &self,
        item: &Item,
        st: &HdfsFileStatusProto,
        tmp: &Path,
        verify: bool,
    ) -> Result<(), ClientError> {
        let mut input = DfsInputStream::open(&self.client, &item.abs).await?;
        input.set_verify_checksum(verify);
        let mut f = std::fs::File::create(tmp).map_err(io_err)?;
        let mut progress = Progress::new(&item.display, st.length);
        let mut buf = vec![0u8; IO_CHUNK];
        loop {
            let n = input.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            f.write_all(&buf[..n]).map_err(io_err)?;
            progress.advance(n as u64);
        }
        f.sync_all().map_err(io_err)?;
        progress.finish();
        Ok(())
    }

    // ------------------------------------------------------------ cat, head, tail

    /// Streams `[start, end)` of a file to stdout.
    async fn print_range(
        &mut self,
        abs: &str,
        start: u64,
        end: Option<u64>,
    ) -> Result<u64, ClientError> {
        let mut input = DfsInputStream::open(&self.client, abs).await?;
        let end = end.unwrap_or(input.len()).min(input.len());
        input.seek(start.min(end))?;
        let mut buf = vec![0u8; IO_CHUNK];
        let mut stdout = std::io::stdout().lock();
        let mut pos = start.min(end);
        while pos < end {
            let want = ((end - pos) as usize).min(buf.len());
            let n = input.read(&mut buf[..want]).await?;
            if n == 0 {
                break;
            }
            if stdout.write_all(&buf[..n]).is_err() {
                // A closed pipe (`| head`): stop quietly.
                return Ok(pos);
            }
            pos += n as u64;
        }
        let _ = stdout.flush();
        Ok(pos)
    }

    pub(super) async fn cat(&mut self, args: &[String]) -> Result<(), String> {
        let (_, paths_) = parse_opts(args, &["ignoreCrc"])?;
        if paths_.is_empty() {
            return Err("Not enough arguments: expected 1 but got 0".into());
        }
        for (item, st) in self.existing(&paths_).await {
            if is_dir(&st) {
                self.error(&format!("`{}': Is a directory", item.display));
                continue;
            }
            if let Err(e) = self.print_range(&item.abs, 0, None).await {
                self.remote_error(&e);
            }
        }
        Ok(())
    }

    pub(super) async fn head(&mut self, args: &[String]) -> Result<(), String> {
        let (_, paths_) = parse_opts(args, &[])?;
        if paths_.len() != 1 {
            return Err(format!(
                "Not enough arguments: expected 1 but got {}",
                paths_.len()
            ));
        }
        for (item, st) in self.existing(&paths_).await {
            if is_dir(&st) {
                self.error(&format!("`{}': Is a directory", item.display));
                continue;
            }
            if let Err(e) = self.print_range(&item.abs, 0, Some(1024)).await {
                self.remote_error(&e);
            }
        }
        Ok(())
    }

    pub(super) async fn tail(&mut self, args: &[String]) -> Result<(), String> {
        // `-s <ms>` takes a value, which parse_opts does not know: take it out first.
        let mut rest = Vec::with_capacity(args.len());
        let mut sleep_ms: Option<String> = None;
        let mut i = 0;
        while i < args.len() {
            if args[i] == "-s" && rest.iter().all(|a: &String| a.starts_with('-')) {
                let v = args.get(i + 1).ok_or("Missing value for option -s")?;
                sleep_ms = Some(v.clone());
                i += 2;
                continue;
            }
            rest.push(args[i].clone());
            i += 1;
        }
        let (opts, paths_) = parse_opts(&rest, &["f"])?;
        let follow = opts.iter().any(|o| o == "f");
        // Hadoop's -tail -f polls every 5 seconds unless -s gives milliseconds.
        let follow_delay = match sleep_ms {
            Some(v) => Duration::from_millis(
                v.parse::<u64>()
                    .map_err(|_| format!("Illegal sleep interval: {v}"))?,
            ),
            None => Duration::from_secs(5),
        };
        if paths_.len() != 1 {
            return Err(format!(
                "Not enough arguments: expected 1 but got {}",
                paths_.len()
            ));
        }
        for (item, st) in self.existing(&paths_).await {
            if is_dir(&st) {
                self.error(&format!("`{}': Is a directory", item.display));
                continue;
            }
            let mut offset = st.length.saturating_sub(1024);
            loop {
                match self.print_range(&item.abs, offset, None).await {
                    Ok(end) => offset = end,
                    Err(e) => {
                        self.remote_error(&e);
                        break;
                    }
                }
                if !follow {
                    break;
                }
                tokio::time::sleep(follow_delay).await;
            }
        }
        Ok(())
    }

    // ------------------------------------------------------------ cp, appendToFile

    pub(super) async fn cp(&mut self, args: &[String]) -> Result<(), String> {
        let (opts, paths_) = parse_opts(args, &["f", "p", "d", "t", "q"])?;
        let has = |o: &str| opts.iter().any(|x| x == o);
        let (overwrite, preserve, direct) = (has("f"), has("p"), has("d"));
        if paths_.len() < 2 {
            return Err(format!(
                "Not enough arguments: expected 2 but got {}",
                paths_.len()
            ));
        }
        let (srcs, dst_arg) = paths_.split_at(paths_.len() - 1);
        let Some(dst) = self.single_target(&dst_arg[0]).await else {
            return Ok(());
        };
        let dst_is_dir = dst.stat.as_ref().is_some_and(is_dir);
        let items = self.existing(srcs).await;
        if items.len() > 1 && !dst_is_dir {
            self.error(&format!("`{}': Is not a directory", dst.display));
            return Ok(());
        }
        for (item, st) in items {
            let name = paths::file_name(&item.abs).to_string();
            let (abs, display) = if dst_is_dir {
                (
                    paths::join(&dst.abs, &name),
                    super::child_display(&dst.display, &name),
                )
            } else {
                (dst.abs.clone(), dst.display.clone())
            };
            // Only a directory can be copied into itself; a file "under" a file is
            // the create's error (its parent is not a directory), as in Hadoop.
            if abs == item.abs || (is_dir(&st) && abs.starts_with(&format!("{}/", item.abs))) {
                self.error(&format!("`{}': is a subdirectory of itself", display));
                continue;
            }
            self.cp_one(item, st, abs, display, overwrite, preserve, direct)
                .await;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn cp_one(
        &mut self,
        item: Item,
        st: HdfsFileStatusProto,
        abs: String,
        display: String,
        overwrite: bool,
        preserve: bool,
        direct: bool,
    ) -> super::BoxFuture<'_, ()> {
        Box::pin(async move {
            if is_dir(&st) {
                match self.client.get_file_info(&abs).await {
                    Ok(Some(d)) if !is_dir(&d) => {
                        self.error(&format!("`{display}': File exists"));
                        return;
                    }
                    Ok(Some(_)) => {}
                    Ok(None) => {
                        if let Err(e) = self.client.mkdirs(&abs, 0o777, false).await {
                            self.remote_error(&e);
                            return;
                        }
                    }
                    Err(e) => {
                        self.remote_error(&e);
                        return;
                    }
                }
                let Some(children) = self.children(&item).await else {
                    return;
                };
                for (c, cst) in children {
                    let n = name_of(&cst);
                    let (ca, cd) = (paths::join(&abs, &n), super::child_display(&display, &n));
                    self.cp_one(c, cst, ca, cd, overwrite, preserve, direct)
                        .await;
                }
                return;
            }
            if let Err(msg) = self
                .copy_file(&item, &st, &abs, &display, overwrite, direct)
                .await
            {
                self.error(&msg);
                return;
            }
            if preserve {
                let r = async {
                    self.client
                        .set_times(&abs, st.modification_time as i64, st.access_time as i64)
                        .await?;
                    self.client.set_permission(&abs, perm_of(&st)).await?;
                    self.client
                        .set_owner(&abs, Some(&st.owner), Some(&st.group))
                        .await
                }
                .await;
                if let Err(e) = r {
                    self.remote_error(&e);
                }
            }
        })
    }

    async fn copy_file(
        &self,
        item: &Item,
        st: &HdfsFileStatusProto,
        abs: &str,
        display: &str,
        overwrite: bool,
        direct: bool,
    ) -> Result<(), String> {
        match self.client.get_file_info(abs).await {
            Ok(Some(d)) if is_dir(&d) => return Err(format!("`{display}': Is a directory")),
            Ok(Some(_)) if !overwrite => return Err(format!("`{display}': File exists")),
            Ok(Some(_)) => {}
            Ok(None) => self.check_parent(abs, display).await?,
            Err(e) => return Err(e.user_message()),
        }
        let tmp = if direct {
            abs.to_string()
        } else {
            format!("{abs}{COPYING}")
        };
        let r = async {
            let mut input = DfsInputStream::open(&self.client, &item.abs).await?;
            let opts = CreateOptions {
                overwrite: true,
                create_parent: false,
                replication: st.block_replication.map(|r| r as u16).filter(|r| *r > 0),
                block_size: st.blocksize.filter(|b| *b > 0),
                ..Default::default()
            };
            let mut out = DfsOutputStream::create(&self.client, &tmp, &opts).await?;
            let mut progress = Progress::new(display, st.length);
            let mut buf = vec![0u8; IO_CHUNK];
            loop {
                let n = input.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                out.write(&buf[..n]).await?;
                progress.advance(n as u64);
            }
            out.close().await?;
            progress.finish();
            if !direct {
                self.client.rename2(&tmp, abs, true).await?;
            }
            Ok::<(), ClientError>(())
        }
        .await;
        if let Err(e) = r {
            if !direct {
                let _ = self.client.delete(&tmp, false).await;
            }
            return Err(e.user_message());
        }
        Ok(())
    }

    pub(super) async fn append_to_file(&mut self, args: &[String]) -> Result<(), String> {
        let (_, paths_) = parse_opts(args, &["n"])?;
        if paths_.len() < 2 {
            return Err(format!(
                "Not enough arguments: expected 2 but got {}",
                paths_.len()
            ));
        }
        let (srcs, dst_arg) = paths_.split_at(paths_.len() - 1);
        let Some(dst) = self.single_target(&dst_arg[0]).await else {
            return Ok(());
        };
        if dst.stat.as_ref().is_some_and(is_dir) {
            self.error(&format!("`{}': Is a directory", dst.display));
            return Ok(());
        }
        for s in srcs {
            if s != "-" && !Path::new(s).exists() {
                // Hadoop prints the FileNotFoundException's message: the bare path.
                self.error(s);
                return Ok(());
            }
        }
        let r = async {
            let mut out = if dst.stat.is_some() {
                DfsOutputStream::append(&self.client, &dst.abs).await?
            } else {
                let opts = CreateOptions {
                    create_parent: false,
                    ..Default::default()
                };
                DfsOutputStream::create(&self.client, &dst.abs, &opts).await?
            };
            let mut buf = vec![0u8; IO_CHUNK];
            for s in srcs {
                let mut input: Box<dyn Read> = if s == "-" {
                    Box::new(std::io::stdin())
                } else {
                    Box::new(std::fs::File::open(s).map_err(io_err)?)
                };
                loop {
                    let n = match input.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(io_err(e)),
                    };
                    out.write(&buf[..n]).await?;
                }
            }
            out.close().await
        }
        .await;
        if let Err(e) = r {
            self.remote_error(&e);
        }
        Ok(())
    }

    // ------------------------------------------------------------ setrep, checksum, df, truncate

    pub(super) async fn setrep(&mut self, args: &[String]) -> Result<(), String> {
        let (opts, mut rest) = parse_opts(args, &["R", "w"])?;
        let wait = opts.iter().any(|o| o == "w");
        if rest.len() < 2 {
            return Err(format!(
                "Not enough arguments: expected 2 but got {}",
                rest.len()
            ));
        }
        let rep_arg = rest.remove(0);
        let rep: u16 = rep_arg
            .parse()
            .ok()
            .filter(|r| *r >= 1)
            .ok_or_else(|| format!("replication must be >= 1: {rep_arg}"))?;
        let mut files = Vec::new();
        for (item, st) in self.existing(&rest).await {
            self.collect_files(item, st, &mut files).await;
        }
        let mut waiting = Vec::new();
        for item in files {
            match self.client.set_replication(&item.abs, rep).await {
                Ok(true) => {
                    super::out(&format!("Replication {rep} set: {}", item.display));
                    waiting.push(item);
                }
                Ok(false) => self.error(&format!("`{}': Could not set replication", item.display)),
                Err(e) => self.remote_error(&e),
            }
        }
        if wait {
            for item in waiting {
                self.wait_for_replication(&item, rep).await;
            }
        }
        Ok(())
    }

    fn collect_files<'a>(
        &'a mut self,
        item: Item,
        st: HdfsFileStatusProto,
        out: &'a mut Vec<Item>,
    ) -> super::BoxFuture<'a, ()> {
        Box::pin(async move {
            if is_file(&st) {
                out.push(item);
            } else if is_dir(&st) {
                if let Some(children) = self.children(&item).await {
                    for (c, cst) in children {
                        self.collect_files(c, cst, out).await;
                    }
                }
            }
        })
    }

    /// Hadoop's `-setrep -w`: "Waiting for <path> ...", a dot per second, " done".
    async fn wait_for_replication(&mut self, item: &Item, rep: u16) {
        print!("Waiting for {} ...", item.display);
        let _ = std::io::stdout().flush();
        let deadline = tokio::time::Instant::now() + MAX_WAIT;
        loop {
            match self
                .client
                .get_block_locations(&item.abs, 0, i64::MAX as u64)
                .await
            {
                Ok(Some(l)) => {
                    if l.blocks.iter().all(|b| b.locs.len() >= rep as usize) {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    println!();
                    self.remote_error(&e);
                    return;
                }
            }
            if tokio::time::Instant::now() >= deadline {
                println!();
                self.error(&format!(
                    "`{}': timed out waiting for replication",
                    item.display
                ));
                return;
            }
            print!(".");
            let _ = std::io::stdout().flush();
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        println!(" done");
    }

    pub(super) async fn checksum(&mut self, args: &[String]) -> Result<(), String> {
        let (_, paths_) = parse_opts(args, &["v"])?;
        if paths_.is_empty() {
            return Err("Not enough arguments: expected 1 but got 0".into());
        }
        for (item, st) in self.existing(&paths_).await {
            if is_dir(&st) {
                self.error(&format!("`{}': Is a directory", item.display));
                continue;
            }
            match get_file_checksum(&self.client, &item.abs).await {
                Ok(c) => super::out(&data_format::checksum_line(
                    &item.display,
                    c.map(|c| (c.algorithm_name(), c.hex())),
                )),
                Err(e) => self.remote_error(&e),
            }
        }
        Ok(())
    }

    pub(super) async fn df(&mut self, args: &[String]) -> Result<(), String> {
        let (opts, _) = parse_opts(args, &["h"])?;
        let human = opts.iter().any(|o| o == "h");
        match self.client.get_fs_stats().await {
            Ok(s) => {
                for l in data_format::df_lines(
                    &self.client.fs_uri(),
                    s.capacity,
                    s.used,
                    s.remaining,
                    human,
                ) {
                    super::out(&l);
                }
            }
            Err(e) => self.remote_error(&e),
        }
        Ok(())
    }

    /// -concat <target> <src> <src> ...: Hadoop's shell wants two sources at least
    /// and reports the NameNode's refusal (same directory, not empty, ...) as is.
    pub(super) async fn concat(&mut self, args: &[String]) -> Result<(), String> {
        const USAGE: &str = "<target path> <src path> <src path> ...";
        if args.is_empty() {
            self.error(&format!("Target path not specified. {USAGE}"));
            return Ok(());
        }
        if args.len() < 3 {
            self.error(&format!(
                "The number of source paths is less than 2. {USAGE}"
            ));
            return Ok(());
        }
        let srcs: Vec<&str> = args[1..].iter().map(String::as_str).collect();
        if let Err(e) = self.client.concat(&args[0], &srcs).await {
            self.remote_error(&e);
        }
        Ok(())
    }

    pub(super) async fn truncate(&mut self, args: &[String]) -> Result<(), String> {
        let (opts, mut rest) = parse_opts(args, &["w"])?;
        let wait = opts.iter().any(|o| o == "w");
        if rest.len() < 2 {
            return Err(format!(
                "Not enough arguments: expected 2 but got {}",
                rest.len()
            ));
        }
        let len_arg = rest.remove(0);
        let new_len: u64 = len_arg
            .parse()
            .map_err(|_| format!("Illegal length: {len_arg}"))?;
        for (item, st) in self.existing(&rest).await {
            if is_dir(&st) {
                self.error(&format!("`{}': Is a directory", item.display));
                continue;
            }
            match self.client.truncate(&item.abs, new_len).await {
                Ok(true) => super::out(&format!("Truncated {} to length: {new_len}", item.display)),
                Ok(false) if wait => {
                    super::out(&format!(
                        "Waiting for {} ...",
                        item.display
                    ));
                    let deadline = tokio::time::Instant::now() + MAX_WAIT;
                    loop {
                        match self.client.get_block_locations(&item.abs, 0, 1).await {
                            Ok(Some(l)) if !l.under_construction => break,
                            Ok(_) if tokio::time::Instant::now() < deadline => {
                                tokio::time::sleep(Duration::from_secs(1)).await
                            }
                            Ok(_) => break,
                            Err(e) => {
                                self.remote_error(&e);
                                break;
                            }
                        }
                    }
                    super::out(&format!("Truncated {} to length: {new_len}", item.display));
                }
                Ok(false) => super::out(&format!(
                    "Truncating {} to length: {new_len}. Wait for block recovery to complete before further updating this file.",
                    item.display
                )),
                Err(e) => self.remote_error(&e),
            }
        }
        Ok(())
    }
}

/// Sets a local file's access and modification times (milliseconds since the epoch).
fn set_local_times(path: &Path, atime_ms: i64, mtime_ms: i64) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::other("path contains NUL"))?;
    let ts = |ms: i64| libc::timespec {
        tv_sec: (ms / 1000) as libc::time_t,
        tv_nsec: ((ms % 1000) * 1_000_000) as libc::c_long,
    };
    let times = [ts(atime_ms), ts(mtime_ms)];
    // SAFETY: `c` is a valid NUL-terminated path and `times` has two entries.
    let r = unsafe { libc::utimensat(libc::AT_FDCWD, c.as_ptr(), times.as_ptr(), 0) };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}
