//! The sandbox supervises every daemon: under a continuous write load from our client
//! and hdfs-native, kill -9 of a JournalNode, a DataNode, the Active NameNode and a
//! controller (one after the other) is each reported in one line and repaired by a
//! restart; nothing acknowledged is lost, the restarted JournalNode holds the whole
//! journal again, the restarted DataNode's blocks count again, and its return sets
//! off no re-replication storm. A daemon that cannot start is given up on after a
//! few tries while the rest keeps serving.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use hafs_tests::{
    assert_acked_intact, block_files, failure_time, hafs_cmd, hafs_dfs, parse_live_datanodes,
    processes_matching, ClientTarget, Daemon, LoadReport, TempDir, Writer,
};

use super::{
    one_at_a_time, put_and_cat, service_state, start_sandbox, stop_and_check_nothing_left,
    target_of,
};

/// How long hdfs-native writes; every kill must be done (and repaired) within it, so
/// that all of them happen under load from both clients. The kills take about 15 s.
const LOAD: Duration = Duration::from_secs(40);
/// Bound for each wait on the sandbox (a report, a restart) and for the writers to
/// make progress after a restart; generous for a loaded 2-core machine.
const BOUND: Duration = Duration::from_secs(60);
/// The writers: our client and hdfs-native, each writing one single-block file at a
/// time (the load's files are at most 1.5 MB, the sandbox's block size 128 MiB).
const WRITERS: usize = 2;

/// The pid the ready line gives the entry found by walking `markers` in order, e.g.
/// `["nn2 127.0.0.1:", "controller "]` for nn2's controller.
fn pid_in_ready(ready: &str, markers: &[&str]) -> u32 {
    let mut rest = ready;
    for m in markers {
        let at = rest
            .find(m)
            .unwrap_or_else(|| panic!("no {m:?} in the ready line: {ready:?}"));
        rest = &rest[at..];
    }
    number_after(rest, "pid ")
        .and_then(|p| u32::try_from(p).ok())
        .unwrap_or_else(|| panic!("no pid for {markers:?} in {ready:?}"))
}

