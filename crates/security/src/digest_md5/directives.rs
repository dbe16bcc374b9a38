//! RFC 2831's `digest-challenge` / `digest-response` syntax: a comma-separated list of
//! `name=value` directives, each value a token or a quoted string with `\` escapes.
//!
//! Peers differ in what they quote (Java quotes `qop` in a challenge but not in a response;
//! hdfs-native never quotes `qop` and always quotes `cipher`), so the parser accepts either
//! form everywhere and the writer quotes what Java quotes.

use crate::sasl::SaslError;

/// RFC 2831 §2.1: "The size of a digest-challenge MUST be less than 2048 bytes."
pub(crate) const MAX_CHALLENGE: usize = 2048;
/// RFC 2831 §2.1.2: "The size of a digest-response MUST be less than 4096 bytes."
pub(crate) const MAX_RESPONSE: usize = 4096;
/// Far more than either grammar needs (a challenge has 7 kinds, a response 13); bounds the
/// work a peer can make us do with a token of empty or tiny directives.
const MAX_DIRECTIVES: usize = 32;

/// One parsed directive list, in wire order, names lower-cased.
#[derive(Debug, Default)]
pub(crate) struct Directives {
    entries: Vec<(String, String)>,
}

impl Directives {
    /// Parses a token no larger than `max_len`.
    pub(crate) fn parse(token: &[u8], max_len: usize) -> Result<Directives, SaslError> {
        if token.len() >= max_len {
            return Err(malformed(format!(
                "{} bytes, the limit is {}",
                token.len(),
                max_len - 1
            )));
        }
        // Both sides announce charset=utf-8; anything that is not UTF-8 is not ours.
        let text = std::str::from_utf8(token).map_err(|_| malformed("not UTF-8".into()))?;
        let mut p = Parser {
            s: text.as_bytes(),
            at: 0,
        };
        let mut entries = Vec::new();
        loop {
            // The #rule allows empty elements: ",," and leading or trailing commas.
            p.skip_separators();
            if p.at == p.s.len() {
                break;
            }
            if entries.len() == MAX_DIRECTIVES {
                return Err(malformed(format!("more than {MAX_DIRECTIVES} directives")));
            }
            let name = p.token()?.to_ascii_lowercase();
            p.skip_lws();
            if !p.eat(b'=') {
                return Err(malformed(format!("directive '{name}' has no '='")));
            }
            p.skip_lws();
            let value = if p.peek() == Some(b'"') {
                p.quoted()?
            } else {
                p.token()?.to_string()
            };
            p.skip_lws();
            if p.at != p.s.len() && !p.eat(b',') {
                return Err(malformed(format!("junk after directive '{name}'")));
            }
            entries.push((name, value));
        }
        Ok(Directives { entries })
    }

    /// The value of a directive that may appear at most once.
    pub(crate) fn single(&self, name: &str) -> Result<Option<&str>, SaslError> {
        let mut found = None;
        for (n, v) in &self.entries {
            if n == name {
                if found.is_some() {
                    return Err(malformed(format!("directive '{name}' appears twice")));
                }
                found = Some(v.as_str());
            }
        }
        Ok(found)
    }

    /// The value of a directive that must appear exactly once.
    pub(crate) fn required(&self, name: &str) -> Result<&str, SaslError> {
        self.single(name)?
            .ok_or_else(|| malformed(format!("missing directive '{name}'")))
    }

    /// Every value of a directive that may repeat (a challenge's `realm`).
    pub(crate) fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.entries
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Builds a directive list.
#[derive(Debug, Default)]
pub(crate) struct DirectiveWriter {
    out: String,
}

impl DirectiveWriter {
    pub(crate) fn quoted(&mut self, name: &str, value: &str) -> &mut Self {
        self.sep();
        self.out.push_str(name);
        self.out.push_str("=\"");
        for c in value.chars() {
            if c == '"' || c == '\\' {
                self.out.push('\\');
            }
            self.out.push(c);
        }
        self.out.push('"');
        self
    }

    pub(crate) fn plain(&mut self, name: &str, value: &str) -> &mut Self {
        debug_assert!(
            value.bytes().all(is_token_byte),
            "{name}={value} needs quoting"
        );
        self.sep();
        self.out.push_str(name);
        self.out.push('=');
        self.out.push_str(value);
        self
    }

    pub(crate) fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out).into_bytes()
    }

    fn sep(&mut self) {
        if !self.out.is_empty() {
            self.out.push(',');
        }
    }
}

