//! Hadoop's WebHDFS JSON shapes (what `JsonUtilClient` reads) from ClientProtocol
//! messages.

use hafs_proto::hdfs as pb;
use serde_json::{json, Value};

/// A `FileStatus` object. `listed`: a listing entry (`pathSuffix` is the child's
/// name); otherwise the status of the requested path itself (`pathSuffix` empty).
pub fn file_status(s: &pb::HdfsFileStatusProto, listed: bool) -> Value {
    let kind = match pb::hdfs_file_status_proto::FileType::try_from(s.file_type) {
        Ok(pb::hdfs_file_status_proto::FileType::IsDir) => "DIRECTORY",
        Ok(pb::hdfs_file_status_proto::FileType::IsSymlink) => "SYMLINK",
        _ => "FILE",
    };
    let suffix = if listed {
        String::from_utf8_lossy(&s.path).into_owned()
    } else {
        String::new()
    };
    let mut m = json!({
        "pathSuffix": suffix,
        "type": kind,
        "length": s.length,
        "owner": s.owner,
        "group": s.group,
        // Octal, sticky bit included (Hadoop's `String.format("%o", perm.toShort())`).
        "permission": format!("{:o}", s.permission.perm & 0o1777),
        "accessTime": s.access_time,
        "modificationTime": s.modification_time,
        "blockSize": s.blocksize.unwrap_or(0),
        "replication": s.block_replication.unwrap_or(0),
        "fileId": s.file_id.unwrap_or(0),
        "childrenNum": s.children_num.unwrap_or(0),
        "storagePolicy": s.storage_policy.unwrap_or(0),
    });
    if s.flags.unwrap_or(0) & pb::hdfs_file_status_proto::Flags::HasAcl as u32 != 0 {
        m["aclBit"] = Value::Bool(true);
    }
    m
}

/// A quota as Java's long: the wire's u64 of -1 ("none") back to -1.
fn quota(q: u64) -> i64 {
    q as i64
}

/// `typeQuota`: `{"SSD":{"consumed":…,"quota":…},…}` for each type with a quota set
/// (JsonUtil's quotaUsageToMap).
fn type_quota(infos: Option<&pb::StorageTypeQuotaInfosProto>) -> Value {
    let mut m = serde_json::Map::new();
    for i in infos.map_or(&[][..], |i| &i.type_quota_info[..]) {
        let name = i.r#type.and_then(crate::namespace::storage_type_name);
        let Some(name) = name.filter(|_| quota(i.quota) != -1) else {
            continue;
        };
        m.insert(
            name.to_string(),
            json!({"consumed": i.consumed, "quota": quota(i.quota)}),
        );
    }
    Value::Object(m)
}

/// `{"ContentSummary":{...}}`.
pub fn content_summary(s: &pb::ContentSummaryProto) -> Value {
    json!({
        "ContentSummary": {
            "directoryCount": s.directory_count,
            "fileCount": s.file_count,
            "length": s.length,
            "quota": quota(s.quota),
            "spaceConsumed": s.space_consumed,
            "spaceQuota": quota(s.space_quota),
            "typeQuota": type_quota(s.type_quota_infos.as_ref()),
            "ecPolicy": "Replicated",
        }
    })
}

/// `{"FsServerDefaults":{...}}`; `checksumType` is DataChecksum.Type's id (CRC32C 2).
pub fn server_defaults(d: &pb::FsServerDefaultsProto) -> Value {
    let checksum_type = match d.checksum_type {
        Some(t) if t == pb::ChecksumTypeProto::ChecksumNull as i32 => 0,
        Some(t) if t == pb::ChecksumTypeProto::ChecksumCrc32 as i32 => 1,
        _ => 2,
    };
    json!({
        "FsServerDefaults": {
            "blockSize": d.block_size,
            "bytesPerChecksum": d.bytes_per_checksum,
            "writePacketSize": d.write_packet_size,
            "replication": d.replication,
            "fileBufferSize": d.file_buffer_size,
            "encryptDataTransfer": d.encrypt_data_transfer.unwrap_or(false),
            "trashInterval": d.trash_interval.unwrap_or(0),
            "checksumType": checksum_type,
            "keyProviderUri": "",
            "defaultStoragePolicyId": 7,
        }
    })
}
