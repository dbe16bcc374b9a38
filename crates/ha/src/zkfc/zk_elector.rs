//! The election through ZooKeeper, with Hadoop's layout (ActiveStandbyElector):
//! `<parent>/<ns>/ActiveStandbyElectorLock` is an ephemeral znode created by the winner
//! (it vanishes with the winner's session), `<parent>/<ns>/ActiveBreadCrumb` a persistent
//! znode naming the last Active, so the next winner knows whom to fence. Both hold an
//! [`ActiveNodeInfo`].
//!
//! One task owns the ZooKeeper client; the [`ZkElector`] handle sends it commands.
//! - Connection lost (ZooKeeper down, network cut) → [`ElectorEvent::Neutral`]: the
//!   controller changes nothing, no election happens until ZooKeeper answers again.
//! - Session expired → a new session, and (when joined) the task runs again.
//! - A lock left by an earlier session of the same NameNode (the controller restarted,
//!   or its session expired while ZooKeeper was away) is deleted and taken again: no one
//!   else can have been Active while it existed, so nothing flaps.
//!
//! While it holds the lock the elector also publishes the NameNode's read-guard
//! deadline ([`Elector::lease_deadline`], docs/election.md): `sent + session timeout −
//! margin`, where `sent` is our monotonic clock just before the latest request that
//! ZooKeeper answered on this session. The server touched the session when it took
//! that request (at or after `sent`), so it cannot expire the session, and delete our
//! ephemeral lock, before `sent + timeout` by its own clock; the margin covers the two
//! clocks running at different rates. A cheap `exists` on the lock every quarter of
//! the session timeout keeps the deadline moving.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use async_trait::async_trait;
use hafs_journal::election::candidate::min_margin_ms;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::{timeout, Instant};
use zookeeper_client::{
    Acls, Client, CreateMode, Error as ZkError, SessionState, StateWatcher, WatchedEvent,
};

use super::zk_conf::ZkConf;
use super::{ActiveNodeInfo, Elector, ElectorError, ElectorEvent, ElectorEvents};

type Reply<T> = oneshot::Sender<Result<T, ElectorError>>;

enum Cmd {
    Join(ActiveNodeInfo, Reply<()>),
    Quit(bool, Reply<()>),
    WriteBreadcrumb(ActiveNodeInfo, Reply<()>),
    CurrentActive(Reply<Option<ActiveNodeInfo>>),
}

/// A controller's handle on the ZooKeeper election. Dropping it ends the session (the
/// lock, if held, disappears).
pub struct ZkElector {
    cmds: mpsc::Sender<Cmd>,
    events: Option<ElectorEvents>,
    task: tokio::task::JoinHandle<()>,
    op_timeout: Duration,
    deadline: watch::Receiver<Option<Instant>>,
    read_guard: bool,
}

/// The read-guard deadline proven by a request sent at `sent` on a session whose
/// negotiated timeout is `session_timeout`: `sent + timeout − margin`, the margin
/// being the smallest that covers clock rates within `drift_ppm` (the built-in
/// election's rule, [`min_margin_ms`]). `None` when the timeout is too short to leave
/// anything after the margin.
pub fn guard_deadline(sent: Instant, session_timeout: Duration, drift_ppm: u64) -> Option<Instant> {
    // Whole milliseconds, rounded down: never later than the session allows.
    let timeout_ms = u64::try_from(session_timeout.as_millis()).unwrap_or(u64::MAX);
    let margin_ms = min_margin_ms(timeout_ms, drift_ppm);
    let left = timeout_ms.checked_sub(margin_ms).filter(|&l| l > 0)?;
    sent.checked_add(Duration::from_millis(left))
}

/// The deadline to publish: only while we hold the lock on a live session that has
/// answered at least once.
fn holder_deadline(
    holds_lock: bool,
    session_timeout: Option<Duration>,
    last_ok_sent: Option<Instant>,
    drift_ppm: u64,
) -> Option<Instant> {
    match (holds_lock, session_timeout, last_ok_sent) {
        (true, Some(t), Some(sent)) => guard_deadline(sent, t, drift_ppm),
        _ => None,
    }
}

