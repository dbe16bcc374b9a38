//! HAServiceProtocol checked with Hadoop's own client: `org.apache.hadoop.ha.HAAdmin`
//! from hadoop-client-api-3.5.0.jar, made concrete by crates/tests/java/HafsHAAdmin.java
//! (compiled here with javac, cached under $HAFS_CACHE by the source's hash), against a
//! real hafs NameNode pair.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use hafs_tests::{
    hafs_cache, jars_dir, run_with_timeout, workspace_root, CmdOutput, MiniCluster,
    DEFAULT_CMD_TIMEOUT, NAMESERVICE,
};

/// The directory holding HafsHAAdmin.class (compiled once per source text).
fn compiled_admin() -> PathBuf {
    hafs_tests::compiled_java_class("HafsHAAdmin")
}

fn java_haadmin(c: &MiniCluster, args: &[&str]) -> CmdOutput {
    let classes = compiled_admin();
    let home = hafs_cache().join("hadoop-home");
    std::fs::create_dir_all(&home).unwrap();
    let log4j = workspace_root().join("scripts/hadoop-fs-log4j2.properties");
    let mut cmd = Command::new("java");
    cmd.args(["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"])
        .arg(format!("-Dhadoop.home.dir={}", home.display()))
        .arg(format!("-Dlog4j2.configurationFile={}", log4j.display()))
        .arg("-cp")
        .arg(format!(
            "{}:{}:{}/*",
            c.conf_dir().display(),
            classes.display(),
            jars_dir().display()
        ))
        .arg("HafsHAAdmin")
        .args(["-ns", NAMESERVICE])
        .args(args)
        .env_remove("HADOOP_USER_NAME");
    run_with_timeout(cmd, DEFAULT_CMD_TIMEOUT)
}

#[test]
fn hadoop_haadmin_reads_and_changes_the_state_of_hafs_namenodes() {
    let mut c = MiniCluster::builder()
        .label("java-haadmin")
        .namenodes(2)
        .journalnodes(3)
        .start();
    c.wait_for_state(0, "active", Duration::from_secs(30));

    // getServiceStatus through Hadoop's translator: the same words as hafs haadmin.
    let out = java_haadmin(&c, &["-getServiceState", "nn1"]);
    assert!(out.success(), "{out}");
    assert_eq!(out.stdout.trim(), "active", "{out}");
    let out = java_haadmin(&c, &["-getServiceState", "nn2"]);
    assert!(out.success(), "{out}");
    assert_eq!(out.stdout.trim(), "standby", "{out}");
    let ours = c.haadmin(&["-getServiceState", "nn2"]);
    assert_eq!(ours.stdout.trim(), "standby", "{ours}");

    // monitorHealth.
    let out = java_haadmin(&c, &["-checkHealth", "nn2"]);
    assert!(out.success(), "{out}");

    // transitionToActive refuses while the other NameNode is Active (Hadoop's check).
    let out = java_haadmin(&c, &["-transitionToActive", "nn2"]);
    assert!(!out.success(), "{out}");
    assert!(out.stderr.contains("is already active"), "{out}");

    // transitionToStandby, then transitionToActive of the other NameNode.
    let out = java_haadmin(&c, &["-transitionToStandby", "nn1"]);
    assert!(out.success(), "{out}");
    c.wait_for_state(0, "standby", Duration::from_secs(30));
    let out = java_haadmin(&c, &["-transitionToActive", "nn2"]);
    assert!(out.success(), "{out}");
    c.wait_for_state(1, "active", Duration::from_secs(30));
    assert_eq!(c.ha_state(0), Ok("standby"));

    // getAllServiceState: one line per NameNode, Hadoop's "%-50s %-10s" layout.
    let out = java_haadmin(&c, &["-getAllServiceState"]);
    assert!(out.success(), "{out}");
    let states: Vec<&str> = out
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    assert_eq!(states, vec!["standby", "active"], "{out}");
    let ours = c.haadmin(&["-getAllServiceState"]);
    let ours_states: Vec<&str> = ours
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    assert_eq!(ours_states, states, "{ours}");
    assert!(
        ours.stdout
            .lines()
            .all(|l| l.len() >= 61 && &l[50..51] == " "),
        "{ours}"
    );

    // And back with hafs haadmin -failover (fencing: the harness's shell(true)).
    let ours = c.haadmin(&["-failover", "nn2", "nn1"]);
    assert!(ours.success(), "{ours}");
    assert!(
        ours.stdout.contains("Failover from nn2 to nn1 successful"),
        "{ours}"
    );
    let out = java_haadmin(&c, &["-getServiceState", "nn1"]);
    assert_eq!(out.stdout.trim(), "active", "{out}");
    c.stop();
}
