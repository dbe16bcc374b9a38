//! Tests of the harness itself: the MiniCluster lifecycle against a stand-in binary,
//! and the external clients (Java FsShell, hdfs-native) against the local file system.
//! These need no NameNode, so they pin down the harness independently of hafs.

use std::path::PathBuf;
use std::time::Duration;

use hafs_tests::{
    java_fs, processes_matching, python, wait_for_port, ClientTarget, MiniCluster, TempDir,
};

fn fake_hafs() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fake-hafs")
}

fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().next()?.chars().next()
}

fn wait_state(pid: u32, want: impl Fn(Option<char>) -> bool) -> Option<char> {
    for _ in 0..100 {
        let s = proc_state(pid);
        if want(s) {
            return s;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    proc_state(pid)
}

#[test]
fn mini_cluster_lifecycle_with_a_stand_in_namenode() {
    let mut cluster = MiniCluster::builder()
        .label("harness")
        .conf("dfs.blocksize", "1048576")
        .conf("dfs.replication", "2")
        .binary(fake_hafs())
        .start();
    let conf = cluster.conf_dir().to_path_buf();

    // The conf dir carries the address, the name dir and the fast-failure settings.
    let core = std::fs::read_to_string(conf.join("core-site.xml")).unwrap();
    let hdfs = std::fs::read_to_string(conf.join("hdfs-site.xml")).unwrap();
    assert!(
        core.contains(&format!("<value>{}</value>", cluster.fs_uri())),
        "{core}"
    );
    assert!(
        core.contains("<name>ipc.client.connect.max.retries</name>"),
        "{core}"
    );
    assert!(
        hdfs.contains(&format!("<value>{}</value>", cluster.nn_rpc_addr())),
        "{hdfs}"
    );
    assert!(hdfs.contains(&format!(
        "<value>{}</value>",
        cluster.nn_name_dir().display()
    )));
    assert!(
        hdfs.contains("<name>dfs.blocksize</name>\n    <value>1048576</value>"),
        "{hdfs}"
    );
    // An extra key replaces the harness default rather than adding a second entry.
    assert_eq!(
        hdfs.matches("<name>dfs.replication</name>").count(),
        1,
        "{hdfs}"
    );
    assert!(
        hdfs.contains("<name>dfs.replication</name>\n    <value>2</value>"),
        "{hdfs}"
    );
    let formats = std::fs::read_to_string(conf.join("format-calls")).unwrap();
    assert_eq!(
        formats.trim(),
        "namenode -format -nonInteractive -clusterid test"
    );

    // Started, serving, logging to its log file.
    let addr = cluster.nn_rpc_addr();
    assert!(wait_for_port(addr, Duration::from_secs(1)));
    let pid = cluster.namenode().pid();
    let mut line = String::new();
    for _ in 0..100 {
        if cluster.namenode_log().contains("fake namenode listening") {
            line = "seen".into();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(line, "seen", "log: {}", cluster.namenode_log());

    // Pause and resume.
    cluster.pause_namenode();
    assert_eq!(wait_state(pid, |s| s == Some('T')), Some('T'));
    cluster.resume_namenode();
    assert_ne!(wait_state(pid, |s| s != Some('T')), Some('T'));

    // kill -9, then restart on the same port.
    cluster.kill_namenode();
    assert_eq!(proc_state(pid), None, "killed NameNode must be reaped");
    assert!(!wait_for_port(addr, Duration::from_millis(200)));
    cluster.restart_namenode();
    let pid2 = cluster.namenode().pid();
    assert_ne!(pid, pid2);
    assert!(wait_for_port(addr, Duration::from_secs(1)));
    assert_eq!(
        cluster
            .namenode_log()
            .matches("=== harness: starting nn1")
            .count(),
        2,
        "one log across restarts"
    );

    // Graceful restart of a running NameNode, then drop kills everything.
    cluster.restart_namenode();
    let pid3 = cluster.namenode().pid();
    assert_eq!(proc_state(pid2), None);
    let dir = cluster.dir().to_path_buf();
    drop(cluster);
    assert_eq!(proc_state(pid3), None, "drop must kill the NameNode");
    assert!(processes_matching(&dir.display().to_string(), None).is_empty());
    if std::env::var_os("HAFS_KEEP_TMP").is_none() {
        assert!(!dir.exists(), "cluster dir must be removed on drop");
    }
}

#[test]
fn stop_reports_each_daemons_exit() {
    let mut cluster = MiniCluster::builder()
        .label("harness-stop")
        .binary(fake_hafs())
        .start();
    let stopped = cluster.stop();
    assert_eq!(stopped.len(), 1);
    assert_eq!(stopped[0].0, "nn1");
    // python dies of SIGTERM (no handler): an exit status, not a forced kill.
    assert!(stopped[0].1.is_some(), "{stopped:?}");
}

fn local_target(dir: &TempDir) -> ClientTarget {
    let conf_dir = dir.join("conf");
    std::fs::create_dir(&conf_dir).unwrap();
    hafs_tests::write_site_xml(
        &conf_dir.join("core-site.xml"),
        &[("fs.defaultFS".to_string(), "file:///".to_string())],
    );
    ClientTarget {
        conf_dir,
        fs_uri: "file:///".to_string(),
        env: Vec::new(),
    }
}

#[test]
fn java_shell_runs_against_the_local_file_system() {
    let dir = TempDir::new("harness-java");
    let target = local_target(&dir);
    let base = dir.join("data").display().to_string();
    java_fs(&target, &["-mkdir", "-p", &format!("{base}/a/b")]).ok();
    java_fs(&target, &["-touchz", &format!("{base}/a/f")]).ok();
    java_fs(&target, &["-test", "-d", &format!("{base}/a/b")]).expect_code(0);
    java_fs(&target, &["-test", "-e", &format!("{base}/nope")]).expect_code(1);
    let stat = java_fs(
        &target,
        &[
            "-stat",
            "%F %n",
            &format!("{base}/a/b"),
            &format!("{base}/a/f"),
        ],
    )
    .ok();
    assert_eq!(
        stat.stdout_lines(),
        vec!["directory b", "regular file f"],
        "{stat}"
    );
    // stdout carries only the shell's output (logging goes to stderr).
    let ls = java_fs(&target, &["-ls", &format!("{base}/a")]).ok();
    let lines = ls.stdout_lines();
    assert_eq!(lines[0], "Found 2 items", "{ls}");
    assert!(
        lines[1].starts_with('d') && lines[1].ends_with("/a/b"),
        "{ls}"
    );
    let missing = java_fs(&target, &["-ls", &format!("{base}/nope")]).expect_code(1);
    assert!(
        missing.stderr.contains("No such file or directory"),
        "{missing}"
    );
}

#[test]
fn hdfs_native_imports_in_the_venv() {
    let dir = TempDir::new("harness-py");
    let target = local_target(&dir);
    let out = python(
        &target,
        "import os, hdfs_native\nprint(os.environ['HAFS_FS_URI'])\nprint(hdfs_native.Client.__name__)",
    )
    .ok();
    assert_eq!(out.stdout_lines(), vec!["file:///", "Client"], "{out}");
}
