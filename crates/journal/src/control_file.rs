//! The framing shared by the JournalNode's small crash-safe control files
//! (`journal_state`, `lease_state`): magic (8 bytes) | u32 BE version | u32 BE body
//! length | body | u32 BE crc32c of everything before it. Files are replaced with
//! write-temp, fsync, rename, fsync-dir ([`crate::fsutil::write_atomic`]), so a crash
//! leaves the old or the new file, and any damage is detected, never guessed around.

/// One kind of control file.
pub struct ControlFormat {
    pub magic: &'static [u8; 8],
    pub version: u32,
    /// A bound on the body: anything larger is damage, not data.
    pub max_body: usize,
    /// Names the file in errors, e.g. "lease state file".
    pub what: &'static str,
}

const HEADER: usize = 16;
const TRAILER: usize = 4;

impl ControlFormat {
    /// The file's bytes for `body`.
    pub fn frame(&self, body: &[u8]) -> Vec<u8> {
        debug_assert!(body.len() <= self.max_body, "{} body too large", self.what);
        let mut out = Vec::with_capacity(HEADER + body.len() + TRAILER);
        out.extend_from_slice(self.magic);
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(&(body.len() as u32).to_be_bytes());
        out.extend_from_slice(body);
        let crc = crc32c::crc32c(&out);
        out.extend_from_slice(&crc.to_be_bytes());
        out
    }

    /// The body of a file's bytes, checked; `Err` names what is wrong.
    pub fn unframe<'a>(&self, bytes: &'a [u8]) -> Result<&'a [u8], String> {
        let what = self.what;
        if bytes.len() < HEADER + TRAILER {
            return Err(format!(
                "{what} too short ({} bytes, at least {} needed)",
                bytes.len(),
                HEADER + TRAILER
            ));
        }
        if &bytes[..8] != self.magic {
            return Err(format!("bad magic: not a hafs {what}"));
        }
        let be32 = |at: usize| {
            u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        let version = be32(8);
        if version != self.version {
            return Err(format!(
                "unsupported {what} version {version} (this build reads {})",
                self.version
            ));
        }
        let len = be32(12) as usize;
        if len > self.max_body || bytes.len() != HEADER + len + TRAILER {
            return Err(format!(
                "{what} body length {len} does not match the file length {}",
                bytes.len()
            ));
        }
        let stored = be32(HEADER + len);
        let computed = crc32c::crc32c(&bytes[..HEADER + len]);
        if stored != computed {
            return Err(format!(
                "{what} checksum mismatch: stored {stored:08x}, computed {computed:08x}"
            ));
        }
        Ok(&bytes[HEADER..HEADER + len])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: ControlFormat = ControlFormat {
        magic: b"HAFSTEST",
        version: 1,
        max_body: 64,
        what: "test file",
    };

    #[test]
    fn round_trip_and_every_damage_is_detected() {
        let b = F.frame(b"hello");
        assert_eq!(F.unframe(&b).unwrap(), b"hello");
        for i in 0..b.len() {
            for bit in 0..8 {
                let mut bad = b.clone();
                bad[i] ^= 1 << bit;
                assert!(F.unframe(&bad).is_err(), "flip {i}/{bit}");
            }
        }
        for cut in 0..b.len() {
            assert!(F.unframe(&b[..cut]).is_err(), "cut at {cut}");
        }
        let mut long = b.clone();
        long.push(0);
        assert!(F.unframe(&long).is_err());
        // A length field beyond the bound is refused before anything is trusted.
        let mut huge = b.clone();
        huge[12..16].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(F.unframe(&huge).unwrap_err().contains("body length"));
    }
}
