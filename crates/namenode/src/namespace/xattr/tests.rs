//! Extended attributes: name parsing, flags, limits, who may see and change what, and
//! persistence through the edit log (replay) and the fsimage.

use super::super::tests::{create, mkdirs, new_ns, run_op, su};
use super::*;
use crate::namespace::NamespaceConfig;

fn user(name: &str, value: &[u8]) -> XAttr {
    XAttr::new(XAttrNamespace::User, name, Some(value))
}

const BOTH: XAttrSetFlags = XAttrSetFlags {
    create: true,
    replace: true,
};
const CREATE: XAttrSetFlags = XAttrSetFlags {
    create: true,
    replace: false,
};
const REPLACE: XAttrSetFlags = XAttrSetFlags {
    create: false,
    replace: true,
};

fn set(
    ns: &mut Namespace,
    c: &Caller,
    p: &str,
    x: XAttr,
    f: XAttrSetFlags,
) -> Result<(), NamespaceError> {
    run_op(ns, |ns| ns.plan_set_xattr(c, p, x, f)).map(drop)
}

fn remove(ns: &mut Namespace, c: &Caller, p: &str, x: XAttr) -> Result<(), NamespaceError> {
    run_op(ns, |ns| ns.plan_remove_xattr(c, p, x)).map(drop)
}

fn names(list: &[XAttr]) -> Vec<String> {
    let mut v: Vec<String> = list.iter().map(XAttr::prefixed_name).collect();
    v.sort();
    v
}

/// /home/alice (alice:users 0755) holding /home/alice/f (alice 0644), and /tmp
/// (hdfs 1777, sticky).
fn setup() -> Namespace {
    let mut ns = new_ns();
    let root = su();
    mkdirs(&mut ns, &root, "/home/alice").unwrap();
    mkdirs(&mut ns, &root, "/tmp").unwrap();
    run_op(&mut ns, |ns| ns.plan_set_permission(&root, "/tmp", 0o1777)).unwrap();
    create(&mut ns, &root, "/home/alice/f", "c1").unwrap();
    for p in ["/home/alice", "/home/alice/f"] {
        run_op(&mut ns, |ns| {
            ns.plan_set_owner(&root, p, Some("alice"), Some("users"))
        })
        .unwrap();
    }
    ns
}

#[test]
fn prefixed_names_parse_as_hadoops_client_does() {
    assert_eq!(
        parse_prefixed_name("user.color").unwrap(),
        (XAttrNamespace::User, "color")
    );
    // The prefix ignores case; the name keeps it; dots after the first belong to it.
    assert_eq!(
        parse_prefixed_name("TRUSTED.A.b").unwrap(),
        (XAttrNamespace::Trusted, "A.b")
    );
    assert_eq!(
        parse_prefixed_name("Raw.x").unwrap(),
        (XAttrNamespace::Raw, "x")
    );
    assert_eq!(
        parse_prefixed_name("security.s").unwrap().0,
        XAttrNamespace::Security
    );
    assert_eq!(
        parse_prefixed_name("sYstem.s").unwrap().0,
        XAttrNamespace::System
    );
    let prefix_msg = "An XAttr name must be prefixed with user/trusted/security/system/raw, \
                      followed by a '.'";
    for bad in ["nodot", "us.x", ".x", "other.x", "userx.y"] {
        let e = parse_prefixed_name(bad).unwrap_err();
        assert_eq!(e.to_string(), prefix_msg, "{bad}");
        assert_eq!(
            e.java_class(),
            "org.apache.hadoop.HadoopIllegalArgumentException"
        );
    }
    assert_eq!(
        parse_prefixed_name("user.").unwrap_err().to_string(),
        "XAttr name cannot be empty."
    );
}