/// How often the lock holder proves its session alive: a quarter of the session
/// timeout, so a couple of lost or slow answers still leave the guard in force.
fn refresh_interval(session_timeout: Duration) -> Duration {
    (session_timeout / 4).max(Duration::from_millis(10))
}

impl ZkElector {
    /// Starts the elector's task; it connects in the background and retries forever.
    pub fn start(conf: ZkConf) -> ZkElector {
        let (cmd_tx, cmd_rx) = mpsc::channel(16);
        let (ev_tx, ev_rx) = mpsc::channel(64);
        let op_timeout = conf.session_timeout.max(Duration::from_millis(500));
        let (deadline_tx, deadline_rx) = watch::channel(None);
        let read_guard = conf.read_guard;
        let actor = Actor {
            retry: (conf.session_timeout / 5)
                .clamp(Duration::from_millis(100), Duration::from_secs(2)),
            conf,
            client: None,
            states: None,
            candidate: None,
            holds_lock: false,
            breadcrumb_version: None,
            lock_watch: None,
            recheck: false,
            retry_at: Instant::now(),
            reported: None,
            events: ev_tx,
            connect_failures: 0,
            deadline: deadline_tx,
            last_ok_sent: None,
            refresh_at: Instant::now(),
        };
        ZkElector {
            cmds: cmd_tx,
            events: Some(ev_rx),
            task: tokio::spawn(actor.run(cmd_rx)),
            op_timeout,
            deadline: deadline_rx,
            read_guard,
        }
    }

    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Cmd) -> Result<T, ElectorError> {
        let (tx, rx) = oneshot::channel();
        self.cmds
            .send(make(tx))
            .await
            .map_err(|_| ElectorError::Other("ZooKeeper elector stopped".into()))?;
        // The task bounds each ZooKeeper call; this bound covers a queue of them.
        match timeout(self.op_timeout * 4, rx).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Err(ElectorError::Other("ZooKeeper elector stopped".into())),
            Err(_) => Err(ElectorError::Unavailable(
                "ZooKeeper elector did not answer".into(),
            )),
        }
    }
}

impl Drop for ZkElector {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[async_trait]
impl Elector for ZkElector {
    fn take_events(&mut self) -> Option<ElectorEvents> {
        self.events.take()
    }

    async fn join(&self, candidate: ActiveNodeInfo) -> Result<(), ElectorError> {
        self.ask(|r| Cmd::Join(candidate, r)).await
    }

    async fn quit(&self, need_fence: bool) -> Result<(), ElectorError> {
        self.ask(|r| Cmd::Quit(need_fence, r)).await
    }

    async fn write_breadcrumb(&self, info: &ActiveNodeInfo) -> Result<(), ElectorError> {
        let info = info.clone();
        self.ask(|r| Cmd::WriteBreadcrumb(info, r)).await
    }

    async fn current_active(&self) -> Result<Option<ActiveNodeInfo>, ElectorError> {
        self.ask(Cmd::CurrentActive).await
    }

    fn backend(&self) -> &'static str {
        "zookeeper"
    }

    fn lease_deadline(&self) -> Option<watch::Receiver<Option<Instant>>> {
        self.read_guard.then(|| self.deadline.clone())
    }
}

/// Which event was last sent, so each change is reported once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reported {
    Active,
    Standby,
    Neutral,
}

type WatchFuture = Pin<Box<dyn Future<Output = WatchedEvent> + Send>>;

struct Actor {
    conf: ZkConf,
    client: Option<Client>,
    states: Option<StateWatcher>,
    candidate: Option<ActiveNodeInfo>,
    holds_lock: bool,
    /// Version of the breadcrumb read when we won; the write is conditional on it.
    breadcrumb_version: Option<i32>,
    lock_watch: Option<WatchFuture>,
    /// The lock must be looked at again (joined, reconnected, watch fired, error).
    recheck: bool,
    retry_at: Instant,
    retry: Duration,
    reported: Option<Reported>,
    events: mpsc::Sender<ElectorEvent>,
    connect_failures: u64,
    /// The read-guard deadline while we hold the lock, `None` otherwise.
    deadline: watch::Sender<Option<Instant>>,
    /// Our clock just before the latest request answered on the current session.
    last_ok_sent: Option<Instant>,
    /// When the lock holder next proves its session alive.
    refresh_at: Instant,
}

