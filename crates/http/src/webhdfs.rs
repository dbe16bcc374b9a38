//! What the NameNode and DataNode sides of WebHDFS share: the URL prefix, parameter
//! parsing as Hadoop's `ParamFilter` and `*Param` classes do it (names case-insensitive,
//! booleans case-insensitive, unknown parameters ignored), and errors as Hadoop's
//! `ExceptionHandler` answers them: `{"RemoteException":{...}}` with the status its
//! exception class maps to.

use serde_json::json;

use crate::request::Request;
use crate::response::{self, Response};

/// Every WebHDFS path starts with this.
pub const PREFIX: &str = "/webhdfs/v1";

/// Hadoop's `HdfsConstants.MAX_PATH_LENGTH`: longer paths are refused before any work.
pub const MAX_PATH_LENGTH: usize = 8000;

/// Hadoop's default `hadoop.http.staticuser.user`: who an unnamed simple-mode web
/// caller is.
pub const STATIC_WEB_USER: &str = "dr.who";

/// Java exception classes WebHDFS answers with.
pub mod class {
    pub const ILLEGAL_ARGUMENT: &str = "java.lang.IllegalArgumentException";
    pub const UNSUPPORTED_OPERATION: &str = "java.lang.UnsupportedOperationException";
    pub const INVALID_PATH: &str = "org.apache.hadoop.fs.InvalidPathException";
    pub const FILE_NOT_FOUND: &str = "java.io.FileNotFoundException";
    pub const IO: &str = "java.io.IOException";
    pub const ACCESS_CONTROL: &str = "org.apache.hadoop.security.AccessControlException";
    pub const AUTHORIZATION: &str = "org.apache.hadoop.security.authorize.AuthorizationException";
    pub const SECURITY: &str = "java.lang.SecurityException";
}

/// A WebHDFS failure: a Java exception class and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebHdfsError {
    pub class_name: String,
    pub message: String,
}

impl WebHdfsError {
    pub fn new(class_name: &str, message: impl Into<String>) -> WebHdfsError {
        WebHdfsError {
            class_name: class_name.to_string(),
            message: message.into(),
        }
    }

    pub fn illegal_argument(message: impl Into<String>) -> WebHdfsError {
        WebHdfsError::new(class::ILLEGAL_ARGUMENT, message)
    }

    pub fn io(message: impl Into<String>) -> WebHdfsError {
        WebHdfsError::new(class::IO, message)
    }

    /// The status Hadoop's `ExceptionHandler` gives the class: 404 for a missing file,
    /// 400 for a bad argument or an unsupported operation, 403 for security refusals
    /// and every other IOException (a Standby's StandbyException among them, which is
    /// what makes the Java client fail over), 500 for anything else.
    pub fn status(&self) -> u16 {
        status_of(&self.class_name)
    }

    /// `{"RemoteException":{"exception":<simple name>,"javaClassName":..,"message":..}}`.
    pub fn to_json(&self) -> String {
        let simple = self
            .class_name
            .rsplit('.')
            .next()
            .unwrap_or(&self.class_name);
        json!({
            "RemoteException": {
                "exception": simple,
                "javaClassName": self.class_name,
                "message": self.message,
            }
        })
        .to_string()
    }

    pub fn response(&self) -> Response {
        response::json(self.status(), self.to_json())
    }
}

impl std::fmt::Display for WebHdfsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.class_name, self.message)
    }
}

/// Unchecked Java exceptions that are not arguments errors: Hadoop answers them 500.
const RUNTIME_500: &[&str] = &[
    "java.lang.NullPointerException",
    "java.lang.IllegalStateException",
    "java.lang.RuntimeException",
    "java.lang.ClassCastException",
    "java.lang.IndexOutOfBoundsException",
    "java.lang.ArrayIndexOutOfBoundsException",
];

fn status_of(class_name: &str) -> u16 {
    match class_name {
        class::FILE_NOT_FOUND => 404,
        class::ILLEGAL_ARGUMENT
        | class::UNSUPPORTED_OPERATION
        | class::INVALID_PATH
        | "org.apache.hadoop.HadoopIllegalArgumentException"
        | "java.lang.NumberFormatException" => 400,
        c if RUNTIME_500.contains(&c) => 500,
        // Every other class hafs answers with is an IOException (or a security
        // refusal): Hadoop answers 403.
        _ => 403,
    }
}

/// The query parameters of a WebHDFS request.
pub struct Params<'a> {
    params: &'a [(String, String)],
}

impl<'a> Params<'a> {
    pub fn of(req: &'a Request) -> Params<'a> {
        Params {
            params: &req.params,
        }
    }

    pub fn from_pairs(params: &'a [(String, String)]) -> Params<'a> {
        Params { params }
    }

    /// The first value of `name`, its case ignored; an empty value counts as absent
    /// (Hadoop's parameters treat "" as the default).
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// `op`, upper-cased (Hadoop's op parameters parse case-insensitively).
    pub fn op(&self) -> Option<String> {
        self.get("op").map(str::to_ascii_uppercase)
    }

    /// A boolean parameter: `true`/`false` in any case; anything else is refused.
    pub fn bool(&self, name: &str, default: bool) -> Result<bool, WebHdfsError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(bad_value(name, v, "true or false")),
        }
    }

    /// A decimal number parameter, within `min..=max`.
    pub fn i64(&self, name: &str, min: i64, max: i64) -> Result<Option<i64>, WebHdfsError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        match v.trim().parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            Ok(_) => Err(bad_value(name, v, &format!("a number in [{min}, {max}]"))),
            Err(_) => Err(bad_value(name, v, "a decimal number")),
        }
    }

    /// An octal permission parameter (`755`, `1777`), at most 0o1777.
    pub fn permission(&self, name: &str) -> Result<Option<u16>, WebHdfsError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        match u16::from_str_radix(v.trim(), 8) {
            Ok(p) if p <= 0o1777 => Ok(Some(p)),
            _ => Err(bad_value(name, v, "an octal permission in [0, 1777]")),
        }
    }
}

