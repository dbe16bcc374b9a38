//! Randomized model check (filled in below).
