//! Data-path interop (issue 3, part 9): files written by the Java `hadoop fs` shell,
//! hdfs-native and `hafs dfs` are read byte for byte by the others, on a cluster of
//! three DataNodes with replication 3 and 1 MiB blocks.

mod common;

use std::time::Duration;

use common::*;
use hafs_tests::{hafs_dfs, java_fs, test_bytes, MiniCluster};

const MIB: usize = 1024 * 1024;

fn cluster(label: &str) -> MiniCluster {
    MiniCluster::builder().label(label).datanodes(3).start()
}

#[test]
fn java_put_is_read_by_every_client() {
    let mut c = cluster("io-java-put");
    let data = test_bytes(11, 2 * MIB + MIB / 3);
    put_with_java(&c, "/j/f", &data);
    assert_same_bytes(
        &get_with_hafs(&c, "/j/f"),
        &data,
        "hafs -get of a Java-written file",
    );
    assert_same_bytes(
        &get_with_native(&c, "/j/f"),
        &data,
        "hdfs-native read of a Java-written file",
    );
    assert_same_bytes(
        &get_with_java(&c, "/j/f"),
        &data,
        "java -get of its own file",
    );
    wait_replicated(&mut c, &data, 3, Duration::from_secs(20));
}

#[test]
fn hafs_and_native_writes_are_read_by_java() {
    let c = cluster("io-ours-to-java");
    let ours = test_bytes(12, 3 * MIB + 1);
    put_with_hafs(&c, "/o/hafs", &ours);
    assert_same_bytes(
        &get_with_java(&c, "/o/hafs"),
        &ours,
        "java -get of a hafs-written file",
    );
    assert_same_bytes(
        &get_with_native(&c, "/o/hafs"),
        &ours,
        "native read of a hafs-written file",
    );

    let native = test_bytes(13, 2 * MIB + 4097);
    put_with_native(&c, "/o/native", &native);
    assert_same_bytes(
        &get_with_java(&c, "/o/native"),
        &native,
        "java -get of a native-written file",
    );
    assert_same_bytes(
        &get_with_hafs(&c, "/o/native"),
        &native,
        "hafs -get of a native-written file",
    );
}

#[test]
fn cat_and_tail_agree_across_shells() {
    let c = cluster("io-cat-tail");
    // Text, so the shells' stdout compares exactly as a string.
    let text: String = (0..40_000)
        .map(|i| format!("line {i} of the interop text\n"))
        .collect();
    put_with_java(&c, "/t/text", text.as_bytes());
    let java_cat = java_fs(&c, &["-cat", "/t/text"]).ok();
    assert!(
        java_cat.stdout == text,
        "java -cat differs ({} vs {} bytes)",
        java_cat.stdout.len(),
        text.len()
    );
    let ours = hafs_dfs(&c, &["-cat", "/t/text"]).ok();
    assert!(
        ours.stdout == text,
        "hafs -cat differs ({} vs {} bytes)",
        ours.stdout.len(),
        text.len()
    );
    // -tail prints the last kilobyte.
    let want = &text[text.len() - 1024..];
    let java_tail = java_fs(&c, &["-tail", "/t/text"]).ok();
    assert_eq!(java_tail.stdout, want);
    let our_tail = hafs_dfs(&c, &["-tail", "/t/text"]).ok();
    assert_eq!(our_tail.stdout, want);
}

#[test]
fn appends_from_every_client_are_seen_by_every_client() {
    let c = cluster("io-append");
    let mut want = test_bytes(14, MIB - 100);
    put_with_native(&c, "/a/f", &want);

    // Java appends across a block boundary.
    let part = test_bytes(15, 300);
    let local = write_scratch(&c, "java-append", &part);
    java_fs(&c, &["-appendToFile", local.to_str().unwrap(), "/a/f"]).ok();
    want.extend_from_slice(&part);
    assert_same_bytes(
        &get_with_native(&c, "/a/f"),
        &want,
        "native read after java append",
    );

    let part = test_bytes(16, MIB + 7);
    append_with_native(&c, "/a/f", &part);
    want.extend_from_slice(&part);
    assert_same_bytes(
        &get_with_java(&c, "/a/f"),
        &want,
        "java read after native append",
    );

    let part = test_bytes(17, 5000);
    let local = write_scratch(&c, "hafs-append", &part);
    hafs_dfs(&c, &["-appendToFile", local.to_str().unwrap(), "/a/f"]).ok();
    want.extend_from_slice(&part);
    assert_same_bytes(
        &get_with_java(&c, "/a/f"),
        &want,
        "java read after hafs append",
    );
    assert_same_bytes(
        &get_with_hafs(&c, "/a/f"),
        &want,
        "hafs read after all appends",
    );
}

