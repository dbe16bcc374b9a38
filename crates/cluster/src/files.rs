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
