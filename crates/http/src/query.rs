//! Percent-encoding and query strings, as servlet containers decode them.

/// Decodes `%XX` escapes and `+` (as a space, form style). `None` on a bad escape or
/// a result that is not UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                // Two hex digits exactly (from_str_radix alone would take "+1").
                let hex = b
                    .get(i + 1..i + 3)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Decodes a path: `%XX` escapes only (`+` is a plus in a path).
pub fn path_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.to_string());
    }
    percent_decode(&s.replace('+', "%2B"))
}

/// Encodes a query value: unreserved characters stay, everything else is `%XX`.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Most parameters a query may carry; more is a malformed request, not a reason to
/// allocate.
pub const MAX_PARAMS: usize = 256;

/// `a=1&b=x%20y` as (name, value) pairs in order, decoded; a name without `=` has an
/// empty value. `None` on a bad escape or too many parameters.
pub fn parse_query(q: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    for pair in q.split('&').filter(|p| !p.is_empty()) {
        if out.len() == MAX_PARAMS {
            return None;
        }
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        out.push((percent_decode(k)?, percent_decode(v)?));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_decode_and_bad_escapes_are_refused() {
        assert_eq!(
            parse_query("a=1&b=x%20y+z&c").unwrap(),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x y z".into()),
                ("c".into(), "".into())
            ]
        );
        assert!(parse_query("a=%zz").is_none());
        assert!(parse_query("a=%ff").is_none());
        assert!(parse_query("a=%+1").is_none());
        assert!(parse_query("a=%4").is_none());
        assert_eq!(path_decode("/a+b%20c").unwrap(), "/a+b c");
        assert_eq!(percent_encode("a b/c"), "a%20b%2Fc");
    }
}
