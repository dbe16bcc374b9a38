//! The retry cache: makes Hadoop's at-most-once calls (create, append, delete, rename,
//! rename2, concat, ...) safe to retry.
//!
//! A client that did not see the answer to such a call (a timeout, a dropped
//! connection, a failover) sends it again with the same (clientId, callId). Running it a
//! second time would give a wrong answer (a second `create` fails with
//! FileAlreadyExistsException, a second `delete` returns false), so the NameNode answers
//! the retry from this cache instead. Entries are also written into the edit log with the
//! op that completed them; replay re-creates them (without their response payload), so a
//! retry that reaches a NameNode after a restart or failover is still recognised.
//!
//! Hadoop's rules: a retry of a call still running waits for it; a retry of a failed call
//! runs again; a retry of a successful call gets the original answer. Entries expire after
//! `dfs.namenode.retrycache.expirytime.millis`.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::watch;

/// (clientId, callId): Hadoop's identity of one logical call across its retries.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CallKey {
    pub client_id: Bytes,
    pub call_id: i32,
}

impl CallKey {
    /// Calls without a proper 16-byte client id (or with a negative, internal call id)
    /// cannot be de-duplicated; Hadoop skips the cache for them too.
    pub fn new(client_id: &Bytes, call_id: i32) -> Option<CallKey> {
        if client_id.len() != 16 || call_id < 0 {
            return None;
        }
        Some(CallKey {
            client_id: client_id.clone(),
            call_id,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    InProgress,
    /// Succeeded. The payload is the encoded response if this NameNode produced it; None
    /// for entries rebuilt from the edit log (the handler reconstructs the answer).
    Succeeded(Option<Bytes>),
    Failed,
}

struct Entry {
    state: watch::Sender<State>,
    expires: Instant,
}

/// What a call should do after asking the cache.
pub enum Lookup {
    /// Run the call; report its outcome through the guard.
    Run(RetryGuard),
    /// The call already succeeded: answer this (None: reconstruct from current state).
    Replay(Option<Bytes>),
}

/// Held by the one running instance of a call; completing it wakes waiting retries.
/// Dropped without completing (an error path, a cancelled task) counts as failed, so a
/// retry runs the call again rather than waiting forever.
pub struct RetryGuard {
    key: Option<CallKey>,
    done: bool,
    cache: std::sync::Weak<Inner>,
}

struct Inner {
    map: Mutex<Map>,
    expiry: Duration,
    capacity: usize,
}

#[derive(Default)]
struct Map {
    entries: HashMap<CallKey, Entry>,
    /// Insertion order, for expiry and the capacity bound.
    order: VecDeque<(Instant, CallKey)>,
}

/// Shared by all handlers of one NameNode.
#[derive(Clone)]
pub struct RetryCache {
    inner: std::sync::Arc<Inner>,
    enabled: bool,
}

impl RetryCache {
    /// `capacity` bounds the number of entries (Hadoop sizes it from
    /// `dfs.namenode.retrycache.heap.percent`); the oldest are dropped beyond it.
    pub fn new(enabled: bool, expiry: Duration, capacity: usize) -> RetryCache {
        assert!(capacity > 0, "retry cache capacity must be positive");
        RetryCache {
            inner: std::sync::Arc::new(Inner {
                map: Mutex::new(Map::default()),
                expiry,
                capacity,
            }),
            enabled,
        }
    }

    /// Looks the call up, waiting while another instance of it is running.
    pub async fn lookup(&self, key: Option<CallKey>) -> Lookup {
        let Some(key) = key.filter(|_| self.enabled) else {
            return Lookup::Run(RetryGuard {
                key: None,
                done: true,
                cache: std::sync::Weak::new(),
            });
        };
        // Bounded: each pass either returns or waits for the running instance to finish,
        // after which the entry is no longer InProgress.
        loop {
            let mut rx = {
                let mut map = self.inner.map.lock().expect("retry cache lock");
                let now = Instant::now();
                map.expire(now);
                match map.entries.get(&key) {
                    None => {
                        map.insert(key.clone(), State::InProgress, now + self.inner.expiry);
                        map.bound(self.inner.capacity);
                        return Lookup::Run(RetryGuard {
                            key: Some(key),
                            done: false,
                            cache: std::sync::Arc::downgrade(&self.inner),
                        });
                    }
                    Some(entry) => {
                        let state = entry.state.borrow().clone();
                        match state {
                            State::Succeeded(payload) => return Lookup::Replay(payload),
                            State::Failed => {
                                entry.state.send_replace(State::InProgress);
                                return Lookup::Run(RetryGuard {
                                    key: Some(key),
                                    done: false,
                                    cache: std::sync::Arc::downgrade(&self.inner),
                                });
                            }
                            State::InProgress => entry.state.subscribe(),
                        }
                    }
                }
            };
            // Wait for the running instance; if its entry vanishes (expired/evicted) the
            // sender is dropped and we simply look again.
            let _ = rx.wait_for(|s| *s != State::InProgress).await;
        }
    }

    /// Records a call that completed successfully during edit-log replay.
    pub fn add_replayed(&self, key: CallKey) {
        if !self.enabled {
            return;
        }
        let mut map = self.inner.map.lock().expect("retry cache lock");
        let now = Instant::now();
        map.expire(now);
        map.insert(key, State::Succeeded(None), now + self.inner.expiry);
        map.bound(self.inner.capacity);
    }

    pub fn len(&self) -> usize {
        self.inner
            .map
            .lock()
            .expect("retry cache lock")
            .entries
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Map {
    fn insert(&mut self, key: CallKey, state: State, expires: Instant) {
        let (tx, _) = watch::channel(state);
        self.order.push_back((expires, key.clone()));
        self.entries.insert(key, Entry { state: tx, expires });
    }

    fn expire(&mut self, now: Instant) {
        while let Some((t, _)) = self.order.front() {
            if *t > now {
                break;
            }
            let (t, key) = self.order.pop_front().expect("front exists");
            // The key may have been re-inserted later with a new expiry; keep that one.
            if self.entries.get(&key).is_some_and(|e| e.expires == t) {
                self.entries.remove(&key);
            }
        }
    }

    fn bound(&mut self, capacity: usize) {
        while self.entries.len() > capacity {
            let Some((t, key)) = self.order.pop_front() else {
                break;
            };
            if self.entries.get(&key).is_some_and(|e| e.expires == t) {
                self.entries.remove(&key);
            }
        }
    }
}

impl RetryGuard {
    /// The call succeeded with this encoded response.
    pub fn succeeded(mut self, response: Bytes) {
        self.finish(State::Succeeded(Some(response)));
    }

    /// The call failed; a retry will run it again.
    pub fn failed(mut self) {
        self.finish(State::Failed);
    }

    /// The key to write into the edit log with the op, if the call is cached.
    pub fn key(&self) -> Option<&CallKey> {
        self.key.as_ref()
    }

    fn finish(&mut self, state: State) {
        if self.done {
            return;
        }
        self.done = true;
        let (Some(key), Some(inner)) = (self.key.as_ref(), self.cache.upgrade()) else {
            return;
        };
        let map = inner.map.lock().expect("retry cache lock");
        if let Some(entry) = map.entries.get(key) {
            entry.state.send_replace(state);
        }
    }
}

impl Drop for RetryGuard {
    fn drop(&mut self) {
        self.finish(State::Failed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(call: i32) -> Option<CallKey> {
        CallKey::new(&Bytes::from_static(&[7u8; 16]), call)
    }

    #[tokio::test]
    async fn success_is_replayed_failure_reruns() {
        let cache = RetryCache::new(true, Duration::from_secs(600), 100);
        let Lookup::Run(g) = cache.lookup(key(1)).await else {
            panic!("first call must run")
        };
        g.succeeded(Bytes::from_static(b"answer"));
        match cache.lookup(key(1)).await {
            Lookup::Replay(Some(b)) => assert_eq!(&b[..], b"answer"),
            _ => panic!("a retry of a successful call must replay its answer"),
        }
        let Lookup::Run(g) = cache.lookup(key(2)).await else {
            panic!("new call must run")
        };
        g.failed();
        assert!(matches!(cache.lookup(key(2)).await, Lookup::Run(_)));
    }

    #[tokio::test]
    async fn retry_waits_for_running_call() {
        let cache = RetryCache::new(true, Duration::from_secs(600), 100);
        let Lookup::Run(g) = cache.lookup(key(5)).await else {
            panic!("first call must run")
        };
        let c2 = cache.clone();
        let waiter = tokio::spawn(async move { c2.lookup(key(5)).await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!waiter.is_finished(), "retry must wait while the call runs");
        g.succeeded(Bytes::from_static(b"x"));
        assert!(matches!(waiter.await.unwrap(), Lookup::Replay(Some(_))));
    }

    #[tokio::test]
    async fn dropped_guard_counts_as_failed_and_entries_expire() {
        let cache = RetryCache::new(true, Duration::from_millis(30), 100);
        let Lookup::Run(g) = cache.lookup(key(9)).await else {
            panic!()
        };
        drop(g);
        let Lookup::Run(g) = cache.lookup(key(9)).await else {
            panic!("a dropped guard must let the retry run")
        };
        g.succeeded(Bytes::new());
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(matches!(cache.lookup(key(9)).await, Lookup::Run(_)));
    }

    #[tokio::test]
    async fn replayed_entries_and_bounds() {
        let cache = RetryCache::new(true, Duration::from_secs(600), 3);
        for c in 0..5 {
            cache.add_replayed(key(c).unwrap());
        }
        assert_eq!(cache.len(), 3, "capacity bounds the cache");
        assert!(matches!(cache.lookup(key(4)).await, Lookup::Replay(None)));
        assert!(matches!(cache.lookup(key(0)).await, Lookup::Run(_)));
        // No client id: never cached.
        assert!(CallKey::new(&Bytes::new(), 1).is_none());
    }
}
