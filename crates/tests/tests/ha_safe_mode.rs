//! A new Active still in startup safe mode (its block reports are not in yet) answers
//! writes with RetriableException, as Hadoop's HA NameNode does, so clients wait for
//! the reports instead of failing: our client and the Java shell both retry a `-mkdir`
//! until the DataNode reports and safe mode ends.

use std::time::Duration;

use hafs_tests::{hafs_cmd, hafs_dfs, java_fs, MiniCluster, TEST_BLOCK_SIZE};

#[test]
fn writes_to_an_active_in_startup_safe_mode_are_retried_until_it_ends() {
    let mut c = MiniCluster::builder()
        .label("ha-safemode")
        .namenodes(2)
        .journalnodes(3)
        .datanodes(1)
        .conf("dfs.namenode.safemode.extension", "0")
        .start();
    let target = c.client_target();
    // Three blocks: Hadoop's threshold (0.999 of the total, rounded down) is 2.
    let local = c.dir().join("three-blocks.bin");
    std::fs::write(&local, vec![7u8; 3 * TEST_BLOCK_SIZE as usize]).unwrap();
    hafs_dfs(&target, &["-put", local.to_str().unwrap(), "/three-blocks"]).ok();

    // Without its DataNode, a restarted NameNode cannot leave safe mode: the blocks
    // of /three-blocks are unreported.
    c.stop_datanode(0);
    c.restart_nn(1);
    c.restart_nn(0);
    c.transition_to_active(0);
    c.wait_for_state(0, "active", Duration::from_secs(30));
    let nn1 = format!("hdfs://{}", c.nn_rpc_addr_of(0));
    let get = hafs_cmd(&target, &["dfsadmin", "-fs", &nn1, "-safemode", "get"]).ok();
    assert_eq!(get.stdout, "Safe mode is ON\n", "{get}");

    // Both clients start writing while the Active is in safe mode...
    let (t1, t2) = (target.clone(), target.clone());
    let ours = std::thread::spawn(move || hafs_dfs(&t1, &["-mkdir", "/ours"]));
    let java = std::thread::spawn(move || java_fs(&t2, &["-mkdir", "/java"]));
    std::thread::sleep(Duration::from_secs(3));
    // ...and finish once the DataNode reports its blocks.
    c.start_datanode(0);
    let ours = ours.join().unwrap();
    assert!(
        ours.success(),
        "hafs -mkdir did not wait out safe mode:\n{ours}"
    );
    let java = java.join().unwrap();
    assert!(
        java.success(),
        "Java -mkdir did not wait out safe mode:\n{java}"
    );
    let ls = hafs_dfs(&target, &["-ls", "/"]).ok();
    assert!(
        ls.stdout.contains("/ours") && ls.stdout.contains("/java"),
        "{ls}"
    );
    let get = hafs_cmd(&target, &["dfsadmin", "-fs", &nn1, "-safemode", "get"]).ok();
    assert_eq!(get.stdout, "Safe mode is OFF\n", "{get}");
    c.stop();
}
