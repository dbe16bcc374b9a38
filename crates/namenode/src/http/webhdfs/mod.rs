//! WebHDFS on the NameNode (`/webhdfs/v1/<path>?op=...`), Hadoop's REST API
//! (`NamenodeWebHdfsMethods`).
//!
//! Every metadata operation is a ClientProtocol call made through the same
//! [`ClientProtocolService`] the RPC server runs, with a [`CallContext`] for the web
//! caller: the same HA check (a Standby answers `StandbyException`, 403, and clients
//! fail over), the same permission checks, edit logging and retry-cache bookkeeping.
//! Data operations (OPEN, CREATE, APPEND, GETFILECHECKSUM) answer `307` to a DataNode's
//! `/webhdfs/v1` (or `200 {"Location":…}` with `noredirect=true`), which does the work
//! with hafs's client library against `namenoderpcaddress`.
//!
//! Who the caller is: in simple mode `user.name` (else Hadoop's static web user
//! `dr.who`), in secure mode the SPNEGO principal's short name; `doas` then acts for
//! another user under the `hadoop.proxyuser.*` rules, as an RPC proxy user does.

mod json;
mod redirect;

use std::sync::Arc;

use bytes::Bytes;
use hafs_http::response::{self, Response};
use hafs_http::webhdfs::{class, ok_json, Params, WebHdfsError, STATIC_WEB_USER};
use hafs_http::{Method, Request};
use hafs_ipc::auth::AuthMethod;
use hafs_ipc::{CallContext, RpcError, RpcService};
use hafs_proto::hdfs as pb;
use prost::Message;
use serde_json::json;
use tracing::debug;

use crate::client_protocol::ClientProtocolService;
use crate::namesystem::Namesystem;

/// Who authenticated a web request, before `doas`.
#[derive(Debug, Clone)]
pub struct WebLogin {
    /// The short user name.
    pub user: String,
    /// The Kerberos principal (secure mode).
    pub principal: Option<String>,
}

/// The lease-holder name prefix of a web caller's truncate.
const CLIENT_NAME_PREFIX: &str = "webhdfs";

/// Serves one `/webhdfs/v1` request on `fsn`.
pub async fn serve(fsn: Arc<Namesystem>, req: Request, login: WebLogin) -> Response {
    let path = match hafs_http::webhdfs::fs_path(&req.path) {
        Some(Ok(p)) => p,
        Some(Err(e)) => return e.response(),
        None => return response::not_found(&req.path),
    };
    let ctx = match call_context(&fsn, &req, &login) {
        Ok(c) => c,
        Err(e) => return e.response(),
    };
    let web = WebHdfs {
        cp: ClientProtocolService { fsn: fsn.clone() },
        ctx,
        path,
    };
    match web.dispatch(&req).await {
        Ok(r) => r,
        Err(e) => {
            debug!(peer = %req.peer, path = %web.path, "WebHDFS refused: {e}");
            e.response()
        }
    }
}

/// The caller's call context: the effective user (after `doas`), how they
/// authenticated, and a fresh client id (a web request is never a retry of an RPC).
fn call_context(
    fsn: &Namesystem,
    req: &Request,
    login: &WebLogin,
) -> Result<CallContext, WebHdfsError> {
    let params = Params::of(req);
    let pattern = &fsn.config.http.webhdfs.user_pattern;
    let check_name = |param: &str, v: &str| -> Result<(), WebHdfsError> {
        let re = regex_lite::Regex::new(pattern).map_err(|e| {
            WebHdfsError::io(format!(
                "bad {}: {e}",
                hafs_conf::keys::DFS_WEBHDFS_USER_PATTERN
            ))
        })?;
        if re.is_match(v) {
            Ok(())
        } else {
            Err(WebHdfsError::illegal_argument(format!(
                "Invalid value for webhdfs parameter \"{param}\": \"{}\" does not belong to \
                 the domain {pattern}",
                hafs_http::webhdfs::truncate(v, 100)
            )))
        }
    };
    if login.principal.is_none() {
        check_name("user.name", &login.user)?;
    }
    let mut user = login.user.clone();
    let mut real_user = None;
    if let Some(doas) = params.get("doas") {
        check_name("doas", doas)?;
        if doas != login.user {
            let groups = fsn.group_mapping();
            fsn.config
                .proxy_users
                .authorize(
                    &login.user,
                    login.principal.as_deref().unwrap_or(&login.user),
                    doas,
                    &|u: &str| groups.groups_of(u),
                    req.peer.ip(),
                )
                .map_err(|m| WebHdfsError::new(class::AUTHORIZATION, m))?;
            real_user = Some(login.user.clone());
            user = doas.to_string();
        }
    }
    let mut client_id = [0u8; 16];
    let _ = getrandom::fill(&mut client_id);
    Ok(CallContext {
        user,
        real_user,
        auth_method: if login.principal.is_some() {
            AuthMethod::Kerberos
        } else {
            AuthMethod::Simple
        },
        principal: login.principal.clone(),
        token_identifier: None,
        client_id: Bytes::copy_from_slice(&client_id),
        call_id: 0,
        retry_count: 0,
        peer: req.peer,
        // WebHDFS clients carry no state id (Hadoop's WebHDFS does not align either).
        state_id: None,
    })
}

