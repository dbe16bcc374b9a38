//! Delegation tokens on the NameNode (issue 12 part 4).
//!
//! - [`secret_manager`]: the state (master keys, live tokens, counters) as plain data with
//!   the namespace's plan/apply discipline: plans check a request and return the edit;
//!   `apply` changes the state for a live call and for a replayed edit alike, so a
//!   Standby tailing the log and a NameNode restarting from image + edits hold the same
//!   tokens as the Active that issued them.
//! - [`token_method`]: the TOKEN (DIGEST-MD5) SASL method the RPC server offers in secure
//!   mode, whose passwords come from the secret manager.
//! - [`rpc`]: getDelegationToken / renewDelegationToken / cancelDelegationToken.

pub mod rpc;
pub mod secret_manager;
pub mod token_method;

pub use secret_manager::{DelegationTokenConfig, DelegationTokens, TokenOpError};
pub use token_method::{token_method, NameMapper, TokenMethod};
