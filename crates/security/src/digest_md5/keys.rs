//! RFC 2831's hashes: the `response` and `rspauth` values (§2.1.2.1, algorithm md5-sess)
//! and the per-direction integrity and confidentiality keys (§2.3, §2.4).

use md5::{Digest, Md5};

use crate::sasl::Qop;

/// What both sides hash the same way once the client has chosen its cnonce.
pub(crate) struct DigestInputs<'a> {
    pub username: &'a str,
    pub realm: &'a str,
    pub password: &'a [u8],
    pub nonce: &'a str,
    pub cnonce: &'a str,
    pub authzid: Option<&'a str>,
    pub digest_uri: &'a str,
    pub qop: Qop,
}

/// The nonce count: hafs never re-authenticates on a connection, and neither do Java or
/// hdfs-native, so the first and only response carries nc=00000001.
pub(crate) const NONCE_COUNT: &str = "00000001";

/// H(A1) in its raw 16 bytes: both `response` and every session key derive from it.
pub(crate) fn a1_hash(d: &DigestInputs<'_>) -> [u8; 16] {
    let mut inner = Md5::new();
    inner.update(latin1_if_possible(d.username.as_bytes()));
    inner.update(b":");
    inner.update(latin1_if_possible(d.realm.as_bytes()));
    inner.update(b":");
    inner.update(latin1_if_possible(d.password));
    let inner = inner.finalize();

    let mut a1 = Md5::new();
    a1.update(inner);
    a1.update(b":");
    a1.update(d.nonce.as_bytes());
    a1.update(b":");
    a1.update(d.cnonce.as_bytes());
    if let Some(authzid) = d.authzid {
        a1.update(b":");
        a1.update(authzid.as_bytes());
    }
    a1.finalize().into()
}

/// The 32 lower-case hex digits of `response` (the client's proof, `initial` true, A2
/// starting "AUTHENTICATE:") or of `rspauth` (the server's, `initial` false, A2 starting ":").
pub(crate) fn response_value(ha1: &[u8; 16], d: &DigestInputs<'_>, initial: bool) -> String {
    let mut a2 = Md5::new();
    if initial {
        a2.update(b"AUTHENTICATE");
    }
    a2.update(b":");
    a2.update(d.digest_uri.as_bytes());
    if d.qop.wraps() {
        // RFC 2831: the entity-body hash of an empty body, for auth-int and auth-conf.
        a2.update(b":00000000000000000000000000000000");
    }
    let a2: [u8; 16] = a2.finalize().into();

    let mut kd = Md5::new();
    kd.update(hex(ha1).as_bytes());
    kd.update(b":");
    kd.update(d.nonce.as_bytes());
    kd.update(b":");
    kd.update(NONCE_COUNT.as_bytes());
    kd.update(b":");
    kd.update(d.cnonce.as_bytes());
    kd.update(b":");
    kd.update(d.qop.sasl_name().as_bytes());
    kd.update(b":");
    kd.update(hex(&a2).as_bytes());
    let kd: [u8; 16] = kd.finalize().into();
    hex(&kd)
}

/// The four keys of one authenticated exchange.
pub(crate) struct SessionKeys {
    /// Kic: MACs client-to-server messages.
    pub client_integrity: [u8; 16],
    /// Kis: MACs server-to-client messages.
    pub server_integrity: [u8; 16],
    /// Kcc: encrypts client-to-server messages (3des uses all 16 bytes of H(A1)).
    pub client_confidentiality: [u8; 16],
    /// Kcs: encrypts server-to-client messages.
    pub server_confidentiality: [u8; 16],
}

impl SessionKeys {
    pub(crate) fn derive(ha1: &[u8; 16]) -> SessionKeys {
        let k = |magic: &[u8]| -> [u8; 16] {
            let mut h = Md5::new();
            h.update(ha1);
            h.update(magic);
            h.finalize().into()
        };
        SessionKeys {
            client_integrity: k(
                b"Digest session key to client-to-server signing key magic constant",
            ),
            server_integrity: k(
                b"Digest session key to server-to-client signing key magic constant",
            ),
            // n = 16 for 3des and rc4: the whole of H(A1).
            client_confidentiality: k(
                b"Digest H(A1) to client-to-server sealing key magic constant",
            ),
            server_confidentiality: k(
                b"Digest H(A1) to server-to-client sealing key magic constant",
            ),
        }
    }
}

/// RFC 2831 §2.1.2.1: with charset=utf-8, user name, realm and password are hashed in
/// ISO 8859-1 when every character fits, in UTF-8 otherwise; Java does the same, so a
/// non-ASCII Latin-1 password must be converted or the two sides disagree.
pub(crate) fn latin1_if_possible(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    match std::str::from_utf8(bytes) {
        Ok(s) if !s.is_ascii() && s.chars().all(|c| (c as u32) <= 0xff) => {
            std::borrow::Cow::Owned(s.chars().map(|c| c as u8).collect())
        }
        _ => std::borrow::Cow::Borrowed(bytes),
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Random hex for a nonce or cnonce: opaque to the peer, so hex serves as well as base64
/// and never needs quoting.
pub(crate) fn random_nonce() -> Result<String, crate::sasl::SaslError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| {
        crate::sasl::SaslError::Config(format!("DIGEST-MD5: no random source for a nonce: {e}"))
    })?;
    Ok(hex(&b))
}

/// Compares two byte strings without a data-dependent early exit, so a peer timing our
/// refusals learns nothing about how much of its proof was right.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 2831 §4's IMAP example: chris / secret at elwood.innosoft.com. The RFC's printed
    /// values were computed with algorithm md5-sess and qop auth, as here.
    #[test]
    fn rfc2831_example_vector() {
        let d = DigestInputs {
            username: "chris",
            realm: "elwood.innosoft.com",
            password: b"secret",
            nonce: "OA6MG9tEQGm2hh",
            cnonce: "OA6MHXh6VqTrRk",
            authzid: None,
            digest_uri: "imap/elwood.innosoft.com",
            qop: Qop::Authentication,
        };
        let ha1 = a1_hash(&d);
        assert_eq!(
            response_value(&ha1, &d, true),
            "d388dad90d4bbd760a152321f2143af7"
        );
        assert_eq!(
            response_value(&ha1, &d, false),
            "ea40f60335c427b5527b84dbabcdfffd"
        );
    }

    #[test]
    fn latin1_conversion_matches_rfc_rule() {
        assert_eq!(&*latin1_if_possible("abc".as_bytes()), b"abc");
        assert_eq!(&*latin1_if_possible("é".as_bytes()), &[0xe9]);
        // A character above U+00FF keeps the whole string in UTF-8.
        assert_eq!(&*latin1_if_possible("é€".as_bytes()), "é€".as_bytes());
        assert_eq!(&*latin1_if_possible(&[0xff, 0xfe]), &[0xff, 0xfe]);
    }

    #[test]
    fn constant_time_eq_is_eq() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
