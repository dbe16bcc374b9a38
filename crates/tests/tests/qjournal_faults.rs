//! The quorum journal with real processes: three `hafs journalnode`s and a NameNode
//! whose edit log is `qjournal://...`. Each scenario checks that every acknowledged
//! operation survives a NameNode restart and that nothing never attempted appears.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use hafs_tests::{hafs_cmd, hafs_dfs, parse_ls, JournalNodes, MiniCluster, SHARED_EDITS_KEY};

fn cluster(jns: &JournalNodes, label: &str) -> MiniCluster {
    MiniCluster::builder()
        .label(label)
        .conf(SHARED_EDITS_KEY, jns.uri())
        .conf("dfs.qjournal.write-txns.timeout.ms", "3000")
        .conf("dfs.qjournal.start-segment.timeout.ms", "5000")
        .start()
}

fn dirs_under(cluster: &MiniCluster, root: &str) -> BTreeSet<String> {
    let out = hafs_dfs(cluster, &["-ls", root]).ok();
    parse_ls(&out.stdout).into_iter().map(|e| e.path).collect()
}

fn mkdir(cluster: &MiniCluster, path: &str) -> bool {
    hafs_dfs(cluster, &["-mkdir", "-p", path]).success()
}

/// True once process `pid` is gone or a zombie (exited, not yet reaped).
fn exited(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.trim_start().starts_with('Z'))
            .unwrap_or(false),
        Err(_) => true,
    }
}

fn set(paths: &[&str]) -> BTreeSet<String> {
    paths.iter().map(|s| s.to_string()).collect()
}

