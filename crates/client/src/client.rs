//! [`DfsClient`]: typed ClientProtocol calls to the active NameNode.

use std::sync::{Arc, Weak};

use hafs_proto::common::TokenProto;
use hafs_proto::hdfs::*;
use tracing::{debug, warn};

use crate::lease::{LeaseTable, RENEW_INTERVAL};
use crate::paths;
use crate::settings::ClientSettings;
use crate::transport::NamenodeTransport;
use crate::ClientError;

/// The Java interface name sent in every request header.
pub const CLIENT_PROTOCOL: &str = "org.apache.hadoop.hdfs.protocol.ClientProtocol";
/// ClientProtocol's version (`ProtocolInfo.protocolVersion`).
pub const CLIENT_PROTOCOL_VERSION: u64 = 1;

/// `setQuota` value that leaves a quota unchanged (Java's Long.MAX_VALUE).
pub const QUOTA_DONT_SET: u64 = i64::MAX as u64;
/// `setQuota` value that removes a quota (Java's -1).
pub const QUOTA_RESET: u64 = u64::MAX;

/// How to create a file.
#[derive(Debug, Clone)]
pub struct CreateOptions {
    /// Permission before the umask is applied.
    pub permission: u16,
    pub overwrite: bool,
    pub create_parent: bool,
    /// `None`: `dfs.replication`.
    pub replication: Option<u16>,
    /// `None`: `dfs.blocksize`.
    pub block_size: Option<u64>,
}

impl Default for CreateOptions {
    fn default() -> Self {
        CreateOptions {
            permission: 0o666,
            overwrite: false,
            create_parent: true,
            replication: None,
            block_size: None,
        }
    }
}

/// A client of one HDFS file system. Cheap to clone; clones share the connection,
/// client name and leases.
pub struct DfsClient<T: NamenodeTransport = hafs_ipc::FailoverProxy> {
    inner: Arc<Inner<T>>,
}

impl<T: NamenodeTransport> Clone for DfsClient<T> {
    fn clone(&self) -> Self {
        DfsClient {
            inner: self.inner.clone(),
        }
    }
}

struct Inner<T> {
    rpc: T,
    settings: ClientSettings,
    user: String,
    client_name: String,
    leases: LeaseTable,
}

fn missing(method: &'static str, field: &str) -> ClientError {
    ClientError::BadResponse {
        method,
        msg: format!("required field {field} is missing"),
    }
}

impl<T: NamenodeTransport> DfsClient<T> {
    /// A client over any transport (tests use a fake NameNode).
    pub fn with_transport(
        rpc: T,
        settings: ClientSettings,
        user: String,
        client_name: String,
    ) -> Self {
        DfsClient {
            inner: Arc::new(Inner {
                rpc,
                settings,
                user,
                client_name,
                leases: LeaseTable::default(),
            }),
        }
    }

    pub fn user(&self) -> &str {
        &self.inner.user
    }

    /// The lease holder name, `DFSClient_NONMAPREDUCE_<random>_<n>`.
    pub fn client_name(&self) -> &str {
        &self.inner.client_name
    }

    pub fn settings(&self) -> &ClientSettings {
        &self.inner.settings
    }

    /// `hdfs://<authority>`.
    pub fn fs_uri(&self) -> String {
        self.inner.settings.fs_uri()
    }

    /// The user's home directory, `/user/<name>`: where relative paths start.
    pub fn home_dir(&self) -> String {
        format!("/user/{}", self.inner.user)
    }

    /// The absolute path the NameNode understands for what a user typed (relative
    /// path, absolute path, or `hdfs://authority/path`).
    pub fn resolve(&self, path: &str) -> Result<String, ClientError> {
        paths::resolve(path, &self.inner.settings.authority, &self.home_dir())
    }

