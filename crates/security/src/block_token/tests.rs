use super::*;

const INTERVAL: i64 = 600 * 60 * 1000;
const LIFETIME: i64 = 600 * 60 * 1000;
const NOW: i64 = 1_760_000_000_000;

fn sample() -> BlockTokenIdentifier {
    BlockTokenIdentifier {
        expiry_date: NOW + LIFETIME,
        key_id: 1_073_741_900,
        user_id: "alice".into(),
        block_pool_id: "BP-1-127.0.0.1-1700000000000".into(),
        block_id: 1_073_741_825,
        modes: vec![AccessMode::Read, AccessMode::Write],
        storage_types: vec!["DISK".into()],
        storage_ids: vec!["DS-1".into(), "DS-2".into()],
        handshake_secret: vec![],
    }
}

#[test]
fn identifier_round_trips_and_matches_the_writable_layout() {
    let id = sample();
    let bytes = id.encode();
    assert_eq!(BlockTokenIdentifier::decode(&bytes).unwrap(), id);
    // expiryDate as a vlong: 0x8a (-118: positive, 6 magnitude bytes) then the bytes.
    assert_eq!(bytes[0], 0x8a);
    // userId is a WritableUtils string: int32 length then UTF-8.
    let user_at = 7 + 5; // expiry (7 bytes) + keyId vlong (5 bytes)
    assert_eq!(&bytes[user_at..user_at + 9], b"\0\0\0\x05alice");
    let mut with_secret = id.clone();
    with_secret.handshake_secret = vec![7; 20];
    let b2 = with_secret.encode();
    assert_eq!(b2.len(), bytes.len() + 21);
    assert_eq!(BlockTokenIdentifier::decode(&b2).unwrap(), with_secret);
}

#[test]
fn vlongs_round_trip_at_the_edges() {
    for v in [
        0i64,
        -1,
        -112,
        -113,
        127,
        128,
        255,
        256,
        -256,
        i32::MAX as i64,
        i32::MIN as i64,
        i64::MAX,
        i64::MIN,
    ] {
        let mut out = Vec::new();
        put_vlong(&mut out, v);
        let mut r = Reader { buf: &out };
        assert_eq!(r.vlong("v").unwrap(), v, "{v}");
        assert!(r.buf.is_empty());
    }
}

#[test]
fn old_identifiers_without_the_trailing_sections_decode() {
    let id = BlockTokenIdentifier {
        modes: vec![],
        storage_types: vec![],
        storage_ids: vec![],
        ..sample()
    };
    let mut bytes = id.encode();
    bytes.truncate(bytes.len() - 3); // the three empty counts
    assert_eq!(BlockTokenIdentifier::decode(&bytes).unwrap(), id);
}

#[test]
fn garbage_is_refused_without_panic() {
    let good = sample().encode();
    for cut in 0..good.len() {
        let _ = BlockTokenIdentifier::decode(&good[..cut]);
    }
    assert!(BlockTokenIdentifier::decode(&[]).is_err());
    assert!(BlockTokenIdentifier::decode(&[0x80; 40]).is_err());
    // A huge string length.
    let mut b = vec![0x01, 0x01];
    b.extend_from_slice(&0x7fff_ffffi32.to_be_bytes());
    assert!(BlockTokenIdentifier::decode(&b).is_err());
    // Trailing junk.
    let mut b = sample().encode();
    b.push(0x8c);
    assert!(BlockTokenIdentifier::decode(&b).is_err());
    // A huge mode count.
    let mut s = Vec::new();
    put_vlong(&mut s, 1);
    put_vlong(&mut s, 1);
    put_int_string(&mut s, "u");
    put_int_string(&mut s, "bp");
    put_vlong(&mut s, 1);
    put_vlong(&mut s, i32::MAX as i64);
    assert!(BlockTokenIdentifier::decode(&s).is_err());
    // An unknown mode name.
    let mut s = Vec::new();
    put_vlong(&mut s, 1);
    put_vlong(&mut s, 1);
    put_int_string(&mut s, "u");
    put_int_string(&mut s, "bp");
    put_vlong(&mut s, 1);
    put_vlong(&mut s, 1);
    put_text(&mut s, "OWN");
    let e = BlockTokenIdentifier::decode(&s).unwrap_err();
    assert!(e.to_string().contains("unknown access mode"), "{e}");
    // Pseudo-random bytes.
    let mut x: u32 = 12345;
    for _ in 0..2000 {
        let len = (x % 64) as usize;
        let mut buf = Vec::with_capacity(len);
        for _ in 0..len {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            buf.push((x >> 16) as u8);
        }
        let _ = BlockTokenIdentifier::decode(&buf);
    }
}

