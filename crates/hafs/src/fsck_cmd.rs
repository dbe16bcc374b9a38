//! `hafs fsck <path> [-files [-blocks [-locations | -racks | -replicaDetails]]]
//! [-openforwrite] [-list-corruptfileblocks]`: a thin client of the Active NameNode's
//! `GET /fsck`, as Hadoop's `DFSck` is — the report is made on the NameNode
//! (`hafs_namenode::fsck`), as the calling user, and printed as it streams in. In
//! secure mode the request authenticates with SPNEGO from the user's ticket cache.
//! Exit status as DFSck's, from the report's last line: 0 for HEALTHY (or a path that
//! does not exist), 1 for CORRUPT, -1 for a failed check.

use std::io::Write as _;
use std::time::Duration;

use anyhow::Context as _;
use hafs_client::proto::NameNodeHaStateProto;
use hafs_client::DfsClient;
use hafs_conf::{keys, Configuration};
use hafs_http::query::percent_encode;
use hafs_namenode::fsck;
use hafs_namenode::http::{get_streamed, http_address, reachable};
use hafs_security::gssapi::InitiatorSource;
use hafs_security::spnego::SpnegoInitiator;

use crate::dfsadmin::nameservice;

const USAGE: &str = "Usage: hafs fsck <path> [-list-corruptfileblocks | [-move | -delete | -openforwrite] [-files [-blocks [-locations | -racks | -replicaDetails]]]]";

pub async fn run(conf: &Configuration, args: &[String]) -> anyhow::Result<i32> {
    // The query Hadoop's DFSck sends for each option.
    let mut query = String::new();
    let mut path: Option<String> = None;
    for a in args {
        let param = match a.as_str() {
            "-files" => "files",
            "-blocks" => "blocks",
            "-locations" => "locations",
            "-racks" => "racks",
            "-openforwrite" => "openforwrite",
            "-replicaDetails" => "replicadetails",
            "-move" => "move",
            "-delete" => "delete",
            "-includeSnapshots" => "includeSnapshots",
            "-list-corruptfileblocks" => "listcorruptfileblocks",
            "-help" | "-h" => {
                println!("{USAGE}");
                return Ok(0);
            }
            s if s.starts_with('-') => {
                eprintln!("fsck: Illegal option '{s}'");
                eprintln!("{USAGE}");
                return Ok(-1);
            }
            s if path.is_none() => {
                path = Some(s.to_string());
                continue;
            }
            s => {
                eprintln!("fsck: can only operate on one path at a time '{s}'");
                eprintln!("{USAGE}");
                return Ok(-1);
            }
        };
        query.push_str(&format!("&{param}=1"));
    }
    let client = DfsClient::new(conf, None)?;
    let dir = path.unwrap_or_else(|| "/".to_string());
    let path = client.resolve(&dir)?;
    let http = active_http_address(conf, &client).await?;
    let target = format!(
        "/fsck?ugi={}{query}&path={}",
        percent_encode(client.user()),
        percent_encode(&path)
    );
    eprintln!("Connecting to namenode via http://{http}{target}");
    let security = hafs_ipc::auth::SecuritySettings::from_conf(conf)?;
    let spnego = if security.is_kerberos() {
        Some(SpnegoInitiator::new(&InitiatorSource::DefaultCcache)?)
    } else {
        None
    };
    if query.contains("&listcorruptfileblocks=1") {
        let mut body = Vec::new();
        get_streamed(
            &http,
            &target,
            spnego.as_ref(),
            FSCK_READ_TIMEOUT,
            &mut |b| {
                // Bounded: one line per corrupt block, kept to 64 MiB.
                if body.len() < 64 << 20 {
                    body.extend_from_slice(b)
                }
            },
        )
        .await
        .with_context(|| format!("fsck through the NameNode's HTTP server at {http}"))?;
        let (text, status) = corrupt_file_blocks(&dir, &String::from_utf8_lossy(&body));
        print!("{text}");
        return Ok(status);
    }
    // Print as it arrives; keep the last line, which decides the exit status.
    let mut last_line = Vec::new();
    let mut pending_newline = false;
    let mut out = |bytes: &[u8]| {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(bytes);
        for &b in bytes {
            if b == b'\n' {
                pending_newline = true;
            } else {
                if pending_newline {
                    last_line.clear();
                    pending_newline = false;
                }
                // Bounded: only the last line is kept, and of it only its end (the
                // verdict) matters.
                last_line.push(b);
                if last_line.len() > 8192 {
                    last_line.drain(..4096);
                }
            }
        }
    };
    get_streamed(&http, &target, spnego.as_ref(), FSCK_READ_TIMEOUT, &mut out)
        .await
        .with_context(|| format!("fsck through the NameNode's HTTP server at {http}"))?;
    let last = String::from_utf8_lossy(&last_line);
    if !pending_newline && !last_line.is_empty() {
        println!();
    }
    Ok(exit_status(&last))
}

