//! [`Lease`]: one JournalNode's view of the leadership lease of one nameservice (one
//! journal id), as a sans-IO state machine. Time is the caller's: every call takes `now`,
//! milliseconds of this node's monotonic clock (any origin; it never moves back while the
//! process lives, and nothing of it is persisted).
//!
//! Rules (docs/election.md):
//! - `acquire(candidate, term, duration)` grants iff `term` is above every term this node
//!   granted and no OTHER holder's lease is live here; the holder itself may re-acquire
//!   with a higher term. The grant is persisted before it is answered.
//! - `renew(holder, term)` extends a live lease by its duration from now. Renewals are
//!   not persisted.
//! - After a restart the recorded holder is treated as live for one full duration from
//!   the moment the state is loaded: whatever the node granted or renewed before the
//!   crash expired, by its old clock, no later than that. So a restart never lets this
//!   node grant early.
//! - `release` ends the holder's lease at once; `write_breadcrumb` is accepted only from
//!   the live holder with its term, never below the stored breadcrumb's term.

use super::lease_file::{Breadcrumb, LeaseStorage, PersistedLease};
use crate::protocol::QjError;
use hafs_util::invariant;

/// Shortest and longest lease a JournalNode grants (a candidate cannot lock the
/// nameservice out for long by asking for a huge duration).
pub const MIN_LEASE_MS: u64 = 50;
pub const MAX_LEASE_MS: u64 = 600_000;
/// Longest holder id and breadcrumb accepted.
pub const MAX_HOLDER_LEN: usize = 512;
pub const MAX_BREADCRUMB_LEN: usize = 16 << 10;

/// What a node answers to every lease call.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LeaseView {
    pub term: u64,
    pub holder: Option<String>,
    pub live: bool,
    pub remaining_ms: u64,
    pub duration_ms: u64,
    pub breadcrumb: Option<Breadcrumb>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lease<S> {
    name: String,
    storage: S,
    state: PersistedLease,
    /// Local ms until which `state.holder`'s lease is live (None: no live lease).
    expires_at: Option<u64>,
}

fn refused(msg: String) -> QjError {
    // Travels as java.io.IOException; the elector reads only success or failure.
    QjError::Fenced(msg)
}

impl<S: LeaseStorage> Lease<S> {
    /// Loads the lease at local time `now`. A recorded holder is live for one full
    /// duration from now (the restart rule).
    pub fn load(name: &str, storage: S, now: u64) -> Result<Lease<S>, QjError> {
        let state = storage.load()?;
        let expires_at = state
            .holder
            .as_ref()
            .map(|_| now.saturating_add(state.duration_ms.min(MAX_LEASE_MS)));
        if let Some(h) = &state.holder {
            tracing::info!(lease = name, holder = %h, term = state.term, wait_ms = state.duration_ms,
                "loaded a lease grant: nobody else is granted it for one full duration");
        }
        Ok(Lease {
            name: name.to_string(),
            storage,
            state,
            expires_at,
        })
    }

    pub fn storage(&self) -> &S {
        &self.storage
    }

    pub fn storage_mut(&mut self) -> &mut S {
        &mut self.storage
    }

    /// Consumes the lease, returning its storage (a "crash" in tests and the model).
    pub fn into_storage(self) -> S {
        self.storage
    }

    fn live_holder(&self, now: u64) -> Option<&str> {
        match (&self.state.holder, self.expires_at) {
            (Some(h), Some(exp)) if now < exp => Some(h),
            _ => None,
        }
    }

    /// The lease as this node sees it at `now`.
    pub fn view(&self, now: u64) -> LeaseView {
        let live = self.live_holder(now).is_some();
        LeaseView {
            term: self.state.term,
            holder: self.state.holder.clone(),
            live,
            remaining_ms: if live {
                self.expires_at.unwrap_or(now) - now
            } else {
                0
            },
            duration_ms: self.state.duration_ms,
            breadcrumb: self.state.breadcrumb.clone(),
        }
    }

    fn save(&mut self, next: PersistedLease) -> Result<(), QjError> {
        // Terms never go back: a grant raises the term, a release or a breadcrumb keeps it.
        invariant!(
            next.term >= self.state.term,
            "lease {}: term {} would replace term {}",
            self.name,
            next.term,
            self.state.term
        );
        self.storage.save(&next)?;
        self.state = next;
        Ok(())
    }

