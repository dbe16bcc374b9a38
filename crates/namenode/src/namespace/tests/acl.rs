//! ACLs in the namespace: the check, storage in the bits and the feature, chmod and
//! removal, inheritance, replay and the fsimage.

use super::*;

use crate::namespace::acl::tests::spec;

fn text(entries: &[AclEntry]) -> String {
    let v: Vec<String> = entries.iter().map(|e| e.to_string()).collect();
    v.join(",")
}

fn alice() -> Caller {
    Caller::new("alice", &["staff"])
}

/// /d (alice:staff 0750) holding a file /d/f (alice:staff 0640).
fn setup() -> Namespace {
    let mut ns = new_ns();
    let c = su();
    mkdirs(&mut ns, &c, "/d").unwrap();
    run_op(&mut ns, |ns| {
        ns.plan_set_owner(&c, "/d", Some("alice"), Some("staff"))
    })
    .unwrap();
    run_op(&mut ns, |ns| ns.plan_set_permission(&c, "/d", 0o750)).unwrap();
    run_op(&mut ns, |ns| {
        ns.plan_create(
            &alice(),
            "/d/f",
            0o640,
            "c",
            "h",
            false,
            false,
            1,
            1 << 20,
            5,
        )
    })
    .unwrap();
    ns
}

fn status(ns: &Namespace, p: &str) -> FileStatus {
    ns.get_file_info(&su(), p).unwrap().unwrap()
}

fn can(ns: &Namespace, c: &Caller, p: &str, a: Access) -> Result<(), NamespaceError> {
    let res = ns.resolve(c, p, DirOp::Other)?;
    ns.check_permission(c, &res, None, None, Some(a), None)
}

#[test]
fn named_user_entry_grants_and_the_mask_limits_it() {
    let mut ns = setup();
    let bob = Caller::new("bob", &["users"]);
    assert!(can(&ns, &bob, "/d", Access::READ_EXECUTE).is_err());
    run_op(&mut ns, |ns| {
        ns.plan_modify_acl_entries(&alice(), "/d", spec("user:bob:r-x"))
    })
    .unwrap();
    let st = status(&ns, "/d");
    assert!(st.has_acl);
    // The group bits show the mask (union of group and named entries: r-x).
    assert_eq!(st.permission, 0o750);
    can(&ns, &bob, "/d", Access::READ_EXECUTE).unwrap();
    // The mask (as chmod g-bits) takes it away again, and the denial says '+'.
    run_op(&mut ns, |ns| ns.plan_set_permission(&alice(), "/d", 0o700)).unwrap();
    let e = can(&ns, &bob, "/d", Access::READ).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Permission denied: user=bob, access=READ, inode=\"/d\":alice:staff:drwx------+"
    );
    let acl = ns.get_acl_status(&su(), "/d").unwrap();
    assert_eq!(text(&acl.entries), "user:bob:r-x,group::r-x");
    assert_eq!(acl.permission, 0o700);
    // A named user that matched but was denied does not fall through to other.
    run_op(&mut ns, |ns| ns.plan_set_permission(&alice(), "/d", 0o705)).unwrap();
    assert!(can(&ns, &bob, "/d", Access::READ).is_err());
    let carol = Caller::new("carol", &[]);
    can(&ns, &carol, "/d", Access::READ).unwrap();
}

#[test]
fn any_matching_group_entry_grants() {
    let mut ns = setup();
    run_op(&mut ns, |ns| {
        ns.plan_set_acl(
            &alice(),
            "/d",
            spec("user::rwx,group::---,group:eng:r-x,group:ops:---,other::---"),
        )
    })
    .unwrap();
    // Mask computed: r-x.
    assert_eq!(status(&ns, "/d").permission, 0o750);
    let both = Caller::new("dave", &["ops", "eng"]);
    can(&ns, &both, "/d", Access::READ_EXECUTE).unwrap();
    let ops = Caller::new("erin", &["ops"]);
    let e = can(&ns, &ops, "/d", Access::EXECUTE).unwrap_err();
    assert!(e.to_string().ends_with("drwxr-x---+"), "{e}");
    // The owner goes by the owner bits only.
    can(&ns, &alice(), "/d", Access::ALL).unwrap();
}

#[test]
fn removing_the_acl_restores_the_group_bits() {
    let mut ns = setup();
    run_op(&mut ns, |ns| {
        ns.plan_modify_acl_entries(&alice(), "/d/f", spec("user:bob:rwx"))
    })
    .unwrap();
    // Mask rwx (group r-- | bob rwx) in the group bits.
    assert_eq!(status(&ns, "/d/f").permission, 0o670);
    run_op(&mut ns, |ns| ns.plan_remove_acl(&alice(), "/d/f")).unwrap();
    let st = status(&ns, "/d/f");
    assert_eq!((st.permission, st.has_acl), (0o640, false));
    assert_eq!(ns.acls.len(), 0);
    assert_eq!(ns.acls.distinct(), 0);
}