    async fn call<Req, Resp>(&self, method: &'static str, req: &Req) -> Result<Resp, ClientError>
    where
        Req: prost::Message + Sync,
        Resp: prost::Message + Default + Send,
    {
        debug!(method, "ClientProtocol call");
        self.inner.rpc.call(method, req).await
    }

    fn masked(&self, perm: u16) -> FsPermissionProto {
        FsPermissionProto {
            perm: u32::from(perm & !self.inner.settings.umask & 0o7777),
        }
    }

    // ------------------------------------------------------------ reads

    pub async fn get_server_defaults(&self) -> Result<FsServerDefaultsProto, ClientError> {
        let r: GetServerDefaultsResponseProto = self
            .call("getServerDefaults", &GetServerDefaultsRequestProto {})
            .await?;
        Ok(r.server_defaults)
    }

    /// The status of `path`, or `None` if it does not exist. Symlinks are followed.
    pub async fn get_file_info(
        &self,
        path: &str,
    ) -> Result<Option<HdfsFileStatusProto>, ClientError> {
        let src = self.resolve(path)?;
        let r: GetFileInfoResponseProto = self
            .call("getFileInfo", &GetFileInfoRequestProto { src })
            .await?;
        Ok(r.fs)
    }

    /// Like [`get_file_info`](Self::get_file_info) but describes a symlink itself.
    pub async fn get_file_link_info(
        &self,
        path: &str,
    ) -> Result<Option<HdfsFileStatusProto>, ClientError> {
        let src = self.resolve(path)?;
        let r: GetFileLinkInfoResponseProto = self
            .call("getFileLinkInfo", &GetFileLinkInfoRequestProto { src })
            .await?;
        Ok(r.fs)
    }

    /// One page of a directory listing; `None` if the directory does not exist.
    pub async fn get_listing(
        &self,
        path: &str,
        start_after: &[u8],
        need_location: bool,
    ) -> Result<Option<DirectoryListingProto>, ClientError> {
        let src = self.resolve(path)?;
        let r: GetListingResponseProto = self
            .call(
                "getListing",
                &GetListingRequestProto {
                    src,
                    start_after: bytes::Bytes::copy_from_slice(start_after),
                    need_location,
                },
            )
            .await?;
        Ok(r.dir_list)
    }

    /// Every entry of a directory (all pages), in the NameNode's (name) order. For a
    /// file, the NameNode answers with the file itself. A missing path is
    /// `java.io.FileNotFoundException`, as in Hadoop's client.
    pub async fn list_status(&self, path: &str) -> Result<Vec<HdfsFileStatusProto>, ClientError> {
        let mut out = Vec::new();
        let mut start_after: Vec<u8> = Vec::new();
        loop {
            let page = self
                .get_listing(path, &start_after, false)
                .await?
                .ok_or_else(|| {
                    ClientError::remote(
                        hafs_ipc::exceptions::FILE_NOT_FOUND,
                        format!("File {path} does not exist."),
                    )
                })?;
            let n = page.partial_listing.len();
            if let Some(last) = page.partial_listing.last() {
                start_after = last.path.to_vec();
            }
            out.extend(page.partial_listing);
            // An empty page with entries "remaining" would loop forever; stop instead.
            if page.remaining_entries == 0 || n == 0 {
                return Ok(out);
            }
        }
    }

    pub async fn get_content_summary(
        &self,
        path: &str,
    ) -> Result<ContentSummaryProto, ClientError> {
        let path = self.resolve(path)?;
        let r: GetContentSummaryResponseProto = self
            .call("getContentSummary", &GetContentSummaryRequestProto { path })
            .await?;
        Ok(r.summary)
    }

    pub async fn get_block_locations(
        &self,
        path: &str,
        offset: u64,
        length: u64,
    ) -> Result<Option<LocatedBlocksProto>, ClientError> {
        let src = self.resolve(path)?;
        let r: GetBlockLocationsResponseProto = self
            .call(
                "getBlockLocations",
                &GetBlockLocationsRequestProto {
                    src,
                    offset,
                    length,
                },
            )
            .await?;
        Ok(r.locations)
    }

    pub async fn get_fs_stats(&self) -> Result<GetFsStatsResponseProto, ClientError> {
        self.call("getFsStats", &GetFsStatusRequestProto {}).await
    }

    pub async fn get_storage_policy(
        &self,
        path: &str,
    ) -> Result<BlockStoragePolicyProto, ClientError> {
        let path = self.resolve(path)?;
        let r: GetStoragePolicyResponseProto = self
            .call("getStoragePolicy", &GetStoragePolicyRequestProto { path })
            .await?;
        Ok(r.storage_policy)
    }

    pub async fn get_storage_policies(&self) -> Result<Vec<BlockStoragePolicyProto>, ClientError> {
        let r: GetStoragePoliciesResponseProto = self
            .call("getStoragePolicies", &GetStoragePoliciesRequestProto {})
            .await?;
        Ok(r.policies)
    }

    // ------------------------------------------------------------ namespace changes

    /// Creates a directory with `permission` (before the umask).
    pub async fn mkdirs(
        &self,
        path: &str,
        permission: u16,
        create_parent: bool,
    ) -> Result<bool, ClientError> {
        let src = self.resolve(path)?;
        let r: MkdirsResponseProto = self
            .call(
                "mkdirs",
                &MkdirsRequestProto {
                    src,
                    masked: self.masked(permission),
                    create_parent,
                    unmasked: Some(FsPermissionProto {
                        perm: u32::from(permission),
                    }),
                },
            )
            .await?;
        Ok(r.result)
    }

    pub async fn delete(&self, path: &str, recursive: bool) -> Result<bool, ClientError> {
        let src = self.resolve(path)?;
        let r: DeleteResponseProto = self
            .call("delete", &DeleteRequestProto { src, recursive })
            .await?;
        Ok(r.result)
    }

    /// Old-style rename: `false` on most failures; into an existing directory moves
    /// `src` inside it.
    pub async fn rename(&self, src: &str, dst: &str) -> Result<bool, ClientError> {
        let (src, dst) = (self.resolve(src)?, self.resolve(dst)?);
        let r: RenameResponseProto = self
            .call("rename", &RenameRequestProto { src, dst })
            .await?;
        Ok(r.result)
    }

    /// New-style rename: failures are errors; `overwrite` replaces an existing
    /// destination file or empty directory.
    pub async fn rename2(&self, src: &str, dst: &str, overwrite: bool) -> Result<(), ClientError> {
        let (src, dst) = (self.resolve(src)?, self.resolve(dst)?);
        let _: Rename2ResponseProto = self
            .call(
                "rename2",
                &Rename2RequestProto {
                    src,
                    dst,
                    overwrite_dest: overwrite,
                    move_to_trash: None,
                },
            )
            .await?;
        Ok(())
    }

    /// getDelegationToken for `renewer` (a short user name; empty: nobody may renew).
    /// `None` when the NameNode issues none (security off). The token's service is
    /// left to the caller, as Hadoop's DFSClient sets it from the file system URI.
    pub async fn get_delegation_token(
        &self,
        renewer: &str,
    ) -> Result<Option<TokenProto>, ClientError> {
        let r: hafs_proto::common::GetDelegationTokenResponseProto = self
            .call(
                "getDelegationToken",
                &hafs_proto::common::GetDelegationTokenRequestProto {
                    renewer: renewer.to_string(),
                },
            )
            .await?;
        Ok(r.token)
    }

    /// renewDelegationToken: the token's new expiry time (ms since the epoch).
    pub async fn renew_delegation_token(&self, token: &TokenProto) -> Result<u64, ClientError> {
        let r: hafs_proto::common::RenewDelegationTokenResponseProto = self
            .call(
                "renewDelegationToken",
                &hafs_proto::common::RenewDelegationTokenRequestProto {
                    token: token.clone(),
                },
            )
            .await?;
        Ok(r.new_expiry_time)
    }

    pub async fn cancel_delegation_token(&self, token: &TokenProto) -> Result<(), ClientError> {
        let _: hafs_proto::common::CancelDelegationTokenResponseProto = self
            .call(
                "cancelDelegationToken",
                &hafs_proto::common::CancelDelegationTokenRequestProto {
                    token: token.clone(),
                },
            )
            .await?;
        Ok(())
    }

    /// concat: appends the blocks of `srcs`, in order, to `target` and removes the
    /// srcs (all files in one directory; see Hadoop's DistributedFileSystem.concat).
    pub async fn concat(&self, target: &str, srcs: &[&str]) -> Result<(), ClientError> {
        let trg = self.resolve(target)?;
        let srcs = srcs
            .iter()
            .map(|s| self.resolve(s))
            .collect::<Result<Vec<_>, _>>()?;
        let _: ConcatResponseProto = self
            .call("concat", &ConcatRequestProto { trg, srcs })
            .await?;
        Ok(())
    }

    pub async fn set_permission(&self, path: &str, permission: u16) -> Result<(), ClientError> {
        let src = self.resolve(path)?;
        let _: SetPermissionResponseProto = self
            .call(
                "setPermission",
                &SetPermissionRequestProto {
                    src,
                    permission: FsPermissionProto {
                        perm: u32::from(permission & 0o7777),
                    },
                },
            )
            .await?;
        Ok(())
    }

    /// Sets the owner and/or group; `None` leaves that one unchanged.
    pub async fn set_owner(
        &self,
        path: &str,
        owner: Option<&str>,
        group: Option<&str>,
    ) -> Result<(), ClientError> {
        let src = self.resolve(path)?;
        let _: SetOwnerResponseProto = self
            .call(
                "setOwner",
                &SetOwnerRequestProto {
                    src,
                    username: owner.map(str::to_string),
                    groupname: group.map(str::to_string),
                },
            )
            .await?;
        Ok(())
    }

    /// Milliseconds since the epoch; -1 leaves a time unchanged.
    pub async fn set_times(&self, path: &str, mtime: i64, atime: i64) -> Result<(), ClientError> {
        let src = self.resolve(path)?;
        let _: SetTimesResponseProto = self
            .call(
                "setTimes",
                &SetTimesRequestProto {
                    src,
                    mtime: mtime as u64,
                    atime: atime as u64,
                },
            )
            .await?;
        Ok(())
    }

    /// getAclStatus: the extended ACL entries of `path` (owner, group and other come
    /// from the permission bits).
    pub async fn get_acl_status(&self, path: &str) -> Result<AclStatusProto, ClientError> {
        let src = self.resolve(path)?;
        let r: GetAclStatusResponseProto = self
            .call("getAclStatus", &GetAclStatusRequestProto { src })
            .await?;
        Ok(r.result)
    }

    /// One of the ACL changes: `method` is `setAcl`, `modifyAclEntries` or
    /// `removeAclEntries` (with `spec`), or `removeAcl` / `removeDefaultAcl` (without).
    pub async fn change_acl(
        &self,
        method: &'static str,
        path: &str,
        spec: Vec<AclEntryProto>,
    ) -> Result<(), ClientError> {
        let src = self.resolve(path)?;
        match method {
            "setAcl" => {
                let _: SetAclResponseProto = self
                    .call(
                        method,
                        &SetAclRequestProto {
                            src,
                            acl_spec: spec,
                        },
                    )
                    .await?;
            }
            "modifyAclEntries" => {
                let _: ModifyAclEntriesResponseProto = self
                    .call(
                        method,
                        &ModifyAclEntriesRequestProto {
                            src,
                            acl_spec: spec,
                        },
                    )
                    .await?;
            }
            "removeAclEntries" => {
                let _: RemoveAclEntriesResponseProto = self
                    .call(
                        method,
                        &RemoveAclEntriesRequestProto {
                            src,
                            acl_spec: spec,
                        },
                    )
                    .await?;
            }
            "removeAcl" => {
                let _: RemoveAclResponseProto =
                    self.call(method, &RemoveAclRequestProto { src }).await?;
            }
            _ => {
                let _: RemoveDefaultAclResponseProto = self
                    .call("removeDefaultAcl", &RemoveDefaultAclRequestProto { src })
                    .await?;
            }
        }
        Ok(())
    }

    /// setStoragePolicy: `policy` is a name of the NameNode's suite (HOT, COLD, ...).
    pub async fn set_storage_policy(&self, path: &str, policy: &str) -> Result<(), ClientError> {
        let src = self.resolve(path)?;
        let _: SetStoragePolicyResponseProto = self
            .call(
                "setStoragePolicy",
                &SetStoragePolicyRequestProto {
                    src,
                    policy_name: policy.to_string(),
                },
            )
            .await?;
        Ok(())
    }

    /// unsetStoragePolicy: the path inherits its parent's policy again.
    pub async fn unset_storage_policy(&self, path: &str) -> Result<(), ClientError> {
        let src = self.resolve(path)?;
        let _: UnsetStoragePolicyResponseProto = self
            .call(
                "unsetStoragePolicy",
                &UnsetStoragePolicyRequestProto { src },
            )
            .await?;
        Ok(())
    }

    pub async fn set_replication(&self, path: &str, replication: u16) -> Result<bool, ClientError> {
        let src = self.resolve(path)?;
        let r: SetReplicationResponseProto = self
            .call(
                "setReplication",
                &SetReplicationRequestProto {
                    src,
                    replication: u32::from(replication),
                },
            )
            .await?;
        Ok(r.result)
    }

    /// Quotas as Hadoop sends them: [`QUOTA_DONT_SET`] or [`QUOTA_RESET`] or a count.
    pub async fn set_quota(
        &self,
        path: &str,
        namespace_quota: u64,
        storagespace_quota: u64,
        storage_type: Option<StorageTypeProto>,
    ) -> Result<(), ClientError> {
        let path = self.resolve(path)?;
        let _: SetQuotaResponseProto = self
            .call(
                "setQuota",
                &SetQuotaRequestProto {
                    path,
                    namespace_quota,
                    storagespace_quota,
                    storage_type: storage_type.map(|t| t as i32),
                },
            )
            .await?;
        Ok(())
    }

    /// allowSnapshot (superuser): the directory becomes snapshottable.
    pub async fn allow_snapshot(&self, path: &str) -> Result<(), ClientError> {
        let snapshot_root = self.resolve(path)?;
        let _: AllowSnapshotResponseProto = self
            .call(
                "allowSnapshot",
                &AllowSnapshotRequestProto { snapshot_root },
            )
            .await?;
        Ok(())
    }

    /// disallowSnapshot (superuser): refused while the directory has snapshots.
    pub async fn disallow_snapshot(&self, path: &str) -> Result<(), ClientError> {
        let snapshot_root = self.resolve(path)?;
        let _: DisallowSnapshotResponseProto = self
            .call(
                "disallowSnapshot",
                &DisallowSnapshotRequestProto { snapshot_root },
            )
            .await?;
        Ok(())
    }

    /// Returns true when the file is already at its new length (no block recovery).
    pub async fn truncate(&self, path: &str, new_length: u64) -> Result<bool, ClientError> {
        let src = self.resolve(path)?;
        let r: TruncateResponseProto = self
            .call(
                "truncate",
                &TruncateRequestProto {
                    src,
                    new_length,
                    client_name: self.inner.client_name.clone(),
                },
            )
            .await?;
        Ok(r.result)
    }

    // ------------------------------------------------------------ writing

    /// Creates a file and takes its lease (kept alive by the renewer until
    /// [`complete`](Self::complete) succeeds or [`forget_lease`](Self::forget_lease)).
    pub async fn create(
        &self,
        path: &str,
        opts: &CreateOptions,
    ) -> Result<HdfsFileStatusProto, ClientError> {
        let src = self.resolve(path)?;
        let mut flags = CreateFlagProto::Create as u32;
        if opts.overwrite {
            flags |= CreateFlagProto::Overwrite as u32;
        }
        let req = CreateRequestProto {
            src: src.clone(),
            masked: self.masked(opts.permission),
            client_name: self.inner.client_name.clone(),
            create_flag: flags,
            create_parent: opts.create_parent,
            replication: u32::from(opts.replication.unwrap_or(self.inner.settings.replication)),
            block_size: opts.block_size.unwrap_or(self.inner.settings.block_size),
            crypto_protocol_version: vec![],
            unmasked: Some(FsPermissionProto {
                perm: u32::from(opts.permission),
            }),
            ec_policy_name: None,
            storage_policy: None,
        };
        let r: CreateResponseProto = self.call("create", &req).await?;
        let status = r.fs.ok_or_else(|| missing("create", "fs"))?;
        self.hold_lease(&src);
        Ok(status)
    }

    /// Opens an existing file for append and takes its lease.
    pub async fn append(
        &self,
        path: &str,
        new_block: bool,
    ) -> Result<AppendResponseProto, ClientError> {
        let src = self.resolve(path)?;
        let mut flag = CreateFlagProto::Append as u32;
        if new_block {
            flag |= CreateFlagProto::NewBlock as u32;
        }
        let r: AppendResponseProto = self
            .call(
                "append",
                &AppendRequestProto {
                    src: src.clone(),
                    client_name: self.inner.client_name.clone(),
                    flag: Some(flag),
                },
            )
            .await?;
        self.hold_lease(&src);
        Ok(r)
    }

    /// Allocates the next block of a file being written; `previous` is the block just
    /// finished (with its final length).
    pub async fn add_block(
        &self,
        path: &str,
        file_id: u64,
        previous: Option<ExtendedBlockProto>,
        exclude: Vec<DatanodeInfoProto>,
        favored: Vec<String>,
    ) -> Result<LocatedBlockProto, ClientError> {
        let src = self.resolve(path)?;
        let r: AddBlockResponseProto = self
            .call(
                "addBlock",
                &AddBlockRequestProto {
                    src,
                    client_name: self.inner.client_name.clone(),
                    previous,
                    exclude_nodes: exclude,
                    file_id: Some(file_id),
                    favored_nodes: favored,
                    flags: vec![],
                },
            )
            .await?;
        Ok(r.block)
    }

    pub async fn abandon_block(
        &self,
        block: ExtendedBlockProto,
        path: &str,
        file_id: u64,
    ) -> Result<(), ClientError> {
        let src = self.resolve(path)?;
        let _: AbandonBlockResponseProto = self
            .call(
                "abandonBlock",
                &AbandonBlockRequestProto {
                    b: block,
                    src,
                    holder: self.inner.client_name.clone(),
                    file_id: Some(file_id),
                },
            )
            .await?;
        Ok(())
    }

    /// Closes a file. `false` means the last block is not yet minimally replicated:
    /// call again. On `true` the client stops renewing the file's lease.
    pub async fn complete(
        &self,
        path: &str,
        file_id: u64,
        last: Option<ExtendedBlockProto>,
    ) -> Result<bool, ClientError> {
        let src = self.resolve(path)?;
        let r: CompleteResponseProto = self
            .call(
                "complete",
                &CompleteRequestProto {
                    src: src.clone(),
                    client_name: self.inner.client_name.clone(),
                    last,
                    file_id: Some(file_id),
                },
            )
            .await?;
        if r.result {
            self.inner.leases.remove(&src);
        }
        Ok(r.result)
    }

    /// Persists the file's metadata (hflush/hsync); `last_block_length` updates the
    /// length the NameNode reports for the block under construction.
    pub async fn fsync(
        &self,
        path: &str,
        file_id: u64,
        last_block_length: Option<i64>,
    ) -> Result<(), ClientError> {
        let src = self.resolve(path)?;
        let _: FsyncResponseProto = self
            .call(
                "fsync",
                &FsyncRequestProto {
                    src,
                    client: self.inner.client_name.clone(),
                    last_block_length,
                    file_id: Some(file_id),
                },
            )
            .await?;
        Ok(())
    }

    pub async fn renew_lease(&self) -> Result<(), ClientError> {
        let _: RenewLeaseResponseProto = self
            .call(
                "renewLease",
                &RenewLeaseRequestProto {
                    client_name: self.inner.client_name.clone(),
                    namespaces: vec![],
                },
            )
            .await?;
        Ok(())
    }

    /// Starts lease recovery of a file another client left open; true when it is closed.
    pub async fn recover_lease(&self, path: &str) -> Result<bool, ClientError> {
        let src = self.resolve(path)?;
        let r: RecoverLeaseResponseProto = self
            .call(
                "recoverLease",
                &RecoverLeaseRequestProto {
                    src,
                    client_name: self.inner.client_name.clone(),
                },
            )
            .await?;
        Ok(r.result)
    }

    /// Stops renewing the lease of a file this client will not complete (an
    /// abandoned write). The NameNode recovers it after the lease expires.
    pub fn forget_lease(&self, path: &str) {
        if let Ok(src) = self.resolve(path) {
            self.inner.leases.remove(&src);
        }
    }

    /// Number of files this client holds leases on.
    pub fn open_files(&self) -> usize {
        self.inner.leases.open_count()
    }

    fn hold_lease(&self, src: &str) {
        if self.inner.leases.add(src) {
            self.spawn_lease_renewer();
        }
    }

    fn spawn_lease_renewer(&self) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            warn!("no tokio runtime: leases of open files will not be renewed");
            self.inner.leases.renewer_stopped();
            return;
        };
        let weak: Weak<Inner<T>> = Arc::downgrade(&self.inner);
        handle.spawn(async move {
            loop {
                tokio::time::sleep(RENEW_INTERVAL).await;
                let Some(inner) = weak.upgrade() else { return };
                if !inner.leases.renewer_should_continue() {
                    return;
                }
                let client = DfsClient { inner };
                if let Err(e) = client.renew_lease().await {
                    warn!(client = %client.client_name(), "renewLease failed: {e}");
                }
            }
        });
    }

    // ------------------------------------------------------------ pipeline recovery

    /// Asks for more DataNodes for a write pipeline that lost some. The request's
    /// `src` may be any path form; the client fills in its own name.
    pub async fn get_additional_datanode(
        &self,
        mut req: GetAdditionalDatanodeRequestProto,
    ) -> Result<LocatedBlockProto, ClientError> {
        req.src = self.resolve(&req.src)?;
        req.client_name = self.inner.client_name.clone();
        let r: GetAdditionalDatanodeResponseProto =
            self.call("getAdditionalDatanode", &req).await?;
        Ok(r.block)
    }

    /// A new generation stamp (and token) for a block whose pipeline is rebuilt.
    pub async fn update_block_for_pipeline(
        &self,
        block: ExtendedBlockProto,
    ) -> Result<LocatedBlockProto, ClientError> {
        let r: UpdateBlockForPipelineResponseProto = self
            .call(
                "updateBlockForPipeline",
                &UpdateBlockForPipelineRequestProto {
                    block,
                    client_name: self.inner.client_name.clone(),
                },
            )
            .await?;
        Ok(r.block)
    }

    pub async fn update_pipeline(
        &self,
        old_block: ExtendedBlockProto,
        new_block: ExtendedBlockProto,
        new_nodes: Vec<DatanodeIdProto>,
        storage_ids: Vec<String>,
    ) -> Result<(), ClientError> {
        let _: UpdatePipelineResponseProto = self
            .call(
                "updatePipeline",
                &UpdatePipelineRequestProto {
                    client_name: self.inner.client_name.clone(),
                    old_block,
                    new_block,
                    new_nodes,
                    storage_i_ds: storage_ids,
                },
            )
            .await?;
        Ok(())
    }

    pub async fn report_bad_blocks(
        &self,
        blocks: Vec<LocatedBlockProto>,
    ) -> Result<(), ClientError> {
        let _: ReportBadBlocksResponseProto = self
            .call("reportBadBlocks", &ReportBadBlocksRequestProto { blocks })
            .await?;
        Ok(())
    }

    // ------------------------------------------------------------ administration

    pub async fn get_datanode_report(
        &self,
        kind: DatanodeReportTypeProto,
    ) -> Result<Vec<DatanodeInfoProto>, ClientError> {
        let r: GetDatanodeReportResponseProto = self
            .call(
                "getDatanodeReport",
                &GetDatanodeReportRequestProto {
                    r#type: kind as i32,
                },
            )
            .await?;
        Ok(r.di)
    }

    /// Enters, leaves or queries safe mode; the answer is whether it is (now) on.
    pub async fn set_safe_mode(
        &self,
        action: SafeModeActionProto,
        checked: bool,
    ) -> Result<bool, ClientError> {
        let r: SetSafeModeResponseProto = self
            .call(
                "setSafeMode",
                &SetSafeModeRequestProto {
                    action: action as i32,
                    checked: Some(checked),
                },
            )
            .await?;
        Ok(r.result)
    }

    /// Saves a checkpoint; returns whether one was written (the NameNode may skip it
    /// when a recent one exists per `time_window` seconds / `tx_gap` transactions).
    pub async fn save_namespace(&self, time_window: u64, tx_gap: u64) -> Result<bool, ClientError> {
        let r: SaveNamespaceResponseProto = self
            .call(
                "saveNamespace",
                &SaveNamespaceRequestProto {
                    time_window: Some(time_window),
                    tx_gap: Some(tx_gap),
                },
            )
            .await?;
        Ok(r.saved.unwrap_or(true))
    }

    /// `dfsadmin -setBalancerBandwidth`: bytes per second for every DataNode's
    /// balancer moves.
    pub async fn set_balancer_bandwidth(&self, bandwidth: i64) -> Result<(), ClientError> {
        let _: SetBalancerBandwidthResponseProto = self
            .call(
                "setBalancerBandwidth",
                &SetBalancerBandwidthRequestProto { bandwidth },
            )
            .await?;
        Ok(())
    }

    /// refreshNodes: the NameNode re-reads its include and exclude host files.
    pub async fn refresh_nodes(&self) -> Result<(), ClientError> {
        let _: RefreshNodesResponseProto = self
            .call("refreshNodes", &RefreshNodesRequestProto {})
            .await?;
        Ok(())
    }

    /// Starts a new edit-log segment; returns its first txid.
    pub async fn roll_edits(&self) -> Result<u64, ClientError> {
        let r: RollEditsResponseProto = self.call("rollEdits", &RollEditsRequestProto {}).await?;
        Ok(r.new_segment_tx_id)
    }

    pub async fn msync(&self) -> Result<(), ClientError> {
        let _: MsyncResponseProto = self.call("msync", &MsyncRequestProto {}).await?;
        Ok(())
    }

    /// The HA state of the NameNode the transport is talking to.
    pub async fn get_ha_service_state(&self) -> Result<NameNodeHaStateProto, ClientError> {
        let r: HaServiceStateResponseProto = self
            .call("getHAServiceState", &HaServiceStateRequestProto {})
            .await?;
        NameNodeHaStateProto::try_from(r.state).map_err(|_| ClientError::BadResponse {
            method: "getHAServiceState",
            msg: format!("unknown HA state {}", r.state),
        })
    }
}

/// An empty block token: hafs runs with simple authentication.
pub fn empty_token() -> TokenProto {
    TokenProto::default()
}
