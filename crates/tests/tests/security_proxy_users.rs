//! Proxy users on a secure cluster (`hadoop.proxyuser.<user>.{users,groups,hosts}`): a
//! Kerberos user may act for another only as those keys allow, with the real clients'
//! own switch (`HADOOP_PROXY_USER`, read by Java's shell and by `hafs dfs`). Every
//! refused attempt leaves the namespace as it was.

use hafs_tests::{hafs_cmd, hafs_dfs, hdfs_tool, java_fs, ClientTarget, MiniCluster};

/// alice may act for members of `analysts` (bob is one, by the static group mapping)
/// from loopback; bob may act for alice, but only from an address we never use.
fn cluster() -> MiniCluster {
    MiniCluster::builder()
        .label("krb-proxy")
        .kerberos("integrity")
        .datanodes(1)
        .conf("hadoop.proxyuser.alice.groups", "analysts")
        .conf("hadoop.proxyuser.alice.hosts", "127.0.0.0/8")
        .conf("hadoop.proxyuser.bob.users", "alice")
        .conf("hadoop.proxyuser.bob.hosts", "192.0.2.1")
        .conf(
            "hadoop.user.group.static.mapping.overrides",
            "bob=analysts;dr.who=;",
        )
        .start()
}

fn acting_for(cluster: &MiniCluster, real: &str, effective: &str) -> ClientTarget {
    let mut t = cluster.as_user(real);
    t.env
        .push(("HADOOP_PROXY_USER".to_string(), effective.to_string()));
    t
}

/// The listing of /tmp as the superuser sees it: what a refused attempt must not change.
fn tmp_listing(cluster: &MiniCluster) -> String {
    java_fs(&cluster.as_user("hdfs"), &["-ls", "-R", "/tmp"])
        .ok()
        .stdout
}

#[test]
fn proxy_users_act_only_as_hadoop_proxyuser_allows() {
    let cluster = cluster();
    let hdfs = cluster.as_user("hdfs");
    java_fs(&hdfs, &["-mkdir", "-p", "/tmp"]).ok();
    java_fs(&hdfs, &["-chmod", "1777", "/tmp"]).ok();

    // Allowed: alice acts for bob (a member of analysts); the files are bob's.
    let alice_as_bob = acting_for(&cluster, "alice", "bob");
    java_fs(&alice_as_bob, &["-mkdir", "/tmp/by-java"]).ok();
    hafs_dfs(&alice_as_bob, &["-mkdir", "/tmp/by-hafs"]).ok();
    let ls = java_fs(&hdfs, &["-ls", "/tmp"]).ok();
    for dir in ["/tmp/by-java", "/tmp/by-hafs"] {
        assert!(
            ls.stdout
                .lines()
                .any(|l| l.contains(" bob ") && l.ends_with(dir)),
            "{dir} should be bob's: {ls}"
        );
    }
    let before = tmp_listing(&cluster);

    // Refused: hdfs is not in analysts; alice may not become the superuser.
    let alice_as_hdfs = acting_for(&cluster, "alice", "hdfs");
    for out in [
        java_fs(&alice_as_hdfs, &["-mkdir", "/tmp/escalated"]),
        hafs_dfs(&alice_as_hdfs, &["-mkdir", "/tmp/escalated"]),
    ] {
        assert!(!out.success(), "{out}");
        assert!(
            out.stderr
                .contains("User: alice@HAFS.TEST is not allowed to impersonate hdfs"),
            "{out}"
        );
    }

    // Refused: bob may act for alice, but not from here.
    let bob_as_alice = acting_for(&cluster, "bob", "alice");
    for out in [
        java_fs(&bob_as_alice, &["-mkdir", "/tmp/from-elsewhere"]),
        hafs_dfs(&bob_as_alice, &["-mkdir", "/tmp/from-elsewhere"]),
    ] {
        assert!(!out.success(), "{out}");
        assert!(
            out.stderr.contains(
                "Unauthorized connection for super-user: bob@HAFS.TEST from IP 127.0.0.1"
            ),
            "{out}"
        );
    }

    // Refused: hdfs has no hadoop.proxyuser keys at all, so even the superuser's
    // principal may impersonate nobody.
    let hdfs_as_alice = acting_for(&cluster, "hdfs", "alice");
    let out = java_fs(&hdfs_as_alice, &["-mkdir", "/tmp/by-superuser"]);
    assert!(!out.success(), "{out}");
    assert!(
        out.stderr
            .contains("User: hdfs@HAFS.TEST is not allowed to impersonate alice"),
        "{out}"
    );

    assert_eq!(
        tmp_listing(&cluster),
        before,
        "a refused proxy changed /tmp"
    );

    refresh_changes_the_rules_without_a_restart(&cluster);
}