#[test]
fn refusals_are_hadoops() {
    let mut ns = setup();
    let bob = Caller::new("bob", &["staff"]);
    let e = ns
        .plan_modify_acl_entries(&bob, "/d/f", spec("user:bob:rwx"))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Permission denied. user=bob is not the owner of inode=/d/f"
    );
    let e = ns
        .plan_modify_acl_entries(&alice(), "/d/f", spec("default:user:bob:rwx"))
        .unwrap_err();
    assert_eq!(
        e.java_class(),
        "org.apache.hadoop.hdfs.protocol.AclException"
    );
    assert_eq!(
        e.to_string(),
        "Invalid ACL: only directories may have a default ACL."
    );
    ns.set_config(NamespaceConfig {
        acls_enabled: false,
        ..Default::default()
    });
    for e in [
        ns.get_acl_status(&su(), "/d").unwrap_err(),
        ns.plan_remove_acl(&su(), "/d").unwrap_err(),
    ] {
        assert_eq!(
            e.java_class(),
            "org.apache.hadoop.hdfs.protocol.AclException"
        );
        assert_eq!(
            e.to_string(),
            "The ACL operation has been rejected.  Support for ACLs has been disabled by \
             setting dfs.namenode.acls.enabled to false."
        );
    }
}

#[test]
fn default_acl_is_inherited_by_new_files_and_directories() {
    let mut ns = setup();
    run_op(&mut ns, |ns| {
        ns.plan_modify_acl_entries(
            &alice(),
            "/d",
            spec("user:bob:--x,default:user:bob:rwx,default:other::r-x"),
        )
    })
    .unwrap();
    let acl = ns.get_acl_status(&su(), "/d").unwrap();
    assert_eq!(
        text(&acl.entries),
        "user:bob:--x,group::r-x,default:user::rwx,default:user:bob:rwx,default:group::r-x,\
         default:mask::rwx,default:other::r-x"
    );
    // The mask (r-x | --x) leaves the bits as they were.
    assert_eq!(status(&ns, "/d").permission, 0o750);
    // The client sent 0666 unmasked, 0644 masked: under a default ACL the unmasked
    // mode is used, and the default ACL filters it.
    let mode = ns.create_mode("/d/g", 0o644, Some(0o666));
    assert_eq!(mode, 0o666);
    assert_eq!(ns.create_mode("/other", 0o644, Some(0o666)), 0o644);
    run_op(&mut ns, |ns| {
        ns.plan_create(
            &alice(),
            "/d/g",
            mode,
            "c",
            "h",
            false,
            false,
            1,
            1 << 20,
            5,
        )
    })
    .unwrap();
    let st = status(&ns, "/d/g");
    // owner rwx & rw- = rw-, mask rwx & rw- = rw-, other r-x & rw- = r--.
    assert_eq!((st.permission, st.has_acl), (0o664, true));
    assert_eq!(
        text(&ns.get_acl_status(&su(), "/d/g").unwrap().entries),
        "user:bob:rwx,group::r-x"
    );
    let bob = Caller::new("bob", &[]);
    can(&ns, &bob, "/d/g", Access(6)).unwrap();
    // Effective: bob rwx masked by rw- cannot execute.
    assert!(can(&ns, &bob, "/d/g", Access::EXECUTE).is_err());
    // A new directory (mkdirs -p: the ancestor too) gets the access ACL and the
    // default ACL.
    run(&mut ns, |ns| {
        ns.plan_mkdirs_with_unmasked(&alice(), "/d/s/t", 0o755, Some(0o777), true, 6)
    })
    .unwrap();
    for p in ["/d/s", "/d/s/t"] {
        let acl = ns.get_acl_status(&su(), p).unwrap();
        assert_eq!(
            text(&acl.entries),
            "user:bob:rwx,group::r-x,default:user::rwx,default:user:bob:rwx,\
             default:group::r-x,default:mask::rwx,default:other::r-x",
            "{p}"
        );
    }
    // /d/s/t from 0777: mask rwx, other r-x. /d/s (an ancestor from 0755 | u+wx):
    // mask r-x.
    assert_eq!(status(&ns, "/d/s/t").permission, 0o775);
    assert_eq!(status(&ns, "/d/s").permission, 0o755);
    // Every inode under /d shares one stored feature per distinct ACL.
    assert_eq!(ns.acls.len(), 4);
    assert_eq!(ns.acls.distinct(), 3);
    // Deleting the subtree drops its features.
    run(&mut ns, |ns| ns.plan_delete(&alice(), "/d/s", true, 7)).unwrap();
    assert_eq!((ns.acls.len(), ns.acls.distinct()), (2, 2));
    // Removing the default ACL: new children get plain modes again.
    run_op(&mut ns, |ns| ns.plan_remove_default_acl(&alice(), "/d")).unwrap();
    assert_eq!(
        text(&ns.get_acl_status(&su(), "/d").unwrap().entries),
        "user:bob:--x,group::r-x"
    );
    assert_eq!(ns.create_mode("/d/h", 0o644, Some(0o666)), 0o644);
}

