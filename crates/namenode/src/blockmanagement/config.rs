//! Block management settings, read with Hadoop's keys and defaults.

use std::time::Duration;

use hafs_conf::keys::*;
use hafs_conf::{ConfError, Configuration, TimeUnit};

#[derive(Debug, Clone)]
pub struct BlockManagerConfig {
    /// `dfs.namenode.replication.min`: replicas a block needs to be complete (and safe).
    pub min_replication: u16,
    /// `dfs.replication.max`.
    pub max_replication: u16,
    /// `dfs.heartbeat.interval`.
    pub heartbeat_interval: Duration,
    /// `dfs.namenode.heartbeat.recheck-interval`.
    pub heartbeat_recheck_interval: Duration,
    /// `dfs.namenode.redundancy.interval.seconds`.
    pub redundancy_interval: Duration,
    pub max_replication_streams: u32,
    pub replication_streams_hard_limit: u32,
    pub pending_reconstruction_timeout: Duration,
    pub invalidate_limit: usize,
    /// `dfs.namenode.safemode.threshold-pct`.
    pub safemode_threshold_pct: f64,
    /// `dfs.namenode.safemode.min.datanodes`.
    pub safemode_min_datanodes: u32,
    /// `dfs.namenode.safemode.extension`.
    pub safemode_extension: Duration,
    /// Commands of each kind waiting for one DataNode's heartbeat; beyond it new work
    /// is dropped (and found again by the monitor or the next block report).
    pub max_queued_per_datanode: usize,
    /// `dfs.block.access.token.enable` and its key/lifetime settings; `None`: off.
    pub block_tokens: Option<super::block_tokens::BlockTokenConfig>,
    /// `net.topology.*`: how DataNodes are mapped to racks.
    pub topology: super::topology::TopologyConfig,
    /// `dfs.hosts`: the include file, re-read by refreshNodes.
    pub hosts_include: Option<std::path::PathBuf>,
    /// `dfs.hosts.exclude`: the exclude file, re-read by refreshNodes.
    pub hosts_exclude: Option<std::path::PathBuf>,
    /// `dfs.namenode.hosts.provider.classname`: the two files or the combined JSON one.
    pub hosts_provider: super::host_file::HostsProvider,
    /// `dfs.namenode.maintenance.replication.min`.
    pub maintenance_replication_min: usize,
    /// `dfs.namenode.decommission.interval`.
    pub decommission_interval: Duration,
    /// `dfs.namenode.decommission.blocks.per.interval`.
    pub decommission_blocks_per_interval: usize,
    /// `dfs.namenode.decommission.max.concurrent.tracked.nodes` (0: no limit).
    pub decommission_max_tracked_nodes: usize,
}

