//! Delegation tokens end to end on a secure HA cluster: alice gets a token over Kerberos
//! with Hadoop's own `FileSystem.addDelegationTokens`; with only that token file and no
//! ticket, Java `hadoop fs` and hdfs-native work as alice (TOKEN/DIGEST-MD5), also after
//! a failover to the other NameNode; `hafs dfs` reads the token file too (the secret manager travels in the edit log); renew
//! is the renewer's, and once cancelled the token is refused by both clients.

use std::time::Duration;

use hafs_tests::{
    hafs_cmd, hafs_dfs, hdfs_tool, java_fs, python, run_java_class, ClientTarget, MiniCluster,
};

#[test]
fn a_token_fetched_over_kerberos_works_without_a_ticket_until_cancelled() {
    let c = MiniCluster::builder()
        .label("dt-e2e")
        .namenodes(2)
        .journalnodes(3)
        .datanodes(1)
        .kerberos("integrity")
        .start();
    c.transition_to_active(0);
    c.wait_for_state(1, "standby", Duration::from_secs(20));
    let hdfs = c.as_user("hdfs");
    java_fs(&hdfs, &["-mkdir", "-p", "/user/alice"]).ok();
    java_fs(&hdfs, &["-chown", "alice", "/user/alice"]).ok();

    let token_file = c.dir().join("alice.token");
    let token_path = token_file.display().to_string();
    // alice (with her ticket) names herself the renewer.
    let fetched = run_java_class(
        &c.as_user("alice"),
        "HafsFetchToken",
        &["fetch", &token_path, "alice"],
    )
    .ok();
    assert!(
        fetched
            .stdout
            .contains("FETCHED HDFS_DELEGATION_TOKEN ha-hdfs:"),
        "{fetched}"
    );

    // No ticket at all: only the token file.
    let realm = c.realm().unwrap();
    let mut env = realm.no_ticket_env();
    env.push(("HADOOP_TOKEN_FILE_LOCATION".into(), token_path.clone()));
    let token_only = ClientTarget {
        conf_dir: c.conf_dir().to_path_buf(),
        fs_uri: c.fs_uri(),
        env,
    };
    java_fs(&token_only, &["-mkdir", "/user/alice/by-token"]).ok();
    let ls = java_fs(&token_only, &["-ls", "/user/alice"]).ok();
    assert!(
        ls.stdout
            .lines()
            .any(|l| l.contains(" alice ") && l.ends_with("/user/alice/by-token")),
        "{ls}"
    );
    let native = r#"
import os
from hdfs_native import Client
c = Client(os.environ["HAFS_FS_URI"])
with c.create("/user/alice/native-by-token") as f:
    f.write(b"token")
print("owner", c.get_file_info("/user/alice/native-by-token").owner)
"#;
    let out = python(&token_only, native).ok();
    assert!(out.stdout.contains("owner alice"), "{out}");
    let ours = hafs_dfs(&token_only, &["-ls", "/user/alice"]).ok();
    assert!(
        ours.stdout.contains("/user/alice/native-by-token"),
        "{ours}"
    );

    // The other NameNode honours the token after a failover.
    c.failover(0, 1);
    let ls = java_fs(&token_only, &["-ls", "/user/alice"]).ok();
    assert!(ls.stdout.contains("/user/alice/native-by-token"), "{ls}");

    // bob may not renew alice's token; alice may.
    let bob = run_java_class(&c.as_user("bob"), "HafsFetchToken", &["renew", &token_path]);
    assert!(!bob.success(), "{bob}");
    assert!(bob.stderr.contains("non-matching renewer"), "{bob}");
    let renewed = run_java_class(
        &c.as_user("alice"),
        "HafsFetchToken",
        &["renew", &token_path],
    )
    .ok();
    assert!(renewed.stdout.contains("RENEWED "), "{renewed}");

    // Cancelled: both clients are refused, nothing is created.
    run_java_class(
        &c.as_user("alice"),
        "HafsFetchToken",
        &["cancel", &token_path],
    )
    .ok();
    let refused = java_fs(&token_only, &["-mkdir", "/user/alice/after-cancel"]);
    assert!(!refused.success(), "{refused}");
    let ours = hafs_dfs(&token_only, &["-mkdir", "/user/alice/hafs-after-cancel"]);
    assert!(!ours.success(), "{ours}");
    let out = python(
        &token_only,
        r#"
import os
from hdfs_native import Client
c = Client(os.environ["HAFS_FS_URI"])
try:
    c.mkdirs("/user/alice/native-after-cancel")
    print("CREATED")
except Exception as e:
    print("REFUSED", e)
"#,
    );
    assert!(out.stdout.contains("REFUSED"), "{out}");
    let ls = java_fs(&c.as_user("alice"), &["-ls", "/user/alice"]).ok();
    assert!(!ls.stdout.contains("after-cancel"), "{ls}");

    fetchdt_fetches_prints_renews_and_cancels(&c);
}

