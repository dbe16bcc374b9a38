//! Rust client against Rust server; Java interop lives in crates/tests/tests/security_digest.rs.

use hafs_util::rng::XorShift64;

use super::*;

const USER: &str = "AAAABWFsaWNlBWFsaWNlAIoBk2Xx8A==";
const PASSWORD: &[u8] = b"c2VjcmV0LXRva2VuLXBhc3N3b3Jk";

fn lookup() -> PasswordLookup {
    Box::new(|user: &str| {
        if user == USER {
            Ok(PASSWORD.to_vec())
        } else {
            Err(SaslError::Authentication(format!(
                "token ({user}) can't be found in cache"
            )))
        }
    })
}

fn server(qops: &[Qop]) -> DigestMd5Server {
    DigestMd5Server::new("", "default", qops, lookup()).unwrap()
}

fn client(password: &[u8], qops: &[Qop]) -> DigestMd5Client {
    DigestMd5Client::new(USER, password, "", "default", qops).unwrap()
}

/// Runs the handshake; the error of whichever side refused.
fn handshake(c: &mut DigestMd5Client, s: &mut DigestMd5Server) -> Result<(), SaslError> {
    assert_eq!(c.initial_response()?, None);
    let SaslStep::Continue(challenge) = s.evaluate(&[])? else {
        panic!("server must challenge first")
    };
    let SaslStep::Continue(response) = c.evaluate(&challenge)? else {
        panic!("client must respond")
    };
    let SaslStep::Complete(Some(rspauth)) = s.evaluate(&response)? else {
        panic!("server must complete with rspauth")
    };
    assert_eq!(c.evaluate(&rspauth)?, SaslStep::Complete(None));
    Ok(())
}

#[test]
fn challenge_has_the_shape_java_and_hdfs_native_expect() {
    let mut s =
        DigestMd5Server::new("hdfs", "0", &[Qop::Privacy, Qop::Integrity], lookup()).unwrap();
    let SaslStep::Continue(c) = s.evaluate(&[]).unwrap() else {
        panic!()
    };
    let c = String::from_utf8(c).unwrap();
    assert!(c.starts_with("realm=\"0\",nonce=\""), "{c}");
    assert!(
        c.ends_with(
            "\",qop=\"auth-conf,auth-int\",charset=utf-8,cipher=\"3des\",algorithm=md5-sess"
        ),
        "{c}"
    );
    let mut s = server(&[Qop::Integrity]);
    let SaslStep::Continue(c) = s.evaluate(&[]).unwrap() else {
        panic!()
    };
    let c = String::from_utf8(c).unwrap();
    assert!(c.starts_with("realm=\"default\""), "{c}");
    assert!(!c.contains("cipher"), "{c}");
}

#[test]
fn every_qop_authenticates_and_wraps_many_messages_each_way() {
    for qop in [Qop::Authentication, Qop::Integrity, Qop::Privacy] {
        let mut s = server(&[qop]);
        let mut c = client(PASSWORD, &[qop]);
        handshake(&mut c, &mut s).unwrap();
        assert!(s.is_complete() && c.is_complete());
        assert_eq!(s.authorization_id(), Some(USER));
        assert_eq!((s.qop(), c.qop()), (qop, qop));
        if !qop.wraps() {
            assert!(c.wrap(b"x").is_err() && s.unwrap(b"x").is_err());
            assert_eq!(c.max_send_size(), None);
            continue;
        }
        assert!(c.max_send_size().unwrap() >= 65536 - 24);
        let mut rng = XorShift64::new(0x5eed);
        for i in 0..200usize {
            let len = (rng.next_u64() % 3000) as usize;
            let msg: Vec<u8> = (0..len).map(|j| (i + j) as u8).collect();
            let w = c.wrap(&msg).unwrap();
            assert_eq!(s.unwrap(&w).unwrap(), msg);
            let w = s.wrap(&msg).unwrap();
            assert_eq!(c.unwrap(&w).unwrap(), msg);
        }
    }
}

#[test]
fn client_and_server_settle_on_the_clients_preference_among_the_offered() {
    let mut s = server(&[Qop::Authentication, Qop::Integrity, Qop::Privacy]);
    let mut c = client(PASSWORD, &[Qop::Integrity, Qop::Privacy]);
    handshake(&mut c, &mut s).unwrap();
    assert_eq!((s.qop(), c.qop()), (Qop::Integrity, Qop::Integrity));

    let mut s = server(&[Qop::Privacy]);
    let mut c = client(PASSWORD, &[Qop::Authentication]);
    assert!(matches!(
        handshake(&mut c, &mut s),
        Err(SaslError::NoCommonQop)
    ));
}

#[test]
fn wrong_password_is_refused_with_javas_message() {
    let mut s = server(&[Qop::Privacy]);
    let mut c = client(b"not-the-password", &[Qop::Privacy]);
    let err = handshake(&mut c, &mut s).unwrap_err();
    assert!(err.to_string().contains("Mismatched response"), "{err}");
    assert!(!s.is_complete());
    assert_eq!(s.authorization_id(), None);
    assert!(
        s.evaluate(b"anything").is_err(),
        "a failed server stays failed"
    );
}

