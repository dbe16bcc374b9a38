//! `hafs namenode -bootstrapStandby [-force] [-nonInteractive]`: makes this NameNode's
//! name dirs a copy of another NameNode's, ready to start as a Standby.
//!
//! 1. Find another NameNode of the nameservice that serves its newest fsimage over
//!    HTTP (`GET /imagetransfer?getimage=1&txid=latest`); the response carries the
//!    namespace identity (cluster, namespace and block pool ids) and that NameNode's
//!    last txid. The image is verified (checksum) as it arrives.
//! 2. Check that the shared edits (JournalNodes or the shared dir) still hold every
//!    edit after that image — else the new Standby could never catch up.
//! 3. Format the name dirs with the same identity and install the image.
//!
//! Existing data is refused or confirmed as with `-format`. Exit codes are Hadoop's
//! BootstrapStandby ones.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use hafs_journal::shared_dir::SharedDirJournal;
use hafs_journal::{JournalManager, StorageDir, StorageInfo};
use hafs_namenode::http::client::{fetch_image, FetchedImage};
use hafs_namenode::http::image_store::copy_durably;
use hafs_namenode::http::TxidSpec;
use hafs_namenode::{fsimage, storage, NameNodeConfig};

/// Hadoop's BootstrapStandby exit codes.
const ERR_CODE_FAILED_CONNECT: i32 = 2;
const ERR_CODE_INVALID_VERSION: i32 = 3;
const ERR_CODE_ALREADY_FORMATTED: i32 = 5;
const ERR_CODE_LOGS_UNAVAILABLE: i32 = 6;

const TRANSFER_TIMEOUT: Duration = Duration::from_secs(60);

