//! Process-level test harness for hafs.
//!
//! Tests here run the real `hafs` binary as separate processes on loopback ports in
//! temporary directories (a [`MiniCluster`]), and talk to them with real clients: our own
//! `hafs dfs`, the Java `hadoop fs` shell (Hadoop 3.5.0 client jars) and the Python
//! `hdfs-native` client. The external tools are installed by `scripts/test-deps.sh`;
//! when one is missing the harness panics and names that script, so a test never
//! silently skips.
//!
//! Environment variables (exported by `scripts/test.sh`):
//! - `HAFS_BIN`: the `hafs` binary (default `<workspace>/target/debug/hafs`),
//! - `HAFS_CACHE`: the tool cache (default `~/.cache/hafs`),
//! - `HAFS_JARS`: the Hadoop client jars (default `$HAFS_CACHE/hadoop-jars`),
//! - `HAFS_PYTHON`: the venv python with hdfs-native (default `$HAFS_CACHE/venv/bin/python`),
//! - `HAFS_KEEP_TMP`: when set, temporary dirs (conf, name dirs, logs) are kept.

mod browser;
mod cluster;
mod command;
mod conf_xml;
mod contract;
mod daemon;
mod datanodes;
mod federation;
mod ha;
mod ha_rpc;
mod java;
mod java_shell;
mod journalnodes;
mod kerberos;
mod listing;
mod load;
mod nnthroughput;
mod partition;
mod paths;
mod procs;
mod reference_hdfs;
mod replicas;
mod streaming;
mod tempdir;
mod tools;
mod zkfc;
mod zookeeper;

pub use browser::{screenshot_dir, Browser, ConsoleError};
pub use cluster::{MiniCluster, MiniClusterBuilder, NAMENODE_READY};
pub use command::{run_with_timeout, CmdOutput, DEFAULT_CMD_TIMEOUT};
pub use conf_xml::write_site_xml;
pub use contract::{
    classpath_jars, parse_contract_output, run_contract_suites, SuiteResult, CONTRACT_SUITES,
};
pub use daemon::Daemon;
pub use datanodes::{parse_live_datanodes, DATANODE_READY, TEST_BLOCK_SIZE};
pub use federation::{Federation, FEDERATION_CLUSTER_ID, VIEWFS_TABLE};
pub use ha::{FAILOVER_PROXY_PROVIDER, MAX_NAMENODES, NAMESERVICE, OBSERVER_PROXY_PROVIDER};
pub use ha_rpc::{get_service_state, HA_SERVICE_PROTOCOL};
pub use hafs_cluster::{free_port, wait_for_port};
pub use hafs_util::XorShift64;
pub use java::{compiled_java_class, java_class_command, jaxrs_shim_jar, run_java_class};
pub use java_shell::JavaShell;
pub use journalnodes::{JournalNodes, JOURNALNODE_READY, SHARED_EDITS_KEY, TEST_JOURNAL_ID};
pub mod raw_ipc;
pub mod scaleout_checks;
pub mod scaleout_waits;
mod scenario_files;
pub use kerberos::{process_kdc, SecureRealm, AUTH_TO_LOCAL, USERS as REALM_USERS};
pub use listing::{fields, parse_ls, parse_ls_line, LsEntry};
pub use load::{
    assert_acked_intact, failure_time, load_content, load_len, load_len_of, sleep_until,
    verify_acked, LoadReport, Writer,
};
pub use nnthroughput::{parse_nnthroughput, run_nnthroughput, NnBenchStats};
pub use partition::{JournalPartition, PartitionProxy};
pub use paths::{
    current_user, fsimage_txids, hadoop_fs_script, hafs_bin, hafs_cache, hafs_release_bin,
    jars_dir, python_bin, workspace_root,
};
pub use procs::{processes_matching, ProcessInfo};
pub use reference_hdfs::{
    hdfs_tool, parse_ready_daemons, ReferenceDaemon, ReferenceHdfs, ReferenceHdfsBuilder,
    REFERENCE_NAMESERVICE, REFERENCE_READY,
};
pub use replicas::{block_files, corrupt_file, located_blocks, test_bytes, ReplicaFile};
pub use scenario_files::{
    read_back_with_java_and_hdfs_native, wait_for_open_block, write_with_java_and_hdfs_native,
};
pub use streaming::{StreamingClient, StreamingResult};
pub use tempdir::TempDir;
pub use tools::{hafs_cmd, hafs_dfs, java_fs, java_fs_as, python, ClientTarget, ConfTarget};
pub use zkfc::{Backend, ZKFC_READY};
pub use zookeeper::ZkServer;
