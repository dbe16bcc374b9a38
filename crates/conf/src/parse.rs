//! Parsers for the value syntaxes Hadoop's `Configuration` accepts.
//!
//! They work on already-substituted, trimmed text and return `None` when the text is
//! not of the syntax; callers turn that into a `ConfError::BadValue` naming the key.

use std::time::Duration;

/// Unit of a time duration, and of a bare number given for a duration key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    Nanos,
    Micros,
    Millis,
    Seconds,
    Minutes,
    Hours,
    Days,
}

impl TimeUnit {
    /// A duration of `n` of this unit, or `None` if it does not fit a `Duration`.
    pub fn duration(self, n: u64) -> Option<Duration> {
        let secs_per = |factor: u64| n.checked_mul(factor).map(Duration::from_secs);
        match self {
            TimeUnit::Nanos => Some(Duration::from_nanos(n)),
            TimeUnit::Micros => Some(Duration::from_micros(n)),
            TimeUnit::Millis => Some(Duration::from_millis(n)),
            TimeUnit::Seconds => Some(Duration::from_secs(n)),
            TimeUnit::Minutes => secs_per(60),
            TimeUnit::Hours => secs_per(3600),
            TimeUnit::Days => secs_per(86_400),
        }
    }

    /// The suffix Hadoop uses for this unit.
    pub fn suffix(self) -> &'static str {
        match self {
            TimeUnit::Nanos => "ns",
            TimeUnit::Micros => "us",
            TimeUnit::Millis => "ms",
            TimeUnit::Seconds => "s",
            TimeUnit::Minutes => "m",
            TimeUnit::Hours => "h",
            TimeUnit::Days => "d",
        }
    }
}

/// Duration suffixes, two-letter ones first so that "ms" is not read as "s".
const DURATION_SUFFIXES: [TimeUnit; 7] = [
    TimeUnit::Nanos,
    TimeUnit::Micros,
    TimeUnit::Millis,
    TimeUnit::Seconds,
    TimeUnit::Minutes,
    TimeUnit::Hours,
    TimeUnit::Days,
];

/// An integer as Hadoop's getInt/getLong read it: optional sign, decimal digits or a
/// `0x` hexadecimal literal. Returned wide so every caller can range-check exactly.
pub fn parse_int(s: &str) -> Option<i128> {
    let (negative, unsigned) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (digits, radix) = match unsigned
        .strip_prefix("0x")
        .or_else(|| unsigned.strip_prefix("0X"))
    {
        Some(hex) => (hex, 16),
        None => (unsigned, 10),
    };
    // from_str_radix would accept a second sign; digits only from here on.
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    // 40 digits overflow i128 anyway; refuse before parsing absurd input.
    if digits.len() > 40 {
        return None;
    }
    let magnitude = i128::from_str_radix(digits, radix).ok()?;
    Some(if negative { -magnitude } else { magnitude })
}

/// A boolean as Hadoop's getBoolean reads it: `true` or `false`, any case.
pub fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// A floating-point number as Java's Float.parseFloat reads it, including the
/// `f`/`d` type suffix that Hadoop's own defaults use (`0.999f`). Only finite values.
pub fn parse_float(s: &str) -> Option<f64> {
    let number = s.strip_suffix(['f', 'F', 'd', 'D']).unwrap_or(s);
    // Rust also accepts "inf"/"nan" spellings; a configuration value never means those.
    if number.is_empty()
        || !number
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'))
    {
        return None;
    }
    number.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// A time duration as Hadoop's getTimeDuration reads it: a number with an optional
/// case-insensitive unit suffix (ns, us, ms, s, m, h, d); a bare number is in
/// `default_unit`. Negative durations are refused.
pub fn parse_duration(s: &str, default_unit: TimeUnit) -> Option<Duration> {
    let lower = s.to_ascii_lowercase();
    let (number, unit) = DURATION_SUFFIXES
        .iter()
        .find_map(|unit| {
            lower
                .strip_suffix(unit.suffix())
                .map(|number| (number.trim_end(), *unit))
        })
        .unwrap_or((lower.as_str(), default_unit));
    let n = parse_decimal(number)?;
    let n = u64::try_from(n).ok()?;
    unit.duration(n)
}

/// A byte count as Hadoop's getLongBytes reads it: a number with an optional
/// case-insensitive binary prefix k, m, g, t, p or e (powers of 1024).
pub fn parse_size(s: &str) -> Option<i64> {
    let last = s.chars().last()?;
    let shift = match last.to_ascii_lowercase() {
        'k' => 10,
        'm' => 20,
        'g' => 30,
        't' => 40,
        'p' => 50,
        'e' => 60,
        c if c.is_ascii_digit() => 0,
        _ => return None,
    };
    let number = if shift == 0 {
        s
    } else {
        s[..s.len() - 1].trim_end()
    };
    let n = i64::try_from(parse_decimal(number)?).ok()?;
    n.checked_mul(1i64 << shift)
}

/// Plain decimal (sign allowed), as Java's Long.parseLong.
fn parse_decimal(s: &str) -> Option<i128> {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if digits.is_empty() || digits.len() > 38 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse::<i128>().ok()
}

/// A umask as Hadoop's `fs.permissions.umask-mode` accepts it, returned as the mask
/// of permission bits to clear (e.g. `0o022`).
///
/// Octal: up to three significant octal digits, leading zeros allowed ("022", "0077").
/// Symbolic: comma-separated clauses `[ugoa]*[=+-][rwx-]*` that describe the
/// permissions to *allow*; the umask is their complement, so "u=rwx,g=r-x,o=r-x" is
/// 022. A `-` among the permission letters is a placeholder, as in `ls -l` output.
pub fn parse_umask(s: &str) -> Option<u16> {
    if s.is_empty() {
        return None;
    }
    if s.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        let significant = s.trim_start_matches('0');
        if significant.len() > 3 {
            return None;
        }
        if significant.is_empty() {
            return Some(0);
        }
        return u16::from_str_radix(significant, 8).ok();
    }
    parse_symbolic_umask(s)
}