/// The number after the first `marker` in `text`.
fn number_after(text: &str, marker: &str) -> Option<u64> {
    let at = text.find(marker)? + marker.len();
    text[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

fn kill_9(pid: u32) {
    // SAFETY: kill(2) of a process of the sandbox this test started.
    let r = unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
    assert_eq!(r, 0, "kill -9 {pid}");
}

/// The sandbox's output after byte `from`.
fn log_since(sandbox: &Daemon, from: usize) -> String {
    let log = std::fs::read(sandbox.log_path()).unwrap_or_default();
    String::from_utf8_lossy(&log[from.min(log.len())..]).into_owned()
}

/// kill -9 of sandbox daemon `name` (pid `pid`): the sandbox reports the exit in one
/// line (name, pid, signal) and restarts it; returns the restarted daemon's pid.
fn kill_9_and_wait_back(sandbox: &mut Daemon, name: &str, pid: u32) -> u32 {
    let from = sandbox.log_len();
    kill_9(pid);
    let exited = format!("sandbox: {name} (pid {pid}) exited");
    let report = sandbox.wait_for_log_line_after(&exited, from, BOUND);
    assert!(
        report.contains("signal: 9") && report.contains("restarting it"),
        "the report names the signal and the restart: {report:?}"
    );
    let back =
        sandbox.wait_for_log_line_after(&format!("sandbox: {name} is back (pid "), from, BOUND);
    let new_pid = number_after(&back, "(pid ")
        .and_then(|p| u32::try_from(p).ok())
        .unwrap_or_else(|| panic!("no pid in {back:?}"));
    assert_ne!(new_pid, pid, "{back}");
    let since = log_since(sandbox, from);
    let reports = since.lines().filter(|l| l.contains(&exited)).count();
    assert_eq!(reports, 1, "one line reports the exit of {name}:\n{since}");
    eprintln!("{report}\n{back}");
    new_pid
}

/// Our writer gets more writes acknowledged after `what`.
#[track_caller]
fn writes_continue(hafs: &Writer, what: &str) {
    let from = hafs.acked_so_far();
    assert!(
        hafs.wait_for_acks(from, 3, BOUND),
        "our client got no write acknowledged within {BOUND:?} after {what}"
    );
}

/// Waits until exactly one NameNode reports Active; its id.
fn wait_single_active(target: &ClientTarget, sandbox: &Daemon) -> String {
    let deadline = Instant::now() + BOUND;
    loop {
        let states = [service_state(target, "nn1"), service_state(target, "nn2")];
        if states.iter().filter(|s| *s == "active").count() == 1 {
            return if states[0] == "active" { "nn1" } else { "nn2" }.to_string();
        }
        assert!(
            Instant::now() < deadline,
            "no single Active within {BOUND:?} ({states:?}); log:\n{}",
            sandbox.log_tail(60)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Block ids on the sandbox's DataNodes' disks around dn1's outage: what dn1 held
/// (finalized) when it was killed, and the highest id on any disk just before the
/// kill and just after its return.
struct Outage {
    held: BTreeSet<u64>,
    max_before: u64,
    max_after: u64,
}

fn data_dir(dir: &TempDir, dn: &str) -> PathBuf {
    dir.join(dn).join("data")
}

fn max_block_id(dir: &TempDir) -> u64 {
    let dirs: Vec<PathBuf> = ["dn1", "dn2", "dn3"]
        .iter()
        .map(|d| data_dir(dir, d))
        .collect();
    block_files(&dirs).iter().map(|b| b.0).max().unwrap_or(0)
}

fn finalized_blocks(data: &Path) -> BTreeSet<u64> {
    block_files(&[data.to_path_buf()])
        .into_iter()
        .filter(|(_, path, _)| path.to_string_lossy().contains("/finalized/"))
        .map(|(id, _, _)| id)
        .collect()
}

/// Distinct block ids the DataNodes copied on a NameNode's TRANSFER command
/// (re-replication), from their logs.
fn transferred_blocks(dir: &TempDir) -> (BTreeSet<u64>, usize) {
    let mut ids = BTreeSet::new();
    let mut lines = 0;
    for dn in ["dn1", "dn2", "dn3"] {
        let log =
            std::fs::read_to_string(dir.join("logs").join(format!("{dn}.log"))).unwrap_or_default();
        for line in log.lines().filter(|l| l.contains("replica transferred")) {
            lines += 1;
            let id = line
                .split(":blk_")
                .nth(1)
                .and_then(|r| r.split('_').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("no block id in {line:?}"));
            ids.insert(id);
        }
    }
    (ids, lines)
}

/// No re-replication storm after dn1's return. The NameNode never declared dn1 dead
/// (it was down about a second, the dead-node interval is minutes), so the only blocks
/// it may copy are those that ended up with two replicas because dn1 was missing:
/// blocks written during the outage (ids allocated between the two snapshots, an upper
/// bound since abandoned pipelines use up ids too) and the blocks in flight at the
/// kill and at the return, at most one per writer each. Of the blocks dn1 held when it
/// died, only one whose receipt dn1 could not report before it died (at most one per
/// writer) may be copied: anything more means its block report was not taken.
fn assert_no_replication_storm(dir: &TempDir, outage: &Outage) {
    let (copied, lines) = transferred_blocks(dir);
    let recopied: Vec<&u64> = copied.intersection(&outage.held).collect();
    let bound = (outage.max_after - outage.max_before) as usize + 2 * WRITERS;
    eprintln!(
        "re-replication: {} blocks copied ({lines} transfers), bound {bound}; dn1 held {} \
         blocks when killed, {} of them copied again",
        copied.len(),
        outage.held.len(),
        recopied.len()
    );
    assert!(
        outage.held.len() > 3 * WRITERS,
        "dn1 held too few blocks ({}) for the check to mean anything",
        outage.held.len()
    );
    assert!(
        recopied.len() <= WRITERS,
        "blocks dn1 held when killed were copied again: {recopied:?}"
    );
    assert!(
        copied.len() <= bound,
        "{} blocks re-replicated, more than the {bound} written around dn1's outage: {copied:?}",
        copied.len()
    );
}

/// One JournalNode's line of `hafs journalnode -status` and its segments.
#[derive(Debug, PartialEq)]
struct JournalView {
    committed: u64,
    highest: u64,
    segments: Vec<String>,
}

fn journal_views(status: &str) -> Vec<JournalView> {
    let mut views: Vec<JournalView> = Vec::new();
    let field = |line: &str, key: &str| number_after(line, key).unwrap_or(u64::MAX);
    for line in status.lines() {
        if line.contains(" committedTxId=") {
            views.push(JournalView {
                committed: field(line, "committedTxId="),
                highest: field(line, "highestWrittenTxId="),
                segments: Vec::new(),
            });
        } else if let Some(v) = views.last_mut() {
            let seg = line.trim();
            if seg.starts_with("finalized") || seg.starts_with("in-progress") {
                v.segments
                    .push(seg.split_whitespace().collect::<Vec<_>>().join(" "));
            }
        }
    }
    views
}

/// The restarted jn1 caught up: all three JournalNodes report the same committed and
/// highest txid and the same segments (jn1 received the ones it missed from its peers).
fn wait_journal_caught_up(target: &ClientTarget) {
    let deadline = Instant::now() + BOUND;
    loop {
        let out = hafs_cmd(target, &["journalnode", "-status"]);
        let views = journal_views(&out.stdout);
        let same = views.len() == 3 && views.iter().all(|v| *v == views[0]);
        if out.success() && same && views[0].committed == views[0].highest {
            eprintln!("journal caught up:\n{}", out.stdout);
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the JournalNodes did not agree within {BOUND:?}:\n{out}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The number after `key` on the fsck line starting with it.
fn fsck_count(out: &str, key: &str) -> Option<u64> {
    let line = out.lines().find(|l| l.trim_start().starts_with(key))?;
    line[line.find(key)? + key.len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// dn1's blocks count again: three live DataNodes, and fsck finds every block with
/// its three replicas (after the re-replication of the few written during the outage).
fn wait_datanodes_whole(target: &ClientTarget) {
    let deadline = Instant::now() + BOUND;
    loop {
        let report = hafs_cmd(target, &["dfsadmin", "-report"]);
        let fsck = hafs_cmd(target, &["fsck", "/"]);
        let live = parse_live_datanodes(&report.stdout);
        let under = fsck_count(&fsck.stdout, "Under-replicated blocks:");
        let missing = fsck_count(&fsck.stdout, "Missing blocks:");
        if live == Some(3) && under == Some(0) && missing == Some(0) {
            assert!(fsck.stdout.contains("HEALTHY"), "{fsck}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "within {BOUND:?}: live {live:?}, under-replicated {under:?}, missing \
             {missing:?}\n{report}\n{fsck}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// How long after the sandbox reports dn1 back an hdfs-native write may still fail
/// because of the outage: the write set up just before, and the moment between dn1
/// serving its port and registering with the NameNodes.
const OUTAGE_SLACK: Duration = Duration::from_secs(3);

/// hdfs-native's failures are its own policies, and none lost an acknowledged write:
/// - a write whose pipeline includes a dead DataNode fails (it neither sets the
///   pipeline up again without the node, as Hadoop's client does, nor goes on with the
///   two that are left): with 3 DataNodes and replication 3 every write during dn1's
///   outage does. Each must lie within the outage (its time, from the failure's
///   ` at=`), however many there are (it fails fast and goes on to the next file);
/// - it fails the call in flight when its connection to a killed Active drops ("RPC
///   listener disconnected", see auto_failover_clients.rs): the Active dies once here
///   and the controller's death may move the Active once more, so at most two.
fn assert_native_clean(report: &LoadReport, outage: (SystemTime, SystemTime)) {
    let (from, to) = (outage.0, outage.1 + OUTAGE_SLACK);
    let (mut during_outage, mut last) = (0, outage.0);
    let mut dropped = Vec::new();
    let mut others = Vec::new();
    for f in &report.failures {
        let at = failure_time(f);
        if let Some(t) = at.filter(|t| *t >= from && *t <= to) {
            during_outage += 1;
            last = last.max(t);
        } else if f.contains("RPC listener disconnected") {
            dropped.push(f);
        } else {
            // How long after dn1's return (or before, as an error) it failed.
            others.push((f, at.map(|t| t.duration_since(outage.1))));
        }
    }
    eprintln!(
        "hdfs-native: {} writes acknowledged, {during_outage} failed during dn1's outage \
         (the last {:?} after its return), {} dropped calls",
        report.acked.len(),
        last.duration_since(outage.1).ok(),
        dropped.len()
    );
    assert!(
        dropped.len() <= 2,
        "hdfs-native lost more than 2 calls: {dropped:#?}"
    );
    assert!(
        others.is_empty(),
        "hdfs-native failures outside dn1's outage:\n{others:#?}"
    );
    assert!(report.acked.len() >= 10, "hdfs-native wrote too little");
}

/// What the kills left to check: dn1's outage, as block ids and as times.
struct Kills {
    outage: Outage,
    outage_time: (SystemTime, SystemTime),
}

/// kill -9 of jn1, dn1, the Active nn1 and nn2's controller, in turn, each after the
/// previous one was repaired and our client wrote through it.
fn kill_one_of_each(sandbox: &mut Daemon, ready: &str, dir: &TempDir, hafs: &Writer) -> Kills {
    let target = target_of(dir);
    let jn1 = pid_in_ready(ready, &["jn1 127.0.0.1:"]);
    kill_9_and_wait_back(sandbox, "jn1", jn1);
    writes_continue(hafs, "jn1's restart");

    let held = finalized_blocks(&data_dir(dir, "dn1"));
    let max_before = max_block_id(dir);
    let down = SystemTime::now();
    let dn1 = pid_in_ready(ready, &["dn1 127.0.0.1:"]);
    kill_9_and_wait_back(sandbox, "dn1", dn1);
    let outage_time = (down, SystemTime::now());
    let outage = Outage {
        held,
        max_before,
        max_after: max_block_id(dir),
    };
    writes_continue(hafs, "dn1's restart");

    let from = sandbox.log_len();
    let nn1 = pid_in_ready(ready, &["nn1 127.0.0.1:"]);
    kill_9_and_wait_back(sandbox, "nn1", nn1);
    sandbox.wait_for_log_line_after("sandbox: nn2 is now Active", from, BOUND);
    assert_eq!(
        service_state(&target, "nn1"),
        "standby",
        "nn1 came back Standby"
    );
    writes_continue(hafs, "the failover to nn2");

    let zkfc = pid_in_ready(ready, &["nn2 127.0.0.1:", "controller "]);
    kill_9_and_wait_back(sandbox, "zkfc-nn2", zkfc);
    let active = wait_single_active(&target, sandbox);
    writes_continue(hafs, &format!("zkfc-nn2's restart ({active} Active)"));
    Kills {
        outage,
        outage_time,
    }
}

#[test]
fn sandbox_restarts_each_killed_daemon_under_load_and_loses_nothing() {
    let _serial = one_at_a_time();
    let dir = TempDir::new("sandbox-supervise");
    let logs = TempDir::new("sandbox-supervise-log");
    let (mut sandbox, ready) = start_sandbox(&dir, &logs, &[]);
    let target = target_of(&dir);
    let started = Instant::now();
    let hafs = Writer::hafs(target.clone(), "/supervise/hafs", logs.join("scratch"));
    let native = Writer::hdfs_native(target.clone(), "/supervise/native", LOAD.as_secs());
    writes_continue(&hafs, "the start");

    let kills = kill_one_of_each(&mut sandbox, &ready, &dir, &hafs);
    let kill_time = started.elapsed();
    assert!(
        kill_time < LOAD,
        "the kills took {kill_time:?}, longer than the hdfs-native load ({LOAD:?})"
    );

    let reports = vec![native.stop(), hafs.stop()];
    assert_native_clean(&reports[0], kills.outage_time);
    reports[1].assert_clean("the kills", 10);
    eprintln!(
        "hafs: {} writes acknowledged, {} reads verified",
        reports[1].acked.len(),
        reports[1].reads_ok
    );
    assert_acked_intact(&target, &reports, "after the kills");
    wait_journal_caught_up(&target);
    wait_datanodes_whole(&target);
    assert_no_replication_storm(&dir, &kills.outage);
    eprintln!(
        "kills and repairs took {kill_time:?}, all of it {:?}",
        started.elapsed()
    );
    stop_and_check_nothing_left(sandbox, &dir);
}

#[test]
fn sandbox_gives_up_on_a_daemon_that_keeps_dying_and_the_rest_serves() {
    let _serial = one_at_a_time();
    let dir = TempDir::new("sandbox-give-up");
    let logs = TempDir::new("sandbox-give-up-log");
    let (mut sandbox, ready) = start_sandbox(&dir, &logs, &[]);
    let target = target_of(&dir);
    put_and_cat(&target, &logs, "before-breaking-dn3");

    // dn3's data dir becomes a plain file: every new dn3 dies at start-up.
    let data = data_dir(&dir, "dn3");
    std::fs::rename(&data, dir.join("dn3").join("data.moved")).unwrap();
    std::fs::write(&data, b"not a directory").unwrap();
    let from = sandbox.log_len();
    kill_9(pid_in_ready(&ready, &["dn3 127.0.0.1:"]));
    let gave_up =
        sandbox.wait_for_log_line_after("giving up on it", from, Duration::from_secs(120));
    assert!(gave_up.starts_with("sandbox: dn3 (pid "), "{gave_up}");
    let since = log_since(&sandbox, from);
    // One line per death: the kill and five failed restarts, backing off 0.5 s to 8 s.
    let deaths: Vec<&str> = since
        .lines()
        .filter(|l| l.starts_with("sandbox: dn3 (pid ") && l.contains(" exited ("))
        .collect();
    assert_eq!(deaths.len(), 6, "{since}");
    for (i, delay) in ["0.5s", "1s", "2s", "4s", "8s"].iter().enumerate() {
        let want = format!("restarting it in {delay} (restart {} of at most 5", i + 1);
        assert!(deaths[i].contains(&want), "{want:?} in {:?}", deaths[i]);
    }
    assert!(!since.contains("sandbox: dn3 is back"), "{since}");
    // The end of dn3's log comes with the report: its reason to die.
    assert!(
        since.contains("    | ") && since.contains("cannot create data directory"),
        "the report shows the end of dn3's log:\n{since}"
    );
    assert!(sandbox.is_running(), "the sandbox keeps running");
    let dn3_conf = dir.join("dn3").join("conf").display().to_string();
    assert!(
        processes_matching(&dn3_conf, None).is_empty(),
        "dn3 stays down once given up on"
    );
    // The rest serves: new data on dn1 and dn2, old data readable, nn1 still Active.
    put_and_cat(&target, &logs, "after-giving-up");
    let old = hafs_dfs(&target, &["-cat", "/sandbox-check/before-breaking-dn3"]).ok();
    let want: String = (0..2000)
        .map(|i| format!("before-breaking-dn3 line {i}\n"))
        .collect();
    assert!(old.stdout == want, "the file written before differs");
    assert_eq!(service_state(&target, "nn1"), "active");
    let later = log_since(&sandbox, from);
    assert_eq!(
        later.matches(" exited (").count(),
        6,
        "nothing was restarted after giving up:\n{later}"
    );
    stop_and_check_nothing_left(sandbox, &dir);
}
