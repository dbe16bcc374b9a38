//! Kerberos on every RPC: a secure cluster (a throwaway MIT KDC, each daemon logging in
//! with its own keytab) used by the real clients — Java `hadoop fs` 3.5.0, hdfs-native
//! and `hafs dfs` — with a ticket, at each `hadoop.rpc.protection`, and refused without
//! one or with SIMPLE authentication. dfsadmin's DataNode commands (ours and Apache's)
//! authenticate the same way, and refreshNamenodes needs the superuser.

use hafs_tests::{hafs_cmd, hafs_dfs, hdfs_tool, java_fs, python, MiniCluster};

fn secure_cluster(label: &str, protection: &str) -> MiniCluster {
    MiniCluster::builder()
        .label(label)
        .kerberos(protection)
        .datanodes(1)
        .start()
}

/// The superuser makes a world-writable /tmp, as an operator would.
fn make_tmp(cluster: &MiniCluster) {
    let hdfs = cluster.as_user("hdfs");
    java_fs(&hdfs, &["-mkdir", "-p", "/tmp"]).ok();
    java_fs(&hdfs, &["-chmod", "1777", "/tmp"]).ok();
}

/// Java, hdfs-native and hafs write, list and read as alice; the files are hers.
fn clients_work_as_alice(cluster: &MiniCluster) {
    make_tmp(cluster);
    let dir = cluster.realm().unwrap().kdc().dir().to_path_buf();
    let local = dir.join("payload");
    let payload: String = (0..300_000u32)
        .map(|i| (b'a' + ((i * 7 + i / 251) % 26) as u8) as char)
        .collect();
    std::fs::write(&local, &payload).unwrap();

    java_fs(
        cluster,
        &["-put", local.to_str().unwrap(), "/tmp/from-java"],
    )
    .ok();
    let ls = java_fs(cluster, &["-ls", "/tmp"]).ok();
    assert!(
        ls.stdout
            .lines()
            .any(|l| l.contains(" alice ") && l.ends_with("/tmp/from-java")),
        "{ls}"
    );
    let cat = java_fs(cluster, &["-cat", "/tmp/from-java"]).ok();
    assert!(cat.stdout == payload, "java -cat differs");

    let script = r#"
import os
from hdfs_native import Client
c = Client(os.environ["HAFS_FS_URI"])
data = bytes((i * 13) % 256 for i in range(200_000))
with c.create("/tmp/from-native") as f:
    f.write(data)
with c.read("/tmp/from-java") as f:
    java = f.read()
with c.read("/tmp/from-native") as f:
    assert f.read() == data
st = c.get_file_info("/tmp/from-native")
print("owner", st.owner, "java", len(java))
"#;
    let out = python(cluster, script).ok();
    assert!(out.stdout.contains("owner alice java 300000"), "{out}");

    let ours = hafs_dfs(cluster, &["-cat", "/tmp/from-java"]).ok();
    assert!(ours.stdout == payload, "hafs -cat differs");
    let ls = hafs_dfs(cluster, &["-ls", "/tmp"]).ok();
    assert!(ls.stdout.contains("/tmp/from-native"), "{ls}");
}

#[test]
fn clients_work_with_a_ticket_at_authentication() {
    let cluster = secure_cluster("krb-auth", "authentication");
    clients_work_as_alice(&cluster);
}

#[test]
fn clients_work_with_a_ticket_at_integrity() {
    let cluster = secure_cluster("krb-int", "integrity");
    clients_work_as_alice(&cluster);
}

#[test]
fn clients_work_with_a_ticket_at_privacy() {
    let cluster = secure_cluster("krb-priv", "privacy");
    clients_work_as_alice(&cluster);
    datanode_admin_needs_the_superuser(&cluster);
}