/// The simple-mode login of a request: `user.name`, else `dr.who`.
pub fn simple_login(req: &Request) -> WebLogin {
    WebLogin {
        user: Params::of(req)
            .get("user.name")
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .unwrap_or(STATIC_WEB_USER)
            .to_string(),
        principal: None,
    }
}

/// `/isActive` (Hadoop's `IsActiveServlet`): 200 on the Active, 405 elsewhere, so a
/// load balancer health check sends traffic only to the Active.
pub fn is_active(state: &str) -> Response {
    if state == "active" {
        response::text(200, "I am Active!")
    } else {
        response::text(405, "I am not Active!")
    }
}

struct WebHdfs {
    cp: ClientProtocolService,
    ctx: CallContext,
    path: String,
}

fn rpc_err(e: RpcError) -> WebHdfsError {
    WebHdfsError::new(&e.class_name, e.message)
}

impl WebHdfs {
    fn fsn(&self) -> &Arc<Namesystem> {
        &self.cp.fsn
    }

    /// One ClientProtocol call through the RPC service's own dispatch (HA check, retry
    /// cache, handler).
    async fn rpc<Req: Message, Resp: Message + Default>(
        &self,
        method: &str,
        request: &Req,
    ) -> Result<Resp, WebHdfsError> {
        let answer = self
            .cp
            .call(&self.ctx, method, Bytes::from(request.encode_to_vec()))
            .await
            .map_err(rpc_err)?;
        Resp::decode(answer)
            .map_err(|e| WebHdfsError::io(format!("cannot decode the {method} answer: {e}")))
    }

    async fn dispatch(&self, req: &Request) -> Result<Response, WebHdfsError> {
        let p = Params::of(req);
        let Some(op) = p.op() else {
            return Err(WebHdfsError::illegal_argument(
                "Invalid value for webhdfs parameter \"op\": no op given",
            ));
        };
        match (&req.method, op.as_str()) {
            (&Method::GET, "GETFILESTATUS") => self.get_file_status().await,
            (&Method::GET, "LISTSTATUS") => self.list_status().await,
            (&Method::GET, "LISTSTATUS_BATCH") => self.list_status_batch(&p).await,
            (&Method::GET, "GETCONTENTSUMMARY") => self.content_summary().await,
            (&Method::GET, "GETHOMEDIRECTORY") => Ok(ok_json(json!({
                "Path": format!("/user/{}", self.ctx.user)
            }))),
            (&Method::GET, "GETTRASHROOT") => Ok(ok_json(json!({
                "Path": format!("/user/{}/.Trash", self.ctx.user)
            }))),
            (&Method::GET, "GETSERVERDEFAULTS") => self.server_defaults().await,
            (&Method::GET, "OPEN" | "GETFILECHECKSUM") | (&Method::POST, "APPEND") => {
                redirect::to_replica(self, req, &p, &op).await
            }
            (&Method::PUT, "CREATE") => redirect::to_any(self, req, &p).await,
            (&Method::PUT, "MKDIRS") => self.mkdirs(&p).await,
            (&Method::PUT, "RENAME") => self.rename(&p).await,
            (&Method::PUT, "SETPERMISSION") => self.set_permission(&p).await,
            (&Method::PUT, "SETOWNER") => self.set_owner(&p).await,
            (&Method::PUT, "SETREPLICATION") => self.set_replication(&p).await,
            (&Method::PUT, "SETTIMES") => self.set_times(&p).await,
            (&Method::POST, "CONCAT") => self.concat(&p).await,
            (&Method::POST, "TRUNCATE") => self.truncate(&p).await,
            (&Method::DELETE, "DELETE") => self.delete(&p).await,
            (m, op) if KNOWN_OPS.contains(&op) => Err(WebHdfsError::new(
                class::UNSUPPORTED_OPERATION,
                if SUPPORTED_OPS.contains(&op) {
                    format!("{op} is not a {m} operation")
                } else {
                    format!("Operation {op} is not supported by hafs's WebHDFS")
                },
            )),
            (_, op) => Err(WebHdfsError::illegal_argument(format!(
                "Invalid value for webhdfs parameter \"op\": No enum constant {}",
                hafs_http::webhdfs::truncate(op, 100)
            ))),
        }
    }