enum Wake {
    Cmd(Option<Cmd>),
    Watch(WatchedEvent),
    State(SessionState),
    Timer,
    Refresh,
}

fn zk_err(e: ZkError) -> ElectorError {
    match e {
        ZkError::ConnectionLoss
        | ZkError::SessionExpired
        | ZkError::Timeout
        | ZkError::NoHosts
        | ZkError::ClientClosed => ElectorError::Unavailable(e.to_string()),
        other => ElectorError::Other(format!("ZooKeeper: {other}")),
    }
}

impl Actor {
    async fn run(mut self, mut cmds: mpsc::Receiver<Cmd>) {
        loop {
            if self.client.is_none() && Instant::now() >= self.retry_at {
                self.connect().await;
            }
            if self.client.is_some()
                && self.recheck
                && self.candidate.is_some()
                && Instant::now() >= self.retry_at
            {
                self.recheck = false;
                if let Err(e) = self.check_lock().await {
                    tracing::warn!("zkfc: ZooKeeper election step failed: {e}");
                    self.failed();
                }
            }
            let timer_needed = self.client.is_none() || (self.recheck && self.candidate.is_some());
            let retry_at = self.retry_at;
            let refreshing = self.holds_lock && self.client.is_some() && self.conf.read_guard;
            let refresh_at = self.refresh_at;
            let wake = tokio::select! {
                c = cmds.recv() => Wake::Cmd(c),
                ev = async { self.lock_watch.as_mut().expect("guarded").await }, if self.lock_watch.is_some() => Wake::Watch(ev),
                st = async { self.states.as_mut().expect("guarded").changed().await }, if self.states.is_some() => Wake::State(st),
                _ = tokio::time::sleep_until(retry_at), if timer_needed => Wake::Timer,
                _ = tokio::time::sleep_until(refresh_at), if refreshing => Wake::Refresh,
            };
            match wake {
                Wake::Cmd(None) => return,
                Wake::Cmd(Some(c)) => self.handle(c).await,
                Wake::Watch(ev) => {
                    tracing::info!(
                        "zkfc: lock znode event {:?} ({:?})",
                        ev.event_type,
                        ev.session_state
                    );
                    self.lock_watch = None;
                    self.recheck = true;
                }
                Wake::State(st) => self.session_state(st),
                Wake::Timer => {}
                Wake::Refresh => self.refresh().await,
            }
        }
    }

    async fn connect(&mut self) {
        let mut c = Client::connector()
            .with_session_timeout(self.conf.session_timeout)
            .with_connection_timeout(self.retry.max(Duration::from_millis(500)))
            .with_fail_eagerly();
        for (scheme, auth) in &self.conf.auths {
            c = c.with_auth(scheme, auth);
        }
        let limit = self.conf.session_timeout.max(Duration::from_secs(1));
        match timeout(limit, c.connect(&self.conf.quorum)).await {
            Ok(Ok(client)) => {
                tracing::info!(
                    "zkfc: ZooKeeper session {} established with {} (timeout {} ms)",
                    client.session_id(),
                    self.conf.quorum,
                    client.session_timeout().as_millis()
                );
                self.states = Some(client.state_watcher());
                self.client = Some(client);
                self.last_ok_sent = None;
                self.connect_failures = 0;
                self.recheck = true;
            }
            result => {
                let why = match result {
                    Ok(Err(e)) => e.to_string(),
                    _ => "timed out".to_string(),
                };
                // Log the first failure and then every tenth: ZooKeeper may be down long.
                if self.connect_failures % 10 == 0 {
                    tracing::warn!(
                        "zkfc: cannot connect to ZooKeeper {}: {why}; no election until it answers",
                        self.conf.quorum
                    );
                }
                self.connect_failures += 1;
                self.report_neutral().await;
                self.retry_at = Instant::now() + self.retry;
            }
        }
    }