fn parse_symbolic_umask(s: &str) -> Option<u16> {
    // Permission bits the umask lets through; classes never named allow nothing.
    let mut allowed: u16 = 0;
    let mut clauses = 0;
    for clause in s.split(',').map(str::trim) {
        if clause.is_empty() {
            continue;
        }
        let op_at = clause.find(['=', '+', '-'])?;
        let (who, rest) = clause.split_at(op_at);
        let op = rest.as_bytes()[0];
        let mut classes: u16 = 0;
        for c in who.chars() {
            classes |= match c {
                'u' => 0o700,
                'g' => 0o070,
                'o' => 0o007,
                'a' => 0o777,
                _ => return None,
            };
        }
        if who.is_empty() {
            classes = 0o777;
        }
        let mut bits: u16 = 0;
        for c in rest[1..].chars() {
            bits |= match c {
                'r' => 0o444,
                'w' => 0o222,
                'x' => 0o111,
                '-' => 0,
                _ => return None,
            };
        }
        let bits = bits & classes;
        allowed = match op {
            b'=' => (allowed & !classes) | bits,
            b'+' => allowed | bits,
            _ => allowed & !bits,
        };
        clauses += 1;
    }
    if clauses == 0 {
        return None;
    }
    Some(!allowed & 0o777)
}

/// Splits `host[:port]` (IPv6 hosts in brackets) and applies `default_port` when no
/// port is given. Returns `None` for an empty host, a bad port, or stray characters.
pub fn parse_host_port(s: &str, default_port: u16) -> Option<(String, u16)> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let close = rest.find(']')?;
        let host = &rest[..close];
        let after = &rest[close + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return None,
        };
        if host.is_empty()
            || !host
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return None;
        }
        (host, port)
    } else {
        let (host, port) = match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        };
        if host.is_empty()
            || !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        {
            return None;
        }
        (host, port)
    };
    let port = match port {
        None => default_port,
        Some(p) if !p.is_empty() && p.len() <= 5 && p.chars().all(|c| c.is_ascii_digit()) => {
            p.parse::<u16>().ok()?
        }
        Some(_) => return None,
    };
    Some((host.to_string(), port))
}