/// Waits until the NameNode process exits (it stops when the edit log fails).
fn wait_namenode_exit(cluster: &mut MiniCluster, within: Duration) -> String {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if exited(cluster.namenode().pid()) {
            return cluster.namenode_log();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("NameNode still running; log:\n{}", cluster.namenode_log());
}

#[test]
fn one_journalnode_down_writes_continue_and_it_catches_up() {
    let mut jns = JournalNodes::start(3, "qjm-one-down");
    let mut c = cluster(&jns, "qjm-one-down");
    assert!(mkdir(&c, "/q/a"));
    assert!(mkdir(&c, "/q/b"));

    jns.kill(0);
    let t = Instant::now();
    assert!(
        mkdir(&c, "/q/c"),
        "a write with one JournalNode down failed:\n{}",
        c.namenode_log()
    );
    assert!(mkdir(&c, "/q/d"));
    assert!(
        t.elapsed() < Duration::from_secs(20),
        "writes took {:?}",
        t.elapsed()
    );

    jns.start_node(0);
    assert!(mkdir(&c, "/q/e"));

    // A NameNode restart recovers the segment on every node (the lagging one copies it).
    c.restart_namenode();
    let want = set(&["/q/a", "/q/b", "/q/c", "/q/d", "/q/e"]);
    assert_eq!(dirs_under(&c, "/q"), want);
    let status = jns.status();
    let finalized: Vec<&str> = status.lines().filter(|l| l.contains("finalized")).collect();
    assert!(
        finalized.len() >= 3,
        "every node holds the recovered segment:\n{status}"
    );
    let first = finalized[0].trim().to_string();
    assert!(
        finalized.iter().filter(|l| l.trim() == first).count() >= 3,
        "all three nodes hold the same finalized segment:\n{status}"
    );
    assert!(status.contains("formatted=true"), "{status}");
    assert!(mkdir(&c, "/q/f"));
}

#[test]
fn two_journalnodes_down_the_namenode_stops_and_resumes_after_one_returns() {
    let mut jns = JournalNodes::start(3, "qjm-two-down");
    let mut c = cluster(&jns, "qjm-two-down");
    assert!(mkdir(&c, "/q/a"));
    jns.kill(0);
    jns.kill(1);
    let out = hafs_dfs(&c, &["-mkdir", "/q/lost"]);
    assert!(!out.success(), "a write without a quorum was acknowledged");
    let log = wait_namenode_exit(&mut c, Duration::from_secs(30));
    assert!(
        log.contains("quorum") && log.contains("edit log"),
        "the NameNode names the lost quorum when it stops:\n{log}"
    );
    // One JournalNode back: a majority again; the restarted NameNode serves and writes.
    jns.start_node(0);
    c.restart_namenode();
    let got = dirs_under(&c, "/q");
    assert!(got.contains("/q/a"), "{got:?}");
    assert!(got.is_subset(&set(&["/q/a", "/q/lost"])), "{got:?}");
    assert!(mkdir(&c, "/q/b"), "{}", c.namenode_log());
    jns.start_node(1);
    c.restart_namenode();
    assert!(dirs_under(&c, "/q").is_superset(&set(&["/q/a", "/q/b"])));
}

#[test]
fn slow_journalnode_does_not_slow_writes() {
    let jns = JournalNodes::start(3, "qjm-slow");
    let mut c = cluster(&jns, "qjm-slow");
    assert!(mkdir(&c, "/s/warm"));
    jns.pause(2);
    let t = Instant::now();
    for i in 0..5 {
        assert!(mkdir(&c, &format!("/s/d{i}")));
    }
    let took = t.elapsed();
    jns.resume(2);
    // Five client processes; a stalled node must not add its timeout to any of them.
    assert!(
        took < Duration::from_secs(15),
        "writes with a stopped JournalNode took {took:?}"
    );
    c.restart_namenode();
    assert_eq!(dirs_under(&c, "/s").len(), 6);
}

#[test]
fn old_writer_is_fenced_by_a_new_epoch() {
    use hafs_journal::client::{QjmConfig, QuorumJournal};
    use hafs_journal::protocol::QjournalUri;
    use hafs_journal::JournalManager;

    let jns = JournalNodes::start(3, "qjm-fence");
    let mut c = cluster(&jns, "qjm-fence");
    assert!(mkdir(&c, "/f/a"));
    // Another writer takes a new epoch while the NameNode is frozen.
    c.pause_namenode();
    let info = hafs_journal::StorageDir::new(c.nn_name_dir().to_path_buf())
        .load(hafs_journal::storage::StorageType::NameNode)
        .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let last = rt.block_on(async {
        let w = QuorumJournal::new(
            QjournalUri::parse(&jns.uri()).unwrap(),
            hafs_namenode_ns(&info),
            QjmConfig::default(),
        );
        w.recover_unfinalized_segments().await.unwrap()
    });
    assert!(
        last >= 1,
        "the new writer recovered the acknowledged edits (last txid {last})"
    );
    c.resume_namenode();
    // The old NameNode's next write is rejected everywhere; it stops, acknowledging nothing.
    let out = hafs_dfs(&c, &["-mkdir", "/f/after-fence"]);
    assert!(!out.success(), "a fenced NameNode acknowledged a write");
    let log = wait_namenode_exit(&mut c, Duration::from_secs(30));
    assert!(
        log.contains("epoch"),
        "the fenced NameNode says why it stopped:\n{log}"
    );
    c.restart_namenode();
    let got = dirs_under(&c, "/f");
    assert_eq!(
        got,
        set(&["/f/a"]),
        "no divergence: only acknowledged edits"
    );
    assert!(mkdir(&c, "/f/b"));
}

fn hafs_namenode_ns(info: &hafs_journal::StorageInfo) -> hafs_journal::protocol::NsInfo {
    hafs_journal::protocol::NsInfo {
        layout_version: info.layout_version,
        namespace_id: info.namespace_id,
        cluster_id: info.cluster_id.clone(),
        block_pool_id: info.block_pool_id.clone(),
    }
}

#[test]
fn journalnode_status_and_clean_sigterm() {
    let mut jns = JournalNodes::start(3, "qjm-status");
    let c = cluster(&jns, "qjm-status");
    assert!(mkdir(&c, "/x"));
    let out = hafs_cmd(&c, &["journalnode", "-status"]).ok();
    assert!(out.stdout.contains("lastPromisedEpoch=1"), "{}", out.stdout);
    assert_eq!(
        out.stdout.matches("formatted=true").count(),
        3,
        "{}",
        out.stdout
    );
    let st = jns.stop(1).expect("JournalNode exits on SIGTERM");
    assert!(st.success(), "{st:?}");
    let out = hafs_cmd(&c, &["journalnode", "-status"]);
    assert_eq!(out.code(), Some(1));
    assert!(out.stdout.contains("unreachable"), "{}", out.stdout);
}

/// Node `i`'s block of `hafs journalnode -status` (its header line and segment lines).
fn status_block(status: &str, addr: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in status.lines() {
        if !line.starts_with(' ') {
            inside = line.starts_with(addr);
        }
        if inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[test]
fn wiped_journalnode_is_repaired_by_catch_up() {
    let mut jns = JournalNodes::start(3, "qjm-wipe");
    let mut c = cluster(&jns, "qjm-wipe");
    assert!(mkdir(&c, "/w/a"));
    assert!(mkdir(&c, "/w/b"));
    c.restart_namenode(); // finalizes the first segment everywhere
    jns.wipe(2);
    jns.start_node(2);
    assert!(mkdir(&c, "/w/c"), "{}", c.namenode_log());
    let addr = jns.addr(2).to_string();
    let healthy = status_block(&jns.status(), &jns.addr(0).to_string());
    let first_finalized = healthy
        .lines()
        .find(|l| l.contains("finalized"))
        .expect("a finalized segment on a healthy node")
        .trim()
        .to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let block = status_block(&jns.status(), &addr);
        if block.contains("formatted=true") && block.contains(&first_finalized) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the wiped node did not get {first_finalized:?} back:\n{block}\nlog:\n{}",
            jns.log(2)
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    // The repaired node counts toward a quorum again: lose the other two in turn.
    c.restart_namenode();
    assert!(mkdir(&c, "/w/d"));
    jns.kill(0);
    assert!(mkdir(&c, "/w/e"), "{}", c.namenode_log());
    c.restart_namenode();
    assert_eq!(
        dirs_under(&c, "/w"),
        set(&["/w/a", "/w/b", "/w/c", "/w/d", "/w/e"])
    );
}

/// Continuous writes from several clients while JournalNodes are killed with SIGKILL
/// and restarted one after the other; then the NameNode restarts: every acknowledged mkdir is there,
/// and nothing that was never attempted.
#[test]
fn continuous_writes_survive_journalnode_kills() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    let mut jns = JournalNodes::start(3, "qjm-continuous");
    let mut c = cluster(&jns, "qjm-continuous");
    assert!(mkdir(&c, "/k"));
    let target = hafs_tests::ClientTarget {
        conf_dir: c.conf_dir().to_path_buf(),
        fs_uri: c.fs_uri(),
        env: Vec::new(),
    };
    let stop = Arc::new(AtomicBool::new(false));
    let attempted = Arc::new(Mutex::new(BTreeSet::new()));
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (stop, attempted, acked, target) = (
                stop.clone(),
                attempted.clone(),
                acked.clone(),
                target.clone(),
            );
            std::thread::spawn(move || {
                for i in 0..10_000 {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let p = format!("/k/w{w}-{i}");
                    attempted.lock().unwrap().insert(p.clone());
                    if hafs_dfs(&target, &["-mkdir", &p]).success() {
                        acked.lock().unwrap().insert(p);
                    } else {
                        panic!("mkdir {p} failed with one JournalNode down at most");
                    }
                }
            })
        })
        .collect();
    // A restarted node rejoins at the next segment, which the NameNode starts within
    // about a second of the node answering again (`wants_roll`; rolls to re-sync are
    // at least 2 s apart). Only then may another node fail without losing the quorum.
    for round in 0..2 {
        std::thread::sleep(Duration::from_millis(700));
        jns.kill(round);
        std::thread::sleep(Duration::from_millis(700));
        jns.start_node(round);
        std::thread::sleep(Duration::from_millis(3500));
    }
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.join().expect("a writer failed");
    }
    let acked = acked.lock().unwrap().clone();
    let attempted = attempted.lock().unwrap().clone();
    assert!(
        acked.len() >= 8,
        "too few writes to mean anything: {}",
        acked.len()
    );
    c.restart_namenode();
    let got = dirs_under(&c, "/k");
    assert!(
        got.is_superset(&acked),
        "lost acknowledged mkdirs: {:?}",
        acked.difference(&got).collect::<Vec<_>>()
    );
    assert!(
        got.is_subset(&attempted),
        "{:?}",
        got.difference(&attempted).collect::<Vec<_>>()
    );
}