#[test]
fn master_tokens_check_on_a_slave_with_the_exported_keys() {
    let nn = BlockTokenSecretManager::new_master(INTERVAL, LIFETIME, 0, 2, NOW);
    let mut dn = BlockTokenSecretManager::new_slave(0, 0);
    dn.add_keys(&nn.export_keys().unwrap(), NOW);
    let t = nn
        .generate_token("alice", "bp", 5, &[AccessMode::Read], NOW)
        .unwrap();
    let id = dn
        .check_access(&t, None, "bp", 5, AccessMode::Read, NOW + 1000)
        .unwrap();
    assert_eq!(id.user_id, "alice");
    dn.check_access(&t, Some("alice"), "bp", 5, AccessMode::Read, NOW)
        .unwrap();
    let e = dn
        .check_access(&t, Some("bob"), "bp", 5, AccessMode::Read, NOW)
        .unwrap_err();
    assert!(e.to_string().contains("doesn't belong to user bob"), "{e}");
}

#[test]
fn expired_wrong_mode_wrong_block_wrong_key_and_forged_tokens_are_refused() {
    let nn = BlockTokenSecretManager::new_master(INTERVAL, LIFETIME, 1, 2, NOW);
    let mut dn = BlockTokenSecretManager::new_slave(0, 0);
    dn.add_keys(&nn.export_keys().unwrap(), NOW);
    let t = nn
        .generate_token("alice", "bp", 5, &[AccessMode::Read], NOW)
        .unwrap();
    let check = |t: &BlockToken, mode, block, now| dn.check_access(t, None, "bp", block, mode, now);

    let e = check(&t, AccessMode::Read, 5, NOW + LIFETIME + 1).unwrap_err();
    assert!(e.to_string().ends_with("is expired."), "{e}");
    let e = check(&t, AccessMode::Write, 5, NOW).unwrap_err();
    assert!(
        e.to_string().contains("doesn't have WRITE permission"),
        "{e}"
    );
    let e = check(&t, AccessMode::Read, 6, NOW).unwrap_err();
    assert!(e.to_string().contains("doesn't apply to block"), "{e}");

    // Edit the identifier (mode, expiry, key id) and keep the password: refused.
    let mut id = BlockTokenIdentifier::decode(&t.identifier).unwrap();
    id.modes = vec![AccessMode::Read, AccessMode::Write];
    let forged = BlockToken {
        identifier: id.encode(),
        password: t.password.clone(),
    };
    let e = check(&forged, AccessMode::Write, 5, NOW).unwrap_err();
    assert!(e.to_string().contains("correct token password"), "{e}");
    let mut id = BlockTokenIdentifier::decode(&t.identifier).unwrap();
    id.expiry_date += LIFETIME;
    let forged = BlockToken {
        identifier: id.encode(),
        password: t.password.clone(),
    };
    assert!(check(&forged, AccessMode::Read, 5, NOW + LIFETIME + 5).is_err());
    let mut id = BlockTokenIdentifier::decode(&t.identifier).unwrap();
    id.key_id = 77;
    let forged = BlockToken {
        identifier: id.encode(),
        password: t.password.clone(),
    };
    let e = check(&forged, AccessMode::Read, 5, NOW).unwrap_err();
    assert!(e.to_string().contains("(keyID=77) doesn't exist"), "{e}");
    // A wrong password, and an empty token.
    let mut bad = t.clone();
    bad.password[0] ^= 1;
    assert!(check(&bad, AccessMode::Read, 5, NOW).is_err());
    assert!(check(&BlockToken::default(), AccessMode::Read, 5, NOW).is_err());
    // A token from another NameNode whose keys this DataNode never got.
    let other = BlockTokenSecretManager::new_master(INTERVAL, LIFETIME, 0, 2, NOW);
    let t2 = other
        .generate_token("alice", "bp", 5, &[AccessMode::Read], NOW)
        .unwrap();
    assert!(check(&t2, AccessMode::Read, 5, NOW).is_err());
}

