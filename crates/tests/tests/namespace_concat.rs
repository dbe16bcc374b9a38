//! `concat` and PathHandles with the real clients on an HA pair: Java `hadoop fs
//! -concat` joins files of different sizes, block counts and replication; the result
//! reads back byte for byte with Java, hdfs-native and hafs; the Standby has it after a
//! failover and a restarted NameNode after replaying its edits; Hadoop's refusals come
//! back with Hadoop's words and change nothing.

use std::time::{Duration, Instant};

use hafs_tests::{hafs_dfs, python, test_bytes, MiniCluster, TempDir};

const BLOCK: usize = 1 << 20;

/// `hadoop fs -get` of `path` into `dir`, read back.
fn java_get(c: &MiniCluster, dir: &TempDir, path: &str, name: &str) -> Vec<u8> {
    let local = dir.path().join(name);
    c.shell().run(&["-get", path, local.to_str().unwrap()]).ok();
    std::fs::read(&local).unwrap()
}

/// The file's bytes through hdfs-native (a client nobody here wrote).
fn native_read(c: &MiniCluster, path: &str, out: &std::path::Path) -> Vec<u8> {
    let script = format!(
        "import os\nfrom hdfs_native import Client\nc = Client(os.environ['HAFS_FS_URI'])\n\
         with c.read('{path}') as r:\n    data = r.read()\n\
         open('{}', 'wb').write(data)\n",
        out.display()
    );
    python(c, &script).ok();
    std::fs::read(out).unwrap()
}

