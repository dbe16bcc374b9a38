//! `hafs dfsadmin` in an HA nameservice behaves as Hadoop's DFSAdmin: `-safemode` and
//! `-saveNamespace` act on every NameNode of the nameservice, one line per NameNode
//! naming its address (Java's `host/ip:port`); `-report` is answered by the Active
//! through the failover proxy; `-fs hdfs://host:port` asks that NameNode alone.
//! (The Java `hdfs dfsadmin` is not in hadoop-client-api, so there is no side-by-side
//! run: the expected lines are Hadoop's format, checked literally.)

use std::time::Duration;

use hafs_tests::{hafs_cmd, hafs_dfs, MiniCluster};

#[test]
fn dfsadmin_acts_on_every_namenode_of_the_nameservice() {
    let mut c = MiniCluster::builder()
        .label("ha-dfsadmin")
        .namenodes(2)
        .journalnodes(3)
        .datanodes(1)
        .conf("dfs.namenode.safemode.extension", "0")
        .start();
    let target = c.client_target();
    hafs_dfs(&target, &["-mkdir", "/before"]).ok();
    // nn2 Active, nn1 Standby: the first NameNode the client tries is the Standby.
    c.transition_to_standby(0);
    c.transition_to_active(1);
    c.wait_for_state(1, "active", Duration::from_secs(30));
    // The InetSocketAddress form Hadoop prints: the conf names IPs, so "/ip:port".
    let shown: Vec<String> = (0..2)
        .map(|i| format!("/{}", c.nn_rpc_addr_of(i)))
        .collect();
    let per_nn = |what: &str| {
        shown
            .iter()
            .map(|a| format!("{what} {a}\n"))
            .collect::<String>()
    };
    let dfsadmin = |args: &[&str]| {
        let mut full = vec!["dfsadmin"];
        full.extend_from_slice(args);
        hafs_cmd(&target, &full)
    };

    let get = dfsadmin(&["-safemode", "get"]).ok();
    assert_eq!(get.stdout, per_nn("Safe mode is OFF in"), "{get}");

    let enter = dfsadmin(&["-safemode", "enter"]).ok();
    assert_eq!(enter.stdout, per_nn("Safe mode is ON in"), "{enter}");
    // Each NameNode on its own agrees (the single-NameNode output of -fs).
    for i in 0..2 {
        let fs = format!("hdfs://{}", c.nn_rpc_addr_of(i));
        let one = dfsadmin(&["-fs", &fs, "-safemode", "get"]).ok();
        assert_eq!(one.stdout, "Safe mode is ON\n", "nn{}: {one}", i + 1);
    }

    // saveNamespace needs safe mode (as Hadoop's) and saves on both NameNodes.
    let save = dfsadmin(&["-saveNamespace"]).ok();
    assert_eq!(
        save.stdout,
        per_nn("Save namespace successful for"),
        "{save}"
    );

    let leave = dfsadmin(&["-safemode", "leave"]).ok();
    assert_eq!(leave.stdout, per_nn("Safe mode is OFF in"), "{leave}");
    let get = dfsadmin(&["-safemode", "get"]).ok();
    assert_eq!(get.stdout, per_nn("Safe mode is OFF in"), "{get}");
    hafs_dfs(&target, &["-mkdir", "/after"]).ok();

    // Out of safe mode, saveNamespace fails on each NameNode: both are named, and the
    // exit code is Hadoop's -1.
    let refused = dfsadmin(&["-saveNamespace"]);
    assert_eq!(refused.code(), Some(255), "{refused}");
    assert_eq!(
        refused.stdout,
        per_nn("Save namespace failed for"),
        "{refused}"
    );
    assert!(
        refused.stderr.starts_with("saveNamespace: 2 exceptions")
            && refused.stderr.contains("Safe mode should be turned ON"),
        "{refused}"
    );

    // -report goes to the Active (nn2) though nn1, the Standby, is listed first.
    let report = dfsadmin(&["-report"]).ok();
    assert!(report.stdout.contains("Live datanodes (1):"), "{report}");

    // -rollEdits goes to the Active only: one answer.
    let roll = dfsadmin(&["-rollEdits"]).ok();
    assert!(
        roll.stdout
            .starts_with("Successfully rolled edit logs.\nNew segment starts at txid "),
        "{roll}"
    );

    // A NameNode that is down: the command fails naming it, exit -1.
    c.kill_nn(0);
    let down = dfsadmin(&["-safemode", "get"]);
    assert_eq!(down.code(), Some(255), "{down}");
    assert!(
        down.stderr.starts_with("safemode: ") && down.stderr.contains(&shown[0]),
        "{down}"
    );
    c.stop();
}
