//! Where a [`super::Lease`] keeps its durable state: the [`LeaseStorage`] trait, the
//! crash-safe file `<edits dir>/<jid>/lease_state` ([`FileLeaseStorage`]) and memory
//! ([`MemLeaseStorage`], for tests and the model checker).
//!
//! Layout: the control-file framing of [`crate::control_file`] (magic `HAFSLEAS`,
//! version 1) around a `PersistedLeaseStateProto`, replaced like `journal_state`. The
//! file sits beside `current/`, so formatting the journal leaves the election alone.

use std::path::{Path, PathBuf};

use hafs_proto::qjournal::{LeaseBreadcrumbProto, PersistedLeaseStateProto};
use prost::Message;

use crate::control_file::ControlFormat;
use crate::error::EditLogError;
use crate::fsutil::write_atomic;
use crate::protocol::QjError;

pub const LEASE_FILE: &str = "lease_state";
const FORMAT: ControlFormat = ControlFormat {
    magic: b"HAFSLEAS",
    version: 1,
    // Holder ids and breadcrumbs are small; anything near this is damage.
    max_body: 1 << 16,
    what: "lease state file",
};

/// The last Active's identity, as its elector wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Breadcrumb {
    pub term: u64,
    pub holder: String,
    pub data: Vec<u8>,
}

/// What survives a JournalNode restart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PersistedLease {
    /// Highest term granted (0: never).
    pub term: u64,
    /// Holder of `term`; None once released.
    pub holder: Option<String>,
    /// Duration of the grant of `term`, in ms.
    pub duration_ms: u64,
    pub breadcrumb: Option<Breadcrumb>,
}

pub fn breadcrumb_to_proto(b: &Breadcrumb) -> LeaseBreadcrumbProto {
    LeaseBreadcrumbProto {
        term: b.term,
        holder: b.holder.clone(),
        data: b.data.clone().into(),
    }
}

pub fn breadcrumb_from_proto(p: &LeaseBreadcrumbProto) -> Breadcrumb {
    Breadcrumb {
        term: p.term,
        holder: p.holder.clone(),
        data: p.data.to_vec(),
    }
}

pub fn encode_lease(s: &PersistedLease) -> Vec<u8> {
    let body = PersistedLeaseStateProto {
        term: s.term,
        holder: s.holder.clone(),
        duration_ms: s.duration_ms,
        breadcrumb: s.breadcrumb.as_ref().map(breadcrumb_to_proto),
    }
    .encode_to_vec();
    FORMAT.frame(&body)
}

/// Decodes a lease state file; `Err` names what is wrong.
pub fn decode_lease(bytes: &[u8]) -> Result<PersistedLease, String> {
    let body = FORMAT.unframe(bytes)?;
    let p = PersistedLeaseStateProto::decode(body)
        .map_err(|e| format!("undecodable lease state: {e}"))?;
    Ok(PersistedLease {
        term: p.term,
        holder: p.holder,
        duration_ms: p.duration_ms,
        breadcrumb: p.breadcrumb.as_ref().map(breadcrumb_from_proto),
    })
}

/// Durable storage of one lease. Synchronous (the JournalNode calls it on the blocking
/// pool, the model checker in memory).
pub trait LeaseStorage {
    fn describe(&self) -> String;
    /// The stored state; the default when never written.
    fn load(&self) -> Result<PersistedLease, QjError>;
    /// Replaces the stored state durably (returns only once it survives a crash).
    fn save(&mut self, s: &PersistedLease) -> Result<(), QjError>;
}

/// `<edits dir>/<jid>/lease_state`. The caller holds the journal directory's lock (the
/// JournalNode opens the journal first).
#[derive(Debug)]
pub struct FileLeaseStorage {
    path: PathBuf,
}

impl FileLeaseStorage {
    pub fn new(journal_dir: &Path) -> FileLeaseStorage {
        FileLeaseStorage {
            path: journal_dir.join(LEASE_FILE),
        }
    }
}

impl LeaseStorage for FileLeaseStorage {
    fn describe(&self) -> String {
        self.path.display().to_string()
    }

    fn load(&self) -> Result<PersistedLease, QjError> {
        match std::fs::read(&self.path) {
            Ok(b) => decode_lease(&b).map_err(|reason| {
                QjError::Storage(EditLogError::Corrupt {
                    file: self.path.clone(),
                    offset: 0,
                    reason,
                })
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(PersistedLease::default()),
            Err(e) => Err(QjError::from(crate::fsutil::annotate(
                e,
                "cannot read",
                &self.path,
            ))),
        }
    }

    fn save(&mut self, s: &PersistedLease) -> Result<(), QjError> {
        write_atomic(&self.path, &encode_lease(s)).map_err(QjError::from)
    }
}

/// In memory: `fail_saves` makes every save fail (to test that nothing is granted
/// without a durable record).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct MemLeaseStorage {
    pub stored: PersistedLease,
    pub fail_saves: bool,
}

impl LeaseStorage for MemLeaseStorage {
    fn describe(&self) -> String {
        "memory".into()
    }

    fn load(&self) -> Result<PersistedLease, QjError> {
        Ok(self.stored.clone())
    }

    fn save(&mut self, s: &PersistedLease) -> Result<(), QjError> {
        if self.fail_saves {
            return Err(QjError::from(std::io::Error::other(
                "injected save failure",
            )));
        }
        self.stored = s.clone();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> PersistedLease {
        PersistedLease {
            term: 7,
            holder: Some("nn1@42".into()),
            duration_ms: 3000,
            breadcrumb: Some(Breadcrumb {
                term: 6,
                holder: "nn2@1".into(),
                data: b"info".to_vec(),
            }),
        }
    }

    #[test]
    fn round_trip_and_every_bit_flip_detected() {
        let b = encode_lease(&sample());
        assert_eq!(decode_lease(&b).unwrap(), sample());
        for i in 0..b.len() * 8 {
            let mut c = b.clone();
            c[i / 8] ^= 1 << (i % 8);
            assert!(decode_lease(&c).is_err(), "bit {i} flip not detected");
        }
        assert!(decode_lease(&b[..b.len() - 1]).is_err());
    }

    #[test]
    fn file_storage_missing_is_default_and_saves_survive_reopen() {
        let t = crate::test_util::TempDir::new("lease-file");
        let mut s = FileLeaseStorage::new(t.path());
        assert_eq!(s.load().unwrap(), PersistedLease::default());
        s.save(&sample()).unwrap();
        assert_eq!(FileLeaseStorage::new(t.path()).load().unwrap(), sample());
        std::fs::write(t.path().join(LEASE_FILE), b"garbage-garbage-garbage").unwrap();
        let e = FileLeaseStorage::new(t.path())
            .load()
            .unwrap_err()
            .to_string();
        assert!(e.contains(LEASE_FILE), "{e}");
    }
}
