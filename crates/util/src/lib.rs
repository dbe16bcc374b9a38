//! The lowest hafs crate: primitives that several crates need and that used to be
//! copied into each of them (and drifted apart). Nothing here knows about HDFS.
//!
//! - [`invariant`]: the failure policy — [`invariant!`] (checked in every build),
//!   [`invariant::stop_on_panic`] (a daemon's panic is an exit with a distinct status),
//!   poison-checking lock helpers.
//! - [`clock`]: this host's monotonic clock as a number, shared by every process.
//! - [`uuid`]: random version-4 UUID strings (storage ids, DataNode ids).
//! - [`latency`]: a fixed-bucket latency histogram for `/prom` and `/jmx`.
//! - [`rng`]: xorshift64*, a small deterministic PRNG (replica placement, bench data,
//!   randomized tests that print their seed).

pub mod clock;
pub mod invariant;
pub mod latency;
pub mod rng;
pub mod uuid;

pub use rng::XorShift64;
