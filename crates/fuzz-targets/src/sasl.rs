//! DIGEST-MD5, the SASL mechanism of delegation and block tokens: the server reading a
//! client's response, the client reading a server's challenge, and both reading wrapped
//! (integrity or privacy) messages once a session is established.

use hafs_security::block_token::BlockTokenIdentifier;
use hafs_security::digest_md5::{DigestMd5Client, DigestMd5Server, PasswordLookup};
use hafs_security::sasl::{Qop, SaslClientSession, SaslError, SaslServerSession, SaslStep};
use hafs_security::token::{decode_sasl_user_name, DelegationTokenIdentifier};

use crate::split_two;

const ALL_QOPS: [Qop; 3] = [Qop::Privacy, Qop::Integrity, Qop::Authentication];
const PASSWORD: &[u8] = b"fuzz-password";

/// The password lookup the servers use: the user name is a base64 token identifier,
/// decoded as a delegation token's (the NameNode) or a block token's (a DataNode).
fn lookup() -> PasswordLookup {
    Box::new(|user: &str| {
        let id =
            decode_sasl_user_name(user).map_err(|e| SaslError::Authentication(e.to_string()))?;
        let delegation = DelegationTokenIdentifier::decode(&id).is_ok();
        let block = BlockTokenIdentifier::decode(&id).is_ok();
        if delegation || block {
            Ok(PASSWORD.to_vec())
        } else {
            Err(SaslError::Authentication("not a token identifier".into()))
        }
    })
}

/// A client's response to the server's challenge (the server speaks first, with an
/// empty initial response, as in Hadoop IPC).
pub fn sasl_digest_server(data: &[u8]) {
    let Ok(mut server) = DigestMd5Server::new("", "default", &ALL_QOPS, lookup()) else {
        panic!("a DIGEST-MD5 server with fixed, valid settings");
    };
    let _ = server.evaluate(b"");
    let _ = server.evaluate(data);
}

/// A server's challenge, then (after the first byte's split) its `rspauth`.
pub fn sasl_digest_client(data: &[u8]) {
    let (challenge, rspauth) = split_two(data);
    let Ok(mut client) = DigestMd5Client::new("dXNlcg==", PASSWORD, "", "default", &ALL_QOPS)
    else {
        panic!("a DIGEST-MD5 client with fixed, valid settings");
    };
    let _ = client.initial_response();
    if client.evaluate(challenge).is_ok() {
        let _ = client.evaluate(rspauth);
    }
}

/// A wrapped message, to a server and to a client that completed a real exchange at
/// integrity (first byte even) or privacy (odd).
pub fn sasl_unwrap(data: &[u8]) {
    let Some((&choice, message)) = data.split_first() else {
        return;
    };
    let qop = if choice % 2 == 0 {
        Qop::Integrity
    } else {
        Qop::Privacy
    };
    let (mut server, mut client) = established(qop);
    let _ = server.unwrap(message);
    let _ = client.unwrap(message);
}

/// A server and a client that completed DIGEST-MD5 at `qop` (the user name is the
/// base64 of a delegation token identifier, as a client sends it).
fn established(qop: Qop) -> (DigestMd5Server, DigestMd5Client) {
    let id = DelegationTokenIdentifier {
        owner: "alice@HAFS.TEST".into(),
        renewer: String::new(),
        real_user: String::new(),
        issue_date: 0,
        max_date: 0,
        sequence_number: 1,
        master_key_id: 1,
    };
    let user = hafs_security::token::base64::encode(&id.encode());
    let mut server = DigestMd5Server::new("", "default", &[qop], lookup()).expect("a valid server");
    let mut client =
        DigestMd5Client::new(&user, PASSWORD, "", "default", &[qop]).expect("a valid client");
    let step = |s: Result<SaslStep, SaslError>| match s {
        Ok(SaslStep::Continue(t)) | Ok(SaslStep::Complete(Some(t))) => t,
        other => panic!("DIGEST-MD5 exchange between our own sides failed: {other:?}"),
    };
    let challenge = step(server.evaluate(b""));
    let response = step(client.evaluate(&challenge));
    let rspauth = step(server.evaluate(&response));
    match client.evaluate(&rspauth) {
        Ok(SaslStep::Complete(_)) => {}
        other => panic!("DIGEST-MD5 client did not complete: {other:?}"),
    }
    (server, client)
}