/// Hadoop's MD5-of-MD5-of-CRC32C file checksum, computed here from the bytes: per
/// block, MD5 of the big-endian CRC32C of each 512-byte chunk; for the file, MD5 of the
/// block MD5s. Printed as bytes-per-CRC (u32), CRCs per block (u64) and the MD5, in hex.
fn expected_checksum(data: &[u8]) -> (String, String) {
    use hafs_datatransfer::{md5::Md5, DataChecksum};
    let cs = DataChecksum::crc32c_default();
    let block = hafs_tests::TEST_BLOCK_SIZE as usize;
    let blocks: Vec<&[u8]> = if data.is_empty() {
        vec![]
    } else {
        data.chunks(block).collect()
    };
    let mut concat = Vec::new();
    for b in &blocks {
        concat.extend_from_slice(&hafs_datatransfer::md5::md5(&cs.compute(b)));
    }
    // Hadoop digests the whole backing array of its DataOutputBuffer (`getData()`), not
    // just the bytes written: the block MD5s padded with zeros to the buffer's capacity,
    // which starts at 32 bytes and doubles.
    let mut capacity = 32;
    while capacity < concat.len() {
        capacity *= 2;
    }
    concat.resize(capacity, 0);
    let mut file = Md5::new();
    file.update(&concat);
    let crc_per_block = if blocks.len() > 1 {
        (block / 512) as u64
    } else {
        0
    };
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&512u32.to_be_bytes());
    bytes.extend_from_slice(&crc_per_block.to_be_bytes());
    bytes.extend_from_slice(&file.finish());
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    (format!("MD5-of-{crc_per_block}MD5-of-512CRC32C"), hex)
}

#[test]
fn checksum_matches_hadoops_definition_in_both_shells() {
    let c = cluster("io-checksum");
    let data = test_bytes(18, 2 * MIB + 1234);
    put_with_hafs(&c, "/k/f", &data);
    let (algorithm, hex) = expected_checksum(&data);
    let java = java_fs(&c, &["-checksum", "/k/f"]).ok();
    let fields: Vec<&str> = java.stdout.trim_end().split('\t').collect();
    assert_eq!(
        fields,
        vec!["/k/f", algorithm.as_str(), hex.as_str()],
        "{java}"
    );
    let ours = hafs_dfs(&c, &["-checksum", "/k/f"]).ok();
    assert_eq!(ours.stdout, java.stdout, "hafs -checksum differs from Java");
}

#[test]
fn setrep_wait_changes_the_replicas_on_disk() {
    let mut c = cluster("io-setrep");
    let data = test_bytes(19, 2 * MIB + 10);
    put_with_java(&c, "/s/f", &data);
    wait_replicated(&mut c, &data, 3, Duration::from_secs(20));
    let out = java_fs(&c, &["-setrep", "-w", "2", "/s/f"]).ok();
    assert!(out.stdout.contains("Replication 2 set: /s/f"), "{out}");
    wait_replicated(&mut c, &data, 2, Duration::from_secs(60));
    let out = hafs_dfs(&c, &["-setrep", "-w", "3", "/s/f"]).ok();
    assert!(out.stdout.contains("Replication 3 set: /s/f"), "{out}");
    wait_replicated(&mut c, &data, 3, Duration::from_secs(60));
    let stat = java_fs(&c, &["-stat", "%r", "/s/f"]).ok();
    assert_eq!(stat.stdout.trim(), "3");
}
