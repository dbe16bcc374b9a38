//! The first step of WebHDFS's data operations: the NameNode picks a DataNode and
//! answers `307 Location: http://<dn>:<infoPort>/webhdfs/v1<path>?op=…` (or, with
//! `noredirect=true`, `200 {"Location": …}`). The DataNode does the work with hafs's
//! client against `namenoderpcaddress` (the nameservice under HA, so its calls follow a
//! failover).
//!
//! OPEN goes to a replica of the block at `offset`, GETFILECHECKSUM to one of the first
//! block, APPEND to one of the last block, and CREATE to any live DataNode (Hadoop's
//! `chooseDatanode`); a file without replicas to choose from goes to any live one.

use hafs_http::query::percent_encode;
use hafs_http::response::{self, Response};
use hafs_http::webhdfs::{class, ok_json, Params, WebHdfsError, PREFIX};
use hafs_http::Request;
use hafs_ipc::OperationCategory;
use hafs_proto::hdfs as pb;
use serde_json::json;

use super::{namenode_rpc_address, rpc_err, WebHdfs};
use crate::blockmanagement::DatanodeReportKind;

/// The parameters each data op carries on to the DataNode.
fn forwarded(op: &str) -> &'static [&'static str] {
    match op {
        "OPEN" => &["offset", "length", "buffersize"],
        "CREATE" => &[
            "permission",
            "unmaskedpermission",
            "overwrite",
            "blocksize",
            "replication",
            "buffersize",
            "createparent",
        ],
        "APPEND" => &["buffersize"],
        _ => &[],
    }
}

/// OPEN, GETFILECHECKSUM, APPEND: to a DataNode holding the block they start on.
pub(super) async fn to_replica(
    web: &WebHdfs,
    req: &Request,
    p: &Params<'_>,
    op: &str,
) -> Result<Response, WebHdfsError> {
    let offset = if op == "OPEN" {
        p.i64("offset", 0, i64::MAX)?.unwrap_or(0) as u64
    } else {
        0
    };
    // Checked here so that a bad length is refused before the redirect.
    if op == "OPEN" {
        p.i64("length", 0, i64::MAX)?;
    }
    let r: pb::GetBlockLocationsResponseProto = web
        .rpc(
            "getBlockLocations",
            &pb::GetBlockLocationsRequestProto {
                src: web.path.clone(),
                offset,
                length: if op == "APPEND" { i64::MAX as u64 } else { 1 },
            },
        )
        .await?;
    let located = r.locations.ok_or_else(|| {
        WebHdfsError::new(
            class::FILE_NOT_FOUND,
            format!("File does not exist: {}", web.path),
        )
    })?;
    let block = if op == "APPEND" {
        located.last_block.as_ref().or(located.blocks.last())
    } else {
        located
            .blocks
            .iter()
            .find(|b| b.offset <= offset && offset < b.offset + b.b.num_bytes.unwrap_or(0))
            .or(located.blocks.first())
    };
    let holder = block.and_then(|b| b.locs.first()).map(|d| d.id.clone());
    let dn = match holder {
        Some(id) => id,
        None => any_live_datanode(web)?,
    };
    answer(web, req, p, op, &dn)
}

/// CREATE: to any live DataNode, from the Active only.
pub(super) async fn to_any(
    web: &WebHdfs,
    req: &Request,
    p: &Params<'_>,
) -> Result<Response, WebHdfsError> {
    web.fsn()
        .check_operation(OperationCategory::Write)
        .map_err(rpc_err)?;
    // Refuse bad values here rather than after the upload has started.
    p.bool("overwrite", false)?;
    p.bool("createparent", true)?;
    p.permission("permission")?;
    p.i64("replication", 1, i64::from(i16::MAX))?;
    p.i64("blocksize", 1, i64::MAX)?;
    let dn = any_live_datanode(web)?;
    answer(web, req, p, "CREATE", &dn)
}

fn any_live_datanode(web: &WebHdfs) -> Result<pb::DatanodeIdProto, WebHdfsError> {
    let live = web.fsn().bm.datanode_report(DatanodeReportKind::Live);
    if live.is_empty() {
        return Err(WebHdfsError::io(
            "Failed to find datanode, suggest to check cluster health.",
        ));
    }
    let mut pick = [0u8; 8];
    let _ = getrandom::fill(&mut pick);
    let i = (u64::from_le_bytes(pick) % live.len() as u64) as usize;
    Ok(live[i].id.clone())
}

fn answer(
    web: &WebHdfs,
    req: &Request,
    p: &Params<'_>,
    op: &str,
    dn: &pb::DatanodeIdProto,
) -> Result<Response, WebHdfsError> {
    let url = location(web, req, p, op, dn);
    if p.bool("noredirect", false)? {
        return Ok(ok_json(json!({ "Location": url })));
    }
    let mut r = response::full(307, "application/octet-stream", bytes::Bytes::new());
    r = response::with_header(r, "location", &url);
    // A client that sent the data to the NameNode too (curl -T without waiting for
    // 100 Continue) is answered without the body being read: close the connection
    // rather than drain it.
    if req.content_length().is_some_and(|n| n > 0) || req.is_chunked() {
        r = response::with_header(r, "connection", "close");
    }
    Ok(r)
}

/// The DataNode URL of the op: the path (each component percent-encoded), the op,
/// who the caller is, the NameNode to use, and the op's own parameters.
fn location(
    web: &WebHdfs,
    req: &Request,
    p: &Params<'_>,
    op: &str,
    dn: &pb::DatanodeIdProto,
) -> String {
    let path: Vec<String> = web.path.split('/').map(percent_encode).collect();
    let host = if dn.ip_addr.contains(':') {
        format!("[{}]", dn.ip_addr)
    } else {
        dn.ip_addr.clone()
    };
    let (login, doas) = match &web.ctx.real_user {
        Some(real) => (real.as_str(), Some(web.ctx.user.as_str())),
        None => (web.ctx.user.as_str(), None),
    };
    let mut url = format!(
        "http://{host}:{}{PREFIX}{}?op={op}&user.name={}&namenoderpcaddress={}",
        dn.info_port,
        path.join("/"),
        percent_encode(login),
        percent_encode(&namenode_rpc_address(web.fsn(), req)),
    );
    if let Some(doas) = doas {
        url.push_str(&format!("&doas={}", percent_encode(doas)));
    }
    for name in forwarded(op) {
        if let Some(v) = p.get(name) {
            url.push_str(&format!("&{name}={}", percent_encode(v)));
        }
    }
    url
}
