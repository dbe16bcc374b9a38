//! The built-in election over the JournalNodes (no ZooKeeper): each JournalNode keeps a
//! time-bounded leadership lease per journal id; a candidate holds it once a majority
//! granted it, and renews it every `hafs.ha.election.renew-interval.ms`. The protocol,
//! its timing assumptions and what they buy are in docs/election.md.
//!
//! One task per `join` runs the candidate/holder loop:
//! - candidate: `getLeaseState` on a majority; if another holder is live somewhere, it is
//!   Standby and polls again within 25 ms (a released lease is taken over at once);
//!   else `acquireLease(me, max term + 1)` on all JournalNodes,
//!   and a majority of grants makes it the holder with deadline
//!   `sent + lease - margin` (its own clock, `sent` taken BEFORE the requests went out).
//!   The previous Active is the highest-term breadcrumb in the grants.
//! - holder: renews every interval; each majority of renewals moves the deadline to
//!   `sent + lease - margin`. If the deadline comes first, it reports
//!   [`ElectorEvent::BecameStandby`] — at that moment no JournalNode can have granted
//!   the lease to anyone else yet (docs/election.md gives the arithmetic) — and becomes
//!   a candidate again.
//!
//! Losing contact with the majority while not holding reports
//! [`ElectorEvent::Neutral`]. QJM epochs stay the hard fence for writes: the lease only
//! decides who tries.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use hafs_conf::keys::{self, DFS_NAMENODE_SHARED_EDITS_DIR};
use hafs_conf::{ConfError, Configuration};
use hafs_ipc::{ClientConfig, RpcClient};
use hafs_journal::client::{with_quorum, BoxFut};
use hafs_journal::election::candidate::{
    held_elsewhere, latest_breadcrumb, next_term, ElectionTiming, Holding, LEASE_MS_DEFAULT,
    LEASE_MS_KEY, MAX_DRIFT_PPM_DEFAULT, MAX_DRIFT_PPM_KEY, RENEW_INTERVAL_MS_KEY,
    SAFETY_MARGIN_MS_DEFAULT, SAFETY_MARGIN_MS_KEY,
};
use hafs_journal::election::{view_from_proto, Breadcrumb, LeaseView};
use hafs_journal::protocol::{jid, QjournalUri, QJOURNAL_PROTOCOL};
use hafs_proto::qjournal as pb;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::{ActiveNodeInfo, Elector, ElectorError, ElectorEvent, ElectorEvents};

/// `hafs.ha.election.rpc-timeout.ms`: the longest a candidate waits for a majority to
/// answer `getLeaseState`/`acquireLease` (renewals are also bounded by the deadline).
pub const RPC_TIMEOUT_MS_KEY: &str = keys::HAFS_HA_ELECTION_RPC_TIMEOUT_MS;
pub const RPC_TIMEOUT_MS_DEFAULT: u64 = keys::HAFS_HA_ELECTION_RPC_TIMEOUT_MS_DEFAULT;

/// Where and how the election runs.
#[derive(Debug, Clone)]
pub struct JournalElectorConfig {
    /// The JournalNodes (`host:port`) and the journal id whose lease is used.
    pub uri: QjournalUri,
    pub timing: ElectionTiming,
    pub rpc_timeout: Duration,
}

