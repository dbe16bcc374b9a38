//! The files every local cluster writes and reads: Hadoop site XML, generated configs
//! and daemon logs.

use std::path::Path;

use crate::error::{Context, Result};

/// Writes a Hadoop `*-site.xml` holding `pairs`, in order.
pub fn write_site<K: AsRef<str>, V: AsRef<str>>(path: &Path, pairs: &[(K, V)]) -> Result<()> {
    hafs_conf::write_site_xml(path, pairs).with_context(|| format!("writing {}", path.display()))
}

/// The last `n` lines of a daemon's log (none if it cannot be read): what an error
/// about that daemon quotes.
pub fn log_tail(path: &Path, n: usize) -> Vec<String> {
    let text = std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| l.to_string())
        .collect()
}

/// Writes a small text file (a generated configuration).
pub fn write_text(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Copies a NameNode's name dir (files and subdirs) to `to`, leaving out the storage
/// lock a running NameNode holds: how a freshly formatted name dir seeds the other
/// NameNodes of its nameservice before they `-bootstrapStandby`.
pub fn copy_name_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
    let entries = std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))?;
    for entry in entries {
        let entry = entry?;
        if entry.file_name() == "in_use.lock" {
            continue;
        }
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_name_dir(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}