impl Default for BlockManagerConfig {
    fn default() -> Self {
        BlockManagerConfig {
            min_replication: DFS_NAMENODE_REPLICATION_MIN_DEFAULT as u16,
            max_replication: DFS_REPLICATION_MAX_DEFAULT as u16,
            heartbeat_interval: Duration::from_secs(DFS_HEARTBEAT_INTERVAL_DEFAULT_SECS),
            heartbeat_recheck_interval: Duration::from_millis(
                DFS_NAMENODE_HEARTBEAT_RECHECK_INTERVAL_DEFAULT_MS,
            ),
            redundancy_interval: Duration::from_secs(DFS_NAMENODE_REDUNDANCY_INTERVAL_DEFAULT_SECS),
            max_replication_streams: DFS_NAMENODE_REPLICATION_MAX_STREAMS_DEFAULT,
            replication_streams_hard_limit: DFS_NAMENODE_REPLICATION_STREAMS_HARD_LIMIT_DEFAULT,
            pending_reconstruction_timeout: Duration::from_secs(
                DFS_NAMENODE_RECONSTRUCTION_PENDING_TIMEOUT_DEFAULT_SECS,
            ),
            invalidate_limit: DFS_BLOCK_INVALIDATE_LIMIT_DEFAULT as usize,
            safemode_threshold_pct: DFS_NAMENODE_SAFEMODE_THRESHOLD_PCT_DEFAULT,
            safemode_min_datanodes: DFS_NAMENODE_SAFEMODE_MIN_DATANODES_DEFAULT,
            safemode_extension: Duration::from_millis(DFS_NAMENODE_SAFEMODE_EXTENSION_DEFAULT_MS),
            max_queued_per_datanode: 100_000,
            block_tokens: None,
            topology: super::topology::TopologyConfig::Flat,
            hosts_include: None,
            hosts_exclude: None,
            hosts_provider: super::host_file::HostsProvider::HostFiles,
            maintenance_replication_min: DFS_NAMENODE_MAINTENANCE_REPLICATION_MIN_DEFAULT as usize,
            decommission_interval: Duration::from_secs(
                DFS_NAMENODE_DECOMMISSION_INTERVAL_DEFAULT_SECS,
            ),
            decommission_blocks_per_interval: DFS_NAMENODE_DECOMMISSION_BLOCKS_PER_INTERVAL_DEFAULT
                as usize,
            decommission_max_tracked_nodes:
                DFS_NAMENODE_DECOMMISSION_MAX_CONCURRENT_TRACKED_NODES_DEFAULT as usize,
        }
    }
}

/// `dfs.namenode.maintenance.replication.min`, which Hadoop refuses above
/// `dfs.replication` (a node could then never enter maintenance with default files).
fn maintenance_replication_min(conf: &Configuration) -> Result<usize, ConfError> {
    let min = conf.get_u32(
        DFS_NAMENODE_MAINTENANCE_REPLICATION_MIN,
        DFS_NAMENODE_MAINTENANCE_REPLICATION_MIN_DEFAULT,
    )?;
    let replication = conf.get_u32(DFS_REPLICATION, DFS_REPLICATION_DEFAULT)?;
    if min > replication {
        return Err(ConfError::BadValue {
            key: DFS_NAMENODE_MAINTENANCE_REPLICATION_MIN.to_string(),
            value: min.to_string(),
            expected: format!("at most dfs.replication ({replication})"),
        });
    }
    Ok(min as usize)
}

