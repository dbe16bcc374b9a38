//! The answers an HDFS without a feature gives, for the features hafs does not have:
//! no encryption zones, erasure coding with every policy disabled (every file
//! replicated), no snapshottable directory. And small calls answered from what hafs
//! has: listOpenFiles, getPreferredBlockSize, getEnclosingRoot, checkAccess.
//!
//! The methods hafs refuses outright are the `refused` rows of the table
//! (`super::refusals`).

use hafs_ipc::{CallContext, RpcError};
use hafs_proto::hdfs::{self as pb, ErasureCodingPolicyState, OpenFilesTypeProto};

use super::ClientProtocolService;
use crate::namespace::{Access, FileKind};
use crate::namesystem::ns_err;

/// The rows of this file and what they answer, for the method table in
/// docs/compatibility.md.
#[cfg(test)]
pub(super) const ANSWERS: [(&str, &str); 10] = [
    ("listEncryptionZones", "no encryption zones: an empty list"),
    (
        "listReencryptionStatus",
        "no encryption zones: an empty list",
    ),
    ("getEZForPath", "no encryption zone for any path"),
    (
        "getErasureCodingPolicies",
        "Hadoop's five system policies, every one DISABLED",
    ),
    ("getErasureCodingCodecs", "no codecs: an empty list"),
    ("getErasureCodingPolicy", "none: every file is replicated"),
    ("listOpenFiles", "the files under construction"),
    ("getPreferredBlockSize", "the file's block size"),
    ("getEnclosingRoot", "`/` (there are no encryption zones)"),
    ("checkAccess", "the permission check of the path"),
];

/// Hadoop's default of dfs.namenode.list.openfiles.num.responses: entries per
/// listOpenFiles batch.
const OPEN_FILES_BATCH: usize = 1000;

/// Hadoop's system erasure coding policies (SystemErasureCodingPolicies): id, codec,
/// data units, parity units. Every cell is 1 MiB.
const SYSTEM_EC_POLICIES: [(u32, &str, u32, u32); 5] = [
    (1, "rs", 6, 3),
    (2, "rs", 3, 2),
    (3, "rs-legacy", 6, 3),
    (4, "xor", 2, 1),
    (5, "rs", 10, 4),
];
const EC_CELL_SIZE: u32 = 1024 * 1024;

/// The system policies as a NameNode with none enabled lists them: named as Hadoop
/// names them (`RS-6-3-1024k`), state DISABLED.
pub(super) fn disabled_ec_policies() -> Vec<pb::ErasureCodingPolicyProto> {
    SYSTEM_EC_POLICIES
        .iter()
        .map(|&(id, codec, data, parity)| pb::ErasureCodingPolicyProto {
            name: Some(format!(
                "{}-{data}-{parity}-{}k",
                codec.to_uppercase(),
                EC_CELL_SIZE / 1024
            )),
            schema: Some(pb::EcSchemaProto {
                codec_name: codec.to_string(),
                data_units: data,
                parity_units: parity,
                options: Vec::new(),
            }),
            cell_size: Some(EC_CELL_SIZE),
            id,
            state: Some(ErasureCodingPolicyState::Disabled as i32),
        })
        .collect()
}

/// Hadoop's isParentEntry: `path` is `parent` or below it.
fn is_within(path: &str, parent: &str) -> bool {
    path.starts_with(parent)
        && (parent.ends_with('/')
            || path.len() == parent.len()
            || path.as_bytes()[parent.len()] == b'/')
}

impl ClientProtocolService {
    /// listEncryptionZones (superuser only, as in HDFS): there are none.
    pub(super) async fn list_encryption_zones(
        &self,
        ctx: &CallContext,
        _r: pb::ListEncryptionZonesRequestProto,
    ) -> Result<pb::ListEncryptionZonesResponseProto, RpcError> {
        self.fsn
            .check_superuser(&self.caller(ctx), "list encryption zones")?;
        Ok(pb::ListEncryptionZonesResponseProto { has_more: false })
    }

