//! Keeps the client's leases alive while it has files open for writing.
//!
//! The NameNode expires a writer's lease after its soft limit (60 s) without a
//! `renewLease`; one call renews every lease the client name holds, so one task per
//! client suffices. The task exists only while files are open and stops by itself
//! when the last one is closed or the client is dropped.

use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// How often the renewer calls `renewLease`: half of Hadoop's 60 s soft limit.
pub const RENEW_INTERVAL: Duration = Duration::from_secs(30);

/// Paths the client is writing, and whether a renewer task is running for them.
#[derive(Debug, Default)]
pub struct LeaseTable {
    inner: Mutex<LeaseInner>,
}

#[derive(Debug, Default)]
struct LeaseInner {
    open: HashSet<String>,
    renewer_running: bool,
}

impl LeaseTable {
    fn lock(&self) -> MutexGuard<'_, LeaseInner> {
        // A panic elsewhere while holding this lock leaves a plain set behind; keep going.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records a file opened for writing. Returns true when the caller must start the
    /// renewer task (none is running).
    pub fn add(&self, path: &str) -> bool {
        let mut g = self.lock();
        g.open.insert(path.to_string());
        if g.renewer_running {
            false
        } else {
            g.renewer_running = true;
            true
        }
    }

    /// Records a file closed (or abandoned).
    pub fn remove(&self, path: &str) {
        self.lock().open.remove(path);
    }

    pub fn open_count(&self) -> usize {
        self.lock().open.len()
    }

    /// Called by the renewer at each tick: whether to renew (files are open) or to
    /// stop. Stopping is decided under the lock so a concurrent [`add`](Self::add)
    /// either sees the renewer running or starts a new one.
    pub fn renewer_should_continue(&self) -> bool {
        let mut g = self.lock();
        if g.open.is_empty() {
            g.renewer_running = false;
            false
        } else {
            true
        }
    }

    /// The renewer could not be started (no runtime) or has exited abnormally.
    pub fn renewer_stopped(&self) {
        self.lock().renewer_running = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewer_starts_once_and_stops_when_no_files_remain() {
        let t = LeaseTable::default();
        assert!(t.add("/a"), "first open file starts the renewer");
        assert!(!t.add("/b"), "a second file reuses it");
        assert_eq!(t.open_count(), 2);
        t.remove("/a");
        assert!(t.renewer_should_continue());
        t.remove("/b");
        assert!(!t.renewer_should_continue());
        assert!(t.add("/c"), "after the renewer stopped a new one starts");
    }
}
