//! The client-side mount table of `fs.defaultFS=viewfs://<table>` (Hadoop's ViewFs),
//! as far as `hafs dfs` follows it: `fs.viewfs.mounttable.<table>.link.<path>` (a
//! mount point and its `hdfs://` target), `.linkFallback` (where paths under no mount
//! point go) and `.homedir` (default `/user`). A path resolves through the longest
//! mount point that is a prefix of it on a component boundary.
//!
//! Java's ViewFileSystem and hdfs-native read the same keys, so one core-site.xml
//! gives every client the same tree. Not supported (as in hdfs-native):
//! `linkMergeSlash`, `linkMerge`, nfly and regex mounts.

use hafs_conf::keys::FS_VIEWFS_MOUNTTABLE_PREFIX;
use hafs_conf::{Configuration, FsUri};

/// The URI scheme of a mount-table file system.
pub const VIEWFS_SCHEME: &str = "viewfs";
/// The table of `viewfs:///` (no authority), as in Hadoop.
const DEFAULT_TABLE: &str = "default";
/// Hadoop's `fs.viewfs.mounttable.<table>.homedir` default.
const DEFAULT_HOMEDIR: &str = "/user";
/// Hadoop's message for a rename whose ends are under different mount points.
pub const CROSS_MOUNT_RENAME: &str = "Renames across Mount points not supported";

/// One mount table, read from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountTable {
    pub name: String,
    /// (mount path without a trailing `/`, target), longest mount path first.
    links: Vec<(String, FsUri)>,
    fallback: Option<FsUri>,
    homedir: String,
}

/// Where a path of the view lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The mount point it is under (`/` for the fallback).
    pub mount: String,
    /// The target file system (`hdfs://ns1`).
    pub fs: String,
    /// The path in that file system.
    pub path: String,
    /// The path the mount point stands for in that file system.
    pub target_root: String,
}