/// Splits a quoted list value (`qop="auth-int, auth-conf"`, `cipher="3des,rc4"`).
pub(crate) fn split_list(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}

fn malformed(why: String) -> SaslError {
    SaslError::Malformed(format!("DIGEST-MD5: {why}"))
}

/// RFC 2616 token characters: visible ASCII except separators.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b)
}

struct Parser<'a> {
    s: &'a [u8],
    at: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn skip_lws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.at += 1;
        }
    }

    fn skip_separators(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n' | b',')) {
            self.at += 1;
        }
    }

    /// A token. '/' is accepted too, so that a peer leaving a digest-uri such as `hdfs/0`
    /// unquoted is understood; it cannot end a directive, so accepting it is harmless.
    fn token(&mut self) -> Result<&'a str, SaslError> {
        let start = self.at;
        while let Some(b) = self.peek() {
            if is_token_byte(b) || b == b'/' {
                self.at += 1;
            } else {
                break;
            }
        }
        if self.at == start {
            return Err(malformed(format!("expected a token at byte {start}")));
        }
        // Token bytes are ASCII, so the slice is valid UTF-8.
        std::str::from_utf8(&self.s[start..self.at])
            .map_err(|_| malformed("token is not UTF-8".into()))
    }

    fn quoted(&mut self) -> Result<String, SaslError> {
        let start = self.at;
        self.at += 1; // the opening quote
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err(malformed(format!("unterminated string at byte {start}"))),
                Some(b'"') => {
                    self.at += 1;
                    break;
                }
                Some(b'\\') => {
                    self.at += 1;
                    match self.peek() {
                        Some(b) => {
                            out.push(b);
                            self.at += 1;
                        }
                        None => {
                            return Err(malformed(format!("unterminated string at byte {start}")))
                        }
                    }
                }
                Some(b) => {
                    out.push(b);
                    self.at += 1;
                }
            }
        }
        // The whole token is UTF-8 and escapes only drop ASCII backslashes.
        String::from_utf8(out).map_err(|_| malformed("quoted string is not UTF-8".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_java_and_hdfs_native_styles() {
        let d = Directives::parse(
            br#"realm="default",nonce="a\"b",qop="auth-conf",charset=utf-8,cipher="3des,rc4",algorithm=md5-sess"#,
            MAX_CHALLENGE,
        )
        .unwrap();
        assert_eq!(d.required("realm").unwrap(), "default");
        assert_eq!(d.required("nonce").unwrap(), "a\"b");
        assert_eq!(d.required("charset").unwrap(), "utf-8");
        assert_eq!(
            split_list(d.required("cipher").unwrap()).collect::<Vec<_>>(),
            ["3des", "rc4"]
        );
        let d = Directives::parse(
            b" ,username=\"x\" , qop=auth-int,,digest-uri=hdfs/0, ",
            MAX_RESPONSE,
        )
        .unwrap();
        assert_eq!(d.required("qop").unwrap(), "auth-int");
        assert_eq!(d.required("digest-uri").unwrap(), "hdfs/0");
        assert!(d.single("realm").unwrap().is_none());
    }

    #[test]
    fn refuses_bad_syntax_duplicates_and_oversize() {
        for bad in [
            &b"nonce"[..],
            b"nonce=",
            b"nonce=\"abc",
            b"nonce=\"abc\\",
            b"nonce=\"a\" x",
            b"=a",
            b"a=b c=d",
            b"a=\xff",
        ] {
            assert!(Directives::parse(bad, MAX_RESPONSE).is_err(), "{bad:?}");
        }
        let d = Directives::parse(b"nonce=a,nonce=b", MAX_RESPONSE).unwrap();
        assert!(d.single("nonce").is_err());
        assert!(Directives::parse(&[b'a'; MAX_CHALLENGE], MAX_CHALLENGE).is_err());
        let many = "a=b,".repeat(MAX_DIRECTIVES + 1);
        assert!(Directives::parse(many.as_bytes(), MAX_RESPONSE).is_err());
    }

    #[test]
    fn writer_escapes_quotes() {
        let mut w = DirectiveWriter::default();
        let out = w
            .quoted("realm", "a\"b\\c")
            .plain("nc", "00000001")
            .finish();
        assert_eq!(out, br#"realm="a\"b\\c",nc=00000001"#);
        let d = Directives::parse(&out, MAX_RESPONSE).unwrap();
        assert_eq!(d.required("realm").unwrap(), "a\"b\\c");
    }
}
