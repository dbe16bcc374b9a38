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
//!
//! Memory: the cache is bounded by a byte budget (config.rs derives it from
//! `dfs.namenode.retrycache.heap.percent`), oldest entries dropped first. An entry owns
//! only what it needs — the 16-byte client id as an array, the call id, and the encoded
//! answer (inline when tiny) — never a slice of the request frame it arrived in: a
//! `Bytes` client id sliced from that frame kept the whole frame alive (docs/benchmarks.md).

use std::collections::VecDeque;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hashbrown::HashTable;
use tokio::sync::Notify;
use tracing::info;

/// (clientId, callId): Hadoop's identity of one logical call across its retries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CallKey {
    pub client_id: [u8; 16],
    pub call_id: i32,
}

impl CallKey {
    /// Calls without a proper 16-byte client id (or with a negative, internal call id)
    /// cannot be de-duplicated; Hadoop skips the cache for them too. The id is copied:
    /// the caller's bytes usually point into a whole request frame.
    pub fn new(client_id: &[u8], call_id: i32) -> Option<CallKey> {
        let client_id: [u8; 16] = client_id.try_into().ok()?;
        if call_id < 0 {
            return None;
        }
        Some(CallKey { client_id, call_id })
    }

    /// The client id as the edit log stores it.
    pub fn client_id_bytes(&self) -> Bytes {
        Bytes::copy_from_slice(&self.client_id)
    }
}

/// Answers up to this long are kept inside the entry (delete's and rename's boolean
/// answers are 2 bytes, rename2's and concat's 0) instead of in their own allocation.
const INLINE: usize = 15;

/// The answer to a successful call, owning exactly its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    /// Rebuilt by the handler from the current state (entries from the edit log).
    Rebuild,
    Inline {
        len: u8,
        bytes: [u8; INLINE],
    },
    Heap(Box<[u8]>),
}

impl Payload {
    pub fn of(answer: &[u8]) -> Payload {
        if answer.len() <= INLINE {
            let mut bytes = [0u8; INLINE];
            bytes[..answer.len()].copy_from_slice(answer);
            Payload::Inline {
                len: answer.len() as u8,
                bytes,
            }
        } else {
            Payload::Heap(answer.into())
        }
    }

    /// The answer to send, or None when the handler must rebuild it.
    pub fn to_bytes(&self) -> Option<Bytes> {
        match self {
            Payload::Rebuild => None,
            Payload::Inline { len, bytes } => {
                Some(Bytes::copy_from_slice(&bytes[..usize::from(*len)]))
            }
            Payload::Heap(b) => Some(Bytes::copy_from_slice(b)),
        }
    }

    /// Heap bytes this payload holds, as the allocator hands them out.
    fn heap_bytes(&self) -> u64 {
        match self {
            Payload::Heap(b) if !b.is_empty() => malloc_chunk(b.len()),
            _ => 0,
        }
    }
}

/// The size of the block a `len`-byte allocation really takes with glibc's malloc (an
/// 8-byte header, 16-byte granularity, 32 bytes at least): charging `len` alone would
/// undercount small payloads by up to half.
pub fn malloc_chunk(len: usize) -> u64 {
    ((len as u64 + 8).div_ceil(16) * 16).max(32)
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    InProgress,
    Succeeded(Payload),
    Failed,
}

/// One entry, in insertion order.
struct Slot {
    key: CallKey,
    expires: Instant,
    state: State,
}

/// Bytes of one entry's slot in the order queue (allocated as the queue grows).
pub const SLOT_BYTES: u64 = std::mem::size_of::<Slot>() as u64;

/// Bounds the entry count whatever the budget (so sequence numbers, u32 and wrapping,
/// always name one slot, and the index stays a sane allocation).
const MAX_ENTRIES: usize = 1 << 24;

