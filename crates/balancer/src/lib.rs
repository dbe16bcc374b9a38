//! The balancer (Hadoop's `hdfs balancer`): moves block replicas from DataNodes above
//! the cluster's average utilization to those below it until every DataNode is within
//! `-threshold` points of the average.
//!
//! - [`policy`]: classification, pairing and block choice (pure functions);
//! - [`dispatcher`]: one move (REPLACE_BLOCK to the target);
//! - [`parameters`]: the command line;
//! - [`run`] (here): the iterations, against the Active NameNode through the client's
//!   failover proxy; one balancer at a time through `/system/balancer.id`, created
//!   without overwrite and held open (its lease) for the whole run.
//!
//! Each iteration reads the live DataNodes' usage, pairs sources with targets, asks
//! getBlocks for each source's blocks and runs the moves, at most
//! `dfs.datanode.balance.max.concurrent.moves` per DataNode at once. It then waits two
//! heartbeats and a redundancy interval, so that the NameNode has deleted the moved
//! replicas and the DataNodes have reported their new usage, as Hadoop's does.

pub mod dispatcher;
pub mod parameters;
pub mod policy;

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hafs_client::proto::{DatanodeInfoProto, DatanodeReportTypeProto, ExtendedBlockProto};
use hafs_client::{ClientError, CreateOptions, DfsClient, DfsOutputStream, TransferProtection};
use hafs_conf::{keys, Configuration, TimeUnit};
use hafs_datanode::security::DataTransferSecurity;
use hafs_ipc::FailoverProxy;
use hafs_proto::common::TokenProto;
use hafs_proto::hdfs::datanode as dpb;
use hafs_security::block_token::AccessMode;
use tokio::sync::Semaphore;

use parameters::Parameters;
use policy::{CandidateBlock, NodeUsage};

/// The balancer's lock file.
pub const BALANCER_ID_PATH: &str = "/system/balancer.id";
pub const NAMENODE_PROTOCOL: &str = "org.apache.hadoop.hdfs.server.protocol.NamenodeProtocol";

/// Hadoop's balancer exit statuses (ExitStatus.java): the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Success = 0,
    InProgress = 1,
    AlreadyRunning = -1,
    NoMoveBlock = -2,
    NoMoveProgress = -3,
    IoException = -4,
    IllegalArguments = -5,
    Interrupted = -6,
    UnfinalizedUpgrade = -7,
}