    async fn file_info(&self, path: &str) -> Result<Option<pb::HdfsFileStatusProto>, WebHdfsError> {
        let r: pb::GetFileInfoResponseProto = self
            .rpc(
                "getFileInfo",
                &pb::GetFileInfoRequestProto {
                    src: path.to_string(),
                },
            )
            .await?;
        Ok(r.fs)
    }

    async fn get_file_status(&self) -> Result<Response, WebHdfsError> {
        let st = self.file_info(&self.path).await?.ok_or_else(|| {
            WebHdfsError::new(
                class::FILE_NOT_FOUND,
                format!("File does not exist: {}", self.path),
            )
        })?;
        Ok(ok_json(
            json!({ "FileStatus": json::file_status(&st, false) }),
        ))
    }

    /// One page of the listing after `start_after`; `None` when the path does not
    /// exist.
    async fn listing_page(
        &self,
        start_after: &[u8],
    ) -> Result<Option<pb::DirectoryListingProto>, WebHdfsError> {
        let r: pb::GetListingResponseProto = self
            .rpc(
                "getListing",
                &pb::GetListingRequestProto {
                    src: self.path.clone(),
                    start_after: Bytes::copy_from_slice(start_after),
                    need_location: false,
                },
            )
            .await?;
        Ok(r.dir_list)
    }

    fn no_such_path(&self) -> WebHdfsError {
        WebHdfsError::new(
            class::FILE_NOT_FOUND,
            format!("File {} does not exist.", self.path),
        )
    }

    /// LISTSTATUS: the whole listing, streamed page by page (each page one getListing
    /// call, `dfs.ls.limit` entries), so a large directory is never held in memory.
    async fn list_status(&self) -> Result<Response, WebHdfsError> {
        let first = self
            .listing_page(&[])
            .await?
            .ok_or_else(|| self.no_such_path())?;
        let (resp, tx) = response::streamed(200, response::JSON, None, 4);
        let web = WebHdfs {
            cp: ClientProtocolService {
                fsn: self.fsn().clone(),
            },
            ctx: self.ctx.clone(),
            path: self.path.clone(),
        };
        tokio::spawn(async move {
            let mut page = first;
            let mut first_entry = true;
            let mut out = String::from("{\"FileStatuses\":{\"FileStatus\":[");
            loop {
                for st in &page.partial_listing {
                    if !first_entry {
                        out.push(',');
                    }
                    first_entry = false;
                    out.push_str(&json::file_status(st, true).to_string());
                }
                let last = page.partial_listing.last().map(|s| s.path.clone());
                let more = page.remaining_entries > 0 && last.is_some();
                if !more {
                    break;
                }
                if tx
                    .send(Ok(Bytes::from(std::mem::take(&mut out))))
                    .await
                    .is_err()
                {
                    return;
                }
                match web.listing_page(&last.unwrap_or_default()).await {
                    Ok(Some(p)) => page = p,
                    // Deleted while listed: what was sent is the listing.
                    Ok(None) => break,
                    Err(e) => {
                        let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                        return;
                    }
                }
            }
            out.push_str("]}}");
            let _ = tx.send(Ok(Bytes::from(out))).await;
        });
        Ok(resp)
    }

