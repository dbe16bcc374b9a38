//! What an IPC server measures of itself, for the daemons' `/jmx` (Hadoop's
//! `RpcActivityForPort<port>` and `RpcDetailedActivityForPort<port>` beans) and `/prom`
//! (latency histograms per method).
//!
//! Queue time is how long a call waited for room (its connection's and the server's
//! bound on calls in flight — hafs's equivalent of Hadoop's call queue) before it ran;
//! processing time is how long its handler took, including waiting for its edit to be
//! durable. Both are recorded for every call; per method only for the methods a
//! service answered (not `RpcNoSuchMethodException`), and at most [`MAX_METHODS`] of
//! them, so a client inventing method names cannot grow the table.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use hafs_util::latency::{HistogramSnapshot, LatencyHistogram};
use tokio::sync::Semaphore;

/// Most distinct method names kept per server. Hadoop's ClientProtocol has about 130;
/// the NameNode's port serves five protocols.
pub const MAX_METHODS: usize = 512;

#[derive(Debug)]
pub struct RpcMetrics {
    /// Connections open now (the accept loop's bound is checked against it).
    pub(crate) open_connections: Arc<AtomicUsize>,
    /// Connections closed at once because `ipc.server.max.connections` was reached.
    dropped_connections: AtomicU64,
    queue_time: LatencyHistogram,
    processing_time: LatencyHistogram,
    /// Calls answered with an exception (any class).
    failed_calls: AtomicU64,
    methods: RwLock<BTreeMap<String, Arc<LatencyHistogram>>>,
    /// The server's bound on calls in flight; the calls in flight are the slots taken.
    max_queued_calls: usize,
    call_slots: Arc<Semaphore>,
}

/// An IPC server's figures at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcSnapshot {
    pub open_connections: u64,
    pub dropped_connections: u64,
    /// Calls admitted and not yet answered.
    pub call_queue_length: u64,
    pub queue_time: HistogramSnapshot,
    pub processing_time: HistogramSnapshot,
    pub failed_calls: u64,
    /// Processing time per method name, by name.
    pub methods: Vec<(String, HistogramSnapshot)>,
}

impl RpcMetrics {
    pub(crate) fn new(max_queued_calls: usize, call_slots: Arc<Semaphore>) -> RpcMetrics {
        RpcMetrics {
            open_connections: Arc::default(),
            dropped_connections: AtomicU64::new(0),
            queue_time: LatencyHistogram::new(),
            processing_time: LatencyHistogram::new(),
            failed_calls: AtomicU64::new(0),
            methods: RwLock::default(),
            max_queued_calls,
            call_slots,
        }
    }

    pub(crate) fn connection_dropped(&self) {
        self.dropped_connections.fetch_add(1, Ordering::Relaxed);
    }

    /// A call got its room after waiting `waited`.
    pub(crate) fn call_admitted(&self, waited: Duration) {
        self.queue_time.record(waited);
    }

    /// A call admitted by [`call_admitted`](Self::call_admitted) was answered.
    /// `known_method` is false when the answer was `RpcNoSuchMethodException`.
    pub(crate) fn call_done(&self, method: &str, took: Duration, failed: bool, known_method: bool) {
        self.processing_time.record(took);
        if failed {
            self.failed_calls.fetch_add(1, Ordering::Relaxed);
        }
        if !known_method {
            return;
        }
        // Every call takes the read lock only; a method's first call the write lock.
        let known = self
            .methods
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(method)
            .cloned();
        let per_method = known.or_else(|| {
            let mut m = self.methods.write().unwrap_or_else(|e| e.into_inner());
            if let Some(h) = m.get(method) {
                return Some(h.clone());
            }
            (m.len() < MAX_METHODS).then(|| {
                let h = Arc::new(LatencyHistogram::new());
                m.insert(method.to_string(), h.clone());
                h
            })
        });
        if let Some(h) = per_method {
            h.record(took);
        }
    }

    pub fn snapshot(&self) -> RpcSnapshot {
        let methods = self
            .methods
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(name, h)| (name.clone(), h.snapshot()))
            .collect();
        RpcSnapshot {
            open_connections: self.open_connections.load(Ordering::Relaxed) as u64,
            dropped_connections: self.dropped_connections.load(Ordering::Relaxed),
            call_queue_length: self
                .max_queued_calls
                .saturating_sub(self.call_slots.available_permits())
                as u64,
            queue_time: self.queue_time.snapshot(),
            processing_time: self.processing_time.snapshot(),
            failed_calls: self.failed_calls.load(Ordering::Relaxed),
            methods,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_counted_per_method_and_unknown_names_are_not_kept() {
        let slots = Arc::new(Semaphore::new(10));
        let m = RpcMetrics::new(10, slots.clone());
        let held = slots.clone().try_acquire_many_owned(2).unwrap();
        m.call_admitted(Duration::from_micros(10));
        m.call_admitted(Duration::from_micros(10));
        assert_eq!(m.snapshot().call_queue_length, 2);
        drop(held);
        m.call_done("getFileInfo", Duration::from_millis(2), false, true);
        m.call_done("noSuchThing", Duration::from_millis(1), true, false);
        let s = m.snapshot();
        assert_eq!(s.call_queue_length, 0);
        assert_eq!(s.processing_time.count, 2);
        assert_eq!(s.queue_time.count, 2);
        assert_eq!(s.failed_calls, 1);
        assert_eq!(s.methods.len(), 1);
        assert_eq!(s.methods[0].0, "getFileInfo");
        assert_eq!(s.methods[0].1.count, 1);
    }

    #[test]
    fn the_method_table_is_bounded() {
        let m = RpcMetrics::new(10, Arc::new(Semaphore::new(10)));
        for i in 0..MAX_METHODS + 50 {
            m.call_admitted(Duration::ZERO);
            m.call_done(&format!("m{i}"), Duration::ZERO, false, true);
        }
        let s = m.snapshot();
        assert_eq!(s.methods.len(), MAX_METHODS);
        assert_eq!(s.processing_time.count, (MAX_METHODS + 50) as u64);
    }
}
