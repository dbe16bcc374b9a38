//! `hafs balancer [-threshold T] [-policy datanode|blockpool] [-include|-exclude|-source
//! [-f FILE | host,...]] [-idleiterations N]`: Hadoop's `hdfs balancer`, run by
//! `hafs_balancer`. The exit code is Hadoop's ExitStatus (0 balanced, -2 no block can
//! be moved, -3 no progress, -4 an I/O failure such as another balancer running, -5 bad
//! arguments).

use hafs_balancer::{parameters, ExitStatus};
use hafs_conf::Configuration;

pub async fn run(conf: &Configuration, args: &[String]) -> anyhow::Result<i32> {
    if args.iter().any(|a| a == "-help" || a == "-h") {
        println!("{}", parameters::USAGE);
        return Ok(0);
    }
    let read_file = |path: &str| {
        std::fs::read_to_string(path).map_err(|e| format!("cannot read hosts file {path}: {e}"))
    };
    let params = match parameters::parse(args, &read_file) {
        Ok(p) => p,
        Err(msg) => {
            eprintln!("{msg}");
            eprintln!("{}", parameters::USAGE);
            return Ok(ExitStatus::IllegalArguments.code());
        }
    };
    let mut out = std::io::stdout();
    let outcome = hafs_balancer::run(conf, &params, &mut out).await;
    tracing::info!(
        bytes_moved = outcome.bytes_moved,
        blocks_moved = outcome.blocks_moved,
        iterations = outcome.iterations,
        "balancer finished"
    );
    Ok(outcome.status.code())
}
