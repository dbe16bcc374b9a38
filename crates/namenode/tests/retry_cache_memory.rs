//! What a retry cache entry really keeps alive, measured with a counting allocator on
//! entries built exactly as the IPC server builds them: a request frame read off the
//! connection into its own buffer, the client id decoded from its header (prost decodes
//! a `bytes` field of a `Bytes` buffer as a slice of it), and the encoded answer.
//!
//! One test only: the allocator counts the whole process, so nothing may run beside it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use hafs_ipc::frame::{parse_call, parse_request_header, read_frame, request_frame};
use hafs_namenode::retry_cache::{CallKey, Lookup, RetryCache};
use hafs_proto::common::rpc_request_header_proto::OperationProto;
use hafs_proto::common::{RequestHeaderProto, RpcKindProto, RpcRequestHeaderProto};
use hafs_proto::hdfs as pb;
use prost::Message;

/// Live heap bytes as malloc hands them out (usable size plus glibc's 8-byte header).
static LIVE: AtomicI64 = AtomicI64::new(0);

struct Counting;

fn chunk(ptr: *mut u8) -> i64 {
    // SAFETY: ptr is a live allocation from System (malloc) in this process.
    (unsafe { libc::malloc_usable_size(ptr.cast()) } as i64 + 8).max(32)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            LIVE.fetch_add(chunk(p), Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(chunk(ptr), Ordering::Relaxed);
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let before = chunk(ptr);
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            LIVE.fetch_add(chunk(p) - before, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn live() -> i64 {
    LIVE.load(Ordering::Relaxed)
}

/// A create call's frame as a client sends it, for a path of about `path_len` bytes.
fn create_frame(call_id: i32, path_len: usize) -> Bytes {
    let mut client_id = [0u8; 16];
    client_id[..4].copy_from_slice(&call_id.to_le_bytes());
    let header = RpcRequestHeaderProto {
        rpc_kind: Some(RpcKindProto::RpcProtocolBuffer as i32),
        rpc_op: Some(OperationProto::RpcFinalPacket as i32),
        call_id,
        client_id: Bytes::copy_from_slice(&client_id),
        retry_count: Some(0),
        ..Default::default()
    };
    let request_header = RequestHeaderProto {
        method_name: "create".into(),
        declaring_class_protocol_name: "org.apache.hadoop.hdfs.protocol.ClientProtocol".into(),
        client_protocol_version: 1,
    };
    let request = pb::CreateRequestProto {
        src: format!("/bench/files/t0/d{call_id}/{}", "f".repeat(path_len)),
        masked: pb::FsPermissionProto { perm: 0o644 },
        client_name: "DFSClient_NONMAPREDUCE_1234567_1".into(),
        create_flag: 1,
        create_parent: true,
        replication: 3,
        block_size: 128 << 20,
        ..Default::default()
    };
    request_frame(&header, &request_header, &request.encode_to_vec())
}

/// The encoded answer to a create, shaped as the NameNode's.
fn create_answer(file_id: u64) -> Vec<u8> {
    let status = pb::HdfsFileStatusProto {
        file_type: pb::hdfs_file_status_proto::FileType::IsFile as i32,
        path: Bytes::new(),
        length: 0,
        permission: pb::FsPermissionProto { perm: 0o644 },
        owner: "hafs".into(),
        group: "supergroup".into(),
        modification_time: 1_733_400_000_000,
        access_time: 1_733_400_000_000,
        block_replication: Some(3),
        blocksize: Some(128 << 20),
        file_id: Some(file_id),
        children_num: Some(0),
        storage_policy: Some(0),
        flags: Some(0),
        ..Default::default()
    };
    pb::CreateResponseProto { fs: Some(status) }.encode_to_vec()
}

/// The server side of one call: the frame read off the connection (into a buffer of
/// its own, as `hafs_ipc::frame::read_frame` does) and split into header and request.
/// Returns the header's client id, as the IPC server hands it to handlers.
async fn received_client_id(frame: &Bytes) -> (Bytes, i32) {
    let mut wire: &[u8] = frame;
    let body = read_frame(&mut wire, 1 << 20).await.unwrap().unwrap();
    let (header, rest) = parse_request_header(body).unwrap();
    let (_request_header, _request) = parse_call(rest).unwrap();
    (header.client_id, header.call_id)
}

/// Live bytes per entry after `n` create calls went through the cache.
async fn per_entry(cache: &RetryCache, first: i32, n: i32, path_len: usize) -> f64 {
    let before = live();
    for call in first..first + n {
        let frame = create_frame(call, path_len);
        let (client_id, call_id) = received_client_id(&frame).await;
        drop(frame);
        let Lookup::Run(guard) = cache.lookup(CallKey::new(&client_id, call_id)).await else {
            panic!("a new call must run");
        };
        guard.succeeded(&create_answer(call as u64));
    }
    (live() - before) as f64 / f64::from(n)
}

#[tokio::test(flavor = "current_thread")]
async fn entries_own_only_what_they_need_and_are_charged_honestly() {
    const N: i32 = 20_000;
    // The root cause, measured: a client id kept as the `Bytes` the IPC layer hands
    // over keeps the whole request frame (and the shared buffer header) alive.
    for path_len in [16usize, 1000] {
        let frame_len = create_frame(0, path_len).len() as f64;
        let before = live();
        let mut ids = Vec::with_capacity(N as usize);
        let vec_bytes = live() - before;
        for call in 0..N {
            ids.push(received_client_id(&create_frame(call, path_len)).await.0);
        }
        let per_id = (live() - before - vec_bytes) as f64 / f64::from(N);
        println!("a Bytes client id from a {frame_len}-byte frame keeps {per_id:.0} bytes alive");
        assert!(
            per_id >= frame_len,
            "the slice should pin its frame ({per_id:.0} < {frame_len})"
        );
        drop(ids);
    }
    // Hadoop-style waiting on a per-entry watch channel (the previous design) cost this
    // much per entry on its own.
    let before = live();
    let senders: Vec<_> = (0..N).map(|_| tokio::sync::watch::channel(0u8).0).collect();
    let per_channel = (live() - before) as f64 / f64::from(N) - 8.0;
    println!("a tokio watch channel per entry: {per_channel:.0} bytes");
    drop(senders);

    // Now the cache: entries for small and large frames cost the same, and no more
    // than the cache charges for them.
    let unbounded = RetryCache::new(true, Duration::from_secs(600), 1 << 40);
    let small = per_entry(&unbounded, 0, N, 16).await;
    let large = per_entry(&unbounded, N, N, 1000).await;
    let stats = unbounded.stats();
    let charged = stats.bytes as f64 / stats.entries as f64;
    println!(
        "retry cache: {small:.0} / {large:.0} live bytes per entry (small / large frames), \
         {charged:.0} charged"
    );
    assert_eq!(stats.entries, 2 * N as u64);
    assert!(
        (small - large).abs() < 32.0,
        "an entry must not depend on its request's size: {small:.0} vs {large:.0}"
    );
    // The count is exact, not an estimate: it may differ from what malloc really
    // holds only by the headers and page rounding of the cache's two big allocations.
    let measured = (small + large) / 2.0;
    assert!(
        (measured - charged).abs() <= charged * 0.02,
        "counted {charged:.1} bytes per entry but {measured:.1} are live"
    );
    // A budget bounds the live bytes, whatever the number of calls.
    let budget = 1 << 20;
    let bounded = RetryCache::new(true, Duration::from_secs(600), budget);
    let before = live();
    per_entry(&bounded, 0, 2 * N, 100).await;
    let held = live() - before;
    println!(
        "a {budget}-byte budget after {} calls: {} entries, {} bytes charged, {held} live",
        2 * N,
        bounded.stats().entries,
        bounded.stats().bytes
    );
    assert!(bounded.stats().bytes <= budget);
    assert!(bounded.stats().evicted > 0);
    assert!(
        held as f64 <= budget as f64 * 1.02,
        "{held} live bytes over a {budget}-byte budget"
    );
}
