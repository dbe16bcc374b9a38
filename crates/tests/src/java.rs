//! Small Java programs of our own (crates/tests/java/*.java) run against the Hadoop
//! client jars: compiled with javac once per source text (cached under `$HAFS_CACHE` by
//! the source's hash) and run with a cluster's conf dir on the classpath.

use std::path::PathBuf;
use std::process::Command;

use crate::command::{run_with_timeout, CmdOutput, DEFAULT_CMD_TIMEOUT};
use crate::paths::{hafs_cache, jars_dir, workspace_root};
use crate::tools::ConfTarget;

pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The directory holding `<class>.class`, compiling crates/tests/java/<class>.java when
/// its text changed.
#[track_caller]
pub fn compiled_java_class(class: &str) -> PathBuf {
    let src = workspace_root().join(format!("crates/tests/java/{class}.java"));
    let text = std::fs::read(&src).unwrap_or_else(|e| panic!("read {}: {e}", src.display()));
    let out = hafs_cache().join(format!("java-{class}-{:016x}", fnv1a(&text)));
    if out.join(format!("{class}.class")).exists() {
        return out;
    }
    let tmp = out.with_extension(format!("tmp{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let mut javac = Command::new("javac");
    javac
        .arg("-cp")
        .arg(format!("{}/*", jars_dir().display()))
        .arg("-d")
        .arg(&tmp)
        .arg(&src);
    let res = run_with_timeout(javac, DEFAULT_CMD_TIMEOUT);
    assert!(
        res.success(),
        "javac failed (is a JDK installed? scripts/test-deps.sh):\n{res}"
    );
    // Another test process may have won the race; either copy is the same.
    if std::fs::rename(&tmp, &out).is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    out
}

/// Runs `class` with `args`, the target's conf dir on the classpath and its client
/// environment (a Kerberos ticket in a secure cluster).
#[track_caller]
pub fn run_java_class(target: &impl ConfTarget, class: &str, args: &[&str]) -> CmdOutput {
    run_with_timeout(java_class_command(target, class, args), DEFAULT_CMD_TIMEOUT)
}

/// The command [`run_java_class`] runs, for a caller that spawns it itself (a probe that
/// runs while the test does something else).
#[track_caller]
pub fn java_class_command(target: &impl ConfTarget, class: &str, args: &[&str]) -> Command {
    let classes = compiled_java_class(class);
    let home = hafs_cache().join("hadoop-home");
    std::fs::create_dir_all(&home).unwrap();
    let log4j = workspace_root().join("scripts/hadoop-fs-log4j2.properties");
    let env = target.client_env();
    let java_opts = env
        .iter()
        .find(|(k, _)| k == "HADOOP_FS_JAVA_OPTS")
        .map(|(_, v)| v.clone());
    let mut cmd = Command::new("java");
    cmd.args(["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"])
        .arg(format!("-Dhadoop.home.dir={}", home.display()))
        .arg(format!("-Dlog4j2.configurationFile={}", log4j.display()));
    if let Some(opts) = java_opts {
        cmd.args(opts.split_whitespace());
    }
    cmd.arg("-cp")
        .arg(format!(
            "{}:{}:{}/*",
            target.conf_dir().display(),
            classes.display(),
            jars_dir().display()
        ))
        .arg(class)
        .args(args)
        .env_remove("HADOOP_USER_NAME")
        .envs(env);
    cmd
}

/// The JAX-RS shim `webhdfs://` needs in the Java client (crates/tests/java/jaxrs-shim,
/// built into the Hadoop jars dir by scripts/test-deps.sh, so `scripts/hadoop-fs` has it
/// on its classpath). Panics, naming the script, when it is missing or stale.
#[track_caller]
pub fn jaxrs_shim_jar() -> PathBuf {
    let jar = jars_dir().join("jaxrs-shim.jar");
    let src = workspace_root().join("crates/tests/java/jaxrs-shim/MediaTypeRuntimeDelegate.java");
    assert!(
        jar.is_file(),
        "{} is missing: run scripts/test-deps.sh (webhdfs:// in the Java client needs it)",
        jar.display()
    );
    // test-deps.sh keeps the source it built the jar from beside it: the jar is
    // current when that is the checkout's source, byte for byte (not by mtime, which a
    // fresh clone sets to now).
    let built_from = jars_dir().join("jaxrs-shim.java");
    let same = matches!(
        (std::fs::read(&built_from), std::fs::read(&src)),
        (Ok(a), Ok(b)) if a == b
    );
    assert!(
        same,
        "{} was not built from {}: run scripts/test-deps.sh to rebuild it",
        jar.display(),
        src.display()
    );
    jar
}
