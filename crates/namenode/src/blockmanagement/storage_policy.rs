//! Block storage policies (Hadoop's BlockStoragePolicy and BlockStoragePolicySuite):
//! which storage types a file's replicas should live on, and what to use instead when
//! a type has no room. The suite is fixed, with Hadoop's ids and names, so that the
//! ids in edit logs and images mean the same policy everywhere.
//!
//! Storage types are StorageTypeProto numbers (DISK 1, SSD 2, ARCHIVE 3, RAM_DISK 4,
//! PROVIDED 5, NVDIMM 6), as DataNodes report them.

use hafs_proto::hdfs as pb;

pub const DISK: i32 = pb::StorageTypeProto::Disk as i32;
pub const SSD: i32 = pb::StorageTypeProto::Ssd as i32;
pub const ARCHIVE: i32 = pb::StorageTypeProto::Archive as i32;
pub const RAM_DISK: i32 = pb::StorageTypeProto::RamDisk as i32;
pub const PROVIDED: i32 = pb::StorageTypeProto::Provided as i32;
pub const NVDIMM: i32 = pb::StorageTypeProto::Nvdimm as i32;

/// HDFS's BLOCK_STORAGE_POLICY_ID_UNSPECIFIED: the inode has no policy of its own.
pub const UNSPECIFIED: u8 = 0;
/// HOT, the suite's default (what an inode without any policy on its path gets).
pub const HOT: u8 = 7;

/// One policy: the types of a block's replicas, in order, and the fallbacks for a new
/// block (creation) and for a copy of an existing one (replication).
#[derive(Debug, PartialEq, Eq)]
pub struct BlockStoragePolicy {
    pub id: u8,
    pub name: &'static str,
    pub storage_types: &'static [i32],
    pub creation_fallbacks: &'static [i32],
    pub replication_fallbacks: &'static [i32],
    /// LAZY_PERSIST: a file takes the policy at creation and keeps it.
    pub copy_on_create_file: bool,
}

const fn policy(
    id: u8,
    name: &'static str,
    storage_types: &'static [i32],
    creation_fallbacks: &'static [i32],
    replication_fallbacks: &'static [i32],
) -> BlockStoragePolicy {
    BlockStoragePolicy {
        id,
        name,
        storage_types,
        creation_fallbacks,
        replication_fallbacks,
        copy_on_create_file: false,
    }
}

/// The suite, by ascending id (the order getStoragePolicies answers).
pub static POLICIES: [BlockStoragePolicy; 8] = [
    policy(
        1,
        "PROVIDED",
        &[PROVIDED, DISK],
        &[PROVIDED, DISK],
        &[PROVIDED, DISK],
    ),
    policy(2, "COLD", &[ARCHIVE], &[], &[]),
    policy(
        5,
        "WARM",
        &[DISK, ARCHIVE],
        &[DISK, ARCHIVE],
        &[DISK, ARCHIVE],
    ),
    policy(HOT, "HOT", &[DISK], &[], &[ARCHIVE]),
    policy(10, "ONE_SSD", &[SSD, DISK], &[SSD, DISK], &[SSD, DISK]),
    policy(12, "ALL_SSD", &[SSD], &[DISK], &[DISK]),
    policy(14, "ALL_NVDIMM", &[NVDIMM], &[DISK], &[DISK]),
    BlockStoragePolicy {
        copy_on_create_file: true,
        ..policy(15, "LAZY_PERSIST", &[RAM_DISK, DISK], &[DISK], &[DISK])
    },
];

/// The policy of an id; UNSPECIFIED (and any unknown id) gives the default, HOT, as
/// Hadoop's BlockStoragePolicySuite.getPolicy does for 0.
pub fn by_id(id: u8) -> &'static BlockStoragePolicy {
    POLICIES
        .iter()
        .find(|p| p.id == id)
        .unwrap_or_else(|| by_id(HOT))
}

/// A policy known by this id (not the default stand-in).
pub fn known_id(id: u8) -> Option<&'static BlockStoragePolicy> {
    POLICIES.iter().find(|p| p.id == id)
}

/// The policy of a name, case-insensitively (as Hadoop's getPolicy(String)).
pub fn by_name(name: &str) -> Option<&'static BlockStoragePolicy> {
    POLICIES.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

/// Hadoop's StorageType.isTransient: only RAM_DISK.
fn transient(t: i32) -> bool {
    t == RAM_DISK
}

/// Hadoop's StorageType names, for logs and messages.
pub fn type_name(t: i32) -> &'static str {
    pb::StorageTypeProto::try_from(t).map_or("UNKNOWN", |t| t.as_str_name())
}

impl BlockStoragePolicy {
    /// The types of `replication` replicas (Hadoop's chooseStorageTypes): the
    /// policy's types in order, transient ones left out, the last repeated.
    pub fn choose_storage_types(&self, replication: usize) -> Vec<i32> {
        let mut out: Vec<i32> = self
            .storage_types
            .iter()
            .copied()
            .filter(|t| !transient(*t))
            .take(replication)
            .collect();
        if let Some(&last) = self.storage_types.last() {
            if !transient(last) {
                out.resize(replication, last);
            }
        }
        out
    }