    fn session_state(&mut self, st: SessionState) {
        match st {
            SessionState::Disconnected => {
                tracing::warn!("zkfc: disconnected from ZooKeeper; entering neutral mode");
                self.pending_neutral();
            }
            SessionState::SyncConnected | SessionState::ConnectedReadOnly => {
                tracing::info!("zkfc: reconnected to ZooKeeper ({st:?}); checking the lock");
                self.recheck = true;
            }
            SessionState::Expired | SessionState::Closed | SessionState::AuthFailed => {
                tracing::warn!("zkfc: ZooKeeper session ended ({st:?}); starting a new one");
                self.drop_session();
                self.pending_neutral();
            }
        }
    }

    /// Neutral is reported from the loop (sending awaits); mark it here.
    fn pending_neutral(&mut self) {
        self.recheck = true;
        self.retry_at = Instant::now();
        if self.candidate.is_some() && self.reported != Some(Reported::Neutral) {
            // Sent by the next failed step or by report_neutral below; try now.
            if self.events.try_send(ElectorEvent::Neutral).is_ok() {
                self.reported = Some(Reported::Neutral);
            }
        }
    }

    fn drop_session(&mut self) {
        self.client = None;
        self.states = None;
        self.lock_watch = None;
        self.holds_lock = false;
        self.last_ok_sent = None;
        self.publish_deadline();
    }

    /// ZooKeeper answered a request we sent at `sent` on the current session.
    fn proved(&mut self, sent: Instant) {
        if self.last_ok_sent.is_none_or(|s| s < sent) {
            self.last_ok_sent = Some(sent);
        }
        if let Some(c) = &self.client {
            self.refresh_at = sent + refresh_interval(c.session_timeout());
        }
        self.publish_deadline();
    }

    /// Publishes the read-guard deadline: from the latest proof while we hold the
    /// lock, none otherwise. Only changes are sent (each is handed to the NameNode).
    fn publish_deadline(&mut self) {
        let value = holder_deadline(
            self.holds_lock,
            self.client.as_ref().map(|c| c.session_timeout()),
            self.last_ok_sent,
            self.conf.max_drift_ppm,
        );
        self.deadline.send_if_modified(|d| {
            let changed = *d != value;
            *d = value;
            changed
        });
    }

    /// The lock holder's periodic proof that its session (and so the lock) lives.
    async fn refresh(&mut self) {
        let Some(client) = self.client.clone() else {
            return;
        };
        let interval = refresh_interval(client.session_timeout());
        self.refresh_at = Instant::now() + interval;
        let lock = self.conf.lock_path();
        let sent = Instant::now();
        // Bounded by two intervals: the loop must stay responsive, and the deadline
        // still has half the session left when this gives up.
        match timeout(interval * 2, client.check_stat(&lock)).await {
            Ok(Ok(Some(stat))) if stat.ephemeral_owner == client.session_id().0 => {
                self.proved(sent)
            }
            Ok(Ok(_)) => {
                tracing::warn!("zkfc: {lock} is no longer held by this session");
                self.holds_lock = false;
                self.publish_deadline();
                self.recheck = true;
                self.retry_at = Instant::now();
            }
            Ok(Err(e)) => tracing::debug!("zkfc: refreshing the session failed: {e}"),
            Err(_) => tracing::debug!("zkfc: refreshing the session timed out"),
        }
    }

    /// A ZooKeeper call failed: neutral, try again a little later.
    fn failed(&mut self) {
        self.recheck = true;
        self.retry_at = Instant::now() + self.retry;
        if let Some(c) = &self.client {
            if matches!(
                c.state(),
                SessionState::Expired | SessionState::Closed | SessionState::AuthFailed
            ) {
                self.drop_session();
            }
        }
        self.pending_neutral();
    }