/// Entries and bytes: what the cache holds now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RetryCacheStats {
    pub entries: u64,
    /// Heap bytes the cache holds: its index and queue allocations and the answers.
    pub bytes: u64,
    pub budget: u64,
    /// Entries dropped to stay within the budget (not counting expired ones).
    pub evicted: u64,
}

/// The cache's contents: plain data, every time passed in. Entries live in `slots` in
/// insertion order (so in expiry order: every entry gets the same lifetime); `index`
/// holds each entry's sequence number, found by the hash of its key. Only the oldest
/// entry is ever removed.
///
/// Bytes are counted exactly, not estimated per entry: the queue's capacity, the
/// index's allocation, and each answer's heap block. Both containers grow only when
/// this code says so, by known steps checked against the budget first: the queue by
/// doubling, the index by being rebuilt at twice its size whenever it would become more
/// than half full. Kept at most half full, the index never grows on its own (under
/// this churn removals leave tombstones, and hashbrown rehashes a table full of them in
/// place only while at most half of it is live; otherwise it doubles).
pub struct Table {
    index: HashTable<u32>,
    /// The capacity the index was built with; it holds at most half of this.
    index_room: usize,
    hasher: RandomState,
    slots: VecDeque<Slot>,
    /// Sequence number of `slots[0]`.
    first_seq: u32,
    /// Lowered once the index cannot grow within the budget.
    max_entries: usize,
    /// Heap bytes of the answers held.
    payload_bytes: u64,
    budget: u64,
    expiry: Duration,
    evicted: u64,
    /// Logged once: the first time the budget made the cache drop an entry.
    reported_full: bool,
}

impl Table {
    pub fn new(budget: u64, expiry: Duration) -> Table {
        Table {
            index: HashTable::new(),
            index_room: 0,
            hasher: RandomState::new(),
            slots: VecDeque::new(),
            first_seq: 0,
            max_entries: ((budget / SLOT_BYTES) as usize).min(MAX_ENTRIES),
            payload_bytes: 0,
            budget,
            expiry,
            evicted: 0,
            reported_full: false,
        }
    }

    pub fn stats(&self) -> RetryCacheStats {
        RetryCacheStats {
            entries: self.slots.len() as u64,
            bytes: self.bytes(),
            budget: self.budget,
            evicted: self.evicted,
        }
    }

    fn bytes(&self) -> u64 {
        self.index.allocation_size() as u64
            + self.slots.capacity() as u64 * SLOT_BYTES
            + self.payload_bytes
    }

    /// Bytes the queue would add to make room for one more entry.
    fn growth(&self) -> u64 {
        if self.slots.len() < self.slots.capacity() {
            return 0;
        }
        growth_step(self.slots.len()) as u64 * SLOT_BYTES
    }

    fn position(&self, key: &CallKey) -> Option<usize> {
        let hash = self.hasher.hash_one(key);
        let slots = &self.slots;
        let first = self.first_seq;
        let at = |seq: u32| seq.wrapping_sub(first) as usize;
        let seq = self.index.find(hash, |&seq| slots[at(seq)].key == *key)?;
        Some(at(*seq))
    }

    fn slot(&self, key: &CallKey) -> Option<&Slot> {
        self.position(key).map(|i| &self.slots[i])
    }

    /// Drops entries whose time is up.
    pub fn expire(&mut self, now: Instant) {
        while self.slots.front().is_some_and(|s| s.expires <= now) {
            self.pop_oldest();
        }
    }

