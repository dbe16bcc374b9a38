use super::*;

fn key(call: i32) -> Option<CallKey> {
    CallKey::new(&[7u8; 16], call)
}

fn k(call: i32) -> CallKey {
    key(call).unwrap()
}

const MIN: Duration = Duration::from_secs(60);

/// Runs `call` to success with `answer` through the table, as `lookup` + guard do.
fn succeed(t: &mut Table, call: i32, answer: &[u8], now: Instant) {
    assert!(matches!(t.step(k(call), now), Step::Run));
    t.set_state(&k(call), State::Succeeded(Payload::of(answer)));
}

fn replayed(t: &mut Table, call: i32, now: Instant) -> Option<Option<Bytes>> {
    match t.step(k(call), now) {
        Step::Replay(p) => Some(p),
        _ => None,
    }
}

/// The exact bytes the table should report.
fn expected_bytes(t: &Table) -> u64 {
    t.index.allocation_size() as u64 + t.slots.capacity() as u64 * SLOT_BYTES + t.payload_bytes
}

/// Fills a table with inline answers until the budget makes it drop one; returns how
/// many entries it holds then.
fn fill(t: &mut Table, now: Instant) -> i32 {
    let mut c = 0;
    while t.stats().evicted == 0 {
        succeed(t, c, b"ok", now);
        assert!(t.stats().bytes <= t.budget, "over budget after call {c}");
        c += 1;
        assert!(c < 1_000_000, "the budget never filled");
    }
    c - 1
}

#[test]
fn oldest_entries_are_dropped_first_to_stay_within_the_budget() {
    let t0 = Instant::now();
    let mut t = Table::new(4096, 10 * MIN);
    let held = fill(&mut t, t0);
    assert!(held >= 8, "a 4 KiB budget holds some entries ({held})");
    assert_eq!(t.stats().entries, held as u64);
    for c in held + 1..held + 100 {
        succeed(&mut t, c, b"ok", t0);
        assert!(t.stats().bytes <= t.budget);
        assert_eq!(t.stats().entries, held as u64, "one in, one out");
        assert_eq!(t.stats().bytes, expected_bytes(&t));
    }
    // Exactly the newest `held` calls are answered from the cache.
    let newest = held + 100 - held;
    let present: Vec<i32> = (0..held + 100)
        .filter(|&c| t.slot(&k(c)).is_some())
        .collect();
    assert_eq!(present, (newest..held + 100).collect::<Vec<_>>());
    assert_eq!(
        replayed(&mut t, held + 99, t0),
        Some(Some(Bytes::from_static(b"ok")))
    );
    // A dropped call runs again, and its new entry drops the oldest.
    assert!(matches!(t.step(k(0), t0), Step::Run));
    assert!(t.slot(&k(newest)).is_none());
    assert!(t.slot(&k(newest + 1)).is_some());
}

#[test]
fn bytes_count_the_tables_and_the_answers_as_allocated() {
    let now = Instant::now();
    let mut t = Table::new(1 << 20, 10 * MIN);
    let empty = t.stats().bytes;
    assert_eq!(
        empty,
        t.index.allocation_size() as u64,
        "the index is allocated once"
    );
    succeed(&mut t, 1, &[1u8; INLINE], now);
    assert_eq!(t.payload_bytes, 0, "short answers live inline");
    succeed(&mut t, 2, &[2u8; 100], now);
    assert_eq!(t.payload_bytes, malloc_chunk(100));
    assert_eq!(malloc_chunk(100), 112);
    assert_eq!(malloc_chunk(16), 32);
    assert_eq!(malloc_chunk(1), 32);
    // A failure, a rerun and a success with another answer keep the count right.
    assert!(matches!(t.step(k(3), now), Step::Run));
    t.set_state(&k(3), State::Failed);
    assert!(matches!(t.step(k(3), now), Step::Run));
    t.set_state(&k(3), State::Succeeded(Payload::of(&[3u8; 40])));
    assert_eq!(t.payload_bytes, malloc_chunk(100) + malloc_chunk(40));
    assert_eq!(t.stats().bytes, expected_bytes(&t));
    assert_eq!(t.stats().entries, 3);
    // Everything expired: no entries, no answers; the queue keeps its capacity and
    // says so.
    t.expire(now + 10 * MIN);
    assert_eq!((t.stats().entries, t.payload_bytes), (0, 0));
    assert_eq!(t.stats().bytes, expected_bytes(&t));
    // A budget too small for even one entry keeps nothing (the call still runs).
    let mut none = Table::new(SLOT_BYTES - 1, MIN);
    assert!(matches!(none.step(k(1), now), Step::Run));
    assert_eq!(none.stats().entries, 0);
}

