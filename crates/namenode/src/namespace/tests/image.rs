use super::*;

fn sample() -> Namespace {
    let mut ns = new_ns();
    let c = su();
    mkdirs(&mut ns, &c, "/a/b/c").unwrap();
    create(&mut ns, &c, "/a/f", "client").unwrap();
    create(
        &mut ns,
        &c,
        "/a/b/a-rather-long-file-name-that-is-not-inline",
        "client",
    )
    .unwrap();
    let blocks = [BlockInfo {
        block_id: 5,
        gen_stamp: 9,
        num_bytes: 77,
    }];
    run_op(&mut ns, |ns| {
        ns.plan_close("client", "/a/f", 0, &blocks, 50)
    })
    .unwrap();
    run_op(&mut ns, |ns| ns.plan_set_quota(&c, "/a/b", 10, 1 << 30)).unwrap();
    run_op(&mut ns, |ns| {
        ns.plan_set_owner(&c, "/a/b", Some("alice"), Some("eng"))
    })
    .unwrap();
    ns
}

#[test]
fn image_round_trip_is_exact() {
    let ns = sample();
    let bytes = ns.save_image();
    let loaded = Namespace::load_image(NamespaceConfig::default(), &bytes).unwrap();
    loaded.check_invariants();
    assert_eq!(loaded.save_image(), bytes);
    assert_eq!(loaded.walk_all(), ns.walk_all());
    assert_eq!(loaded.last_inode_id(), ns.last_inode_id());
    assert_eq!(loaded.stats(), ns.stats());
    let id = ns
        .get_file_info(&su(), "/a/b/a-rather-long-file-name-that-is-not-inline")
        .unwrap()
        .unwrap()
        .inode_id;
    assert_eq!(loaded.under_construction(id), ns.under_construction(id));
    assert_eq!(
        loaded.content_summary(&su(), "/a/b").unwrap(),
        ns.content_summary(&su(), "/a/b").unwrap()
    );
    // The loaded namespace keeps allocating after the saved last id.
    let mut loaded = loaded;
    create(&mut loaded, &su(), "/new", "c").unwrap();
    assert_eq!(
        loaded
            .get_file_info(&su(), "/new")
            .unwrap()
            .unwrap()
            .inode_id,
        ns.last_inode_id() + 1
    );
}

#[test]
fn truncated_or_garbled_images_are_errors() {
    let bytes = sample().save_image();
    for cut in 0..bytes.len() {
        assert!(
            Namespace::load_image(NamespaceConfig::default(), &bytes[..cut]).is_err(),
            "cut at {cut}"
        );
    }
    let mut extra = bytes.clone();
    extra.push(0);
    assert!(Namespace::load_image(NamespaceConfig::default(), &extra).is_err());
    let mut rng = Rng(0x1234_5678);
    let mut loaded_ok = 0;
    for _ in 0..3000 {
        let mut b = bytes.clone();
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(b.len() as u64) as usize;
            b[i] ^= 1 << rng.below(8);
        }
        // Must never panic; anything that does load must be a consistent tree.
        if let Ok(ns) = Namespace::load_image(NamespaceConfig::default(), &b) {
            ns.check_invariants();
            loaded_ok += 1;
        }
    }
    assert!(loaded_ok < 3000);
    for _ in 0..500 {
        let len = rng.below(200) as usize;
        let junk: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let _ = Namespace::load_image(NamespaceConfig::default(), &junk);
    }
}

#[test]
fn hostile_records_are_rejected() {
    use hafs_proto::hafs as pb;
    use prost::Message;
    let header = |count: u64| pb::ImageHeader {
        layout_version: 1,
        last_inode_id: 16390,
        strings: vec!["hdfs".into(), "supergroup".into()],
        inode_count: count,
        ..Default::default()
    };
    let root = pb::ImageInode {
        id: 16385,
        is_dir: true,
        perm: 0o755,
        owner: 0,
        group: 1,
        ..Default::default()
    };
    let encode = |recs: &[pb::ImageInode], count: u64| {
        let mut out = Vec::new();
        header(count).encode_length_delimited(&mut out).unwrap();
        for r in recs {
            r.encode_length_delimited(&mut out).unwrap();
        }
        out
    };
    let load = |b: Vec<u8>| Namespace::load_image(NamespaceConfig::default(), &b);
    assert!(load(encode(std::slice::from_ref(&root), 1)).is_ok());
    let child = |id: u64, parent: u64, name: &str| pb::ImageInode {
        id,
        parent_id: parent,
        name: bytes::Bytes::copy_from_slice(name.as_bytes()),
        is_dir: true,
        perm: 0o755,
        ..Default::default()
    };
    // Child before its parent (would allow cycles), unknown parent, self parent.
    assert!(load(encode(
        &[
            root.clone(),
            child(16387, 16386, "x"),
            child(16386, 16385, "p")
        ],
        3
    ))
    .is_err());
    assert!(load(encode(&[root.clone(), child(16386, 16386, "x")], 2)).is_err());
    // Duplicate id, duplicate name, bad names, id above last_inode_id, bad string index.
    assert!(load(encode(
        &[
            root.clone(),
            child(16386, 16385, "a"),
            child(16386, 16385, "b")
        ],
        3
    ))
    .is_err());
    assert!(load(encode(
        &[
            root.clone(),
            child(16386, 16385, "a"),
            child(16387, 16385, "a")
        ],
        3
    ))
    .is_err());
    for bad in ["", ".", "..", "a/b", "a:b"] {
        assert!(
            load(encode(&[root.clone(), child(16386, 16385, bad)], 2)).is_err(),
            "{bad:?}"
        );
    }
    assert!(load(encode(&[root.clone(), child(99999, 16385, "a")], 2)).is_err());
    let mut c = child(16386, 16385, "a");
    c.owner = 7;
    assert!(load(encode(&[root.clone(), c], 2)).is_err());
    // Counts that do not match the records.
    assert!(load(encode(std::slice::from_ref(&root), 2)).is_err());
    assert!(load(encode(std::slice::from_ref(&root), u64::MAX)).is_err());
    // First record not the root; a file under a file.
    assert!(load(encode(&[child(16386, 0, "a")], 1)).is_err());
    let mut f = child(16386, 16385, "f");
    f.is_dir = false;
    assert!(load(encode(&[root.clone(), f, child(16387, 16386, "x")], 3)).is_err());
}
