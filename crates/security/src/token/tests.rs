use super::storage::{Credentials, Format};
use super::*;

fn sample() -> DelegationTokenIdentifier {
    DelegationTokenIdentifier {
        owner: "alice@HAFS.TEST".into(),
        renewer: "yarn".into(),
        real_user: String::new(),
        issue_date: 1_765_000_000_000,
        max_date: 1_765_604_800_000,
        sequence_number: 7,
        master_key_id: 3,
    }
}

#[test]
fn identifier_bytes_are_hadoops() {
    let id = sample();
    let b = id.encode();
    // version, Text owner (len 15), Text renewer (len 4), empty realUser.
    assert_eq!(b[0], 0);
    assert_eq!(b[1], 15);
    assert_eq!(&b[2..17], b"alice@HAFS.TEST");
    assert_eq!(b[17], 4);
    assert_eq!(&b[18..22], b"yarn");
    assert_eq!(b[22], 0);
    // issueDate as a vlong: 6 big-endian bytes after the length byte -118.
    assert_eq!(b[23], (-118i8) as u8);
    assert_eq!(&b[24..30], &1_765_000_000_000i64.to_be_bytes()[2..]);
    // sequenceNumber 7 and masterKeyId 3 are one byte each, last.
    assert_eq!(&b[b.len() - 2..], &[7, 3]);
    assert_eq!(DelegationTokenIdentifier::decode(&b).unwrap(), id);
}

#[test]
fn identifier_decoding_never_panics_and_refuses_junk() {
    let b = sample().encode();
    for n in 0..b.len() {
        assert!(DelegationTokenIdentifier::decode(&b[..n]).is_err(), "{n}");
    }
    let mut longer = b.clone();
    longer.push(0);
    assert!(DelegationTokenIdentifier::decode(&longer).is_err());
    let mut v1 = b.clone();
    v1[0] = 1;
    assert_eq!(
        DelegationTokenIdentifier::decode(&v1)
            .unwrap_err()
            .to_string(),
        "Unknown version of delegation token 1"
    );
    // Every single-byte change either fails or decodes to a different identifier.
    for i in 0..b.len() {
        for x in [0x01u8, 0x80, 0xff] {
            let mut m = b.clone();
            m[i] ^= x;
            if let Ok(id) = DelegationTokenIdentifier::decode(&m) {
                assert_ne!(id, sample());
            }
        }
    }
    // Pseudo-random garbage (xorshift) of every length up to 64.
    let mut s: u64 = 0x9e37_79b9_7f4a_7c15;
    for len in 0..64 {
        for _ in 0..64 {
            let junk: Vec<u8> = (0..len)
                .map(|_| {
                    s ^= s << 13;
                    s ^= s >> 7;
                    s ^= s << 17;
                    s as u8
                })
                .collect();
            let _ = DelegationTokenIdentifier::decode(&junk);
            let _ = Credentials::read_storage_file(&[b"HDTS\0", &junk[..]].concat());
            let _ = Credentials::read_storage_file(&[b"HDTS\x01", &junk[..]].concat());
        }
    }
    assert!(DelegationTokenIdentifier::decode(&vec![0u8; MAX_IDENTIFIER_LEN + 1]).is_err());
}

#[test]
fn display_is_hadoops_token_string() {
    assert_eq!(
        sample().to_string(),
        "token for alice: HDFS_DELEGATION_TOKEN owner=alice@HAFS.TEST, renewer=yarn, \
         realUser=, issueDate=1765000000000, maxDate=1765604800000, sequenceNumber=7, \
         masterKeyId=3"
    );
}

#[test]
fn password_is_hmac_sha1() {
    // RFC 2202 test case 2 for HMAC-SHA1.
    let mac = create_password(b"what do ya want for nothing?", b"Jefe");
    assert_eq!(
        mac,
        [
            0xef, 0xfc, 0xdf, 0x6a, 0xe5, 0xeb, 0x2f, 0xa2, 0xd2, 0x74, 0x16, 0xd5, 0xf1, 0x84,
            0xdf, 0x9c, 0x25, 0x9a, 0x7c, 0x79
        ]
    );
    assert_eq!(mac.len(), PASSWORD_LEN);
    assert!(passwords_equal(&mac, &mac.clone()));
    assert!(!passwords_equal(&mac, &mac[..19]));
}

#[test]
fn tokens_round_trip_through_url_strings_and_protos() {
    let id = sample();
    let t = Token::delegation(&id, create_password(&id.encode(), b"k"), "ha-hdfs:ns1");
    let s = t.encode_to_url_string();
    assert!(!s.contains(['+', '/', '=']));
    assert_eq!(Token::decode_from_url_string(&s).unwrap(), t);
    assert_eq!(Token::from_proto(&t.to_proto()).unwrap(), t);
    assert_eq!(t.delegation_identifier().unwrap(), id);
    assert_eq!(
        decode_sasl_user_name(&t.sasl_user_name()).unwrap(),
        t.identifier
    );
    assert!(!format!("{t:?}").contains("password: ["));
}

#[test]
fn storage_files_round_trip_in_both_formats() {
    let id = sample();
    let mut creds = Credentials::default();
    creds.add_token(Token::delegation(&id, vec![1; 20], "ha-hdfs:ns1"));
    creds.add_token(Token::delegation(&id, vec![2; 20], "127.0.0.1:8020"));
    creds.add_token(Token::delegation(&id, vec![3; 20], "ha-hdfs:ns1"));
    creds.secrets.push(("s".into(), b"secret".to_vec()));
    assert_eq!(creds.tokens.len(), 2);
    for format in [Format::Writable, Format::Protobuf] {
        let bytes = creds.write_storage_file(format);
        assert_eq!(&bytes[..5], [b'H', b'D', b'T', b'S', format as u8]);
        assert_eq!(Credentials::read_storage_file(&bytes).unwrap(), creds);
        for n in 0..bytes.len() {
            assert!(Credentials::read_storage_file(&bytes[..n]).is_err(), "{n}");
        }
    }
    assert_eq!(
        Credentials::read_storage_file(b"HDTX\0")
            .unwrap_err()
            .to_string(),
        "Bad header found in token storage."
    );
    assert_eq!(
        Credentials::read_storage_file(b"HDTS\x02")
            .unwrap_err()
            .to_string(),
        "Unknown version 2 in token storage."
    );
    // A huge count is refused before allocating.
    let mut huge = b"HDTS\0".to_vec();
    writable::write_vint(&mut huge, i32::MAX);
    assert!(Credentials::read_storage_file(&huge).is_err());
}

#[test]
fn times_format_like_hadoop() {
    assert_eq!(format_time(0), "1970-01-01 00:00:00,000+0000");
    assert_eq!(
        format_time(1_765_000_000_123),
        "2025-12-06 05:46:40,123+0000"
    );
    assert_eq!(format_time(951_782_400_000), "2000-02-29 00:00:00,000+0000");
}
