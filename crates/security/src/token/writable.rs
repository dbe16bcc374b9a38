//! Hadoop's `WritableUtils` variable-length integers and `Text`, the encodings of a token
//! identifier, a `Token` and a version-0 token storage file.
//!
//! The vlong format (WritableUtils.writeVLong): a value in -112..=127 is one byte; any
//! other value is a length byte (-113..=-120 for 1..=8 positive bytes, -121..=-128 for 1..=8
//! bytes of a one's-complemented negative value) followed by the big-endian bytes.

use super::TokenError;

/// Appends `v` as a Hadoop vlong.
pub fn write_vlong(out: &mut Vec<u8>, v: i64) {
    if (-112..=127).contains(&v) {
        out.push(v as u8);
        return;
    }
    let (magnitude, base) = if v < 0 { (!v, -120i32) } else { (v, -112i32) };
    let len = 8 - (magnitude.leading_zeros() / 8) as usize;
    out.push((base - len as i32) as i8 as u8);
    for i in (0..len).rev() {
        out.push((magnitude >> (i * 8)) as u8);
    }
}

/// Appends `v` as a Hadoop vint (the same encoding as a vlong).
pub fn write_vint(out: &mut Vec<u8>, v: i32) {
    write_vlong(out, v as i64)
}

/// Appends a Hadoop `Text`: vint byte length, then UTF-8.
pub fn write_text(out: &mut Vec<u8>, s: &str) {
    write_bytes(out, s.as_bytes())
}

/// Appends a vint length and the bytes (Token's identifier and password).
pub fn write_bytes(out: &mut Vec<u8>, b: &[u8]) {
    let len = i32::try_from(b.len()).expect("Writable byte arrays are shorter than 2 GiB");
    write_vint(out, len);
    out.extend_from_slice(b);
}

/// A cursor over Writable bytes. Every read is bounded by what is left; nothing panics.
pub struct Reader<'a> {
    buf: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    /// `what` names the structure in errors ("token identifier", "token storage").
    pub fn new(buf: &'a [u8], what: &'static str) -> Reader<'a> {
        Reader { buf, what }
    }

    pub fn remaining(&self) -> &'a [u8] {
        self.buf
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    fn truncated(&self) -> TokenError {
        TokenError::Malformed(format!("{}: truncated", self.what))
    }

    pub fn byte(&mut self) -> Result<u8, TokenError> {
        let (&b, rest) = self.buf.split_first().ok_or_else(|| self.truncated())?;
        self.buf = rest;
        Ok(b)
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], TokenError> {
        if n > self.buf.len() {
            return Err(self.truncated());
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    pub fn vlong(&mut self) -> Result<i64, TokenError> {
        let first = self.byte()? as i8;
        if first >= -112 {
            return Ok(first as i64);
        }
        let negative = first < -120;
        let len = if negative {
            -(first as i32 + 120)
        } else {
            -(first as i32 + 112)
        } as usize;
        debug_assert!((1..=8).contains(&len));
        let mut v: i64 = 0;
        for &b in self.take(len)? {
            v = (v << 8) | b as i64;
        }
        Ok(if negative { !v } else { v })
    }

    pub fn vint(&mut self) -> Result<i32, TokenError> {
        let v = self.vlong()?;
        i32::try_from(v).map_err(|_| {
            TokenError::Malformed(format!(
                "{}: value {v} too long to fit in integer",
                self.what
            ))
        })
    }

    /// A vint length (at most `max`) and that many bytes.
    pub fn bytes(&mut self, max: usize, field: &str) -> Result<&'a [u8], TokenError> {
        let len = self.vint()?;
        let len = usize::try_from(len).map_err(|_| {
            TokenError::Malformed(format!("{}: negative length {len} of {field}", self.what))
        })?;
        if len > max {
            return Err(TokenError::Malformed(format!(
                "{}: {field} of {len} bytes (at most {max})",
                self.what
            )));
        }
        self.take(len)
    }

    /// A `Text` of at most `max` bytes, which must be UTF-8.
    pub fn text(&mut self, max: usize, field: &str) -> Result<String, TokenError> {
        let b = self.bytes(max, field)?;
        String::from_utf8(b.to_vec())
            .map_err(|_| TokenError::Malformed(format!("{}: {field} is not UTF-8", self.what)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(v: i64) -> Vec<u8> {
        let mut out = Vec::new();
        write_vlong(&mut out, v);
        out
    }

    #[test]
    fn vlong_matches_hadoop_byte_for_byte() {
        // Values worked by hand from WritableUtils.writeVLong.
        assert_eq!(enc(0), [0x00]);
        assert_eq!(enc(127), [0x7f]);
        assert_eq!(enc(-112), [0x90]);
        assert_eq!(enc(128), [0x8f, 0x80]);
        assert_eq!(enc(255), [0x8f, 0xff]);
        assert_eq!(enc(256), [0x8e, 0x01, 0x00]);
        assert_eq!(enc(-113), [0x87, 0x70]);
        assert_eq!(enc(-256), [0x87, 0xff]);
        assert_eq!(enc(-257), [0x86, 0x01, 0x00]);
        assert_eq!(
            enc(i64::MAX),
            [0x88, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
        assert_eq!(
            enc(i64::MIN),
            [0x80, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
        // A millisecond timestamp takes a 6-byte body.
        assert_eq!(enc(1_700_000_000_000).len(), 7);
    }

    #[test]
    fn vlong_round_trips_and_bounds() {
        let mut samples = vec![i64::MIN, i64::MAX, -1, 1, -120, -121, -128, -129];
        let mut x: i64 = 1;
        for _ in 0..63 {
            samples.extend([x, -x, x - 1, x + 1, -x - 1]);
            x = x.wrapping_mul(2);
        }
        for v in samples {
            let b = enc(v);
            let mut r = Reader::new(&b, "test");
            assert_eq!(r.vlong().unwrap(), v, "{v}");
            assert!(r.is_empty());
            // Every truncation is an error, never a panic.
            for n in 0..b.len() {
                assert!(Reader::new(&b[..n], "test").vlong().is_err());
            }
        }
        let big = enc(1 << 40);
        assert!(Reader::new(&big, "t").vint().is_err());
    }

    #[test]
    fn text_is_bounded_and_utf8() {
        let mut b = Vec::new();
        write_text(&mut b, "alice@HAFS.TEST");
        assert_eq!(b[0], 15);
        assert_eq!(
            Reader::new(&b, "t").text(64, "owner").unwrap(),
            "alice@HAFS.TEST"
        );
        assert!(Reader::new(&b, "t").text(3, "owner").is_err());
        assert!(Reader::new(&[2, 0xff, 0xfe], "t")
            .text(64, "owner")
            .is_err());
        assert!(Reader::new(&[0xff], "t").text(64, "owner").is_err()); // length -1
    }
}
