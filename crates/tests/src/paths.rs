//! Where the harness finds the `hafs` binary and the external test tools.

use std::env;
use std::ffi::CStr;
use std::path::{Path, PathBuf};

/// The workspace root (two levels above this crate's manifest).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .and_then(Path::parent)
        .expect("crates/tests sits two levels below the workspace root")
        .to_path_buf()
}

/// The `hafs` binary under test: `HAFS_BIN`, else `<target dir>/debug/hafs`.
///
/// Panics when it does not exist: a process-level test without the binary must fail,
/// not skip.
pub fn hafs_bin() -> PathBuf {
    let path = match env::var_os("HAFS_BIN") {
        Some(p) => PathBuf::from(p),
        None => {
            let target = env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| workspace_root().join("target"));
            target.join("debug").join("hafs")
        }
    };
    if !path.is_file() {
        panic!(
            "hafs binary not found at {}: build it first (`cargo build -p hafs`) or run \
             scripts/test.sh, which builds it and sets HAFS_BIN",
            path.display()
        );
    }
    path
}

/// The release build of `hafs`: `HAFS_RELEASE_BIN`, else `<target dir>/release/hafs`.
/// Tests whose subject is timing as users see it (a race a debug build is too slow
/// to lose) run their daemons from it. Panics when it does not exist.
pub fn hafs_release_bin() -> PathBuf {
    let path = match env::var_os("HAFS_RELEASE_BIN") {
        Some(p) => PathBuf::from(p),
        None => env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace_root().join("target"))
            .join("release")
            .join("hafs"),
    };
    if !path.is_file() {
        panic!(
            "release hafs binary not found at {}: build it (`cargo build --release -p \
             hafs`) or run scripts/test.sh, which builds it and sets HAFS_RELEASE_BIN",
            path.display()
        );
    }
    path
}

/// The tool cache: `HAFS_CACHE`, else `~/.cache/hafs` (same default as scripts/test-deps.sh).
pub fn hafs_cache() -> PathBuf {
    if let Some(p) = env::var_os("HAFS_CACHE") {
        return PathBuf::from(p);
    }
    let home = env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/root"));
    home.join(".cache").join("hafs")
}

/// The Hadoop client jars: `HAFS_JARS`, else `$HAFS_CACHE/hadoop-jars`.
/// Panics, naming scripts/test-deps.sh, when the shaded client jar is not there.
pub fn jars_dir() -> PathBuf {
    let dir = env::var_os("HAFS_JARS")
        .map(PathBuf::from)
        .unwrap_or_else(|| hafs_cache().join("hadoop-jars"));
    let has_client = std::fs::read_dir(&dir)
        .map(|entries| {
            entries.flatten().any(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                name.starts_with("hadoop-client-api-") && name.ends_with(".jar")
            })
        })
        .unwrap_or(false);
    if !has_client {
        panic!(
            "Hadoop client jars not found in {}: run scripts/test-deps.sh (or set HAFS_JARS)",
            dir.display()
        );
    }
    dir
}

/// `scripts/hadoop-fs`, the wrapper that runs the Java FsShell.
pub fn hadoop_fs_script() -> PathBuf {
    let script = workspace_root().join("scripts").join("hadoop-fs");
    if !script.is_file() {
        panic!("{} is missing from the checkout", script.display());
    }
    script
}

/// The venv python with hdfs-native: `HAFS_PYTHON`, else `$HAFS_CACHE/venv/bin/python`.
pub fn python_bin() -> PathBuf {
    let py = env::var_os("HAFS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| hafs_cache().join("venv").join("bin").join("python"));
    if !py.exists() {
        panic!(
            "python venv with hdfs-native not found at {}: run scripts/test-deps.sh \
             (or set HAFS_PYTHON)",
            py.display()
        );
    }
    py
}

/// The name of the user this test process runs as, which is the user every client
/// (Java, hdfs-native, ours) presents to the NameNode unless told otherwise.
pub fn current_user() -> String {
    // SAFETY: getpwuid_r writes into the buffers we own and sized; the returned name
    // pointer points into `buf`, which outlives its use here.
    unsafe {
        let uid = libc::geteuid();
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut buf = vec![0 as libc::c_char; 4096];
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result);
        if rc == 0 && !result.is_null() && !pwd.pw_name.is_null() {
            return CStr::from_ptr(pwd.pw_name).to_string_lossy().into_owned();
        }
    }
    env::var("USER").unwrap_or_else(|_| panic!("cannot determine the current user name"))
}

/// The txids of the fsimages in a NameNode name dir (`current/fsimage_<19 digits>`),
/// sorted; empty when the dir cannot be read.
pub fn fsimage_txids(name_dir: &Path) -> Vec<u64> {
    let mut v: Vec<u64> = std::fs::read_dir(name_dir.join("current"))
        .map(|rd| {
            rd.filter_map(|e| {
                let n = e.ok()?.file_name().to_string_lossy().to_string();
                n.strip_prefix("fsimage_")
                    .filter(|d| d.len() == 19)
                    .and_then(|d| d.parse().ok())
            })
            .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}