    /// Adds an entry for a key not in the table, dropping the oldest entries until it
    /// fits the budget. An entry that cannot fit even alone is not kept (false).
    fn insert(&mut self, key: CallKey, state: State, now: Instant) -> bool {
        debug_assert!(self.position(&key).is_none());
        self.expire(now);
        let charge = state_heap_bytes(&state);
        if 2 * (self.slots.len() + 1) > self.index_room {
            self.grow_index();
        }
        while self.slots.len() >= self.max_entries
            || self.bytes() + self.growth() + charge > self.budget
        {
            if self.slots.is_empty() {
                return false;
            }
            self.evict_oldest();
        }
        if self.slots.len() == self.slots.capacity() {
            // Grow by a known step, so growth() above told the truth.
            self.slots.reserve_exact(growth_step(self.slots.len()));
        }
        let seq = self.first_seq.wrapping_add(self.slots.len() as u32);
        self.slots.push_back(Slot {
            key,
            expires: now + self.expiry,
            state,
        });
        let (hasher, slots, first) = (&self.hasher, &self.slots, self.first_seq);
        let hash = hasher.hash_one(key);
        self.index.insert_unique(hash, seq, |&s| {
            hasher.hash_one(slots[s.wrapping_sub(first) as usize].key)
        });
        self.payload_bytes += charge;
        true
    }

    /// Changes an entry's state, keeping the byte count exact and within the budget:
    /// an answer arriving drops the oldest entries it has no room for (itself, if it
    /// is the oldest: an answer bigger than the whole budget is not kept).
    fn set_state(&mut self, key: &CallKey, state: State) {
        let Some(i) = self.position(key) else {
            return;
        };
        let old = std::mem::replace(&mut self.slots[i].state, state);
        self.payload_bytes =
            self.payload_bytes - state_heap_bytes(&old) + state_heap_bytes(&self.slots[i].state);
        while self.bytes() > self.budget && !self.slots.is_empty() {
            self.evict_oldest();
        }
    }

    fn evict_oldest(&mut self) {
        self.pop_oldest();
        self.evicted += 1;
        if !self.reported_full {
            self.reported_full = true;
            info!(
                budget = self.budget,
                entries = self.slots.len(),
                "retry cache reached its byte budget; dropping the oldest entries"
            );
        }
    }

    /// Rebuilds the index at twice its room, if the budget has space for it; if not,
    /// the cache stays at its present number of entries.
    fn grow_index(&mut self) {
        let room = (2 * self.index_room).max(32);
        let mut index = HashTable::with_capacity(room);
        let old = self.index.allocation_size() as u64;
        if self.bytes() - old + index.allocation_size() as u64 > self.budget {
            self.max_entries = self.max_entries.min(self.slots.len());
            return;
        }
        let (hasher, slots, first) = (&self.hasher, &self.slots, self.first_seq);
        let rehash = |&s: &u32| hasher.hash_one(slots[s.wrapping_sub(first) as usize].key);
        for (i, slot) in slots.iter().enumerate() {
            let seq = first.wrapping_add(i as u32);
            index.insert_unique(hasher.hash_one(slot.key), seq, rehash);
        }
        self.index = index;
        self.index_room = room;
    }

    fn pop_oldest(&mut self) {
        let Some(slot) = self.slots.pop_front() else {
            return;
        };
        let seq = self.first_seq;
        self.first_seq = seq.wrapping_add(1);
        let hash = self.hasher.hash_one(slot.key);
        if let Ok(entry) = self.index.find_entry(hash, |&s| s == seq) {
            entry.remove();
        }
        self.payload_bytes -= state_heap_bytes(&slot.state);
    }
}

/// How many slots the queue adds when full: doubling, from 16.
fn growth_step(len: usize) -> usize {
    len.max(16)
}

fn state_heap_bytes(state: &State) -> u64 {
    match state {
        State::Succeeded(p) => p.heap_bytes(),
        _ => 0,
    }
}

/// What a call should do after asking the cache.
pub enum Lookup {
    /// Run the call; report its outcome through the guard.
    Run(RetryGuard),
    /// The call already succeeded: answer this (None: reconstruct from current state).
    Replay(Option<Bytes>),
}

/// What one look at the table decided.
enum Step {
    Run,
    Replay(Option<Bytes>),
    Wait,
}

