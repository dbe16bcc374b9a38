//! `Configuration`: Hadoop's layered key/value configuration.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::keys::{canonical_key, default_for};
use crate::xml::{read_resource, RawProperty};
use crate::ConfError;

/// The site files read from a configuration directory, in order.
pub const SITE_FILES: [&str; 2] = ["core-site.xml", "hdfs-site.xml"];

/// Environment variable naming the configuration directory when none is given.
pub const HADOOP_CONF_DIR_ENV: &str = "HADOOP_CONF_DIR";

/// Hadoop-compatible configuration.
///
/// Values come from, in increasing precedence: Hadoop's defaults (built in, see
/// [`keys`](crate::keys)), then resources in the order added (`core-site.xml`, then
/// `hdfs-site.xml`, then `-conf` files), then [`set`](Self::set) (`-D key=value`).
/// As in Hadoop, a resource cannot override a key an earlier resource marked
/// `<final>true</final>` (a warning is logged), while `set` always wins.
#[derive(Debug, Clone, Default)]
pub struct Configuration {
    props: BTreeMap<String, Property>,
    finals: BTreeSet<String>,
    resources: Vec<String>,
}

#[derive(Debug, Clone)]
struct Property {
    value: String,
    /// Resource that set it, or "programmatically" for `set`.
    source: String,
}

const SET_PROGRAMMATICALLY: &str = "programmatically";

impl Configuration {
    /// A configuration holding only Hadoop's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads `core-site.xml` and `hdfs-site.xml` from `conf_dir`, or from
    /// `$HADOOP_CONF_DIR` when `conf_dir` is `None`. With neither, only defaults apply.
    /// Missing site files are fine; an explicitly given directory must exist.
    pub fn load(conf_dir: Option<&Path>) -> Result<Self, ConfError> {
        let mut conf = Self::new();
        match conf_dir {
            Some(dir) => conf.add_conf_dir(dir)?,
            None => {
                if let Some(dir) = std::env::var_os(HADOOP_CONF_DIR_ENV).filter(|d| !d.is_empty()) {
                    let dir = PathBuf::from(dir);
                    if dir.is_dir() {
                        conf.add_conf_dir(&dir)?;
                    } else {
                        tracing::warn!(
                            "{HADOOP_CONF_DIR_ENV}={} is not a directory; using defaults",
                            dir.display()
                        );
                    }
                }
            }
        }
        Ok(conf)
    }

    /// Adds the site files found in `dir` (in [`SITE_FILES`] order).
    pub fn add_conf_dir(&mut self, dir: &Path) -> Result<(), ConfError> {
        let meta = std::fs::metadata(dir).map_err(|source| ConfError::Io {
            op: "open configuration directory",
            path: dir.to_path_buf(),
            source,
        })?;
        if !meta.is_dir() {
            return Err(ConfError::Io {
                op: "open configuration directory",
                path: dir.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a directory"),
            });
        }
        for name in SITE_FILES {
            let path = dir.join(name);
            if path.exists() {
                self.add_resource(&path)?;
            } else {
                tracing::debug!("{} not found; defaults apply", path.display());
            }
        }
        Ok(())
    }

    /// Adds one resource file (`-conf FILE`); it must exist.
    pub fn add_resource(&mut self, path: &Path) -> Result<(), ConfError> {
        let props = read_resource(path)?;
        self.apply_resource(&path.display().to_string(), props);
        Ok(())
    }

    /// Adds a resource given as text; `name` is used in messages.
    pub fn add_resource_str(&mut self, name: &str, xml: &str) -> Result<(), ConfError> {
        let props = crate::xml::parse_resource(name, xml)?;
        self.apply_resource(name, props);
        Ok(())
    }

    fn apply_resource(&mut self, resource: &str, props: Vec<RawProperty>) {
        for prop in props {
            let key = canonical(&prop.name, resource);
            if self.finals.contains(&key) {
                let unchanged = self.props.get(&key).is_some_and(|p| p.value == prop.value);
                if !unchanged {
                    let earlier = self.source(&key).unwrap_or("an earlier resource");
                    tracing::warn!(
                        "{resource}: attempt to override final parameter {key} (final in {earlier}); ignoring"
                    );
                }
                continue;
            }
            self.props.insert(
                key.clone(),
                Property {
                    value: prop.value,
                    source: resource.to_string(),
                },
            );
            if prop.is_final {
                self.finals.insert(key);
            }
        }
        self.resources.push(resource.to_string());
    }

