//! The ClientProtocol methods hafs deliberately does not offer. Each answers one Java
//! exception with one clear line — the class HDFS itself throws when the feature is
//! off where there is one, else `java.lang.UnsupportedOperationException` — instead of
//! `RpcNoSuchMethodException`, which Java clients print with a stack trace.
//!
//! `hadoop_client_protocol_methods.txt` lists every method of Hadoop 3.5.0's
//! ClientProtocol; a unit test fails when one has neither a handler nor a row here,
//! and keeps the table in docs/compatibility.md in step with the code.

use hafs_ipc::{MethodTable, Refusal};

use super::ClientProtocolService;

const SATISFY_STORAGE_POLICY: Refusal = Refusal::Unsupported(
    "satisfyStoragePolicy (the storage policy satisfier, Hadoop's SPS) is not supported by \
     hafs: new blocks follow the policy, existing replicas are not moved",
);
const ERASURE_CODING: Refusal = Refusal::Unsupported(
    "Erasure coding is not supported by hafs: every file is replicated and no erasure \
     coding policy can be enabled",
);
const CACHING: Refusal =
    Refusal::Unsupported("Centralized cache management is not supported by hafs");
const SYMLINKS: Refusal = Refusal::Unsupported("Symlinks are not supported by hafs");
const INOTIFY: Refusal = Refusal::Unsupported("The inotify edit stream is not supported by hafs");
const UPGRADES: Refusal =
    Refusal::Unsupported("Rolling upgrades and upgrade finalization are not supported by hafs");

impl ClientProtocolService {
    /// The refused rows of the table.
    pub(super) fn refusals(table: MethodTable<Self>) -> MethodTable<Self> {
        table
            // Moving replicas to match a policy (Hadoop's SPS and Mover).
            .refused("satisfyStoragePolicy", SATISFY_STORAGE_POLICY)
            // Encryption zones (listing them answers none): HDFS's own words when no
            // key provider is configured.
            .refused(
                "createEncryptionZone",
                Refusal::Exception {
                    class_name: hafs_ipc::exceptions::IO,
                    message: "Can't create an encryption zone since no key provider is \
                              available (hafs does not support encryption zones)",
                },
            )
            .refused(
                "reencryptEncryptionZone",
                Refusal::Exception {
                    class_name: hafs_ipc::exceptions::IO,
                    message: "No key provider configured, re-encryption operation is rejected",
                },
            )
            // Erasure coding (the policies are listed, all disabled).
            .refused("setErasureCodingPolicy", ERASURE_CODING)
            .refused("unsetErasureCodingPolicy", ERASURE_CODING)
            .refused("addErasureCodingPolicies", ERASURE_CODING)
            .refused("removeErasureCodingPolicy", ERASURE_CODING)
            .refused("enableErasureCodingPolicy", ERASURE_CODING)
            .refused("disableErasureCodingPolicy", ERASURE_CODING)
            .refused("getECTopologyResultForPolicies", ERASURE_CODING)
            // Centralized cache management.
            .refused("addCacheDirective", CACHING)
            .refused("modifyCacheDirective", CACHING)
            .refused("removeCacheDirective", CACHING)
            .refused("listCacheDirectives", CACHING)
            .refused("addCachePool", CACHING)
            .refused("modifyCachePool", CACHING)
            .refused("removeCachePool", CACHING)
            .refused("listCachePools", CACHING)
            // Symlinks (Hadoop's FileSystem disables them by default too).
            .refused("createSymlink", SYMLINKS)
            .refused("getLinkTarget", SYMLINKS)
            // inotify.
            .refused("getCurrentEditLogTxid", INOTIFY)
            .refused("getEditsFromTxid", INOTIFY)
            // Upgrades.
            .refused("finalizeUpgrade", UPGRADES)
            .refused("upgradeStatus", UPGRADES)
            // Other administration and client calls.
            .refused(
                "getDataEncryptionKey",
                Refusal::Unsupported(
                    "Data encryption keys (the old data transfer encryption) are not \
                     supported by hafs; use SASL data transfer protection \
                     (dfs.data.transfer.protection=privacy)",
                ),
            )
            .refused(
                "getBatchedListing",
                Refusal::Unsupported("Batched listing is not supported yet by hafs"),
            )
            .refused(
                "restoreFailedStorage",
                Refusal::Unsupported("restoreFailedStorage is not supported by hafs"),
            )
            .refused(
                "metaSave",
                Refusal::Unsupported("metaSave is not supported by hafs"),
            )
            .refused(
                "listCorruptFileBlocks",
                Refusal::Unsupported(
                    "listCorruptFileBlocks is not supported yet by hafs; use hafs fsck",
                ),
            )
    }
}