impl Table {
    /// The decision for `key` at `now`; a new or failed call is marked running.
    fn step(&mut self, key: CallKey, now: Instant) -> Step {
        self.expire(now);
        match self.slot(&key).map(|s| s.state.clone()) {
            None => {
                self.insert(key, State::InProgress, now);
                Step::Run
            }
            Some(State::Succeeded(p)) => Step::Replay(p.to_bytes()),
            Some(State::Failed) => {
                self.set_state(&key, State::InProgress);
                Step::Run
            }
            Some(State::InProgress) => Step::Wait,
        }
    }

    /// Records a call that completed successfully during edit-log replay. A key already
    /// present (its answer known here) keeps its entry.
    pub fn add_replayed(&mut self, key: CallKey, now: Instant) {
        self.expire(now);
        match self.slot(&key).map(|s| &s.state) {
            None => {
                self.insert(key, State::Succeeded(Payload::Rebuild), now);
            }
            Some(State::Succeeded(_)) => {}
            Some(_) => self.set_state(&key, State::Succeeded(Payload::Rebuild)),
        }
    }
}

/// Held by the one running instance of a call; completing it wakes waiting retries.
/// Dropped without completing (an error path, a cancelled task) counts as failed, so a
/// retry runs the call again rather than waiting forever.
pub struct RetryGuard {
    key: Option<CallKey>,
    done: bool,
    cache: Weak<Inner>,
}

struct Inner {
    table: Mutex<Table>,
    /// Wakes retries waiting for a running call. One for the whole cache: a retry that
    /// arrives while its call still runs is rare, and a waiter just looks again.
    finished: Notify,
}

/// Shared by all handlers of one NameNode.
#[derive(Clone)]
pub struct RetryCache {
    inner: Arc<Inner>,
    enabled: bool,
}

impl RetryCache {
    /// `budget` bounds the heap bytes the cache holds ([`RetryCacheStats::bytes`]).
    pub fn new(enabled: bool, expiry: Duration, budget: u64) -> RetryCache {
        RetryCache {
            inner: Arc::new(Inner {
                table: Mutex::new(Table::new(budget, expiry)),
                finished: Notify::new(),
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
                cache: Weak::new(),
            });
        };
        // Bounded: each pass either returns or waits for a running call to finish.
        loop {
            // Registered before the table is read, so a finish between the read and
            // the wait still wakes us.
            let finished = self.inner.finished.notified();
            let step = self.table().step(key, Instant::now());
            match step {
                Step::Run => {
                    return Lookup::Run(RetryGuard {
                        key: Some(key),
                        done: false,
                        cache: Arc::downgrade(&self.inner),
                    })
                }
                Step::Replay(p) => return Lookup::Replay(p),
                Step::Wait => finished.await,
            }
        }
    }

    /// The key a call is cached under (and logged with its op), or None when it is
    /// not cached: the same key [`RetryGuard::key`] gives the running call.
    pub fn key(&self, client_id: &[u8], call_id: i32) -> Option<CallKey> {
        CallKey::new(client_id, call_id).filter(|_| self.enabled)
    }

    /// Records a call that completed successfully during edit-log replay.
    pub fn add_replayed(&self, key: CallKey) {
        if self.enabled {
            self.table().add_replayed(key, Instant::now());
        }
    }

    pub fn stats(&self) -> RetryCacheStats {
        self.table().stats()
    }

    pub fn len(&self) -> usize {
        self.stats().entries as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.inner.table.lock().expect("retry cache lock")
    }
}

impl RetryGuard {
    /// The call succeeded with this encoded response.
    pub fn succeeded(mut self, response: &[u8]) {
        self.finish(State::Succeeded(Payload::of(response)));
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
        inner
            .table
            .lock()
            .expect("retry cache lock")
            .set_state(key, state);
        inner.finished.notify_waiters();
    }
}

impl Drop for RetryGuard {
    fn drop(&mut self) {
        self.finish(State::Failed);
    }
}

#[cfg(test)]
mod tests;
