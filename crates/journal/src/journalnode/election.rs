//! The election calls of a JournalNode (`acquireLease`, `renewLease`, `releaseLease`,
//! `getLeaseState`, `writeBreadcrumb`): one [`Lease`] per journal id, kept in
//! `<edits dir>/<jid>/lease_state`, timed by this process's monotonic clock.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use hafs_ipc::{decode_request, encode_response, RpcError};
use hafs_proto::qjournal as pb;

use super::service::{to_rpc, JournalNode};
use crate::qjournal::{breadcrumb_to_proto, FileLeaseStorage, Lease, LeaseView, QjError};

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
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub fn view_to_proto(v: &LeaseView) -> pb::LeaseStateProto {
    pb::LeaseStateProto {
        term: v.term,
        holder: v.holder.clone(),
        live: v.live,
        remaining_ms: v.remaining_ms,
        duration_ms: v.duration_ms,
        breadcrumb: v.breadcrumb.as_ref().map(breadcrumb_to_proto),
    }
}

pub fn view_from_proto(p: &pb::LeaseStateProto) -> LeaseView {
    LeaseView {
        term: p.term,
        holder: p.holder.clone(),
        live: p.live,
        remaining_ms: p.remaining_ms,
        duration_ms: p.duration_ms,
        breadcrumb: p
            .breadcrumb
            .as_ref()
            .map(crate::qjournal::breadcrumb_from_proto),
    }
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

    /// Serves an election call; None when `method` is not one.
    pub(super) async fn dispatch_election(
        &self,
        method: &str,
        b: &Bytes,
    ) -> Option<Result<Bytes, RpcError>> {
        let r = match method {
            "acquireLease" => self.acquire(b).await,
            "renewLease" => self.renew(b).await,
            "releaseLease" => self.release(b).await,
            "getLeaseState" => self.lease_state(b).await,
            "writeBreadcrumb" => self.breadcrumb(b).await,
            _ => return None,
        };
        Some(r)
    }

    async fn acquire(&self, b: &Bytes) -> Result<Bytes, RpcError> {
        let r: pb::AcquireLeaseRequestProto = decode_request(b)?;
        let (c, t, d) = (r.candidate, r.term, r.duration_ms);
        let state = self
            .with_lease(&r.jid.identifier, move |l, now| l.acquire(&c, t, d, now))
            .await?;
        Ok(encode_response(&pb::AcquireLeaseResponseProto { state }))
    }

    async fn renew(&self, b: &Bytes) -> Result<Bytes, RpcError> {
        let r: pb::RenewLeaseRequestProto = decode_request(b)?;
        let (h, t) = (r.holder, r.term);
        let state = self
            .with_lease(&r.jid.identifier, move |l, now| l.renew(&h, t, now))
            .await?;
        Ok(encode_response(&pb::RenewLeaseResponseProto { state }))
    }

    async fn release(&self, b: &Bytes) -> Result<Bytes, RpcError> {
        let r: pb::ReleaseLeaseRequestProto = decode_request(b)?;
        let (h, t, c) = (r.holder, r.term, r.clear_breadcrumb.unwrap_or(false));
        let state = self
            .with_lease(&r.jid.identifier, move |l, now| l.release(&h, t, c, now))
            .await?;
        Ok(encode_response(&pb::ReleaseLeaseResponseProto { state }))
    }

    async fn lease_state(&self, b: &Bytes) -> Result<Bytes, RpcError> {
        let r: pb::GetLeaseStateRequestProto = decode_request(b)?;
        let state = self
            .with_lease(&r.jid.identifier, |l, now| Ok(l.view(now)))
            .await?;
        Ok(encode_response(&pb::GetLeaseStateResponseProto { state }))
    }

    async fn breadcrumb(&self, b: &Bytes) -> Result<Bytes, RpcError> {
        let r: pb::WriteBreadcrumbRequestProto = decode_request(b)?;
        let (h, t, d) = (r.holder, r.term, r.data);
        let state = self
            .with_lease(&r.jid.identifier, move |l, now| {
                l.write_breadcrumb(&h, t, &d, now)
            })
            .await?;
        Ok(encode_response(&pb::WriteBreadcrumbResponseProto { state }))
    }
}