#[test]
fn create_and_replace_flags_follow_hadoop() {
    let mut ns = setup();
    let a = Caller::new("alice", &["users"]);
    let f = "/home/alice/f";
    let e = set(&mut ns, &a, f, user("x", b"1"), REPLACE).unwrap_err();
    assert_eq!(
        e.to_string(),
        "XAttr: x does not exist. The CREATE flag must be specified."
    );
    assert_eq!(e.java_class(), "java.io.IOException");
    set(&mut ns, &a, f, user("x", b"1"), CREATE).unwrap();
    let e = set(&mut ns, &a, f, user("x", b"2"), CREATE).unwrap_err();
    assert_eq!(
        e.to_string(),
        "XAttr: x already exists. The REPLACE flag must be specified."
    );
    set(&mut ns, &a, f, user("x", b"2"), REPLACE).unwrap();
    let e = set(&mut ns, &a, f, user("x", b"3"), XAttrSetFlags::default()).unwrap_err();
    assert_eq!(e.to_string(), "A flag must be specified.");
    // Names are case-sensitive: X is another attribute.
    set(&mut ns, &a, f, user("X", b"big"), BOTH).unwrap();
    let got = ns.get_xattrs(&a, f, &[]).unwrap();
    assert_eq!(names(&got), ["user.X", "user.x"]);
    let x = ns
        .get_xattrs(&a, f, &[XAttr::new(XAttrNamespace::User, "x", None)])
        .unwrap();
    assert_eq!(x, [user("x", b"2")]);
    // No value is not an empty value; both round-trip.
    set(
        &mut ns,
        &a,
        f,
        XAttr::new(XAttrNamespace::User, "none", None),
        BOTH,
    )
    .unwrap();
    set(&mut ns, &a, f, user("empty", b""), BOTH).unwrap();
    let got = ns.list_xattrs(&a, f).unwrap();
    let none = got.iter().find(|x| &*x.name == "none").unwrap();
    assert_eq!(none.value, None);
    let empty = got.iter().find(|x| &*x.name == "empty").unwrap();
    assert_eq!(empty.value.as_deref(), Some(&b""[..]));
    // A binary value is kept byte for byte.
    let bin: Vec<u8> = (0..=255).collect();
    set(&mut ns, &a, f, user("bin", &bin), BOTH).unwrap();
    let got = ns
        .get_xattrs(&a, f, &[XAttr::new(XAttrNamespace::User, "bin", None)])
        .unwrap();
    assert_eq!(got[0].value.as_deref(), Some(&bin[..]));
}

#[test]
fn remove_and_missing_attributes() {
    let mut ns = setup();
    let a = Caller::new("alice", &["users"]);
    let f = "/home/alice/f";
    let e = remove(&mut ns, &a, f, user("x", b"")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "No matching attributes found for remove operation"
    );
    assert_eq!(e.java_class(), "java.io.IOException");
    set(&mut ns, &a, f, user("x", b"1"), BOTH).unwrap();
    set(&mut ns, &a, f, user("y", b"2"), BOTH).unwrap();
    remove(&mut ns, &a, f, XAttr::new(XAttrNamespace::User, "x", None)).unwrap();
    assert_eq!(names(&ns.list_xattrs(&a, f).unwrap()), ["user.y"]);
    let e = ns
        .get_xattrs(&a, f, &[XAttr::new(XAttrNamespace::User, "x", None)])
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "At least one of the attributes provided was not found."
    );
    remove(&mut ns, &a, f, XAttr::new(XAttrNamespace::User, "y", None)).unwrap();
    assert!(
        ns.xattrs.is_empty(),
        "the last attribute gone frees the entry"
    );
    let e = ns.list_xattrs(&a, "/home/alice/nope").unwrap_err();
    assert_eq!(e.java_class(), "java.io.FileNotFoundException");
}

#[test]
fn limits_count_user_visible_attributes_and_bound_the_size() {
    let mut ns = setup();
    ns.set_config(NamespaceConfig {
        xattrs: XAttrConfig {
            enabled: true,
            max_per_inode: 2,
            max_size: 10,
        },
        ..Default::default()
    });
    let root = su();
    let f = "/home/alice/f";
    set(&mut ns, &root, f, user("a", b"1"), BOTH).unwrap();
    set(
        &mut ns,
        &root,
        f,
        XAttr::new(XAttrNamespace::Trusted, "t", Some(b"1")),
        BOTH,
    )
    .unwrap();
    // Replacing one does not count it twice.
    set(&mut ns, &root, f, user("a", b"2"), BOTH).unwrap();
    let e = set(&mut ns, &root, f, user("b", b"1"), BOTH).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Cannot add additional XAttr to inode, would exceed limit of 2"
    );
    assert_eq!(e.java_class(), "java.io.IOException");
    // raw.* is not user-visible: not counted.
    set(
        &mut ns,
        &root,
        "/.reserved/raw/home/alice/f",
        XAttr::new(XAttrNamespace::Raw, "r", None),
        BOTH,
    )
    .unwrap();
    // Size: name bytes + value bytes, at most 10.
    set(&mut ns, &root, "/home/alice", user("12345", b"67890"), BOTH).unwrap();
    let e = set(
        &mut ns,
        &root,
        "/home/alice",
        user("12345", b"678901"),
        BOTH,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "The XAttr is too big. The maximum combined size of the name and value is 10, but \
         the total size is 11"
    );
    assert_eq!(
        e.java_class(),
        "org.apache.hadoop.HadoopIllegalArgumentException"
    );
    // Switched off: every call refused with Hadoop's words.
    ns.set_config(NamespaceConfig {
        xattrs: XAttrConfig {
            enabled: false,
            ..XAttrConfig::default()
        },
        ..Default::default()
    });
    let msg = "The XAttr operation has been rejected.  Support for XAttrs has been disabled \
               by setting dfs.namenode.xattrs.enabled to false.";
    assert_eq!(ns.list_xattrs(&root, f).unwrap_err().to_string(), msg);
    assert_eq!(
        set(&mut ns, &root, f, user("c", b""), BOTH)
            .unwrap_err()
            .to_string(),
        msg
    );
}