    async fn report(&mut self, kind: Reported, ev: ElectorEvent) {
        if self.candidate.is_none() || self.reported == Some(kind) {
            return;
        }
        self.reported = Some(kind);
        let _ = self.events.send(ev).await;
    }

    async fn report_neutral(&mut self) {
        self.report(Reported::Neutral, ElectorEvent::Neutral).await;
    }

    fn op_timeout(&self) -> Duration {
        self.conf.session_timeout.max(Duration::from_millis(500))
    }

    /// One election step: take the lock, or find who holds it and watch it.
    async fn check_lock(&mut self) -> Result<(), ElectorError> {
        let (Some(client), Some(me)) = (self.client.clone(), self.candidate.clone()) else {
            return Ok(());
        };
        let lock = self.conf.lock_path();
        let t = self.op_timeout();
        let acls = self.conf.acls.clone();
        let opts = CreateMode::Ephemeral.with_acls(Acls::new(&acls));
        let sent = Instant::now();
        let created = timeout(t, client.create(&lock, &me.to_bytes(), &opts))
            .await
            .map_err(|_| ElectorError::Unavailable("create timed out".into()))?;
        match created {
            Ok(_) => {
                tracing::info!("zkfc: created {lock}: this controller won the election");
                self.watch_lock(&client, &lock).await?;
                return self.become_active(&client, sent).await;
            }
            Err(ZkError::NodeExists) => {}
            Err(ZkError::NoNode) => {
                tracing::error!(
                    "zkfc: parent znode {} does not exist; run `hafs zkfc -formatZK`",
                    self.conf.parent
                );
                return Err(ElectorError::NotFormatted(format!(
                    "parent znode {} does not exist",
                    self.conf.parent
                )));
            }
            Err(e) => return Err(zk_err(e)),
        }
        let sent = Instant::now();
        let got = timeout(t, client.get_and_watch_data(&lock))
            .await
            .map_err(|_| ElectorError::Unavailable("getData timed out".into()))?;
        let (data, stat, watcher) = match got {
            Ok(x) => x,
            Err(ZkError::NoNode) => {
                // Deleted between our create and read: try again at once.
                self.recheck = true;
                return Ok(());
            }
            Err(e) => return Err(zk_err(e)),
        };
        self.lock_watch = Some(Box::pin(watcher.changed()));
        if stat.ephemeral_owner == client.session_id().0 {
            tracing::info!("zkfc: {lock} is held by this session");
            return self.become_active(&client, sent).await;
        }
        let holder = ActiveNodeInfo::from_bytes(&data);
        if let Ok(h) = &holder {
            if h.same_namenode(&me) {
                tracing::info!(
                    "zkfc: {lock} names this NameNode but belongs to an earlier session 0x{:x}; replacing it",
                    stat.ephemeral_owner
                );
                // Delete and create in one transaction: no other candidate can slip in
                // between (that would be a failover nobody needs).
                let mut multi = client.new_multi_writer();
                multi
                    .add_delete(&lock, Some(stat.version))
                    .map_err(zk_err)?;
                multi
                    .add_create(&lock, &me.to_bytes(), &opts)
                    .map_err(zk_err)?;
                let sent = Instant::now();
                let replaced = timeout(t, multi.commit())
                    .await
                    .map_err(|_| ElectorError::Unavailable("multi timed out".into()))?;
                self.lock_watch = None;
                match replaced {
                    Ok(_) => {
                        tracing::info!("zkfc: replaced {lock}: this controller won the election");
                        self.watch_lock(&client, &lock).await?;
                        return self.become_active(&client, sent).await;
                    }
                    Err(e) => {
                        let e: ZkError = e.into();
                        match e {
                            ZkError::NoNode | ZkError::BadVersion | ZkError::NodeExists => {}
                            other => return Err(zk_err(other)),
                        }
                    }
                }
                self.recheck = true;
                return Ok(());
            }
        }
        match holder {
            Ok(h) => tracing::info!("zkfc: the lock is held by {h}; this NameNode stays Standby"),
            Err(e) => tracing::warn!("zkfc: the lock is held by another session ({e})"),
        }
        self.holds_lock = false;
        self.publish_deadline();
        self.report(Reported::Standby, ElectorEvent::BecameStandby)
            .await;
        Ok(())
    }

