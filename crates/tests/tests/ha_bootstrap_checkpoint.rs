//! `hafs namenode -bootstrapStandby` of a brand-new NameNode, and Standby checkpoints:
//! the Standby saves an fsimage, uploads it to the Active over HTTP, and the Active
//! starts from it after a restart.

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hafs_tests::{fsimage_txids, hafs_bin, hafs_dfs, parse_ls, run_with_timeout, MiniCluster};

static ONE_CLUSTER_AT_A_TIME: Mutex<()> = Mutex::new(());

fn version_field(name_dir: &Path, key: &str) -> String {
    let text = std::fs::read_to_string(name_dir.join("current/VERSION")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key} in VERSION:\n{text}"))
        .to_string()
}

fn bootstrap_cmd(c: &MiniCluster, i: usize, extra: &[&str]) -> hafs_tests::CmdOutput {
    let mut cmd = Command::new(hafs_bin());
    cmd.env_remove("HADOOP_CONF_DIR")
        .arg("--config")
        .arg(c.nn_conf_dir(i))
        .args(["namenode", "-bootstrapStandby"])
        .args(extra);
    run_with_timeout(cmd, Duration::from_secs(60))
}

#[test]
fn bootstrap_standby_of_a_brand_new_namenode() {
    let _one = ONE_CLUSTER_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let mut c = MiniCluster::builder()
        .label("ha-bootstrap")
        .namenodes(2)
        .journalnodes(3)
        .datanodes(1)
        .start();
    let target = c.client_target();
    hafs_dfs(&target, &["-mkdir", "-p", "/boot/a", "/boot/b"]).ok();

    // nn2 loses everything: a brand-new machine with the same configuration.
    c.stop_nn(1);
    let dir = c.nn_name_dir_of(1).to_path_buf();
    std::fs::remove_dir_all(&dir).unwrap();
    hafs_dfs(&target, &["-mkdir", "-p", "/boot/c"]).ok();

    let out = bootstrap_cmd(&c, 1, &["-nonInteractive"]);
    assert!(out.success(), "{out}");
    assert!(
        out.stdout.contains("About to bootstrap Standby ID nn2"),
        "{out}"
    );
    for key in ["clusterID", "namespaceID", "blockpoolID"] {
        assert_eq!(
            version_field(&dir, key),
            version_field(c.nn_name_dir_of(0), key),
            "{key}"
        );
    }
    assert!(!fsimage_txids(&dir).is_empty());

    // Existing data: refused without -force (Hadoop's exit code 5), then accepted.
    let again = bootstrap_cmd(&c, 1, &["-nonInteractive"]);
    assert_eq!(again.code(), Some(5), "{again}");
    assert!(again.stderr.contains("Not formatting"), "{again}");
    let forced = bootstrap_cmd(&c, 1, &["-force", "-nonInteractive"]);
    assert!(forced.success(), "{forced}");

    // It starts as a Standby, catches up from the JournalNodes and can take over.
    c.start_nn(1);
    c.wait_for_state(1, "standby", Duration::from_secs(30));
    c.failover(0, 1);
    c.wait_for_state(1, "active", Duration::from_secs(30));
    let ls = hafs_dfs(&target, &["-ls", "/boot"]).ok();
    let names: Vec<String> = parse_ls(&ls.stdout).into_iter().map(|e| e.path).collect();
    assert_eq!(names, vec!["/boot/a", "/boot/b", "/boot/c"]);
}

#[test]
fn bootstrap_standby_refuses_when_no_other_namenode_answers() {
    let _one = ONE_CLUSTER_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let mut c = MiniCluster::builder()
        .label("ha-bootstrap-none")
        .namenodes(2)
        .journalnodes(3)
        .datanodes(0)
        .start();
    c.stop_nn(0);
    c.stop_nn(1);
    let out = bootstrap_cmd(&c, 1, &["-force", "-nonInteractive"]);
    assert_eq!(out.code(), Some(2), "{out}");
    assert!(
        out.stderr.contains("Unable to fetch namespace information"),
        "{out}"
    );
}

#[test]
fn a_standby_checkpoint_is_uploaded_and_used_at_the_active_restart() {
    let _one = ONE_CLUSTER_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let mut c = MiniCluster::builder()
        .label("ha-checkpoint")
        .namenodes(2)
        .journalnodes(3)
        .datanodes(1)
        .conf("dfs.namenode.checkpoint.txns", "20")
        .conf("dfs.namenode.checkpoint.check.period", "1")
        .start();
    let target = c.client_target();
    let before = fsimage_txids(c.nn_name_dir_of(0));
    let dirs: Vec<String> = (0..30).map(|i| format!("/cp/d{i:02}")).collect();
    let mut args = vec!["-mkdir", "-p"];
    args.extend(dirs.iter().map(String::as_str));
    hafs_dfs(&target, &args).ok();

    // The Standby checkpoints (>= 20 edits) and the Active receives the image.
    let deadline = Instant::now() + Duration::from_secs(60);
    let uploaded = loop {
        let now = fsimage_txids(c.nn_name_dir_of(0));
        if let Some(&t) = now.iter().rev().find(|t| !before.contains(t) && **t >= 20) {
            break t;
        }
        assert!(
            Instant::now() < deadline,
            "no checkpoint reached nn1: {now:?}\n{}",
            c.nn_log(1)
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(fsimage_txids(c.nn_name_dir_of(1)).contains(&uploaded));
    assert!(
        c.nn_log(0)
            .contains("received and saved an uploaded fsimage"),
        "{}",
        c.nn_log(0)
    );

    // The Active restarts from that image (then the edits after it), as a Standby,
    // and the namespace is whole.
    c.restart_nn(0);
    c.wait_for_state(0, "standby", Duration::from_secs(30));
    let log = c.nn_log(0);
    assert!(
        log.contains(&format!("txid={uploaded}")) || log.contains(&format!("txid: {uploaded}")),
        "{log}"
    );
    c.failover(1, 0);
    c.wait_for_state(0, "active", Duration::from_secs(30));
    let ls = hafs_dfs(&target, &["-ls", "/cp"]).ok();
    let names: Vec<String> = parse_ls(&ls.stdout).into_iter().map(|e| e.path).collect();
    assert_eq!(names, dirs);
}
