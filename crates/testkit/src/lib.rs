//! In-process fixtures for the crates' own tests (a dev-dependency only; the product
//! never links it). The process-level fixtures — real `hafs` daemons — are
//! `hafs-cluster`'s and crates/tests'; these run servers as tasks of the test itself.
//!
//! - [`journalnode`]: JournalNodes over real IPC on loopback ports, stoppable and
//!   restartable on the same address and edits dir.
//! - [`server_task`]: any server as a task of the test, stopped on demand; IPC
//!   services on a loopback port.
//! - [`TempDir`]: a self-removing temporary directory.
//! - [`XorShift64`]: the seeded PRNG randomized tests print the seed of.

pub mod journalnode;
pub mod server_task;

pub use hafs_journal::test_util::TempDir;
pub use hafs_util::XorShift64;
pub use journalnode::{qjournal_uri, start_journal_nodes, TestJournalNode};
pub use server_task::{RpcServerTask, ServerTask};