    async fn watch_lock(&mut self, client: &Client, lock: &str) -> Result<(), ElectorError> {
        let got = timeout(self.op_timeout(), client.check_and_watch_stat(lock))
            .await
            .map_err(|_| ElectorError::Unavailable("exists timed out".into()))?;
        let (_, watcher) = got.map_err(zk_err)?;
        self.lock_watch = Some(Box::pin(watcher.changed()));
        Ok(())
    }

    /// We hold the lock, as a request sent at `sent` showed.
    async fn become_active(&mut self, client: &Client, sent: Instant) -> Result<(), ElectorError> {
        self.holds_lock = true;
        self.proved(sent);
        let bc = self.conf.breadcrumb_path();
        let sent = Instant::now();
        let got = timeout(self.op_timeout(), client.get_data(&bc))
            .await
            .map_err(|_| ElectorError::Unavailable("reading the breadcrumb timed out".into()))?;
        let previous = match got {
            Ok((data, stat)) => {
                self.breadcrumb_version = Some(stat.version);
                match ActiveNodeInfo::from_bytes(&data) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        tracing::warn!("zkfc: unreadable breadcrumb {bc}: {e}; nothing to fence");
                        None
                    }
                }
            }
            Err(ZkError::NoNode) => {
                self.breadcrumb_version = None;
                None
            }
            Err(e) => return Err(zk_err(e)),
        };
        // Answered (data or NoNode): the session was alive when the server took it.
        self.proved(sent);
        match &previous {
            Some(p) => tracing::info!("zkfc: breadcrumb names the previous Active: {p}"),
            None => tracing::info!("zkfc: no breadcrumb: no previous Active to fence"),
        }
        // A repeated win in the same session (after a reconnect) is reported again only
        // when something else was reported in between.
        self.report(Reported::Active, ElectorEvent::BecameActive { previous })
            .await;
        Ok(())
    }

    async fn handle(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Join(info, reply) => {
                if self.candidate.as_ref() != Some(&info) {
                    tracing::info!("zkfc: joining the election as {info}");
                    self.candidate = Some(info);
                    self.reported = None;
                    self.recheck = true;
                    self.retry_at = Instant::now();
                }
                let _ = reply.send(Ok(()));
            }
            Cmd::Quit(need_fence, reply) => {
                let r = self.quit(need_fence).await;
                let _ = reply.send(r);
            }
            Cmd::WriteBreadcrumb(info, reply) => {
                let r = self.write_breadcrumb(&info).await;
                let _ = reply.send(r);
            }
            Cmd::CurrentActive(reply) => {
                let r = self.current_active().await;
                let _ = reply.send(r);
            }
        }
    }

    async fn quit(&mut self, need_fence: bool) -> Result<(), ElectorError> {
        let was_candidate = self.candidate.take();
        self.reported = None;
        self.lock_watch = None;
        self.recheck = false;
        let Some(me) = was_candidate else {
            return Ok(());
        };
        tracing::info!("zkfc: quitting the election (need fence: {need_fence})");
        let Some(client) = self.client.clone() else {
            self.holds_lock = false;
            self.publish_deadline();
            return Ok(());
        };
        let t = self.op_timeout();
        if self.holds_lock && !need_fence {
            // Our NameNode is Standby already: the next Active need not fence it.
            let bc = self.conf.breadcrumb_path();
            if let Ok(Ok((data, stat))) = timeout(t, client.get_data(&bc)).await {
                if ActiveNodeInfo::from_bytes(&data).is_ok_and(|b| b.same_namenode(&me)) {
                    match timeout(t, client.delete(&bc, Some(stat.version))).await {
                        Ok(Ok(())) => tracing::info!("zkfc: deleted our breadcrumb {bc}"),
                        other => {
                            tracing::warn!("zkfc: could not delete breadcrumb {bc}: {other:?}")
                        }
                    }
                }
            }
        }
        self.holds_lock = false;
        self.publish_deadline();
        let lock = self.conf.lock_path();
        let released = match timeout(t, client.get_data(&lock)).await {
            Ok(Ok((_, stat))) if stat.ephemeral_owner == client.session_id().0 => {
                matches!(
                    timeout(t, client.delete(&lock, Some(stat.version))).await,
                    Ok(Ok(()))
                )
            }
            Ok(Ok(_)) | Ok(Err(ZkError::NoNode)) => true,
            _ => false,
        };
        if !released {
            // Not sure the lock is gone: end the session, which removes it.
            tracing::warn!("zkfc: could not release the lock cleanly; closing the session");
            self.drop_session();
        }
        Ok(())
    }

    async fn write_breadcrumb(&mut self, info: &ActiveNodeInfo) -> Result<(), ElectorError> {
        let Some(client) = self.client.clone() else {
            return Err(ElectorError::Unavailable("no ZooKeeper session".into()));
        };
        if !self.holds_lock {
            return Err(ElectorError::NotLeader(
                "this controller does not hold the lock".into(),
            ));
        }
        let bc = self.conf.breadcrumb_path();
        let t = self.op_timeout();
        let data = info.to_bytes();
        let sent = Instant::now();
        let r = match self.breadcrumb_version {
            Some(v) => timeout(t, client.set_data(&bc, &data, Some(v)))
                .await
                .map(|r| r.map(|stat| stat.version)),
            None => {
                let acls = self.conf.acls.clone();
                let opts = CreateMode::Persistent.with_acls(Acls::new(&acls));
                timeout(t, client.create(&bc, &data, &opts))
                    .await
                    .map(|r| r.map(|(stat, _)| stat.version))
            }
        };
        match r {
            Ok(Ok(v)) => {
                self.breadcrumb_version = Some(v);
                self.proved(sent);
                tracing::info!("zkfc: wrote breadcrumb {bc}: {info}");
                Ok(())
            }
            Ok(Err(ZkError::BadVersion)) | Ok(Err(ZkError::NodeExists)) => Err(
                ElectorError::NotLeader("the breadcrumb changed since this controller won".into()),
            ),
            Ok(Err(e)) => Err(zk_err(e)),
            Err(_) => Err(ElectorError::Unavailable(
                "writing the breadcrumb timed out".into(),
            )),
        }
    }

    async fn current_active(&mut self) -> Result<Option<ActiveNodeInfo>, ElectorError> {
        let Some(client) = self.client.clone() else {
            return Err(ElectorError::Unavailable("no ZooKeeper session".into()));
        };
        match timeout(self.op_timeout(), client.get_data(&self.conf.lock_path())).await {
            Ok(Ok((data, _))) => ActiveNodeInfo::from_bytes(&data).map(Some),
            Ok(Err(ZkError::NoNode)) => Ok(None),
            Ok(Err(e)) => Err(zk_err(e)),
            Err(_) => Err(ElectorError::Unavailable("getData timed out".into())),
        }
    }
}

