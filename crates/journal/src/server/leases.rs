//! The election calls of a JournalNode (`acquireLease`, `renewLease`, `releaseLease`,
//! `getLeaseState`, `writeBreadcrumb`): one [`Lease`] per journal id, kept in
//! `<edits dir>/<jid>/lease_state`, timed by this process's monotonic clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use hafs_ipc::{CallContext, RpcError};
use hafs_proto::qjournal as pb;

use super::service::{to_rpc, JournalNode};
use crate::election::{view_to_proto, FileLeaseStorage, Lease, LeaseView};
use crate::protocol::QjError;

type SharedLease = Arc<Mutex<Lease<FileLeaseStorage>>>;

/// The leases this node serves and the clock they run on.
pub struct LeaseTable {
    started: Instant,
    leases: Mutex<HashMap<String, SharedLease>>,
}

impl Default for LeaseTable {
    fn default() -> Self {
        LeaseTable {
            started: Instant::now(),
            leases: Mutex::new(HashMap::new()),
        }
    }
}

impl LeaseTable {
    /// Milliseconds of this process's monotonic clock.
    pub fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    hafs_util::invariant::lock(m, "lease table")
}

impl JournalNode {
    /// The lease of `jid`, loaded on first use. The journal is opened first: it holds
    /// the directory lock, so no other process shares the lease file.
    fn lease(&self, jid: &str) -> Result<SharedLease, RpcError> {
        self.journal(jid)?;
        let mut map = lock(&self.leases.leases);
        if let Some(l) = map.get(jid) {
            return Ok(l.clone());
        }
        let storage = FileLeaseStorage::new(&self.config.edits_dir.join(jid));
        let l = Arc::new(Mutex::new(
            Lease::load(jid, storage, self.leases.now_ms()).map_err(to_rpc)?,
        ));
        map.insert(jid.to_string(), l.clone());
        Ok(l)
    }

    /// The lease of every journal whose election ran here, for `/jmx`.
    pub fn opened_lease_views(&self) -> Vec<(String, LeaseView)> {
        let leases: Vec<(String, SharedLease)> = lock(&self.leases.leases)
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut out: Vec<_> = leases
            .into_iter()
            .map(|(jid, l)| {
                let now = self.leases.now_ms();
                let view = lock(&l).view(now);
                (jid, view)
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Runs `f` on the lease of `jid` on the blocking pool (saves fsync), with the
    /// clock read under the lease's lock, so calls see time move forward.
    async fn with_lease<F>(&self, jid: &str, f: F) -> Result<pb::LeaseStateProto, RpcError>
    where
        F: FnOnce(&mut Lease<FileLeaseStorage>, u64) -> Result<LeaseView, QjError> + Send + 'static,
    {
        let l = self.lease(jid)?;
        let node = self.leases.started;
        tokio::task::spawn_blocking(move || {
            let mut g = lock(&l);
            let now = node.elapsed().as_millis() as u64;
            f(&mut g, now).map(|v| view_to_proto(&v)).map_err(to_rpc)
        })
        .await
        .map_err(|e| RpcError::io(format!("lease task failed: {e}")))?
    }

    pub(super) async fn acquire_lease(
        &self,
        _ctx: &CallContext,
        r: pb::AcquireLeaseRequestProto,
    ) -> Result<pb::AcquireLeaseResponseProto, RpcError> {
        let (c, t, d) = (r.candidate, r.term, r.duration_ms);
        let state = self
            .with_lease(&r.jid.identifier, move |l, now| l.acquire(&c, t, d, now))
            .await?;
        Ok(pb::AcquireLeaseResponseProto { state })
    }

    pub(super) async fn renew_lease(
        &self,
        _ctx: &CallContext,
        r: pb::RenewLeaseRequestProto,
    ) -> Result<pb::RenewLeaseResponseProto, RpcError> {
        let (h, t) = (r.holder, r.term);
        let state = self
            .with_lease(&r.jid.identifier, move |l, now| l.renew(&h, t, now))
            .await?;
        Ok(pb::RenewLeaseResponseProto { state })
    }

    pub(super) async fn release_lease(
        &self,
        _ctx: &CallContext,
        r: pb::ReleaseLeaseRequestProto,
    ) -> Result<pb::ReleaseLeaseResponseProto, RpcError> {
        let (h, t, c) = (r.holder, r.term, r.clear_breadcrumb.unwrap_or(false));
        let state = self
            .with_lease(&r.jid.identifier, move |l, now| l.release(&h, t, c, now))
            .await?;
        Ok(pb::ReleaseLeaseResponseProto { state })
    }

    pub(super) async fn get_lease_state(
        &self,
        _ctx: &CallContext,
        r: pb::GetLeaseStateRequestProto,
    ) -> Result<pb::GetLeaseStateResponseProto, RpcError> {
        let state = self
            .with_lease(&r.jid.identifier, |l, now| Ok(l.view(now)))
            .await?;
        Ok(pb::GetLeaseStateResponseProto { state })
    }

    pub(super) async fn write_breadcrumb(
        &self,
        _ctx: &CallContext,
        r: pb::WriteBreadcrumbRequestProto,
    ) -> Result<pb::WriteBreadcrumbResponseProto, RpcError> {
        let (h, t, d) = (r.holder, r.term, r.data);
        let state = self
            .with_lease(&r.jid.identifier, move |l, now| {
                l.write_breadcrumb(&h, t, &d, now)
            })
            .await?;
        Ok(pb::WriteBreadcrumbResponseProto { state })
    }
}
