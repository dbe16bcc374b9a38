//! A paused Active under automatic failover, with real processes and both election
//! backends, under continuous write load from our client: SIGSTOP the Active NameNode
//! (or its whole "host": the NameNode and its controller) for longer than every
//! timeout, then SIGCONT. The other controller takes over meanwhile and clients carry
//! on with nn2; once resumed, the old Active cannot write, does not serve stale reads
//! beyond the documented bound (docs/election.md), ends up Standby (or stopped), and
//! every acknowledged write is intact.
//!
//! With either election no stale read at all after the resume: the read guard (the
//! deadline of the lease, or of the ZooKeeper session holding the lock, passed during
//! the pause) makes the NameNode answer StandbyException until its controller makes it
//! Standby.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use hafs_tests::{assert_acked_intact, hafs_dfs, sleep_until, Backend, MiniCluster, Writer};

/// Each test runs a full HA cluster with controllers; one at a time.
static ONE_CLUSTER_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The longest a pause-to-new-Active may take with the harness's short timeouts (2 s
/// ZooKeeper session or lease, 200 ms health checks with a 1 s RPC timeout, 2 s
/// graceful fence); generous for a loaded machine.
const FAILOVER_BOUND: Duration = Duration::from_secs(30);

/// How long the Active stays stopped: several times every timeout above.
const PAUSE: Duration = Duration::from_secs(10);

/// A client call on a NameNode that does not answer gives up after this and tries the
/// other NameNode, so clients carry on while nn1 is stopped.
const CLIENT_RPC_TIMEOUT_MS: &str = "3000";

fn cluster(label: &str, backend: Backend) -> MiniCluster {
    let c = MiniCluster::builder()
        .label(label)
        .namenodes(2)
        .journalnodes(3)
        .datanodes(3)
        .conf("ipc.client.rpc-timeout.ms", CLIENT_RPC_TIMEOUT_MS)
        // The ZooKeeper election's read guard is opt-in (docs/election.md).
        .conf("hafs.ha.zookeeper.read-guard", "true")
        .automatic_failover(backend)
        .start();
    assert_eq!(c.active_index(), Some(0), "nn1's controller made it Active");
    c.wait_for_state(1, "standby", Duration::from_secs(10));
    c
}

/// What a NameNode alone answered to a read of a path that exists.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Read {
    /// It found the path: current data.
    Current,
    /// StandbyException, with the state it named.
    Refused(String),
    /// It said the path does not exist: a stale read.
    Stale(String),
    /// No answer (stopped, or the call failed otherwise).
    NoAnswer(String),
}

fn read_on_nn(c: &MiniCluster, i: usize, path: &str) -> Read {
    let out = c.dfs_on_nn(i, &["-ls", "-d", path]);
    let text = format!("{}{}", out.stdout, out.stderr);
    if out.success() {
        Read::Current
    } else if text.contains("No such file") {
        Read::Stale(text)
    } else if let Some(at) = text.find("is not supported in state ") {
        let rest = &text[at + "is not supported in state ".len()..];
        Read::Refused(rest.split('.').next().unwrap_or("").to_string())
    } else {
        Read::NoAnswer(text)
    }
}

