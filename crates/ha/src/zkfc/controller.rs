//! The failover controller's decisions, without I/O (Hadoop's ZKFailoverController and
//! the callbacks of its ActiveStandbyElector): [`decide`] takes the state and one input
//! (a health change, an election event, the outcome of an action) and returns the
//! actions to run, in order. The runner performs them and feeds their outcomes back.

use std::time::Duration;

use super::health::HealthState;
use super::{ActiveNodeInfo, ElectorEvent};

/// After fencing the previous Active failed: stay out of the election this long, so
/// another controller may try (Hadoop retries its election after a failure too).
pub const FENCE_FAILURE_BACKOFF: Duration = Duration::from_secs(5);
/// After our NameNode refused to become Active (Hadoop's
/// SLEEP_AFTER_FAILURE_TO_BECOME_ACTIVE).
pub const ACTIVE_FAILURE_BACKOFF: Duration = Duration::from_secs(1);
/// After losing the lock while writing the breadcrumb.
pub const LOST_LOCK_BACKOFF: Duration = Duration::from_millis(500);

/// Where the controller is in becoming (or not being) Active.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Not in the election, or in it with no result yet.
    Idle,
    /// Another controller holds the lock; our NameNode is (being made) Standby.
    Standby,
    /// Contact with the election backend lost: our NameNode is left as it is.
    Neutral,
    /// We won; fencing the previous Active named by the breadcrumb.
    Fencing(ActiveNodeInfo),
    /// We won (and fenced if needed); writing our breadcrumb.
    WritingBreadcrumb,
    /// transitionToActive of our NameNode in progress.
    BecomingActive,
    /// Our NameNode is Active.
    Active,
}

/// Everything [`decide`] remembers.
#[derive(Debug, Clone)]
pub struct ControllerState {
    pub health: HealthState,
    /// Our NameNode is an Observer: it never stands for election (Hadoop 3.3's ZKFC
    /// beside an Observer stays out until it is a Standby again).
    pub observer: bool,
    pub in_election: bool,
    pub phase: Phase,
    /// Joining is blocked until the rejoin timer of generation `rejoin_gen` fires
    /// (after cedeActive or a failed attempt).
    pub join_blocked: bool,
    pub rejoin_gen: u64,
}

impl Default for ControllerState {
    fn default() -> Self {
        ControllerState {
            health: HealthState::Initializing,
            observer: false,
            in_election: false,
            phase: Phase::Idle,
            join_blocked: false,
            rejoin_gen: 0,
        }
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Health(HealthState),
    /// Whether our NameNode reports itself an Observer (its getServiceStatus).
    Observer(bool),
    Elector(ElectorEvent),
    FenceDone {
        ok: bool,
    },
    BreadcrumbDone {
        ok: bool,
    },
    ActiveDone {
        ok: bool,
    },
    /// cedeActive ran: our NameNode was asked to become Standby (`need_fence` when that
    /// failed); stay out of the election for `duration`.
    Ceded {
        duration: Duration,
        need_fence: bool,
    },
    RejoinTimer {
        gen: u64,
    },
}

/// What to do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    JoinElection,
    QuitElection {
        need_fence: bool,
    },
    /// Gracefully (transitionToStandby), then with the configured fencing methods;
    /// answer with [`Input::FenceDone`].
    Fence(ActiveNodeInfo),
    /// Answer with [`Input::BreadcrumbDone`].
    WriteBreadcrumb,
    /// transitionToActive(REQUEST_BY_ZKFC); answer with [`Input::ActiveDone`].
    TransitionToActive,
    /// transitionToStandby(REQUEST_BY_ZKFC); best effort, no answer needed.
    TransitionToStandby,
    /// Feed [`Input::RejoinTimer`] with `gen` after `after`.
    ScheduleRejoin {
        after: Duration,
        gen: u64,
    },
    /// Stop the controller.
    Fatal(String),
}