    /// The types still missing when replicas already sit on `existing` types: each
    /// existing replica takes one wanted entry of its type off the list.
    pub fn types_to_add(&self, replication: usize, existing: &[i32]) -> Vec<i32> {
        let mut wanted = self.choose_storage_types(replication);
        for t in existing {
            if let Some(i) = wanted.iter().position(|w| w == t) {
                wanted.remove(i);
            }
        }
        wanted
    }

    /// What to use instead of the `unavailable` types (Hadoop's getFallback): the
    /// first fallback not itself unavailable.
    pub fn fallback(&self, unavailable: &[i32], new_block: bool) -> Option<i32> {
        let list = if new_block {
            self.creation_fallbacks
        } else {
            self.replication_fallbacks
        };
        list.iter().copied().find(|t| !unavailable.contains(t))
    }

    pub fn to_proto(&self) -> pb::BlockStoragePolicyProto {
        let types = |l: &[i32]| pb::StorageTypesProto {
            storage_types: l.to_vec(),
        };
        pb::BlockStoragePolicyProto {
            policy_id: u32::from(self.id),
            name: self.name.to_string(),
            creation_policy: types(self.storage_types),
            creation_fallback_policy: Some(types(self.creation_fallbacks)),
            replication_fallback_policy: Some(types(self.replication_fallbacks)),
        }
    }
}

/// Hadoop's BlockStoragePolicy.toString, which `storagepolicies` prints:
/// `BlockStoragePolicy{HOT:7, storageTypes=[DISK], creationFallbacks=[],
/// replicationFallbacks=[ARCHIVE]}`.
impl std::fmt::Display for BlockStoragePolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |l: &[i32]| {
            l.iter()
                .map(|t| type_name(*t))
                .collect::<Vec<_>>()
                .join(", ")
        };
        write!(
            f,
            "BlockStoragePolicy{{{}:{}, storageTypes=[{}], creationFallbacks=[{}], \
             replicationFallbacks=[{}]}}",
            self.name,
            self.id,
            list(self.storage_types),
            list(self.creation_fallbacks),
            list(self.replication_fallbacks)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_names_and_default() {
        let ids: Vec<u8> = POLICIES.iter().map(|p| p.id).collect();
        assert_eq!(ids, [1, 2, 5, 7, 10, 12, 14, 15]);
        assert_eq!(by_name("one_ssd").unwrap().id, 10);
        assert!(by_name("SILVER").is_none());
        assert_eq!(by_id(UNSPECIFIED).name, "HOT");
        assert!(known_id(UNSPECIFIED).is_none());
    }

    #[test]
    fn storage_types_per_replica() {
        let one_ssd = by_name("ONE_SSD").unwrap();
        assert_eq!(one_ssd.choose_storage_types(3), [SSD, DISK, DISK]);
        assert_eq!(one_ssd.choose_storage_types(1), [SSD]);
        assert_eq!(
            by_name("WARM").unwrap().choose_storage_types(3),
            [DISK, ARCHIVE, ARCHIVE]
        );
        assert_eq!(
            by_name("COLD").unwrap().choose_storage_types(2),
            [ARCHIVE, ARCHIVE]
        );
        // RAM_DISK is transient: never asked for by type.
        assert_eq!(
            by_name("LAZY_PERSIST").unwrap().choose_storage_types(2),
            [DISK, DISK]
        );
        // A lost SSD replica of a ONE_SSD block is replaced by an SSD one.
        assert_eq!(one_ssd.types_to_add(3, &[DISK, DISK]), [SSD]);
        assert_eq!(one_ssd.types_to_add(3, &[SSD, DISK]), [DISK]);
    }

    #[test]
    fn printed_as_hadoop_prints_it() {
        assert_eq!(
            by_id(HOT).to_string(),
            "BlockStoragePolicy{HOT:7, storageTypes=[DISK], creationFallbacks=[], \
             replicationFallbacks=[ARCHIVE]}"
        );
        assert_eq!(
            by_name("LAZY_PERSIST").unwrap().to_string(),
            "BlockStoragePolicy{LAZY_PERSIST:15, storageTypes=[RAM_DISK, DISK], \
             creationFallbacks=[DISK], replicationFallbacks=[DISK]}"
        );
    }

    #[test]
    fn fallbacks() {
        let all_ssd = by_name("ALL_SSD").unwrap();
        assert_eq!(all_ssd.fallback(&[SSD], true), Some(DISK));
        assert_eq!(all_ssd.fallback(&[SSD, DISK], true), None);
        let hot = by_id(HOT);
        assert_eq!(hot.fallback(&[DISK], true), None);
        assert_eq!(hot.fallback(&[DISK], false), Some(ARCHIVE));
        assert_eq!(by_name("COLD").unwrap().fallback(&[ARCHIVE], true), None);
    }
}
