//! The sandbox's supervision policy, in the manner of monit or systemd's
//! `Restart=on-failure`: a daemon that exits unexpectedly is started again after a
//! back-off that doubles with each recent restart; one that keeps dying is given up on
//! while the others keep serving. A NameNode under automatic failover is started again
//! only once the other NameNode took over (or [`TAKEOVER_WAIT`] passed), so that it
//! comes back as Standby instead of joining the election it just left.
//!
//! This module is pure: every method takes the time as an argument and answers what to
//! do, so the policy is unit tested without processes. The process IO (reaping,
//! spawning, readiness checks) is in [`crate::ha_cluster`], the printing in the
//! `hafs sandbox` command.

use std::time::{Duration, Instant};

/// The delay before the first restart. Long enough that a daemon which dies at once
/// does not spin on the CPU, short enough that a kill -9 is repaired before clients
/// notice much (our clients retry a DataNode or NameNode for seconds).
pub const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// The back-off doubles with each restart within [`RESTART_WINDOW`], up to this: a
/// local daemon starts in well under a second, so waiting longer only delays the
/// repair of something that a restart may still fix (a port in TIME_WAIT, a peer that
/// was itself restarting).
pub const MAX_BACKOFF: Duration = Duration::from_secs(8);
/// A daemon restarted this many times within [`RESTART_WINDOW`] that dies once more is
/// given up on. A cause a restart cannot fix (a broken data dir, a port someone else
/// took) kills it again within seconds: with the back-off above five tries take about
/// 16 s (0.5 + 1 + 2 + 4 + 8), long enough to ride out a passing cause, short enough
/// that the user sees the report (and the daemon's last log lines) while still looking.
/// Someone killing daemons by hand to watch the cluster survive stays far below it.
pub const MAX_RESTARTS: usize = 5;
/// Only restarts this recent count towards [`MAX_RESTARTS`] and the back-off: a daemon
/// that ran for a minute since its last restart is treated as healthy again.
pub const RESTART_WINDOW: Duration = Duration::from_secs(60);
/// How long a dead NameNode's partner gets to take over before the dead one is started
/// again anyway (with automatic failover). Its controller's health check and the
/// election take about a second in the sandbox; 30 s covers a loaded machine, and a
/// NameNode started sooner would come up Standby all the same.
pub const TAKEOVER_WAIT: Duration = Duration::from_secs(30);
/// A daemon that does not serve within this long after a (re)start is killed and
/// counted as a death (a JournalNode or DataNode starts in milliseconds, a NameNode
/// loading a big image in seconds).
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// What to do about a daemon that exited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Start it again `after` its death (for a NameNode under automatic failover: once
    /// the other one is Active, no sooner than `after`); `nth` counts the restarts
    /// within [`RESTART_WINDOW`], this one included.
    Restart {
        after: Duration,
        nth: usize,
        after_takeover: bool,
    },
    /// It had [`MAX_RESTARTS`] restarts within [`RESTART_WINDOW`]: leave it down.
    GiveUp { restarts: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Running and serving (every daemon is, when the supervisor takes over).
    Serving,
    /// (Re)started at `since`, not serving yet.
    Starting {
        since: Instant,
    },
    /// Dead since `died`, to be started at `next_start` (or later, see `after_takeover`).
    Waiting {
        died: Instant,
        next_start: Instant,
    },
    GivenUp,
}

/// One daemon's state.
#[derive(Debug, Clone)]
struct Watched {
    name: String,
    /// A NameNode under automatic failover: restarted once another NameNode is Active.
    after_takeover: bool,
    /// The NameNodes whose being Active counts as the takeover (the others of its
    /// nameservice); `None`: any other NameNode.
    peers: Option<Vec<String>>,
    phase: Phase,
    /// When it was restarted; pruned to [`RESTART_WINDOW`] at each death.
    restarts: Vec<Instant>,
}

/// Per-daemon restart state for every daemon of the cluster.
#[derive(Debug, Default)]
pub struct Supervisor {
    daemons: Vec<Watched>,
}

impl Supervisor {
    /// Supervises `name`, which is serving now.
    pub fn watch(&mut self, name: &str, after_takeover: bool) {
        self.daemons.push(Watched {
            name: name.to_string(),
            after_takeover,
            peers: None,
            phase: Phase::Serving,
            restarts: Vec::new(),
        });
    }

    /// Supervises NameNode `name` under automatic failover, which is serving now: after
    /// a death it is restarted once one of `peers` (the other NameNodes of its
    /// nameservice) is Active, so that it comes back Standby.
    pub fn watch_namenode(&mut self, name: &str, peers: &[String]) {
        self.watch(name, true);
        if let Some(d) = self.daemons.last_mut() {
            d.peers = Some(peers.to_vec());
        }
    }