impl JournalElectorConfig {
    /// From `dfs.namenode.shared.edits.dir` (the `.<ns>.<nn>` and `.<ns>` suffixed
    /// forms first) and the `hafs.ha.election.*` keys. Errors name the key.
    pub fn from_conf(
        conf: &Configuration,
        nameservice: &str,
        namenode: &str,
    ) -> Result<JournalElectorConfig, ConfError> {
        let key = [
            format!("{DFS_NAMENODE_SHARED_EDITS_DIR}.{nameservice}.{namenode}"),
            format!("{DFS_NAMENODE_SHARED_EDITS_DIR}.{nameservice}"),
            DFS_NAMENODE_SHARED_EDITS_DIR.to_string(),
        ]
        .into_iter()
        .find(|k| conf.get_trimmed(k).is_some_and(|v| !v.is_empty()))
        .unwrap_or_else(|| DFS_NAMENODE_SHARED_EDITS_DIR.to_string());
        let v = conf.get_trimmed(&key).unwrap_or_default();
        let bad = |expected: String| ConfError::BadValue {
            key: key.clone(),
            value: v.clone(),
            expected,
        };
        if !QjournalUri::is_qjournal(&v) {
            return Err(bad(
                "a qjournal:// URI: the built-in election runs on the JournalNodes (or set ha.zookeeper.quorum)".into(),
            ));
        }
        let uri = QjournalUri::parse(&v).map_err(bad)?;
        let lease = conf.get_u64(LEASE_MS_KEY, LEASE_MS_DEFAULT)?;
        let renew = conf.get_u64(RENEW_INTERVAL_MS_KEY, lease / 3)?;
        let margin = conf.get_u64(
            SAFETY_MARGIN_MS_KEY,
            SAFETY_MARGIN_MS_DEFAULT.min(lease / 6),
        )?;
        let drift = conf.get_u64(MAX_DRIFT_PPM_KEY, MAX_DRIFT_PPM_DEFAULT)?;
        let timing =
            ElectionTiming::new(lease, renew, margin, drift).map_err(|e| ConfError::BadValue {
                key: LEASE_MS_KEY.into(),
                value: lease.to_string(),
                expected: e,
            })?;
        let rpc = conf.get_u64(RPC_TIMEOUT_MS_KEY, RPC_TIMEOUT_MS_DEFAULT)?;
        Ok(JournalElectorConfig {
            uri,
            timing,
            rpc_timeout: Duration::from_millis(rpc.max(1)),
        })
    }
}

/// A controller's handle on the built-in election. Dropping it stops renewing (the
/// lease then runs out on the JournalNodes).
pub struct JournalElector {
    shared: Arc<Shared>,
    events: Option<ElectorEvents>,
}

struct Shared {
    cfg: JournalElectorConfig,
    clients: Vec<Arc<RpcClient>>,
    /// The origin of this elector's clock (monotonic).
    origin: Instant,
    events: mpsc::Sender<ElectorEvent>,
    state: Mutex<State>,
    /// The deadline of `state.holding` (for the NameNode's read guard).
    deadline: watch::Sender<Option<Instant>>,
}

#[derive(Default)]
struct State {
    /// Our lease holder id while joined (unique per join: a restarted controller never
    /// inherits a lease a paused earlier incarnation still believes in).
    me: Option<String>,
    candidate: Option<ActiveNodeInfo>,
    holding: Option<Holding>,
    task: Option<tokio::task::JoinHandle<()>>,
    last_event: Option<ElectorEvent>,
}