impl ExitStatus {
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// The Java-style names of the failures Hadoop prints as `<exception>.  Exiting ...`.
#[derive(Debug, thiserror::Error)]
pub enum BalancerError {
    #[error("java.io.IOException: {0}")]
    Io(String),
    #[error("java.lang.IllegalArgumentException: {0}")]
    IllegalArgument(String),
}

impl From<ClientError> for BalancerError {
    fn from(e: ClientError) -> Self {
        BalancerError::Io(e.user_message())
    }
}

/// Settings the balancer reads from the configuration.
#[derive(Debug, Clone)]
struct Settings {
    max_moves_per_node: usize,
    get_blocks_size: u64,
    min_block_size: u64,
    max_size_to_move: u64,
    max_iteration_time: Duration,
    move_timeout: Duration,
    sleep_between_iterations: Duration,
}

impl Settings {
    fn from_conf(conf: &Configuration) -> Result<Settings, BalancerError> {
        let bad = |e: hafs_conf::ConfError| BalancerError::IllegalArgument(e.to_string());
        let heartbeat = conf
            .get_time_duration(
                keys::DFS_HEARTBEAT_INTERVAL,
                Duration::from_secs(3),
                TimeUnit::Seconds,
            )
            .map_err(bad)?;
        let redundancy = conf
            .get_time_duration(
                keys::DFS_NAMENODE_REDUNDANCY_INTERVAL,
                Duration::from_secs(keys::DFS_NAMENODE_REDUNDANCY_INTERVAL_DEFAULT_SECS),
                TimeUnit::Seconds,
            )
            .map_err(bad)?;
        let move_timeout = conf
            .get_time_duration(
                keys::DFS_BALANCER_BLOCK_MOVE_TIMEOUT,
                Duration::ZERO,
                TimeUnit::Millis,
            )
            .map_err(bad)?;
        Ok(Settings {
            max_moves_per_node: conf
                .get_u32(
                    keys::DFS_DATANODE_BALANCE_MAX_CONCURRENT_MOVES,
                    keys::DFS_DATANODE_BALANCE_MAX_CONCURRENT_MOVES_DEFAULT,
                )
                .map_err(bad)?
                .max(1) as usize,
            get_blocks_size: conf
                .get_size_bytes(
                    keys::DFS_BALANCER_GETBLOCKS_SIZE,
                    keys::DFS_BALANCER_GETBLOCKS_SIZE_DEFAULT,
                )
                .map_err(bad)?
                .max(1),
            min_block_size: conf
                .get_size_bytes(
                    keys::DFS_BALANCER_GETBLOCKS_MIN_BLOCK_SIZE,
                    keys::DFS_BALANCER_GETBLOCKS_MIN_BLOCK_SIZE_DEFAULT,
                )
                .map_err(bad)?,
            max_size_to_move: conf
                .get_size_bytes(
                    keys::DFS_BALANCER_MAX_SIZE_TO_MOVE,
                    keys::DFS_BALANCER_MAX_SIZE_TO_MOVE_DEFAULT,
                )
                .map_err(bad)?,
            max_iteration_time: conf
                .get_time_duration(
                    keys::DFS_BALANCER_MAX_ITERATION_TIME,
                    Duration::from_millis(1_200_000),
                    TimeUnit::Millis,
                )
                .map_err(bad)?,
            // A move's REPLACE_BLOCK waits for the whole copy; IN_PROGRESS answers keep
            // it alive, so the socket timeout bounds only the silence between them.
            move_timeout: if move_timeout.is_zero() {
                Duration::from_secs(60)
            } else {
                move_timeout
            },
            sleep_between_iterations: heartbeat * 2 + redundancy,
        })
    }
}

/// Hadoop's StringUtils.byteDesc: `1.50 MB`.
pub fn byte_desc(n: u64) -> String {
    const UNITS: [&str; 6] = ["KB", "MB", "GB", "TB", "PB", "EB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.2} {}", UNITS[unit])
}

fn timestamp() -> String {
    // Seconds since the epoch in UTC, formatted like `Dec 6, 2026 8:15:02 PM` would need
    // a calendar; ISO-8601 is as readable and sorts.
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

pub const HEADER: &str =
    "Time Stamp               Iteration#  Bytes Already Moved  Bytes Left To Move  Bytes Being Moved";

fn print_row(out: &mut dyn Write, iteration: usize, moved: u64, left: u64, being: u64) {
    let _ = writeln!(
        out,
        "{:<24} {:>10}  {:>19}  {:>18}  {:>17}",
        timestamp(),
        iteration,
        byte_desc(moved),
        byte_desc(left),
        byte_desc(being)
    );
    let _ = out.flush();
}

/// The outcome of a run: status, and the totals the operator wants.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: ExitStatus,
    pub bytes_moved: u64,
    pub blocks_moved: u64,
    pub iterations: usize,
}

/// Runs the balancer to its end, printing Hadoop's table and messages to `out`.
pub async fn run(conf: &Configuration, params: &Parameters, out: &mut dyn Write) -> Outcome {
    let _ = writeln!(out, "{HEADER}");
    let start = Instant::now();
    let outcome = match Balancer::connect(conf, params).await {
        Ok(mut b) => {
            let o = b.run(out).await;
            b.release().await;
            o
        }
        Err(e) => {
            let _ = writeln!(out, "{e}.  Exiting ...");
            Outcome {
                status: match e {
                    BalancerError::Io(_) => ExitStatus::IoException,
                    BalancerError::IllegalArgument(_) => ExitStatus::IllegalArguments,
                },
                bytes_moved: 0,
                blocks_moved: 0,
                iterations: 0,
            }
        }
    };
    let _ = writeln!(
        out,
        "{}  Balancing took {:.3} seconds",
        timestamp(),
        start.elapsed().as_secs_f64()
    );
    outcome
}

struct Balancer {
    params: Parameters,
    settings: Settings,
    client: DfsClient,
    namenode: FailoverProxy,
    block_pool_id: String,
    security: DataTransferSecurity,
    protection: Option<TransferProtection>,
    /// `/system/balancer.id`, open for the whole run.
    id_file: Option<DfsOutputStream>,
}

impl Balancer {
    async fn connect(conf: &Configuration, params: &Parameters) -> Result<Balancer, BalancerError> {
        let settings = Settings::from_conf(conf)?;
        let client = DfsClient::new(conf, None)?;
        let namenode = hafs_client::protocol_proxy(conf, None, NAMENODE_PROTOCOL)?;
        let version: dpb::VersionResponseProto = namenode
            .call("versionRequest", &dpb::VersionRequestProto {})
            .await
            .map_err(|e| BalancerError::Io(e.to_string()))?;
        let security = DataTransferSecurity::from_conf(conf)
            .map_err(|e| BalancerError::IllegalArgument(e.to_string()))?;
        let protection = client.settings().data.data_transfer_protection.clone();
        let mut b = Balancer {
            params: params.clone(),
            settings,
            client,
            namenode,
            block_pool_id: version.info.block_pool_id,
            security,
            protection,
            id_file: None,
        };
        b.refresh_keys().await?;
        b.id_file = Some(b.mark_running().await?);
        Ok(b)
    }

