//! The benchmark's file content: a deterministic byte stream per file, so the read phase
//! can check every byte with a `memcmp` against memory instead of hashing or storing
//! what was written.
//!
//! File `f` holds, at offset `p`, the byte `TABLE[(p + f * FILE_SHIFT) % PERIOD]`, where
//! `TABLE` is pseudo-random. `PERIOD` is a prime, so a chunk found at the wrong offset
//! (a misplaced packet or block: shifts that are multiples of a power of two) or in the
//! wrong file never matches, while writing and checking cost no more than copying
//! from one table kept in memory.

use hafs_util::XorShift64;

/// A prime just below 1 MiB: no power-of-two shift (packet, block) is a multiple of it.
pub const PERIOD: usize = 1_048_573;
/// How far apart the streams of consecutive files start in the table.
const FILE_SHIFT: u64 = 104_729;

/// The table plus enough of its own start repeated after it that any slice of up to
/// `max_chunk` bytes is contiguous.
pub struct Pattern {
    bytes: Vec<u8>,
    max_chunk: usize,
}

impl Pattern {
    /// A pattern serving slices of up to `max_chunk` bytes.
    pub fn new(max_chunk: usize) -> Pattern {
        let mut bytes = Vec::with_capacity(PERIOD + max_chunk);
        // xorshift64*: fast, deterministic, and not compressible by accident.
        let mut rng = XorShift64::new(0x9e37_79b9_7f4a_7c15);
        while bytes.len() < PERIOD {
            let word = rng.next_u64().to_le_bytes();
            let take = (PERIOD - bytes.len()).min(8);
            bytes.extend_from_slice(&word[..take]);
        }
        // Repeat the start so a slice that wraps past PERIOD stays contiguous.
        let mut i = 0;
        while bytes.len() < PERIOD + max_chunk {
            let b = bytes[i];
            bytes.push(b);
            i += 1;
        }
        Pattern { bytes, max_chunk }
    }

    pub fn max_chunk(&self) -> usize {
        self.max_chunk
    }

    /// The `len` bytes of file `file` at offset `pos`. `len` is capped at `max_chunk`.
    pub fn slice(&self, file: u32, pos: u64, len: usize) -> &[u8] {
        let start = ((pos + u64::from(file) * FILE_SHIFT) % PERIOD as u64) as usize;
        &self.bytes[start..start + len.min(self.max_chunk)]
    }

    /// Whether `got` is exactly what file `file` holds at `pos` (any length: compared in
    /// pieces of at most `max_chunk`).
    pub fn matches(&self, file: u32, pos: u64, got: &[u8]) -> bool {
        let mut off = 0usize;
        while off < got.len() {
            let n = (got.len() - off).min(self.max_chunk.max(1));
            if got[off..off + n] != *self.slice(file, pos + off as u64, n) {
                return false;
            }
            off += n;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn byte_at(p: &Pattern, file: u32, pos: u64) -> u8 {
        p.slice(file, pos, 1)[0]
    }

    #[test]
    fn slices_agree_with_the_byte_definition_across_the_wrap() {
        let p = Pattern::new(4096);
        let pos = PERIOD as u64 - 100;
        let s = p.slice(0, pos, 300);
        assert_eq!(s.len(), 300);
        for (i, b) in s.iter().enumerate() {
            assert_eq!(*b, byte_at(&p, 0, pos + i as u64), "byte {i}");
        }
        assert_eq!(p.slice(0, PERIOD as u64, 16), p.slice(0, 0, 16));
        assert_eq!(p.slice(3, 10, 100_000).len(), 4096, "capped at max_chunk");
    }

    #[test]
    fn deterministic_and_distinct_per_file_and_offset() {
        let a = Pattern::new(1 << 16);
        let b = Pattern::new(1 << 20);
        assert_eq!(a.slice(2, 12345, 1000), b.slice(2, 12345, 1000));
        assert_ne!(a.slice(0, 0, 4096), a.slice(1, 0, 4096));
        // A block or packet at the wrong place does not match.
        for shift in [1u64 << 16, 1 << 20, 1 << 27, 3 << 27] {
            assert_ne!(
                a.slice(0, 0, 4096),
                a.slice(0, shift, 4096),
                "shift {shift}"
            );
        }
    }

    #[test]
    fn matches_checks_long_buffers_in_pieces() {
        let p = Pattern::new(1000);
        let mut data = Vec::new();
        let mut pos = 777u64;
        while data.len() < 5000 {
            let s = p.slice(5, pos, 1000);
            data.extend_from_slice(s);
            pos += s.len() as u64;
        }
        assert!(p.matches(5, 777, &data));
        assert!(!p.matches(4, 777, &data));
        data[4321] ^= 1;
        assert!(!p.matches(5, 777, &data));
    }
}