#[test]
fn java_concat_joins_files_and_survives_failover_and_restart() {
    let mut c = MiniCluster::builder()
        .label("concat")
        .namenodes(2)
        .journalnodes(3)
        .datanodes(3)
        .start();
    c.wait_for_state(0, "active", Duration::from_secs(30));
    let tmp = TempDir::new("concat-local");

    // Sizes around the block size, so the joined file has partial blocks in the
    // middle: the target ends in a partial block, one source is a single byte, one
    // spans three blocks, one was written at replication 2.
    let parts: [(&str, usize, &str); 4] = [
        ("t", BLOCK + BLOCK / 2 + 3, "3"),
        ("a", 1, "3"),
        ("b", 2 * BLOCK + 1, "2"),
        ("c", 700_001, "3"),
    ];
    c.shell().run(&["-mkdir", "-p", "/d", "/e"]).ok();
    let mut want = Vec::new();
    for (i, (name, len, repl)) in parts.iter().enumerate() {
        let data = test_bytes(i as u64 + 1, *len);
        let local = tmp.path().join(name);
        std::fs::write(&local, &data).unwrap();
        let dst = format!("/d/{name}");
        c.shell()
            .run(&[
                "-D",
                &format!("dfs.blocksize={BLOCK}"),
                "-D",
                &format!("dfs.replication={repl}"),
                "-put",
                local.to_str().unwrap(),
                &dst,
            ])
            .ok();
        want.extend_from_slice(&data);
    }
    c.shell()
        .run(&["-put", tmp.path().join("a").to_str().unwrap(), "/e/x"])
        .ok();
    c.shell().run(&["-touchz", "/d/empty"]).ok();

    // Refusals first: Hadoop's words, exit 1, nothing changed. (The shell itself
    // wants two sources at least.)
    let refusals: [(&[&str], &str); 4] = [
        (
            &["/d/t", "/d/t", "/d/a"],
            "is the same with the target file",
        ),
        (
            &["/d/t", "/e/x", "/d/a"],
            "is not in the same directory with the target",
        ),
        (
            &["/d/t", "/d/empty", "/d/a"],
            "is invalid or empty or underConstruction",
        ),
        (
            &["/d/t", "/d/a", "/d/a"],
            "at least two of the source files are the same",
        ),
    ];
    for (args, words) in refusals {
        let mut full = vec!["-concat"];
        full.extend_from_slice(args);
        c.shell()
            .run(&full)
            .expect_code(1)
            .expect_stderr_contains(words);
    }
    let listing = c.shell().run(&["-ls", "/d"]).ok();
    assert_eq!(listing.stdout_lines().len(), 6, "{listing}");

    c.shell()
        .run(&["-concat", "/d/t", "/d/a", "/d/b", "/d/c"])
        .ok();
    let ls = c.shell().run(&["-ls", "/d"]).ok();
    let names: Vec<&str> = ls
        .stdout_lines()
        .into_iter()
        .filter_map(|l| l.split_whitespace().last())
        .filter(|n| n.starts_with('/'))
        .collect();
    assert_eq!(names, ["/d/empty", "/d/t"], "{ls}");
    let stat = c.shell().run(&["-stat", "%b %r", "/d/t"]).ok();
    assert_eq!(stat.stdout.trim(), format!("{} 3", want.len()), "{stat}");
    // hafs's own shell: the same verb, the same refusal words, and a second join.
    let short = hafs_dfs(&c, &["-concat", "/d/t", "/d/empty"]);
    assert_eq!(short.code(), Some(1), "{short}");
    assert!(
        short
            .stderr
            .contains("The number of source paths is less than 2"),
        "{short}"
    );
    let same = hafs_dfs(&c, &["-concat", "/d/t", "/d/t", "/d/empty"]);
    assert_eq!(same.code(), Some(1), "{same}");
    assert!(
        same.stderr.contains("is the same with the target file"),
        "{same}"
    );
    for (i, len) in [(5u64, 3usize), (6, BLOCK)] {
        let data = test_bytes(i, len);
        let local = tmp.path().join(format!("u{i}"));
        std::fs::write(&local, &data).unwrap();
        let put = hafs_dfs(&c, &["-put", local.to_str().unwrap(), &format!("/d/u{i}")]);
        assert!(put.success(), "{put}");
        want.extend_from_slice(&data);
    }
    let joined = hafs_dfs(&c, &["-concat", "/d/t", "/d/u5", "/d/u6"]);
    assert!(joined.success(), "{joined}");

    let stat = c.shell().run(&["-stat", "%b %r", "/d/t"]).ok();
    assert_eq!(stat.stdout.trim(), format!("{} 3", want.len()), "{stat}");
    assert!(
        java_get(&c, &tmp, "/d/t", "got1") == want,
        "Java reads the joined bytes"
    );
    assert!(
        native_read(&c, "/d/t", &tmp.path().join("got-native")) == want,
        "hdfs-native reads the joined bytes"
    );

    // The blocks that came from the replication-2 file get the target's third replica.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let replicas = c.finalized_replicas(&[0, 1, 2]);
        let blocks = replicas.len();
        let short: Vec<u64> = replicas
            .iter()
            .filter(|(_, r)| r.len() < 3)
            .map(|(id, _)| *id)
            .collect();
        // t: 2 blocks, a: 1, b: 3, c: 1, u5: 1, u6: 1 (plus /e/x's one block).
        if blocks == 10 && short.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{blocks} blocks; with fewer than 3 replicas: {short:?}"
        );
        std::thread::sleep(Duration::from_millis(300));
    }

    // The Standby tailed the concat: after a failover the new Active serves it.
    c.failover(0, 1);
    c.wait_for_state(1, "active", Duration::from_secs(30));
    assert!(java_get(&c, &tmp, "/d/t", "got2") == want, "after failover");
    // A restarted NameNode replays it from the journal.
    c.restart_nn(0);
    c.wait_for_state(0, "standby", Duration::from_secs(60));
    c.failover(1, 0);
    c.wait_for_state(0, "active", Duration::from_secs(30));
    assert!(java_get(&c, &tmp, "/d/t", "got3") == want, "after restart");
    c.shell().run(&["-test", "-e", "/d/a"]).expect_code(1);
}
