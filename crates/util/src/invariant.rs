//! The failure policy, and the one place that enforces it (docs/architecture.md,
//! "Failure policy").
//!
//! - **Input** from the network or a disk (a frame, a record, a request, a file) that is
//!   wrong is the peer's or the disk's fault: the code answers it with a typed error and
//!   carries on. Never a panic, never an [`invariant!`].
//! - **An internal invariant** that breaks (a txid going back, committed passing
//!   written, a replica state moving where it never may) means this process's own state
//!   can no longer be trusted. The daemon stops at once — it logs the violation and
//!   exits with [`INVARIANT_EXIT_CODE`] — so that a supervisor or the failover
//!   controller sees it and a peer takes over with state that is still sound. It never
//!   keeps serving half-applied state.
//!
//! Both halves of the second rule live here. [`invariant!`] checks a condition in every
//! build (it is not a `debug_assert!`): on failure it logs at error level, naming the
//! check and its context, and panics. [`stop_on_panic`], installed by every daemon at
//! start, turns any panic — a failed [`invariant!`] or `assert!`, an `expect` on a
//! poisoned lock, an index out of bounds — into that exit, from the panic hook, before
//! any unwinding: no `catch_unwind` (the IPC server's, the edit-log syncer's) can turn
//! it into an error answer, and no other thread ever sees the poisoned lock it leaves.
//!
//! In tests nothing is installed, so a failed check is an ordinary panic that the test
//! (or the model checker's `catch_unwind`) sees.

use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// The exit status of a daemon stopped by a broken invariant (or any panic): BSD's
/// `EX_SOFTWARE`, "an internal software error has been detected". Distinct from 1
/// (startup and configuration errors) and from a signal's death, so that a supervisor
/// (the sandbox, a test, systemd) can tell a stop by policy from a crash or a refusal
/// to start.
pub const INVARIANT_EXIT_CODE: i32 = 70;

/// Checks an internal invariant in every build. On failure: logs at error level the
/// condition, the message and the place, then panics (which a daemon turns into an
/// exit with [`INVARIANT_EXIT_CODE`]; see [`stop_on_panic`]).
///
/// ```
/// # let (txid, last) = (5u64, 4u64);
/// hafs_util::invariant!(txid > last, "txid {txid} after {last}: txids only go up");
/// ```
#[macro_export]
macro_rules! invariant {
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            $crate::invariant::violated(
                stringify!($cond),
                &format!($($arg)+),
                file!(),
                line!(),
            );
        }
    };
}

/// A broken invariant: log it and panic. Use [`invariant!`]; this is its slow path.
#[cold]
#[inline(never)]
pub fn violated(condition: &str, message: &str, file: &str, line: u32) -> ! {
    tracing::error!(
        target: "hafs::invariant",
        %condition,
        location = %format!("{file}:{line}"),
        "invariant violated: {message}"
    );
    panic!("invariant violated at {file}:{line}: {message} ({condition})");
}

/// Installs the daemon's panic hook: a panic anywhere in the process (any thread, any
/// task) logs the panic with its place and exits with [`INVARIANT_EXIT_CODE`]. Called
/// once, first thing, by every daemon; never by a library or a test.
pub fn stop_on_panic(daemon: &'static str) {
    std::panic::set_hook(Box::new(move |info| {
        let place = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into());
        let thread = std::thread::current();
        let thread = thread.name().unwrap_or("unnamed");
        tracing::error!(
            target: "hafs::invariant",
            daemon,
            thread,
            location = %place,
            "stopping: {what}"
        );
        // The log may go through a buffered writer; say it on stderr too, plainly, so
        // the supervisor's log tail always has the reason.
        eprintln!(
            "hafs {daemon}: internal error, stopping (exit {INVARIANT_EXIT_CODE}): {what} at {place} (thread {thread})"
        );
        std::process::exit(INVARIANT_EXIT_CODE);
    }));
}

/// Locks `m`. A poisoned mutex means a thread panicked while holding it, so the data
/// may be half-changed: that is a broken invariant, never data to carry on with. (In a
/// daemon the panic has already stopped the process; this is what the rest of the
/// code, and tests, see.)
#[track_caller]
pub fn lock<'a, T>(m: &'a Mutex<T>, what: &str) -> MutexGuard<'a, T> {
    match m.lock() {
        Ok(g) => g,
        Err(_) => poisoned(what),
    }
}

/// Read-locks `l`; poison is a broken invariant, as for [`lock`].
#[track_caller]
pub fn read<'a, T>(l: &'a RwLock<T>, what: &str) -> RwLockReadGuard<'a, T> {
    match l.read() {
        Ok(g) => g,
        Err(_) => poisoned(what),
    }
}

/// Write-locks `l`; poison is a broken invariant, as for [`lock`].
#[track_caller]
pub fn write<'a, T>(l: &'a RwLock<T>, what: &str) -> RwLockWriteGuard<'a, T> {
    match l.write() {
        Ok(g) => g,
        Err(_) => poisoned(what),
    }
}

#[cold]
#[track_caller]
fn poisoned(what: &str) -> ! {
    let at = std::panic::Location::caller();
    violated(
        "lock not poisoned",
        &format!("{what}: lock poisoned"),
        at.file(),
        at.line(),
    )
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    #[test]
    fn a_holding_invariant_is_silent() {
        let (a, b) = (1, 2);
        crate::invariant!(a < b, "{a} < {b}");
    }

    #[test]
    #[should_panic(expected = "invariant violated")]
    fn a_broken_invariant_panics_in_every_build() {
        let (a, b) = (2, 1);
        crate::invariant!(a < b, "{a} < {b}");
    }

    #[test]
    #[should_panic(expected = "lock poisoned")]
    fn a_poisoned_lock_is_a_broken_invariant() {
        let m = Arc::new(Mutex::new(0));
        let m2 = m.clone();
        let _ = std::thread::spawn(move || {
            let _g = m2.lock().unwrap();
            panic!("while holding the lock");
        })
        .join();
        let _g = super::lock(&m, "the test's");
    }
}