    /// listReencryptionStatus (superuser only): no zone, so no re-encryption.
    pub(super) async fn list_reencryption_status(
        &self,
        ctx: &CallContext,
        _r: pb::ListReencryptionStatusRequestProto,
    ) -> Result<pb::ListReencryptionStatusResponseProto, RpcError> {
        self.fsn
            .check_superuser(&self.caller(ctx), "list re-encryption status")?;
        Ok(pb::ListReencryptionStatusResponseProto { has_more: false })
    }

    /// getEZForPath: no path is in an encryption zone (the path is still resolved, so
    /// traversal permissions apply).
    pub(super) async fn get_ez_for_path(
        &self,
        ctx: &CallContext,
        r: pb::GetEzForPathRequestProto,
    ) -> Result<pb::GetEzForPathResponseProto, RpcError> {
        self.fsn
            .read()
            .get_file_info(&self.caller(ctx), &r.src)
            .map_err(ns_err)?;
        Ok(pb::GetEzForPathResponseProto {})
    }

    /// getErasureCodingPolicies: Hadoop's system policies, every one DISABLED.
    pub(super) async fn get_erasure_coding_policies(
        &self,
        _ctx: &CallContext,
        _r: pb::GetErasureCodingPoliciesRequestProto,
    ) -> Result<pb::GetErasureCodingPoliciesResponseProto, RpcError> {
        Ok(pb::GetErasureCodingPoliciesResponseProto {
            ec_policies: disabled_ec_policies(),
        })
    }

    /// getErasureCodingCodecs: hafs has no erasure codecs.
    pub(super) async fn get_erasure_coding_codecs(
        &self,
        _ctx: &CallContext,
        _r: pb::GetErasureCodingCodecsRequestProto,
    ) -> Result<pb::GetErasureCodingCodecsResponseProto, RpcError> {
        Ok(pb::GetErasureCodingCodecsResponseProto {})
    }

    /// getErasureCodingPolicy: no policy (the path is replicated); a missing path is a
    /// FileNotFoundException as in HDFS.
    pub(super) async fn get_erasure_coding_policy(
        &self,
        ctx: &CallContext,
        r: pb::GetErasureCodingPolicyRequestProto,
    ) -> Result<pb::GetErasureCodingPolicyResponseProto, RpcError> {
        let st = self
            .fsn
            .read()
            .get_file_info(&self.caller(ctx), &r.src)
            .map_err(ns_err)?;
        if st.is_none() {
            return Err(RpcError::file_not_found(format!(
                "Path not found: {}",
                r.src
            )));
        }
        Ok(pb::GetErasureCodingPolicyResponseProto {})
    }

    /// listOpenFiles (superuser only; `hdfs dfsadmin -listOpenFiles`): the files under
    /// construction below the request's path, by inode id after the previous batch's
    /// last. BLOCKING_DECOMMISSION alone lists the open files that hold a DataNode being
    /// decommissioned back (a block still being written that too few other nodes have).
    pub(super) async fn list_open_files(
        &self,
        ctx: &CallContext,
        r: pb::ListOpenFilesRequestProto,
    ) -> Result<pb::ListOpenFilesResponseProto, RpcError> {
        self.fsn
            .check_superuser(&self.caller(ctx), "list open files")?;
        let all =
            r.types.is_empty() || r.types.contains(&(OpenFilesTypeProto::AllOpenFiles as i32));
        let blocking = !all
            && r.types
                .contains(&(OpenFilesTypeProto::BlockingDecommission as i32));
        let mut open: Vec<pb::OpenFilesBatchResponseProto> = Vec::new();
        if all || blocking {
            let prefix = r.path.as_deref().filter(|p| !p.is_empty()).unwrap_or("/");
            let ns = self.fsn.read();
            let mut ids: Vec<(u64, String, String)> = ns
                .files_under_construction()
                .filter(|(id, _)| *id as i64 > r.id)
                .map(|(id, uc)| (id, uc.client_name.clone(), uc.client_machine.clone()))
                .collect();
            ids.sort_unstable_by_key(|(id, ..)| *id);
            for (id, client_name, client_machine) in ids {
                if blocking {
                    let blocks: Vec<u64> = ns
                        .file_blocks(id)
                        .map(|(b, _, _)| b.iter().map(|b| b.block_id).collect())
                        .unwrap_or_default();
                    if !self.fsn.bm.blocks_decommissioning(&blocks) {
                        continue;
                    }
                }
                let Some(path) = ns.path_of(id) else { continue };
                if is_within(&path, prefix) {
                    open.push(pb::OpenFilesBatchResponseProto {
                        id: id as i64,
                        path,
                        client_name,
                        client_machine,
                    });
                }
            }
        }
        let has_more = open.len() > OPEN_FILES_BATCH;
        open.truncate(OPEN_FILES_BATCH);
        Ok(pb::ListOpenFilesResponseProto {
            entries: open,
            has_more,
            types: r.types,
        })
    }