#[test]
fn unknown_user_gets_the_lookups_own_message() {
    let mut s = server(&[Qop::Authentication]);
    let mut c =
        DigestMd5Client::new("bm9ib2R5", PASSWORD, "", "default", &[Qop::Authentication]).unwrap();
    let err = handshake(&mut c, &mut s).unwrap_err();
    assert_eq!(err.to_string(), "token (bm9ib2R5) can't be found in cache");
}

#[test]
fn wrong_service_is_refused() {
    // A data-transfer response replayed to an IPC server: the digest-uri differs.
    let mut s = server(&[Qop::Authentication]);
    let mut c = DigestMd5Client::new(USER, PASSWORD, "hdfs", "0", &[Qop::Authentication]).unwrap();
    let err = handshake(&mut c, &mut s).unwrap_err();
    assert!(err.to_string().contains("digest-uri"), "{err}");
}

#[test]
fn forged_rspauth_is_refused_by_the_client() {
    let mut s = server(&[Qop::Integrity]);
    let mut c = client(PASSWORD, &[Qop::Integrity]);
    let SaslStep::Continue(ch) = s.evaluate(&[]).unwrap() else {
        panic!()
    };
    c.evaluate(&ch).unwrap();
    let err = c
        .evaluate(b"rspauth=00000000000000000000000000000000")
        .unwrap_err();
    assert!(err.to_string().contains("rspauth"), "{err}");
    assert!(!c.is_complete());
}

/// Edits one directive of a real response and expects a refusal.
#[test]
fn every_checked_directive_is_checked() {
    let edits: &[(&str, &str)] = &[
        ("nonce=\"", "nonce=\"x"),
        ("nc=00000001", "nc=00000002"),
        ("nc=00000001", "nc=+0000001"),
        ("maxbuf=65536", "maxbuf=+65536"),
        ("maxbuf=65536", "maxbuf=16777216"),
        ("digest-uri=\"/default\"", "digest-uri=\"/other\""),
        ("realm=\"default\"", "realm=\"other\""),
        ("qop=auth-conf", "qop=auth-int"),
        ("cipher=\"3des\"", "cipher=\"rc4\""),
        ("maxbuf=65536", "maxbuf=16"),
        ("charset=utf-8", "charset=latin1"),
        ("cnonce=\"", "cnonce=\"x"),
        ("username=\"", "username=\"x"),
        ("maxbuf=65536", "maxbuf=65536,authzid=\"hdfs\""),
        ("maxbuf=65536", "maxbuf=65536,nonce=\"dup\""),
    ];
    for (from, to) in edits {
        let mut s = server(&[Qop::Privacy]);
        let mut c = client(PASSWORD, &[Qop::Privacy]);
        let SaslStep::Continue(ch) = s.evaluate(&[]).unwrap() else {
            panic!()
        };
        let SaslStep::Continue(resp) = c.evaluate(&ch).unwrap() else {
            panic!()
        };
        let resp = String::from_utf8(resp).unwrap();
        assert!(resp.contains(from), "{resp} lacks {from}");
        let edited = resp.replacen(from, to, 1);
        assert!(
            s.evaluate(edited.as_bytes()).is_err(),
            "accepted with {from} -> {to}"
        );
        assert!(!s.is_complete());
    }
}

#[test]
fn an_authzid_equal_to_the_user_is_accepted() {
    let mut s = server(&[Qop::Authentication]);
    // Hand-made response with authzid: compute it as a client would.
    let SaslStep::Continue(ch) = s.evaluate(&[]).unwrap() else {
        panic!()
    };
    let d = Directives::parse(&ch, MAX_CHALLENGE).unwrap();
    let nonce = d.required("nonce").unwrap().to_string();
    let inputs = DigestInputs {
        username: USER,
        realm: "default",
        password: PASSWORD,
        nonce: &nonce,
        cnonce: "abc",
        authzid: Some(USER),
        digest_uri: "/default",
        qop: Qop::Authentication,
    };
    let ha1 = a1_hash(&inputs);
    let resp = format!(
        "username=\"{USER}\",realm=\"default\",nonce=\"{nonce}\",nc=00000001,cnonce=\"abc\",\
         digest-uri=\"/default\",response={},qop=auth,authzid=\"{USER}\"",
        response_value(&ha1, &inputs, true)
    );
    let SaslStep::Complete(Some(r)) = s.evaluate(resp.as_bytes()).unwrap() else {
        panic!()
    };
    assert_eq!(
        r,
        format!("rspauth={}", response_value(&ha1, &inputs, false)).into_bytes()
    );
}

#[test]
fn server_speaks_first_and_only_once() {
    let mut s = server(&[Qop::Authentication]);
    assert!(s.evaluate(b"username=\"x\"").is_err());
    let mut s = server(&[Qop::Authentication]);
    s.evaluate(&[]).unwrap();
    assert!(s.evaluate(&[]).is_err(), "an empty response is refused");
}