/// Formats a host and port the way they are written in configuration.
pub fn format_host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Hadoop's getTrimmedStrings: comma-separated, each element trimmed; empty elements
/// (from "a,,b" or a trailing comma) are dropped.
pub fn split_trimmed(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_decimal_hex_and_sign() {
        assert_eq!(parse_int("42"), Some(42));
        assert_eq!(parse_int("-7"), Some(-7));
        assert_eq!(parse_int("+7"), Some(7));
        assert_eq!(parse_int("0x1F"), Some(31));
        assert_eq!(parse_int("-0x10"), Some(-16));
        assert_eq!(parse_int(""), None);
        assert_eq!(parse_int("abc"), None);
        assert_eq!(parse_int("1.5"), None);
        assert_eq!(parse_int("--1"), None);
        assert_eq!(parse_int("0x"), None);
        assert_eq!(parse_int(&"9".repeat(100)), None);
    }

    #[test]
    fn bools_any_case() {
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_bool("False"), Some(false));
        assert_eq!(parse_bool("yes"), None);
        assert_eq!(parse_bool("1"), None);
    }

    #[test]
    fn floats_with_java_suffix() {
        assert_eq!(parse_float("0.999f"), Some(0.999));
        assert_eq!(parse_float("0.03F"), Some(0.03));
        assert_eq!(parse_float("2d"), Some(2.0));
        assert_eq!(parse_float("1e3"), Some(1000.0));
        assert_eq!(parse_float("-0.5"), Some(-0.5));
        assert_eq!(parse_float("f"), None);
        assert_eq!(parse_float("NaN"), None);
        assert_eq!(parse_float("inf"), None);
        assert_eq!(parse_float("1e999"), None);
        assert_eq!(parse_float("abc"), None);
    }

    #[test]
    fn durations_with_every_suffix() {
        let s = TimeUnit::Seconds;
        assert_eq!(parse_duration("5ns", s), Some(Duration::from_nanos(5)));
        assert_eq!(parse_duration("5us", s), Some(Duration::from_micros(5)));
        assert_eq!(parse_duration("5ms", s), Some(Duration::from_millis(5)));
        assert_eq!(parse_duration("5s", s), Some(Duration::from_secs(5)));
        assert_eq!(parse_duration("5m", s), Some(Duration::from_secs(300)));
        assert_eq!(parse_duration("5h", s), Some(Duration::from_secs(18_000)));
        assert_eq!(parse_duration("5d", s), Some(Duration::from_secs(432_000)));
        assert_eq!(parse_duration("5MS", s), Some(Duration::from_millis(5)));
        assert_eq!(parse_duration("5", s), Some(Duration::from_secs(5)));
        assert_eq!(
            parse_duration("5", TimeUnit::Millis),
            Some(Duration::from_millis(5))
        );
        assert_eq!(parse_duration("-5s", s), None);
        assert_eq!(parse_duration("s", s), None);
        assert_eq!(parse_duration("5x", s), None);
        assert_eq!(parse_duration("5.5s", s), None);
        assert_eq!(parse_duration(&format!("{}d", u64::MAX), s), None);
    }

    #[test]
    fn sizes_with_binary_prefixes() {
        assert_eq!(parse_size("134217728"), Some(134_217_728));
        assert_eq!(parse_size("128m"), Some(128 << 20));
        assert_eq!(parse_size("128M"), Some(128 << 20));
        assert_eq!(parse_size("1k"), Some(1024));
        assert_eq!(parse_size("2g"), Some(2 << 30));
        assert_eq!(parse_size("1t"), Some(1 << 40));
        assert_eq!(parse_size("1p"), Some(1 << 50));
        assert_eq!(parse_size("1e"), Some(1 << 60));
        assert_eq!(parse_size("-1k"), Some(-1024));
        assert_eq!(parse_size("8e"), None, "overflows i64");
        assert_eq!(parse_size("1b"), None);
        assert_eq!(parse_size("k"), None);
        assert_eq!(parse_size("1.5g"), None);
    }

    #[test]
    fn umask_octal() {
        assert_eq!(parse_umask("022"), Some(0o022));
        assert_eq!(parse_umask("0022"), Some(0o022));
        assert_eq!(parse_umask("77"), Some(0o077));
        assert_eq!(parse_umask("000"), Some(0));
        assert_eq!(parse_umask("0777"), Some(0o777));
        assert_eq!(parse_umask("1022"), None);
        assert_eq!(parse_umask("089"), None);
        assert_eq!(parse_umask(""), None);
    }

    #[test]
    fn umask_symbolic() {
        assert_eq!(parse_umask("u=rwx,g=r-x,o=r-x"), Some(0o022));
        assert_eq!(parse_umask("u=rwx,g=rx,o=rx"), Some(0o022));
        assert_eq!(parse_umask("u=rwx,g=rwx,o="), Some(0o007));
        assert_eq!(parse_umask("u=rwx"), Some(0o077));
        assert_eq!(parse_umask("a=rwx,o-w"), Some(0o002));
        assert_eq!(parse_umask("a+r"), Some(0o333));
        assert_eq!(parse_umask("=rw"), Some(0o111));
        assert_eq!(parse_umask("u=rwz"), None);
        assert_eq!(parse_umask("q=r"), None);
        assert_eq!(parse_umask("rwx"), None);
        assert_eq!(parse_umask(","), None);
    }

    #[test]
    fn host_port_forms() {
        assert_eq!(
            parse_host_port("nn1:9000", 8020),
            Some(("nn1".into(), 9000))
        );
        assert_eq!(parse_host_port("nn1", 8020), Some(("nn1".into(), 8020)));
        assert_eq!(
            parse_host_port("[::1]:9000", 8020),
            Some(("::1".into(), 9000))
        );
        assert_eq!(parse_host_port("[::1]", 8020), Some(("::1".into(), 8020)));
        assert_eq!(parse_host_port("nn1:", 8020), None);
        assert_eq!(parse_host_port("nn1:70000", 8020), None);
        assert_eq!(parse_host_port(":80", 8020), None);
        assert_eq!(parse_host_port("a b:80", 8020), None);
        assert_eq!(parse_host_port("a:1:2", 8020), None);
        assert_eq!(format_host_port("::1", 5), "[::1]:5");
        assert_eq!(format_host_port("h", 5), "h:5");
    }

    #[test]
    fn trimmed_lists() {
        assert_eq!(
            split_trimmed(" nn1 , nn2,,nn3 ,"),
            vec!["nn1", "nn2", "nn3"]
        );
        assert!(split_trimmed("  ").is_empty());
    }
}