/// `-list-corruptfileblocks` as Hadoop's DFSck prints it: the corrupt blocks and their
/// files, without the report's bookkeeping lines, then the count; exit 0 when none.
/// (hafs answers every block in the first page, so there is no cookie to follow.)
fn corrupt_file_blocks(dir: &str, report: &str) -> (String, i32) {
    let mut text = String::new();
    let mut corrupt = 0;
    for line in report.lines() {
        if line.ends_with("has no CORRUPT files")
            || line.ends_with("has no more CORRUPT files")
            || line.ends_with(fsck::NONEXISTENT_STATUS)
        {
            break;
        }
        if line.is_empty()
            || line.starts_with("Cookie:")
            || line.starts_with("FSCK started by")
            || line.starts_with("The filesystem under path")
        {
            continue;
        }
        corrupt += 1;
        if corrupt == 1 {
            text.push_str(&format!(
                "The list of corrupt files under path '{dir}' are:\n"
            ));
        }
        text.push_str(line);
        text.push('\n');
    }
    text.push_str(&format!(
        "The filesystem under path '{dir}' has {corrupt} CORRUPT blocks\n"
    ));
    (text, if corrupt == 0 { 0 } else { -1 })
}

/// Hadoop's DFSck: the report's last line decides.
fn exit_status(last_line: &str) -> i32 {
    let last = last_line.trim_end();
    if last.ends_with(fsck::HEALTHY_STATUS) || last.ends_with(fsck::NONEXISTENT_STATUS) {
        0
    } else if last.ends_with(fsck::CORRUPT_STATUS) {
        1
    } else {
        -1
    }
}

/// How long the report may pause between pieces (a walk of a large directory).
const FSCK_READ_TIMEOUT: Duration = Duration::from_secs(300);

/// The HTTP address of the NameNode serving as Active (DFSck asks the one its client
/// reached; hafs asks each NameNode of the nameservice for its state).
async fn active_http_address(conf: &Configuration, client: &DfsClient) -> anyhow::Result<String> {
    let authority = client
        .fs_uri()
        .trim_start_matches("hdfs://")
        .split('/')
        .next()
        .unwrap_or_default()
        .to_string();
    let Some(ns) = nameservice::logical_authority(conf) else {
        let http = http_address(conf, None, None)?;
        return Ok(reachable(&http, &authority));
    };
    let ids_key = keys::with_suffixes(keys::DFS_HA_NAMENODES_PREFIX, &[&ns]);
    let ids: Vec<String> = conf
        .get_trimmed(&ids_key)
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let targets = nameservice::all_namenodes(conf, &ns).await?;
    for (id, target) in ids.iter().zip(&targets) {
        if let Ok(NameNodeHaStateProto::Active) = target.client.get_ha_service_state().await {
            let rpc_key = keys::with_suffixes(keys::DFS_NAMENODE_RPC_ADDRESS, &[&ns, id]);
            let rpc = conf.get_trimmed(&rpc_key).unwrap_or_default();
            let http = http_address(conf, Some(&ns), Some(id))?;
            return Ok(reachable(&http, &rpc));
        }
    }
    anyhow::bail!("no NameNode of {ns} is Active")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_line_decides_the_exit_status_as_in_dfsck() {
        assert_eq!(exit_status("The filesystem under path '/' is HEALTHY"), 0);
        assert_eq!(exit_status("The filesystem under path '/' is CORRUPT"), 1);
        assert_eq!(exit_status("Path '/x' does not exist"), 0);
        assert_eq!(exit_status("Fsck on path '/x' FAILED"), -1);
        assert_eq!(exit_status(""), -1);
    }

    #[test]
    fn corrupt_file_blocks_print_as_dfsck_prints_them() {
        let none = "FSCK started by u (auth:SIMPLE) from /127.0.0.1 for path / at D\nCookie:\t0\n\n\nThe filesystem under path '/' has no CORRUPT files\n\n";
        assert_eq!(
            corrupt_file_blocks("/", none),
            (
                "The filesystem under path '/' has 0 CORRUPT blocks\n".to_string(),
                0
            )
        );
        let two = "FSCK started by u\nCookie:\t2\nblk_1\t/a\nblk_2\t/b\n\n\nThe filesystem under path '/' has 2 CORRUPT files\n\n";
        let (text, status) = corrupt_file_blocks("/x", two);
        assert_eq!(status, -1);
        assert_eq!(
            text,
            "The list of corrupt files under path '/x' are:\nblk_1\t/a\nblk_2\t/b\nThe filesystem under path '/x' has 2 CORRUPT blocks\n"
        );
    }
}