/// A one-off session for administration (`-formatZK`, startup checks).
pub async fn admin_connect(conf: &ZkConf) -> Result<Client, ElectorError> {
    let mut c = Client::connector()
        .with_session_timeout(conf.session_timeout)
        .with_fail_eagerly();
    for (scheme, auth) in &conf.auths {
        c = c.with_auth(scheme, auth);
    }
    let limit = conf.session_timeout.max(Duration::from_secs(2));
    timeout(limit, c.connect(&conf.quorum))
        .await
        .map_err(|_| ElectorError::Unavailable(format!("connecting to {} timed out", conf.quorum)))?
        .map_err(zk_err)
}

/// Whether `<parent>/<ns>` exists (Hadoop's `parentZNodeExists`).
pub async fn parent_exists(client: &Client, conf: &ZkConf) -> Result<bool, ElectorError> {
    Ok(client
        .check_stat(&conf.parent)
        .await
        .map_err(zk_err)?
        .is_some())
}

/// Creates `<parent>/<ns>` and its ancestors (Hadoop's `ensureParentZNode`).
pub async fn ensure_parent(client: &Client, conf: &ZkConf) -> Result<(), ElectorError> {
    let mut path = String::new();
    for part in conf.parent.split('/').filter(|p| !p.is_empty()) {
        path.push('/');
        path.push_str(part);
        let opts = CreateMode::Persistent.with_acls(Acls::new(&conf.acls));
        match client.create(&path, &[], &opts).await {
            Ok(_) | Err(ZkError::NodeExists) => {}
            Err(e) => return Err(zk_err(e)),
        }
    }
    Ok(())
}

