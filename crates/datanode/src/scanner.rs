//! The block scanner (not yet implemented).
