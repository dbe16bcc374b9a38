//! The lowest hafs crate: primitives that several crates need and that used to be
//! copied into each of them (and drifted apart). Nothing here knows about HDFS.
//!
//! - [`clock`]: this host's monotonic clock as a number, shared by every process.
//! - [`uuid`]: random version-4 UUID strings (storage ids, DataNode ids).
//! - [`rng`]: xorshift64*, a small deterministic PRNG (replica placement, bench data,
//!   randomized tests that print their seed).

pub mod clock;
pub mod rng;
pub mod uuid;

pub use rng::XorShift64;
