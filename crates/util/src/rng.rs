//! xorshift64*: a tiny, fast, deterministic PRNG. No cryptographic use: it spreads
//! replicas over DataNodes, fills benchmark data that must not compress by accident,
//! and drives randomized tests, which print their seed so a failure can be replayed.

/// The state used for a zero seed: zero is the one state xorshift never leaves.
const ZERO_SEED: u64 = 0x9E37_79B9_7F4A_7C15;

/// One xorshift64* step: the next state, and the output drawn from it. For callers
/// that keep the state elsewhere (an atomic shared by threads).
pub const fn step(state: u64) -> (u64, u64) {
    let mut x = state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    (x, x.wrapping_mul(0x2545_F491_4F6C_DD1D))
}

/// A seeded xorshift64* generator.
#[derive(Debug, Clone)]
pub struct XorShift64 {
    state: u64,
}

impl XorShift64 {
    pub fn new(seed: u64) -> XorShift64 {
        XorShift64 {
            state: if seed == 0 { ZERO_SEED } else { seed },
        }
    }

    /// A seed from the clock, for tests that print it.
    pub fn seed_from_time() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    }

    /// A seed from the OS random source (the zero seed's constant if it fails).
    pub fn seed_from_os() -> u64 {
        let mut b = [0u8; 8];
        getrandom::fill(&mut b)
            .map(|_| u64::from_le_bytes(b))
            .unwrap_or(ZERO_SEED)
    }

    pub fn next_u64(&mut self) -> u64 {
        let (state, out) = step(self.state);
        self.state = state;
        out
    }

    /// A value in `0..n` (n > 0), uniform enough for tests and placement.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "XorShift64::below(0)");
        self.next_u64() % n
    }

    /// A value in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Fills `buf` with pseudo-random bytes.
    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let x = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&x[..chunk.len()]);
        }
    }

    /// `len` pseudo-random bytes, one draw each.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_and_bounded() {
        let mut a = XorShift64::new(42);
        let mut b = XorShift64::new(42);
        for _ in 0..1000 {
            let x = a.below(7);
            assert_eq!(x, b.below(7));
            assert!(x < 7);
        }
        let f = a.next_f64();
        assert!((0.0..1.0).contains(&f));
        let mut buf = [0u8; 13];
        a.fill(&mut buf);
        assert!(buf.iter().any(|&x| x != 0));
        let mut z = XorShift64::new(0);
        assert_ne!(z.next_u64(), 0);
    }

    #[test]
    fn step_is_the_generator() {
        let mut g = XorShift64::new(7);
        let (s, out) = step(7);
        assert_eq!(g.next_u64(), out);
        assert_eq!(g.next_u64(), step(s).1);
    }
}