    /// `name` exited (or could not be started) at `now`: restart it later or give up.
    /// `None` for a daemon that is not supervised or was already given up on.
    pub fn exited(&mut self, name: &str, now: Instant) -> Option<Decision> {
        let d = self.daemons.iter_mut().find(|d| d.name == name)?;
        if d.phase == Phase::GivenUp {
            return None;
        }
        d.restarts
            .retain(|&t| now.saturating_duration_since(t) < RESTART_WINDOW);
        let recent = d.restarts.len();
        if recent >= MAX_RESTARTS {
            d.phase = Phase::GivenUp;
            return Some(Decision::GiveUp { restarts: recent });
        }
        let after = backoff(recent);
        d.phase = Phase::Waiting {
            died: now,
            next_start: now + after,
        };
        Some(Decision::Restart {
            after,
            nth: recent + 1,
            after_takeover: d.after_takeover,
        })
    }

    /// The daemons to start at `now`, given which NameNodes report Active (`active`,
    /// one per nameservice); each is counted as restarted and is starting from now on.
    pub fn due(&mut self, now: Instant, active: &[&str]) -> Vec<String> {
        let mut start = Vec::new();
        for d in &mut self.daemons {
            let Phase::Waiting { died, next_start } = d.phase else {
                continue;
            };
            let taken_over = active
                .iter()
                .any(|a| *a != d.name && d.peers.as_ref().is_none_or(|p| p.iter().any(|n| n == a)));
            let gate_open = !d.after_takeover
                || taken_over
                || now.saturating_duration_since(died) >= TAKEOVER_WAIT;
            if now >= next_start && gate_open {
                d.phase = Phase::Starting { since: now };
                d.restarts.push(now);
                start.push(d.name.clone());
            }
        }
        start
    }

    /// The daemons started but not serving yet.
    pub fn starting(&self) -> Vec<String> {
        self.daemons
            .iter()
            .filter(|d| matches!(d.phase, Phase::Starting { .. }))
            .map(|d| d.name.clone())
            .collect()
    }

    /// Whether `name` has been starting for [`START_TIMEOUT`] at `now` without serving.
    pub fn start_timed_out(&self, name: &str, now: Instant) -> bool {
        self.daemons.iter().any(|d| {
            d.name == name
                && matches!(d.phase, Phase::Starting { since }
                    if now.saturating_duration_since(since) >= START_TIMEOUT)
        })
    }

    /// `name` serves again.
    pub fn serving(&mut self, name: &str) {
        if let Some(d) = self.daemons.iter_mut().find(|d| d.name == name) {
            if matches!(d.phase, Phase::Starting { .. }) {
                d.phase = Phase::Serving;
            }
        }
    }

    /// The daemons given up on.
    #[cfg(test)]
    fn given_up(&self) -> Vec<String> {
        self.daemons
            .iter()
            .filter(|d| d.phase == Phase::GivenUp)
            .map(|d| d.name.clone())
            .collect()
    }
}