#[test]
fn big_answers_take_the_room_of_many_small_ones() {
    let now = Instant::now();
    let mut t = Table::new(8192, 10 * MIN);
    let held = fill(&mut t, now);
    let mut c = held + 1;
    for _ in 0..20 {
        succeed(&mut t, c, &[7u8; 200], now);
        c += 1;
    }
    let s = t.stats();
    assert!(s.bytes <= s.budget, "{s:?}");
    assert!(
        s.entries < held as u64,
        "{s:?}: big answers must leave room for fewer"
    );
    assert!(t.slot(&k(c - 1)).is_some());
}

#[test]
fn entries_expire_at_their_time_and_no_earlier() {
    let t0 = Instant::now();
    let mut t = Table::new(1 << 20, MIN);
    succeed(&mut t, 1, b"a", t0);
    succeed(&mut t, 2, b"b", t0 + Duration::from_secs(30));
    assert!(replayed(&mut t, 1, t0 + MIN - Duration::from_millis(1)).is_some());
    // At t0 + expiry call 1 is gone and call 2 is not.
    assert!(matches!(t.step(k(1), t0 + MIN), Step::Run));
    assert!(replayed(&mut t, 2, t0 + MIN).is_some());
    t.expire(t0 + MIN + Duration::from_secs(30));
    // Call 1's rerun (inserted at t0 + MIN) remains.
    assert_eq!(t.stats().entries, 1);
}

#[test]
fn replayed_entries_rebuild_and_keep_a_known_answer() {
    let now = Instant::now();
    let mut t = Table::new(4096, MIN);
    succeed(&mut t, 1, b"live", now);
    t.add_replayed(k(1), now);
    assert_eq!(
        replayed(&mut t, 1, now),
        Some(Some(Bytes::from_static(b"live")))
    );
    t.add_replayed(k(2), now);
    assert_eq!(replayed(&mut t, 2, now), Some(None));
    for c in 3..1000 {
        t.add_replayed(k(c), now);
        assert!(
            t.stats().bytes <= t.budget,
            "replayed entries obey the budget too"
        );
    }
    assert!(t.slot(&k(1)).is_none());
    assert_eq!(replayed(&mut t, 999, now), Some(None));
}

#[test]
fn sequence_numbers_wrap() {
    let now = Instant::now();
    let mut t = Table::new(2048, MIN);
    t.first_seq = u32::MAX - 5;
    for c in 0..200 {
        succeed(&mut t, c, b"x", now);
        assert!(replayed(&mut t, c, now).is_some());
    }
    assert!(t.stats().evicted > 0);
}

#[test]
fn keys_copy_the_client_id_and_reject_bad_ones() {
    let frame = Bytes::from(vec![9u8; 64]);
    let key = CallKey::new(&frame.slice(8..24), 3).unwrap();
    assert_eq!(key.client_id, [9u8; 16]);
    assert_eq!(&key.client_id_bytes()[..], &[9u8; 16]);
    assert!(CallKey::new(&[], 1).is_none());
    assert!(CallKey::new(&[1u8; 15], 1).is_none());
    assert!(CallKey::new(&[1u8; 16], -2).is_none());
}

#[tokio::test]
async fn success_is_replayed_failure_reruns() {
    let cache = RetryCache::new(true, Duration::from_secs(600), 1 << 20);
    let Lookup::Run(g) = cache.lookup(key(1)).await else {
        panic!("first call must run")
    };
    g.succeeded(b"answer");
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
    let cache = RetryCache::new(true, Duration::from_secs(600), 1 << 20);
    let Lookup::Run(g) = cache.lookup(key(5)).await else {
        panic!("first call must run")
    };
    let c2 = cache.clone();
    let waiter = tokio::spawn(async move { c2.lookup(key(5)).await });
    // Another call finishing does not release the waiter.
    let Lookup::Run(other) = cache.lookup(key(6)).await else {
        panic!("another call must run")
    };
    other.succeeded(b"y");
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!waiter.is_finished(), "retry must wait while the call runs");
    g.succeeded(b"x");
    assert!(matches!(waiter.await.unwrap(), Lookup::Replay(Some(_))));
}

#[tokio::test]
async fn dropped_guard_counts_as_failed_and_entries_expire() {
    let cache = RetryCache::new(true, Duration::from_millis(30), 1 << 20);
    let Lookup::Run(g) = cache.lookup(key(9)).await else {
        panic!()
    };
    drop(g);
    let Lookup::Run(g) = cache.lookup(key(9)).await else {
        panic!("a dropped guard must let the retry run")
    };
    g.succeeded(b"");
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(matches!(cache.lookup(key(9)).await, Lookup::Run(_)));
}

#[tokio::test]
async fn disabled_cache_runs_everything_and_keeps_nothing() {
    let cache = RetryCache::new(false, Duration::from_secs(600), 1 << 20);
    for _ in 0..2 {
        let Lookup::Run(g) = cache.lookup(key(1)).await else {
            panic!("a disabled cache must run every call")
        };
        g.succeeded(b"a");
    }
    cache.add_replayed(k(2));
    assert!(cache.is_empty());
}
