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
    run_op(&mut ns, |ns| {
        ns.plan_set_quota(&c, "/a/b", 10, 1 << 30, None)
    })
    .unwrap();
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
    let mut rng = Rng::new(0x1234_5678);
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
        let junk: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
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

/// A namespace of several sections whose pre-order is not id order: directories
/// renamed under others, files deleted (ids with holes), some files left open.
fn many_sections() -> Namespace {
    let mut ns = new_ns();
    let c = su();
    for d in 0..40 {
        mkdirs(&mut ns, &c, &format!("/d{d:02}")).unwrap();
    }
    for i in 0..(3 * super::super::image::SECTION_INODES + 5000) {
        let p = format!("/d{:02}/f{i:06}", i % 40);
        create(&mut ns, &c, &p, "client").unwrap();
        let id = ns.get_file_info(&c, &p).unwrap().unwrap().inode_id;
        if i % 3 != 0 {
            run_op(&mut ns, |ns| ns.plan_close("client", &p, id, &[], 4000)).unwrap();
        }
        if i % 7 == 0 {
            run(&mut ns, |ns| ns.plan_delete(&c, &p, false, 5000)).unwrap();
        }
    }
    // Older directories moved under newer ones: children before parents in id order.
    for d in 0..10 {
        run(&mut ns, |ns| {
            ns.plan_rename(
                &c,
                &format!("/d{d:02}"),
                &format!("/d{:02}/moved{d}", 39 - d),
                6000,
            )
        })
        .unwrap();
    }
    ns
}

fn header_of(image: &[u8]) -> (hafs_proto::hafs::ImageHeader, usize) {
    use prost::Message;
    let mut buf = image;
    let len = prost::encoding::decode_varint(&mut buf).unwrap() as usize;
    let header = hafs_proto::hafs::ImageHeader::decode(&buf[..len]).unwrap();
    (header, image.len() - buf.len() + len)
}

fn with_header(image: &[u8], header: &hafs_proto::hafs::ImageHeader) -> Vec<u8> {
    use prost::Message;
    let (_, records_at) = header_of(image);
    let mut out = Vec::new();
    header.encode_length_delimited(&mut out).unwrap();
    out.extend_from_slice(&image[records_at..]);
    out
}

#[test]
fn a_namespace_of_several_sections_loads_exactly_and_by_id() {
    let ns = many_sections();
    let bytes = ns.save_image();
    let (header, _) = header_of(&bytes);
    assert!(
        header.sections.len() >= 3,
        "{} sections",
        header.sections.len()
    );
    assert_eq!(
        header.sections.iter().map(|s| s.inode_count).sum::<u64>(),
        header.inode_count
    );
    let loaded = Namespace::load_image(NamespaceConfig::default(), &bytes).unwrap();
    loaded.check_invariants();
    assert_eq!(loaded.save_image(), bytes);
    assert_eq!(loaded.walk_all(), ns.walk_all());
    assert_eq!(loaded.stats(), ns.stats());
    // The id index finds every inode, and nothing that was deleted.
    for (path, st) in ns.walk_all() {
        assert_eq!(loaded.path_of(st.inode_id).as_deref(), Some(path.as_str()));
        assert_eq!(
            loaded.under_construction(st.inode_id),
            ns.under_construction(st.inode_id)
        );
    }
    assert_eq!(loaded.path_of(ROOT_INODE_ID + 41 + 7), None);
    // An image written before sections existed (one run of records) loads the same.
    let mut one = header.clone();
    one.sections.clear();
    let old = with_header(&bytes, &one);
    let loaded = Namespace::load_image(NamespaceConfig::default(), &old).unwrap();
    assert_eq!(loaded.save_image(), bytes);
}

#[test]
fn section_tables_that_do_not_fit_the_records_are_errors() {
    let bytes = many_sections().save_image();
    let (header, _) = header_of(&bytes);
    let load = |h: &hafs_proto::hafs::ImageHeader| {
        Namespace::load_image(NamespaceConfig::default(), &with_header(&bytes, h))
    };
    let mut h = header.clone();
    h.sections[1].length -= 1;
    assert!(load(&h).is_err(), "a section one byte short");
    let mut h = header.clone();
    h.sections[0].inode_count += 1;
    h.sections[2].inode_count -= 1;
    assert!(load(&h).is_err(), "counts moved between sections");
    let mut h = header.clone();
    h.sections.pop();
    assert!(load(&h).is_err(), "a section missing");
    let mut h = header.clone();
    h.sections[0].length = u64::MAX;
    assert!(load(&h).is_err(), "a section longer than the image");
    // A record cut off inside a later section.
    let mut cut = bytes.clone();
    cut.truncate(bytes.len() - 3);
    assert!(Namespace::load_image(NamespaceConfig::default(), &cut).is_err());
}