    /// Block keys from the NameNode, to sign the moves' tokens (REPLACE and COPY).
    async fn refresh_keys(&self) -> Result<(), BalancerError> {
        if !self.security.tokens_enabled() {
            return Ok(());
        }
        let keys: dpb::GetBlockKeysResponseProto = self
            .namenode
            .call("getBlockKeys", &dpb::GetBlockKeysRequestProto {})
            .await
            .map_err(|e| BalancerError::Io(e.to_string()))?;
        if let Some(k) = &keys.keys {
            self.security.add_keys(k);
        }
        Ok(())
    }

    /// Creates `/system/balancer.id` (no overwrite) and keeps it open: a second
    /// balancer cannot create it, nor append to it while this one holds the lease. A
    /// file left by a balancer that died is appended to (which succeeds once its lease
    /// is gone), then replaced.
    async fn mark_running(&self) -> Result<DfsOutputStream, BalancerError> {
        let another = || BalancerError::Io("Another Balancer is running.".into());
        if self.client.get_file_info(BALANCER_ID_PATH).await?.is_some() {
            match DfsOutputStream::append(&self.client, BALANCER_ID_PATH).await {
                Ok(s) => {
                    s.close().await?;
                    self.client.delete(BALANCER_ID_PATH, false).await?;
                }
                Err(e) => {
                    tracing::info!(error = %e, "{BALANCER_ID_PATH} is held");
                    return Err(another());
                }
            }
        }
        let opts = CreateOptions {
            overwrite: false,
            create_parent: true,
            ..CreateOptions::default()
        };
        let mut s = match DfsOutputStream::create(&self.client, BALANCER_ID_PATH, &opts).await {
            Ok(s) => s,
            Err(e)
                if e.class_name().is_some_and(|c| {
                    c.ends_with("FileAlreadyExistsException")
                        || c.ends_with("AlreadyBeingCreatedException")
                }) =>
            {
                return Err(another())
            }
            Err(e) => return Err(e.into()),
        };
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "localhost".into());
        s.write(host.as_bytes()).await?;
        s.hflush().await?;
        Ok(s)
    }

    async fn release(&mut self) {
        if let Some(s) = self.id_file.take() {
            if let Err(e) = s.close().await {
                tracing::warn!(error = %e, "cannot close {BALANCER_ID_PATH}");
            }
            if let Err(e) = self.client.delete(BALANCER_ID_PATH, false).await {
                tracing::warn!(error = %e, "cannot delete {BALANCER_ID_PATH}");
            }
        }
    }

    async fn run(&mut self, out: &mut dyn Write) -> Outcome {
        let mut moved_total = 0u64;
        let mut blocks_total = 0u64;
        let mut idle = 0i64;
        let mut iteration = 0usize;
        let status = loop {
            let step = self.iterate().await;
            let (left, being, moved, blocks) = match step {
                Ok(s) => s,
                Err(e) => {
                    let _ = writeln!(out, "{e}.  Exiting ...");
                    break ExitStatus::IoException;
                }
            };
            moved_total += moved;
            blocks_total += blocks;
            if left == 0 {
                let _ = writeln!(out, "The cluster is balanced. Exiting...");
                print_row(out, iteration, moved_total, 0, 0);
                break ExitStatus::Success;
            }
            if being == 0 {
                let _ = writeln!(out, "No block can be moved. Exiting...");
                print_row(out, iteration, moved_total, left, 0);
                break ExitStatus::NoMoveBlock;
            }
            print_row(out, iteration, moved_total, left, being);
            if moved == 0 {
                idle += 1;
                if self.params.max_idle_iterations >= 0 && idle >= self.params.max_idle_iterations {
                    let _ = writeln!(
                        out,
                        "No block has been moved for {idle} iterations. Exiting..."
                    );
                    break ExitStatus::NoMoveProgress;
                }
            } else {
                idle = 0;
            }
            iteration += 1;
            tokio::time::sleep(self.settings.sleep_between_iterations).await;
        };
        Outcome {
            status,
            bytes_moved: moved_total,
            blocks_moved: blocks_total,
            iterations: iteration + 1,
        }
    }