impl MountTable {
    /// Reads table `name` (the authority of `viewfs://<name>`; empty means
    /// `default`). Every target must be an `hdfs://` URI; a table with neither links nor
    /// a fallback is an error naming the keys.
    pub fn from_conf(conf: &Configuration, name: &str) -> Result<MountTable, String> {
        let name = if name.is_empty() { DEFAULT_TABLE } else { name };
        let prefix = format!("{FS_VIEWFS_MOUNTTABLE_PREFIX}.{name}.");
        let mut links = Vec::new();
        let mut fallback = None;
        let mut homedir = DEFAULT_HOMEDIR.to_string();
        let keys: Vec<String> = conf
            .iter()
            .filter(|(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| k.to_string())
            .collect();
        for key in keys {
            let rest = &key[prefix.len()..];
            let value = conf.get_trimmed(&key).unwrap_or_default();
            if let Some(path) = rest.strip_prefix("link.") {
                let mount = normalize(path).filter(|m| m != "/").ok_or_else(|| {
                    format!("{key}: the mount point must be an absolute path other than /")
                })?;
                links.push((mount, target(&key, &value)?));
            } else if rest == "linkFallback" {
                fallback = Some(target(&key, &value)?);
            } else if rest == "homedir" {
                homedir = normalize(&value)
                    .ok_or_else(|| format!("{key}: expected an absolute path, got {value:?}"))?;
            } else {
                return Err(format!(
                    "{key}: hafs dfs supports only link.<path>, linkFallback and homedir \
                     in a mount table"
                ));
            }
        }
        if links.is_empty() && fallback.is_none() {
            return Err(format!(
                "mount table {name} has no links: set {prefix}link.<path> or {prefix}linkFallback"
            ));
        }
        links.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        Ok(MountTable {
            name: name.to_string(),
            links,
            fallback,
            homedir,
        })
    }

    /// `<homedir>/<user>`.
    pub fn home_dir(&self, user: &str) -> String {
        format!("{}/{user}", self.homedir.trim_end_matches('/'))
    }

    /// Resolves an absolute path of the view. `None` when the path is under no mount
    /// point and there is no fallback.
    pub fn resolve(&self, path: &str) -> Option<Resolved> {
        let path = normalize(path)?;
        for (mount, target) in &self.links {
            let rest = if path == *mount {
                ""
            } else if let Some(r) = path.strip_prefix(mount.as_str()) {
                if !r.starts_with('/') {
                    continue;
                }
                r
            } else {
                continue;
            };
            return Some(Resolved {
                mount: mount.clone(),
                fs: fs_of(target),
                path: join(&target.path, rest),
                target_root: target.path.clone(),
            });
        }
        let fb = self.fallback.as_ref()?;
        Some(Resolved {
            mount: "/".to_string(),
            fs: fs_of(fb),
            path: join(&fb.path, &path),
            target_root: fb.path.clone(),
        })
    }

    /// The names of the mount points directly under `dir` (an internal directory of
    /// the view, such as `/`), sorted; empty when `dir` is not above any mount point.
    pub fn children_of(&self, dir: &str) -> Vec<String> {
        let Some(dir) = normalize(dir) else {
            return Vec::new();
        };
        let base = if dir == "/" {
            "/".to_string()
        } else {
            format!("{dir}/")
        };
        let mut names: Vec<String> = self
            .links
            .iter()
            .filter_map(|(m, _)| m.strip_prefix(&base))
            .filter_map(|rest| rest.split('/').next())
            .filter(|n| !n.is_empty())
            .map(str::to_string)
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Whether `dir` is an internal directory: `/` or a strict ancestor of a mount
    /// point (it exists only in the view).
    pub fn is_internal_dir(&self, dir: &str) -> bool {
        !self.children_of(dir).is_empty()
            && !self
                .links
                .iter()
                .any(|(m, _)| Some(m.as_str()) == normalize(dir).as_deref())
    }
}

/// `hdfs://authority` of a target.
fn fs_of(uri: &FsUri) -> String {
    format!("{}://{}", uri.scheme, uri.authority)
}

fn target(key: &str, value: &str) -> Result<FsUri, String> {
    let uri = FsUri::parse(value)
        .filter(|u| u.scheme == hafs_conf::hdfs::HDFS_SCHEME && !u.authority.is_empty())
        .ok_or_else(|| {
            format!("{key}: expected an hdfs://<nameservice>/<path> target, got {value:?}")
        })?;
    Ok(FsUri {
        path: normalize(if uri.path.is_empty() { "/" } else { &uri.path })
            .unwrap_or_else(|| "/".into()),
        ..uri
    })
}

/// `/a//b/` → `/a/b`; `None` for a relative path or one with `.`/`..` components.
fn normalize(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        return None;
    }
    let mut out = String::new();
    for c in path.split('/').filter(|c| !c.is_empty()) {
        if c == "." || c == ".." {
            return None;
        }
        out.push('/');
        out.push_str(c);
    }
    Some(if out.is_empty() { "/".to_string() } else { out })
}

/// `base` (absolute, normalized) + `rest` (empty or starting with `/`).
fn join(base: &str, rest: &str) -> String {
    match (base, rest) {
        (b, "") => b.to_string(),
        ("/", r) => r.to_string(),
        (b, r) => format!("{b}{r}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> MountTable {
        let mut c = Configuration::new();
        let p = "fs.viewfs.mounttable.cluster";
        c.set(&format!("{p}.link./ns1"), "hdfs://ns1/");
        c.set(&format!("{p}.link./ns2"), "hdfs://ns2");
        c.set(&format!("{p}.link./data/logs"), "hdfs://ns2/logs/");
        c.set(&format!("{p}.link./data"), "hdfs://ns1/data");
        c.set(&format!("{p}.linkFallback"), "hdfs://ns1/");
        c.set("fs.viewfs.mounttable.other.link./x", "hdfs://ns9/");
        MountTable::from_conf(&c, "cluster").unwrap()
    }

    fn r(t: &MountTable, p: &str) -> (String, String, String) {
        let r = t.resolve(p).unwrap();
        (r.mount, r.fs, r.path)
    }

    #[test]
    fn longest_prefix_on_component_boundaries() {
        let t = table();
        assert_eq!(
            r(&t, "/ns1/a/b"),
            ("/ns1".into(), "hdfs://ns1".into(), "/a/b".into())
        );
        assert_eq!(
            r(&t, "/ns2"),
            ("/ns2".into(), "hdfs://ns2".into(), "/".into())
        );
        assert_eq!(
            r(&t, "/data/logs/x"),
            ("/data/logs".into(), "hdfs://ns2".into(), "/logs/x".into())
        );
        assert_eq!(
            r(&t, "/data/other"),
            ("/data".into(), "hdfs://ns1".into(), "/data/other".into())
        );
        // "/ns10" is not under "/ns1": the fallback takes it.
        assert_eq!(
            r(&t, "/ns10/f"),
            ("/".into(), "hdfs://ns1".into(), "/ns10/f".into())
        );
        assert_eq!(
            r(&t, "//ns2//f/"),
            ("/ns2".into(), "hdfs://ns2".into(), "/f".into())
        );
        assert_eq!(t.resolve("relative"), None);
        assert_eq!(t.resolve("/a/../b"), None);
    }

    #[test]
    fn internal_dirs_and_their_children() {
        let t = table();
        assert_eq!(t.children_of("/"), ["data", "ns1", "ns2"]);
        assert_eq!(t.children_of("/data"), ["logs"]);
        assert!(t.is_internal_dir("/"));
        assert!(!t.is_internal_dir("/data"), "/data is itself a mount point");
        assert!(!t.is_internal_dir("/ns1"));
        assert_eq!(t.home_dir("alice"), "/user/alice");
    }

    #[test]
    fn without_fallback_unmounted_paths_do_not_resolve() {
        let mut c = Configuration::new();
        c.set("fs.viewfs.mounttable.default.link./a", "hdfs://ns1/a");
        c.set("fs.viewfs.mounttable.default.homedir", "/home/");
        let t = MountTable::from_conf(&c, "").unwrap();
        assert_eq!(t.name, "default");
        assert_eq!(t.resolve("/b"), None);
        assert_eq!(t.home_dir("bob"), "/home/bob");
    }

    #[test]
    fn bad_tables_name_the_key() {
        let mut c = Configuration::new();
        let err = MountTable::from_conf(&c, "t").unwrap_err();
        assert!(err.contains("mount table t has no links"), "{err}");
        c.set("fs.viewfs.mounttable.t.link./a", "file:///tmp");
        let err = MountTable::from_conf(&c, "t").unwrap_err();
        assert!(
            err.starts_with("fs.viewfs.mounttable.t.link./a: expected an hdfs://"),
            "{err}"
        );
        let mut c = Configuration::new();
        c.set("fs.viewfs.mounttable.t.linkMergeSlash", "hdfs://ns1/");
        let err = MountTable::from_conf(&c, "t").unwrap_err();
        assert!(err.contains("supports only link.<path>"), "{err}");
    }
}