/// Hadoop's words for a parameter value outside its domain.
fn bad_value(name: &str, value: &str, domain: &str) -> WebHdfsError {
    WebHdfsError::illegal_argument(format!(
        "Invalid value for webhdfs parameter \"{}\": \"{}\" is not {domain}",
        name.to_ascii_lowercase(),
        truncate(value, 100)
    ))
}

/// At most `max` bytes of `s` (on a character boundary), for messages that quote input.
pub fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The file system path of a WebHDFS request path (`/webhdfs/v1/a/b` → `/a/b`), checked
/// as Hadoop's `DFSUtil.isValidName` checks names: absolute, no `.`/`..` component, no
/// `:` in a component, no NUL, at most [`MAX_PATH_LENGTH`] bytes. `None` when the
/// request is not under [`PREFIX`].
pub fn fs_path(request_path: &str) -> Option<Result<String, WebHdfsError>> {
    let rest = request_path.strip_prefix(PREFIX)?;
    if !rest.is_empty() && !rest.starts_with('/') {
        return None;
    }
    let path = if rest.is_empty() { "/" } else { rest };
    Some(check_path(path).map(|()| {
        // `/a/b/` and `/a/b` are the same path.
        if path.len() > 1 {
            path.trim_end_matches('/').to_string()
        } else {
            path.to_string()
        }
    }))
}

/// Whether `path` is a valid HDFS path name (Hadoop's `DFSUtil.isValidName`, plus the
/// length bound and NUL, which no file system name may hold).
pub fn check_path(path: &str) -> Result<(), WebHdfsError> {
    let invalid =
        |why: &str| WebHdfsError::new(class::INVALID_PATH, format!("Invalid path name {why}"));
    if path.len() > MAX_PATH_LENGTH {
        return Err(invalid(&format!(
            "of {} bytes: longer than {MAX_PATH_LENGTH}",
            path.len()
        )));
    }
    if !path.starts_with('/') {
        return Err(invalid(&format!("{path}: not absolute")));
    }
    if path.contains('\0') {
        return Err(invalid(&format!(
            "{}: contains a NUL character",
            truncate(&path.replace('\0', "\\0"), 200)
        )));
    }
    if path.contains("//") {
        return Err(invalid(&format!("{path}: empty component")));
    }
    for c in path.split('/').skip(1) {
        if c == "." || c == ".." || c.contains(':') {
            return Err(invalid(&format!("Invalid file name: {path}")));
        }
    }
    Ok(())
}

/// A JSON answer (200) with Hadoop's WebHDFS content type.
pub fn ok_json(value: serde_json::Value) -> Response {
    response::json(200, value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn params_ignore_case_and_parse_as_hadoop() {
        let v = pairs(&[
            ("OP", "liststatus"),
            ("Recursive", "True"),
            ("permission", "0755"),
            ("x", "y"),
            ("overwrite", "yes"),
            ("length", "-1"),
        ]);
        let p = Params::from_pairs(&v);
        assert_eq!(p.op().as_deref(), Some("LISTSTATUS"));
        assert!(p.bool("recursive", false).unwrap());
        assert!(!p.bool("missing", false).unwrap());
        assert_eq!(p.permission("permission").unwrap(), Some(0o755));
        let e = p.bool("overwrite", false).unwrap_err();
        assert_eq!(e.status(), 400);
        assert!(e.message.contains("\"overwrite\""), "{}", e.message);
        assert!(p.i64("length", 0, i64::MAX).is_err());
    }

    #[test]
    fn paths_are_checked_like_dfs_util_is_valid_name() {
        assert_eq!(fs_path("/webhdfs/v1").unwrap().unwrap(), "/");
        assert_eq!(fs_path("/webhdfs/v1/a/b/").unwrap().unwrap(), "/a/b");
        assert!(fs_path("/webhdfs/v10/a").is_none());
        assert!(fs_path("/other").is_none());
        for bad in ["/a/../b", "/a/./b", "/a:b", "/a\0b", "/a//b"] {
            let e = check_path(bad).unwrap_err();
            assert_eq!(e.status(), 400, "{bad}");
            assert_eq!(e.class_name, class::INVALID_PATH);
        }
        let long = format!("/{}", "a".repeat(MAX_PATH_LENGTH));
        assert!(check_path(&long).is_err());
    }

    #[test]
    fn remote_exceptions_have_hadoops_shape_and_status() {
        let e = WebHdfsError::new(class::FILE_NOT_FOUND, "File does not exist: /x");
        assert_eq!(e.status(), 404);
        let v: serde_json::Value = serde_json::from_str(&e.to_json()).unwrap();
        assert_eq!(v["RemoteException"]["exception"], "FileNotFoundException");
        assert_eq!(
            v["RemoteException"]["javaClassName"],
            "java.io.FileNotFoundException"
        );
        assert_eq!(
            WebHdfsError::new("org.apache.hadoop.ipc.StandbyException", "").status(),
            403
        );
        assert_eq!(WebHdfsError::new(class::ACCESS_CONTROL, "").status(), 403);
        assert_eq!(
            WebHdfsError::new(class::UNSUPPORTED_OPERATION, "").status(),
            400
        );
        assert_eq!(
            WebHdfsError::new("java.lang.NullPointerException", "").status(),
            500
        );
    }
}
