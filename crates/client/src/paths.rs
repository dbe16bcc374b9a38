//! Path arithmetic on HDFS paths (pure functions, no IO).
//!
//! The NameNode only accepts absolute, normalized paths ("/a/b"); users write relative
//! paths (resolved against the home directory `/user/<name>`, as Hadoop does) and full
//! URIs `hdfs://authority/path`.

use crate::ClientError;

/// The URI scheme of HDFS paths.
pub const SCHEME: &str = "hdfs";

/// Splits `hdfs://authority/path` into `(Some(authority), "/path")`; a plain path comes
/// back as `(None, path)`. An empty authority (`hdfs:///p`) is `Some("")`.
pub fn split_uri(s: &str) -> Result<(Option<&str>, &str), ClientError> {
    let Some(colon) = s.find("://") else {
        return Ok((None, s));
    };
    // A ':' after the first '/' belongs to the path, not to a scheme.
    if s[..colon].contains('/') {
        return Ok((None, s));
    }
    let scheme = &s[..colon];
    if !scheme.eq_ignore_ascii_case(SCHEME) {
        return Err(ClientError::InvalidPath(format!(
            "No FileSystem for scheme \"{scheme}\""
        )));
    }
    let rest = &s[colon + 3..];
    match rest.find('/') {
        Some(i) => Ok((Some(&rest[..i]), &rest[i..])),
        None => Ok((Some(rest), "/")),
    }
}

/// Normalizes an absolute path: collapses repeated slashes, drops `.` components and a
/// trailing slash, and applies `..` lexically. `..` above the root is an error.
pub fn normalize(path: &str) -> Result<String, ClientError> {
    if !path.starts_with('/') {
        return Err(ClientError::InvalidPath(format!(
            "Path is not absolute: {path}"
        )));
    }
    let mut parts: Vec<&str> = Vec::new();
    for comp in path.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(ClientError::InvalidPath(format!(
                        "Invalid path name: {path} goes above the root"
                    )));
                }
            }
            c => parts.push(c),
        }
    }
    if parts.is_empty() {
        return Ok("/".to_string());
    }
    let mut out = String::with_capacity(path.len());
    for p in parts {
        out.push('/');
        out.push_str(p);
    }
    Ok(out)
}

/// Turns what a user typed into the absolute path the NameNode understands.
/// `authority` is this file system's (`nameservice` or `host:port`); a URI naming a
/// different one is refused, as Hadoop's "Wrong FS" check does.
pub fn resolve(path: &str, authority: &str, home: &str) -> Result<String, ClientError> {
    if path.is_empty() {
        return Err(ClientError::InvalidPath(
            "Can not create a Path from an empty string".to_string(),
        ));
    }
    let (auth, p) = split_uri(path)?;
    if let Some(a) = auth {
        if !a.is_empty() && !a.eq_ignore_ascii_case(authority) {
            return Err(ClientError::InvalidPath(format!(
                "Wrong FS: {path}, expected: {SCHEME}://{authority}"
            )));
        }
    }
    if p.starts_with('/') {
        normalize(p)
    } else {
        normalize(&format!("{home}/{p}"))
    }
}

/// The last component of an absolute path ("" for the root).
pub fn file_name(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

/// The parent of an absolute normalized path; `None` for the root.
pub fn parent(path: &str) -> Option<&str> {
    if path == "/" {
        return None;
    }
    match path.rfind('/') {
        Some(0) => Some("/"),
        Some(i) => Some(&path[..i]),
        None => None,
    }
}

/// `dir` + `/` + `name`, without doubling the slash after the root.
pub fn join(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_resolve_against_home() {
        assert_eq!(
            resolve("a/b", "ns", "/user/alice").unwrap(),
            "/user/alice/a/b"
        );
        assert_eq!(resolve(".", "ns", "/user/alice").unwrap(), "/user/alice");
        assert_eq!(resolve("..", "ns", "/user/alice").unwrap(), "/user");
    }

    #[test]
    fn uris_with_our_authority_resolve_and_others_are_refused() {
        assert_eq!(resolve("hdfs://ns/x//y/", "ns", "/h").unwrap(), "/x/y");
        assert_eq!(resolve("hdfs://ns", "ns", "/h").unwrap(), "/");
        assert_eq!(resolve("hdfs:///z", "ns", "/h").unwrap(), "/z");
        let e = resolve("hdfs://other:8020/x", "ns", "/h").unwrap_err();
        assert!(e.to_string().starts_with("Wrong FS"), "{e}");
        assert!(resolve("s3a://b/x", "ns", "/h").is_err());
    }

    #[test]
    fn normalize_collapses_and_rejects_escaping_root() {
        assert_eq!(normalize("//a/./b/../c/").unwrap(), "/a/c");
        assert_eq!(normalize("/").unwrap(), "/");
        assert!(normalize("/..").is_err());
        assert!(normalize("rel").is_err());
        assert!(resolve("", "ns", "/h").is_err());
    }

    #[test]
    fn parent_name_join() {
        assert_eq!(parent("/a/b"), Some("/a"));
        assert_eq!(parent("/a"), Some("/"));
        assert_eq!(parent("/"), None);
        assert_eq!(file_name("/a/b"), "b");
        assert_eq!(file_name("/"), "");
        assert_eq!(join("/", "a"), "/a");
        assert_eq!(join("/a", "b"), "/a/b");
    }
}