#[test]
fn namespaces_and_permissions_decide_who_sees_and_changes_what() {
    let mut ns = setup();
    let root = su();
    let alice = Caller::new("alice", &["users"]);
    let bob = Caller::new("bob", &["bob"]);
    let f = "/home/alice/f";
    set(&mut ns, &alice, f, user("u", b"1"), BOTH).unwrap();
    // user.*: READ to read, WRITE to change.
    assert_eq!(names(&ns.list_xattrs(&bob, f).unwrap()), ["user.u"]);
    let e = set(&mut ns, &bob, f, user("u", b"2"), BOTH).unwrap_err();
    assert_eq!(
        e.java_class(),
        "org.apache.hadoop.security.AccessControlException"
    );
    assert!(e.to_string().contains("user=bob, access=WRITE"), "{e}");
    let e = remove(&mut ns, &bob, f, user("u", b"")).unwrap_err();
    assert!(e.to_string().contains("access=WRITE"), "{e}");
    run_op(&mut ns, |ns| ns.plan_set_permission(&alice, f, 0o600)).unwrap();
    let e = ns.list_xattrs(&bob, f).unwrap_err();
    assert!(e.to_string().contains("user=bob, access=READ"), "{e}");
    let e = ns.get_xattrs(&bob, f, &[]).unwrap_err();
    assert!(e.to_string().contains("access=READ"), "{e}");
    // trusted.*: the superuser only, and invisible to others.
    let t = XAttr::new(XAttrNamespace::Trusted, "t", Some(b"s"));
    let e = set(&mut ns, &alice, f, t.clone(), BOTH).unwrap_err();
    assert_eq!(
        e.to_string(),
        "User doesn't have permission for xattr: trusted.t"
    );
    assert_eq!(
        e.java_class(),
        "org.apache.hadoop.security.AccessControlException"
    );
    set(&mut ns, &root, f, t.clone(), BOTH).unwrap();
    assert_eq!(names(&ns.list_xattrs(&alice, f).unwrap()), ["user.u"]);
    assert_eq!(
        names(&ns.list_xattrs(&root, f).unwrap()),
        ["trusted.t", "user.u"]
    );
    let e = ns
        .get_xattrs(&alice, f, std::slice::from_ref(&t))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "User doesn't have permission for xattr: trusted.t"
    );
    // system.* and security.*: not through the API, not even for the superuser.
    for x in [
        XAttr::new(XAttrNamespace::System, "s", None),
        XAttr::new(XAttrNamespace::Security, "s", None),
    ] {
        let e = set(&mut ns, &root, f, x.clone(), BOTH).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "User doesn't have permission for xattr: {}",
                x.prefixed_name()
            )
        );
    }
    // raw.*: only through /.reserved/raw, and changes there need the superuser.
    let r = XAttr::new(XAttrNamespace::Raw, "r", Some(b"v"));
    let e = set(&mut ns, &root, f, r.clone(), BOTH).unwrap_err();
    assert_eq!(
        e.to_string(),
        "User doesn't have permission for xattr: raw.r"
    );
    let raw = "/.reserved/raw/home/alice/f";
    let e = set(&mut ns, &alice, raw, r.clone(), BOTH).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Access denied for user alice. Superuser privilege is required"
    );
    set(&mut ns, &root, raw, r.clone(), BOTH).unwrap();
    assert_eq!(
        names(&ns.list_xattrs(&root, raw).unwrap()),
        ["raw.r", "trusted.t", "user.u"]
    );
    assert_eq!(
        names(&ns.list_xattrs(&root, f).unwrap()),
        ["trusted.t", "user.u"]
    );
    // The unreadable-by-superuser marker: no value, files only, never removed.
    let marker = XAttr::new(
        XAttrNamespace::Security,
        "hdfs.unreadable.by.superuser",
        None,
    );
    let e = set(
        &mut ns,
        &alice,
        f,
        XAttr::new(
            XAttrNamespace::Security,
            "hdfs.unreadable.by.superuser",
            Some(b"x"),
        ),
        BOTH,
    )
    .unwrap_err();
    assert!(e.to_string().contains("Values are not allowed"), "{e}");
    let e = set(&mut ns, &alice, "/home/alice", marker.clone(), BOTH).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Can only set 'security.hdfs.unreadable.by.superuser' on a file."
    );
    set(&mut ns, &alice, f, marker.clone(), BOTH).unwrap();
    let id = ns.get_file_info(&root, f).unwrap().unwrap().inode_id;
    assert!(ns.unreadable_by_superuser(id));
    let e = remove(&mut ns, &alice, f, marker).unwrap_err();
    assert_eq!(
        e.to_string(),
        "The xattr 'security.hdfs.unreadable.by.superuser' can not be deleted."
    );
}