/// `dfsadmin -refreshSuperUserGroupsConfiguration` and `-refreshUserToGroupsMappings`
/// (hafs's and Hadoop's own DFSAdmin) make the NameNode re-read the site files: the
/// rules change for the next connection, no restart. Only the superuser may ask.
fn refresh_changes_the_rules_without_a_restart(cluster: &MiniCluster) {
    // The site file the cluster wrote the proxy-user keys into.
    let core_site = ["core-site.xml", "hdfs-site.xml"]
        .iter()
        .map(|f| cluster.nn_conf_dir(0).join(f))
        .find(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .contains("hadoop.proxyuser.bob.hosts")
        })
        .expect("a site file with the proxy-user keys");
    let original = std::fs::read_to_string(&core_site).unwrap();
    assert_eq!(original.matches("192.0.2.1").count(), 1, "{original}");
    // bob may now act for alice from loopback: the file says so, the NameNode not yet.
    std::fs::write(&core_site, original.replace("192.0.2.1", "127.0.0.1")).unwrap();
    let bob_as_alice = acting_for(cluster, "bob", "alice");
    let out = hafs_dfs(&bob_as_alice, &["-mkdir", "/tmp/after-refresh"]);
    assert!(
        out.stderr
            .contains("Unauthorized connection for super-user"),
        "{out}"
    );

    let refresh = ["dfsadmin", "-refreshSuperUserGroupsConfiguration"];
    let alice = hafs_cmd(&cluster.as_user("alice"), &refresh);
    assert_eq!(alice.code(), Some(255), "{alice}");
    assert!(
        alice.stderr.contains("Superuser privilege is required"),
        "{alice}"
    );
    let hdfs = hafs_cmd(&cluster.as_user("hdfs"), &refresh);
    assert!(hdfs.success(), "{hdfs}");
    assert_eq!(
        hdfs.stdout.trim(),
        "Refresh super user groups configuration successful"
    );
    hafs_dfs(&bob_as_alice, &["-mkdir", "/tmp/after-refresh"]).ok();
    let ls = java_fs(
        &cluster.as_user("hdfs"),
        &["-ls", "-d", "/tmp/after-refresh"],
    )
    .ok();
    assert!(ls.stdout.contains(" alice "), "made as alice: {ls}");

    // Hadoop's own DFSAdmin puts the old rule back; bob is refused again.
    std::fs::write(&core_site, &original).unwrap();
    let java = hdfs_tool(&cluster.as_user("hdfs"), &refresh);
    assert!(java.success(), "{java}");
    assert!(
        java.stdout
            .contains("Refresh super user groups configuration successful"),
        "{java}"
    );
    let out = java_fs(&bob_as_alice, &["-mkdir", "/tmp/refused-again"]);
    assert!(
        out.stderr
            .contains("Unauthorized connection for super-user"),
        "{out}"
    );

    // Group mappings: bob leaves analysts in the file; after the refresh alice may no
    // longer act for him.
    std::fs::write(&core_site, original.replace("bob=analysts;", "bob=;")).unwrap();
    let java = hdfs_tool(
        &cluster.as_user("hdfs"),
        &["dfsadmin", "-refreshUserToGroupsMappings"],
    );
    assert!(java.success(), "{java}");
    assert!(
        java.stdout
            .contains("Refresh user to groups mapping successful"),
        "{java}"
    );
    let alice_as_bob = acting_for(cluster, "alice", "bob");
    let out = hafs_dfs(&alice_as_bob, &["-mkdir", "/tmp/no-longer"]);
    assert!(
        out.stderr
            .contains("User: alice@HAFS.TEST is not allowed to impersonate bob"),
        "{out}"
    );
    std::fs::write(&core_site, &original).unwrap();
}