    /// `acquireLease`.
    pub fn acquire(
        &mut self,
        candidate: &str,
        term: u64,
        duration_ms: u64,
        now: u64,
    ) -> Result<LeaseView, QjError> {
        if candidate.is_empty() || candidate.len() > MAX_HOLDER_LEN {
            return Err(QjError::IllegalArgument(format!(
                "lease candidate id must be 1..={MAX_HOLDER_LEN} bytes"
            )));
        }
        if !(MIN_LEASE_MS..=MAX_LEASE_MS).contains(&duration_ms) {
            return Err(QjError::IllegalArgument(format!(
                "lease duration {duration_ms} ms is outside {MIN_LEASE_MS}..={MAX_LEASE_MS} ms"
            )));
        }
        if term <= self.state.term {
            return Err(refused(format!(
                "lease {}: term {term} is not above the last granted term {}",
                self.name, self.state.term
            )));
        }
        if let Some(h) = self.live_holder(now) {
            if h != candidate {
                return Err(refused(format!(
                    "lease {} is held by {h} (term {}) for another {} ms",
                    self.name,
                    self.state.term,
                    self.expires_at.unwrap_or(now) - now
                )));
            }
        }
        invariant!(
            self.live_holder(now).is_none_or(|h| h == candidate),
            "lease {}: a grant to {candidate} while another holder is live",
            self.name
        );
        let next = PersistedLease {
            term,
            holder: Some(candidate.to_string()),
            duration_ms,
            breadcrumb: self.state.breadcrumb.clone(),
        };
        // Durable before it is answered, or not granted at all.
        self.save(next)?;
        self.expires_at = Some(now.saturating_add(duration_ms));
        tracing::info!(lease = %self.name, holder = candidate, term, duration_ms, "lease granted");
        Ok(self.view(now))
    }

    /// `renewLease`.
    pub fn renew(&mut self, holder: &str, term: u64, now: u64) -> Result<LeaseView, QjError> {
        match self.live_holder(now) {
            Some(h) if h == holder && term == self.state.term => {
                self.expires_at = Some(now.saturating_add(self.state.duration_ms));
                Ok(self.view(now))
            }
            Some(h) => Err(refused(format!(
                "lease {}: cannot renew for {holder} term {term}: held by {h} term {}",
                self.name, self.state.term
            ))),
            None => Err(refused(format!(
                "lease {}: cannot renew for {holder} term {term}: no live lease here (last term {}); acquire it again",
                self.name, self.state.term
            ))),
        }
    }

    /// `releaseLease`: only the holder of `term` (live or not) may release it.
    pub fn release(
        &mut self,
        holder: &str,
        term: u64,
        clear_breadcrumb: bool,
        now: u64,
    ) -> Result<LeaseView, QjError> {
        if self.state.holder.as_deref() != Some(holder) || self.state.term != term {
            return Err(refused(format!(
                "lease {}: {holder} does not hold term {term} here (term {}, holder {:?})",
                self.name, self.state.term, self.state.holder
            )));
        }
        let mut next = self.state.clone();
        next.holder = None;
        if clear_breadcrumb && next.breadcrumb.as_ref().is_some_and(|b| b.holder == holder) {
            next.breadcrumb = None;
        }
        self.save(next)?;
        self.expires_at = None;
        tracing::info!(lease = %self.name, holder, term, "lease released");
        Ok(self.view(now))
    }