pub async fn run(config: &NameNodeConfig, args: &[String]) -> anyhow::Result<i32> {
    let (mut force, mut non_interactive) = (false, false);
    for a in args {
        match a.as_str() {
            "-force" => force = true,
            "-nonInteractive" => non_interactive = true,
            other => {
                eprintln!(
                    "hafs namenode -bootstrapStandby: unknown option '{other}'\n{}",
                    super::USAGE
                );
                return Ok(1);
            }
        }
    }
    let Some(ha) = &config.ha else {
        eprintln!(
            "HA is not enabled for this namenode: -bootstrapStandby needs dfs.nameservices \
             with at least two NameNodes in dfs.ha.namenodes.<nameservice>."
        );
        return Ok(1);
    };
    if config.http.peers.is_empty() {
        eprintln!(
            "No other NameNode is configured in nameservice {}.",
            ha.nameservice
        );
        return Ok(1);
    }
    let first = config
        .name_dirs
        .first()
        .context("dfs.namenode.name.dir is empty")?;
    std::fs::create_dir_all(first).with_context(|| format!("cannot create {}", first.display()))?;
    let tmp = first.join(format!(".bootstrap_fsimage.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);

    // 1. The newest image from the first NameNode that serves one.
    let mut fetched: Option<(String, FetchedImage)> = None;
    let mut failures = Vec::new();
    for (id, addr) in &config.http.peers {
        let spnego = config.http_security.as_ref().map(|s| &s.client);
        match fetch_image(addr, TxidSpec::Latest, &tmp, TRANSFER_TIMEOUT, spnego).await {
            Ok(f) => {
                fetched = Some((id.clone(), f));
                break;
            }
            Err(e) => failures.push(format!("{id} ({addr}): {e}")),
        }
    }
    let Some((from, image)) = fetched else {
        eprintln!(
            "Unable to fetch namespace information from any remote NN. Possible NameNodes: \n  {}",
            failures.join("\n  ")
        );
        return Ok(ERR_CODE_FAILED_CONNECT);
    };
    let result = finish(config, &from, &image, &tmp, force, non_interactive).await;
    let _ = std::fs::remove_file(&tmp);
    result
}

async fn finish(
    config: &NameNodeConfig,
    from: &str,
    image: &FetchedImage,
    tmp: &Path,
    force: bool,
    non_interactive: bool,
) -> anyhow::Result<i32> {
    let info = &image.info;
    if info.layout_version != storage::LAYOUT_VERSION {
        eprintln!(
            "Layout version on remote node ({}) does not match this node's layout version ({})",
            info.layout_version,
            storage::LAYOUT_VERSION
        );
        return Ok(ERR_CODE_INVALID_VERSION);
    }
    println!(
        "=====================================================\n\
         About to bootstrap Standby ID {} from:\n\
         \x20          Nameservice ID: {}\n\
         \x20       Other Namenode ID: {from}\n\
         \x20            Namespace ID: {}\n\
         \x20           Block pool ID: {}\n\
         \x20              Cluster ID: {}\n\
         \x20          Layout version: {}\n\
         \x20      Image txid (latest): {}\n\
         \x20  Remote last txid: {}\n\
         =====================================================",
        config
            .ha
            .as_ref()
            .map(|h| h.namenode_id.as_str())
            .unwrap_or(""),
        config
            .ha
            .as_ref()
            .map(|h| h.nameservice.as_str())
            .unwrap_or(""),
        info.namespace_id,
        info.block_pool_id,
        info.cluster_id,
        info.layout_version,
        image.meta.txid,
        image.last_txid,
    );

    // 2. The shared edits must still hold everything after the image.
    if let Err(why) = check_logs_available(config, info, image.meta.txid, image.last_txid).await {
        eprintln!(
            "Unable to read transaction ids {}-{} from the configured shared edits storage. \
             Please copy these logs into the shared edits storage or call saveNamespace on \
             the active node.\nError: {why}",
            image.meta.txid + 1,
            image.last_txid
        );
        return Ok(ERR_CODE_LOGS_UNAVAILABLE);
    }

    // 3. Format with the same identity (asking first if data exists) and install.
    let existing: Vec<&PathBuf> = config
        .name_dirs
        .iter()
        .filter(|d| d.join("current").join("VERSION").exists())
        .collect();
    if !existing.is_empty() && !force {
        for d in &existing {
            if non_interactive {
                eprintln!(
                    "Running in non-interactive mode, and data appears to exist in Storage \
                     Directory root= {}; location= null. Not formatting.",
                    d.display()
                );
                return Ok(ERR_CODE_ALREADY_FORMATTED);
            }
            if !super::confirm(&format!(
                "Re-format filesystem in Storage Directory root= {}; location= null ? (Y or N) ",
                d.display()
            ))? {
                eprintln!("Format aborted in Storage Directory root= {}", d.display());
                return Ok(ERR_CODE_ALREADY_FORMATTED);
            }
        }
    }
    install(&config.name_dirs, info, tmp, image.meta.txid)?;
    eprintln!(
        "Downloaded fsimage at txid {} ({} bytes, {}) from {from}; the name dirs are ready \
         for a Standby.",
        image.meta.txid,
        image.meta.len,
        hafs_namenode::http::image_store::format_checksum(image.meta.checksum)
    );
    Ok(0)
}

/// Reads the first edit after the image from the shared edits: it must be there when
/// the remote NameNode is past its image. (Later ones follow the same segments; a gap
/// further on is reported by the journal when the Standby tails.)
async fn check_logs_available(
    config: &NameNodeConfig,
    info: &StorageInfo,
    image_txid: u64,
    remote_last: u64,
) -> Result<(), String> {
    if remote_last <= image_txid {
        return Ok(());
    }
    let journal: Box<dyn JournalManager> = if let Some(uri) = &config.shared_edits {
        Box::new(hafs_journal::client::QuorumJournal::new(
            uri.clone(),
            storage::ns_info(info),
            config.qjm.clone(),
        ))
    } else if let Some(dir) = &config.shared_dir {
        Box::new(SharedDirJournal::open(dir, info).map_err(|e| e.to_string())?)
    } else {
        return Err("dfs.namenode.shared.edits.dir is not set".into());
    };
    let want = image_txid + 1;
    let recs = journal
        .read_edits(want, 1, true)
        .await
        .map_err(|e| e.to_string())?;
    match recs.first() {
        Some(r) if r.txid == want => Ok(()),
        Some(r) => Err(format!("the shared edits start at txid {}", r.txid)),
        None => Err(format!(
            "{} holds no edit from txid {want}",
            journal.describe()
        )),
    }
}

/// Formats every name dir with `info` and puts the image (at `tmp`, verified and
/// fsynced, in the first dir's root) into each, with `seen_txid` = its txid.
fn install(dirs: &[PathBuf], info: &StorageInfo, tmp: &Path, txid: u64) -> anyhow::Result<()> {
    let mut locks = Vec::new();
    for d in dirs {
        let sd = StorageDir::new(d.clone());
        locks.push(
            sd.lock().with_context(|| {
                format!("cannot lock {} (is this NameNode running?)", d.display())
            })?,
        );
    }
    for d in dirs {
        let sd = StorageDir::new(d.clone());
        sd.format(info)?;
        copy_durably(tmp, &sd.current().join(fsimage::file_name(txid)))
            .with_context(|| format!("cannot write the image into {}", d.display()))?;
        sd.write_seen_txid(txid)?;
        eprintln!(
            "Storage directory {} has been successfully formatted.",
            d.display()
        );
    }
    drop(locks);
    Ok(())
}