    /// One iteration: (bytes left to move, bytes scheduled, bytes moved, blocks moved).
    async fn iterate(&self) -> Result<(u64, u64, u64, u64), BalancerError> {
        let report = self
            .client
            .get_datanode_report(DatanodeReportTypeProto::Live)
            .await?;
        let mut infos: Vec<DatanodeInfoProto> = Vec::new();
        let mut nodes: Vec<NodeUsage> = Vec::new();
        for dn in report {
            let id = &dn.id;
            let xfer = format!("{}:{}", id.ip_addr, id.xfer_port);
            let names = [id.host_name.as_str(), id.ip_addr.as_str(), xfer.as_str()];
            if !self.params.takes_part(&names) {
                continue;
            }
            // Only nodes in service balance (a decommissioning node empties itself).
            if dn.admin_state.unwrap_or(0) != 0 {
                continue;
            }
            nodes.push(NodeUsage {
                uuid: id.datanode_uuid.clone(),
                xfer_addr: xfer,
                host: id.host_name.clone(),
                rack: dn
                    .location
                    .clone()
                    .unwrap_or_else(|| "/default-rack".into()),
                capacity: dn.capacity.unwrap_or(0),
                dfs_used: dn.dfs_used.unwrap_or(0),
                remaining: dn.remaining.unwrap_or(0),
            });
            infos.push(dn);
        }
        let c = policy::classify_nodes(
            &nodes,
            self.params.threshold,
            self.settings.max_size_to_move,
        );
        let left = c.bytes_left_to_move();
        if left == 0 {
            return Ok((0, 0, 0, 0));
        }
        let mut tasks = policy::pair(&nodes, &c);
        tasks.retain(|t| {
            let n = &nodes[t.source];
            self.params.may_be_source(&[
                n.host.as_str(),
                n.xfer_addr.split(':').next().unwrap_or(""),
                n.xfer_addr.as_str(),
            ])
        });
        let being: u64 = tasks.iter().map(|t| t.bytes).sum();
        if tasks.is_empty() {
            return Ok((left, 0, 0, 0));
        }
        tracing::info!(
            tasks = tasks.len(),
            bytes = being,
            "will move {} in this iteration",
            byte_desc(being)
        );
        self.refresh_keys().await?;
        let rack_of: HashMap<String, String> = nodes
            .iter()
            .map(|n| (n.uuid.clone(), n.rack.clone()))
            .collect();
        let rack = |u: &str| rack_of.get(u).cloned();
        let info_of: HashMap<&str, &DatanodeInfoProto> = infos
            .iter()
            .map(|d| (d.id.datanode_uuid.as_str(), d))
            .collect();
        // Per-DataNode concurrency, for sources (and proxies) and targets alike.
        let slots: HashMap<String, Arc<Semaphore>> = nodes
            .iter()
            .map(|n| {
                (
                    n.uuid.clone(),
                    Arc::new(Semaphore::new(self.settings.max_moves_per_node)),
                )
            })
            .collect();
        let mut scheduled: HashSet<u64> = HashSet::new();
        let mut moves = tokio::task::JoinSet::new();
        let deadline = tokio::time::Instant::now() + self.settings.max_iteration_time;
        let mut by_source: Vec<usize> = tasks.iter().map(|t| t.source).collect();
        by_source.dedup();
        for src in by_source {
            let source = &nodes[src];
            let Some(info) = info_of.get(source.uuid.as_str()) else {
                continue;
            };
            let candidates = self.get_blocks(info).await?;
            for task in tasks.iter().filter(|t| t.source == src) {
                let target = &nodes[task.target];
                let chosen = policy::choose_blocks(
                    &candidates,
                    task.bytes,
                    source,
                    target,
                    rack,
                    &scheduled,
                );
                for b in chosen {
                    scheduled.insert(b.block_id);
                    let busy = HashSet::new();
                    let proxy_uuid = policy::choose_proxy(b, source, target, rack, &busy);
                    let Some(proxy) = info_of.get(proxy_uuid) else {
                        continue;
                    };
                    let block = ExtendedBlockProto {
                        pool_id: self.block_pool_id.clone(),
                        block_id: b.block_id,
                        generation_stamp: b.gen_stamp,
                        num_bytes: Some(b.num_bytes),
                    };
                    let token = self.token(b.block_id);
                    let m = dispatcher::Move {
                        block,
                        proxy: (*proxy).clone(),
                        target_addr: target.xfer_addr.clone(),
                        del_hint: source.uuid.clone(),
                        token,
                    };
                    // A proxy outside the balanced set (an -exclude'd or leaving node
                    // holding a replica) has no slot: leave that block for another pair.
                    let (Some(src_slot), Some(dst_slot)) = (
                        slots.get(proxy_uuid).cloned(),
                        slots.get(&target.uuid).cloned(),
                    ) else {
                        continue;
                    };
                    let timeout = self.settings.move_timeout;
                    let protection = self.protection.clone();
                    let bytes = b.num_bytes;
                    moves.spawn(async move {
                        let (Ok(_s), Ok(_t)) =
                            (src_slot.acquire_owned().await, dst_slot.acquire_owned().await)
                        else {
                            return None;
                        };
                        if tokio::time::Instant::now() >= deadline {
                            return None;
                        }
                        match dispatcher::move_block(&m, timeout, protection.as_ref()).await {
                            Ok(()) => {
                                tracing::info!(
                                    block = m.block.block_id,
                                    target = %m.target_addr,
                                    proxy = %m.proxy.id.ip_addr,
                                    "Successfully moved block"
                                );
                                Some(bytes)
                            }
                            Err(e) => {
                                tracing::warn!(block = m.block.block_id, target = %m.target_addr, "Failed to move block: {e}");
                                None
                            }
                        }
                    });
                }
            }
        }
        let (mut moved, mut blocks) = (0u64, 0u64);
        while let Some(r) = moves.join_next().await {
            if let Ok(Some(bytes)) = r {
                moved += bytes;
                blocks += 1;
            }
        }
        Ok((left, being, moved, blocks))
    }

