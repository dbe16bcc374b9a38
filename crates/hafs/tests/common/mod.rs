//! What the `hafs bench` smoke tests share: running the real binary with a clean
//! environment, and picking rows and numbers out of its report.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `hafs` binary, with an ambient Hadoop configuration kept out of the test.
pub fn hafs() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hafs"));
    c.env_remove("HADOOP_CONF_DIR").env("HAFS_LOG", "warn");
    c
}

/// `<temp>/<name>-<pid>`, with whatever an earlier run left there removed.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs `hafs <args> <dir_flag> <dir>`, asserts it succeeded and returns its stdout
/// and stderr.
pub fn run_ok(args: &[&str], dir_flag: &str, dir: &Path) -> (String, String) {
    let out: Output = hafs().args(args).arg(dir_flag).arg(dir).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "hafs {} failed ({}):\nstdout:\n{stdout}\nstderr:\n{stderr}",
        args.join(" "),
        out.status
    );
    (stdout, stderr)
}

/// A number as the reports print it (thousands separated by commas).
pub fn number(s: &str) -> f64 {
    s.replace(',', "")
        .parse()
        .unwrap_or_else(|_| panic!("'{s}' is not a number"))
}

/// The fields of the one line starting with `name` and having `fields` fields.
pub fn row<'a>(stdout: &'a str, name: &str, fields: usize) -> Vec<&'a str> {
    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|w| w.len() == fields && w[0] == name)
        .collect();
    assert_eq!(rows.len(), 1, "one {name} row in:\n{stdout}");
    rows.into_iter().next().unwrap()
}
