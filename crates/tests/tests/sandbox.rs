//! `hafs sandbox`: one command brings up a local cluster whose conf dir works for real
//! clients, and SIGTERM takes all of it down cleanly.

use std::process::Command;
use std::time::{Duration, Instant};

use hafs_tests::{hafs_bin, hafs_dfs, java_fs, processes_matching, ClientTarget, Daemon, TempDir};

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
    for dn in ["datanode1", "datanode2", "datanode3"] {
        assert!(ready.contains(dn), "ready line lists no {dn}: {ready:?}");
    }

    let conf_dir = dir.join("conf");
    let core = std::fs::read_to_string(conf_dir.join("core-site.xml"))
        .unwrap_or_else(|e| panic!("sandbox wrote no {}/core-site.xml: {e}", conf_dir.display()));
    let fs_uri = xml_value(&core, "fs.defaultFS").expect("core-site.xml sets fs.defaultFS");
    assert!(fs_uri.starts_with("hdfs://"), "fs.defaultFS = {fs_uri}");
    let target = ClientTarget { conf_dir, fs_uri };

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
