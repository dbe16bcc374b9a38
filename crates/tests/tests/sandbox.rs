//! `hafs sandbox`: one command brings up a local HA cluster (3 JournalNodes, nn1 Active
//! and nn2 Standby, 3 DataNodes) whose conf dir works for real clients across a
//! failover, and SIGTERM takes all of it down cleanly.

use std::process::Command;
use std::time::{Duration, Instant};

use hafs_tests::{
    hafs_bin, hafs_cmd, hafs_dfs, java_fs, processes_matching, python, ClientTarget, Daemon,
    TempDir,
};

/// The value of `name` in a Hadoop XML file (enough for the keys we read here).
fn xml_value(xml: &str, name: &str) -> Option<String> {
    let at = xml.find(&format!("<name>{name}</name>"))?;
    let rest = &xml[at..];
    let start = rest.find("<value>")? + "<value>".len();
    let end = rest[start..].find("</value>")?;
    Some(rest[start..start + end].trim().to_string())
}

#[test]
fn sandbox_serves_real_clients_and_stops_cleanly_on_sigterm() {
    let dir = TempDir::new("sandbox");
    let logs = TempDir::new("sandbox-log");
    let dir_str = dir.path().display().to_string();

    let mut cmd = Command::new(hafs_bin());
    cmd.env_remove("HADOOP_CONF_DIR")
        .args(["sandbox", "--dir", &dir_str]);
    let mut sandbox = Daemon::spawn("sandbox", cmd, &logs.join("sandbox.log"));

    let ready = sandbox.wait_for_log_line("sandbox ready:", Duration::from_secs(120));
    assert!(ready.starts_with("sandbox ready:"), "ready line: {ready:?}");
    for daemon in [
        "jn1 ", "jn2 ", "jn3 ", "nn1 ", "nn2 ", "dn1 ", "dn2 ", "dn3 ",
    ] {
        assert!(
            ready.contains(daemon),
            "ready line lists no {daemon}: {ready:?}"
        );
    }
    assert!(
        ready.contains("active nn1"),
        "ready line names nn1 Active: {ready:?}"
    );
    assert!(
        ready.matches("(pid ").count() >= 8,
        "ready line gives pids: {ready:?}"
    );

    let conf_dir = dir.join("conf");
    let core = std::fs::read_to_string(conf_dir.join("core-site.xml"))
        .unwrap_or_else(|e| panic!("sandbox wrote no {}/core-site.xml: {e}", conf_dir.display()));
    let fs_uri = xml_value(&core, "fs.defaultFS").expect("core-site.xml sets fs.defaultFS");
    assert_eq!(fs_uri, "hdfs://hafs", "fs.defaultFS names the nameservice");
    let hdfs = std::fs::read_to_string(conf_dir.join("hdfs-site.xml")).unwrap();
    assert_eq!(
        xml_value(&hdfs, "dfs.nameservices").as_deref(),
        Some("hafs")
    );
    assert_eq!(
        xml_value(&hdfs, "dfs.ha.namenodes.hafs").as_deref(),
        Some("nn1,nn2")
    );
    let target = ClientTarget { conf_dir, fs_uri };
    let state = hafs_cmd(&target, &["haadmin", "-getServiceState", "nn1"]).ok();
    assert_eq!(state.stdout.trim(), "active", "{state}");
    let state = hafs_cmd(&target, &["haadmin", "-getServiceState", "nn2"]).ok();
    assert_eq!(state.stdout.trim(), "standby", "{state}");

    // The Java client, configured by nothing but the sandbox's conf dir.
    java_fs(&target, &["-mkdir", "-p", "/sandbox-check/dir"]).ok();
    java_fs(&target, &["-touchz", "/sandbox-check/f"]).ok();
    let ls = java_fs(&target, &["-ls", "/sandbox-check"]).ok();
    assert!(
        ls.stdout.contains("/sandbox-check/dir") && ls.stdout.contains("/sandbox-check/f"),
        "{ls}"
    );
    hafs_dfs(&target, &["-test", "-f", "/sandbox-check/f"]).expect_code(0);

    // Data: written by Java, replicated 3 times over the sandbox's DataNodes, read by hafs.
    let local = logs.join("data.txt");
    let text: String = (0..5000).map(|i| format!("sandbox line {i}\n")).collect();
    std::fs::write(&local, &text).unwrap();
    java_fs(
        &target,
        &["-put", local.to_str().unwrap(), "/sandbox-check/data"],
    )
    .ok();
    let cat = hafs_dfs(&target, &["-cat", "/sandbox-check/data"]).ok();
    assert!(
        cat.stdout == text,
        "hafs -cat of a Java-written file differs"
    );
    let stat = java_fs(&target, &["-stat", "%r", "/sandbox-check/data"]).ok();
    assert_eq!(stat.stdout.trim(), "3", "{stat}");

    // A manual failover: every client follows to nn2 through the same conf dir.
    hafs_cmd(&target, &["haadmin", "-failover", "nn1", "nn2"]).ok();
    let state = hafs_cmd(&target, &["haadmin", "-getServiceState", "nn2"]).ok();
    assert_eq!(state.stdout.trim(), "active", "{state}");
    let cat = java_fs(&target, &["-cat", "/sandbox-check/data"]).ok();
    assert!(cat.stdout == text, "Java -cat after the failover differs");
    let native = python(
        &target,
        "import os\nfrom hdfs_native import Client\nc = Client(os.environ['HAFS_FS_URI'])\n\
         c.mkdirs('/sandbox-check/native')\n\
         print(sorted(s.path for s in c.list_status('/sandbox-check')))\n",
    )
    .ok();
    assert!(native.stdout.contains("native"), "{native}");
    hafs_dfs(&target, &["-test", "-d", "/sandbox-check/native"]).expect_code(0);

    // SIGTERM: the sandbox stops everything it started and exits 0.
    let pgid = sandbox.pid();
    sandbox.signal(libc::SIGTERM);
    let status = sandbox
        .wait_timeout(Duration::from_secs(60))
        .unwrap_or_else(|| {
            panic!(
                "sandbox did not exit within 60 s of SIGTERM; log:\n{}",
                sandbox.log_tail(100)
            )
        });
    assert_eq!(
        status.code(),
        Some(0),
        "sandbox exit: {status}; log:\n{}",
        sandbox.log_tail(100)
    );

    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = processes_matching(&dir_str, Some(pgid));
        if left.is_empty() {
            break;
        }
        if Instant::now() > deadline {
            panic!("processes left behind by the sandbox: {left:#?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
