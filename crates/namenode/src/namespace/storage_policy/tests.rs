//! Storage policies on inodes: set, unset, inheritance, Hadoop's refusals, and
//! persistence through the edit log (replay), the fsimage and deletes.

use super::super::tests::{create, mkdirs, new_ns, run_op, su};
use super::*;
use crate::namespace::NamespaceConfig;

fn set(ns: &mut Namespace, c: &Caller, p: &str, name: Option<&str>) -> Result<(), NamespaceError> {
    run_op(ns, |ns| ns.plan_set_storage_policy(c, p, name)).map(drop)
}

fn policy_name(ns: &Namespace, p: &str) -> &'static str {
    ns.get_storage_policy(&su(), p).unwrap().name
}

fn status_policy(ns: &Namespace, p: &str) -> u8 {
    ns.get_file_info(&su(), p).unwrap().unwrap().storage_policy
}

/// /cold/sub/f and /plain/g.
fn setup() -> Namespace {
    let mut ns = new_ns();
    let root = su();
    mkdirs(&mut ns, &root, "/cold/sub").unwrap();
    mkdirs(&mut ns, &root, "/plain").unwrap();
    create(&mut ns, &root, "/cold/sub/f", "c1").unwrap();
    create(&mut ns, &root, "/plain/g", "c1").unwrap();
    ns
}

#[test]
fn set_inherit_and_unset() {
    let mut ns = setup();
    let root = su();
    // Nothing set anywhere: the default, HOT, and "unspecified" in the file status.
    assert_eq!(policy_name(&ns, "/cold/sub/f"), "HOT");
    assert_eq!(status_policy(&ns, "/cold/sub/f"), 0);
    set(&mut ns, &root, "/cold", Some("cold")).unwrap();
    assert_eq!(policy_name(&ns, "/cold/sub/f"), "COLD");
    assert_eq!(status_policy(&ns, "/cold/sub"), 2);
    assert_eq!(status_policy(&ns, "/cold/sub/f"), 2);
    assert_eq!(status_policy(&ns, "/plain/g"), 0);
    // The nearest policy wins.
    set(&mut ns, &root, "/cold/sub/f", Some("ALL_SSD")).unwrap();
    assert_eq!(status_policy(&ns, "/cold/sub/f"), 12);
    assert_eq!(ns.storage_policy_of_path("/cold/sub/f"), 12);
    let files = ns.file_storage_policies();
    assert_eq!(files.len(), 1);
    assert_eq!(files.values().copied().collect::<Vec<_>>(), [12]);
    set(&mut ns, &root, "/cold/sub/f", None).unwrap();
    assert_eq!(status_policy(&ns, "/cold/sub/f"), 2);
    set(&mut ns, &root, "/cold", None).unwrap();
    assert_eq!(status_policy(&ns, "/cold/sub/f"), 0);
    assert!(ns.storage_policies.is_empty());
}

#[test]
fn refusals_as_hadoop_words_them() {
    let mut ns = setup();
    let root = su();
    let e = set(&mut ns, &root, "/cold", Some("SILVER")).unwrap_err();
    assert_eq!(
        e.java_class(),
        "org.apache.hadoop.HadoopIllegalArgumentException"
    );
    assert_eq!(
        e.to_string(),
        "Cannot find a block policy with the name SILVER"
    );
    let e = set(&mut ns, &root, "/nope", Some("HOT")).unwrap_err();
    assert_eq!(e.java_class(), "java.io.FileNotFoundException");
    assert_eq!(e.to_string(), "File/Directory does not exist: /nope");
    let e = ns.get_storage_policy(&root, "/nope").unwrap_err();
    assert_eq!(e.to_string(), "File/Directory does not exist: /nope");
    // LAZY_PERSIST only at creation: never set on an existing file.
    let e = set(&mut ns, &root, "/plain/g", Some("LAZY_PERSIST")).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("Policy BlockStoragePolicy{LAZY_PERSIST:15")
            && e.to_string()
                .ends_with("cannot be set after file creation."),
        "{e}"
    );
    // Directories take it (their new files inherit it).
    set(&mut ns, &root, "/plain", Some("LAZY_PERSIST")).unwrap();
    // WRITE access is needed.
    let bob = Caller::new("bob", &["bob"]);
    let e = set(&mut ns, &bob, "/cold", Some("HOT")).unwrap_err();
    assert_eq!(
        e.java_class(),
        "org.apache.hadoop.security.AccessControlException"
    );
    // dfs.storage.policy.enabled=false.
    let mut off = Namespace::new(
        NamespaceConfig {
            storage_policy_enabled: false,
            ..NamespaceConfig::default()
        },
        "hdfs",
        "supergroup",
        1000,
    );
    mkdirs(&mut off, &root, "/d").unwrap();
    let e = set(&mut off, &root, "/d", Some("HOT")).unwrap_err();
    assert_eq!(e.java_class(), "java.io.IOException");
    assert_eq!(
        e.to_string(),
        "Failed to set storage policy since dfs.storage.policy.enabled is set to false."
    );
    let e = set(&mut off, &root, "/d", None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Failed to unset storage policy since dfs.storage.policy.enabled is set to false."
    );
}

#[test]
fn replay_image_and_delete() {
    let mut ns = setup();
    let root = su();
    let before = ns.clone();
    let mut ops = Vec::new();
    for (p, name) in [
        ("/cold", Some("COLD")),
        ("/plain/g", Some("ONE_SSD")),
        ("/cold/sub", Some("WARM")),
        ("/cold/sub", None),
    ] {
        let op = ns.plan_set_storage_policy(&root, p, name).unwrap();
        ns.apply(&op).unwrap();
        ops.push(op);
    }
    // A Standby replaying the same ops ends with the same policies.
    let mut replayed = before;
    for op in &ops {
        replayed.apply(op).unwrap();
    }
    assert_eq!(replayed.storage_policies, ns.storage_policies);
    // Through the fsimage.
    let loaded = Namespace::load_image(NamespaceConfig::default(), &ns.save_image()).unwrap();
    assert_eq!(loaded.storage_policies, ns.storage_policies);
    assert_eq!(status_policy(&loaded, "/cold/sub/f"), 2);
    assert_eq!(status_policy(&loaded, "/plain/g"), 10);
    // An op naming an unknown policy is a corrupt log, not a panic.
    let bad = EditOp {
        retry_cache: None,
        op: Some(Op::SetStoragePolicy(pb::SetStoragePolicyOp {
            path: "/cold".into(),
            policy_id: 300,
        })),
    };
    assert!(matches!(ns.apply(&bad), Err(NamespaceError::Corrupt(_))));
    // A deleted inode takes its policy with it.
    super::super::tests::run(&mut ns, |ns| ns.plan_delete(&root, "/cold", true, 2000)).unwrap();
    assert!(ns.get_file_info(&root, "/cold").unwrap().is_none());
    assert_eq!(ns.storage_policies.len(), 1);
}