/// Stops nn1 (and, for a whole host, its controller first), checks the takeover and the
/// resumed old Active, under load. `brief`: resume nn1 as soon as nn2 has served a
/// write, rather than after [`PAUSE`].
fn pause_active(backend: Backend, whole_host: bool, brief: bool) {
    let _one = ONE_CLUSTER_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let label = match (whole_host, brief) {
        (true, _) => "auto-pause-host",
        (false, false) => "auto-pause-nn",
        (false, true) => "auto-pause-brief",
    };
    let mut c = cluster(label, backend);
    let target = c.client_target();
    let scratch = c.dir().join("scratch");

    let started = Instant::now();
    let writer = Writer::hafs(target.clone(), "/pause/hafs", scratch);
    sleep_until(started + Duration::from_secs(3));
    if whole_host {
        c.pause_zkfc(0);
    }
    c.pause_nn(0);
    let paused = Instant::now();

    let active = c.wait_for_new_active(&[0], FAILOVER_BOUND);
    assert_eq!(active, 1);
    let took = paused.elapsed();
    eprintln!("{backend:?} (whole host: {whole_host}): nn2 Active {took:?} after nn1 stopped");
    // How: nn2's controller fenced nn1 (named by the breadcrumb) before taking over;
    // with nn1 alone stopped, nn1's own controller saw it silent and left first.
    let nn2_zkfc = c.zkfc_log(1);
    assert!(
        nn2_zkfc.contains("should fence") && nn2_zkfc.contains("fenced NameNode at"),
        "nn2's controller did not fence nn1:\n{nn2_zkfc}"
    );
    if !whole_host {
        let nn1_zkfc = c.zkfc_log(0);
        assert!(
            nn1_zkfc.contains("is now SERVICE_NOT_RESPONDING")
                && nn1_zkfc.contains("QuitElection { need_fence: true }"),
            "nn1's controller did not leave the election:\n{nn1_zkfc}"
        );
        for line in nn1_zkfc.lines().filter(|l| l.contains("keeping the lease")) {
            eprintln!("  zkfc-nn1: {line}");
        }
    }
    // Created on nn2 after nn1 stopped: a stale nn1 would say it does not exist.
    c.dfs_on_nn(1, &["-mkdir", "/after-pause"]).ok();
    if !brief {
        // Clients carry on with nn2 (their calls to the silent nn1 time out).
        let during = hafs_dfs(&target, &["-mkdir", "/during-pause"]);
        assert!(
            during.success(),
            "a client could not write while nn1 was stopped:\n{during}"
        );
    }
    if !brief {
        assert!(
            paused.elapsed() < PAUSE,
            "the failover took longer than the pause ({:?})",
            paused.elapsed()
        );
        sleep_until(paused + PAUSE);
    }
    eprintln!("nn1 resumed {:?} after it stopped", paused.elapsed());

    // nn1 wakes up believing it is Active: only requests that waited in its sockets
    // (the other controller's timed-out graceful fence) can tell it otherwise.
    c.resume_nn(0);
    let resumed = Instant::now();
    let mut reads = Vec::new();
    if whole_host {
        // Its controller is still stopped, so only what waited in nn1's sockets can
        // have told it anything: the other controller's graceful fence (a
        // transitionToStandby that timed out but is processed now) may have made it
        // Standby; if not, the read guard alone keeps it from answering as Active.
        for _ in 0..3 {
            let state = c.ha_state(0);
            let r = read_on_nn(&c, 0, "/after-pause");
            match &r {
                Read::Refused(s)
                    if s.contains("expired failover lease") || s.starts_with("standby") => {}
                _ => panic!(
                    "nn1 ({state:?}) answered a read after its lease ran out, its \
                     controller still stopped: {r:?}"
                ),
            }
            reads.push((resumed.elapsed(), r));
        }
        let w = c.dfs_on_nn(0, &["-mkdir", "/stale-write-guarded"]);
        assert!(!w.success(), "the paused old Active accepted a write:\n{w}");
    }
    if whole_host {
        c.resume_zkfc(0);
        if backend == Backend::Journal {
            // Its elector's first act on resuming: the deadline is gone, step down.
            let deadline = Instant::now() + Duration::from_secs(10);
            while !c.zkfc_log(0).contains("lease lost") {
                assert!(
                    Instant::now() < deadline,
                    "nn1's controller did not notice it lost the lease:\n{}",
                    c.zkfc_log(0)
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    // A write sent to nn1 alone fails: its lease guard, its controller's transition,
    // or at the latest the JournalNodes (nn2 holds a newer epoch) refuse it.
    let stale_write = c.dfs_on_nn(0, &["-mkdir", "/stale-write"]);
    assert!(
        !stale_write.success(),
        "the old Active acknowledged a write after the failover:\n{stale_write}"
    );

    // Reads on nn1 from the resume on: refused or current, never stale.
    let standby_by = Instant::now() + Duration::from_secs(30);
    loop {
        let r = read_on_nn(&c, 0, "/after-pause");
        let at = resumed.elapsed();
        let state = c.ha_state(0);
        reads.push((at, r.clone()));
        if let Read::Stale(text) = &r {
            panic!(
                "{backend:?}: nn1 served a stale read {at:?} after resuming: {text}\nreads: {reads:?}"
            );
        }
        if state == Ok("standby") || !c.nn_running(0) {
            break;
        }
        assert!(
            Instant::now() < standby_by,
            "nn1 still {state:?} 30 s after resuming; reads: {reads:?}; log:\n{}",
            c.nn_log(0)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let nn1_log = c.nn_log(0);
    let guard_refusals = nn1_log.matches("read guard expired").count();
    for line in nn1_log
        .lines()
        .filter(|l| l.contains("read guard expired") || l.contains("NameNode is in state"))
    {
        eprintln!("  nn1: {line}");
    }
    eprintln!(
        "{backend:?} (whole host: {whole_host}): nn1 no longer Active {:?} after resuming; \
         read guard refusals logged: {guard_refusals}; \
         answers: {:?}",
        resumed.elapsed(),
        reads
            .iter()
            .map(|(at, r)| (at, short(r)))
            .collect::<Vec<_>>()
    );

    // Settled: nn2 Active, nn1 Standby (or stopped), no flapping.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(c.ha_state(1), Ok("active"));
    if c.nn_running(0) {
        assert_eq!(c.ha_state(0), Ok("standby"));
        let r = read_on_nn(&c, 0, "/after-pause");
        assert!(
            matches!(r, Read::Refused(_)),
            "nn1 as Standby answered {r:?}"
        );
    }
    // For the record: a lapse of nn2's guard while it serves (a renewal later than
    // `lease - margin` on a loaded machine) makes clients fail over and back.
    eprintln!(
        "nn2's read guard lapses while Active: {}",
        c.nn_log(1).matches("read guard expired").count()
    );
    let report = writer.stop();
    report.assert_clean("the pause", 3);
    assert_acked_intact(
        &target,
        std::slice::from_ref(&report),
        "after the writer stopped",
    );
    let ls = hafs_dfs(&target, &["-ls", "/"]).ok();
    assert!(ls.stdout.contains("/after-pause"), "{ls}");
    assert!(!ls.stdout.contains("/stale-write"), "{ls}");
    c.stop();
}

fn short(r: &Read) -> String {
    match r {
        Read::Current => "current".into(),
        Read::Refused(s) => format!("standby-exception({s})"),
        Read::Stale(_) => "STALE".into(),
        Read::NoAnswer(t) => format!("no-answer({})", t.lines().last().unwrap_or("")),
    }
}

#[test]
fn zookeeper_paused_active_namenode() {
    pause_active(Backend::ZooKeeper, false, false);
}

#[test]
fn journal_paused_active_namenode() {
    pause_active(Backend::Journal, false, false);
}

#[test]
fn zookeeper_paused_active_host() {
    pause_active(Backend::ZooKeeper, true, false);
}

#[test]
fn journal_paused_active_host() {
    pause_active(Backend::Journal, true, false);
}

/// nn1 resumes the moment nn2 has served a write: its controller kept the lease (or
/// the ZooKeeper lock) until the read guard it had handed nn1 ran out, so even now nn1
/// answers no read as Active.
#[test]
fn zookeeper_briefly_paused_active_namenode() {
    pause_active(Backend::ZooKeeper, false, true);
}

#[test]
fn journal_briefly_paused_active_namenode() {
    pause_active(Backend::Journal, false, true);
}
