//! The bodies of hafs's fuzz targets.
//!
//! Each target is a function taking any bytes and driving the real parser of the crate
//! that owns the format, as the server would on bytes from a peer or a disk. A target
//! passes when the parser returns (`Ok` or a clear `Err`) for every input: a panic, an
//! abort, a hang or a huge allocation is a bug. [`BoundedAllocator`] turns any single
//! allocation above [`MAX_ALLOCATION`] into an abort, so "a tiny input made us reserve
//! gigabytes" is a crash too.
//!
//! The cargo-fuzz project in `fuzz/` (outside the workspace) wraps each function in a
//! `fuzz_target!`; `tests/corpus.rs` replays every committed corpus and regression input
//! through [`TARGETS`] on every test run, without cargo-fuzz. `scripts/fuzz.sh` runs the
//! long searches.

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;

mod conf_xml;
mod datatransfer;
mod edit_log;
mod fsimage;
mod http_head;
mod ipc;
mod rpc_request;
mod sasl;
pub mod seeds;
mod storage_files;
mod tokens;

pub use conf_xml::conf_xml;
pub use datatransfer::{datatransfer_op, datatransfer_packet, datatransfer_sasl};
pub use edit_log::{edit_ops_apply, edit_records, edit_segment};
pub use fsimage::fsimage;
pub use http_head::http_request_head;
pub use ipc::{ipc_connection, ipc_response};
pub use rpc_request::rpc_request;
pub use sasl::{sasl_digest_client, sasl_digest_server, sasl_unwrap};
pub use storage_files::{control_files, version_files};
pub use tokens::tokens;

/// A fuzz target: any bytes in, no panic out.
pub type Target = fn(&[u8]);

/// Every target, by the name its corpus directory and cargo-fuzz binary carry.
pub const TARGETS: &[(&str, Target)] = &[
    ("ipc_connection", ipc_connection),
    ("ipc_response", ipc_response),
    ("rpc_request", rpc_request),
    ("sasl_digest_server", sasl_digest_server),
    ("sasl_digest_client", sasl_digest_client),
    ("sasl_unwrap", sasl_unwrap),
    ("tokens", tokens),
    ("datatransfer_op", datatransfer_op),
    ("datatransfer_packet", datatransfer_packet),
    ("datatransfer_sasl", datatransfer_sasl),
    ("edit_records", edit_records),
    ("edit_ops_apply", edit_ops_apply),
    ("edit_segment", edit_segment),
    ("fsimage", fsimage),
    ("control_files", control_files),
    ("version_files", version_files),
    ("conf_xml", conf_xml),
    ("http_request_head", http_request_head),
];

/// The target called `name`.
pub fn target(name: &str) -> Option<Target> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// The largest single allocation a parser may make. Inputs are small (libFuzzer's
/// default is at most 4 KiB; corpus files are smaller still), and every length a peer
/// sends must be checked against what actually arrives or a fixed bound well below this,
/// so anything larger means a claimed length was trusted.
pub const MAX_ALLOCATION: usize = 8 << 20;

/// A global allocator that aborts on any single allocation above [`MAX_ALLOCATION`],
/// naming the size: libFuzzer records the input as a crash, the corpus test fails loudly.
pub struct BoundedAllocator;

impl BoundedAllocator {
    fn check(size: usize) {
        if size > MAX_ALLOCATION {
            use std::io::Write;
            // Stderr is unbuffered: this formats on the stack and does not allocate.
            let _ = writeln!(
                std::io::stderr(),
                "hafs-fuzz-targets: an allocation of {size} bytes (limit {MAX_ALLOCATION}): a length from the input was trusted"
            );
            std::process::abort();
        }
    }
}

// SAFETY: every call forwards to the system allocator unchanged after the size check.
unsafe impl GlobalAlloc for BoundedAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Self::check(layout.size());
        // SAFETY: same layout as the caller's, which upholds alloc's contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Self::check(layout.size());
        // SAFETY: as in alloc.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: ptr came from System with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        Self::check(new_size);
        // SAFETY: ptr came from System with this layout; the caller upholds the rest.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Runs an async parser to completion on this thread's current-thread runtime (with a
/// timer, as the HTTP head reader needs one). The readers are byte slices, which never
/// wait, so a future that does not finish is a parser that loops.
pub(crate) fn block_on<F: Future>(f: F) -> F::Output {
    thread_local! {
        static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a current-thread runtime");
    }
    RUNTIME.with(|rt| rt.block_on(f))
}

/// Splits `data` in two at a point its first byte chooses, for targets that feed two
/// messages (the first byte is not part of either).
pub(crate) fn split_two(data: &[u8]) -> (&[u8], &[u8]) {
    match data.split_first() {
        None => (&[], &[]),
        Some((&b, rest)) => {
            let at = (usize::from(b) * rest.len()) / 255;
            rest.split_at(at.min(rest.len()))
        }
    }
}