/// dfsadmin on a DataNode's IPC port authenticates with Kerberos; refreshNamenodes is
/// the superuser's (the DataNode's own principal maps to `hdfs`), getBalancerBandwidth
/// anyone's.
fn datanode_admin_needs_the_superuser(cluster: &MiniCluster) {
    let dn = cluster.datanode_ipc_addr(0).to_string();
    let (alice, hdfs) = (cluster.as_user("alice"), cluster.as_user("hdfs"));
    let bw = hafs_cmd(&alice, &["dfsadmin", "-getBalancerBandwidth", &dn]).ok();
    assert!(bw.stdout.starts_with("Balancer bandwidth is "), "{bw}");
    hafs_cmd(&alice, &["dfsadmin", "-refreshNamenodes", &dn])
        .expect_code(255)
        .expect_stderr_contains("refreshNamenodes: Permission denied");
    hdfs_tool(&alice, &["dfsadmin", "-refreshNamenodes", &dn])
        .expect_failure()
        .expect_stderr_contains("Permission denied");
    hafs_cmd(&hdfs, &["dfsadmin", "-refreshNamenodes", &dn]).ok();
    hdfs_tool(&hdfs, &["dfsadmin", "-refreshNamenodes", &dn]).ok();
}

/// Without a ticket, or claiming a user with SIMPLE authentication, nothing gets in and
/// nothing changes.
#[test]
fn no_ticket_and_simple_clients_are_refused() {
    let cluster = secure_cluster("krb-refuse", "privacy");
    make_tmp(&cluster);
    let realm = cluster.realm().unwrap();
    let nobody = hafs_tests::ClientTarget {
        conf_dir: cluster.conf_dir().to_path_buf(),
        fs_uri: cluster.fs_uri(),
        env: realm.no_ticket_env(),
    };
    let java = java_fs(&nobody, &["-mkdir", "/tmp/intruder"]);
    assert!(!java.success(), "{java}");
    assert!(
        java.stderr
            .contains("Client cannot authenticate via:[TOKEN, KERBEROS]"),
        "{java}"
    );
    let ours = hafs_dfs(&nobody, &["-mkdir", "/tmp/intruder"]);
    assert!(!ours.success(), "{ours}");
    assert!(ours.stderr.contains("run kinit"), "{ours}");

    // A client configured for SIMPLE (claiming to be the superuser) is refused by the
    // server with Hadoop's message.
    let simple_conf = realm.kdc().dir().join("simple-conf");
    std::fs::create_dir_all(&simple_conf).unwrap();
    for f in ["core-site.xml", "hdfs-site.xml"] {
        let text = std::fs::read_to_string(cluster.conf_dir().join(f)).unwrap();
        std::fs::write(
            simple_conf.join(f),
            text.replace("<value>kerberos</value>", "<value>simple</value>"),
        )
        .unwrap();
    }
    let simple = hafs_tests::ClientTarget {
        conf_dir: simple_conf,
        fs_uri: cluster.fs_uri(),
        env: realm.no_ticket_env(),
    };
    let mut cmd_env = simple.env.clone();
    cmd_env.push(("HADOOP_USER_NAME".into(), "hdfs".into()));
    let simple_hdfs = hafs_tests::ClientTarget {
        env: cmd_env,
        ..simple.clone()
    };
    let java = java_fs(&simple_hdfs, &["-mkdir", "/tmp/intruder"]);
    assert!(!java.success(), "{java}");
    assert!(
        java.stderr
            .contains("SIMPLE authentication is not enabled.  Available:[TOKEN, KERBEROS]"),
        "{java}"
    );
    let ours = hafs_dfs(&simple_hdfs, &["-mkdir", "/tmp/intruder"]);
    assert!(!ours.success(), "{ours}");
    assert!(
        ours.stderr.contains("SIMPLE authentication is not enabled"),
        "{ours}"
    );

    // Nothing was created.
    let ls = java_fs(&cluster.as_user("hdfs"), &["-ls", "/tmp"]).ok();
    assert!(!ls.stdout.contains("intruder"), "{ls}");
}