/// The next actions for `input`. `me` is our own candidate record.
pub fn decide(st: &mut ControllerState, me: &ActiveNodeInfo, input: Input) -> Vec<Action> {
    match input {
        Input::Health(h) => {
            st.health = h;
            match h {
                HealthState::ServiceHealthy => join_if_allowed(st),
                HealthState::Initializing => leave(st, false),
                HealthState::ServiceNotResponding | HealthState::ServiceUnhealthy => {
                    leave(st, true)
                }
                HealthState::HealthMonitorFailed => {
                    let mut a = leave(st, true);
                    a.push(Action::Fatal("the health monitor failed".into()));
                    a
                }
            }
        }
        Input::Observer(observer) => {
            st.observer = observer;
            if observer {
                leave(st, false)
            } else if st.health == HealthState::ServiceHealthy {
                join_if_allowed(st)
            } else {
                vec![]
            }
        }
        // Events of an election we already left are stale.
        Input::Elector(_) if !st.in_election => vec![],
        Input::Elector(ElectorEvent::BecameActive { previous }) => match previous {
            Some(p) if !p.same_namenode(me) => {
                st.phase = Phase::Fencing(p.clone());
                vec![Action::Fence(p)]
            }
            _ => {
                st.phase = Phase::WritingBreadcrumb;
                vec![Action::WriteBreadcrumb]
            }
        },
        Input::Elector(ElectorEvent::BecameStandby) => {
            st.phase = Phase::Standby;
            vec![Action::TransitionToStandby]
        }
        Input::Elector(ElectorEvent::Neutral) => {
            st.phase = Phase::Neutral;
            vec![]
        }
        Input::FenceDone { ok } => {
            if !matches!(st.phase, Phase::Fencing(_)) {
                return vec![];
            }
            if ok {
                st.phase = Phase::WritingBreadcrumb;
                vec![Action::WriteBreadcrumb]
            } else {
                back_off(st, FENCE_FAILURE_BACKOFF, true, false)
            }
        }
        Input::BreadcrumbDone { ok } => {
            if st.phase != Phase::WritingBreadcrumb {
                return vec![];
            }
            if ok {
                st.phase = Phase::BecomingActive;
                vec![Action::TransitionToActive]
            } else {
                back_off(st, LOST_LOCK_BACKOFF, true, false)
            }
        }
        Input::ActiveDone { ok } => {
            if st.phase != Phase::BecomingActive {
                return vec![];
            }
            if ok {
                st.phase = Phase::Active;
                vec![]
            } else {
                // The breadcrumb names us: whoever wins next fences us.
                back_off(st, ACTIVE_FAILURE_BACKOFF, true, true)
            }
        }
        Input::Ceded {
            duration,
            need_fence,
        } => back_off(st, duration, need_fence, false),
        Input::RejoinTimer { gen } => {
            if gen != st.rejoin_gen || !st.join_blocked {
                return vec![];
            }
            st.join_blocked = false;
            if st.health == HealthState::ServiceHealthy {
                join_if_allowed(st)
            } else {
                vec![]
            }
        }
    }
}

fn join_if_allowed(st: &mut ControllerState) -> Vec<Action> {
    if st.in_election || st.join_blocked || st.observer {
        return vec![];
    }
    st.in_election = true;
    st.phase = Phase::Idle;
    vec![Action::JoinElection]
}

fn leave(st: &mut ControllerState, need_fence: bool) -> Vec<Action> {
    if !st.in_election {
        return vec![];
    }
    st.in_election = false;
    st.phase = Phase::Idle;
    vec![Action::QuitElection { need_fence }]
}