    /// LISTSTATUS_BATCH: one page after `startAfter` and how many entries remain.
    async fn list_status_batch(&self, p: &Params<'_>) -> Result<Response, WebHdfsError> {
        let start_after = p.get("startafter").unwrap_or("");
        let page = self
            .listing_page(start_after.as_bytes())
            .await?
            .ok_or_else(|| self.no_such_path())?;
        let statuses: Vec<_> = page
            .partial_listing
            .iter()
            .map(|s| json::file_status(s, true))
            .collect();
        Ok(ok_json(json!({
            "DirectoryListing": {
                "partialListing": { "FileStatuses": { "FileStatus": statuses } },
                "remainingEntries": page.remaining_entries,
            }
        })))
    }

    async fn content_summary(&self) -> Result<Response, WebHdfsError> {
        let r: pb::GetContentSummaryResponseProto = self
            .rpc(
                "getContentSummary",
                &pb::GetContentSummaryRequestProto {
                    path: self.path.clone(),
                },
            )
            .await?;
        Ok(ok_json(json::content_summary(&r.summary)))
    }

    async fn server_defaults(&self) -> Result<Response, WebHdfsError> {
        let r: pb::GetServerDefaultsResponseProto = self
            .rpc("getServerDefaults", &pb::GetServerDefaultsRequestProto {})
            .await?;
        Ok(ok_json(json::server_defaults(&r.server_defaults)))
    }

    async fn mkdirs(&self, p: &Params<'_>) -> Result<Response, WebHdfsError> {
        let perm = p.permission("permission")?.unwrap_or(0o755);
        let unmasked = p.permission("unmaskedpermission")?;
        let r: pb::MkdirsResponseProto = self
            .rpc(
                "mkdirs",
                &pb::MkdirsRequestProto {
                    src: self.path.clone(),
                    masked: pb::FsPermissionProto {
                        perm: u32::from(perm),
                    },
                    create_parent: true,
                    unmasked: unmasked.map(|u| pb::FsPermissionProto { perm: u32::from(u) }),
                },
            )
            .await?;
        Ok(ok_json(json!({ "boolean": r.result })))
    }

    /// RENAME: `rename` (answers `{"boolean"}`), or `rename2` when `renameoptions` is
    /// given (`OVERWRITE` replaces the destination; answers an empty 200).
    async fn rename(&self, p: &Params<'_>) -> Result<Response, WebHdfsError> {
        let dst = p.get("destination").ok_or_else(|| {
            WebHdfsError::illegal_argument("Required param destination for op: RENAME is null")
        })?;
        hafs_http::webhdfs::check_path(dst)?;
        match p.get("renameoptions") {
            None => {
                let r: pb::RenameResponseProto = self
                    .rpc(
                        "rename",
                        &pb::RenameRequestProto {
                            src: self.path.clone(),
                            dst: dst.to_string(),
                        },
                    )
                    .await?;
                Ok(ok_json(json!({ "boolean": r.result })))
            }
            Some(opts) => {
                let mut overwrite = false;
                for o in opts.split(',').map(str::trim) {
                    match o.to_ascii_uppercase().as_str() {
                        "OVERWRITE" => overwrite = true,
                        "NONE" | "TO_TRASH" => {}
                        _ => {
                            return Err(WebHdfsError::illegal_argument(format!(
                                "Invalid value for webhdfs parameter \"renameoptions\": \
                                 No enum constant {}",
                                hafs_http::webhdfs::truncate(o, 100)
                            )))
                        }
                    }
                }
                let _: pb::Rename2ResponseProto = self
                    .rpc(
                        "rename2",
                        &pb::Rename2RequestProto {
                            src: self.path.clone(),
                            dst: dst.to_string(),
                            overwrite_dest: overwrite,
                            move_to_trash: None,
                        },
                    )
                    .await?;
                Ok(empty_ok())
            }
        }
    }

    async fn delete(&self, p: &Params<'_>) -> Result<Response, WebHdfsError> {
        let recursive = p.bool("recursive", false)?;
        let r: pb::DeleteResponseProto = self
            .rpc(
                "delete",
                &pb::DeleteRequestProto {
                    src: self.path.clone(),
                    recursive,
                },
            )
            .await?;
        Ok(ok_json(json!({ "boolean": r.result })))
    }

