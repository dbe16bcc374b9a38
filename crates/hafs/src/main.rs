//! `hafs`: one binary for every role and command, invoked like Hadoop's scripts:
//! `hafs [--config CONFDIR] [--loglevel LEVEL] <command> [generic options] [args]`.

mod balancer_cmd;
mod bench;
mod cli;
mod datanode_cmd;
mod debug_cmd;
mod dfs;
mod dfsadmin;
mod fetchdt_cmd;
mod fsck_cmd;
mod haadmin_cmd;
mod journalnode_cmd;
mod namenode_cmd;
mod sandbox;
mod security;
mod shutdown;
mod storagepolicies_cmd;
mod zkfc_cmd;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let inv = match cli::Invocation::parse(&args) {
        Ok(inv) => inv,
        Err(e) => {
            eprintln!("hafs: {e}");
            eprintln!("Run 'hafs --help' for usage.");
            return ExitCode::from(1);
        }
    };
    cli::init_logging(inv.loglevel.as_deref());
    let Some(command) = inv.command.clone() else {
        print!("{}", cli::USAGE);
        return ExitCode::from(if inv.help { 0 } else { 1 });
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hafs: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(run(command, inv));
    // Like a JVM exit status: -1 (usage errors) becomes 255.
    ExitCode::from(code as u8)
}

async fn run(command: String, inv: cli::Invocation) -> i32 {
    let (conf, rest) = match inv.load_conf() {
        Ok(x) => x,
        Err(e) => {
            eprintln!("hafs {command}: {e:#}");
            return 1;
        }
    };
    let daemon = match command.as_str() {
        "namenode" => Some("namenode"),
        "datanode" => Some("datanode"),
        "journalnode" => Some("journalnode"),
        "zkfc" => Some("zkfc"),
        _ => None,
    };
    match daemon {
        // The failure policy (hafs_util::invariant): a daemon whose invariant breaks
        // stops with a distinct exit status, so that its peer takes over. Daemons log
        // in with their keytabs in their own commands.
        Some(daemon) => hafs_util::invariant::stop_on_panic(daemon),
        // User commands authenticate with the user's ticket.
        None => {
            if let Err(e) = security::login_user(&conf) {
                eprintln!("hafs {command}: {e:#}");
                return 1;
            }
        }
    }
    let result = match command.as_str() {
        "dfs" | "fs" => return dfs::run(&conf, &rest).await,
        "bench" => bench::run(&conf, &rest).await,
        "namenode" => namenode_cmd::run(conf, &rest).await,
        "datanode" => datanode_cmd::run(conf, &rest, datanode_cmd::reload_of(&inv)).await,
        "journalnode" => journalnode_cmd::run(conf, &rest).await,
        "dfsadmin" => dfsadmin::run(&conf, &rest).await,
        "balancer" => balancer_cmd::run(&conf, &rest).await,
        "debug" => debug_cmd::run(&conf, &rest).await,
        "fsck" => fsck_cmd::run(&conf, &rest).await,
        "fetchdt" => fetchdt_cmd::run(&conf, &rest).await,
        "haadmin" => haadmin_cmd::run(&conf, &rest).await,
        "storagepolicies" => storagepolicies_cmd::run(&conf, &rest).await,
        "sandbox" => sandbox::run(conf, &rest).await,
        "zkfc" => zkfc_cmd::run(conf, &rest).await,
        "version" => {
            println!("hafs {}", env!("CARGO_PKG_VERSION"));
            Ok(0)
        }
        other => {
            eprintln!("hafs: unknown command '{other}'");
            print!("{}", cli::USAGE);
            Ok(1)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("hafs {command}: {e:#}");
            1
        }
    }
}