#[test]
fn config_errors() {
    assert!(DigestMd5Server::new("", "default", &[], lookup()).is_err());
    assert!(DigestMd5Server::new("", "a\"b", &[Qop::Privacy], lookup()).is_err());
    assert!(DigestMd5Client::new("u\n", b"p", "", "default", &[Qop::Privacy]).is_err());
    assert!(DigestMd5Client::new("u", b"p", "", "default", &[]).is_err());
}

/// Garbage, truncations, mutations and oversized tokens, fed to every state of both sides:
/// refused, never a panic. Seeded, so a failure reproduces.
#[test]
fn garbage_and_mutated_tokens_are_refused_without_panic() {
    let seed = 0x00d1_6e57;
    let mut rng = XorShift64::new(seed);
    // A genuine challenge and response to mutate.
    let mut s0 = server(&[Qop::Privacy, Qop::Integrity]);
    let mut c0 = client(PASSWORD, &[Qop::Privacy]);
    let SaslStep::Continue(ch) = s0.evaluate(&[]).unwrap() else {
        panic!()
    };
    let SaslStep::Continue(resp) = c0.evaluate(&ch).unwrap() else {
        panic!()
    };
    let alphabet = b"=,\"\\ abcdefqop-0123456789\xff\x00";
    for round in 0..3000 {
        let token: Vec<u8> = match round % 4 {
            0 => {
                let len = (rng.next_u64() % 200) as usize;
                (0..len)
                    .map(|_| alphabet[(rng.next_u64() % alphabet.len() as u64) as usize])
                    .collect()
            }
            1 => {
                let mut t = resp.clone();
                let i = (rng.next_u64() % t.len() as u64) as usize;
                t[i] ^= 1 << (rng.next_u64() % 8);
                t
            }
            2 => resp[..(rng.next_u64() % resp.len() as u64) as usize].to_vec(),
            _ => vec![b'a'; MAX_RESPONSE + (rng.next_u64() % 5000) as usize],
        };
        let mut s = server(&[Qop::Privacy]);
        s.evaluate(&[]).unwrap();
        let r = s.evaluate(&token);
        // Only the unmutated response could pass, and its nonce belongs to s0.
        assert!(r.is_err(), "seed {seed:#x} round {round}: {token:?}");

        let mut c = client(PASSWORD, &[Qop::Privacy, Qop::Integrity]);
        let _ = c.evaluate(&token);
        let mut c = client(PASSWORD, &[Qop::Privacy]);
        c.evaluate(&ch).unwrap();
        assert!(c.evaluate(&token).is_err(), "seed {seed:#x} round {round}");
    }
}

/// hdfs-native's client writes its response in its own order, `qop` unquoted, no maxbuf,
/// charset last: the server accepts it.
#[test]
fn a_response_shaped_like_hdfs_natives_is_accepted() {
    let mut s = DigestMd5Server::new("hdfs", "0", &[Qop::Privacy], lookup()).unwrap();
    let SaslStep::Continue(ch) = s.evaluate(&[]).unwrap() else {
        panic!()
    };
    let d = Directives::parse(&ch, MAX_CHALLENGE).unwrap();
    let nonce = d.required("nonce").unwrap().to_string();
    let inputs = DigestInputs {
        username: USER,
        realm: "0",
        password: PASSWORD,
        nonce: &nonce,
        cnonce: "Zm9vYmFyYmF6cXV4",
        authzid: None,
        digest_uri: "hdfs/0",
        qop: Qop::Privacy,
    };
    let ha1 = a1_hash(&inputs);
    let resp = format!(
        "username=\"{USER}\",realm=\"0\",nonce=\"{nonce}\",cnonce=\"Zm9vYmFyYmF6cXV4\",\
         nc=00000001,qop=auth-conf,digest-uri=\"hdfs/0\",response={},charset=utf-8,\
         cipher=\"3des\"",
        response_value(&ha1, &inputs, true)
    );
    assert!(matches!(
        s.evaluate(resp.as_bytes()).unwrap(),
        SaslStep::Complete(Some(_))
    ));
    assert_eq!(s.qop(), Qop::Privacy);
    // No maxbuf: RFC 2831's default of 65536 applies.
    assert_eq!(s.max_send_size(), Some(65536 - 24));
}

/// Random bytes handed to unwrap on a live layer: refused, never a panic.
#[test]
fn garbage_wrapped_messages_are_refused_without_panic() {
    let seed = 0x0bad_f00d;
    let mut rng = XorShift64::new(seed);
    for qop in [Qop::Integrity, Qop::Privacy] {
        for round in 0..500 {
            let mut s = server(&[qop]);
            let mut c = client(PASSWORD, &[qop]);
            handshake(&mut c, &mut s).unwrap();
            let len = (rng.next_u64() % 100) as usize;
            let mut junk: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
            if round % 2 == 0 && len >= 6 {
                // A plausible trailer, so the MAC and padding checks run too.
                junk[len - 6..].copy_from_slice(&[0, 1, 0, 0, 0, 0]);
            }
            assert!(
                s.unwrap(&junk).is_err(),
                "seed {seed:#x} {qop} round {round}"
            );
            assert!(c.unwrap(&junk).is_err());
        }
    }
}