    /// getPreferredBlockSize: the file's block size.
    pub(super) async fn get_preferred_block_size(
        &self,
        ctx: &CallContext,
        r: pb::GetPreferredBlockSizeRequestProto,
    ) -> Result<pb::GetPreferredBlockSizeResponseProto, RpcError> {
        let st = self
            .fsn
            .read()
            .get_file_info(&self.caller(ctx), &r.filename)
            .map_err(ns_err)?
            .ok_or_else(|| {
                RpcError::file_not_found(format!("File does not exist: {}", r.filename))
            })?;
        if st.kind != FileKind::File {
            return Err(RpcError::file_not_found(format!(
                "Path is not a file: {}",
                r.filename
            )));
        }
        Ok(pb::GetPreferredBlockSizeResponseProto {
            bsize: st.block_size,
        })
    }

    /// checkAccess (FileSystem.access): FsAction `mode` on the path, or the
    /// AccessControlException a real access would get.
    pub(super) async fn check_access(
        &self,
        ctx: &CallContext,
        r: pb::CheckAccessRequestProto,
    ) -> Result<pb::CheckAccessResponseProto, RpcError> {
        let mode = u8::try_from(r.mode)
            .ok()
            .filter(|m| *m <= 7)
            .ok_or_else(|| RpcError::illegal_argument(format!("invalid FsAction {}", r.mode)))?;
        self.fsn
            .read()
            .check_path_access(&self.caller(ctx), &r.path, Access(mode))
            .map_err(ns_err)?;
        Ok(pb::CheckAccessResponseProto {})
    }

    /// getEnclosingRoot: without encryption zones every path's root is `/`.
    pub(super) async fn get_enclosing_root(
        &self,
        _ctx: &CallContext,
        _r: pb::GetEnclosingRootRequestProto,
    ) -> Result<pb::GetEnclosingRootResponseProto, RpcError> {
        Ok(pb::GetEnclosingRootResponseProto {
            enclosing_root_path: Some("/".to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_policies_are_named_as_hadoop_names_them_and_disabled() {
        let p = disabled_ec_policies();
        let names: Vec<&str> = p.iter().map(|p| p.name.as_deref().unwrap()).collect();
        assert_eq!(
            names,
            [
                "RS-6-3-1024k",
                "RS-3-2-1024k",
                "RS-LEGACY-6-3-1024k",
                "XOR-2-1-1024k",
                "RS-10-4-1024k"
            ]
        );
        assert!(p
            .iter()
            .all(|p| p.state == Some(ErasureCodingPolicyState::Disabled as i32)));
        assert_eq!(p.iter().map(|p| p.id).collect::<Vec<_>>(), [1, 2, 3, 4, 5]);
    }

    #[test]
    fn open_file_paths_filter_like_hadoop() {
        assert!(is_within("/a/b", "/a"));
        assert!(is_within("/a", "/a"));
        assert!(is_within("/a/b", "/"));
        assert!(!is_within("/ab", "/a"));
        assert!(!is_within("/b", "/a"));
    }
}
