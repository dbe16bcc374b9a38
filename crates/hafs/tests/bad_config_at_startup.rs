//! Every daemon refuses to start on a bad value of any known key — including keys it
//! does not read itself — with an error naming the key and the value. The keys below
//! used to be read with their own literals, outside hafs-conf's table, so no daemon
//! checked them at startup.

use std::path::PathBuf;
use std::process::Command;

fn empty_conf_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hafs-bad-config-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn daemons_stop_at_startup_naming_the_key_and_the_value() {
    let cases = [
        (
            "journalnode",
            "dfs.qjournal.write-txns.timeout.ms",
            "20s",
            "dfs.journalnode.edits.dir",
        ),
        (
            "datanode",
            "hafs.ha.election.lease.ms",
            "long",
            "dfs.datanode.data.dir",
        ),
        (
            "namenode",
            "dfs.journalnode.sync.interval",
            "-1",
            "dfs.namenode.name.dir",
        ),
        (
            "zkfc",
            "ha.zookeeper.session-timeout.ms",
            "ten",
            "hadoop.tmp.dir",
        ),
    ];
    for (daemon, key, value, dir_key) in cases {
        let dir = empty_conf_dir(daemon);
        // The storage dir is never created: validation comes first.
        let storage = dir.join("storage");
        let out = Command::new(env!("CARGO_BIN_EXE_hafs"))
            .arg("--config")
            .arg(&dir)
            .arg(daemon)
            .args(["-D", &format!("{dir_key}={}", storage.display())])
            .args(["-D", &format!("{key}={value}")])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{daemon} started: {stderr}");
        assert!(
            stderr.contains(&format!("invalid value {value:?} for {key}: expected ")),
            "{daemon}: {stderr}"
        );
        assert!(!storage.exists(), "{daemon} wrote {}", storage.display());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