    /// Sets a value (`-D key=value`). Always takes effect, even over a final key.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        let key = canonical(key.trim(), SET_PROGRAMMATICALLY);
        self.props.insert(
            key,
            Property {
                value: value.into(),
                source: SET_PROGRAMMATICALLY.to_string(),
            },
        );
    }

    /// Applies a `-D` generic option's argument, `key=value`.
    pub fn set_definition(&mut self, definition: &str) -> Result<(), ConfError> {
        match definition.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => {
                self.set(key, value);
                Ok(())
            }
            _ => Err(ConfError::BadDefinition {
                text: definition.to_string(),
            }),
        }
    }

    /// Removes an explicitly set value, so the default (if any) applies again.
    pub fn unset(&mut self, key: &str) {
        let key = canonical_key(key.trim());
        self.props.remove(key);
        self.finals.remove(key);
    }

    /// The value as written, before `${var}` substitution: the explicitly set value,
    /// else Hadoop's default.
    pub fn get_raw(&self, key: &str) -> Option<&str> {
        let key = canonical_key(key);
        self.props
            .get(key)
            .map(|p| p.value.as_str())
            .or_else(|| default_for(key))
    }

    /// Whether `key` was set by a resource or `set` (as opposed to defaulted).
    pub fn is_set(&self, key: &str) -> bool {
        self.props.contains_key(canonical_key(key))
    }

    /// Whether a resource marked `key` final.
    pub fn is_final(&self, key: &str) -> bool {
        self.finals.contains(canonical_key(key))
    }

    /// Where the value of `key` came from: a resource path, "programmatically" for
    /// `set`, or `None` when it is defaulted or absent.
    pub fn source(&self, key: &str) -> Option<&str> {
        self.props
            .get(canonical_key(key))
            .map(|p| p.source.as_str())
    }

    /// Explicitly set keys and their raw values, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.props
            .iter()
            .map(|(k, p)| (k.as_str(), p.value.as_str()))
    }

    /// The resources loaded so far, in order.
    pub fn resources(&self) -> &[String] {
        &self.resources
    }

    /// The value of `key` with `${var}` substituted, or `None` if neither set nor
    /// defaulted. Like Hadoop's `get`, surrounding whitespace is kept; see
    /// [`get_trimmed`](Self::get_trimmed).
    ///
    /// If substitution does not terminate (a self-referring value) this logs the
    /// error and returns the raw value; [`try_get`](Self::try_get) and
    /// [`validate`](Self::validate) report it instead.
    pub fn get(&self, key: &str) -> Option<String> {
        match self.try_get(key) {
            Ok(value) => value,
            Err(e) => {
                tracing::error!("{e}");
                self.get_raw(key).map(str::to_string)
            }
        }
    }

    /// Like [`get`](Self::get) but reports a substitution loop as an error.
    pub fn try_get(&self, key: &str) -> Result<Option<String>, ConfError> {
        match self.get_raw(key) {
            Some(raw) => self.substitute_vars(key, raw).map(Some),
            None => Ok(None),
        }
    }

    /// The substituted value with surrounding whitespace removed (Hadoop's
    /// `getTrimmed`).
    pub fn get_trimmed(&self, key: &str) -> Option<String> {
        self.get(key).map(|v| v.trim().to_string())
    }

    /// The substituted value, or `default` when the key has none.
    pub fn get_or(&self, key: &str, default: &str) -> String {
        self.get(key).unwrap_or_else(|| default.to_string())
    }
}