    async fn get_blocks(
        &self,
        dn: &DatanodeInfoProto,
    ) -> Result<Vec<CandidateBlock>, BalancerError> {
        let r: dpb::GetBlocksResponseProto = self
            .namenode
            .call(
                "getBlocks",
                &dpb::GetBlocksRequestProto {
                    datanode: dn.id.clone(),
                    size: self.settings.get_blocks_size,
                    min_block_size: Some(self.settings.min_block_size),
                    time_interval: None,
                    storage_type: None,
                },
            )
            .await
            .map_err(|e| BalancerError::Io(e.to_string()))?;
        Ok(r.blocks
            .blocks
            .into_iter()
            .map(|b| CandidateBlock {
                block_id: b.block.block_id,
                gen_stamp: b.block.gen_stamp,
                num_bytes: b.block.num_bytes.unwrap_or(0),
                holders: b.datanode_uuids,
            })
            .collect())
    }

    fn token(&self, block_id: u64) -> TokenProto {
        self.security
            .generate(
                &self.block_pool_id,
                block_id,
                &[AccessMode::Replace, AccessMode::Copy],
            )
            .unwrap_or_else(hafs_client::empty_token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_desc_is_hadoops() {
        assert_eq!(byte_desc(0), "0 B");
        assert_eq!(byte_desc(1536), "1.50 KB");
        assert_eq!(byte_desc(3 << 20), "3.00 MB");
        assert_eq!(byte_desc(5 << 30), "5.00 GB");
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_428), (2025, 12, 6));
    }

    #[test]
    fn exit_codes_are_hadoops() {
        assert_eq!(ExitStatus::Success.code(), 0);
        assert_eq!(ExitStatus::NoMoveBlock.code(), -2);
        assert_eq!(ExitStatus::NoMoveProgress.code(), -3);
        assert_eq!(ExitStatus::IoException.code(), -4);
        assert_eq!(ExitStatus::IllegalArguments.code(), -5);
    }
}
