//! `truncate` with the real clients on an HA pair with three DataNodes and 1 MiB
//! blocks: Java `hadoop fs -truncate [-w]` to zero, to a block boundary (done at
//! once), inside a block and inside the last 512-byte chunk (the last block goes
//! through recovery); the prefix reads back byte for byte with Java and hdfs-native;
//! readers during the recovery never get a byte past the new length; a DataNode
//! killed with -9 while its replica is part of the recovery does not stop it; a cut
//! still waiting for its recovery at a failover is finished by the new Active; the
//! Standby has every cut after a failover and a restarted NameNode after replaying
//! them; Hadoop's refusals come back with Hadoop's words.

use std::path::Path;
use std::time::{Duration, Instant};

use hafs_tests::{hafs_bin, hafs_dfs, python, test_bytes, MiniCluster, TempDir};

const BLOCK: usize = 1 << 20;
/// Every file starts 2.5 blocks long.
const LEN: usize = 2 * BLOCK + BLOCK / 2;

/// `hadoop fs -get` of `path` into `dir`, read back.
fn java_get(c: &MiniCluster, dir: &TempDir, path: &str, name: &str) -> Vec<u8> {
    let local = dir.path().join(name);
    let _ = std::fs::remove_file(&local);
    c.shell().run(&["-get", path, local.to_str().unwrap()]).ok();
    std::fs::read(&local).unwrap()
}

/// The file's bytes through hdfs-native.
fn native_read(c: &MiniCluster, path: &str, out: &Path) -> Vec<u8> {
    let script = format!(
        "import os\nfrom hdfs_native import Client\nc = Client(os.environ['HAFS_FS_URI'])\n\
         with c.read('{path}') as r:\n    data = r.read()\n\
         open('{}', 'wb').write(data)\n",
        out.display()
    );
    python(c, &script).ok();
    std::fs::read(out).unwrap()
}

/// `hadoop fs -stat %b` (the length the NameNode reports).
fn java_len(c: &MiniCluster, path: &str) -> usize {
    let st = c.shell().run(&["-stat", "%b", path]).ok();
    st.stdout.trim().parse().unwrap()
}

/// Writes `LEN` bytes seeded by `seed` to `path` with Java, 1 MiB blocks, 3 replicas.
fn put(c: &MiniCluster, tmp: &TempDir, path: &str, seed: u64) -> Vec<u8> {
    let data = test_bytes(seed, LEN);
    let local = tmp.path().join(format!("src-{seed}"));
    std::fs::write(&local, &data).unwrap();
    c.shell()
        .run(&[
            "-D",
            &format!("dfs.blocksize={BLOCK}"),
            "-put",
            local.to_str().unwrap(),
            path,
        ])
        .ok();
    data
}

/// Both clients read exactly `want`.
fn check_bytes(c: &MiniCluster, tmp: &TempDir, path: &str, want: &[u8], tag: &str) {
    assert_eq!(java_len(c, path), want.len(), "{tag}: {path} length");
    let got = java_get(c, tmp, path, &format!("java-{tag}"));
    assert!(
        got == want,
        "{tag}: Java read {} bytes of {path}, want {}",
        got.len(),
        want.len()
    );
    let got = native_read(c, path, &tmp.path().join(format!("native-{tag}")));
    assert!(
        got == want,
        "{tag}: hdfs-native read {} bytes of {path}, want {}",
        got.len(),
        want.len()
    );
}