/// Maps a deprecated name to the current one, telling the operator once per use.
fn canonical(key: &str, origin: &str) -> String {
    let current = canonical_key(key);
    if current != key {
        tracing::info!("{origin}: {key} is deprecated; use {current} instead");
    }
    current.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(props: &[(&str, &str, bool)]) -> String {
        let mut xml = String::from("<configuration>");
        for (k, v, f) in props {
            xml.push_str(&format!(
                "<property><name>{k}</name><value>{v}</value><final>{f}</final></property>"
            ));
        }
        xml.push_str("</configuration>");
        xml
    }

    #[test]
    fn defaults_apply_until_set() {
        let mut conf = Configuration::new();
        assert_eq!(conf.get("dfs.replication").as_deref(), Some("3"));
        assert!(!conf.is_set("dfs.replication"));
        conf.set("dfs.replication", "2");
        assert_eq!(conf.get("dfs.replication").as_deref(), Some("2"));
        assert_eq!(conf.source("dfs.replication"), Some("programmatically"));
        conf.unset("dfs.replication");
        assert_eq!(conf.get("dfs.replication").as_deref(), Some("3"));
        assert_eq!(conf.get("no.such.key"), None);
        assert_eq!(conf.get_or("no.such.key", "x"), "x");
    }

    #[test]
    fn later_resource_overrides_earlier() {
        let mut conf = Configuration::new();
        conf.add_resource_str(
            "core-site.xml",
            &site(&[("a", "1", false), ("b", "1", false)]),
        )
        .unwrap();
        conf.add_resource_str("hdfs-site.xml", &site(&[("a", "2", false)]))
            .unwrap();
        assert_eq!(conf.get("a").as_deref(), Some("2"));
        assert_eq!(conf.get("b").as_deref(), Some("1"));
        assert_eq!(conf.source("a"), Some("hdfs-site.xml"));
        assert_eq!(conf.resources(), ["core-site.xml", "hdfs-site.xml"]);
    }

    #[test]
    fn final_blocks_later_resources_but_not_set() {
        let mut conf = Configuration::new();
        conf.add_resource_str("core-site.xml", &site(&[("a", "1", true)]))
            .unwrap();
        conf.add_resource_str("hdfs-site.xml", &site(&[("a", "2", true)]))
            .unwrap();
        assert_eq!(conf.get("a").as_deref(), Some("1"));
        assert!(conf.is_final("a"));
        assert_eq!(conf.source("a"), Some("core-site.xml"));
        // Within one resource, too, a final value stays.
        conf.add_resource_str("x.xml", &site(&[("b", "1", true), ("b", "2", false)]))
            .unwrap();
        assert_eq!(conf.get("b").as_deref(), Some("1"));
        conf.set("a", "3");
        assert_eq!(conf.get("a").as_deref(), Some("3"));
    }

    #[test]
    fn values_keep_whitespace_but_get_trimmed_trims() {
        let mut conf = Configuration::new();
        conf.add_resource_str("s.xml", &site(&[("k", "\n  hdfs://nn:8020  \n", false)]))
            .unwrap();
        assert_eq!(conf.get("k").as_deref(), Some("\n  hdfs://nn:8020  \n"));
        assert_eq!(conf.get_trimmed("k").as_deref(), Some("hdfs://nn:8020"));
    }

    #[test]
    fn deprecated_names_map_to_current_ones() {
        let mut conf = Configuration::new();
        conf.add_resource_str(
            "core-site.xml",
            &site(&[("fs.default.name", "hdfs://old:1", false)]),
        )
        .unwrap();
        assert_eq!(conf.get("fs.defaultFS").as_deref(), Some("hdfs://old:1"));
        assert_eq!(conf.get("fs.default.name").as_deref(), Some("hdfs://old:1"));
        conf.set("dfs.block.size", "64m");
        assert_eq!(conf.get("dfs.blocksize").as_deref(), Some("64m"));
    }

    #[test]
    fn definitions() {
        let mut conf = Configuration::new();
        conf.set_definition("dfs.replication=1").unwrap();
        conf.set_definition("k=a=b").unwrap();
        conf.set_definition("empty=").unwrap();
        assert_eq!(conf.get("dfs.replication").as_deref(), Some("1"));
        assert_eq!(conf.get("k").as_deref(), Some("a=b"));
        assert_eq!(conf.get("empty").as_deref(), Some(""));
        let err = conf.set_definition("novalue").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid definition \"novalue\": expected key=value"
        );
        assert!(conf.set_definition("=v").is_err());
    }

    #[test]
    fn iter_lists_explicit_keys_sorted() {
        let mut conf = Configuration::new();
        conf.set("b", "2");
        conf.set("a", "1");
        let all: Vec<_> = conf.iter().collect();
        assert_eq!(all, vec![("a", "1"), ("b", "2")]);
    }
}