    async fn set_permission(&self, p: &Params<'_>) -> Result<Response, WebHdfsError> {
        let perm = p.permission("permission")?.unwrap_or(0o755);
        let _: pb::SetPermissionResponseProto = self
            .rpc(
                "setPermission",
                &pb::SetPermissionRequestProto {
                    src: self.path.clone(),
                    permission: pb::FsPermissionProto {
                        perm: u32::from(perm),
                    },
                },
            )
            .await?;
        Ok(empty_ok())
    }

    async fn set_owner(&self, p: &Params<'_>) -> Result<Response, WebHdfsError> {
        let owner = p.get("owner");
        let group = p.get("group");
        if owner.is_none() && group.is_none() {
            return Err(WebHdfsError::illegal_argument(
                "Both owner and group are empty.",
            ));
        }
        let _: pb::SetOwnerResponseProto = self
            .rpc(
                "setOwner",
                &pb::SetOwnerRequestProto {
                    src: self.path.clone(),
                    username: owner.map(str::to_string),
                    groupname: group.map(str::to_string),
                },
            )
            .await?;
        Ok(empty_ok())
    }

    async fn set_replication(&self, p: &Params<'_>) -> Result<Response, WebHdfsError> {
        let replication = match p.i64("replication", 1, i64::from(i16::MAX))? {
            Some(r) => r as u32,
            None => u32::from(self.fsn().config.replication),
        };
        let r: pb::SetReplicationResponseProto = self
            .rpc(
                "setReplication",
                &pb::SetReplicationRequestProto {
                    src: self.path.clone(),
                    replication,
                },
            )
            .await?;
        Ok(ok_json(json!({ "boolean": r.result })))
    }

    async fn set_times(&self, p: &Params<'_>) -> Result<Response, WebHdfsError> {
        // -1 leaves a time unchanged (Hadoop's default for both).
        let mtime = p.i64("modificationtime", -1, i64::MAX)?.unwrap_or(-1);
        let atime = p.i64("accesstime", -1, i64::MAX)?.unwrap_or(-1);
        let _: pb::SetTimesResponseProto = self
            .rpc(
                "setTimes",
                &pb::SetTimesRequestProto {
                    src: self.path.clone(),
                    mtime: mtime as u64,
                    atime: atime as u64,
                },
            )
            .await?;
        Ok(empty_ok())
    }

    async fn concat(&self, p: &Params<'_>) -> Result<Response, WebHdfsError> {
        let sources = p.get("sources").ok_or_else(|| {
            WebHdfsError::illegal_argument("Required param sources for op: CONCAT is null")
        })?;
        let srcs: Vec<String> = sources
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        for s in &srcs {
            hafs_http::webhdfs::check_path(s)?;
        }
        let _: pb::ConcatResponseProto = self
            .rpc(
                "concat",
                &pb::ConcatRequestProto {
                    trg: self.path.clone(),
                    srcs,
                },
            )
            .await?;
        Ok(empty_ok())
    }

    /// TRUNCATE: whatever ClientProtocol's truncate answers (a clean refusal while the
    /// NameNode does not offer it).
    async fn truncate(&self, p: &Params<'_>) -> Result<Response, WebHdfsError> {
        let new_length = p.i64("newlength", 0, i64::MAX)?.ok_or_else(|| {
            WebHdfsError::illegal_argument("Required param newlength for op: TRUNCATE is null")
        })?;
        let r: pb::TruncateResponseProto = self
            .rpc(
                "truncate",
                &pb::TruncateRequestProto {
                    src: self.path.clone(),
                    new_length: new_length as u64,
                    client_name: format!("{CLIENT_NAME_PREFIX}_{}", self.ctx.user),
                },
            )
            .await?;
        Ok(ok_json(json!({ "boolean": r.result })))
    }
}