impl Drop for JournalElector {
    fn drop(&mut self) {
        if let Some(t) = lock(&self.shared.state).task.take() {
            t.abort();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    hafs_util::invariant::lock(m, "journal elector")
}

/// A holder id: readable in logs, unique per join.
fn holder_id(c: &ActiveNodeInfo) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    format!(
        "{}.{}@{}:{}#{:x}-{}-{}",
        c.nameservice_id,
        c.namenode_id,
        c.hostname,
        c.port,
        nanos,
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

impl JournalElector {
    pub fn new(cfg: JournalElectorConfig) -> JournalElector {
        let client_cfg = ClientConfig {
            connect_timeout: cfg.rpc_timeout,
            call_timeout: cfg.rpc_timeout,
            ..ClientConfig::default()
        };
        let clients = cfg
            .uri
            .addrs
            .iter()
            .map(|a| {
                Arc::new(RpcClient::new(
                    a.clone(),
                    QJOURNAL_PROTOCOL,
                    client_cfg.clone(),
                ))
            })
            .collect();
        let (tx, rx) = mpsc::channel(64);
        JournalElector {
            shared: Arc::new(Shared {
                cfg,
                clients,
                origin: Instant::now(),
                events: tx,
                state: Mutex::new(State::default()),
                deadline: watch::channel(None).0,
            }),
            events: Some(rx),
        }
    }

    /// Our holder id while joined (for tests and logs).
    pub fn holder_id(&self) -> Option<String> {
        lock(&self.shared.state).me.clone()
    }

    /// Whether we hold the lease by our own clock right now.
    pub fn is_holder(&self) -> bool {
        let now = self.shared.now();
        lock(&self.shared.state)
            .holding
            .is_some_and(|h| h.valid(now))
    }
}

type Views = Vec<(usize, LeaseView)>;

impl Shared {
    fn now(&self) -> u64 {
        self.origin.elapsed().as_millis() as u64
    }

    fn at(&self, ms: u64) -> Instant {
        self.origin + Duration::from_millis(ms)
    }

    /// Records what we hold (and publishes its deadline).
    fn set_holding(&self, h: Option<Holding>) {
        lock(&self.state).holding = h;
        self.deadline.send_replace(h.map(|h| self.at(h.deadline)));
    }

    fn majority(&self) -> usize {
        self.clients.len() / 2 + 1
    }

    /// One call per JournalNode, the first majority of successes within `timeout`.
    async fn quorum<Req, Resp>(
        &self,
        method: &'static str,
        make: impl Fn() -> Req,
        pick: fn(&Resp) -> &pb::LeaseStateProto,
        timeout: Duration,
    ) -> Result<Views, ElectorError>
    where
        Req: prost::Message + Send + 'static,
        Resp: prost::Message + Default + Send + 'static,
    {
        let calls: Vec<BoxFut<LeaseView>> = self
            .clients
            .iter()
            .map(|c| {
                let c = c.clone();
                let req = make();
                Box::pin(async move {
                    let r: Resp = c.call(method, &req).await.map_err(|e| e.to_string())?;
                    Ok(view_from_proto(pick(&r)))
                }) as BoxFut<LeaseView>
            })
            .collect();
        with_quorum(method, &self.cfg.uri.addrs, calls, self.majority(), timeout)
            .await
            .map_err(|f| ElectorError::Unavailable(f.to_string()))
    }

    async fn read_state(&self) -> Result<Views, ElectorError> {
        let j = self.cfg.uri.journal_id.clone();
        self.quorum(
            "getLeaseState",
            || pb::GetLeaseStateRequestProto { jid: jid(&j) },
            |r: &pb::GetLeaseStateResponseProto| &r.state,
            self.cfg.rpc_timeout,
        )
        .await
    }

    async fn emit(&self, e: ElectorEvent) {
        {
            let mut st = lock(&self.state);
            if st.last_event.as_ref() == Some(&e) && !matches!(e, ElectorEvent::BecameActive { .. })
            {
                return;
            }
            st.last_event = Some(e.clone());
        }
        tracing::info!(event = ?e, "journal election");
        let _ = self.events.send(e).await;
    }

    /// The candidate/holder loop of one join (until aborted by quit or drop).
    async fn run(self: Arc<Self>, me: String, own: ActiveNodeInfo) {
        let t = self.cfg.timing;
        let mut seed =
            (self.now() ^ (std::process::id() as u64)).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        loop {
            // ---- candidate
            let views = match self.read_state().await {
                Ok(v) => v,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the lease from a majority of JournalNodes");
                    self.emit(ElectorEvent::Neutral).await;
                    tokio::time::sleep(Duration::from_millis(t.renew_interval_ms)).await;
                    continue;
                }
            };
            if held_elsewhere(views.iter().map(|(_, v)| v), &me) {
                self.emit(ElectorEvent::BecameStandby).await;
                tokio::time::sleep(Duration::from_millis(standby_poll_ms(&t, &views, &me))).await;
                continue;
            }
            let term = next_term(views.iter().map(|(_, v)| v));
            let sent = self.now();
            let timeout = Duration::from_millis(t.lease_ms - t.margin_ms).min(self.cfg.rpc_timeout);
            let (j, m, lease) = (self.cfg.uri.journal_id.clone(), me.clone(), t.lease_ms);
            let granted = self
                .quorum(
                    "acquireLease",
                    || pb::AcquireLeaseRequestProto {
                        jid: jid(&j),
                        candidate: m.clone(),
                        term,
                        duration_ms: lease,
                    },
                    |r: &pb::AcquireLeaseResponseProto| &r.state,
                    timeout,
                )
                .await;
            let grants = match granted {
                Ok(g) => g,
                Err(e) => {
                    tracing::info!(term, error = %e, "lease not granted by a majority");
                    // Give back what a minority granted, so others need not wait for it.
                    self.release_all(&me, term, false).await;
                    // Jitter, so two candidates do not keep splitting the nodes.
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let pause = t.renew_interval_ms / 2 + seed % (t.renew_interval_ms / 2 + 1);
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                    continue;
                }
            };
            let mut hold = Holding::granted(&t, term, sent);
            if !hold.valid(self.now()) {
                tracing::warn!(term, "the lease was granted too late to use; trying again");
                continue;
            }
            let previous = latest_breadcrumb(grants.iter().map(|(_, v)| v))
                .and_then(|b| previous_active(&b, &own));
            // We act as the leader only within our own deadline (the JournalNodes check
            // their side: no grant while another holder is live).
            if !hold.valid(self.now()) {
                continue;
            }
            self.set_holding(Some(hold));
            self.emit(ElectorEvent::BecameActive { previous }).await;

            // ---- holder
            let mut last_sent = sent;
            loop {
                let next = (last_sent + t.renew_interval_ms).min(hold.deadline);
                tokio::time::sleep_until(self.at(next)).await;
                if !hold.valid(self.now()) {
                    break;
                }
                let sent = self.now();
                last_sent = sent;
                let left = Duration::from_millis(hold.deadline.saturating_sub(sent));
                let (j, m) = (self.cfg.uri.journal_id.clone(), me.clone());
                let renew = self.quorum(
                    "renewLease",
                    || pb::RenewLeaseRequestProto {
                        jid: jid(&j),
                        holder: m.clone(),
                        term,
                    },
                    |r: &pb::RenewLeaseResponseProto| &r.state,
                    left.min(self.cfg.rpc_timeout),
                );
                tokio::select! {
                    r = renew => match r {
                        Ok(_) => {
                            hold.renewed(&t, sent);
                            self.set_holding(Some(hold));
                        }
                        Err(e) => {
                            tracing::warn!(term, error = %e, deadline_in_ms = hold.deadline.saturating_sub(self.now()),
                                "lease renewal failed; retrying until the deadline");
                            // Retry soon rather than after a full interval.
                            last_sent = self.now().saturating_sub(t.renew_interval_ms * 3 / 4);
                        }
                    },
                    _ = tokio::time::sleep_until(self.at(hold.deadline)) => {}
                }
            }
            // The deadline passed without a majority renewal: stop acting as the leader
            // now, before any JournalNode may grant the lease to someone else.
            self.set_holding(None);
            tracing::warn!(
                term,
                "lease lost: could not renew on a majority before the deadline"
            );
            self.emit(ElectorEvent::BecameStandby).await;
        }
    }

    async fn release_all(&self, me: &str, term: u64, clear_breadcrumb: bool) {
        let (j, m) = (self.cfg.uri.journal_id.clone(), me.to_string());
        let calls: Vec<BoxFut<()>> = self
            .clients
            .iter()
            .map(|c| {
                let c = c.clone();
                let req = pb::ReleaseLeaseRequestProto {
                    jid: jid(&j),
                    holder: m.clone(),
                    term,
                    clear_breadcrumb: Some(clear_breadcrumb),
                };
                Box::pin(async move {
                    let _: pb::ReleaseLeaseResponseProto = c
                        .call("releaseLease", &req)
                        .await
                        .map_err(|e| e.to_string())?;
                    Ok(())
                }) as BoxFut<()>
            })
            .collect();
        // Best effort, but on every node: wait for all answers (bounded), ignore
        // refusals. Not with_quorum: it gives up as soon as one node refuses (one that
        // never granted us the lease always does) and drops the calls still in flight,
        // so a node could keep our lease until it expired — the next holder then waited
        // for it and read our breadcrumb as an Active to fence (election_journal's
        // graceful_quit test caught it under load).
        let mut set = tokio::task::JoinSet::new();
        for call in calls {
            set.spawn(call);
        }
        let deadline = tokio::time::Instant::now() + self.cfg.rpc_timeout;
        // Bounded: each iteration consumes one finished call; the deadline ends the rest.
        while let Ok(Some(_)) = tokio::time::timeout_at(deadline, set.join_next()).await {}
    }
}

/// The longest a candidate that sees another live holder waits before looking again.
/// A holder that quits releases its lease at once (a graceful hand-over, or the
/// controller of a dead NameNode), and the nodes then grant at the next request: a
/// candidate that looked only once per renew interval would add up to that interval to
/// every such failover. One small `getLeaseState` per JournalNode every 25 ms is cheap
/// (answered from memory; ~40 calls a second per node and Standby controller). At
/// 100 ms this wait was most of the time from kill -9 of the Active to a new Active.
pub const STANDBY_POLL_MS: u64 = 25;

/// When a candidate that saw another live holder looks again: within
/// [`STANDBY_POLL_MS`] (and the renew interval), and right after the lease runs out on
/// every node that answered if that is sooner (a holder that stopped renewing without
/// releasing). Safety does not depend on it: the JournalNodes refuse to grant a live
/// lease to anyone else.
fn standby_poll_ms(t: &ElectionTiming, views: &Views, me: &str) -> u64 {
    let expires_in = views
        .iter()
        .filter(|(_, v)| v.live && v.holder.as_deref().is_some_and(|h| h != me))
        .map(|(_, v)| v.remaining_ms)
        .max()
        .unwrap_or(0);
    STANDBY_POLL_MS
        .min(t.renew_interval_ms)
        .min(expires_in + 1)
        .max(1)
}

/// The previous Active named by a breadcrumb, unless it is us (nothing to fence) or
/// unreadable (logged: the controller cannot fence what it cannot name).
fn previous_active(b: &Breadcrumb, own: &ActiveNodeInfo) -> Option<ActiveNodeInfo> {
    match ActiveNodeInfo::from_bytes(&b.data) {
        Ok(info) if info == *own => None,
        Ok(info) => Some(info),
        Err(e) => {
            tracing::error!(term = b.term, holder = %b.holder, error = %e, "unreadable breadcrumb on the JournalNodes");
            None
        }
    }
}

#[async_trait]
impl Elector for JournalElector {
    fn take_events(&mut self) -> Option<ElectorEvents> {
        self.events.take()
    }

    async fn join(&self, candidate: ActiveNodeInfo) -> Result<(), ElectorError> {
        let mut st = lock(&self.shared.state);
        if st.task.as_ref().is_some_and(|t| !t.is_finished()) {
            return Ok(());
        }
        let me = holder_id(&candidate);
        tracing::info!(holder = %me, journal = %self.shared.cfg.uri.journal_id, "joining the journal election");
        st.me = Some(me.clone());
        st.candidate = Some(candidate.clone());
        st.holding = None;
        self.shared.deadline.send_replace(None);
        st.last_event = None;
        st.task = Some(tokio::spawn(self.shared.clone().run(me, candidate)));
        Ok(())
    }

    async fn quit(&self, need_fence: bool) -> Result<(), ElectorError> {
        let (task, me, holding) = {
            let mut st = lock(&self.shared.state);
            st.candidate = None;
            st.last_event = None;
            (st.task.take(), st.me.take(), st.holding.take())
        };
        let Some(task) = task else {
            return Ok(());
        };
        task.abort();
        let _ = task.await;
        self.shared.deadline.send_replace(None);
        if let (Some(me), Some(h)) = (me, holding) {
            tracing::info!(holder = %me, term = h.term, need_fence, "quitting the journal election: releasing the lease");
            self.shared.release_all(&me, h.term, !need_fence).await;
        }
        Ok(())
    }

    async fn write_breadcrumb(&self, info: &ActiveNodeInfo) -> Result<(), ElectorError> {
        let (me, hold) = {
            let st = lock(&self.shared.state);
            (st.me.clone(), st.holding)
        };
        let now = self.shared.now();
        let (Some(me), Some(hold)) = (me, hold.filter(|h| h.valid(now))) else {
            return Err(ElectorError::NotLeader(
                "this controller does not hold the journal lease".into(),
            ));
        };
        let (j, data) = (self.shared.cfg.uri.journal_id.clone(), info.to_bytes());
        let left = Duration::from_millis(hold.deadline - now);
        self.shared
            .quorum(
                "writeBreadcrumb",
                || pb::WriteBreadcrumbRequestProto {
                    jid: jid(&j),
                    holder: me.clone(),
                    term: hold.term,
                    data: data.clone().into(),
                },
                |r: &pb::WriteBreadcrumbResponseProto| &r.state,
                left.min(self.shared.cfg.rpc_timeout),
            )
            .await?;
        Ok(())
    }

    async fn current_active(&self) -> Result<Option<ActiveNodeInfo>, ElectorError> {
        let views = self.shared.read_state().await?;
        // The live holder of the highest term, named by its breadcrumb once written.
        let Some(live) = views
            .iter()
            .filter(|(_, v)| v.live)
            .max_by_key(|(_, v)| v.term)
            .and_then(|(_, v)| v.holder.clone())
        else {
            return Ok(None);
        };
        match latest_breadcrumb(views.iter().map(|(_, v)| v)) {
            Some(b) if b.holder == live => ActiveNodeInfo::from_bytes(&b.data).map(Some),
            _ => Ok(None),
        }
    }

    fn backend(&self) -> &'static str {
        "journal"
    }

    fn lease_deadline(&self) -> Option<watch::Receiver<Option<Instant>>> {
        Some(self.shared.deadline.subscribe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(holder: &str, live: bool, remaining_ms: u64) -> LeaseView {
        LeaseView {
            term: 1,
            holder: Some(holder.into()),
            live,
            remaining_ms,
            duration_ms: 3000,
            breadcrumb: None,
        }
    }

    #[test]
    fn a_standby_looks_again_soon_and_right_after_a_silent_holder_expires() {
        let t = ElectionTiming::new(3000, 1000, 500, 10_000).unwrap();
        // A live holder with most of its lease left: the next look is the quick poll
        // (a holder that quits releases at once and must be noticed soon).
        let live = vec![(0, view("nn1", true, 2900)), (1, view("nn1", true, 2800))];
        assert_eq!(standby_poll_ms(&t, &live, "nn2"), STANDBY_POLL_MS);
        // A holder that stopped renewing: look just after it runs out everywhere.
        let ending = vec![(0, view("nn1", true, 3)), (1, view("nn1", true, 7))];
        assert_eq!(standby_poll_ms(&t, &ending, "nn2"), 8);
        // Our own lease is not a reason to wait; nothing live: look again at once.
        let own = vec![(0, view("nn2", true, 2900)), (1, view("nn1", false, 0))];
        assert_eq!(standby_poll_ms(&t, &own, "nn2"), 1);
        // Never later than a renew interval.
        let fast = ElectionTiming::new(300, 10, 100, 10_000).unwrap();
        assert_eq!(standby_poll_ms(&fast, &live, "nn2"), 10);
    }
}