impl BlockManagerConfig {
    pub fn from_conf(conf: &Configuration) -> Result<BlockManagerConfig, ConfError> {
        let d = BlockManagerConfig::default();
        let u16_of = |key: &str, v: u32| -> Result<u16, ConfError> {
            u16::try_from(v).map_err(|_| ConfError::BadValue {
                key: key.to_string(),
                value: v.to_string(),
                expected: "a number up to 65535".to_string(),
            })
        };
        Ok(BlockManagerConfig {
            min_replication: u16_of(
                DFS_NAMENODE_REPLICATION_MIN,
                conf.get_u32(
                    DFS_NAMENODE_REPLICATION_MIN,
                    DFS_NAMENODE_REPLICATION_MIN_DEFAULT,
                )?,
            )?,
            max_replication: u16_of(
                DFS_REPLICATION_MAX,
                conf.get_u32(DFS_REPLICATION_MAX, DFS_REPLICATION_MAX_DEFAULT)?,
            )?,
            heartbeat_interval: conf.get_time_duration(
                DFS_HEARTBEAT_INTERVAL,
                d.heartbeat_interval,
                TimeUnit::Seconds,
            )?,
            heartbeat_recheck_interval: conf.get_time_duration(
                DFS_NAMENODE_HEARTBEAT_RECHECK_INTERVAL,
                d.heartbeat_recheck_interval,
                TimeUnit::Millis,
            )?,
            redundancy_interval: conf.get_time_duration(
                DFS_NAMENODE_REDUNDANCY_INTERVAL,
                d.redundancy_interval,
                TimeUnit::Seconds,
            )?,
            max_replication_streams: conf.get_u32(
                DFS_NAMENODE_REPLICATION_MAX_STREAMS,
                d.max_replication_streams,
            )?,
            replication_streams_hard_limit: conf.get_u32(
                DFS_NAMENODE_REPLICATION_STREAMS_HARD_LIMIT,
                d.replication_streams_hard_limit,
            )?,
            pending_reconstruction_timeout: conf.get_time_duration(
                DFS_NAMENODE_RECONSTRUCTION_PENDING_TIMEOUT,
                d.pending_reconstruction_timeout,
                TimeUnit::Seconds,
            )?,
            invalidate_limit: conf
                .get_u32(DFS_BLOCK_INVALIDATE_LIMIT, d.invalidate_limit as u32)?
                .max(1) as usize,
            safemode_threshold_pct: conf.get_f64(
                DFS_NAMENODE_SAFEMODE_THRESHOLD_PCT,
                DFS_NAMENODE_SAFEMODE_THRESHOLD_PCT_DEFAULT,
            )?,
            safemode_min_datanodes: conf.get_u32(
                DFS_NAMENODE_SAFEMODE_MIN_DATANODES,
                DFS_NAMENODE_SAFEMODE_MIN_DATANODES_DEFAULT,
            )?,
            safemode_extension: conf.get_time_duration(
                DFS_NAMENODE_SAFEMODE_EXTENSION,
                d.safemode_extension,
                TimeUnit::Millis,
            )?,
            max_queued_per_datanode: d.max_queued_per_datanode,
            block_tokens: super::block_tokens::BlockTokenConfig::from_conf(conf)?,
            topology: super::topology::TopologyConfig::from_conf(conf)?,
            hosts_include: super::host_file::paths_from(conf).0,
            hosts_exclude: super::host_file::paths_from(conf).1,
            hosts_provider: super::host_file::HostsProvider::from_conf(conf)?,
            maintenance_replication_min: maintenance_replication_min(conf)?,
            decommission_interval: conf.get_time_duration(
                DFS_NAMENODE_DECOMMISSION_INTERVAL,
                d.decommission_interval,
                TimeUnit::Seconds,
            )?,
            decommission_blocks_per_interval: conf
                .get_u32(
                    DFS_NAMENODE_DECOMMISSION_BLOCKS_PER_INTERVAL,
                    DFS_NAMENODE_DECOMMISSION_BLOCKS_PER_INTERVAL_DEFAULT,
                )?
                .max(1) as usize,
            decommission_max_tracked_nodes: conf.get_u32(
                DFS_NAMENODE_DECOMMISSION_MAX_CONCURRENT_TRACKED_NODES,
                DFS_NAMENODE_DECOMMISSION_MAX_CONCURRENT_TRACKED_NODES_DEFAULT,
            )? as usize,
        })
    }

    /// When a silent DataNode is declared dead: Hadoop's
    /// `2 × recheck-interval + 10 × heartbeat-interval` (10m30s by default).
    pub fn dead_node_interval(&self) -> Duration {
        2 * self.heartbeat_recheck_interval + 10 * self.heartbeat_interval
    }

    /// How often the monitor wakes: often enough for both dead-node checks and
    /// redundancy work.
    pub fn monitor_interval(&self) -> Duration {
        self.redundancy_interval
            .min(self.heartbeat_recheck_interval)
            .max(Duration::from_millis(10))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maintenance_minimum_may_not_exceed_the_replication() {
        let mut conf = Configuration::new();
        assert_eq!(maintenance_replication_min(&conf).unwrap(), 1);
        conf.set(DFS_NAMENODE_MAINTENANCE_REPLICATION_MIN, "0");
        assert_eq!(maintenance_replication_min(&conf).unwrap(), 0);
        conf.set(DFS_REPLICATION, "2");
        conf.set(DFS_NAMENODE_MAINTENANCE_REPLICATION_MIN, "3");
        let err = BlockManagerConfig::from_conf(&conf)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(DFS_NAMENODE_MAINTENANCE_REPLICATION_MIN)
                && err.contains("at most dfs.replication (2)"),
            "{err}"
        );
    }
}