/// Every op Hadoop's WebHDFS knows, so that one hafs does not serve is refused as
/// unsupported (400 UnsupportedOperationException) rather than as a bad value.
const KNOWN_OPS: &[&str] = &[
    "OPEN",
    "GETFILESTATUS",
    "LISTSTATUS",
    "LISTSTATUS_BATCH",
    "GETCONTENTSUMMARY",
    "GETQUOTAUSAGE",
    "GETFILECHECKSUM",
    "GETHOMEDIRECTORY",
    "GETDELEGATIONTOKEN",
    "GETTRASHROOT",
    "GETTRASHROOTS",
    "GETXATTRS",
    "LISTXATTRS",
    "GETACLSTATUS",
    "CHECKACCESS",
    "GETALLSTORAGEPOLICY",
    "GETSTORAGEPOLICY",
    "GETSNAPSHOTDIFF",
    "GETSNAPSHOTDIFFLISTING",
    "GETSNAPSHOTTABLEDIRECTORYLIST",
    "GETSNAPSHOTLIST",
    "GETFILEBLOCKLOCATIONS",
    "GET_BLOCK_LOCATIONS",
    "GETECPOLICY",
    "GETSERVERDEFAULTS",
    "GETSTATUS",
    "GETECPOLICIES",
    "GETECCODECS",
    "GETLINKTARGET",
    "GETFILELINKSTATUS",
    "GETSTORAGEPOLICIES",
    "CREATE",
    "MKDIRS",
    "CREATESYMLINK",
    "RENAME",
    "SETREPLICATION",
    "SETOWNER",
    "SETPERMISSION",
    "SETTIMES",
    "RENEWDELEGATIONTOKEN",
    "CANCELDELEGATIONTOKEN",
    "MODIFYACLENTRIES",
    "REMOVEACLENTRIES",
    "REMOVEDEFAULTACL",
    "REMOVEACL",
    "SETACL",
    "SETXATTR",
    "REMOVEXATTR",
    "ENABLEECPOLICY",
    "DISABLEECPOLICY",
    "SETECPOLICY",
    "ALLOWSNAPSHOT",
    "DISALLOWSNAPSHOT",
    "CREATESNAPSHOT",
    "RENAMESNAPSHOT",
    "SETQUOTA",
    "SETQUOTABYSTORAGETYPE",
    "SETSTORAGEPOLICY",
    "SATISFYSTORAGEPOLICY",
    "APPEND",
    "CONCAT",
    "TRUNCATE",
    "UNSETSTORAGEPOLICY",
    "UNSETECPOLICY",
    "DELETE",
    "DELETESNAPSHOT",
];

/// The ops this server answers.
const SUPPORTED_OPS: &[&str] = &[
    "GETFILESTATUS",
    "LISTSTATUS",
    "LISTSTATUS_BATCH",
    "GETCONTENTSUMMARY",
    "GETHOMEDIRECTORY",
    "GETTRASHROOT",
    "GETSERVERDEFAULTS",
    "OPEN",
    "GETFILECHECKSUM",
    "APPEND",
    "CREATE",
    "MKDIRS",
    "RENAME",
    "SETPERMISSION",
    "SETOWNER",
    "SETREPLICATION",
    "SETTIMES",
    "CONCAT",
    "TRUNCATE",
    "DELETE",
];

/// Hadoop's answer to a change without a result: 200, no body.
fn empty_ok() -> Response {
    response::full(200, "application/octet-stream", Bytes::new())
}

/// The address a DataNode reaches this NameNode's RPC server at: the nameservice
/// id under HA (its client fails over), else the host the caller reached us at with
/// the RPC port.
fn namenode_rpc_address(fsn: &Namesystem, req: &Request) -> String {
    if let Some(ha) = &fsn.config.ha {
        return ha.nameservice.clone();
    }
    let rpc = &fsn.config.rpc_bind;
    let port = rpc.rsplit_once(':').map_or("8020", |(_, p)| p);
    let host = rpc.rsplit_once(':').map_or("", |(h, _)| h);
    let host = if host.is_empty() || host == "0.0.0.0" || host == "[::]" {
        request_host(req).unwrap_or_else(|| "127.0.0.1".to_string())
    } else {
        host.to_string()
    };
    format!("{host}:{port}")
}

/// The host part of the request's `Host` header.
fn request_host(req: &Request) -> Option<String> {
    let h = req.header("host")?;
    let host = if let Some(rest) = h.strip_prefix('[') {
        format!("[{}]", rest.split(']').next()?)
    } else {
        h.split(':').next()?.to_string()
    };
    Some(host).filter(|h| !h.is_empty())
}