#[test]
fn siblings_out_of_order_and_repeated_ids_are_errors_with_any_id_spread() {
    use hafs_proto::hafs as pb;
    use prost::Message;
    let image = |last_inode_id: u64, recs: &[pb::ImageInode]| {
        let mut out = Vec::new();
        pb::ImageHeader {
            layout_version: 1,
            last_inode_id,
            strings: vec!["hdfs".into()],
            inode_count: recs.len() as u64,
            ..Default::default()
        }
        .encode_length_delimited(&mut out)
        .unwrap();
        for r in recs {
            r.encode_length_delimited(&mut out).unwrap();
        }
        out
    };
    let node = |id: u64, parent_id: u64, name: &str| pb::ImageInode {
        id,
        parent_id,
        name: bytes::Bytes::copy_from_slice(name.as_bytes()),
        is_dir: true,
        perm: 0o755,
        ..Default::default()
    };
    let root = node(ROOT_INODE_ID, 0, "");
    let load = |b: Vec<u8>| Namespace::load_image(NamespaceConfig::default(), &b);
    // Dense ids (checked with a bitmap) and ids spread over 2^40 (checked in the index).
    for last in [ROOT_INODE_ID + 10, 1 << 40] {
        let far = last; // the highest id allowed
        let ok = image(
            last,
            &[
                root.clone(),
                node(far, ROOT_INODE_ID, "a"),
                node(16386, far, "b"),
            ],
        );
        assert!(load(ok).is_ok(), "last id {last}");
        let repeated = image(
            last,
            &[
                root.clone(),
                node(far, ROOT_INODE_ID, "a"),
                node(far, ROOT_INODE_ID, "b"),
            ],
        );
        assert!(load(repeated).is_err(), "repeated id, last id {last}");
        let root_again = image(
            last,
            &[root.clone(), node(ROOT_INODE_ID, ROOT_INODE_ID, "a")],
        );
        assert!(
            load(root_again).is_err(),
            "the root's id again, last id {last}"
        );
        let unordered = image(
            last,
            &[
                root.clone(),
                node(16386, ROOT_INODE_ID, "b"),
                node(far, ROOT_INODE_ID, "a"),
            ],
        );
        assert!(
            load(unordered).is_err(),
            "siblings out of order, last id {last}"
        );
        // A record whose parent the walk has already left (not pre-order).
        let left = image(
            last,
            &[
                root.clone(),
                node(16386, ROOT_INODE_ID, "a"),
                node(16387, ROOT_INODE_ID, "b"),
                node(far, 16386, "c"),
            ],
        );
        assert!(load(left).is_err(), "parent already closed, last id {last}");
    }
}

/// Directories' child-count hints are only hints: an image whose every directory claims
/// billions of children loads with child lists sized by the image, not by the claims
/// (else each directory would reserve up to the whole image: quadratic memory).
#[test]
fn child_count_hints_reserve_no_more_than_the_image_holds() {
    use hafs_proto::hafs as pb;
    use prost::Message;
    let dirs = 2000u64;
    let mut out = Vec::new();
    pb::ImageHeader {
        layout_version: 1,
        last_inode_id: ROOT_INODE_ID + dirs,
        strings: vec!["hdfs".into()],
        inode_count: dirs + 1,
        ..Default::default()
    }
    .encode_length_delimited(&mut out)
    .unwrap();
    let dir = |id: u64, parent_id: u64, name: String| pb::ImageInode {
        id,
        parent_id,
        name: bytes::Bytes::from(name),
        is_dir: true,
        perm: 0o755,
        child_count: u32::MAX,
        ..Default::default()
    };
    dir(ROOT_INODE_ID, 0, String::new())
        .encode_length_delimited(&mut out)
        .unwrap();
    for i in 1..=dirs {
        dir(ROOT_INODE_ID + i, ROOT_INODE_ID, format!("d{i:05}"))
            .encode_length_delimited(&mut out)
            .unwrap();
    }
    let ns = Namespace::load_image(NamespaceConfig::default(), &out).unwrap();
    let reserved: usize = ns
        .slab
        .iter()
        .map(|n| match &n.body {
            Body::Dir(c) => c.capacity(),
            Body::File(_) => 0,
        })
        .sum();
    assert!(
        reserved <= 2 * (dirs as usize + 1),
        "{reserved} child slots reserved for {dirs} children"
    );
    assert_eq!(ns.node(ROOT_SLOT).children().len(), dirs as usize);
}
