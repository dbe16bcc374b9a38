//! `hafs bench <benchmark>`: benchmarks that report ratios against a baseline measured
//! in the same run, so the numbers mean something on any machine.

mod baseline;
mod data_protection;
mod dfsio;
mod failover;
mod failover_auto;
mod failover_common;
mod failover_native;
mod memory;
mod nn_process;
mod nnthroughput;
mod nnthroughput_observer;
mod report;
mod restart;
mod rpc_protection;
mod tiny_datanode;
mod workload;

use hafs_conf::Configuration;

const USAGE: &str = "\
Usage: hafs bench BENCHMARK [options]

Benchmarks:
  nnthroughput   NameNode operations per second over real IPC, the disk's fsync rate
                 as a baseline, and the namespace's memory per file
                 (hafs bench nnthroughput -help lists its options); with
                 -observer: the read load an Observer NameNode takes off the Active
                 (hafs bench nnthroughput -observer -help)
  failover       kill -9 rounds of the Active NameNode under load with automatic
                 failover (journal and ZooKeeper elections): detection, fencing,
                 promotion and client-visible times, zero acknowledged loss; --manual:
                 manual failover time and the Standby's tailing lag
                 (hafs bench failover -help, hafs bench failover --manual -help)
  restart        a NameNode's restart: fsimage load (inodes/s) and edit replay
                 (edits/s) of a built namespace, next to reading and verifying the
                 image file (hafs bench restart -help)
  rpcprotection  IPC calls/s and MB/s with Kerberos at authentication, integrity and
                 privacy against SIMPLE, and the handshake time (a throwaway KDC;
                 hafs bench rpcprotection -help)
  dataprotection data-path MB/s through the DataNode SASL layer at authentication,
                 integrity and privacy against no protection, and the handshake time
                 (hafs bench dataprotection -help)
  dfsio          write and read throughput of N files against a local cluster, next to
                 cp and cat of the same bytes on the same disk (hafs bench dfsio -help)
";

pub async fn run(conf: &Configuration, args: &[String]) -> anyhow::Result<i32> {
    match args.first().map(String::as_str) {
        Some("nnthroughput" | "NNThroughputBenchmark") if args.iter().any(|a| a == "-observer") => {
            nnthroughput_observer::run(&args[1..]).await
        }
        Some("nnthroughput" | "NNThroughputBenchmark") => nnthroughput::run(conf, &args[1..]).await,
        Some("restart") => restart::run(conf, &args[1..]).await,
        Some("rpcprotection") => rpc_protection::run(&args[1..]).await,
        Some("dataprotection") => data_protection::run(&args[1..]).await,
        Some("dfsio" | "TestDFSIO") => dfsio::run(conf, &args[1..]).await,
        Some("failover") if args.iter().any(|a| a == "--manual" || a == "-manual") => {
            failover::run(conf, &args[1..]).await
        }
        Some("failover") => failover_auto::run(conf, &args[1..]).await,
        Some("-h" | "-help" | "--help") => {
            print!("{USAGE}");
            Ok(0)
        }
        Some(other) => {
            eprintln!("hafs bench: unknown benchmark '{other}'");
            eprint!("{USAGE}");
            Ok(1)
        }
        None => {
            eprint!("{USAGE}");
            Ok(1)
        }
    }
}