    /// `writeBreadcrumb`.
    pub fn write_breadcrumb(
        &mut self,
        holder: &str,
        term: u64,
        data: &[u8],
        now: u64,
    ) -> Result<LeaseView, QjError> {
        if data.len() > MAX_BREADCRUMB_LEN {
            return Err(QjError::IllegalArgument(format!(
                "breadcrumb of {} bytes exceeds {MAX_BREADCRUMB_LEN}",
                data.len()
            )));
        }
        if self.live_holder(now) != Some(holder) || self.state.term != term {
            return Err(refused(format!(
                "lease {}: only the live holder may write the breadcrumb ({holder} term {term} is not)",
                self.name
            )));
        }
        if let Some(b) = &self.state.breadcrumb {
            // The stored breadcrumb was read from disk: a bad one is an error, not a stop.
            if b.term > term {
                return Err(QjError::Invariant(format!(
                    "lease {}: stored breadcrumb term {} is above the live term {term}",
                    self.name, b.term
                )));
            }
        }
        let mut next = self.state.clone();
        next.breadcrumb = Some(Breadcrumb {
            term,
            holder: holder.to_string(),
            data: data.to_vec(),
        });
        self.save(next)?;
        Ok(self.view(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::election::MemLeaseStorage;

    fn fresh() -> Lease<MemLeaseStorage> {
        Lease::load("ns1", MemLeaseStorage::default(), 0).unwrap()
    }

    #[test]
    fn grant_refuses_others_while_live_and_grants_after_expiry() {
        let mut l = fresh();
        let v = l.acquire("a", 1, 1000, 10).unwrap();
        assert!(v.live && v.remaining_ms == 1000 && v.holder.as_deref() == Some("a"));
        let e = l.acquire("b", 2, 1000, 500).unwrap_err().to_string();
        assert!(e.contains("held by a"), "{e}");
        // Still refused at the last live ms, granted at expiry.
        assert!(l.acquire("b", 2, 1000, 1009).is_err());
        let v = l.acquire("b", 2, 1000, 1010).unwrap();
        assert_eq!((v.term, v.holder.as_deref()), (2, Some("b")));
        // The old holder can renew no more.
        assert!(l.renew("a", 1, 1011).is_err());
    }

    #[test]
    fn terms_only_go_up_and_the_holder_may_reacquire() {
        let mut l = fresh();
        l.acquire("a", 5, 1000, 0).unwrap();
        assert!(l.acquire("a", 5, 1000, 1).is_err(), "same term twice");
        assert!(
            l.acquire("b", 4, 1000, 5000).is_err(),
            "lower term after expiry"
        );
        l.acquire("a", 6, 1000, 2).unwrap();
        assert!(l.renew("a", 5, 3).is_err(), "renew with an old term");
        l.renew("a", 6, 3).unwrap();
    }

    #[test]
    fn renew_extends_from_now_and_only_while_live() {
        let mut l = fresh();
        l.acquire("a", 1, 1000, 0).unwrap();
        let v = l.renew("a", 1, 900).unwrap();
        assert_eq!(v.remaining_ms, 1000);
        assert!(l.acquire("b", 2, 1000, 1500).is_err(), "renewed until 1900");
        assert!(l.renew("b", 1, 1000).is_err());
        let e = l.renew("a", 1, 1900).unwrap_err().to_string();
        assert!(e.contains("no live lease"), "{e}");
    }

    #[test]
    fn restart_waits_a_full_duration_before_granting_elsewhere() {
        let mut l = fresh();
        l.acquire("a", 3, 1000, 0).unwrap();
        l.renew("a", 3, 900).unwrap();
        // Crash; the new process's clock starts anywhere (here: 0 again).
        let st = l.into_storage();
        let mut l = Lease::load("ns1", st, 0).unwrap();
        assert!(l.view(0).live);
        assert!(l.acquire("b", 4, 1000, 999).is_err());
        // The holder may keep renewing across the restart.
        l.renew("a", 3, 500).unwrap();
        assert!(l.acquire("b", 4, 1000, 1499).is_err());
        l.acquire("b", 4, 1000, 1500).unwrap();
    }

    #[test]
    fn nothing_is_granted_without_a_durable_record() {
        let mut l = fresh();
        l.storage_mut().fail_saves = true;
        assert!(l.acquire("a", 1, 1000, 0).is_err());
        let v = l.view(0);
        assert_eq!((v.term, v.live), (0, false));
        l.storage_mut().fail_saves = false;
        l.acquire("b", 1, 1000, 0).unwrap();
    }

    #[test]
    fn release_ends_at_once_and_may_clear_own_breadcrumb() {
        let mut l = fresh();
        l.acquire("a", 1, 1000, 0).unwrap();
        l.write_breadcrumb("a", 1, b"A", 1).unwrap();
        assert!(l.release("b", 1, true, 2).is_err());
        let v = l.release("a", 1, false, 2).unwrap();
        assert!(!v.live && v.breadcrumb.is_some());
        l.acquire("b", 2, 1000, 3).unwrap();
        // a no longer holds: it cannot clear b's breadcrumb or write one.
        assert!(l.write_breadcrumb("a", 1, b"A2", 4).is_err());
        l.write_breadcrumb("b", 2, b"B", 4).unwrap();
        l.release("b", 2, true, 5).unwrap();
        assert_eq!(l.view(5).breadcrumb, None);
        // Released grants survive a restart as released: no wait.
        let st = l.into_storage();
        let mut l = Lease::load("ns1", st, 0).unwrap();
        l.acquire("c", 3, 1000, 0).unwrap();
    }

    #[test]
    fn breadcrumb_only_from_the_live_holder() {
        let mut l = fresh();
        assert!(l.write_breadcrumb("a", 0, b"x", 0).is_err());
        l.acquire("a", 1, 100, 0).unwrap();
        assert!(l.write_breadcrumb("a", 1, b"x", 100).is_err(), "expired");
        l.acquire("a", 2, 100, 100).unwrap();
        let v = l.write_breadcrumb("a", 2, b"x", 150).unwrap();
        assert_eq!(v.breadcrumb.unwrap().data, b"x");
        assert!(l
            .write_breadcrumb("a", 2, &vec![0; MAX_BREADCRUMB_LEN + 1], 150)
            .is_err());
    }

    #[test]
    fn bad_arguments_are_refused() {
        let mut l = fresh();
        assert!(l.acquire("", 1, 1000, 0).is_err());
        assert!(l.acquire("a", 1, MAX_LEASE_MS + 1, 0).is_err());
        assert!(l.acquire("a", 1, 1, 0).is_err());
        assert!(l
            .acquire(&"x".repeat(MAX_HOLDER_LEN + 1), 1, 1000, 0)
            .is_err());
    }
}