/// `hafs fetchdt` and Hadoop's `hdfs fetchdt` against the same NameNodes: each reads
/// the other's file, the token works for Java without a ticket, renew is the renewer's,
/// and a cancelled token is refused.
fn fetchdt_fetches_prints_renews_and_cancels(c: &MiniCluster) {
    let ours = c.dir().join("fetchdt-hafs.token");
    let theirs = c.dir().join("fetchdt-hadoop.token");
    let (ours_s, theirs_s) = (ours.display().to_string(), theirs.display().to_string());
    let alice = c.as_user("alice");
    hafs_cmd(&alice, &["fetchdt", "--renewer", "alice", &ours_s]).ok();
    hdfs_tool(&alice, &["fetchdt", "--renewer", "alice", &theirs_s]).ok();

    // Both tools print both files alike: one token each, alice's, for the nameservice.
    for file in [&ours_s, &theirs_s] {
        let a = hafs_cmd(&alice, &["fetchdt", "--print", file]).ok();
        let b = hdfs_tool(&alice, &["fetchdt", "--print", file]).ok();
        assert_eq!(
            a.stdout.trim(),
            b.stdout.trim(),
            "hafs and Hadoop print {file} alike"
        );
        let line = a.stdout.trim();
        assert!(
            line.starts_with("Token (HDFS_DELEGATION_TOKEN token ")
                && line.contains(" for alice with renewer alice) for ha-hdfs:"),
            "{a}"
        );
    }

    let realm = c.realm().unwrap();
    let mut env = realm.no_ticket_env();
    env.push(("HADOOP_TOKEN_FILE_LOCATION".into(), ours_s.clone()));
    let token_only = ClientTarget {
        conf_dir: c.conf_dir().to_path_buf(),
        fs_uri: c.fs_uri(),
        env,
    };
    java_fs(&token_only, &["-mkdir", "/user/alice/by-fetchdt"]).ok();

    let bob = hafs_cmd(&c.as_user("bob"), &["fetchdt", "--renew", &ours_s]);
    assert_eq!(bob.code(), Some(1), "{bob}");
    assert!(bob.stderr.contains("non-matching renewer"), "{bob}");
    hafs_cmd(&alice, &["fetchdt", "--renew", &ours_s]).ok();
    hafs_cmd(&alice, &["fetchdt", "--cancel", &ours_s]).ok();
    let refused = java_fs(&token_only, &["-mkdir", "/user/alice/after-fetchdt-cancel"]);
    assert!(!refused.success(), "{refused}");
    // Hadoop's tool cancels the token hafs's tool did not touch.
    hdfs_tool(&alice, &["fetchdt", "--cancel", &theirs_s]).ok();
    let usage = hafs_cmd(&alice, &["fetchdt", "--print", "--renew", &ours_s]);
    assert_eq!(usage.code(), Some(1), "{usage}");
    assert!(
        usage
            .stderr
            .contains("Only specify cancel, renew or print."),
        "{usage}"
    );
}