/// The delay before a restart that follows `recent` restarts within the window.
fn backoff(recent: usize) -> Duration {
    let doublings = recent.min(16) as u32;
    FIRST_BACKOFF
        .saturating_mul(1 << doublings)
        .min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn sup(names: &[(&str, bool)]) -> Supervisor {
        let mut s = Supervisor::default();
        for (name, after_takeover) in names {
            s.watch(name, *after_takeover);
        }
        s
    }

    #[test]
    fn a_dead_daemon_is_restarted_after_the_first_backoff_and_serves_again() {
        let t0 = Instant::now();
        let mut s = sup(&[("jn1", false), ("dn1", false)]);
        let d = s.exited("jn1", t0);
        assert_eq!(
            d,
            Some(Decision::Restart {
                after: FIRST_BACKOFF,
                nth: 1,
                after_takeover: false
            })
        );
        assert!(s.due(t0 + FIRST_BACKOFF - ms(1), &[]).is_empty());
        assert_eq!(s.due(t0 + FIRST_BACKOFF, &[]), vec!["jn1"]);
        // Started once: not due again while it starts.
        assert!(s.due(t0 + ms(5000), &[]).is_empty());
        assert_eq!(s.starting(), vec!["jn1"]);
        s.serving("jn1");
        assert!(s.starting().is_empty());
        assert!(s.given_up().is_empty());
    }

    #[test]
    fn a_daemon_that_keeps_dying_backs_off_doubling_to_the_cap_then_is_given_up() {
        let mut now = Instant::now();
        let mut s = sup(&[("dn3", false), ("dn1", false)]);
        let mut delays = Vec::new();
        // Dies 100 ms after each start, as a DataNode whose data dir is broken.
        loop {
            match s.exited("dn3", now).expect("supervised") {
                Decision::Restart { after, nth, .. } => {
                    assert_eq!(nth, delays.len() + 1);
                    delays.push(after);
                    now += after;
                    assert_eq!(s.due(now, &[]), vec!["dn3"]);
                    now += ms(100);
                }
                Decision::GiveUp { restarts } => {
                    assert_eq!(restarts, MAX_RESTARTS);
                    break;
                }
            }
        }
        assert_eq!(delays, [ms(500), ms(1000), ms(2000), ms(4000), ms(8000)]);
        assert_eq!(s.given_up(), vec!["dn3"]);
        // Given up stays given up: never due, a further exit is no news.
        assert!(s.due(now + Duration::from_secs(600), &["nn1"]).is_empty());
        assert_eq!(s.exited("dn3", now), None);
        // The others are supervised as before.
        assert!(matches!(
            s.exited("dn1", now),
            Some(Decision::Restart { nth: 1, .. })
        ));
    }

    #[test]
    fn the_backoff_never_exceeds_the_cap() {
        for recent in 0..40 {
            assert!(backoff(recent) <= MAX_BACKOFF);
            assert!(backoff(recent) >= FIRST_BACKOFF);
        }
    }

    #[test]
    fn restarts_older_than_the_window_do_not_count() {
        let mut now = Instant::now();
        let mut s = sup(&[("jn2", false)]);
        // Killed every 61 s, twenty times: never given up, always the first back-off.
        for _ in 0..20 {
            assert_eq!(
                s.exited("jn2", now),
                Some(Decision::Restart {
                    after: FIRST_BACKOFF,
                    nth: 1,
                    after_takeover: false
                })
            );
            now += FIRST_BACKOFF;
            assert_eq!(s.due(now, &[]), vec!["jn2"]);
            s.serving("jn2");
            now += RESTART_WINDOW + ms(1000);
        }
        // Two quick deaths count: the second waits twice as long.
        assert!(matches!(
            s.exited("jn2", now),
            Some(Decision::Restart { nth: 1, .. })
        ));
        now += FIRST_BACKOFF;
        s.due(now, &[]);
        assert_eq!(
            s.exited("jn2", now + ms(10)),
            Some(Decision::Restart {
                after: 2 * FIRST_BACKOFF,
                nth: 2,
                after_takeover: false
            })
        );
    }

    #[test]
    fn a_namenode_waits_for_the_other_to_take_over() {
        let t0 = Instant::now();
        let mut s = sup(&[("nn1", true), ("nn2", true)]);
        assert!(matches!(
            s.exited("nn1", t0),
            Some(Decision::Restart {
                after_takeover: true,
                ..
            })
        ));
        let later = t0 + Duration::from_secs(2);
        assert!(s.due(later, &[]).is_empty(), "nobody Active yet");
        assert!(s.due(later, &["nn1"]).is_empty(), "a stale answer");
        assert_eq!(s.due(later, &["nn2"]), vec!["nn1"]);
    }

    #[test]
    fn a_federated_namenode_waits_for_its_own_nameservice() {
        let t0 = Instant::now();
        let mut s = Supervisor::default();
        s.watch_namenode("ns1-nn1", &["ns1-nn2".to_string()]);
        s.watch_namenode("ns1-nn2", &["ns1-nn1".to_string()]);
        s.watch_namenode("ns2-nn1", &["ns2-nn2".to_string()]);
        s.exited("ns1-nn1", t0);
        let later = t0 + Duration::from_secs(2);
        assert!(
            s.due(later, &["ns2-nn1"]).is_empty(),
            "another nameservice's Active is no takeover"
        );
        assert_eq!(s.due(later, &["ns2-nn1", "ns1-nn2"]), vec!["ns1-nn1"]);
    }

    #[test]
    fn a_namenode_takes_at_least_the_backoff_even_after_a_takeover() {
        let t0 = Instant::now();
        let mut s = sup(&[("nn1", true), ("nn2", true)]);
        s.exited("nn2", t0);
        assert!(s.due(t0 + ms(100), &["nn1"]).is_empty());
        assert_eq!(s.due(t0 + FIRST_BACKOFF, &["nn1"]), vec!["nn2"]);
    }

    #[test]
    fn a_namenode_is_restarted_anyway_after_the_takeover_wait() {
        let t0 = Instant::now();
        let mut s = sup(&[("nn1", true), ("nn2", true)]);
        s.exited("nn1", t0);
        assert!(s.due(t0 + TAKEOVER_WAIT - ms(1), &[]).is_empty());
        assert_eq!(s.due(t0 + TAKEOVER_WAIT, &[]), vec!["nn1"]);
    }

    #[test]
    fn a_daemon_that_does_not_serve_in_time_is_reported_once_started() {
        let t0 = Instant::now();
        let mut s = sup(&[("zkfc-nn1", false)]);
        assert!(
            !s.start_timed_out("zkfc-nn1", t0 + START_TIMEOUT),
            "serving"
        );
        s.exited("zkfc-nn1", t0);
        let started = t0 + FIRST_BACKOFF;
        assert!(
            !s.start_timed_out("zkfc-nn1", started + START_TIMEOUT),
            "waiting"
        );
        assert_eq!(s.due(started, &[]), vec!["zkfc-nn1"]);
        assert!(!s.start_timed_out("zkfc-nn1", started + START_TIMEOUT - ms(1)));
        assert!(s.start_timed_out("zkfc-nn1", started + START_TIMEOUT));
        s.serving("zkfc-nn1");
        assert!(!s.start_timed_out("zkfc-nn1", started + START_TIMEOUT));
    }

    #[test]
    fn unknown_daemons_are_ignored() {
        let mut s = sup(&[("dn1", false)]);
        assert_eq!(s.exited("dn9", Instant::now()), None);
        s.serving("dn9");
        assert!(s.starting().is_empty());
    }
}