/// The whole HA cluster secure: DataNode→NameNode, NameNode→JournalNode,
/// JournalNode→JournalNode, controller→NameNode and controller↔controller all
/// authenticate with their keytabs at privacy. kill -9 of the Active under a write load:
/// the other controller makes its NameNode Active, and every acknowledged file reads
/// back intact through Java and hdfs-native.
#[test]
fn a_secure_ha_cluster_fails_over_after_kill_9() {
    use hafs_tests::{assert_acked_intact, sleep_until, Backend, Writer};
    use std::time::{Duration, Instant};

    let mut c = MiniCluster::builder()
        .label("krb-ha")
        .namenodes(2)
        .journalnodes(3)
        .datanodes(3)
        .automatic_failover(Backend::ZooKeeper)
        .kerberos("privacy")
        .conf("dfs.replication", "3")
        // Administrators by group only (Hadoop's leading blank): bob is in analysts.
        .conf("dfs.cluster.administrators", " analysts")
        .conf(
            "hadoop.user.group.static.mapping.overrides",
            "bob=analysts;dr.who=;",
        )
        .start();
    assert_eq!(c.active_index(), Some(0), "nn1's controller made it Active");
    c.wait_for_state(1, "standby", Duration::from_secs(20));
    make_tmp(&c);
    java_fs(&c, &["-mkdir", "/tmp/before"]).ok();

    let target = c.client_target();
    let scratch = c.dir().join("scratch");
    let started = Instant::now();
    let writer = Writer::hafs(target.clone(), "/tmp/load", scratch);
    sleep_until(started + Duration::from_secs(3));
    c.kill_nn(0);
    let killed = Instant::now();
    let active = c.wait_for_new_active(&[0], Duration::from_secs(30));
    assert_eq!(active, 1);
    eprintln!(
        "secure: nn2 Active {:?} after nn1 was killed",
        killed.elapsed()
    );
    sleep_until(Instant::now() + Duration::from_secs(3));
    let report = writer.stop();
    report.assert_clean("the secure failover", 3);
    assert_acked_intact(&target, std::slice::from_ref(&report), "after the failover");

    // Both real clients carry on against the new Active with their tickets.
    let ls = java_fs(&c, &["-ls", "/tmp"]).ok();
    assert!(ls.stdout.contains("/tmp/before"), "{ls}");
    let out = python(
        &c,
        r#"
import os
from hdfs_native import Client
c = Client(os.environ["HAFS_FS_URI"])
with c.create("/tmp/after-failover") as f:
    f.write(b"still secure")
with c.read("/tmp/after-failover") as f:
    print(f.read().decode())
"#,
    )
    .ok();
    assert!(out.stdout.contains("still secure"), "{out}");

    // Only the controllers' own user and dfs.cluster.administrators may move the
    // Active: alice's graceful failover is refused by the controller; bob's goes, as a
    // member of the administrators' group.
    c.start_nn(0);
    c.wait_for_state(0, "standby", Duration::from_secs(30));
    let alice = hafs_tests::hafs_cmd(&c.as_user("alice"), &["haadmin", "-failover", "nn2", "nn1"]);
    assert!(!alice.success(), "{alice}");
    assert!(
        alice
            .stderr
            .contains("Disallowed RPC access from alice@HAFS.TEST")
            && alice
                .stderr
                .contains("Not listed in dfs.cluster.administrators"),
        "{alice}"
    );
    assert_eq!(c.ha_state(1), Ok("active"));
    // nn1's controller may not have seen its restarted NameNode healthy yet.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let bob = hafs_tests::hafs_cmd(&c.as_user("bob"), &["haadmin", "-failover", "nn2", "nn1"]);
        if bob.success() {
            break;
        }
        assert!(
            bob.stderr.contains("is not currently healthy") && Instant::now() < deadline,
            "{bob}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    c.wait_for_state(0, "active", Duration::from_secs(30));
    c.stop();
}