#[test]
fn replay_and_the_image_keep_acls() {
    let mut ns = setup();
    let mut ops = Vec::new();
    let mut step = |ns: &mut Namespace, op: EditOp| {
        ns.apply(&op).unwrap();
        ops.push(op);
    };
    let op = ns
        .plan_set_acl(
            &alice(),
            "/d",
            spec("user::rwx,user:bob:r-x,group::r-x,other::---,default:group:eng:rwx"),
        )
        .unwrap();
    step(&mut ns, op);
    let op = ns
        .plan_create(
            &alice(),
            "/d/n",
            0o600,
            "c",
            "h",
            false,
            false,
            1,
            1 << 20,
            5,
        )
        .unwrap();
    step(&mut ns, op);
    let op = ns
        .plan_remove_acl_entries(&alice(), "/d/f", spec("user:nobody:"))
        .unwrap();
    step(&mut ns, op);
    let op = ns.plan_remove_acl(&alice(), "/d/n").unwrap();
    step(&mut ns, op);
    // A replica that replays the same ops from the same start agrees byte for byte.
    let mut replica = setup();
    for op in &ops {
        replica.apply(op).unwrap();
    }
    let image = ns.save_image();
    assert_eq!(replica.save_image(), image);
    let loaded = Namespace::load_image(NamespaceConfig::default(), &image).unwrap();
    assert_eq!(loaded.save_image(), image);
    assert_eq!(
        loaded.get_acl_status(&su(), "/d").unwrap(),
        ns.get_acl_status(&su(), "/d").unwrap()
    );
    assert!(status(&loaded, "/d").has_acl && !status(&loaded, "/d/n").has_acl);
    let bob = Caller::new("bob", &[]);
    can(&loaded, &bob, "/d", Access::READ_EXECUTE).unwrap();
    loaded.check_invariants();
}

#[test]
fn hostile_image_acls_are_refused() {
    use hafs_proto::hafs as pb;
    use prost::Message;
    let mut ns = setup();
    run_op(&mut ns, |ns| {
        ns.plan_modify_acl_entries(&alice(), "/d", spec("user:bob:r-x"))
    })
    .unwrap();
    let image = ns.save_image();
    // Re-encode the image with the /d record's ACL replaced.
    let patch = |acl: pb::ImageAcl| -> Vec<u8> {
        let mut buf = &image[..];
        let mut header = pb::ImageHeader::decode_length_delimited(&mut buf).unwrap();
        header.sections.clear();
        let mut out = Vec::new();
        header.encode_length_delimited(&mut out).unwrap();
        while !buf.is_empty() {
            let mut rec = pb::ImageInode::decode_length_delimited(&mut buf).unwrap();
            if rec.acl.is_some() {
                rec.acl = Some(acl.clone());
            }
            rec.encode_length_delimited(&mut out).unwrap();
        }
        out
    };
    let entry = |scope, kind, perm, name: &str| pb::AclEntry {
        scope,
        r#type: kind,
        perm,
        name: name.into(),
    };
    let load = |b: Vec<u8>| Namespace::load_image(NamespaceConfig::default(), &b);
    let ok = pb::ImageAcl {
        entries: vec![entry(0, 0, 5, "bob"), entry(0, 1, 5, "")],
    };
    assert!(load(patch(ok)).is_ok());
    for bad in [
        vec![],
        vec![entry(0, 1, 5, ""), entry(0, 0, 5, "bob")],
        vec![entry(0, 2, 5, "")],
        vec![entry(0, 3, 5, "x")],
        vec![entry(2, 1, 5, "")],
        vec![entry(0, 1, 9, "")],
        vec![entry(0, 1, 5, ""), entry(1, 0, 7, "")],
    ] {
        let e = load(patch(pb::ImageAcl {
            entries: bad.clone(),
        }));
        assert!(e.is_err(), "{bad:?}");
    }
}
