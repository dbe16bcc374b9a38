//! Path validation, following Hadoop's DFSUtil.isValidName: absolute, '/'-separated,
//! trailing slashes ignored, and no empty, ".", ".." or ':'-containing components.

use super::error::NamespaceError;

/// Splits a client path into its components (empty for "/"). Invalid paths give
/// InvalidPathException("Invalid path name <path>").
pub fn components(path: &str) -> Result<Vec<&str>, NamespaceError> {
    let invalid = || NamespaceError::InvalidPath(path.to_string());
    if !path.starts_with('/') {
        return Err(invalid());
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for c in trimmed[1..].split('/') {
        if c.is_empty() || c == "." || c == ".." || c.contains(':') {
            return Err(invalid());
        }
        out.push(c);
    }
    Ok(out)
}

/// "/a/b" from components.
pub fn join(comps: &[&str]) -> String {
    if comps.is_empty() {
        return "/".to_string();
    }
    let mut s = String::with_capacity(comps.iter().map(|c| c.len() + 1).sum());
    for c in comps {
        s.push('/');
        s.push_str(c);
    }
    s
}

/// The parent path of `comps` ("/" for top-level entries and the root).
pub fn parent_of(comps: &[&str]) -> String {
    join(&comps[..comps.len().saturating_sub(1)])
}