/// Deletes `<parent>/<ns>` and everything under it (Hadoop's `clearParentZNode`).
pub async fn clear_parent(client: &Client, conf: &ZkConf) -> Result<(), ElectorError> {
    // Depth-first, bounded: the election keeps two znodes, so a deep tree is foreign.
    let mut stack = vec![(conf.parent.clone(), false)];
    let mut steps = 0;
    while let Some((path, expanded)) = stack.pop() {
        steps += 1;
        if steps > 100_000 {
            return Err(ElectorError::Other(format!(
                "{} holds too many znodes",
                conf.parent
            )));
        }
        if !expanded {
            let children = match client.list_children(&path).await {
                Ok(c) => c,
                Err(ZkError::NoNode) => continue,
                Err(e) => return Err(zk_err(e)),
            };
            stack.push((path.clone(), true));
            for c in children {
                stack.push((format!("{path}/{c}"), false));
            }
        } else {
            match client.delete(&path, None).await {
                Ok(()) | Err(ZkError::NoNode) => {}
                Err(e) => return Err(zk_err(e)),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guard_ends_a_drift_margin_before_the_session_could_expire() {
        let sent = Instant::now();
        let t = Duration::from_millis(2000);
        // 1 % drift: margin ceil(2000 * 0.02 / 1.01) + 1 = 41 ms.
        let d = guard_deadline(sent, t, 10_000).unwrap();
        assert_eq!(d - sent, Duration::from_millis(1959));
        // Never beyond sent + timeout - margin, whatever the timeout and drift.
        for ms in [50u64, 999, 2000, 10_000, 40_000] {
            for ppm in [0u64, 100, 10_000, 99_999] {
                let t = Duration::from_millis(ms);
                let d = guard_deadline(sent, t, ppm).unwrap();
                let margin = Duration::from_millis(min_margin_ms(ms, ppm));
                assert!(d + margin <= sent + t, "{ms} ms, {ppm} ppm");
                assert!(d > sent);
            }
        }
        // Sub-millisecond parts of the timeout are not counted.
        let d = guard_deadline(sent, Duration::from_micros(2_000_900), 0).unwrap();
        assert_eq!(d - sent, Duration::from_millis(1999));
    }

    #[test]
    fn a_timeout_no_longer_than_its_margin_gives_no_guard() {
        let sent = Instant::now();
        assert_eq!(guard_deadline(sent, Duration::from_millis(1), 0), None);
        assert_eq!(guard_deadline(sent, Duration::ZERO, 10_000), None);
    }

    #[test]
    fn only_a_lock_holder_with_an_answered_session_publishes_a_deadline() {
        let sent = Instant::now();
        let t = Some(Duration::from_secs(2));
        assert!(holder_deadline(true, t, Some(sent), 10_000).is_some());
        assert_eq!(holder_deadline(false, t, Some(sent), 10_000), None);
        assert_eq!(holder_deadline(true, None, Some(sent), 10_000), None);
        assert_eq!(holder_deadline(true, t, None, 10_000), None);
    }

    #[test]
    fn the_holder_refreshes_four_times_per_session() {
        assert_eq!(
            refresh_interval(Duration::from_secs(2)),
            Duration::from_millis(500)
        );
        assert_eq!(
            refresh_interval(Duration::from_millis(8)),
            Duration::from_millis(10)
        );
    }
}