/// Leave the election and stay out for `after`.
fn back_off(
    st: &mut ControllerState,
    after: Duration,
    need_fence: bool,
    standby_first: bool,
) -> Vec<Action> {
    let mut actions = Vec::new();
    if standby_first {
        actions.push(Action::TransitionToStandby);
    }
    let was_in = st.in_election;
    st.in_election = false;
    st.phase = Phase::Idle;
    st.join_blocked = true;
    st.rejoin_gen += 1;
    if was_in {
        actions.push(Action::QuitElection { need_fence });
    }
    actions.push(Action::ScheduleRejoin {
        after,
        gen: st.rejoin_gen,
    });
    actions
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str) -> ActiveNodeInfo {
        ActiveNodeInfo {
            nameservice_id: "ns1".into(),
            namenode_id: id.into(),
            hostname: "127.0.0.1".into(),
            port: 8020,
            zkfc_port: 8019,
        }
    }

    fn healthy_in_election() -> ControllerState {
        let mut st = ControllerState::default();
        assert_eq!(
            decide(
                &mut st,
                &node("nn1"),
                Input::Health(HealthState::ServiceHealthy)
            ),
            vec![Action::JoinElection]
        );
        st
    }

    #[test]
    fn healthy_joins_once_and_unhealthy_or_silent_quits_with_fencing() {
        let me = node("nn1");
        let mut st = healthy_in_election();
        assert!(decide(&mut st, &me, Input::Health(HealthState::ServiceHealthy)).is_empty());
        assert_eq!(
            decide(
                &mut st,
                &me,
                Input::Health(HealthState::ServiceNotResponding)
            ),
            vec![Action::QuitElection { need_fence: true }]
        );
        assert!(!st.in_election);
        decide(&mut st, &me, Input::Health(HealthState::ServiceHealthy));
        assert_eq!(
            decide(&mut st, &me, Input::Health(HealthState::ServiceUnhealthy)),
            vec![Action::QuitElection { need_fence: true }]
        );
        decide(&mut st, &me, Input::Health(HealthState::ServiceHealthy));
        assert_eq!(
            decide(&mut st, &me, Input::Health(HealthState::Initializing)),
            vec![Action::QuitElection { need_fence: false }]
        );
        let a = decide(
            &mut st,
            &me,
            Input::Health(HealthState::HealthMonitorFailed),
        );
        assert!(matches!(a.last(), Some(Action::Fatal(_))));
    }

    #[test]
    fn winning_with_another_breadcrumb_fences_then_writes_then_activates() {
        let me = node("nn1");
        let mut st = healthy_in_election();
        let won = ElectorEvent::BecameActive {
            previous: Some(node("nn2")),
        };
        assert_eq!(
            decide(&mut st, &me, Input::Elector(won)),
            vec![Action::Fence(node("nn2"))]
        );
        assert_eq!(
            decide(&mut st, &me, Input::FenceDone { ok: true }),
            vec![Action::WriteBreadcrumb]
        );
        assert_eq!(
            decide(&mut st, &me, Input::BreadcrumbDone { ok: true }),
            vec![Action::TransitionToActive]
        );
        assert!(decide(&mut st, &me, Input::ActiveDone { ok: true }).is_empty());
        assert_eq!(st.phase, Phase::Active);
    }

    #[test]
    fn winning_with_own_or_no_breadcrumb_does_not_fence() {
        let me = node("nn1");
        for previous in [None, Some(node("nn1"))] {
            let mut st = healthy_in_election();
            assert_eq!(
                decide(
                    &mut st,
                    &me,
                    Input::Elector(ElectorEvent::BecameActive { previous })
                ),
                vec![Action::WriteBreadcrumb]
            );
        }
    }

    #[test]
    fn failed_fencing_aborts_quits_and_rejoins_later() {
        let me = node("nn1");
        let mut st = healthy_in_election();
        decide(
            &mut st,
            &me,
            Input::Elector(ElectorEvent::BecameActive {
                previous: Some(node("nn2")),
            }),
        );
        let a = decide(&mut st, &me, Input::FenceDone { ok: false });
        assert_eq!(
            a,
            vec![
                Action::QuitElection { need_fence: true },
                Action::ScheduleRejoin {
                    after: FENCE_FAILURE_BACKOFF,
                    gen: 1
                }
            ]
        );
        // No transition to Active, and health does not rejoin before the timer.
        assert!(decide(&mut st, &me, Input::Health(HealthState::ServiceHealthy)).is_empty());
        assert!(decide(&mut st, &me, Input::RejoinTimer { gen: 0 }).is_empty());
        assert_eq!(
            decide(&mut st, &me, Input::RejoinTimer { gen: 1 }),
            vec![Action::JoinElection]
        );
    }

    #[test]
    fn losing_keeps_standby_and_neutral_changes_nothing() {
        let me = node("nn1");
        let mut st = healthy_in_election();
        assert_eq!(
            decide(&mut st, &me, Input::Elector(ElectorEvent::BecameStandby)),
            vec![Action::TransitionToStandby]
        );
        // An Active that loses contact with ZooKeeper stays Active: no action at all.
        let mut st = healthy_in_election();
        decide(
            &mut st,
            &me,
            Input::Elector(ElectorEvent::BecameActive { previous: None }),
        );
        decide(&mut st, &me, Input::BreadcrumbDone { ok: true });
        decide(&mut st, &me, Input::ActiveDone { ok: true });
        assert!(decide(&mut st, &me, Input::Elector(ElectorEvent::Neutral)).is_empty());
        assert_eq!(st.phase, Phase::Neutral);
        assert!(st.in_election);
    }

    #[test]
    fn failed_activation_goes_standby_and_retries_after_a_second() {
        let me = node("nn1");
        let mut st = healthy_in_election();
        decide(
            &mut st,
            &me,
            Input::Elector(ElectorEvent::BecameActive { previous: None }),
        );
        decide(&mut st, &me, Input::BreadcrumbDone { ok: true });
        assert_eq!(
            decide(&mut st, &me, Input::ActiveDone { ok: false }),
            vec![
                Action::TransitionToStandby,
                Action::QuitElection { need_fence: true },
                Action::ScheduleRejoin {
                    after: ACTIVE_FAILURE_BACKOFF,
                    gen: 1
                }
            ]
        );
    }

    #[test]
    fn lost_lock_while_writing_breadcrumb_never_activates() {
        let me = node("nn1");
        let mut st = healthy_in_election();
        decide(
            &mut st,
            &me,
            Input::Elector(ElectorEvent::BecameActive { previous: None }),
        );
        let a = decide(&mut st, &me, Input::BreadcrumbDone { ok: false });
        assert!(!a.contains(&Action::TransitionToActive));
        assert!(a.contains(&Action::QuitElection { need_fence: true }));
    }

    #[test]
    fn cede_quits_for_the_duration_and_stale_events_are_ignored() {
        let me = node("nn1");
        let mut st = healthy_in_election();
        let d = Duration::from_secs(10);
        assert_eq!(
            decide(
                &mut st,
                &me,
                Input::Ceded {
                    duration: d,
                    need_fence: false
                }
            ),
            vec![
                Action::QuitElection { need_fence: false },
                Action::ScheduleRejoin { after: d, gen: 1 }
            ]
        );
        // A win reported before the quit took effect is ignored.
        assert!(decide(
            &mut st,
            &me,
            Input::Elector(ElectorEvent::BecameActive { previous: None })
        )
        .is_empty());
        assert_eq!(
            decide(&mut st, &me, Input::RejoinTimer { gen: 1 }),
            vec![Action::JoinElection]
        );
    }

    #[test]
    fn an_observer_never_stands_for_election() {
        let me = node("nn3");
        let mut st = ControllerState::default();
        assert_eq!(
            decide(&mut st, &me, Input::Health(HealthState::ServiceHealthy)),
            vec![Action::JoinElection]
        );
        // Made an Observer while a Standby in the election: leave, no fencing.
        assert_eq!(
            decide(&mut st, &me, Input::Observer(true)),
            vec![Action::QuitElection { need_fence: false }]
        );
        // Healthy again, or a rejoin timer: still out.
        assert_eq!(
            decide(&mut st, &me, Input::Health(HealthState::ServiceUnhealthy)),
            vec![]
        );
        assert_eq!(
            decide(&mut st, &me, Input::Health(HealthState::ServiceHealthy)),
            vec![]
        );
        // Back to Standby: it may be elected again.
        assert_eq!(
            decide(&mut st, &me, Input::Observer(false)),
            vec![Action::JoinElection]
        );
    }

    #[test]
    fn an_observer_from_the_start_never_joins() {
        let me = node("nn3");
        let mut st = ControllerState::default();
        assert_eq!(decide(&mut st, &me, Input::Observer(true)), vec![]);
        assert_eq!(
            decide(&mut st, &me, Input::Health(HealthState::ServiceHealthy)),
            vec![]
        );
        assert!(!st.in_election);
    }
}