#[test]
fn initialize_shared_edits_moves_a_namenode_onto_journalnodes() {
    let jns = JournalNodes::start(3, "qjm-init");
    let mut c = MiniCluster::builder().label("qjm-init").start();
    assert!(mkdir(&c, "/i/a"));
    assert!(mkdir(&c, "/i/b"));
    c.kill_namenode();
    // Point the cluster's conf at the JournalNodes, then copy the edits over.
    let site = c.conf_dir().join("hdfs-site.xml");
    let xml = std::fs::read_to_string(&site).unwrap();
    let prop = format!(
        "<property><name>{SHARED_EDITS_KEY}</name><value>{}</value></property>\n</configuration>",
        jns.uri()
    );
    std::fs::write(&site, xml.replace("</configuration>", &prop)).unwrap();
    let out = hafs_cmd(&c, &["namenode", "-initializeSharedEdits"]).ok();
    assert!(
        out.stderr.contains("Initialized the shared edits"),
        "{}",
        out.stderr
    );
    c.restart_namenode();
    assert_eq!(dirs_under(&c, "/i"), set(&["/i/a", "/i/b"]));
    assert!(mkdir(&c, "/i/c"));
    c.restart_namenode();
    assert_eq!(dirs_under(&c, "/i"), set(&["/i/a", "/i/b", "/i/c"]));
    let status = jns.status();
    assert_eq!(status.matches("formatted=true").count(), 3, "{status}");
}