#[test]
fn a_sticky_directory_takes_ownership_to_change_its_user_attributes() {
    let mut ns = setup();
    let alice = Caller::new("alice", &["users"]);
    // /tmp is 1777 and owned by hdfs: alice may write in it, but not its attributes.
    let e = set(&mut ns, &alice, "/tmp", user("x", b"1"), BOTH).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Permission denied. user=alice is not the owner of inode=/tmp"
    );
    set(&mut ns, &su(), "/tmp", user("x", b"1"), BOTH).unwrap();
}

#[test]
fn attributes_replay_and_survive_the_fsimage_and_go_with_their_inode() {
    let mut ns = setup();
    let root = su();
    let f = "/home/alice/f";
    let before = ns.clone();
    let mut ops = Vec::new();
    let mut step = |ns: &mut Namespace, op: EditOp| {
        ns.apply(&op).unwrap();
        ops.push(op);
    };
    let op = ns.plan_set_xattr(&root, f, user("a", b"1"), BOTH).unwrap();
    step(&mut ns, op);
    let op = ns
        .plan_set_xattr(&root, f, user("b", &[0, 255]), BOTH)
        .unwrap();
    step(&mut ns, op);
    let op = ns
        .plan_set_xattr(
            &root,
            "/home/alice",
            XAttr::new(XAttrNamespace::Trusted, "t", None),
            BOTH,
        )
        .unwrap();
    step(&mut ns, op);
    let op = ns.plan_remove_xattr(&root, f, user("a", b"")).unwrap();
    step(&mut ns, op);
    // Replay on the state before: the same attributes (a Standby tailing the log).
    let mut replayed = before;
    for op in &ops {
        replayed.apply(op).unwrap();
    }
    for p in [f, "/home/alice"] {
        assert_eq!(
            replayed.list_xattrs(&root, p).unwrap(),
            ns.list_xattrs(&root, p).unwrap()
        );
    }
    // Through the fsimage.
    let image = ns.save_image();
    let loaded = Namespace::load_image(NamespaceConfig::default(), &image).unwrap();
    assert_eq!(
        loaded.list_xattrs(&root, f).unwrap(),
        [user("b", &[0, 255])]
    );
    assert_eq!(
        loaded.list_xattrs(&root, "/home/alice").unwrap(),
        [XAttr::new(XAttrNamespace::Trusted, "t", None)]
    );
    // An inode's attributes go with it: renamed, they follow; deleted, they go.
    run_op(&mut ns, |ns| {
        ns.plan_rename(&root, f, "/home/alice/g", 5)
            .map(|p| match p {
                crate::namespace::Planned::Apply(op) => op,
                crate::namespace::Planned::Done(_) => unreachable!(),
            })
    })
    .unwrap();
    assert_eq!(
        names(&ns.list_xattrs(&root, "/home/alice/g").unwrap()),
        ["user.b"]
    );
    run_op(&mut ns, |ns| {
        ns.plan_delete(&root, "/home/alice", true, 6)
            .map(|p| match p {
                crate::namespace::Planned::Apply(op) => op,
                crate::namespace::Planned::Done(_) => unreachable!(),
            })
    })
    .unwrap();
    assert!(ns.xattrs.is_empty());
}

#[test]
fn a_replayed_op_with_an_unknown_namespace_is_refused() {
    let mut ns = setup();
    let op = EditOp {
        retry_cache: None,
        op: Some(Op::SetXattr(pb::SetXAttrOp {
            path: "/home/alice/f".into(),
            xattrs: vec![pb::XAttrEntry {
                namespace: 9,
                name: "x".into(),
                value: None,
            }],
        })),
    };
    let e = ns.apply(&op).unwrap_err();
    assert!(matches!(e, NamespaceError::Corrupt(_)), "{e}");
    assert!(ns.xattrs.is_empty());
}