/// Waits until every finalized replica of the file's blocks on the running DataNodes
/// has the length the file says (the cut block's replicas are cut on disk too).
fn wait_replicas_cut(c: &MiniCluster, nodes: &[usize], lens: &[u64]) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let replicas = c.finalized_replicas(nodes);
        let sizes: Vec<u64> = replicas.values().flatten().map(|r| r.len).collect();
        let mut missing = lens.to_vec();
        for s in &sizes {
            if let Some(i) = missing.iter().position(|l| l == s) {
                missing.remove(i);
            }
        }
        if missing.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "replica lengths on disk {sizes:?}, want {lens:?} among them"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn java_truncate_cuts_files_through_recovery_and_survives_failover_and_restart() {
    let mut c = MiniCluster::builder()
        .label("truncate")
        .namenodes(2)
        .journalnodes(3)
        .datanodes(3)
        .start();
    c.wait_for_state(0, "active", Duration::from_secs(30));
    let tmp = TempDir::new("truncate-local");
    c.shell().run(&["-mkdir", "-p", "/t"]).ok();
    // (path, new length, whether the cut is at a block boundary)
    let cuts: [(&str, usize, bool); 4] = [
        ("/t/zero", 0, true),
        ("/t/boundary", BLOCK, true),
        ("/t/mid", BLOCK + 300_000, false),
        // Inside the last block and inside its last 512-byte checksum chunk.
        ("/t/chunk", 2 * BLOCK + 1001, false),
    ];
    let mut want = Vec::new();
    for (i, (path, len, _)) in cuts.iter().enumerate() {
        let data = put(&c, &tmp, path, i as u64 + 1);
        want.push(data[..*len].to_vec());
    }

    // At a block boundary the answer is true at once: the shell says "Truncated".
    for (path, len, boundary) in cuts {
        let out = if boundary {
            c.shell().run(&["-truncate", &len.to_string(), path]).ok()
        } else {
            c.shell()
                .run(&["-truncate", "-w", &len.to_string(), path])
                .ok()
        };
        assert!(
            out.stdout
                .contains(&format!("Truncated {path} to length: {len}")),
            "{out}"
        );
        // -w printed its wait (the answer was false: a recovery ran).
        assert_eq!(out.stdout.contains("Waiting for"), !boundary, "{out}");
    }
    for (i, (path, _, _)) in cuts.iter().enumerate() {
        check_bytes(&c, &tmp, path, &want[i], "cut");
    }
    // -w returned once the file was closed: an append goes through at once.
    let extra = tmp.path().join("extra");
    std::fs::write(&extra, b"appended after truncate -w").unwrap();
    c.shell()
        .run(&["-appendToFile", extra.to_str().unwrap(), "/t/mid"])
        .ok();
    want[2].extend_from_slice(b"appended after truncate -w");
    check_bytes(&c, &tmp, "/t/mid", &want[2], "appended");
    // The cut blocks' replicas are cut on disk: /t/chunk keeps 1 MiB, 1 MiB, 1001
    // bytes, three replicas each.
    let mut lens = vec![BLOCK as u64; 6];
    lens.extend([1001; 3]);
    wait_replicas_cut(&c, &[0, 1, 2], &lens);

    // Readers during the recovery: hafs's shell truncates without waiting, and the
    // same Python process reads the file with hdfs-native over and over until its
    // status shows the new length (the recovery committed). Every read must be
    // exactly the new prefix; a read counts as "during" when the status still showed
    // the old length after it. The truncate and the next heartbeat race, so up to
    // three files are tried until one has reads during the recovery.
    let mut during_total = 0;
    for attempt in 0..3u64 {
        let path = format!("/t/readers{attempt}");
        let data = put(&c, &tmp, &path, 10 + attempt);
        let new_len = BLOCK + 4097;
        let want_file = tmp.path().join(format!("want-readers{attempt}"));
        std::fs::write(&want_file, &data[..new_len]).unwrap();
        let script = format!(
            r#"import os, subprocess, time
from hdfs_native import Client
c = Client(os.environ['HAFS_FS_URI'])
want = open('{want}', 'rb').read()
t = subprocess.run(['{bin}', '--config', os.environ['HADOOP_CONF_DIR'], 'dfs',
                    '-truncate', '{new_len}', '{path}'], capture_output=True, text=True)
assert t.returncode == 0, t.stderr
assert 'Wait for block recovery' in t.stdout, t.stdout
during = reads = 0
deadline = time.time() + 60
while time.time() < deadline:
    with c.read('{path}') as r:
        data = r.read()
    reads += 1
    assert data == want, f'read {{len(data)}} bytes, want {{len(want)}}'
    if c.get_file_info('{path}').length == len(want):
        break
    during += 1
print(during, reads)
"#,
            want = want_file.display(),
            bin = hafs_bin().display(),
        );
        let out = python(&c, &script).ok();
        let nums: Vec<usize> = out
            .stdout
            .split_whitespace()
            .map(|n| n.parse().unwrap())
            .collect();
        assert_eq!(nums.len(), 2, "{out}");
        eprintln!(
            "{path}: {} of {} reads during the recovery",
            nums[0], nums[1]
        );
        during_total += nums[0];
        check_bytes(&c, &tmp, &path, &data[..new_len], "readers");
        if during_total > 0 {
            break;
        }
    }
    assert!(during_total > 0, "no read happened while a recovery ran");

    // A DataNode dies while its replica is part of the recovery: it is killed, and
    // the truncate comes before the NameNode notices, so the recovery includes it
    // (possibly as its primary, which then never acts: the NameNode starts the
    // recovery again with another). The file still closes, cut exactly, on the two
    // other replicas.
    let kill_data = put(&c, &tmp, "/t/kill", 20);
    let kill_len = BLOCK + BLOCK / 2 + 77;
    c.kill_datanode(0);
    let started = Instant::now();
    let out = c
        .shell()
        .run(&["-truncate", "-w", &kill_len.to_string(), "/t/kill"])
        .ok();
    assert!(out.stdout.contains("Waiting for"), "{out}");
    eprintln!(
        "truncate -w with a dead DataNode took {:?}",
        started.elapsed()
    );
    check_bytes(&c, &tmp, "/t/kill", &kill_data[..kill_len], "killed-dn");
    // The dead node comes back with its old, longer replica: it is not served.
    c.start_datanode(0);
    check_bytes(&c, &tmp, "/t/kill", &kill_data[..kill_len], "dn-back");

    // Refusals, in Hadoop's words. hafs's shell sends a larger length to the
    // NameNode (Java's shell refuses it itself, with the same words).
    let larger = hafs_dfs(&c, &["-truncate", &(LEN + 1).to_string(), "/t/mid"]);
    assert_eq!(larger.code(), Some(1), "{larger}");
    assert!(
        larger
            .stderr
            .contains("Cannot truncate to a larger file size. Current size:"),
        "{larger}"
    );
    // (an IllegalArgumentException in FsShell: usage and exit -1)
    c.shell()
        .run(&["-truncate", &(LEN * 2).to_string(), "/t/chunk"])
        .expect_code(255)
        .expect_stderr_contains("Cannot truncate to a larger file size");
    c.shell()
        .run(&["-truncate", "0", "/t"])
        .expect_code(1)
        .expect_stderr_contains("Is a directory");
    // Neither shell sends a negative length (they parse it as an option or refuse
    // it); a client can, as Java's long on the unsigned wire field.
    let conf = hafs_conf::Configuration::load(Some(c.conf_dir())).unwrap();
    let client = hafs_client::DfsClient::new(&conf, None).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let e = rt
        .block_on(client.truncate("/t/mid", -1i64 as u64))
        .unwrap_err();
    assert_eq!(
        e.class_name(),
        Some("org.apache.hadoop.HadoopIllegalArgumentException"),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("Cannot truncate to a negative file size: -1."),
        "{e}"
    );
    let e = rt.block_on(client.truncate("/t/nope", 0)).unwrap_err();
    assert_eq!(e.class_name(), Some("java.io.FileNotFoundException"), "{e}");
    assert!(
        e.to_string().contains("File does not exist: /t/nope"),
        "{e}"
    );
    let e = rt.block_on(client.truncate("/t", 0)).unwrap_err();
    assert!(e.to_string().contains("Path is not a file: /t"), "{e}");
    drop(client);
    drop(rt);
    // A file another client is writing: AlreadyBeingCreatedException.
    let script = format!(
        r#"import os, subprocess
from hdfs_native import Client
c = Client(os.environ['HAFS_FS_URI'])
w = c.create('/t/open')
w.write(b'x' * 1000)
t = subprocess.run(['{bin}', '--config', os.environ['HADOOP_CONF_DIR'], 'dfs',
                    '-truncate', '10', '/t/open'], capture_output=True, text=True)
w.close()
print(t.returncode)
print(t.stderr)
"#,
        bin = hafs_bin().display(),
    );
    let out = python(&c, &script).ok();
    assert!(out.stdout.starts_with("1\n"), "{out}");
    assert!(
        out.stdout.contains("Failed to TRUNCATE_FILE /t/open for")
            && out
                .stdout
                .contains("because this file lease is currently owned by"),
        "{out}"
    );
    assert_eq!(
        java_len(&c, "/t/open"),
        1000,
        "the refused truncate changed nothing"
    );

    // A truncate still waiting for its recovery at a failover: with every DataNode
    // stopped (SIGSTOP; the NameNode still counts them live) the recovery command
    // cannot be carried out. The new Active knows the pending cut from the edits it
    // tailed, recovers the block itself once the DataNodes are back, and the same
    // `-truncate -w` (asked again of the new Active) sees the file reach its length.
    let pending_data = put(&c, &tmp, "/t/pending", 30);
    let pending_len = 2 * BLOCK + 5;
    for i in 0..3 {
        c.pause_datanode(i);
    }
    let out = c
        .shell()
        .run(&["-truncate", &pending_len.to_string(), "/t/pending"])
        .ok();
    assert!(out.stdout.contains("Wait for block recovery"), "{out}");
    assert_eq!(
        java_len(&c, "/t/pending"),
        LEN,
        "the old length until the commit"
    );
    c.failover(0, 1);
    c.wait_for_state(1, "active", Duration::from_secs(30));
    for i in 0..3 {
        c.resume_datanode(i);
    }
    let out = c
        .shell()
        .run(&["-truncate", "-w", &pending_len.to_string(), "/t/pending"])
        .ok();
    assert!(
        out.stdout
            .contains(&format!("Truncated /t/pending to length: {pending_len}")),
        "{out}"
    );

    // The Standby tailed every cut; a restarted NameNode replays them.
    let all: Vec<(String, Vec<u8>)> = cuts
        .iter()
        .zip(&want)
        .map(|((p, _, _), w)| (p.to_string(), w.clone()))
        .chain([
            ("/t/kill".to_string(), kill_data[..kill_len].to_vec()),
            (
                "/t/pending".to_string(),
                pending_data[..pending_len].to_vec(),
            ),
        ])
        .collect();
    for (p, w) in &all {
        check_bytes(&c, &tmp, p, w, "failover");
    }
    c.restart_nn(0);
    c.wait_for_state(0, "standby", Duration::from_secs(60));
    c.failover(1, 0);
    c.wait_for_state(0, "active", Duration::from_secs(30));
    for (p, w) in &all {
        check_bytes(&c, &tmp, p, w, "restart");
    }
}