#[test]
fn key_ids_stay_in_each_namenodes_range_and_rolled_keys_keep_old_tokens_valid() {
    let mut nn0 = BlockTokenSecretManager::new_master(INTERVAL, LIFETIME, 0, 2, NOW);
    let mut nn1 = BlockTokenSecretManager::new_master(INTERVAL, LIFETIME, 1, 2, NOW);
    let mut dn = BlockTokenSecretManager::new_slave(0, 0);
    for round in 0..5 {
        let now = NOW + round * INTERVAL;
        if round > 0 {
            assert!(nn0.update_keys(now));
            assert!(nn1.update_keys(now));
        }
        for k in nn0.export_keys().unwrap().all_keys {
            assert!(nn0.key_id_range().contains(&(k.key_id as i64)));
            assert!(!nn1.key_id_range().contains(&(k.key_id as i64)));
        }
        for k in nn1.export_keys().unwrap().all_keys {
            assert!(nn1.key_id_range().contains(&(k.key_id as i64)));
        }
        dn.add_keys(&nn0.export_keys().unwrap(), now);
        dn.add_keys(&nn1.export_keys().unwrap(), now);
    }
    let now = NOW + 4 * INTERVAL;
    for nn in [&nn0, &nn1] {
        let t = nn
            .generate_token("u", "bp", 1, &[AccessMode::Copy], now)
            .unwrap();
        dn.check_access(&t, None, "bp", 1, AccessMode::Copy, now)
            .unwrap();
    }
    // A token issued just before a roll stays good after it.
    let t = nn0
        .generate_token("u", "bp", 1, &[AccessMode::Read], now)
        .unwrap();
    nn0.update_keys(now + INTERVAL);
    dn.add_keys(&nn0.export_keys().unwrap(), now + INTERVAL);
    dn.check_access(&t, None, "bp", 1, AccessMode::Read, now + LIFETIME - 1)
        .unwrap();
}

#[test]
fn a_slave_generates_tokens_with_the_current_key() {
    let nn = BlockTokenSecretManager::new_master(INTERVAL, LIFETIME, 0, 1, NOW);
    let mut dn = BlockTokenSecretManager::new_slave(0, 0);
    assert!(dn
        .generate_token("dn", "bp", 1, &[AccessMode::Copy], NOW)
        .is_err());
    dn.add_keys(&nn.export_keys().unwrap(), NOW);
    let t = dn
        .generate_token("dn", "bp", 1, &[AccessMode::Write, AccessMode::Copy], NOW)
        .unwrap();
    let mut other_dn = BlockTokenSecretManager::new_slave(0, 0);
    other_dn.add_keys(&nn.export_keys().unwrap(), NOW);
    other_dn
        .check_access(&t, None, "bp", 1, AccessMode::Write, NOW)
        .unwrap();
    let id = BlockTokenIdentifier::decode(&t.identifier).unwrap();
    assert_eq!(id.expiry_date, NOW + LIFETIME);
}

#[test]
fn base64_round_trips() {
    for data in [&b""[..], b"f", b"fo", b"foo", b"foob", b"fooba", b"foobar"] {
        let e = base64_encode(data);
        assert_eq!(base64_decode(&e).unwrap(), data);
    }
    assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
    assert_eq!(base64_encode(b"fo"), "Zm8=");
    assert!(base64_decode("a*b").is_none());
}
